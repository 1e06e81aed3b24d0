/**
 * Benchmark metrics of a primary timeline against a world's ground truth:
 * impact seconds, degraded seconds, switches, detection and failback delays.
 *
 * @module
 */

import type { PrimaryTimeline } from "./baselines.ts";
import { degradedAt, usableAt, type World } from "./scenarios.ts";

/** Metrics of one system on one world. */
export interface RunMetrics {
  /** Seconds the primary was unusable (or none) while another member was usable. */
  impact_s: number;
  /** Seconds the primary was usable but degraded while another member was usable and not degraded. */
  degraded_s: number;
  /** Changes of primary after the first choice. */
  switches: number;
  /** Seconds the primary was a metered member while an unmetered member was usable. */
  metered_s: number;
  /**
   * Seconds the primary was a metered member while the preferred member (the
   * first in order, e.g. Starlink) was usable: money spent for nothing.
   */
  metered_fine_s: number;
  /** Per failure episode of the primary: seconds until it was left (episode length if never). */
  detection_s: number[];
  /** Episodes that ended before the system left the failed primary. */
  missed: number;
  /**
   * Detection delays of episodes the dish reported (outage cause present):
   * until the system left the member or, when {@linkcode MetricsOptions.downs}
   * is given, marked it down, whichever came first.
   */
  dish_detection_s: number[];
  /** Per recovery of the preferred member: seconds until it was primary again. */
  failback_s: number[];
  /** Recoveries after which the preferred member was never made primary before failing again or the end. */
  failback_censored: number;
}

/** Samples per second for time integrals (step 0.1 s, computed as k / 10 to avoid drift). */
export const SAMPLES_PER_S = 10;
const SAMPLE_DT = 1 / SAMPLES_PER_S;

/** Start-up seconds not scored (every system needs its first probe results). */
export const SCORE_FROM_S = 5;

