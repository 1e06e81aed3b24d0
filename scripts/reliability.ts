/**
 * `deno task reliability`: runs the bad-input and fault tests of issue 18 and
 * a 4 × 1000 parallel ubus call burst, then prints the README's reliability
 * table (markdown) from what they measured. Needs root (mount namespaces)
 * and the real OpenWrt tools (STARFAIL_OPENWRT, default /tmp/owrt).
 *
 * Usage: deno task reliability [--fuzz-runs N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UbusClient } from "../ubus/client.ts";
import { V8_FLAGS } from "./permissions.ts";

const { values } = parseArgs({ options: { "fuzz-runs": { type: "string", default: "1000" } } });
const ROOT = new URL("../", import.meta.url).pathname;
const DENO = Deno.execPath();
const OPENWRT = Deno.env.get("STARFAIL_OPENWRT") ?? "/tmp/owrt";

const TESTS = [
  "cli/config_bad_input_test.ts",
  "config/limits_test.ts",
  "io/read_file_test.ts",
  "io/show_value_test.ts",
  "io/side_file_test.ts",
  "ubus/reply_error_test.ts",
  "test/openwrt/malformed_invoke_test.ts",
  "test/starlink_client_fault_test.ts",
  "test/fault_disk_test.ts",
  "test/fault_dish_test.ts",
  "test/fuzz_test.ts",
];

async function runTests(): Promise<{ out: string; code: number }> {
  const out = await new Deno.Command(DENO, {
    args: ["test", "-A", "--no-prompt", ...TESTS],
    cwd: ROOT,
    env: { STARFAIL_OPENWRT: OPENWRT, STARFAIL_FUZZ_RUNS: String(values["fuzz-runs"]) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  // deno-lint-ignore no-control-regex -- strip the test runner's colours
  const strip = (b: Uint8Array) => new TextDecoder().decode(b).replace(/\u001b\[[0-9;]*m/g, "");
  return { out: strip(out.stdout) + strip(out.stderr), code: out.code };
}

function passed(out: string, name: string | RegExp): string {
  const lines = out.split("\n").filter((l) =>
    typeof name === "string" ? l.startsWith(name) : name.test(l)
  );
  const results = lines.map((l) => / \.\.\. (ok|FAILED|ignored)/.exec(l)?.[1]).filter(Boolean);
  if (results.length === 0) return "not run";
  if (results.includes("FAILED")) return "**FAILED**";
  if (results.includes("ignored")) return "skipped";
  return "pass";
}

interface Burst {
  idleMb: number;
  afterMb: number[];
  heapIdleMb: number;
  heapAfterMb: number;
  ms: number;
  failed: number;
}

async function burst(): Promise<Burst> {
  const dir = await Deno.makeTempDir({ prefix: `starfail_reliability_${Deno.pid}_` });
  const socket = `${dir}/ubus.sock`;
  const ubusd = new Deno.Command(`${OPENWRT}/sbin/ubusd`, {
    args: ["-s", socket],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const host = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      "--no-prompt",
      `--v8-flags=--expose-gc,${V8_FLAGS}`,
      `${ROOT}scripts/reliability_burst_host.ts`,
      socket,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = host.stdin.getWriter();
  const reader = host.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const line = async (): Promise<string> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("burst host ended");
      buffered += value;
    }
    const at = buffered.indexOf("\n");
    const out = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return out;
  };
  const memory = async () => {
    await writer.write(new TextEncoder().encode("\n"));
    return JSON.parse(await line()) as { rss: number; heapUsed: number };
  };
  try {
    for (let i = 0; i < 100 && (await line()) !== "ready"; i++) { /* wait */ }
    const idle = await memory();
    const afterMb: number[] = [];
    let failed = 0;
    const started = performance.now();
    for (let round = 0; round < 3; round++) {
      const clients = await Promise.all([0, 1, 2, 3].map(() => UbusClient.connect({ socket })));
      const results = await Promise.all(clients.map((c) =>
        Promise.all(
          Array.from({ length: 1000 }, () =>
            c.call("starfail", "status", {}, { timeoutMs: 30_000 }).then(() =>
              true, () => false)),
        )
      ));
      failed += results.flat().filter((ok) => !ok).length;
      for (const c of clients) await c.close();
      afterMb.push((await memory()).rss / 2 ** 20);
    }
    const ms = (performance.now() - started) / 3;
    const last = await memory();
    return {
      idleMb: idle.rss / 2 ** 20,
      afterMb,
      heapIdleMb: idle.heapUsed / 2 ** 20,
      heapAfterMb: last.heapUsed / 2 ** 20,
      ms,
      failed,
    };
  } finally {
    await writer.close().catch(() => {});
    host.kill("SIGTERM");
    await host.status;
    ubusd.kill("SIGKILL");
    await ubusd.status;
    await Deno.remove(dir, { recursive: true });
  }
}

