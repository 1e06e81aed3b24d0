/**
 * Footprint benchmark: what the daemon as shipped costs on a router, as
 * ratios to baselines measured in the same run.
 *
 * - **RSS**: `starfail daemon` run exactly as the compiled binary runs it (its
 *   permission, V8 and runtime flags from `scripts/permissions.ts`, and
 *   without `deno run`'s update check, which the binary lacks) at 1 Hz with every
 *   collector busy against loopback doubles (`scripts/footprint_world.ts`:
 *   real ubusd with simulated netifd/iwinfo/modem/mwan3, the dish simulator
 *   over gRPC, real `ping` to 127.0.0.1), against the floor: a bare Deno
 *   process under the same flags that only sleeps, sampled at the same time.
 * - **V8's optimizing compilers**: the same daemon in a second world with
 *   TurboFan and Maglev left on (the V8 flags without `--no-opt,--no-maglev`),
 *   RSS and CPU per tick side by side, and `replay` timed both ways.
 * - **CPU**: the live daemon's CPU per second (per 1 Hz tick, collectors and
 *   all) and `bench_daemon.ts`'s per-tick cost of the daemon loop vs the bare
 *   engine.
 * - **Growth per simulated day**: `bench_daemon.ts` (virtual time, real
 *   runtime, telemetry store and engine).
 * - **Cold start**: `starfail status` against the running daemon vs `deno eval 0`
 *   (median of several runs each).
 * - **replay of 24 h**: peak RSS of `starfail replay` over a 24 h, 4-member,
 *   1 Hz trace, vs the floor.
 *
 * Usage: deno run -A scripts/bench_footprint.ts [--seconds 60] [--days 2] [--json] [--quick]
 *
 * Needs `ping`; uses the real ubusd when `STARFAIL_OPENWRT` points at a build
 * of it, else the in-process broker (the report names which).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { permissionFlags, RUNTIME_FLAGS, SCOPED_RUN_ENV, V8_FLAGS } from "./permissions.ts";
import { startFootprintWorld } from "./footprint_world.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    days: { type: "string", default: "2" },
    json: { type: "boolean" },
    quick: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(
    `Usage: deno run -A scripts/bench_footprint.ts [--seconds 60] [--days 2] [--json] [--quick]

  --seconds N  how long the live daemon runs before its RSS is read (5 to 3600; default 60)
  --days N     simulated days of bench_daemon.ts for growth and CPU per tick (default 2)
  --json       one JSON object instead of the Markdown table
  --quick      20 s, 0.25 days and a 6 h replay (a smoke run; the table's figures need the defaults)

Set STARFAIL_OPENWRT to a build with sbin/ubusd to run the daemon against the real ubusd.`,
  );
  Deno.exit(0);
}
const quick = values.quick === true;
const seconds = quick ? 20 : Number(values.seconds);
const days = quick ? 0.25 : Number(values.days);
if (!Number.isFinite(seconds) || seconds < 5 || seconds > 3600) {
  console.error(`bench_footprint: --seconds '${values.seconds}': expected 5 to 3600`);
  Deno.exit(64);
}
if (!Number.isFinite(days) || days <= 0 || days > 60) {
  console.error(`bench_footprint: --days '${values.days}': expected a number from 0 to 60`);
  Deno.exit(64);
}

const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();
const v8 = `--v8-flags=${V8_FLAGS}`;
/**
 * The same V8 flags with V8's optimizing compilers left on: the baseline that
 * shows what `--no-opt,--no-maglev` buy (a second daemon in a second world,
 * and a second replay, in the same run).
 */
const JIT_V8_FLAGS = V8_FLAGS.split(",").filter((f) => f !== "--no-opt" && f !== "--no-maglev")
  .join(",");
const CLK_TCK = 100;

/** RSS, peak RSS and CPU seconds of a live process, from /proc. */
function sample(pid: number): { rss: number; hwm: number; cpu: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rss: kib("VmRSS") / 1024,
    hwm: kib("VmHWM") / 1024,
    cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK,
  };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function wallMs(args: string[], env?: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(deno, {
    args,
    env: { ...SCOPED_RUN_ENV, ...env },
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).split("\n").filter((l) =>
      l !== "" && !l.startsWith("Info ")
    );
    throw new Error(`${args.slice(-2).join(" ")} failed (exit ${out.code}): ${err[0] ?? ""}`);
  }
  return ms;
}

