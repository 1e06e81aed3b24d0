/**
 * Engine benchmark: runs starfail and the baselines (mwan3 defaults, mwan3
 * tuned, pfSense/dpinger defaults, the legacy shell thresholds) over seeded
 * scenarios grounded in measured Starlink behaviour, and reports impact
 * seconds, degraded seconds, switches, detection and failback delays, and the
 * ratio starfail / best baseline. starfail also runs on each world without
 * Starlink's 15 s reconfiguration spikes, so the switches the spikes add show.
 * Then measures engine throughput on a 24 h, 4-member, 1 Hz trace. Prints a
 * Markdown report, then one JSON line.
 *
 * First comes the cost table: per scenario family, starfail's impact seconds,
 * switches, seconds on a metered backup while the preferred member was fine
 * and cost ({@linkcode cost}), each as a ratio to mwan3 tuned run on the same
 * traces, with the worst seed. It runs twice: on the tuning seeds (`--seed`,
 * `--seeds`) and on held-out seeds (`--holdout-seed`, `--holdout-seeds`; by
 * default 20261201–06, never used to choose a parameter).
 *
 * Usage: deno run -A scripts/bench_engine.ts [--quick] [--seed N] [--seeds COUNT]
 *   [--holdout-seed N] [--holdout-seeds COUNT]
 *   [--ride-through S] [--flap-suppress N] [--clock-skew-ms MS] [--no-reconfig-guard]
 *   [--engine JSON] (any engine options, e.g. '{"ride_through_metered_s": 6}')
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BASELINES, type PrimaryTimeline } from "../sim/baselines.ts";
import { DEFAULT_ENGINE_CONFIG, engineConfig } from "../engine/config.ts";
import {
  addedSwitches,
  computeMetrics,
  cost,
  countSwitches,
  quantile,
  type RunMetrics,
} from "../sim/metrics.ts";
import { replay } from "../engine/replay.ts";
import {
  buildWorld,
  COST_SCENARIOS,
  DEFAULT_COLLECTORS,
  SCENARIOS,
  type ScenarioSpec,
  withoutReconfigSpikes,
  worldToTrace,
} from "../sim/scenarios.ts";
import type { Trace } from "../engine/trace.ts";
import type { Observation } from "../engine/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean" },
    seed: { type: "string" },
    seeds: { type: "string" },
    "holdout-seed": { type: "string" },
    "holdout-seeds": { type: "string" },
    "ride-through": { type: "string" },
    "flap-suppress": { type: "string" },
    "clock-skew-ms": { type: "string" },
    "no-reconfig-guard": { type: "boolean" },
    engine: { type: "string" },
  },
});
const quick = values.quick === true;
const baseSeed = values.seed === undefined ? 20261125 : Number(values.seed);
if (!Number.isInteger(baseSeed)) {
  console.error(`bench_engine: --seed '${values.seed}': expected an integer`);
  Deno.exit(64);
}
const seedCount = values.seeds === undefined ? (quick ? 1 : 3) : Number(values.seeds);
if (!Number.isInteger(seedCount) || seedCount < 1 || seedCount > 100) {
  console.error(`bench_engine: --seeds '${values.seeds}': expected a whole number from 1 to 100`);
  Deno.exit(64);
}
const seeds = Array.from({ length: seedCount }, (_, i) => baseSeed + i);
const holdoutBase = values["holdout-seed"] === undefined
  ? 20261201
  : Number(values["holdout-seed"]);
const holdoutCount = values["holdout-seeds"] === undefined
  ? (quick ? 2 : 6)
  : Number(values["holdout-seeds"]);
if (
  !Number.isInteger(holdoutBase) || !Number.isInteger(holdoutCount) || holdoutCount < 0 ||
  holdoutCount > 100
) {
  console.error(
    `bench_engine: --holdout-seed/--holdout-seeds: expected an integer and a whole number from 0 to 100`,
  );
  Deno.exit(64);
}
const holdoutSeeds = Array.from({ length: holdoutCount }, (_, i) => holdoutBase + i);
const rideRaw = values["ride-through"];
const ride = rideRaw === undefined ? undefined : Number(rideRaw);
if (ride !== undefined && !(Number.isInteger(ride) && ride >= 0 && ride <= 60)) {
  console.error(`bench_engine: --ride-through '${rideRaw}': expected a whole number from 0 to 60`);
  Deno.exit(64);
}
const skewRaw = values["clock-skew-ms"];
const skewMs = skewRaw === undefined ? 0 : Number(skewRaw);
if (!(Number.isInteger(skewMs) && Math.abs(skewMs) <= 60_000)) {
  console.error(
    `bench_engine: --clock-skew-ms '${skewRaw}': expected a whole number from -60000 to 60000`,
  );
  Deno.exit(64);
}
const suppressRaw = values["flap-suppress"];
const suppress = suppressRaw === undefined ? undefined : Number(suppressRaw);
if (suppress !== undefined && !(Number.isFinite(suppress) && suppress >= 0 && suppress <= 100)) {
  console.error(`bench_engine: --flap-suppress '${suppressRaw}': expected a number from 0 to 100`);
  Deno.exit(64);
}
const guardOff = values["no-reconfig-guard"] === true;
let engineOverrides: Record<string, unknown> = {};
if (values.engine !== undefined) {
  try {
    engineOverrides = JSON.parse(values.engine);
    if (typeof engineOverrides !== "object" || engineOverrides === null) throw new Error();
    if (Array.isArray(engineOverrides)) throw new Error();
  } catch {
    console.error(
      `bench_engine: --engine '${values.engine}': expected a JSON object of engine options`,
    );
    Deno.exit(64);
  }
}
for (const key of Object.keys(engineOverrides)) {
  if (!(key in DEFAULT_ENGINE_CONFIG)) {
    console.error(`bench_engine: --engine: '${key}' is not an engine option (engine/config.ts)`);
    Deno.exit(64);
  }
}
const cfg = engineConfig({
  ...engineOverrides,
  ...(ride === undefined ? {} : { ride_through_s: ride }),
  ...(suppress === undefined ? {} : { flap_suppress: suppress }),
  ...(guardOff ? { reconfig_guard: false } : {}),
});
// The daemon's reconfig_guard covers both halves: Starlink probes wait out the windows, and
// rounds that still fall in one are not soft loss.
const collectors = {
  ...DEFAULT_COLLECTORS,
  clock_skew_s: skewMs / 1000,
  avoid_reconfig: !guardOff,
};

/** starfail's run: its primary timeline, when it marked each member down, and its ride-throughs. */
interface StarfailRun {
  timeline: PrimaryTimeline;
  downs: Map<string, number[]>;
  rides: number;
}

