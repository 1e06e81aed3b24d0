/**
 * Benchmark of the Starlink collector: memory (RSS) and CPU per poll over many
 * polls against the dish simulator running in a separate process.
 *
 * Each poll is one get_status at a simulated 1 Hz (the simulator's clock moves
 * one second per get_status) plus the history catch-up every 10 polls, exactly
 * the call mix of the daemon. The collector runs in a child process per
 * variant (transport and V8 flag set), so each figure is the collector's own RSS.
 *
 * Transports compared: the shipped default (`StarlinkClient` with `prefer:
 * "auto"`: gRPC-Web, one HTTP/1.1 POST per call over its own `Deno.connect`
 * connection), the shipped fallback (`prefer: "grpc"`: gRPC over Deno's fetch,
 * HTTP/2 with prior knowledge), @grpc/grpc-js (the transport before issue 17,
 * the baseline every ratio is taken against) and a lean `node:http2` client.
 * grpc-js and node:http2 are imported only in the child that uses them, so no
 * other row pays for loading them. Every answer's `transport` is checked in
 * the child: a row whose calls went over another transport fails the run.
 *
 * Usage:
 *   deno run -A scripts/bench_starlink.ts [--polls 100000] [--variants web,h2c,grpcjs,http2]
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { StarlinkCollector } from "../collectors/starlink.ts";
import {
  answerFromBytes,
  type DishAnswer,
  DishCallError,
  type DishTransport,
  frameMessage,
  StarlinkClient,
} from "../collectors/starlink_client.ts";
import { type DishRequestKind, encodeRequest, HANDLE_PATH } from "../collectors/starlink_proto.ts";

/**
 * The client the collector polls through: the product's `StarlinkClient`, or
 * one of the bench's own gRPC clients.
 */
type BenchClientKind = "starlink-client" | "grpc-js" | "node-http2";

/**
 * The binary's V8 flags (scripts/permissions.ts V8_FLAGS; checked equal in the parent,
 * not imported here: it would load the demo into every child and inflate each row).
 */
const SMALL = [
  "--max-old-space-size=32",
  "--max-semi-space-size=1",
  "--no-opt",
  "--no-maglev",
];

/** Transports and V8 flag sets (and environment) compared by the benchmark. */
const VARIANTS: Record<
  string,
  {
    flags: string[];
    env?: Record<string, string>;
    /** `StarlinkClient`'s `prefer` (only for the product's client). */
    prefer?: "auto" | "grpc";
    /** Default: the product's `StarlinkClient`. */
    client?: BenchClientKind;
    /** The transport every answer must have come over. */
    expect: DishTransport;
  }
> = {
  /** What ships by default: gRPC-Web over Deno.connect (HTTP/1.1), the binary's V8 flags. */
  web: { flags: SMALL, prefer: "auto", expect: "grpc-web" },
  /** The shipped fallback: gRPC over fetch (h2c), the binary's V8 flags. */
  h2c: { flags: SMALL, prefer: "grpc", expect: "grpc" },
  /** Baseline: @grpc/grpc-js (the transport before issue 17), the binary's V8 flags. */
  grpcjs: { flags: SMALL, client: "grpc-js", expect: "grpc" },
  /** A lean node:http2 client (one session, one stream per call), the binary's V8 flags. */
  http2: { flags: SMALL, client: "node-http2", expect: "grpc" },
  // V8 flag experiments (docs/starlink.md, history), on the shipped default transport.
  default: { flags: [], prefer: "auto", expect: "grpc-web" },
  "grpcjs-default": { flags: [], client: "grpc-js", expect: "grpc" },
  small16: {
    flags: ["--max-old-space-size=16", "--max-semi-space-size=1"],
    prefer: "auto",
    expect: "grpc-web",
  },
  "small-arena": {
    flags: SMALL,
    env: { MALLOC_ARENA_MAX: "2" },
    prefer: "auto",
    expect: "grpc-web",
  },
  "small-lite": { flags: [...SMALL, "--lite-mode"], prefer: "auto", expect: "grpc-web" },
  "small-1t": {
    flags: [...SMALL, "--single-threaded-gc"],
    env: { MALLOC_ARENA_MAX: "2" },
    prefer: "auto",
    expect: "grpc-web",
  },
};