// 1. The daemon in its world, the floor beside it, and the daemon with the optimizing
//    compilers in a world of its own.
const world = await startFootprintWorld();
const jitWorld = await startFootprintWorld("jit");
const flags = permissionFlags({ extraNet: world.net });
const jitDaemon = new Deno.Command(deno, {
  args: [
    "run",
    ...RUNTIME_FLAGS,
    ...permissionFlags({ extraNet: jitWorld.net }),
    `--v8-flags=${JIT_V8_FLAGS}`,
    `${root}main.ts`,
    "daemon",
    "--config",
    jitWorld.configPath,
    "--socket",
    jitWorld.socket,
  ],
  env: { ...SCOPED_RUN_ENV, ...jitWorld.env },
  stdout: "null",
  stderr: "null",
}).spawn();
const floor = new Deno.Command(deno, {
  args: [
    "run",
    ...RUNTIME_FLAGS,
    ...flags,
    v8,
    "data:application/javascript,setInterval(()=>{},1e3)",
  ],
  env: { ...SCOPED_RUN_ENV },
  stdout: "null",
  stderr: "null",
}).spawn();
const daemon = new Deno.Command(deno, {
  args: [
    "run",
    ...RUNTIME_FLAGS,
    ...flags,
    v8,
    `${root}main.ts`,
    "daemon",
    "--config",
    world.configPath,
    "--socket",
    world.socket,
  ],
  env: { ...SCOPED_RUN_ENV, ...world.env },
  stdout: "null",
  stderr: "piped",
}).spawn();
const daemonLog: string[] = [];
const logDone = (async () => {
  for await (const chunk of daemon.stderr.pipeThrough(new TextDecoderStream())) {
    daemonLog.push(chunk);
    if (daemonLog.length > 200) daemonLog.shift();
  }
})();

