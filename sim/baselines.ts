/**
 * Baselines for the benchmark, implemented from the references
 * (shared/reference/failover-anchors.md §A1, §A2; upstream-starfail.md §4–6)
 * and run on the same worlds as starfail. They see only what their real
 * counterparts see: their own probe results (and, for the legacy script, the
 * dish's ping statistics; for mwan3, netifd ifup/ifdown).
 *
 * Each baseline yields, per member, the times its "online" verdict changes;
 * the primary at any time is the first online member in preference order
 * (mwan3's lowest metric / pfSense's lowest tier).
 *
 * @module
 */

import { type MemberWorld, ping, rng, type World } from "./scenarios.ts";

/** A piecewise-constant on/off timeline: `[t, online]` change points, sorted. */
export type OnlineTimeline = [number, boolean][];

/** A primary timeline: `[t, primary]` change points (null = no member online). */
export type PrimaryTimeline = [number, string | null][];

/** mwan3track options (defaults from mwan3 2.12.2). */
export interface Mwan3Options {
  /** Seconds between rounds while online. */
  interval: number;
  /** `ping -W` timeout per target, seconds. */
  timeout: number;
  /** Consecutive failed rounds to go offline. */
  down: number;
  /** Consecutive passed rounds to come back. */
  up: number;
  /** Track targets (the shipped `wan` has four). */
  targets: number;
  /** Targets that must answer for a round to pass (shipped `wan`: 2). */
  reliability: number;
}

/** mwan3 with its defaults and the shipped 4-target, reliability-2 tracking. */
export const MWAN3_DEFAULTS: Mwan3Options = {
  interval: 10,
  timeout: 4,
  down: 5,
  up: 5,
  targets: 4,
  reliability: 2,
};

/** mwan3 tuned as commonly recommended for Starlink: interval 1 s, timeout 1 s, down 2, up 3. */
export const MWAN3_TUNED: Mwan3Options = {
  ...MWAN3_DEFAULTS,
  interval: 1,
  timeout: 1,
  down: 2,
  up: 3,
};

function linkChanges(m: MemberWorld): [number, boolean][] {
  const out: [number, boolean][] = [];
  let last = 1;
  for (let i = 0; i < m.link.length; i++) {
    if (m.link[i] !== last) {
      out.push([i, m.link[i] === 1]);
      last = m.link[i];
    }
  }
  return out;
}

/**
 * Simulates one mwan3track over member `m`: rounds of sequential pings
 * (each failed target costs `timeout`), the score logic of mwan3track
 * (score starts at down+up; online→offline after `down` consecutive failed
 * rounds; offline→online after `up` consecutive passed rounds; a passed round
 * while "disconnecting" snaps back), and netifd ifdown/ifup, which act at
 * once (hotplug), with the tracker restarting online (initial_state online).
 */
export function simulateMwan3(
  m: MemberWorld,
  duration: number,
  o: Mwan3Options,
  seed: number,
): OnlineTimeline {
  const r = rng(seed);
  const out: OnlineTimeline = [[0, true]];
  let online = true;
  let score = o.down + o.up;
  const links = linkChanges(m);
  let li = 0;
  let t = r() * o.interval;
  const set = (at: number, v: boolean) => {
    if (v !== online) {
      out.push([at, v]);
      online = v;
    }
  };
  while (t < duration) {
    // netifd events between rounds take effect at once.
    if (li < links.length && links[li][0] <= t) {
      const [at, up] = links[li++];
      if (!up) {
        set(at, false);
        const next = links[li];
        const back = next !== undefined ? next[0] : duration;
        if (next !== undefined) li++;
        set(back, true);
        score = o.down + o.up;
        t = back + r() * 0.5;
        continue;
      }
    }
    let ok = 0;
    let cost = 0;
    for (let k = 0; k < o.targets && ok < o.reliability; k++) {
      const rtt = ping(m, t + cost, o.timeout, r);
      if (rtt === null) cost += o.timeout;
      else {
        ok++;
        cost += rtt / 1000;
      }
    }
    const end = t + cost;
    if (ok < o.reliability) {
      score--;
      if (score < o.up) score = 0;
      if (score === o.up) {
        set(end, false);
        score = 0;
      }
    } else {
      score++;
      if (score > o.up) score = o.down + o.up;
      if (score === o.up) {
        set(end, true);
        score = o.down + o.up;
      }
    }
    t = end + o.interval;
  }
  return out;
}

