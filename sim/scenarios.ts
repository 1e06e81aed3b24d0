/**
 * A seeded scenario generator for the benchmark, grounded in measured
 * Starlink behaviour (docs/engine.md, shared/reference/failover-anchors.md
 * §A5 and starlink/README.md "Measured behaviour"). A scenario is a *world*:
 * per-member, per-second link facts (reachable, RTT, loss probability, dish
 * and radio fields) plus the ground truth of when each member was usable.
 * From the world come (a) starfail's observations, as its collectors would
 * produce them, and (b) probe results for the baselines.
 *
 * Pure and deterministic for a given seed.
 *
 * @module
 */

import { inReconfigWindow } from "../engine/reconfig.ts";
import type { Trace } from "../engine/trace.ts";
import type { MemberSpec, Observation } from "../engine/types.ts";

/** Dish outage causes, index 0 = none. */
export const OUTAGE_CAUSES = [
  "",
  "OBSTRUCTED",
  "NO_SCHEDULE",
  "NO_DOWNLINK",
  "NO_PINGS",
  "BOOTING",
  "THERMAL_SHUTDOWN",
  "NO_SATS",
] as const;
/** An outage cause name (or "" for none). */
export type OutageCause = typeof OUTAGE_CAUSES[number];

/** A member's world: one value per second of the scenario. */
export interface MemberWorld {
  /** The member. */
  spec: MemberSpec;
  /** Interface (netifd) link up. */
  link: Uint8Array;
  /** Dish outage cause index (Starlink only; 0 = none). Pings fail during an outage. */
  outage: Uint8Array;
  /** Upstream black-holed without any local signal (pings fail). */
  blackhole: Uint8Array;
  /** Base round-trip time in ms. */
  rtt: Float32Array;
  /** Probability that one ping is lost. */
  lossP: Float32Array;
  /** Starlink: dish API reachable. */
  dishUp: Uint8Array;
  /** Starlink: fraction obstructed, percent. */
  obstruction: Float32Array;
  /** Starlink: currently obstructed. */
  obstructedNow: Uint8Array;
  /** Starlink: alert bits (1 thermal_throttle, 2 thermal_shutdown). */
  alerts: Uint8Array;
  /** Starlink: software update waiting for a reboot. */
  swupdate: Uint8Array;
  /** Starlink: seconds to the first non-empty slot (−1 unknown/none). */
  slot: Float32Array;
  /**
   * Starlink: seconds until the scheduled update reboot, as the dish reports
   * it (`software_update_stats.reboot_scheduled_utc_time` − now); −1 when the
   * dish gives no reboot time.
   */
  rebootIn: Float32Array;
  /** Cellular: RSRP dBm. */
  rsrp: Float32Array;
  /** Cellular: SINR dB. */
  sinr: Float32Array;
  /** Cellular: roaming. */
  roaming: Uint8Array;
  /** Wi-Fi: signal dBm. */
  signal: Float32Array;
  /** Wi-Fi: noise dBm. */
  noise: Float32Array;
  /** Starlink: the 15 s reconfiguration spikes are off (a counterfactual world). */
  no_reconfig_spikes?: boolean;
}

/** A scenario: members' worlds over `duration_s` seconds. */
export interface World {
  /** Scenario name. */
  name: string;
  /** What it models. */
  description: string;
  /** Length in seconds. */
  duration_s: number;
  /** Members in preference order (highest weight first). */
  members: MemberWorld[];
}

/** Ground truth thresholds: a member carries a video call when loss < 10 % and RTT < 800 ms. */
export const USABLE = Object.freeze({ max_loss_p: 0.1, max_rtt_ms: 800 });
/** Ground truth: usable but degraded when loss ≥ 2 % or RTT ≥ 300 ms. */
export const DEGRADED = Object.freeze({ loss_p: 0.02, rtt_ms: 300 });

/** Seeded PRNG (mulberry32) returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform PRNG (Box–Muller). */
export function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** A lognormal duration with median `p50` and 90th percentile `p90`, capped. */
export function lognormal(r: () => number, p50: number, p90: number, cap: number): number {
  const sigma = Math.log(p90 / p50) / 1.2816;
  return Math.min(cap, Math.max(0.5, p50 * Math.exp(sigma * gauss(r))));
}