/** The baseline every ratio is taken against (when it ran). */
const BASELINE = "grpcjs";

/** Polls run before the "warm" RSS reading (JIT, heap and allocator reach steady size). */
const WARMUP_POLLS = 1000;

const MIB = 1024 * 1024;

interface ChildResult {
  variant: string;
  polls: number;
  rss_start_mib: number;
  rss_warm_mib: number;
  rss_end_mib: number;
  rss_max_mib: number;
  heap_used_end_mib: number;
  cpu_us_per_poll: number;
  wall_us_per_poll: number;
  checkpoints: { polls: number; rss_mib: number }[];
  history_samples: number;
  history_gaps: number;
  polls_failed: number;
  transport: string;
  /** Answers received, by the transport each came over. */
  answers: Record<string, number>;
}

function rssMiB(): number {
  return Deno.memoryUsage().rss / MIB;
}

async function child(
  polls: number,
  target: string,
  webTarget: string,
  variant: string,
): Promise<void> {
  const [host, port] = target.split(":");
  const webPort = Number(webTarget.split(":")[1]);
  let t = 0;
  const spec = VARIANTS[variant];
  const kind = spec.client ?? "starlink-client";
  const client = kind === "grpc-js"
    ? await grpcJsClient(target)
    : kind === "node-http2"
    ? await nodeHttp2Client(host, Number(port))
    : new StarlinkClient({
      host,
      port: Number(port),
      grpcWebPort: webPort,
      timeoutMs: 2000,
      prefer: spec.prefer ?? "auto",
    });
  // Count every answer by the transport it came over (checked against spec.expect below).
  const answers: Record<string, number> = {};
  const call = client.call.bind(client);
  client.call = async (k) => {
    const answer = await call(k);
    answers[answer.transport] = (answers[answer.transport] ?? 0) + 1;
    return answer;
  };
  const collector = new StarlinkCollector({
    member: "starlink",
    host,
    port: Number(port),
    grpc_web_port: webPort,
    timeout_ms: 2000,
    history: true,
    history_interval_ms: 10_000,
    clock: () => t,
    client,
  });
  // Warm-up: the first poll opens the channel and reads the whole history ring.
  await collector.pollOnce();
  t += 1;
  const rssStart = rssMiB();
  let rssWarm = rssStart;
  let rssMax = rssStart;
  const checkpoints: { polls: number; rss_mib: number }[] = [];
  const step = Math.max(1, Math.floor(polls / 10));
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 1; i <= polls; i++) {
    await collector.pollOnce();
    t += 1;
    if (i === Math.min(WARMUP_POLLS, polls)) rssWarm = rssMiB();
    if (i % step === 0 || i === polls) {
      const rss = rssMiB();
      rssMax = Math.max(rssMax, rss);
      checkpoints.push({ polls: i, rss_mib: round(rss) });
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  const health = collector.health();
  await collector.stop();
  client.close();
  const wrong = Object.keys(answers).filter((k) => k !== spec.expect);
  if (wrong.length > 0 || !(answers[spec.expect] > 0)) {
    console.error(
      `bench_starlink: variant ${variant} should answer over ${spec.expect} only, ` +
        `got ${JSON.stringify(answers)}`,
    );
    Deno.exit(1);
  }
  const result: ChildResult = {
    variant,
    polls,
    rss_start_mib: round(rssStart),
    rss_warm_mib: round(rssWarm),
    rss_end_mib: round(checkpoints[checkpoints.length - 1].rss_mib),
    rss_max_mib: round(rssMax),
    heap_used_end_mib: round(Deno.memoryUsage().heapUsed / MIB),
    cpu_us_per_poll: round((cpu.user + cpu.system) / polls),
    wall_us_per_poll: round((wall * 1000) / polls),
    checkpoints,
    history_samples: health.history_samples,
    history_gaps: health.history_gaps,
    polls_failed: health.polls_failed,
    transport: health.transport,
    answers,
  };
  console.log(JSON.stringify(result));
}

/** What the collector needs of a client (the bench's own clients are duck-typed). */
interface BenchClient {
  readonly transport: "grpc";
  readonly channelsCreated: number;
  readonly target: string;
  call(kind: DishRequestKind): Promise<DishAnswer>;
  close(): void;
}

/** The transport before issue 17: one reused @grpc/grpc-js client, same options as it had. */
async function grpcJsClient(target: string): Promise<StarlinkClient> {
  const grpc = await import("@grpc/grpc-js");
  const { Buffer } = await import("node:buffer");
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
    "grpc.enable_retries": 0,
    "grpc.use_local_subchannel_pool": 1,
    "grpc.enable_channelz": 0,
    "grpc.enable_http_proxy": 0,
  });
  const bench: BenchClient = {
    transport: "grpc",
    channelsCreated: 1,
    target,
    call: (kind) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest<Uint8Array, Uint8Array>(
          HANDLE_PATH,
          (b) => Buffer.from(b),
          (b) => b,
          encodeRequest(kind),
          new grpc.Metadata(),
          { deadline: Date.now() + 2000 },
          (err, value) => {
            if (err) reject(new DishCallError(err.code, err.details, "grpc"));
            else resolve(answerFromBytes(kind, value!, "grpc"));
          },
        );
      }),
    close: () => client.close(),
  };
  return bench as unknown as StarlinkClient;
}