function starfailRun(trace: Trace): StarfailRun {
  const downs = new Map<string, number[]>();
  let rides = 0;
  let riding = false;
  const r = replay(trace, cfg, {
    onEvents: (events) => {
      for (const e of events) {
        if (e.type !== "member_state" || e.to !== "down" || e.member === null) continue;
        const list = downs.get(e.member) ?? [];
        list.push(e.t);
        downs.set(e.member, list);
      }
    },
    onTick: (state) => {
      const now = (state.ride ?? null) !== null;
      if (now && !riding) rides++;
      riding = now;
    },
  });
  return { timeline: r.changes.map((c) => [c.t, c.primary]), downs, rides };
}

interface Agg {
  impact_s: number;
  metered_s: number;
  degraded_s: number;
  switches: number;
  detection: number[];
  missed: number;
  dish: number[];
  failback: number[];
  failback_censored: number;
  rides: number;
}

function empty(): Agg {
  return {
    impact_s: 0,
    metered_s: 0,
    degraded_s: 0,
    switches: 0,
    detection: [],
    missed: 0,
    dish: [],
    failback: [],
    failback_censored: 0,
    rides: 0,
  };
}

function add(a: Agg, m: RunMetrics): void {
  a.impact_s += m.impact_s;
  a.metered_s += m.metered_s;
  a.degraded_s += m.degraded_s;
  a.switches += m.switches;
  a.detection.push(...m.detection_s);
  a.missed += m.missed;
  a.dish.push(...m.dish_detection_s);
  a.failback.push(...m.failback_s);
  a.failback_censored += m.failback_censored;
}

/** One system's cost figures on one or more traces. */
interface CostAgg {
  impact_s: number;
  switches: number;
  metered_fine_s: number;
  cost: number;
}

/** Per family: starfail and mwan3 tuned summed over the seeds, and the worst seed. */
interface CostRow {
  family: string;
  sf: CostAgg;
  mw: CostAgg;
  worst: { seed: number; sf: CostAgg; mw: CostAgg };
}