/** pfSense dpinger defaults (`return_dpinger_defaults`). */
export const DPINGER_DEFAULTS = Object.freeze({
  send_interval_s: 0.5,
  loss_interval_s: 2,
  time_period_s: 60,
  alert_interval_s: 1,
  latency_high_ms: 500,
  loss_high_pct: 20,
  hold_s: 10,
});

/**
 * Simulates dpinger + pfSense's default "member down" trigger: a probe every
 * 0.5 s, lost if unanswered within 2 s; every second the alarm is set when
 * the 60 s average latency > 500 ms or loss > 20 % (gateway "down"), and
 * cleared once neither holds for the 10 s hold.
 */
export function simulateDpinger(m: MemberWorld, duration: number, seed: number): OnlineTimeline {
  const d = DPINGER_DEFAULTS;
  const r = rng(seed);
  const n = Math.floor(duration / d.send_interval_s);
  const sent = new Float64Array(n);
  const rtts = new Float64Array(n); // NaN = lost
  for (let k = 0; k < n; k++) {
    sent[k] = k * d.send_interval_s;
    const v = ping(m, sent[k], d.loss_interval_s, r);
    rtts[k] = v === null ? NaN : v;
  }
  const out: OnlineTimeline = [[0, true]];
  let alarm = false;
  let clearSince: number | null = null;
  let lo = 0;
  let hi = 0;
  let lost = 0, got = 0, sum = 0;
  // Window of probes whose fate is known at T: sent in [T − period, T − loss_interval],
  // plus answered ones sent later (their reply arrived). Answered-later probes are
  // a small correction; dpinger counts a probe once its reply or its loss interval is in.
  for (let T = d.alert_interval_s; T < duration; T += d.alert_interval_s) {
    while (hi < n && sent[hi] <= T - d.loss_interval_s) {
      if (Number.isNaN(rtts[hi])) lost++;
      else {
        got++;
        sum += rtts[hi];
      }
      hi++;
    }
    while (lo < hi && sent[lo] < T - d.time_period_s) {
      if (Number.isNaN(rtts[lo])) lost--;
      else {
        got--;
        sum -= rtts[lo];
      }
      lo++;
    }
    const total = lost + got;
    const lossPct = total > 0 ? (100 * lost) / total : 0;
    const avg = got > 0 ? sum / got : 0;
    const bad = avg > d.latency_high_ms || lossPct > d.loss_high_pct;
    if (bad) {
      clearSince = null;
      if (!alarm) {
        alarm = true;
        out.push([T, false]);
      }
    } else if (alarm) {
      clearSince = clearSince ?? T;
      if (T - clearSince >= d.hold_s) {
        alarm = false;
        out.push([T, true]);
      }
    }
  }
  return out;
}

/** The legacy shell's thresholds and cadence (cron every minute, 5 stability checks). */
export const LEGACY_DEFAULTS = Object.freeze({
  check_interval_s: 60,
  loss_pct: 5,
  obstruction_pct: 3,
  latency_ms: 150,
  stability_checks: 5,
});

/**
 * Simulates the legacy `starlink_monitor_unified-rutos.sh` run from cron
 * every minute: it reads the dish's pop ping drop rate and latency (here:
 * the dish's own pings over the last second) and fraction obstructed; above
 * any threshold it demotes Starlink's mwan3 metric at once; after 5
 * consecutive good checks it promotes it again. Returns Starlink's
 * "preferred" timeline (false = demoted below the backups).
 */
export function simulateLegacy(m: MemberWorld, duration: number, seed: number): OnlineTimeline {
  const L = LEGACY_DEFAULTS;
  const r = rng(seed);
  const out: OnlineTimeline = [[0, true]];
  let good = true;
  let stable = 0;
  for (let t = r() * L.check_interval_s; t < duration; t += L.check_interval_s) {
    const i = Math.min(m.rtt.length - 1, Math.floor(t));
    if (m.dishUp[i] === 0) continue; // grpcurl fails: the script changes nothing
    let lostN = 0;
    let rttSum = 0;
    let rttN = 0;
    for (let k = 0; k < 10; k++) {
      const v = ping(m, t - 1 + k * 0.1, 2, r);
      if (v === null) lostN++;
      else {
        rttSum += v;
        rttN++;
      }
    }
    const drop = (100 * lostN) / 10;
    const lat = rttN > 0 ? rttSum / rttN : Infinity;
    const bad = drop > L.loss_pct || m.obstruction[i] > L.obstruction_pct || lat > L.latency_ms;
    if (bad) {
      stable = 0;
      if (good) {
        good = false;
        out.push([t, false]);
      }
    } else if (!good) {
      stable++;
      if (stable >= L.stability_checks) {
        good = true;
        stable = 0;
        out.push([t, true]);
      }
    }
  }
  return out;
}

