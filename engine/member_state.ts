/**
 * The member state machine: `up → degraded → down → recovering → up`
 * (plus `unknown` before the first measurement). One pure step per tick; every
 * transition carries a reason.
 *
 * - Hard signals fail at once: link down, a dish outage present, all of the
 *   last `hard_fail_probes` probe rounds lost, or no fresh probe result at all.
 * - Soft failure (recent loss ≥ `fail_loss_pct` or latency ≥ `fail_latency_ms`)
 *   makes a member `degraded`; if it is not back within the restore thresholds
 *   for `fail_min_duration_s` and the loss or latency averaged over that window
 *   still breaches the fail threshold, it is `down`. Loss of a Starlink round
 *   sent in a reconfiguration window is not soft loss (`reconfig_guard`).
 * - A down member whose probes pass the restore thresholds is `recovering`;
 *   held for `restore_min_duration_s` it is `up` again.
 *
 * @module
 */

import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "./config.ts";
import { countsAsSoftLoss, freshBool, freshNumber, freshString, recentLoss } from "./fields.ts";
import type { EngineEvent, MemberRuntime } from "./state.ts";

/** The health facts of one member at one tick, derived from its fresh fields. */
export interface HealthCheck {
  /** Reason for an immediate failure, or null. */
  hard: string | null;
  /** No probe result was ever received. */
  noData: boolean;
  /** Reason the soft failure thresholds are breached, or null. */
  breach: string | null;
  /** Whether the restore thresholds are met. */
  restorePass: boolean;
  /** Why the restore thresholds are not met (empty when they are). */
  restoreFail: string;
}

/** Evaluates the hard, soft and restore conditions of `m` at `now`. */
export function checkHealth(m: MemberRuntime, now: number, cfg: EngineConfig): HealthCheck {
  const stale = cfg.stale_after_s;
  const latency = freshNumber(m, "latency_ms", now, stale);
  const loss = recentLoss(m, now, cfg);
  const everProbed = m.fields.latency_ms !== undefined || m.fields.loss_pct !== undefined;
  let hard: string | null = null;
  if (freshBool(m, "link_up", now, stale) === false) hard = "link down";
  const outage = freshString(m, "outage_cause", now, stale);
  if (hard === null && outage !== undefined) hard = `dish reports outage ${outage}`;
  const n = cfg.hard_fail_probes;
  if (
    hard === null && m.probes.length >= n &&
    m.probes.slice(-n).every((p) => p.loss_pct >= 100 && now - p.t <= stale)
  ) {
    hard = `all of the last ${n} probe rounds lost`;
  }
  if (hard === null && everProbed && latency === undefined && loss === undefined) {
    hard = `no probe result for more than ${cfg.stale_after_s} s`;
  }
  let breach: string | null = null;
  if (loss !== undefined && loss >= cfg.fail_loss_pct) {
    breach = `loss ${fmt(loss)}% ≥ ${cfg.fail_loss_pct}%`;
  } else if (latency !== undefined && latency >= cfg.fail_latency_ms) {
    breach = `latency ${fmt(latency)} ms ≥ ${cfg.fail_latency_ms} ms`;
  }
  let restoreFail = "";
  if (hard !== null) restoreFail = hard;
  else if (loss === undefined) restoreFail = "no recent loss measurement";
  else if (latency === undefined) restoreFail = "no recent latency measurement";
  else if (loss > cfg.restore_loss_pct) {
    restoreFail = `loss ${fmt(loss)}% > ${cfg.restore_loss_pct}%`;
  } else if (latency > cfg.restore_latency_ms) {
    restoreFail = `latency ${fmt(latency)} ms > ${cfg.restore_latency_ms} ms`;
  }
  return { hard, noData: !everProbed, breach, restorePass: restoreFail === "", restoreFail };
}

/**
 * Whether the soft failure is sustained over the last `fail_min_duration_s`:
 * mean loss of the probe rounds in that window that count as soft loss
 * ≥ `fail_loss_pct`, or mean
 * latency of the ticks in that window ≥ `fail_latency_ms`. Averaging over the
 * window keeps a noisy loss estimate (a few pings per round) from resetting
 * the hold every time one round happens to get through. Returns the reason,
 * or null.
 */