/** A lean node:http2 gRPC client: one session, one stream per call, 2 s deadline. */
async function nodeHttp2Client(host: string, port: number): Promise<StarlinkClient> {
  const http2 = await import("node:http2");
  const session = http2.connect(`http://${host}:${port}`);
  session.on("error", () => {});
  const bench: BenchClient = {
    transport: "grpc",
    channelsCreated: 1,
    target: `${host}:${port}`,
    call: (kind) =>
      new Promise((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": HANDLE_PATH,
          "content-type": "application/grpc",
          te: "trailers",
        });
        const timer = setTimeout(() => {
          req.close();
          reject(new DishCallError(4, "deadline", "grpc"));
        }, 2000);
        const chunks: Uint8Array[] = [];
        req.on("data", (c: Uint8Array) => chunks.push(c));
        req.on("error", (e: Error) => {
          clearTimeout(timer);
          reject(new DishCallError(14, e.message, "grpc"));
        });
        req.on("end", () => {
          clearTimeout(timer);
          const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
          let at = 0;
          for (const c of chunks) {
            body.set(c, at);
            at += c.length;
          }
          try {
            resolve(answerFromBytes(kind, body.subarray(5), "grpc"));
          } catch (err) {
            reject(err);
          }
        });
        req.end(frameMessage(encodeRequest(kind)));
      }),
    close: () => session.close(),
  };
  return bench as unknown as StarlinkClient;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

async function startSimProcess(): Promise<
  { target: string; webTarget: string; process: Deno.ChildProcess }
> {
  const simPath = new URL("../sim/dish_sim.ts", import.meta.url).pathname;
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-prompt",
      simPath,
      "--listen",
      "127.0.0.1:0",
      "--web-port=0",
      "--scenario",
      "obstructed",
      "--advance-per-status",
      "1",
      // Start with a full ring and a long outage list, as on a dish that has been up for hours.
      "--start-at",
      "20000",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The dish simulator exited before it was ready");
    buffered += value;
  }
  reader.releaseLock();
  const ready = JSON.parse(buffered.split("\n")[0]) as { grpc: string; grpcWeb: string };
  return { target: ready.grpc, webTarget: ready.grpcWeb, process: proc };
}

