/**
 * Benchmark of the Starlink collector: memory (RSS) and CPU per poll over many
 * polls against the dish simulator running in a separate process.
 *
 * Each poll is one get_status at a simulated 1 Hz (the simulator's clock moves
 * one second per get_status) plus the history catch-up every 10 polls, exactly
 * the call mix of the daemon. The collector runs in a child process per V8
 * flag set, so each figure is the collector's own RSS.
 *
 * Usage:
 *   deno run -A scripts/bench_starlink.ts [--polls 100000] [--variants default,small]
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { StarlinkCollector } from "../collectors/starlink.ts";

/** V8 flag sets (and environment) compared by the benchmark. */
const VARIANTS: Record<
  string,
  { flags: string[]; env?: Record<string, string>; prefer?: "auto" | "grpc-web" }
> = {
  default: { flags: [] },
  small: { flags: ["--max-old-space-size=32", "--max-semi-space-size=1"] },
  small16: { flags: ["--max-old-space-size=16", "--max-semi-space-size=1"] },
  "small-arena": {
    flags: ["--max-old-space-size=32", "--max-semi-space-size=1"],
    env: { MALLOC_ARENA_MAX: "2" },
  },
  "small-lite": {
    flags: ["--max-old-space-size=32", "--max-semi-space-size=1", "--lite-mode"],
  },
  "web-small": {
    flags: ["--max-old-space-size=32", "--max-semi-space-size=1"],
    env: { MALLOC_ARENA_MAX: "2" },
    prefer: "grpc-web",
  },
  "web-lite": {
    flags: ["--max-old-space-size=32", "--max-semi-space-size=1", "--lite-mode"],
    prefer: "grpc-web",
  },
  "small-1t": {
    flags: ["--max-old-space-size=32", "--max-semi-space-size=1", "--single-threaded-gc"],
    env: { MALLOC_ARENA_MAX: "2" },
  },
};

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
  const collector = new StarlinkCollector({
    member: "starlink",
    host,
    port: Number(port),
    grpc_web_port: webPort,
    prefer: VARIANTS[variant].prefer ?? "auto",
    timeout_ms: 2000,
    history: true,
    history_interval_ms: 10_000,
    clock: () => t,
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
  };
  console.log(JSON.stringify(result));
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
      variants: { type: "string", default: "default,small" },
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
  for (const variant of values.variants!.split(",")) {
    if (!(variant in VARIANTS)) throw new Error(`Unknown variant "${variant}"`);
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
        r.transport,
      ].join("  "),
    );
    console.log(`  RSS by polls: ${r.checkpoints.map((c) => `${c.polls}:${c.rss_mib}`).join(" ")}`);
  }
}

if (import.meta.main) await main();