function blankMember(spec: MemberSpec, n: number): MemberWorld {
  return {
    spec,
    link: new Uint8Array(n).fill(1),
    outage: new Uint8Array(n),
    blackhole: new Uint8Array(n),
    rtt: new Float32Array(n),
    lossP: new Float32Array(n),
    dishUp: new Uint8Array(n).fill(spec.class === "starlink" ? 1 : 0),
    obstruction: new Float32Array(n),
    obstructedNow: new Uint8Array(n),
    alerts: new Uint8Array(n),
    swupdate: new Uint8Array(n),
    slot: new Float32Array(n),
    rebootIn: new Float32Array(n).fill(-1),
    rsrp: new Float32Array(n),
    sinr: new Float32Array(n),
    roaming: new Uint8Array(n),
    signal: new Float32Array(n),
    noise: new Float32Array(n),
  };
}

/** Fills healthy baselines: smooth RTT random walks per class, tiny loss, good radio. */
function healthy(m: MemberWorld, r: () => number): void {
  const n = m.rtt.length;
  const base = m.spec.class === "starlink"
    ? 45
    : m.spec.class === "cellular"
    ? 70
    : m.spec.class === "wifi"
    ? 28
    : 12;
  let walk = 0;
  for (let i = 0; i < n; i++) {
    walk = 0.98 * walk + gauss(r) * base * 0.03;
    m.rtt[i] = Math.max(base * 0.6, base + walk);
    m.lossP[i] = 0.002;
    if (m.spec.class === "starlink") {
      m.obstruction[i] = 0.8;
      m.slot[i] = 0;
    }
    if (m.spec.class === "cellular") {
      m.rsrp[i] = -90 + gauss(r) * 1.5;
      m.sinr[i] = 12 + gauss(r) * 1;
    }
    if (m.spec.class === "wifi") {
      m.signal[i] = -58 + gauss(r) * 1.5;
      m.noise[i] = -95;
    }
  }
}

function range(n: number, t0: number, t1: number): [number, number] {
  return [Math.max(0, Math.floor(t0)), Math.min(n, Math.ceil(t1))];
}

/** Puts a dish outage on [t0, t1): pings fail; the dish reports the cause. */
function dishOutage(m: MemberWorld, t0: number, t1: number, cause: OutageCause): void {
  const [a, b] = range(m.outage.length, t0, t1);
  const idx = OUTAGE_CAUSES.indexOf(cause);
  for (let i = a; i < b; i++) {
    m.outage[i] = idx;
    if (cause === "OBSTRUCTED") m.obstructedNow[i] = 1;
    if (cause === "NO_SCHEDULE") m.slot[i] = b - i;
  }
}

function setLink(m: MemberWorld, t0: number, t1: number, up: boolean): void {
  const [a, b] = range(m.link.length, t0, t1);
  m.link.fill(up ? 1 : 0, a, b);
}

function setBlackhole(m: MemberWorld, t0: number, t1: number): void {
  const [a, b] = range(m.blackhole.length, t0, t1);
  m.blackhole.fill(1, a, b);
}

/** Sprinkles Poisson outages with lognormal durations over [t0, t1). */
function sprinkleOutages(
  m: MemberWorld,
  r: () => number,
  opts: {
    t0: number;
    t1: number;
    meanGapS: number;
    causes: { cause: OutageCause; p50: number; p90: number; w: number }[];
  },
): void {
  const total = opts.causes.reduce((s, c) => s + c.w, 0);
  let t = opts.t0 + -Math.log(Math.max(r(), 1e-9)) * opts.meanGapS;
  while (t < opts.t1) {
    let pick = r() * total;
    let c = opts.causes[0];
    for (const x of opts.causes) {
      pick -= x.w;
      if (pick <= 0) {
        c = x;
        break;
      }
    }
    const d = lognormal(r, c.p50, c.p90, 60);
    dishOutage(m, t, t + d, c.cause);
    t += d + -Math.log(Math.max(r(), 1e-9)) * opts.meanGapS;
  }
}

function ramp(arr: Float32Array, t0: number, t1: number, from: number, to: number): void {
  const [a, b] = range(arr.length, t0, t1);
  for (let i = a; i < b; i++) arr[i] = from + ((to - from) * (i - a)) / Math.max(1, b - a);
}