let result: Record<string, unknown>;
try {
  const series: { s: number; rss: number }[] = [];
  await sleep(10_000);
  const cpuAt10 = sample(daemon.pid).cpu;
  const jitCpuAt10 = sample(jitDaemon.pid).cpu;
  for (let s = 10; s < seconds; s += 5) {
    await sleep(5000);
    series.push({ s: s + 5, rss: r1(sample(daemon.pid).rss) });
  }
  const d = sample(daemon.pid);
  const dj = sample(jitDaemon.pid);
  // The figures are only the daemon's as shipped if its flags let it reach its world: a
  // denied ubus socket or dish port would leave collectors idle and the RSS flattered.
  const denials = [
    ...new Set(
      daemonLog.join("").split("\n").filter((l) =>
        /sandbox denies|NotCapable|Requires \w+ access/.test(l)
      ).map((l) => (/"msg":"([^"]*)"/.exec(l)?.[1] ?? l).slice(0, 200)),
    ),
  ];
  const worldDenied = denials.filter((m) =>
    m.includes(world.socket) || world.net.some((n) => m.includes(n.replace(/^unix:/, "")))
  );
  if (worldDenied.length > 0) {
    throw new Error(`the daemon's flags deny its own world: ${worldDenied.join("; ")}`);
  }
  for (const m of denials) console.error(`bench_footprint: the daemon logged a denial: ${m}`);
  const f = sample(floor.pid);
  const cpuPerTickMs = ((d.cpu - cpuAt10) / (seconds - 10)) * 1000;
  const jitCpuPerTickMs = ((dj.cpu - jitCpuAt10) / (seconds - 10)) * 1000;

  // 2. Cold start: `status` against the live daemon vs `deno eval 0` (first runs warm the caches).
  const runs = quick ? 3 : 5;
  const statusArgs = [
    "run",
    ...RUNTIME_FLAGS,
    ...flags,
    v8,
    `${root}main.ts`,
    "status",
    "--socket",
    world.socket,
  ];
  const evalArgs = ["eval", v8, "0"];
  const statusMs: number[] = [];
  const evalMs: number[] = [];
  await wallMs(statusArgs, world.env);
  await wallMs(evalArgs);
  for (let i = 0; i < runs; i++) {
    statusMs.push(await wallMs(statusArgs, world.env));
    evalMs.push(await wallMs(evalArgs));
  }

  // 3. replay of 24 h, 4 members at 1 Hz, written as the daemon's --record writes it,
  //    under the binary's permission and V8 flags (replay streams the file).
  const tracePath = `${world.dir}/day.jsonl`;
  const hours = quick ? 6 : 24;
  await writeTrace(tracePath, hours);
  const replayPeak = await peakRss([
    "run",
    ...RUNTIME_FLAGS,
    ...flags,
    v8,
    `${root}main.ts`,
    "replay",
    tracePath,
    "--json",
  ]);
  const replayJit = await peakRss([
    "run",
    ...RUNTIME_FLAGS,
    ...flags,
    `--v8-flags=${JIT_V8_FLAGS}`,
    `${root}main.ts`,
    "replay",
    tracePath,
    "--json",
  ]);

  // 4. Growth per simulated day and CPU per tick vs the bare engine: bench_daemon.
  const bd = await new Deno.Command(deno, {
    args: [
      "run",
      "-A",
      "--no-prompt",
      `--v8-flags=--expose-gc,${V8_FLAGS}`,
      `${root}scripts/bench_daemon.ts`,
      "--days",
      String(days),
      "--json",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!bd.success) throw new Error(`bench_daemon.ts failed (exit ${bd.code})`);
  const week = JSON.parse(new TextDecoder().decode(bd.stdout).trim().split("\n").at(-1)!);

  result = {
    v8_flags: V8_FLAGS,
    broker: world.broker,
    seconds,
    daemon_rss_mib: r1(d.rss),
    daemon_peak_rss_mib: r1(d.hwm),
    floor_rss_mib: r1(f.rss),
    rss_ratio_to_floor: r2(d.rss / f.rss),
    rss_series: series,
    daemon_cpu_ms_per_tick: r2(cpuPerTickMs),
    loop_tick_us: week.per_tick_us,
    engine_tick_us: week.engine_tick_us,
    tick_ratio_to_engine: week.ratio_to_engine_tick,
    simulated_days: days,
    growth_mib_per_day: week.rss_trend_mib_per_day,
    growth_mib_per_week: r1(week.rss_trend_mib_per_day * 7),
    status_cold_ms: Math.round(median(statusMs)),
    eval_cold_ms: Math.round(median(evalMs)),
    cold_start_ratio: r2(median(statusMs) / median(evalMs)),
    replay_hours: hours,
    replay_peak_rss_mib: r1(replayPeak.peak),
    replay_ratio_to_floor: r2(replayPeak.peak / f.rss),
    replay_s: r1(replayPeak.seconds),
    jit_v8_flags: JIT_V8_FLAGS,
    jit_daemon_rss_mib: r1(dj.rss),
    daemon_rss_ratio_to_jit: r2(d.rss / dj.rss),
    jit_daemon_cpu_ms_per_tick: r2(jitCpuPerTickMs),
    daemon_cpu_ratio_to_jit: r2(cpuPerTickMs / jitCpuPerTickMs),
    jit_replay_peak_rss_mib: r1(replayJit.peak),
    jit_replay_s: r1(replayJit.seconds),
    replay_time_ratio_to_jit: r2(replayPeak.seconds / replayJit.seconds),
  };
} finally {
  daemon.kill("SIGTERM");
  await daemon.status;
  await logDone;
  jitDaemon.kill("SIGTERM");
  await jitDaemon.status;
  await jitWorld.stop();
  floor.kill("SIGTERM");
  await floor.status;
  await world.stop();
}

/** Peak RSS (MiB, polled from /proc: VmHWM is monotonic) and wall seconds of a command run to its end. */
async function peakRss(args: string[]): Promise<{ peak: number; seconds: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(deno, {
    args,
    env: { ...SCOPED_RUN_ENV, NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let peak = 0;
  const poll = setInterval(() => {
    try {
      // A process that has exited but not been reaped has no VmHWM line any more.
      const hwm = sample(child.pid).hwm;
      if (Number.isFinite(hwm)) peak = Math.max(peak, hwm);
    } catch {
      // Exited between polls.
    }
  }, 20);
  const out = await child.output();
  clearInterval(poll);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).split("\n").find((l) =>
      l !== "" && !l.startsWith("Info")
    );
    throw new Error(`replay failed (exit ${out.code}): ${err ?? ""}`);
  }
  return { peak, seconds: (performance.now() - t0) / 1000 };
}

/** Writes a 4-member, 1 Hz trace of `hours` hours line by line (the file is never held whole). */
async function writeTrace(path: string, hours: number): Promise<void> {
  const members = [
    { name: "starlink", class: "starlink", weight: 100 },
    { name: "cell", class: "cellular", weight: 80, metered: true },
    { name: "wifi", class: "wifi", weight: 60 },
    { name: "lan", class: "lan", weight: 40 },
  ];
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  // The header and tick lines as the daemon's --record writes them (replay ticks at those times).
  let buf =
    JSON.stringify({ starfail_trace: 1, members, config: { poll_interval_ms: 1000 }, start_t: 0 }) +
    "\n";
  for (let t = 0; t < hours * 3600; t++) {
    const out = t % 600 >= 300 && t % 600 < 305;
    const sl = out
      ? { t, member: "starlink", loss_pct: 100, outage_cause: "OBSTRUCTED", obstruction_pct: 2 }
      : { t, member: "starlink", latency_ms: 40 + (t % 7), loss_pct: 0, jitter_ms: 3 };
    buf += JSON.stringify(sl) + "\n" +
      JSON.stringify({ t, member: "cell", latency_ms: 70 + (t % 5), loss_pct: 0, rsrp_dbm: -92 }) +
      "\n" +
      JSON.stringify({ t, member: "wifi", latency_ms: 25, loss_pct: 0, signal_dbm: -60 }) + "\n" +
      JSON.stringify({ t, member: "lan", latency_ms: 12, loss_pct: 0 }) + "\n" +
      JSON.stringify({ tick: t + 0.5 }) + "\n";
    if (buf.length > 1 << 16) {
      await file.write(enc.encode(buf));
      buf = "";
    }
  }
  await file.write(enc.encode(buf));
  file.close();
}

if (values.json) console.log(JSON.stringify(result));
else {
  const r = result as Record<string, number | string>;
  console.log(`## Footprint (V8 flags ${r.v8_flags}; loopback world with ${r.broker})`);
  console.log("");
  console.log("| figure | value | baseline (same run) | ratio |");
  console.log("|---|---|---|---|");
  console.log(
    `| daemon RSS after ${r.seconds} s, all collectors busy at 1 Hz | ${r.daemon_rss_mib} MiB (peak ${r.daemon_peak_rss_mib}) | bare Deno that sleeps: ${r.floor_rss_mib} MiB | ${r.rss_ratio_to_floor}× |`,
  );
  console.log(
    `| RSS growth per simulated day (bench_daemon, ${r.simulated_days} d) | ${r.growth_mib_per_day} MiB/day (${r.growth_mib_per_week} MiB/week) | — | — |`,
  );
  console.log(
    `| CPU per tick, daemon loop (bench_daemon) | ${r.loop_tick_us} µs | bare engine tick: ${r.engine_tick_us} µs | ${r.tick_ratio_to_engine}× |`,
  );
  console.log(
    `| CPU per 1 Hz tick, live daemon (collectors, ubus, gRPC-Web, ping) | ${r.daemon_cpu_ms_per_tick} ms | same daemon with the optimizing compilers: ${r.jit_daemon_cpu_ms_per_tick} ms | ${r.daemon_cpu_ratio_to_jit}× |`,
  );
  console.log(
    `| daemon RSS after ${r.seconds} s vs V8's optimizing compilers on (\`${r.jit_v8_flags}\`) | ${r.daemon_rss_mib} MiB | ${r.jit_daemon_rss_mib} MiB | ${r.daemon_rss_ratio_to_jit}× |`,
  );
  console.log(
    `| cold start of \`starfail status\` (median) | ${r.status_cold_ms} ms | \`deno eval 0\`: ${r.eval_cold_ms} ms | ${r.cold_start_ratio}× |`,
  );
  console.log(
    `| \`replay\` of ${r.replay_hours} h (4 members, 1 Hz), peak RSS | ${r.replay_peak_rss_mib} MiB | floor: ${r.floor_rss_mib} MiB | ${r.replay_ratio_to_floor}× |`,
  );
  console.log(
    `| \`replay\` of ${r.replay_hours} h, wall time | ${r.replay_s} s | with the optimizing compilers: ${r.jit_replay_s} s (peak ${r.jit_replay_peak_rss_mib} MiB) | ${r.replay_time_ratio_to_jit}× |`,
  );
  console.log("");
  console.log(
    `RSS of the daemon every 5 s: ${
      (r.rss_series as unknown as { s: number; rss: number }[]).map((p) => `${p.s}:${p.rss}`).join(
        " ",
      )
    }`,
  );
}