/** Value of an on/off timeline at `t`. */
export function valueAt(tl: OnlineTimeline, t: number): boolean {
  let v = tl[0][1];
  for (const [at, x] of tl) {
    if (at > t) break;
    v = x;
  }
  return v;
}

/**
 * Combines per-member online timelines into the primary timeline: at every
 * change point the primary is the first online member in `order`.
 */
export function combinePrimary(
  order: string[],
  online: Map<string, OnlineTimeline>,
): PrimaryTimeline {
  const times = new Set<number>();
  for (const tl of online.values()) for (const [t] of tl) times.add(t);
  const sorted = [...times].sort((a, b) => a - b);
  const idx = new Map<string, number>();
  const cur = new Map<string, boolean>();
  for (const name of order) {
    idx.set(name, 0);
    cur.set(name, true);
  }
  const out: PrimaryTimeline = [];
  let last: string | null | undefined = undefined;
  for (const t of sorted) {
    for (const name of order) {
      const tl = online.get(name)!;
      let i = idx.get(name)!;
      while (i < tl.length && tl[i][0] <= t) cur.set(name, tl[i++][1]);
      idx.set(name, i);
    }
    const p = order.find((n) => cur.get(n)) ?? null;
    if (p !== last) {
      out.push([t, p]);
      last = p;
    }
  }
  return out;
}

/** A named baseline producing a primary timeline for a world. */
export interface Baseline {
  /** Name shown in the report. */
  name: string;
  /** Runs the baseline. */
  run: (w: World, seed: number) => PrimaryTimeline;
}

function mwan3Baseline(name: string, o: Mwan3Options): Baseline {
  return {
    name,
    run: (w, seed) => {
      const online = new Map<string, OnlineTimeline>();
      w.members.forEach((m, k) =>
        online.set(m.spec.name, simulateMwan3(m, w.duration_s, o, seed + 101 * k))
      );
      return combinePrimary(w.members.map((m) => m.spec.name), online);
    },
  };
}

/** The baselines of the benchmark. */
export const BASELINES: Baseline[] = [
  mwan3Baseline("mwan3 defaults", MWAN3_DEFAULTS),
  mwan3Baseline("mwan3 tuned", MWAN3_TUNED),
  {
    name: "pfSense dpinger",
    run: (w, seed) => {
      const online = new Map<string, OnlineTimeline>();
      w.members.forEach((m, k) =>
        online.set(m.spec.name, simulateDpinger(m, w.duration_s, seed + 211 * k))
      );
      return combinePrimary(w.members.map((m) => m.spec.name), online);
    },
  },
  {
    name: "legacy shell",
    run: (w, seed) => {
      // The legacy script runs beside mwan3 (defaults): a demoted Starlink moves
      // behind the backups; mwan3 still takes offline members out.
      const online = new Map<string, OnlineTimeline>();
      w.members.forEach((m, k) =>
        online.set(m.spec.name, simulateMwan3(m, w.duration_s, MWAN3_DEFAULTS, seed + 101 * k))
      );
      const sl = w.members.find((m) => m.spec.class === "starlink");
      if (sl === undefined) return combinePrimary(w.members.map((m) => m.spec.name), online);
      const pref = simulateLegacy(sl, w.duration_s, seed + 307);
      const names = w.members.map((m) => m.spec.name);
      const demoted = [...names.filter((n) => n !== sl.spec.name), sl.spec.name];
      // Primary = first online member in the order that applies at the time.
      const preferred = combinePrimary(names, online);
      const fallback = combinePrimary(demoted, online);
      const times = [...new Set([...preferred, ...fallback, ...pref].map(([t]) => t))].sort((
        a,
        b,
      ) => a - b);
      const out: PrimaryTimeline = [];
      let last: string | null | undefined = undefined;
      for (const t of times) {
        const p = valueAt(pref, t) ? primaryAt(preferred, t) : primaryAt(fallback, t);
        if (p !== last) {
          out.push([t, p]);
          last = p;
        }
      }
      return out;
    },
  },
];

/** Primary of a timeline at `t` (null before the first point). */
export function primaryAt(tl: PrimaryTimeline, t: number): string | null {
  let v: string | null = null;
  for (const [at, p] of tl) {
    if (at > t) break;
    v = p;
  }
  return v;
}