function addRamp(arr: Float32Array, t0: number, t1: number, from: number, to: number): void {
  const [a, b] = range(arr.length, t0, t1);
  for (let i = a; i < b; i++) arr[i] += from + ((to - from) * (i - a)) / Math.max(1, b - a);
}

/** Starlink default members: Starlink 100, cellular 80 (metered), Wi-Fi 60. */
export const DEFAULT_MEMBERS: MemberSpec[] = [
  { name: "starlink", class: "starlink", weight: 100 },
  { name: "cell", class: "cellular", weight: 80, metered: true },
  { name: "wifi", class: "wifi", weight: 60 },
];

/** A scenario recipe. */
export interface ScenarioSpec {
  /** Name. */
  name: string;
  /** What it models and which measured facts it uses. */
  description: string;
  /** Length in seconds. */
  duration_s: number;
  /** Shapes the world (after healthy baselines are filled in). */
  shape: (w: World, r: () => number) => void;
  /** Members (default {@linkcode DEFAULT_MEMBERS}). */
  members?: MemberSpec[];
}

function member(w: World, name: string): MemberWorld {
  const m = w.members.find((x) => x.spec.name === name);
  if (m === undefined) throw new Error(`Scenario ${w.name} has no member ${name}.`);
  return m;
}

/** The benchmark scenarios. */
export const SCENARIOS: ScenarioSpec[] = [
  {
    name: "healthy",
    description: "everything healthy; only the 15 s reconfiguration spikes",
    duration_s: 7200,
    shape: () => {},
  },
  {
    name: "obstructions",
    description:
      "obstruction outages every ~2 min (lognormal p50 3.3 s, p90 14 s), obstruction 4 %",
    duration_s: 7200,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      sl.obstruction.fill(4);
      sprinkleOutages(sl, r, {
        t0: 60,
        t1: w.duration_s,
        meanGapS: 120,
        causes: [{ cause: "OBSTRUCTED", p50: 3.3, p90: 14, w: 1 }],
      });
    },
  },
  {
    name: "no_schedule",
    description: "NO_SCHEDULE gaps (median 8.9 s) every ~5 min",
    duration_s: 7200,
    shape: (w, r) => {
      sprinkleOutages(member(w, "starlink"), r, {
        t0: 60,
        t1: w.duration_s,
        meanGapS: 300,
        causes: [{ cause: "NO_SCHEDULE", p50: 8.9, p90: 20, w: 1 }],
      });
    },
  },
  {
    name: "mobile_mix",
    description: "mobile dish, ~30 % downtime: cause mix and medians of the NUWiNS history " +
      "(NO_SCHEDULE 8.9 s, OBSTRUCTED 3.3 s, NO_DOWNLINK 2.1 s, NO_PINGS 0.9 s)",
    duration_s: 3600,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      sl.obstruction.fill(3);
      sprinkleOutages(sl, r, {
        t0: 30,
        t1: w.duration_s,
        meanGapS: 12,
        causes: [
          { cause: "NO_SCHEDULE", p50: 8.9, p90: 20, w: 3 },
          { cause: "OBSTRUCTED", p50: 3.3, p90: 14, w: 4 },
          { cause: "NO_DOWNLINK", p50: 2.1, p90: 6, w: 2 },
          { cause: "NO_PINGS", p50: 0.9, p90: 3, w: 2 },
        ],
      });
    },
  },
  {
    name: "sw_update_reboot",
    description: "software update: reboot_ready at 20 min, BOOTING outage of 596 s at 35 min",
    duration_s: 5400,
    shape: (w) => {
      const sl = member(w, "starlink");
      const [a, b] = range(w.duration_s, 1200, 2100);
      sl.swupdate.fill(1, a, b);
      dishOutage(sl, 2100, 2100 + 596, "BOOTING");
    },
  },
  {
    name: "thermal",
    description:
      "thermal throttling 15 min (RTT +150–400 ms, loss 1–4 %), then THERMAL_SHUTDOWN 5 min",
    duration_s: 5400,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      const [a, b] = range(w.duration_s, 1200, 2100);
      for (let i = a; i < b; i++) {
        sl.alerts[i] = 1;
        sl.rtt[i] += 150 + 250 * r();
        sl.lossP[i] = 0.01 + 0.03 * r();
      }
      dishOutage(sl, 2100, 2400, "THERMAL_SHUTDOWN");
      const [c, d] = range(w.duration_s, 2100, 2400);
      for (let i = c; i < d; i++) sl.alerts[i] = 2;
    },
  },
  {
    name: "cell_fade_roaming",
    description:
      "Starlink out 25 min (NO_SATS); meanwhile the cell fades (RSRP −90 → −121 dBm) and roams",
    duration_s: 3600,
    shape: (w) => {
      dishOutage(member(w, "starlink"), 600, 2100, "NO_SATS");
      const cell = member(w, "cell");
      ramp(cell.rsrp, 900, 1080, -90, -121);
      ramp(cell.sinr, 900, 1080, 12, -6);
      // Loss follows SINR: usable until SINR drops below ~0, then the link fails.
      for (let i = 900; i < 1080; i++) {
        cell.lossP[i] = Math.min(1, Math.max(0.002, (2 - cell.sinr[i]) / 8));
      }
      const [a, b] = range(w.duration_s, 1080, 1380);
      for (let i = a; i < b; i++) {
        cell.rsrp[i] = -121;
        cell.sinr[i] = -6;
        cell.lossP[i] = 1;
      }
      ramp(cell.rsrp, 1380, 1440, -121, -95);
      ramp(cell.sinr, 1380, 1440, -6, 10);
      for (let i = 1380; i < 1440; i++) {
        cell.lossP[i] = Math.min(1, Math.max(0.002, (2 - cell.sinr[i]) / 8));
      }
      const [c, d] = range(w.duration_s, 1500, 2400);
      for (let i = c; i < d; i++) {
        cell.roaming[i] = 1;
        cell.rtt[i] += 60;
      }
    },
  },
  {
    name: "wifi_drops",
    description:
      "Starlink down 30 min (cable/power: dish unreachable); campground Wi-Fi drops its " +
      "association 5–60 s several times",
    duration_s: 3600,
    members: [
      { name: "starlink", class: "starlink", weight: 100 },
      { name: "wifi", class: "wifi", weight: 80 },
      { name: "cell", class: "cellular", weight: 60, metered: true },
    ],
    shape: (w, r) => {
      const sl = member(w, "starlink");
      setBlackhole(sl, 300, 2100);
      const [a, b] = range(w.duration_s, 300, 2100);
      sl.dishUp.fill(0, a, b);
      const wifi = member(w, "wifi");
      let t = 420;
      while (t < 2000) {
        const d = 5 + 55 * r();
        ramp(wifi.signal, t - 20, t, -60, -84);
        setLink(wifi, t, t + d, false);
        ramp(wifi.signal, t + d, t + d + 10, -84, -60);
        t += d + 120 + 180 * r();
      }
    },
  },
  {
    name: "long_outage",
    description:
      "a 30 min outage the dish reports (NO_DOWNLINK) and a 20 min upstream blackhole it does not",
    duration_s: 7200,
    shape: (w) => {
      const sl = member(w, "starlink");
      dishOutage(sl, 900, 2700, "NO_DOWNLINK");
      setBlackhole(sl, 4500, 5700);
    },
  },
  {
    name: "slow_degradation",
    description:
      "Starlink degrades over 10 min (RTT 45 → 2000 ms, loss 0 → 30 %), stays bad 10 min, recovers",
    duration_s: 3600,
    shape: (w) => {
      const sl = member(w, "starlink");
      addRamp(sl.rtt, 600, 1200, 0, 1950);
      ramp(sl.lossP, 600, 1200, 0.002, 0.3);
      const [a, b] = range(w.duration_s, 1200, 1800);
      for (let i = a; i < b; i++) {
        sl.rtt[i] += 1950;
        sl.lossP[i] = 0.3;
      }
      addRamp(sl.rtt, 1800, 2400, 1950, 0);
      ramp(sl.lossP, 1800, 2400, 0.3, 0.002);
    },
  },
];

