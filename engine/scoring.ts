/**
 * Scores 0–100 per member. Each metric has a linear penalty curve between an
 * "ok" value (sub-score 100) and a "bad" value (sub-score 0); the instant
 * score is 100 minus the weighted penalties; the final score blends instant,
 * EWMA and window average, scales by the member weight and subtracts the
 * metered and roaming penalties. {@linkcode explainScore} returns every term.
 *
 * @module
 */

import type { EngineConfig } from "./config.ts";
import { DEFAULT_ENGINE_CONFIG } from "./config.ts";
import { freshBool, freshNumber, recentLoss } from "./fields.ts";
import type { MemberRuntime } from "./state.ts";

/** One metric's contribution to the instant score. */
export interface ScoreTerm {
  /** Metric name (`latency`, `loss`, `jitter`, `obstruction`, `rsrp`, `sinr`, `wifi_snr`). */
  metric: string;
  /** Measured value, null when missing or stale. */
  value: number | null;
  /** Unit of the value. */
  unit: string;
  /** Value at or better than which the sub-score is 100. */
  ok: number;
  /** Value at or worse than which the sub-score is 0. */
  bad: number;
  /** Sub-score 0–100 (0 when a core metric is missing). */
  sub_score: number;
  /** Configured weight of the metric. */
  weight: number;
  /** Points subtracted from 100 (weight share × (100 − sub-score)). */
  penalty: number;
  /** Why the term looks the way it does (e.g. "missing: counts as bad"). */
  note: string;
}

/** Every term of one member's score. */
export interface ScoreExplanation {
  /** Member name. */
  member: string;
  /** Member class. */
  class: string;
  /** Per-metric terms. */
  terms: ScoreTerm[];
  /** 100 − Σ penalties. */
  instant: number;
  /** EWMA of instant scores (alpha = `ewma_alpha`). */
  ewma: number;
  /** Mean instant score over `history_window_s`. */
  window_avg: number;
  /** Number of samples in the window average. */
  window_samples: number;
  /** blend_instant·instant + blend_ewma·ewma + blend_window·window_avg. */
  blend: number;
  /** Blend shares used. */
  blend_weights: { instant: number; ewma: number; window: number };
  /** Member weight (class default when not configured), as a factor weight/100. */
  member_weight: number;
  /** Points subtracted because the member is metered. */
  metered_penalty: number;
  /** Points subtracted because the member roams and roaming is not preferred. */
  roaming_penalty: number;
  /** clamp(blend × weight/100 − penalties, 0, 100). */
  final: number;
}

/**
 * Linear sub-score: 100 at `ok` or better, 0 at `bad` or worse. Works both
 * when lower is better (`ok < bad`, e.g. latency) and when higher is better
 * (`ok > bad`, e.g. RSRP).
 *
 * @example
 * ```ts
 * subScore(775, 50, 1500); // 50
 * subScore(-105, -90, -120); // 50
 * ```
 */
export function subScore(value: number, ok: number, bad: number): number {
  if (ok === bad) return value <= ok ? 100 : 0;
  const frac = (value - ok) / (bad - ok);
  return 100 * (1 - Math.min(1, Math.max(0, frac)));
}

interface CurveSpec {
  metric: string;
  value: number | undefined;
  unit: string;
  ok: number;
  bad: number;
  weight: number;
  /** Core metrics count as fully bad when missing; auxiliary ones drop out. */
  core: boolean;
}

function curvesFor(m: MemberRuntime, now: number, cfg: EngineConfig): CurveSpec[] {
  const d = DEFAULT_ENGINE_CONFIG;
  const stale = cfg.stale_after_s;
  const curves: CurveSpec[] = [
    {
      metric: "latency",
      value: freshNumber(m, "latency_ms", now, stale),
      unit: "ms",
      ok: cfg.latency_ok_ms,
      bad: cfg.latency_bad_ms,
      weight: cfg.weight_latency,
      core: true,
    },
    {
      metric: "loss",
      value: recentLoss(m, now, cfg),
      unit: "%",
      ok: cfg.loss_ok_pct,
      bad: cfg.loss_bad_pct,
      weight: cfg.weight_loss,
      core: true,
    },
    {
      metric: "jitter",
      value: freshNumber(m, "jitter_ms", now, stale),
      unit: "ms",
      ok: cfg.jitter_ok_ms,
      bad: cfg.jitter_bad_ms,
      weight: cfg.weight_jitter,
      core: false,
    },
  ];
  const signalWeight = cfg.weight_signal ?? d.weight_signal;
  if (m.spec.class === "starlink") {
    curves.push({
      metric: "obstruction",
      value: freshNumber(m, "obstruction_pct", now, stale),
      unit: "%",
      ok: cfg.obstruction_ok_pct,
      bad: cfg.obstruction_bad_pct,
      weight: cfg.weight_obstruction,
      core: false,
    });
  } else if (m.spec.class === "cellular") {
    curves.push({
      metric: "rsrp",
      value: freshNumber(m, "rsrp_dbm", now, stale),
      unit: "dBm",
      ok: cfg.rsrp_ok_dbm ?? d.rsrp_ok_dbm,
      bad: cfg.rsrp_bad_dbm ?? d.rsrp_bad_dbm,
      weight: signalWeight / 2,
      core: false,
    }, {
      metric: "sinr",
      value: freshNumber(m, "sinr_db", now, stale),
      unit: "dB",
      ok: cfg.sinr_ok_db ?? d.sinr_ok_db,
      bad: cfg.sinr_bad_db ?? d.sinr_bad_db,
      weight: signalWeight / 2,
      core: false,
    });
  } else if (m.spec.class === "wifi") {
    const signal = freshNumber(m, "signal_dbm", now, stale);
    const noise = freshNumber(m, "noise_dbm", now, stale);
    curves.push({
      metric: "wifi_snr",
      value: signal !== undefined && noise !== undefined ? signal - noise : undefined,
      unit: "dB",
      ok: cfg.wifi_snr_ok_db ?? d.wifi_snr_ok_db,
      bad: cfg.wifi_snr_bad_db ?? d.wifi_snr_bad_db,
      weight: signalWeight,
      core: false,
    });
  }
  return curves;
}