/** Cursor over a primary timeline for increasing times. */
class Cursor {
  #i = 0;
  #v: string | null = null;
  constructor(private readonly tl: PrimaryTimeline) {}
  at(t: number): string | null {
    while (this.#i < this.tl.length && this.tl[this.#i][0] <= t) this.#v = this.tl[this.#i++][1];
    return this.#v;
  }
}

/** Options of {@linkcode computeMetrics}. */
export interface MetricsOptions {
  /**
   * Per member, the times the system marked it down (starfail's `down`
   * transitions). A system that can notice an outage without leaving (a
   * deliberate ride-through) is credited with detection at that time.
   */
  downs?: Map<string, number[]>;
}

/** Computes {@linkcode RunMetrics} of `timeline` on `world`. */
export function computeMetrics(
  world: World,
  timeline: PrimaryTimeline,
  opts: MetricsOptions = {},
): RunMetrics {
  const byName = new Map(world.members.map((m) => [m.spec.name, m]));
  const n = world.duration_s;
  let impact = 0;
  let degraded = 0;
  let metered = 0;
  let meteredFine = 0;
  const pref0 = world.members[0];
  const cur = new Cursor(timeline);
  for (let k = SCORE_FROM_S * SAMPLES_PER_S; k < n * SAMPLES_PER_S; k++) {
    const t = k / SAMPLES_PER_S;
    const i = Math.floor(t);
    const p = cur.at(t);
    const pm = p === null ? undefined : byName.get(p);
    const pUsable = pm !== undefined && usableAt(pm, i);
    if (pm?.spec.metered === true) {
      if (world.members.some((m) => m.spec.metered !== true && usableAt(m, i))) {
        metered += SAMPLE_DT;
      }
      if (pm !== pref0 && usableAt(pref0, i)) meteredFine += SAMPLE_DT;
    }
    if (!pUsable) {
      if (world.members.some((m) => m !== pm && usableAt(m, i))) impact += SAMPLE_DT;
    } else if (degradedAt(pm, i)) {
      if (world.members.some((m) => m !== pm && usableAt(m, i) && !degradedAt(m, i))) {
        degraded += SAMPLE_DT;
      }
    }
  }
  const switches = countSwitches(timeline);

  // Failure episodes: maximal unusable runs of each member.
  const detection: number[] = [];
  const dishDetection: number[] = [];
  let missed = 0;
  for (const m of world.members) {
    let i = SCORE_FROM_S;
    while (i < n) {
      if (usableAt(m, i)) {
        i++;
        continue;
      }
      const start = i;
      while (i < n && !usableAt(m, i)) i++;
      const end = i;
      const pAtStart = new Cursor(timeline).at(start + 0.001);
      if (pAtStart !== m.spec.name) continue;
      if (!world.members.some((x) => x !== m && usableAt(x, start))) continue;
      const c = new Cursor(timeline);
      let left: number | null = null;
      for (let k = start * SAMPLES_PER_S; k < end * SAMPLES_PER_S; k++) {
        const t = k / SAMPLES_PER_S;
        if (c.at(t) !== m.spec.name) {
          left = t;
          break;
        }
      }
      const delay = (left ?? end) - start;
      detection.push(round1(delay));
      if (left === null) missed++;
      if (m.outage[start] !== 0) {
        const down = opts.downs?.get(m.spec.name)?.find((t) => t >= start && t < end);
        dishDetection.push(round1(down === undefined ? delay : Math.min(delay, down - start)));
      }
    }
  }

  // Failback: the preferred member (first in order) becomes usable again while not primary.
  const pref = world.members[0];
  const failback: number[] = [];
  let censored = 0;
  {
    let i = SCORE_FROM_S;
    while (i < n) {
      if (!(usableAt(pref, i) && !usableAt(pref, i - 1))) {
        i++;
        continue;
      }
      const start = i;
      let j = i;
      while (j < n && usableAt(pref, j)) j++;
      const c = new Cursor(timeline);
      if (c.at(start) !== pref.spec.name) {
        let back: number | null = null;
        for (let k = start * SAMPLES_PER_S; k < j * SAMPLES_PER_S; k++) {
          const t = k / SAMPLES_PER_S;
          if (c.at(t) === pref.spec.name) {
            back = t;
            break;
          }
        }
        if (back === null) censored++;
        else failback.push(round1(back - start));
      }
      i = j;
    }
  }
  return {
    impact_s: round1(impact),
    degraded_s: round1(degraded),
    switches,
    metered_s: round1(metered),
    metered_fine_s: round1(meteredFine),
    detection_s: detection,
    missed,
    dish_detection_s: dishDetection,
    failback_s: failback,
    failback_censored: censored,
  };
}

/** Weights of {@linkcode cost}: seconds of impact per switch and per metered-while-fine second. */
export const COST_WEIGHTS = Object.freeze({ switch_s: 3, metered_fine_per_s: 0.02 });

/**
 * What a run cost its users, in seconds of impact: impact seconds + 3 s per
 * switch (flows reset or stuck, calls re-established) + 0.02 per second on a
 * metered backup while the preferred member was fine (money).
 *
 * @example
 * ```ts
 * cost({ impact_s: 10, switches: 2, metered_fine_s: 500 }); // 10 + 6 + 10 = 26
 * ```
 */
export function cost(m: Pick<RunMetrics, "impact_s" | "switches" | "metered_fine_s">): number {
  return m.impact_s + COST_WEIGHTS.switch_s * m.switches +
    COST_WEIGHTS.metered_fine_per_s * m.metered_fine_s;
}

/** The q-quantile (0–1) of `values` (nearest rank), or null when empty. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[k];
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Changes of primary after the initial choice, from {@linkcode SCORE_FROM_S} on. */
export function countSwitches(timeline: PrimaryTimeline): number {
  return timeline.filter(([t], k) => k > 0 && t >= SCORE_FROM_S).length;
}

/**
 * The switches of `a` beyond those it shares with `b`: the number of
 * switches (changes after the first entry) minus the length of the longest
 * common subsequence of the two runs' switches, two switches being the same
 * when they go between the same members. A switch the difference between the
 * worlds added shows up here; the same switch made a little earlier or later
 * does not.
 *
 * @example
 * ```ts
 * addedSwitches([[0, "sl"], [50, "cell"], [90, "sl"]], [[0, "sl"]]); // 2
 * ```
 */
export function addedSwitches(a: PrimaryTimeline, b: PrimaryTimeline): number {
  const key = (tl: PrimaryTimeline) => tl.slice(1).map((e, i) => `${tl[i][1]}→${e[1]}`);
  const x = key(a);
  const y = key(b);
  let prev = new Array<number>(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    const row = new Array<number>(y.length + 1).fill(0);
    for (let j = 1; j <= y.length; j++) {
      row[j] = x[i - 1] === y[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1]);
    }
    prev = row;
  }
  return x.length - prev[y.length];
}