/**
 * Families shaped like the held-apart scenarios of issue 14 (obstructed
 * parking spots, NO_SCHEDULE gaps, flagged updates with a later reboot, slow
 * degradation with thermal throttling, link pulls with a fading cell, spikes
 * only). Their parameters are drawn per seed, so every seed is a different
 * trace of the same family. Used by the benchmark's cost table.
 */
export const COST_SCENARIOS: ScenarioSpec[] = [
  {
    name: "parked_obstructed",
    description: "parked under trees for 50–60 min: short confirmed OBSTRUCTED outages every " +
      "~90 s (p50 3.3 s, p90 14 s), then the van moves and the sky is clean for the rest of 80 min",
    duration_s: 4800,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      const clear = 3000 + 600 * r();
      const [a, b] = range(w.duration_s, 0, clear);
      sl.obstruction.fill(5, a, b);
      sprinkleOutages(sl, r, {
        t0: 60,
        t1: clear,
        meanGapS: 90,
        causes: [{ cause: "OBSTRUCTED", p50: 3.3, p90: 14, w: 1 }],
      });
    },
  },
  {
    name: "no_schedule_gaps",
    description: "NO_SCHEDULE gaps of 5–9 s every ~4 min; the dish announces each gap's end " +
      "(seconds_to_first_nonempty_slot counts down)",
    duration_s: 7200,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      let t = 60 + 240 * r();
      while (t < w.duration_s - 20) {
        const d = 5 + 4 * r();
        dishOutage(sl, t, t + d, "NO_SCHEDULE");
        t += d + 30 - Math.log(Math.max(r(), 1e-9)) * 210;
      }
    },
  },
  {
    name: "update_scheduled",
    description: "software update flagged (swupdate_reboot_ready) at 10–20 min, reboot " +
      "1800–2700 s later: BOOTING outage of 60–180 s; on about half the seeds the dish also " +
      "reports the reboot time",
    duration_s: 5400,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      const flag = 600 + 600 * r();
      const reboot = Math.floor(flag + 1800 + 900 * r());
      const boot = 60 + 120 * r();
      const timed = r() < 0.5;
      const [a, b] = range(w.duration_s, flag, reboot);
      sl.swupdate.fill(1, a, b);
      if (timed) { for (let i = a; i < b; i++) sl.rebootIn[i] = reboot - i; }
      dishOutage(sl, reboot, reboot + boot, "BOOTING");
    },
  },
  {
    name: "thermal_degradation",
    description: "thermal throttling (alert) for 10–20 min while RTT and loss creep up " +
      "(RTT +100 → +900 ms, loss 0.5 → 15 %), then the dish cools over 5 min",
    duration_s: 4800,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      const t0 = 900 + 300 * r();
      const len = 600 + 600 * r();
      const [a, b] = range(w.duration_s, t0, t0 + len + 300);
      for (let i = a; i < b; i++) if (i < t0 + len) sl.alerts[i] = 1;
      addRamp(sl.rtt, t0, t0 + len, 100, 900);
      ramp(sl.lossP, t0, t0 + len, 0.005, 0.15);
      addRamp(sl.rtt, t0 + len, t0 + len + 300, 900, 0);
      ramp(sl.lossP, t0 + len, t0 + len + 300, 0.15, 0.002);
    },
  },
  {
    name: "link_pulls_cell_fade",
    description: "Starlink's cable pulled 3–5 times for 20–240 s (link down, dish unreachable); " +
      "during one pull the cell fades (RSRP −90 → −118 dBm, loss up to 60 %)",
    duration_s: 3600,
    shape: (w, r) => {
      const sl = member(w, "starlink");
      const cell = member(w, "cell");
      const pulls = 3 + Math.floor(3 * r());
      const fadeAt = Math.floor(r() * pulls);
      let t = 300 + 300 * r();
      for (let k = 0; k < pulls && t < w.duration_s - 300; k++) {
        const d = 20 + 220 * r();
        setLink(sl, t, t + d, false);
        const [a, b] = range(w.duration_s, t, t + d);
        sl.dishUp.fill(0, a, b);
        if (k === fadeAt) {
          const f0 = t - 60;
          const f1 = t + d + 60;
          ramp(cell.rsrp, f0, (f0 + f1) / 2, -90, -118);
          ramp(cell.sinr, f0, (f0 + f1) / 2, 12, -2);
          ramp(cell.rsrp, (f0 + f1) / 2, f1, -118, -90);
          ramp(cell.sinr, (f0 + f1) / 2, f1, -2, 12);
          const [c, e] = range(w.duration_s, f0, f1);
          for (let i = c; i < e; i++) {
            cell.lossP[i] = Math.min(0.6, Math.max(0.002, (2 - cell.sinr[i]) / 8));
          }
        }
        t += d + 300 + 600 * r();
      }
    },
  },
  {
    name: "spikes_only",
    description: "a healthy sky with only the 15 s reconfiguration spikes",
    duration_s: 3600,
    shape: () => {},
  },
];