/**
 * The instant-score terms of member `m` at `now`. Weights are shares: each
 * present term subtracts `weight / Σweights × (100 − sub_score)`. A missing
 * core metric (latency, loss) counts as fully bad; a missing auxiliary metric
 * (jitter, obstruction, signal) drops out and its weight is shared by the rest.
 */
export function scoreTerms(m: MemberRuntime, now: number, cfg: EngineConfig): ScoreTerm[] {
  const curves = curvesFor(m, now, cfg);
  const counted = curves.filter((c) => c.core || c.value !== undefined);
  const total = counted.reduce((s, c) => s + c.weight, 0);
  return curves.map((c) => {
    const present = c.value !== undefined;
    const inScore = c.core || present;
    const sub = present ? subScore(c.value as number, c.ok, c.bad) : 0;
    const penalty = inScore && total > 0 ? (c.weight / total) * (100 - sub) : 0;
    return {
      metric: c.metric,
      value: present ? (c.value as number) : null,
      unit: c.unit,
      ok: c.ok,
      bad: c.bad,
      sub_score: round2(sub),
      weight: c.weight,
      penalty: round2(penalty),
      note: present
        ? (c.metric === "loss" ? "mean of the recent probe rounds" : "")
        : c.core
        ? "missing or stale: counts as bad"
        : "not reported: left out, weight shared by the other terms",
    };
  });
}

/** Instant score 0–100 from terms: 100 − Σ penalties. */
export function instantFromTerms(terms: ScoreTerm[]): number {
  const pen = terms.reduce((s, t) => s + t.penalty, 0);
  return clamp(100 - pen, 0, 100);
}

/** Penalties from the member's spec and current roaming flag. */
export function memberPenalties(
  m: MemberRuntime,
  now: number,
  cfg: EngineConfig,
): { metered: number; roaming: number } {
  const metered = m.spec.metered ? cfg.metered_penalty : 0;
  const roams = freshBool(m, "roaming", now, cfg.stale_after_s) === true;
  const roaming = roams && !m.spec.prefer_roaming ? cfg.roaming_penalty : 0;
  return { metered, roaming };
}

/** Final score from the blended score, member weight and penalties. */
export function finalScore(
  blend: number,
  weight: number,
  penalties: { metered: number; roaming: number },
): number {
  return clamp(blend * (weight / 100) - penalties.metered - penalties.roaming, 0, 100);
}

/** Blend of instant, EWMA and window average with the configured shares. */
export function blendScore(
  instant: number,
  ewma: number,
  windowAvg: number,
  cfg: EngineConfig,
): number {
  return cfg.blend_instant * instant + cfg.blend_ewma * ewma + cfg.blend_window * windowAvg;
}

/** Mean of the window samples newer than `now − history_window_s` (instant when empty). */
export function windowAverage(
  m: MemberRuntime,
  now: number,
  cfg: EngineConfig,
): { avg: number; n: number } {
  let sum = 0;
  let n = 0;
  for (const w of m.window) {
    if (now - w.t < cfg.history_window_s) {
      sum += w.score;
      n++;
    }
  }
  return n === 0 ? { avg: m.instant ?? 0, n: 0 } : { avg: sum / n, n };
}

/**
 * Every term of member `m`'s score as of the last tick: per-metric terms,
 * EWMA, window average, blend, member weight, penalties and the final score.
 */
export function explainScore(m: MemberRuntime, now: number, cfg: EngineConfig): ScoreExplanation {
  const terms = scoreTerms(m, now, cfg);
  const instant = instantFromTerms(terms);
  const ewma = m.ewma ?? instant;
  const w = windowAverage(m, now, cfg);
  const blend = blendScore(instant, ewma, w.avg, cfg);
  const pen = memberPenalties(m, now, cfg);
  return {
    member: m.spec.name,
    class: m.spec.class,
    terms,
    instant: round2(instant),
    ewma: round2(ewma),
    window_avg: round2(w.avg),
    window_samples: w.n,
    blend: round2(blend),
    blend_weights: { instant: cfg.blend_instant, ewma: cfg.blend_ewma, window: cfg.blend_window },
    member_weight: m.spec.weight / 100,
    metered_penalty: pen.metered,
    roaming_penalty: pen.roaming,
    final: round2(finalScore(blend, m.spec.weight, pen)),
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
