/**
 * Daemon-loop benchmark: the real {@linkcode Runtime} (engine, telemetry
 * store with the config's limits, event log, controller calls) driven in
 * virtual time at 1 Hz for a simulated week with four members, fed by seeded
 * synthetic collectors (probe rounds, dish status, modem and Wi-Fi readings,
 * outages and link drops). Reports RSS and live heap at the start and end, and
 * CPU per tick as a ratio to a bare engine tick measured in the same run.
 *
 * The loop lets the event loop turn once per simulated minute, as the daemon's
 * own timers do every second. Without that the whole week runs as one
 * macrotask, the work V8 hands to the embedder's event loop (it grows with
 * the number of scavenges) is never run, and native memory grows by about
 * 1 MiB a simulated day: a growth the daemon never has. `--no-yield` keeps the
 * old loop to show it. Time spent yielding and sampling is left out of the
 * CPU figure.
 *
 * RSS is sampled after a forced GC every 10 simulated minutes. Reported: the
 * lowest of the hour after the warm-up and of the last hour (one sample swings
 * by ±3 MiB with V8's committed heap), the single samples the benchmark used to
 * report, "native" (RSS minus V8's committed heap: memory outside the JS
 * heap), and a least-squares trend from day 1 on (RSS still settles, downward,
 * during the first day).
 *
 * Usage: deno run -A --v8-flags=--expose-gc scripts/bench_daemon.ts [--days N] [--json] [--no-yield]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createEngine, engineConfig, observe, tick } from "../engine/mod.ts";
import type { MemberSpec, Observation } from "../engine/types.ts";
import { rng } from "../sim/scenarios.ts";
import { DEFAULT_CONFIG } from "../config/mod.ts";
import { TelemetryStore } from "../telemetry/store.ts";
import { VirtualClock } from "../daemon/clock.ts";
import { type Applier, Runtime, type Source } from "../daemon/runtime.ts";
import { storeSink } from "../daemon/daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    days: { type: "string", default: "7" },
    json: { type: "boolean" },
    "no-yield": { type: "boolean" },
  },
});
const yieldEvery = values["no-yield"] ? 0 : 60;
const days = Number(values.days);
if (!Number.isFinite(days) || days <= 0 || days > 60) {
  console.error(`bench_daemon: --days '${values.days}': expected a number from 0 to 60`);
  Deno.exit(64);
}

const MEMBERS: MemberSpec[] = [
  { name: "starlink", class: "starlink", weight: 100 },
  { name: "cell1", class: "cellular", weight: 80, metered: true },
  { name: "cell2", class: "cellular", weight: 70, metered: true },
  { name: "wifi", class: "wifi", weight: 60 },
];

/** Seeded synthetic collectors: realistic shapes, no I/O. */
function syntheticSources(seed: number): Source[] {
  const r = rng(seed);
  let outageUntil = -1;
  let wifiDownUntil = -1;
  const probe = (member: string, base: number, jitter: number, lossP: number): Source => ({
    name: `probe:${member}`,
    intervalMs: 1000,
    collect(now) {
      const down = (member === "starlink" && now < outageUntil) ||
        (member === "wifi" && now < wifiDownUntil);
      const lost = down || r() < lossP;
      const obs: Observation = lost
        ? { t: now, member, loss_pct: 100 }
        : { t: now, member, loss_pct: 0, latency_ms: base + r() * jitter, jitter_ms: r() * jitter };
      return Promise.resolve([obs]);
    },
  });
  const dish: Source = {
    name: "starlink",
    intervalMs: 1000,
    collect(now) {
      if (now >= outageUntil && r() < 1 / 600) outageUntil = now + 2 + r() * 20;
      const out = now < outageUntil;
      return Promise.resolve([{
        t: now,
        member: "starlink",
        latency_ms: 35 + r() * 15,
        loss_pct: out ? 100 : 0,
        obstruction_pct: 0.5 + r(),
        currently_obstructed: out,
        ...(out ? { outage_cause: r() < 0.7 ? "OBSTRUCTED" : "NO_SCHEDULE" } : {}),
        alerts: r() < 0.001 ? ["thermal_throttle"] : [],
      }]);
    },
  };
  const modem = (member: string): Source => ({
    name: `cellular:${member}`,
    intervalMs: 1000,
    collect(now) {
      const rsrp = -95 + 10 * Math.sin(now / 900) + r() * 4;
      return Promise.resolve([{
        t: now,
        member,
        rsrp_dbm: rsrp,
        sinr_db: 10 + r() * 5,
        roaming: false,
      }]);
    },
  });
  const wifi: Source = {
    name: "iwinfo:wifi",
    intervalMs: 1000,
    collect(now) {
      if (now >= wifiDownUntil && r() < 1 / 3600) wifiDownUntil = now + 30 + r() * 120;
      return Promise.resolve([{
        t: now,
        member: "wifi",
        link_up: now >= wifiDownUntil,
        signal_dbm: -65 + r() * 6,
        noise_dbm: -95,
      }]);
    },
  };
  return [
    dish,
    probe("starlink", 40, 15, 0.01),
    probe("cell1", 60, 25, 0.005),
    probe("cell2", 70, 30, 0.005),
    probe("wifi", 30, 10, 0.002),
    modem("cell1"),
    modem("cell2"),
    wifi,
  ];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

const cfg = engineConfig({ poll_interval_ms: 1000 });
const main = DEFAULT_CONFIG.main;

// Baseline measured in the same run: a bare engine tick (observe four members + tick).
function engineTickCostUs(ticks: number): number {
  let s = createEngine(MEMBERS, cfg, 0);
  const r = rng(7);
  const t0 = performance.now();
  for (let i = 1; i <= ticks; i++) {
    for (const m of MEMBERS) {
      s = observe(s, { t: i, member: m.name, latency_ms: 40 + r() * 20, loss_pct: 0 });
    }
    s = tick(s, i, cfg).state;
  }
  return ((performance.now() - t0) * 1000) / ticks;
}

let applies = 0;
const applier: Applier = {
  mode: "bench",
  apply() {
    applies++;
    return Promise.resolve({ changed: true, verified: true, actions: [], drift: [] });
  },
};
const clock = new VirtualClock();
const store = new TelemetryStore({
  max_samples_per_member: main.max_samples_per_member,
  max_events: main.max_events,
  retention_hours: main.retention_hours,
  max_ram_mb: main.max_ram_mb,
});
const rt = new Runtime({
  clock,
  engine: cfg,
  members: MEMBERS,
  sources: syntheticSources(20261125),
  applier,
  telemetry: storeSink(store),
});

const total = Math.round(days * 86400);
const warm = 3600;
if (total < warm) {
  console.error(
    `bench_daemon: --days '${values.days}': shorter than the 1 h warm-up; use 0.05 or more`,
  );
  Deno.exit(64);
}
const baselineUs = engineTickCostUs(20000);
/** One memory reading, taken right after a forced GC. */
interface Reading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}
function reading(): Reading {
  gc();
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}
/** The reading with the lowest RSS among `rs` (the least noisy figure for a phase). */
function lowest(rs: Reading[]): Reading {
  return rs.reduce((a, b) => (b.rss < a.rss ? b : a));
}
/** Least-squares slope of `y` over `x` (0 with fewer than two points). */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
const samples: {
  day: number;
  rss_mib: number;
  native_mib: number;
  heap_mib: number;
  heap_total_mib: number;
  external_mib: number;
}[] = [];
const firstHour: Reading[] = [];
let lastHour: Reading[] = [];
// Every sample from day 1 on (or from mid-run in shorter runs): the first hours
// still settle (RSS falls by up to 5 MiB during the first day).
const trendFrom = Math.max(warm, Math.min(86400, Math.floor(total / 2)));
const trend: { day: number; rss: number; native: number }[] = [];
let start: Reading | null = null;
let cpuStart = 0;
let yieldMs = 0;
for (let i = 1; i <= total; i++) {
  clock.advance(1);
  if (yieldEvery > 0 && i % yieldEvery === 0) {
    const y0 = performance.now();
    await macrotask();
    yieldMs += performance.now() - y0;
  }
  await rt.runAllSources();
  rt.step();
  await rt.settled();
  if (i >= warm && i % 600 === 0) {
    // Sampling is outside the measured CPU: its time is added to yieldMs.
    const s0 = performance.now();
    const r = reading();
    if (i === warm) {
      start = r;
      cpuStart = performance.now();
    }
    if (i < warm + 3600) firstHour.push(r);
    if (total - i < 3600) lastHour.push(r);
    if (i >= trendFrom) {
      trend.push({ day: i / 86400, rss: r.rss, native: r.rss - r.heapTotal });
    }
    if (i % 86400 === 0) {
      samples.push({
        day: i / 86400,
        rss_mib: mib(r.rss),
        native_mib: mib(r.rss - r.heapTotal),
        heap_mib: mib(r.heapUsed),
        heap_total_mib: mib(r.heapTotal),
        external_mib: mib(r.external),
      });
    }
    if (i !== warm) yieldMs += performance.now() - s0;
  }
}
const cpuMs = performance.now() - cpuStart - yieldMs;
const end = reading();
if (start === null) throw new Error("no reading at the end of the warm-up");
lastHour = [...lastHour, end];
const lowStart = lowest(firstHour);
const lowEnd = lowest(lastHour);
const perTickUs = (cpuMs * 1000) / (total - warm);
const rssPerDay = slope(trend.map((p) => ({ x: p.day, y: p.rss })));
const nativePerDay = slope(trend.map((p) => ({ x: p.day, y: p.native })));
const info = store.info();
const result = {
  simulated_days: days,
  ticks: total,
  members: MEMBERS.length,
  event_loop_turn_every_ticks: yieldEvery,
  rss_start_mib: mib(lowStart.rss),
  rss_end_mib: mib(lowEnd.rss),
  rss_growth_mib: mib(lowEnd.rss - lowStart.rss),
  rss_single_sample_start_mib: mib(start.rss),
  rss_single_sample_end_mib: mib(end.rss),
  rss_single_sample_growth_mib: mib(end.rss - start.rss),
  native_start_mib: mib(lowStart.rss - lowStart.heapTotal),
  native_end_mib: mib(lowEnd.rss - lowEnd.heapTotal),
  native_growth_mib: mib(lowEnd.rss - lowEnd.heapTotal - (lowStart.rss - lowStart.heapTotal)),
  trend_from_day: Math.round((trendFrom / 86400) * 100) / 100,
  rss_trend_mib_per_day: Math.round((rssPerDay / 1048576) * 100) / 100,
  native_trend_mib_per_day: Math.round((nativePerDay / 1048576) * 100) / 100,
  heap_start_mib: mib(start.heapUsed),
  heap_end_mib: mib(end.heapUsed),
  per_tick_us: Math.round(perTickUs),
  engine_tick_us: Math.round(baselineUs),
  ratio_to_engine_tick: Math.round((perTickUs / baselineUs) * 10) / 10,
  switches: rt.state.decisions.length,
  applies,
  store: {
    samples: info.samples,
    events: info.events,
    bytes_estimate: info.bytes_estimate,
    bytes_limit: info.bytes_limit,
  },
  engine_state_bytes: JSON.stringify(rt.state).length,
  daily: samples,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`## Daemon loop, ${days} simulated days at 1 Hz, ${MEMBERS.length} members`);
  console.log("");
  console.log("| figure | value |");
  console.log("|---|---|");
  const signed = (x: number) => `${x >= 0 ? "+" : ""}${x}`;
  console.log(
    `| RSS, lowest of the hour after the 1 h warm-up → of the last hour | ${result.rss_start_mib} → ${result.rss_end_mib} MiB (${
      signed(result.rss_growth_mib)
    } MiB) |`,
  );
  console.log(
    `| RSS, single samples at warm-up → end | ${result.rss_single_sample_start_mib} → ${result.rss_single_sample_end_mib} MiB (${
      signed(result.rss_single_sample_growth_mib)
    } MiB) |`,
  );
  console.log(
    `| native (RSS − V8 committed heap), same samples as the lowest RSS | ${result.native_start_mib} → ${result.native_end_mib} MiB (${
      signed(result.native_growth_mib)
    } MiB) |`,
  );
  console.log(
    `| trend from day ${result.trend_from_day} on (least squares, every 10 min) | RSS ${
      signed(result.rss_trend_mib_per_day)
    } MiB/day, native ${signed(result.native_trend_mib_per_day)} MiB/day |`,
  );
  console.log(
    `| event loop turns | ${
      yieldEvery > 0 ? `once every ${yieldEvery} ticks` : "never (--no-yield)"
    } |`,
  );
  console.log(
    `| live heap after GC, start → end | ${result.heap_start_mib} → ${result.heap_end_mib} MiB |`,
  );
  console.log(`| CPU per tick (8 collectors, engine, store) | ${result.per_tick_us} µs |`);
  console.log(
    `| bare engine tick, same run (baseline) | ${result.engine_tick_us} µs (ratio ${result.ratio_to_engine_tick}×) |`,
  );
  console.log(`| engine state size | ${result.engine_state_bytes} bytes of JSON |`);
  console.log(
    `| store | ${info.samples} samples, ${info.events} events, ~${mib(info.bytes_estimate)} of ${
      mib(info.bytes_limit)
    } MiB |`,
  );
  console.log(`| RSS by day | ${samples.map((s) => `${s.day}: ${s.rss_mib}`).join(", ")} |`);
  console.log(
    `| native by day | ${samples.map((s) => `${s.day}: ${s.native_mib}`).join(", ")} |`,
  );
  console.log(
    `| V8 heap committed by day | ${
      samples.map((s) => `${s.day}: ${s.heap_total_mib}`).join(", ")
    } |`,
  );
  console.log("");
  console.log(JSON.stringify(result));
}