/** Builds the world of `spec` with `seed`. */
export function buildWorld(spec: ScenarioSpec, seed: number): World {
  const r = rng(seed);
  const members = (spec.members ?? DEFAULT_MEMBERS).map((m) => blankMember(m, spec.duration_s));
  for (const m of members) healthy(m, r);
  const world: World = {
    name: spec.name,
    description: spec.description,
    duration_s: spec.duration_s,
    members,
  };
  spec.shape(world, r);
  return world;
}

/**
 * The same world without Starlink's 15 s reconfiguration spikes: every other
 * second and every random draw stays the same (the spikes only change values
 * drawn anyway), so what differs between the two traces is what the spikes
 * did.
 */
export function withoutReconfigSpikes(world: World): World {
  return { ...world, members: world.members.map((m) => ({ ...m, no_reconfig_spikes: true })) };
}

/** Whether member `m` can carry traffic at second `i` (ground truth). */
export function usableAt(m: MemberWorld, i: number): boolean {
  return m.link[i] === 1 && m.outage[i] === 0 && m.blackhole[i] === 0 &&
    m.lossP[i] < USABLE.max_loss_p && m.rtt[i] < USABLE.max_rtt_ms;
}

/** Whether member `m` is usable but degraded at second `i` (ground truth). */
export function degradedAt(m: MemberWorld, i: number): boolean {
  return usableAt(m, i) && (m.lossP[i] >= DEGRADED.loss_p || m.rtt[i] >= DEGRADED.rtt_ms);
}