async function runVariant(
  variant: string,
  polls: number,
  target: string,
  webTarget: string,
): Promise<ChildResult> {
  const { flags, env } = VARIANTS[variant];
  const args = ["run", "-A", "--no-prompt"];
  if (flags.length > 0) args.push(`--v8-flags=${flags.join(",")}`);
  args.push(
    new URL(import.meta.url).pathname,
    "--child",
    "--polls",
    String(polls),
    "--target",
    target,
    "--web-target",
    webTarget,
    "--variant",
    variant,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: env ?? {},
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Benchmark child for ${variant} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as ChildResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      polls: { type: "string", default: "100000" },
      variants: { type: "string", default: "web,h2c,grpcjs,http2" },
      child: { type: "boolean", default: false },
      target: { type: "string" },
      "web-target": { type: "string", default: "127.0.0.1:0" },
      variant: { type: "string", default: "default" },
    },
  });
  const polls = Number(values.polls);
  if (!Number.isInteger(polls) || polls < 1) {
    throw new Error(`--polls wants a positive integer, got "${values.polls}"`);
  }
  if (values.child) {
    await child(polls, values.target!, values["web-target"]!, values.variant!);
    return;
  }
  console.log(
    `Starlink collector benchmark: ${polls} polls (get_status at simulated 1 Hz + history every 10 polls)`,
  );
  console.log(
    `variant      RSS start  RSS@${WARMUP_POLLS}  RSS end  growth  growth after ${WARMUP_POLLS}  heap end  CPU µs/poll  wall µs/poll  history s  failed`,
  );
  const { V8_FLAGS } = await import("./permissions.ts");
  if (SMALL.join(",") !== V8_FLAGS) {
    throw new Error(`bench_starlink's SMALL flags differ from V8_FLAGS (${V8_FLAGS})`);
  }
  const results: ChildResult[] = [];
  for (const variant of values.variants!.split(",")) {
    if (!(variant in VARIANTS)) {
      throw new Error(
        `--variants: unknown variant "${variant}"; use one of ${Object.keys(VARIANTS).join(",")}`,
      );
    }
    // A fresh simulator per variant: Deno 2.9.6's node:http2 server can abort when a
    // client with thousands of finished streams disconnects (see docs/starlink.md).
    const sim = await startSimProcess();
    let r: ChildResult;
    try {
      r = await runVariant(variant, polls, sim.target, sim.webTarget);
    } finally {
      try {
        sim.process.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await sim.process.status;
    }
    console.log(
      [
        variant.padEnd(11),
        `${r.rss_start_mib} MiB`.padStart(9),
        `${r.rss_warm_mib} MiB`.padStart(8),
        `${r.rss_end_mib} MiB`.padStart(8),
        `${round(r.rss_end_mib - r.rss_start_mib)} MiB`.padStart(7),
        `${round(r.rss_end_mib - r.rss_warm_mib)} MiB`.padStart(18),
        `${r.heap_used_end_mib} MiB`.padStart(9),
        String(r.cpu_us_per_poll).padStart(12),
        String(r.wall_us_per_poll).padStart(13),
        String(r.history_samples).padStart(10),
        String(r.polls_failed).padStart(7),
        `${r.transport} (${
          Object.entries(r.answers).map(([k, n]) => `${n} answers over ${k}`).join(", ")
        })`,
      ].join("  "),
    );
    console.log(`  RSS by polls: ${r.checkpoints.map((c) => `${c.polls}:${c.rss_mib}`).join(" ")}`);
    results.push(r);
  }
  const base = results.find((r) => r.variant === BASELINE);
  if (base !== undefined) {
    console.log(`\nRatios vs ${BASELINE} (@grpc/grpc-js) measured in this run:`);
    for (const r of results) {
      console.log(
        `  ${r.variant.padEnd(11)} RSS end ${(r.rss_end_mib / base.rss_end_mib).toFixed(2)}×` +
          `  CPU/poll ${(r.cpu_us_per_poll / base.cpu_us_per_poll).toFixed(2)}×`,
      );
    }
  }
}

if (import.meta.main) await main();