export function sustainedBreach(m: MemberRuntime, now: number, cfg: EngineConfig): string | null {
  const win = Math.max(cfg.fail_min_duration_s, 1e-9);
  let lossSum = 0, lossN = 0;
  for (const p of m.probes) {
    if (now - p.t <= win && countsAsSoftLoss(p, cfg)) {
      lossSum += p.loss_pct;
      lossN++;
    }
  }
  if (lossN > 0 && lossSum / lossN >= cfg.fail_loss_pct) {
    return `loss ${fmt(lossSum / lossN)}% over the last ${fmt(win)} s ≥ ${cfg.fail_loss_pct}%`;
  }
  let latSum = 0, latN = 0;
  for (const p of m.trend) {
    if (now - p.t <= win && p.latency_ms !== undefined) {
      latSum += p.latency_ms;
      latN++;
    }
  }
  const latest = freshNumber(m, "latency_ms", now, cfg.stale_after_s);
  const latMean = latN > 0 ? latSum / latN : latest;
  if (latMean !== undefined && latMean >= cfg.fail_latency_ms) {
    return `latency ${fmt(latMean)} ms over the last ${fmt(win)} s ≥ ${cfg.fail_latency_ms} ms`;
  }
  return null;
}

/**
 * Advances `m`'s state machine to `now`. Returns the updated member (a new
 * object when anything changed) and the transition event, if any.
 */
export function stepMemberState(
  m: MemberRuntime,
  now: number,
  cfg: EngineConfig,
): { member: MemberRuntime; event: EngineEvent | null } {
  const h = checkHealth(m, now, cfg);
  let next = m.state;
  let reason = m.reason;
  let breachSince = m.breach_since;
  let restoreSince = m.restore_since;
  switch (m.state) {
    case "unknown":
      if (h.hard !== null) [next, reason] = ["down", h.hard];
      else if (h.noData) reason = "no measurement yet";
      else if (h.breach !== null) {
        [next, reason] = ["degraded", `first measurement: ${h.breach}`];
        breachSince = now;
      } else [next, reason] = ["up", "first measurement within thresholds"];
      break;
    case "up":
      if (h.hard !== null) [next, reason] = ["down", h.hard];
      else if (h.breach !== null) {
        [next, reason] = ["degraded", h.breach];
        breachSince = now;
      }
      break;
    case "degraded":
      if (h.hard !== null) [next, reason] = ["down", h.hard];
      else if (h.restorePass) {
        [next, reason] = ["up", "back within restore thresholds"];
        breachSince = null;
      } else {
        breachSince = breachSince ?? now;
        const held = now - breachSince;
        const sustained = held >= cfg.fail_min_duration_s ? sustainedBreach(m, now, cfg) : null;
        if (sustained !== null) {
          [next, reason] = ["down", `${sustained}; not restored for ${fmt(held)} s`];
        }
      }
      break;
    case "down":
      if (h.hard === null && h.breach === null && h.restorePass) {
        [next, reason] = ["recovering", "restore thresholds met"];
        restoreSince = now;
      } else if (h.hard !== null && h.hard !== reason && !reason.startsWith(h.hard)) {
        reason = h.hard;
      }
      break;
    case "recovering":
      if (h.hard !== null) [next, reason] = ["down", h.hard];
      else if (!h.restorePass) [next, reason] = ["down", `recovery interrupted: ${h.restoreFail}`];
      else if (fastRestore(m, now, cfg, restoreSince ?? now) !== null) {
        [next, reason] = ["up", fastRestore(m, now, cfg, restoreSince ?? now)!];
      } else if (now - (restoreSince ?? now) >= cfg.restore_min_duration_s) {
        [next, reason] = [
          "up",
          `restore thresholds held for ${fmt(now - (restoreSince ?? now))} s`,
        ];
      }
      break;
  }
  if (next !== "degraded") breachSince = next === "down" ? null : breachSince;
  if (next !== "recovering") restoreSince = null;
  const changed = next !== m.state;
  if (
    !changed && reason === m.reason && breachSince === m.breach_since &&
    restoreSince === m.restore_since
  ) {
    return { member: m, event: null };
  }
  const member: MemberRuntime = {
    ...m,
    state: next,
    reason,
    since: changed ? now : m.since,
    breach_since: breachSince,
    restore_since: restoreSince,
    usable_since: next === "down" || next === "unknown" ? null : (m.usable_since ?? now),
    last_down: next === "down" && changed ? now : m.last_down,
    down_from: next === "down" && changed ? m.state : (m.down_from ?? null),
    flap: next === "down" && changed ? flapAt(m, now, cfg) + 1 : m.flap,
    down_cause: next === "down" && changed ? downCause(m, now, cfg) : (m.down_cause ?? null),
    fast_until: next === "up" && changed && reason.startsWith("fast restore")
      ? now + cfg.restore_min_duration_s
      : next === "down"
      ? null
      : (m.fast_until ?? null),
  };
  const event: EngineEvent | null = changed
    ? { t: now, type: "member_state", member: m.spec.name, from: m.state, to: next, reason }
    : null;
  return { member, event };
}