/** One ping sent over `m` at time `t`: its RTT in ms, or null when lost or slower than `timeoutS`. */
export function ping(m: MemberWorld, t: number, timeoutS: number, r: () => number): number | null {
  const i = Math.min(m.rtt.length - 1, Math.max(0, Math.floor(t)));
  if (m.link[i] === 0 || m.outage[i] !== 0 || m.blackhole[i] === 1) return null;
  let rtt = m.rtt[i] * (1 + 0.08 * gauss(r));
  let lossP = m.lossP[i];
  if (m.spec.class === "starlink" && m.no_reconfig_spikes !== true && inReconfigWindow(t)) {
    rtt += 140;
    lossP = Math.max(lossP, 0.25);
  }
  if (r() < lossP) return null;
  rtt = Math.max(1, rtt);
  return rtt > timeoutS * 1000 ? null : rtt;
}

/** How starfail's collectors sample the world (defaults from docs/design.md). */
export interface CollectorOptions {
  /** Probe round interval (member `probe_interval_s`, default 2). */
  probe_interval_s: number;
  /** Targets per round, one ping each (default probe_target list: 2). */
  targets: number;
  /** Probe timeout in seconds. */
  probe_timeout_s: number;
  /** Dish status poll (starlink.poll_interval_ms 1000). */
  dish_interval_s: number;
  /** Radio (cellular/Wi-Fi) poll interval. */
  radio_interval_s: number;
  /** netifd link state re-report interval (changes are reported at once). */
  link_interval_s: number;
  /**
   * How far the router's clock is off, seconds (positive: ahead). Probe
   * rounds carry `sent_unix_s` = {@linkcode WORLD_EPOCH_UNIX_S} + send time
   * + this; the world's reconfiguration windows follow the true time.
   */
  clock_skew_s?: number;
  /**
   * Starlink rounds due inside a reconfiguration window (by the router's
   * clock) wait for the daemon's next prober run, `probe_tick_s` later, as
   * the daemon does with `reconfig_guard` on. Default true.
   */
  avoid_reconfig?: boolean;
  /** How often the daemon runs each member's prober, seconds (its source interval: 1). */
  probe_tick_s?: number;
}