const tests = await runTests();
const b = await burst();
const out = tests.out;
const fault = /fault disk: (\{.*\})/.exec(out)?.[1];
const disk = fault ? JSON.parse(fault) : null;
const invoke = /malformed INVOKE replies: (\d+) frames, slowest ([\d.]+) ms/.exec(out);
const dishRun = /fault dish: (\d+) dish requests, ticks (\d+)→(\d+), (\d+) status answers/.exec(
  out,
);
const fuzzUbus = /fuzz ubusd: (\d+) frames, slowest reply ([\d.]+) ms/.exec(out);
const runs = values["fuzz-runs"];
const mb = (n: number) => n.toFixed(0);

const rows: string[][] = [
  [
    "`config validate` on a FIFO, /dev/zero, a symlink loop, control bytes, a 3 MB value, a 200 KB name",
    passed(out, "config validate refuses"),
    "each ends at once, 1 printable line, exit 66/66/74/78/65/78",
    "nothing",
  ],
  [
    `Mutated config files (${runs} fuzz cases, seed 18)`,
    passed(out, "fuzz: UCI parser"),
    "no crash or hang; every line printable and names file:line",
    "nothing",
  ],
  [
    "Limits: 5,000 members, 64-char names, 17 probe targets, `[::1]:0`, `::::`",
    passed(out, /^(more than|a member name|probe_target|a file with)/),
    "one clear problem each",
    "nothing",
  ],
  [
    `Malformed INVOKEs through real ubusd (${invoke?.[1] ?? "?"} hand-made + ${
      fuzzUbus?.[1] ?? "?"
    } fuzzed)`,
    passed(out, /^(malformed INVOKEs|fuzz: mutated INVOKEs)/),
    `INVALID_ARGUMENT reply, slowest ${invoke?.[2] ?? "?"} / ${fuzzUbus?.[2] ?? "?"} ms`,
    "nothing",
  ],
  [
    "100 KB ubus argument",
    passed(out, "a 100 KB argument"),
    "error reply ≤ 256 chars with the byte count",
    "nothing",
  ],
  [
    `Mutated blobmsg tables, dish protobuf answers, replay traces (${runs} each)`,
    passed(out, /^fuzz: (blobmsg|dish|replay)/),
    "only the module's own error, one line",
    "nothing",
  ],
  [
    "Dish: HTTP 500, wrong content-type, garbage, reset, hang",
    passed(out, "dish fault"),
    "reported as such within the 1 s deadline",
    "that sample",
  ],
  [
    "Daemon with the dish answering HTTP 500, text/html, garbage, resets and hangs in turn",
    passed(out, "daemon keeps ticking"),
    dishRun
      ? `loop kept ticking (${dishRun[2]}→${dishRun[3]} in 9 s), ${dishRun[4]} status answers, ` +
        `each dish error named as such`
      : "?",
    "those dish samples",
  ],
  [
    "`config set` on a read-only or full file system",
    passed(out, "config set on a read-only"),
    "exit 74 naming the path; the original file whole",
    "nothing",
  ],
  [
    "`--record`/`--log-file` on a read-only file system",
    passed(out, "--record/--log-file"),
    disk
      ? `started without them, said so once; ${disk.readonly.statusOk} status calls answered, ticks ${disk.readonly.ticksBefore}→${disk.readonly.ticksAfter}`
      : "?",
    "the trace and log lines (counted)",
  ],
  [
    "Disk fills mid-run (192 KiB tmpfs) while recording and logging",
    passed(out, "--record/--log-file"),
    disk
      ? `daemon kept ticking (${disk.full.ticksBefore}→${disk.full.ticksAfter}) and answered ${disk.full.statusOk}/${
        disk.full.statusOk + disk.full.statusFailed
      } status calls; trace ${disk.full.traceLines} whole lines, 0 broken`
      : "?",
    "lines after the disk filled (counted, told once)",
  ],
  [
    "4 × 1000 parallel `ubus call starfail status`, 3 rounds",
    b.failed === 0 ? "pass" : `**${b.failed} failed**`,
    `RSS ${mb(b.idleMb)} MB idle → ${b.afterMb.map(mb).join(" / ")} MB after each round; JS heap ${
      b.heapIdleMb.toFixed(1)
    } → ${b.heapAfterMb.toFixed(1)} MB; ${Math.round(b.ms)} ms a round`,
    "nothing",
  ],
];

console.log("| Input or fault | Result | What happened | Lost |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(`\ntests exit code ${tests.code}; run: deno task reliability`);
if (tests.code !== 0) {
  console.error(out.split("\n").filter((l) => /FAILED|error/.test(l)).slice(0, 20).join("\n"));
  Deno.exit(1);
}
