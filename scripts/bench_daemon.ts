/**
 * Daemon-loop benchmark: the real {@linkcode Runtime} (engine, telemetry
 * store with the config's limits, event log, controller calls) driven in
 * virtual time at 1 Hz for a simulated week with four members, fed by seeded
 * synthetic collectors (probe rounds, dish status, modem and Wi-Fi readings,
 * outages and link drops). Reports RSS and live heap at the start and end, and
 * CPU per tick as a ratio to a bare engine tick measured in the same run.
 *
 * Usage: deno run -A --v8-flags=--expose-gc scripts/bench_daemon.ts [--days N] [--json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createEngine, engineConfig, observe, tick } from "../engine/mod.ts";
import type { MemberSpec, Observation } from "../engine/types.ts";
import { rng } from "../engine/scenarios.ts";
import { DEFAULT_CONFIG } from "../config/mod.ts";
import { TelemetryStore } from "../telemetry/store.ts";
import { VirtualClock } from "../daemon/clock.ts";
import { type Applier, Runtime, type Source } from "../daemon/runtime.ts";
import { storeSink } from "../daemon/daemon.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { days: { type: "string", default: "7" }, json: { type: "boolean" } },
});
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
const baselineUs = engineTickCostUs(20000);
const samples: {
  day: number;
  rss_mib: number;
  heap_mib: number;
  heap_total_mib: number;
  external_mib: number;
}[] = [];
let startRss = 0;
let startHeap = 0;
let cpuStart = 0;
for (let i = 1; i <= total; i++) {
  clock.advance(1);
  await rt.runAllSources();
  rt.step();
  await rt.settled();
  if (i === warm) {
    gc();
    const m = Deno.memoryUsage();
    startRss = m.rss;
    startHeap = m.heapUsed;
    cpuStart = performance.now();
  }
  if (i % 86400 === 0) {
    gc();
    const m = Deno.memoryUsage();
    samples.push({
      day: i / 86400,
      rss_mib: mib(m.rss),
      heap_mib: mib(m.heapUsed),
      heap_total_mib: mib(m.heapTotal),
      external_mib: mib(m.external),
    });
  }
}
const cpuMs = performance.now() - cpuStart;
gc();
const end = Deno.memoryUsage();
const perTickUs = (cpuMs * 1000) / (total - warm);
const info = store.info();
const result = {
  simulated_days: days,
  ticks: total,
  members: MEMBERS.length,
  rss_start_mib: mib(startRss),
  rss_end_mib: mib(end.rss),
  rss_growth_mib: mib(end.rss - startRss),
  heap_start_mib: mib(startHeap),
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
  console.log(
    `| RSS after 1 h warm-up → end | ${result.rss_start_mib} → ${result.rss_end_mib} MiB (${
      result.rss_growth_mib >= 0 ? "+" : ""
    }${result.rss_growth_mib} MiB) |`,
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
    `| V8 heap committed by day | ${
      samples.map((s) => `${s.day}: ${s.heap_total_mib}`).join(", ")
    } |`,
  );
  console.log("");
  console.log(JSON.stringify(result));
}