/** Why `m` is going down at `now`, if the cause can be seen to end: "link" or the dish's outage cause. */
function downCause(m: MemberRuntime, now: number, cfg: EngineConfig): string | null {
  if (freshBool(m, "link_up", now, cfg.stale_after_s) === false) return "link";
  return freshString(m, "outage_cause", now, cfg.stale_after_s) ?? null;
}

/**
 * Fast restore of a `recovering` member whose outage is known to be over:
 * it went down from a dish outage lasting at most
 * `fast_failback_max_outage_s`, or from a link drop or a dish reboot
 * (BOOTING) of any length;
 * its link is not down; a Starlink member has a fresh dish status with no
 * outage and no satellite gap ahead (`seconds_to_first_nonempty_slot` 0 or
 * absent); and its probes have passed the restore thresholds for
 * `fast_restore_s`. Returns the reason, or null when it does not apply.
 */
export function fastRestore(
  m: MemberRuntime,
  now: number,
  cfg: EngineConfig,
  restoreSince: number,
): string | null {
  const maxOutage = cfg.fast_failback_max_outage_s ??
    DEFAULT_ENGINE_CONFIG.fast_failback_max_outage_s;
  const hold = cfg.fast_restore_s ?? DEFAULT_ENGINE_CONFIG.fast_restore_s;
  const cause = m.down_cause ?? null;
  if (maxOutage <= 0 || cause === null || m.last_down === null) return null;
  const outage = restoreSince - m.last_down;
  // A reboot or a cable put back is over for certain once the dish and link say so,
  // however long it took; other dish outages only when short.
  if (outage > maxOutage && cause !== "BOOTING" && cause !== "link") return null;
  if (now - restoreSince < hold) return null;
  const stale = cfg.stale_after_s;
  if (freshBool(m, "link_up", now, stale) === false) return null;
  if (m.spec.class === "starlink") {
    if (
      freshNumber(m, "obstruction_pct", now, stale) === undefined &&
      freshBool(m, "currently_obstructed", now, stale) === undefined
    ) return null;
    if (freshString(m, "outage_cause", now, stale) !== undefined) return null;
    const slot = freshNumber(m, "seconds_to_first_nonempty_slot", now, stale);
    if (slot !== undefined && slot > 0) return null;
    // The dish's own 1 Hz history: its latest second must not have dropped PoP pings either.
    const pop = freshNumber(m, "pop_drop_pct", now, stale);
    if (pop !== undefined && pop > 0) return null;
  }
  return `fast restore: ${cause === "link" ? "link" : `dish outage ${cause}`} over after ${
    fmt(outage)
  } s (${cause === "link" ? "link up" : "dish connected, no gap ahead"}), probes clean for ${
    fmt(now - restoreSince)
  } s`;
}

/**
 * The member's flap count at `now`: every down transition adds 1 and the sum
 * halves every `history_window_s` seconds (route-flap damping).
 */
export function flapAt(m: MemberRuntime, now: number, cfg: EngineConfig): number {
  if (m.last_down === null || m.flap === 0) return 0;
  const halfLife = Math.max(1, cfg.history_window_s);
  return m.flap * Math.pow(2, -(now - m.last_down) / halfLife);
}

/**
 * How long a member must have been continuously out of `down` before a
 * discretionary switch (failback included) may choose it:
 * `restore_min_duration_s × 2^(flap − 1)`, at least `restore_min_duration_s`,
 * at most `history_window_s`. A member that failed once needs the plain
 * restore time; one that keeps failing must prove itself for longer.
 */
export function stabilityHoldS(m: MemberRuntime, now: number, cfg: EngineConfig): number {
  const flap = flapAt(m, now, cfg);
  const hold = cfg.restore_min_duration_s * Math.pow(2, Math.max(0, flap - 1));
  const release = cfg.flap_release_s ?? DEFAULT_ENGINE_CONFIG.flap_release_s;
  return Math.min(
    Math.max(cfg.history_window_s, cfg.restore_min_duration_s),
    Math.max(release, cfg.restore_min_duration_s),
    hold,
  );
}

function fmt(v: number): string {
  return String(Math.round(v * 10) / 10);
}