function costAgg(m: { impact_s: number; switches: number; metered_fine_s: number }): CostAgg {
  return {
    impact_s: m.impact_s,
    switches: m.switches,
    metered_fine_s: m.metered_fine_s,
    cost: cost(m),
  };
}

function addCost(a: CostAgg, b: CostAgg): void {
  a.impact_s += b.impact_s;
  a.switches += b.switches;
  a.metered_fine_s += b.metered_fine_s;
  a.cost += b.cost;
}

const MWAN3_TUNED = BASELINES.find((b) => b.name === "mwan3 tuned")!;

/** Runs starfail and mwan3 tuned on every family and seed; returns a row per family. */
function costTable(specs: ScenarioSpec[], seedList: number[]): CostRow[] {
  const rows: CostRow[] = [];
  for (const spec of specs) {
    const sf = costAgg({ impact_s: 0, switches: 0, metered_fine_s: 0 });
    const mw = costAgg({ impact_s: 0, switches: 0, metered_fine_s: 0 });
    let worst: CostRow["worst"] | null = null;
    for (const seed of seedList) {
      const world = buildWorld(spec, seed);
      const run = starfailRun(worldToTrace(world, seed, collectors));
      const s1 = costAgg(computeMetrics(world, run.timeline, { downs: run.downs }));
      const m1 = costAgg(computeMetrics(world, MWAN3_TUNED.run(world, seed)));
      addCost(sf, s1);
      addCost(mw, m1);
      const r1 = s1.cost / Math.max(m1.cost, 1e-9);
      if (worst === null || r1 > worst.sf.cost / Math.max(worst.mw.cost, 1e-9)) {
        worst = { seed, sf: s1, mw: m1 };
      }
    }
    rows.push({ family: spec.name, sf, mw, worst: worst! });
  }
  return rows;
}

function sumRows(rows: CostRow[]): { sf: CostAgg; mw: CostAgg } {
  const sf = costAgg({ impact_s: 0, switches: 0, metered_fine_s: 0 });
  const mw = costAgg({ impact_s: 0, switches: 0, metered_fine_s: 0 });
  for (const r of rows) {
    addCost(sf, r.sf);
    addCost(mw, r.mw);
  }
  return { sf, mw };
}

function x(a: number, b: number): string {
  if (b === 0) return a === 0 ? "1.00×" : "∞";
  return `${(a / b).toFixed(2)}×`;
}

function r0(v: number): string {
  return String(Math.round(v));
}