/** Unix time of a world's second 0 (a minute boundary: 2025-11-25 00:00:00 UTC). */
export const WORLD_EPOCH_UNIX_S = 1_764_028_800;

/** Collector defaults used by the benchmark. */
export const DEFAULT_COLLECTORS: CollectorOptions = {
  probe_interval_s: 2,
  targets: 2,
  probe_timeout_s: 2,
  dish_interval_s: 1,
  radio_interval_s: 5,
  link_interval_s: 5,
};

/**
 * Produces the trace starfail's collectors would record in `world`: probe
 * rounds, dish status, radio readings and link state, sorted by time.
 */
export function worldToTrace(
  world: World,
  seed: number,
  opts: CollectorOptions = DEFAULT_COLLECTORS,
): Trace {
  const r = rng(seed ^ 0x5eed);
  const obs: Observation[] = [];
  for (const [k, m] of world.members.entries()) {
    const name = m.spec.name;
    const phase = (k * 0.37) % 1;
    const dodge = m.spec.class === "starlink" && opts.avoid_reconfig !== false;
    for (let t = phase; t < world.duration_s; t += opts.probe_interval_s) {
      while (dodge && inReconfigWindow(WORLD_EPOCH_UNIX_S + t + (opts.clock_skew_s ?? 0))) {
        t += opts.probe_tick_s ?? 1;
      }
      if (t >= world.duration_s) break;
      const rtts: number[] = [];
      for (let j = 0; j < opts.targets; j++) {
        const v = ping(m, t + j * 0.01, opts.probe_timeout_s, r);
        if (v !== null) rtts.push(v);
      }
      const o: Observation = {
        t: round3(t + opts.probe_timeout_s * (rtts.length < opts.targets ? 1 : 0) + 0.001),
        member: name,
        loss_pct: round3((100 * (opts.targets - rtts.length)) / opts.targets),
        sent_unix_s: round3(WORLD_EPOCH_UNIX_S + t + (opts.clock_skew_s ?? 0)),
      };
      if (rtts.length > 0) o.latency_ms = round3(rtts.reduce((a, b) => a + b, 0) / rtts.length);
      if (rtts.length > 1) o.jitter_ms = round3(Math.abs(rtts[0] - rtts[1]));
      obs.push(o);
    }
    let lastLink = -1;
    for (let i = 0; i < world.duration_s; i++) {
      if (m.link[i] !== lastLink || i % opts.link_interval_s === 0) {
        obs.push({ t: i + 0.05, member: name, link_up: m.link[i] === 1 });
        lastLink = m.link[i];
      }
      if (m.spec.class === "starlink" && i % opts.dish_interval_s === 0 && m.dishUp[i] === 1) {
        const o: Observation = {
          t: i + 0.2,
          member: name,
          obstruction_pct: m.obstruction[i],
          currently_obstructed: m.obstructedNow[i] === 1,
          seconds_to_first_nonempty_slot: m.slot[i],
          swupdate_reboot_ready: m.swupdate[i] === 1,
          ...(m.rebootIn[i] >= 0 ? { swupdate_reboot_in_s: m.rebootIn[i] } : {}),
          alerts: m.alerts[i] === 1
            ? ["thermal_throttle"]
            : m.alerts[i] === 2
            ? ["thermal_shutdown"]
            : [],
        };
        if (m.outage[i] !== 0) o.outage_cause = OUTAGE_CAUSES[m.outage[i]];
        obs.push(o);
      }
      if (i % opts.radio_interval_s === 0) {
        if (m.spec.class === "cellular") {
          obs.push({
            t: i + 0.3,
            member: name,
            rsrp_dbm: round3(m.rsrp[i]),
            sinr_db: round3(m.sinr[i]),
            roaming: m.roaming[i] === 1,
          });
        } else if (m.spec.class === "wifi" && m.link[i] === 1) {
          obs.push({
            t: i + 0.3,
            member: name,
            signal_dbm: round3(m.signal[i]),
            noise_dbm: m.noise[i],
          });
        }
      }
    }
  }
  obs.sort((a, b) => a.t - b.t);
  return { members: world.members.map((m) => m.spec), observations: obs };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