/** The cost table as Markdown lines, and its JSON. */
function costReport(title: string, seedList: number[]): { lines: string[]; json: unknown } {
  const held = costTable(COST_SCENARIOS, seedList);
  const rest = costTable(SCENARIOS, seedList);
  const lines = [
    `## Cost vs mwan3 tuned: ${title} (seeds ${seedList.join(", ")})`,
    "",
    "cost = impact s + 3 s per switch + 0.02 × seconds on a metered backup while the preferred " +
    "member was fine. Each cell: starfail (mwan3 tuned) ratio; sums over the seeds; worst seed = " +
    "highest cost ratio.",
    "",
    "| family | impact s | switches | metered-while-fine s | cost | worst seed: cost |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  const line = (name: string, sf: CostAgg, mw: CostAgg, worst?: CostRow["worst"]) =>
    `| ${name} | ${r0(sf.impact_s)} (${r0(mw.impact_s)}) ${
      x(sf.impact_s, mw.impact_s)
    } | ${sf.switches} (${mw.switches}) ${x(sf.switches, mw.switches)} | ${
      r0(sf.metered_fine_s)
    } (${r0(mw.metered_fine_s)}) | ${r0(sf.cost)} (${r0(mw.cost)}) **${x(sf.cost, mw.cost)}** | ${
      worst === undefined
        ? "–"
        : `${worst.seed}: ${r0(worst.sf.cost)} (${r0(worst.mw.cost)}) ${
          x(worst.sf.cost, worst.mw.cost)
        }`
    } |`;
  for (const r of held) lines.push(line(r.family, r.sf, r.mw, r.worst));
  const h = sumRows(held);
  lines.push(line("**held-apart-like families**", h.sf, h.mw));
  for (const r of rest) lines.push(line(r.family, r.sf, r.mw, r.worst));
  const all = sumRows([...held, ...rest]);
  lines.push(line("**all families**", all.sf, all.mw));
  const spikes = held.find((r) => r.family === "spikes_only")!;
  const ok = (b: boolean) => (b ? "yes" : "no");
  lines.push(
    "",
    "| target (held-apart-like families) | result | met |",
    "|---|---|---|",
    `| cost ≤ 0.5× mwan3 tuned (goal 0.25×) | ${x(h.sf.cost, h.mw.cost)} | ${
      ok(h.sf.cost <= 0.5 * h.mw.cost)
    } |`,
    `| impact ≤ 0.2× | ${x(h.sf.impact_s, h.mw.impact_s)} | ${
      ok(h.sf.impact_s <= 0.2 * h.mw.impact_s)
    } |`,
    `| switches ≤ mwan3 tuned | ${h.sf.switches} vs ${h.mw.switches} | ${
      ok(h.sf.switches <= h.mw.switches)
    } |`,
    `| 0 switches on spikes_only | ${spikes.sf.switches} | ${ok(spikes.sf.switches === 0)} |`,
    "",
  );
  const j = (rows: CostRow[]) =>
    Object.fromEntries(rows.map((r) => [r.family, {
      starfail: roundAgg(r.sf),
      mwan3_tuned: roundAgg(r.mw),
      cost_ratio: r.mw.cost === 0 ? null : r.sf.cost / r.mw.cost,
      worst_seed: r.worst.seed,
      worst_cost_ratio: r.worst.mw.cost === 0 ? null : r.worst.sf.cost / r.worst.mw.cost,
    }]));
  return {
    lines,
    json: {
      seeds: seedList,
      families: { ...j(held), ...j(rest) },
      held_apart_like: {
        starfail: roundAgg(h.sf),
        mwan3_tuned: roundAgg(h.mw),
        cost_ratio: h.sf.cost / h.mw.cost,
        impact_ratio: h.sf.impact_s / h.mw.impact_s,
      },
      all: { starfail: roundAgg(all.sf), mwan3_tuned: roundAgg(all.mw) },
    },
  };
}

function roundAgg(a: CostAgg): CostAgg {
  return {
    impact_s: Math.round(a.impact_s * 10) / 10,
    switches: a.switches,
    metered_fine_s: Math.round(a.metered_fine_s * 10) / 10,
    cost: Math.round(a.cost * 10) / 10,
  };
}

const costTune = costReport("tuning seeds", seeds);
const costHoldout = holdoutSeeds.length > 0 ? costReport("held-out seeds", holdoutSeeds) : null;

const systems = ["starfail", ...BASELINES.map((b) => b.name)];
const perScenario = new Map<string, Map<string, Agg>>();
const total = new Map<string, Agg>(systems.map((s) => [s, empty()]));
/** starfail's switches per scenario on the same worlds without the reconfiguration spikes. */
const calmSwitches = new Map<string, number>();
/** Per scenario: starfail switches the spikes added ({@linkcode addedSwitches}). */
const spikeCaused = new Map<string, number>();

for (const spec of SCENARIOS) {
  const rows = new Map<string, Agg>(systems.map((s) => [s, empty()]));
  for (const seed of seeds) {
    const world = buildWorld(spec, seed);
    const trace = worldToTrace(world, seed, collectors);
    const sf = starfailRun(trace);
    const m = computeMetrics(world, sf.timeline, { downs: sf.downs });
    const calm = withoutReconfigSpikes(world);
    const calmRun = starfailRun(worldToTrace(calm, seed, collectors));
    calmSwitches.set(
      spec.name,
      (calmSwitches.get(spec.name) ?? 0) + countSwitches(calmRun.timeline),
    );
    spikeCaused.set(
      spec.name,
      (spikeCaused.get(spec.name) ?? 0) + addedSwitches(sf.timeline, calmRun.timeline),
    );
    for (const a of [rows.get("starfail")!, total.get("starfail")!]) {
      add(a, m);
      a.rides += sf.rides;
    }
    for (const b of BASELINES) {
      const bm = computeMetrics(world, b.run(world, seed));
      add(rows.get(b.name)!, bm);
      add(total.get(b.name)!, bm);
    }
  }
  perScenario.set(spec.name, rows);
}

function fmt(v: number | null): string {
  return v === null ? "–" : String(Math.round(v * 10) / 10);
}

function row(name: string, a: Agg): string {
  return `| ${name} | ${fmt(a.impact_s)} | ${fmt(a.degraded_s)} | ${a.switches} | ${
    fmt(a.metered_s)
  } | ${fmt(quantile(a.detection, 0.5))} | ${
    fmt(quantile(a.detection, 0.95))
  } | ${a.missed}/${a.detection.length} | ${fmt(quantile(a.failback, 0.5))} |`;
}

const HEAD =
  "| system | impact s | degraded s | switches | metered s | detect p50 s | detect p95 s | missed | failback p50 s |\n" +
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|";

function best(rows: Map<string, Agg>): [string, Agg] {
  let out: [string, Agg] | null = null;
  for (const [name, a] of rows) {
    if (name === "starfail") continue;
    if (
      out === null || a.impact_s < out[1].impact_s ||
      (a.impact_s === out[1].impact_s && a.switches < out[1].switches)
    ) {
      out = [name, a];
    }
  }
  return out!;
}

function ratio(a: number, b: number): string {
  if (b === 0) return a === 0 ? "1.00 (both 0)" : "∞ (baseline 0)";
  return (a / b).toFixed(2);
}

const out: string[] = [];
out.push(`# starfail engine benchmark`, "");
out.push(
  `Seeds: ${seeds.join(", ")}${quick ? " (quick)" : ""}. Engine config: defaults${
    ride === undefined ? "" : `, ride_through_s ${ride}`
  }${suppress === undefined ? "" : `, flap_suppress ${suppress}`}${
    values.engine === undefined ? "" : `, ${values.engine}`
  }${guardOff ? ", reconfig_guard off" : ""} (poll ${cfg.poll_interval_ms} ms)${
    skewMs === 0 ? "" : `; router clock off by ${skewMs} ms`
  }. ` +
    `Each scenario's figures are summed over the seeds.`,
  "",
);
out.push(...costTune.lines);
if (costHoldout !== null) out.push(...costHoldout.lines);
const json: Record<string, unknown> = {
  seeds,
  quick,
  cost: { tuning: costTune.json, holdout: costHoldout?.json ?? null },
  scenarios: {} as Record<string, unknown>,
};
for (const spec of SCENARIOS) {
  const rows = perScenario.get(spec.name)!;
  const [bn, ba] = best(rows);
  const sf = rows.get("starfail")!;
  out.push(
    `## ${spec.name} (${spec.duration_s} s × ${seeds.length})`,
    "",
    spec.description,
    "",
    HEAD,
  );
  for (const [name, a] of rows) out.push(row(name, a));
  out.push(
    "",
    `starfail / best baseline (${bn}): impact ${
      ratio(sf.impact_s, ba.impact_s)
    }, switches ${sf.switches} vs ${ba.switches}; starfail rode through ${sf.rides} dish-predicted short outages; ` +
      `without the 15 s spikes starfail switches ${
        calmSwitches.get(spec.name)
      } times; the spikes added ${spikeCaused.get(spec.name)}`,
    "",
  );
  (json.scenarios as Record<string, unknown>)[spec.name] = Object.fromEntries(
    [...rows].map(([name, a]) => [name, summary(a)]),
  );
}

function summary(a: Agg) {
  return {
    impact_s: Math.round(a.impact_s * 10) / 10,
    degraded_s: Math.round(a.degraded_s * 10) / 10,
    switches: a.switches,
    metered_s: Math.round(a.metered_s * 10) / 10,
    detection_p50_s: quantile(a.detection, 0.5),
    detection_p95_s: quantile(a.detection, 0.95),
    episodes: a.detection.length,
    missed: a.missed,
    dish_detection_p95_s: quantile(a.dish, 0.95),
    failback_p50_s: quantile(a.failback, 0.5),
    failback_censored: a.failback_censored,
    rides: a.rides,
  };
}

const [bestName, bestAgg] = best(total);
const sfTotal = total.get("starfail")!;
out.push("## Total", "", HEAD);
for (const [name, a] of total) out.push(row(name, a));
const impactRatio = bestAgg.impact_s === 0 ? null : sfTotal.impact_s / bestAgg.impact_s;
const spikeSwitches = perScenario.get("healthy")!.get("starfail")!.switches;
const calmTotal = [...calmSwitches.values()].reduce((a, b) => a + b, 0);
const spikeCausedTotal = [...spikeCaused.values()].reduce((a, b) => a + b, 0);
const dishP95 = quantile(sfTotal.dish, 0.95);
const pollS = cfg.poll_interval_ms / 1000;
out.push(
  "",
  `Best baseline by total impact: **${bestName}**.`,
  "",
  "| target | result | met |",
  "|---|---|---|",
  `| total impact ≤ 0.5 × best baseline | ${
    impactRatio === null ? "–" : impactRatio.toFixed(2)
  } × | ${impactRatio !== null && impactRatio <= 0.5 ? "yes" : "no"} |`,
  `| switches ≤ best baseline | ${sfTotal.switches} vs ${bestAgg.switches} | ${
    sfTotal.switches <= bestAgg.switches ? "yes" : "no"
  } |`,
  `| no switch caused by the 15 s spikes (switches not in the run on the same worlds without spikes, by longest common subsequence) | ${spikeCausedTotal} of ${sfTotal.switches} (${calmTotal} switches without spikes; healthy scenario: ${spikeSwitches} switches) | ${
    spikeCausedTotal === 0 ? "yes" : "no"
  } |`,
  `| detection within one poll interval of the dish report (p95 from outage start until starfail marked the member down or left it; dish polled every 1 s) | ${
    fmt(dishP95)
  } s (poll ${pollS} s + dish poll 1 s = ${pollS + 1} s) | ${
    dishP95 !== null && dishP95 <= pollS + 1 ? "yes" : "no"
  } |`,
  "",
);

// Throughput: 24 h, 4 members, 1 Hz each.
function throughputTrace(hours: number): Trace {
  const members = [
    { name: "starlink", class: "starlink" as const, weight: 100 },
    { name: "cell", class: "cellular" as const, weight: 80, metered: true },
    { name: "wifi", class: "wifi" as const, weight: 60 },
    { name: "lan", class: "lan" as const, weight: 40 },
  ];
  const observations: Observation[] = [];
  const end = hours * 3600;
  for (let t = 0; t < end; t++) {
    const out = t % 600 >= 300 && t % 600 < 305;
    observations.push(
      out
        ? { t, member: "starlink", loss_pct: 100, outage_cause: "OBSTRUCTED", obstruction_pct: 2 }
        : {
          t,
          member: "starlink",
          latency_ms: 40 + (t % 7),
          loss_pct: 0,
          jitter_ms: 3,
          obstruction_pct: 2,
        },
      { t, member: "cell", latency_ms: 70 + (t % 5), loss_pct: 0, rsrp_dbm: -92, sinr_db: 11 },
      { t, member: "wifi", latency_ms: 25, loss_pct: 0, signal_dbm: -60, noise_dbm: -95 },
      { t, member: "lan", latency_ms: 12, loss_pct: 0 },
    );
  }
  return { members, observations };
}
const hours = quick ? 2 : 24;
const tt = throughputTrace(hours);
const t0 = performance.now();
const rep = replay(tt, cfg);
const wall = (performance.now() - t0) / 1000;
const obsPerS = tt.observations.length / wall;
const tickUs = (wall * 1e6) / rep.summary.ticks;
const realtime = (hours * 3600) / wall;
out.push(
  "## Throughput",
  "",
  `Replay of a ${hours} h, 4-member, 1 Hz trace (${tt.observations.length} observations, ${rep.summary.ticks} ticks at ${pollS} s): ` +
    `${wall.toFixed(2)} s wall, ${Math.round(obsPerS)} observations/s, ${
      tickUs.toFixed(1)
    } µs per tick ` +
    `(observations fed included), ${Math.round(realtime)}× faster than real time.`,
  "",
);
json.total = Object.fromEntries([...total].map(([name, a]) => [name, summary(a)]));
json.best_baseline = bestName;
json.impact_ratio = impactRatio;
json.spike_switches = spikeSwitches;
json.switches_without_spikes = Object.fromEntries(calmSwitches);
json.spike_caused_switches = Object.fromEntries(spikeCaused);
json.clock_skew_ms = skewMs;
json.reconfig_guard = !guardOff;
json.throughput = {
  hours,
  observations: tt.observations.length,
  ticks: rep.summary.ticks,
  wall_s: Math.round(wall * 1000) / 1000,
  observations_per_s: Math.round(obsPerS),
  tick_us: Math.round(tickUs * 10) / 10,
  realtime_factor: Math.round(realtime),
};
console.log(out.join("\n"));
console.log(JSON.stringify(json));
