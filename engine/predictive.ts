/**
 * Predictive rules: signals from the dish and the radios that an uplink is
 * about to fail. Each rule has a name, a condition and a rate limit
 * (`5 × fail_min_duration_s`, at least 30 s, per rule and member). While a
 * rule's condition holds the member is "at risk": it is never chosen by a
 * discretionary switch or a failback; when the primary is at risk and the
 * rule is not rate-limited, the engine leaves it for a healthy member.
 *
 * @module
 */

import type { EngineConfig } from "./config.ts";
import { freshBool, freshList, freshNumber, freshString } from "./fields.ts";
import type { MemberRuntime, TrendPoint } from "./state.ts";

/** Fixed thresholds of the predictive rules (documented in docs/engine.md). */
export const PREDICTIVE_THRESHOLDS = Object.freeze({
  /** Trend rules (latency_trend, loss_trend) count only once held this long (s). */
  trend_hold_s: 10,
  /** Seconds of per-tick history used for slopes. */
  trend_window_s: 60,
  /** Fewest points needed for a slope. */
  trend_min_points: 5,
  /** obstruction_rise: rise in percentage points over the trend window. */
  obstruction_rise_pct: 1,
  /** obstruction_rise: only once obstruction is at least this. */
  obstruction_floor_pct: 2,
  /**
   * Dish alerts that predict a thermal outage. Throttling alone only holds
   * (see {@linkcode ALERT_EFFECTS}).
   */
  thermal_alerts: ["thermal_shutdown"],
  /**
   * swupdate_reboot: leave this many seconds before the reboot time the dish
   * reports (`swupdate_reboot_in_s`); the flag alone does not act.
   */
  swupdate_lead_s: 10,
  /** schedule_gap: the dish expects no slot for more than this (s). */
  schedule_gap_s: 2,
  /** rsrp_fall: slope at or below this (dB/min) … */
  rsrp_slope_db_per_min: -6,
  /** … while RSRP is below this (dBm). */
  rsrp_floor_dbm: -105,
  /** sinr_fall: slope at or below this (dB/min) … */
  sinr_slope_db_per_min: -6,
  /** … while SINR is below this (dB). */
  sinr_floor_db: 3,
  /** wifi_signal_low: signal below this (dBm) … */
  wifi_signal_dbm: -80,
  /** … or SNR below this (dB). */
  wifi_snr_db: 10,
  /** latency_trend: slope at or above this (ms/min) while latency ≥ fail_latency_ms / 2. */
  latency_slope_ms_per_min: 300,
  /** loss_trend: slope at or above this (%/min) while recent loss ≥ fail_loss_pct / 2. */
  loss_slope_pct_per_min: 3,
});

/** What a dish alert does: `leave` (the thermal rule), `hold` (the dish_alert rule) or `ignored`. */
export type AlertEffect = "leave" | "hold" | "ignored";

/**
 * Every alert of the dish's `DishAlerts` (collectors/starlink_proto.ts), what
 * the engine does with it and why. `leave`: the `thermal` rule, which leaves
 * the member when it is primary. `hold`: the `dish_alert` rule, which makes
 * the member "at risk" (never a failback or score target while set) but does
 * not leave it by itself: the link may still work, and probes and the dish's
 * outage report catch it when it stops. `ignored`: no effect, for the reason
 * given. Alerts this build does not know arrive as `alert_<field>` and are
 * ignored (the collector reports them as API drift).
 */
export const ALERT_EFFECTS: Readonly<Record<string, { effect: AlertEffect; why: string }>> = Object
  .freeze({
    thermal_shutdown: {
      effect: "leave",
      why: "the dish is shutting down to cool: an outage follows",
    },
    thermal_throttle: {
      effect: "hold",
      why: "the link still works while throttled (probes and trend rules catch real loss); " +
        "leaving at once cost 15 min on the metered backup before a shutdown",
    },
    power_supply_thermal_throttle: { effect: "hold", why: "as thermal_throttle, from the PSU" },
    motors_stuck: { effect: "hold", why: "the dish cannot re-point; outages are likely" },
    mast_not_near_vertical: {
      effect: "hold",
      why: "a tilted mast narrows the sky; outages likely",
    },
    low_motor_current: { effect: "hold", why: "motors may fail to move the dish" },
    dish_water_detected: { effect: "hold", why: "water in the dish: hardware may fail" },
    is_power_save_idle: {
      effect: "hold",
      why: "the dish idles to save power: no service until it wakes",
    },
    moving_too_fast_for_policy: {
      effect: "hold",
      why: "service may be cut by the plan's speed policy",
    },
    moving_while_not_mobile: {
      effect: "hold",
      why: "service may be limited off the registered spot",
    },
    unexpected_location: {
      effect: "ignored",
      why: "a plan/registration notice; probes show any effect",
    },
    slow_ethernet_speeds: {
      effect: "ignored",
      why: "throughput, not reachability; probes still pass",
    },
    slow_ethernet_speeds_100: {
      effect: "ignored",
      why: "throughput (100 Mb/s link), not reachability",
    },
    upsu_router_port_slow: {
      effect: "ignored",
      why: "throughput of the PSU port, not reachability",
    },
    roaming: {
      effect: "ignored",
      why: "a billing state of the Starlink plan; no cost model for it",
    },
    install_pending: {
      effect: "ignored",
      why: "an update is pending; the reboot time (swupdate_reboot_in_s) decides the leave",
    },
    is_heating: {
      effect: "ignored",
      why: "snow melt is on; throttling, if it comes, has its own alert",
    },
    lower_signal_than_predicted: {
      effect: "ignored",
      why: "the loss it may cause is measured by probes and the obstruction score",
    },
    obstruction_map_reset: { effect: "ignored", why: "informational: the map is being rebuilt" },
    dbf_telem_stale: {
      effect: "ignored",
      why: "the dish's internal telemetry; no link effect known",
    },
    router_water_detected: {
      effect: "ignored",
      why: "the Starlink router, not the dish or our path",
    },
    no_ethernet_link: {
      effect: "ignored",
      why: "the dish's own port state; our link_up (netifd) is the authority for our cable",
    },
  });

/** The names of the predictive rules. */
export const PREDICTIVE_RULES = [
  "dish_obstructed",
  "dish_alert",
  "obstruction_rise",
  "thermal",
  "swupdate_reboot",
  "schedule_gap",
  "rsrp_fall",
  "sinr_fall",
  "wifi_signal_low",
  "latency_trend",
  "loss_trend",
] as const;

/** One active predictive finding. */
export interface RiskFinding {
  /** Rule name (one of {@linkcode PREDICTIVE_RULES}). */
  rule: string;
  /** What was seen. */
  reason: string;
}

/**
 * Rules that make a member "at risk" (not a failback target) but never leave
 * it by themselves.
 */
export const HOLD_ONLY_RULES: ReadonlySet<string> = new Set(["dish_alert"]);

/** Rules whose condition must hold for `trend_hold_s` before they count. */
export const HELD_RULES: ReadonlySet<string> = new Set(["latency_trend", "loss_trend"]);

/**
 * Applies hold times: a rule in {@linkcode HELD_RULES} counts only once its
 * raw condition has held for `trend_hold_s` (one lost probe round during a
 * Starlink reconfiguration must not look like a trend). Returns the findings
 * that count and the updated since-times.
 */
export function applyRuleHolds(
  raw: RiskFinding[],
  prevSince: Record<string, number>,
  now: number,
): { risks: RiskFinding[]; since: Record<string, number> } {
  const since: Record<string, number> = {};
  const risks: RiskFinding[] = [];
  for (const r of raw) {
    const s = prevSince[r.rule] ?? now;
    since[r.rule] = s;
    if (!HELD_RULES.has(r.rule) || now - s >= PREDICTIVE_THRESHOLDS.trend_hold_s) risks.push(r);
  }
  return { risks, since };
}

/** Seconds a rule must rest on one member after acting. */
export function ruleRateLimitS(cfg: EngineConfig): number {
  return Math.max(30, 5 * cfg.fail_min_duration_s);
}

/**
 * Least-squares slope per minute of `key` over the trend points newer than
 * the trend window, or undefined with too few points.
 */
export function trendSlopePerMin(
  trend: TrendPoint[],
  key: Exclude<keyof TrendPoint, "t">,
  now: number,
): number | undefined {
  const P = PREDICTIVE_THRESHOLDS;
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const p of trend) {
    const y = p[key];
    if (y === undefined || now - p.t > P.trend_window_s) continue;
    const x = p.t - now;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  if (n < P.trend_min_points) return undefined;
  const den = n * sxx - sx * sx;
  if (den <= 0) return undefined;
  return ((n * sxy - sx * sy) / den) * 60;
}

/** Every predictive rule whose condition holds for `m` at `now`. */
export function evaluateRisks(m: MemberRuntime, now: number, cfg: EngineConfig): RiskFinding[] {
  const P = PREDICTIVE_THRESHOLDS;
  const stale = cfg.stale_after_s;
  const out: RiskFinding[] = [];
  const cls = m.spec.class;
  if (cls === "starlink") {
    const outage = freshString(m, "outage_cause", now, stale);
    if (outage === undefined && freshBool(m, "currently_obstructed", now, stale) === true) {
      out.push({ rule: "dish_obstructed", reason: "dish reports it is obstructed right now" });
    }
    const obs = freshNumber(m, "obstruction_pct", now, stale);
    const first = firstInWindow(m.trend, "obstruction_pct", now);
    if (
      obs !== undefined && first !== undefined && obs >= P.obstruction_floor_pct &&
      obs - first >= P.obstruction_rise_pct
    ) {
      out.push({
        rule: "obstruction_rise",
        reason: `obstruction rose from ${r1(first)}% to ${r1(obs)}% within ${P.trend_window_s} s`,
      });
    }
    const active = freshList(m, "alerts", now, stale);
    const alerts = active.filter((a) => P.thermal_alerts.includes(a));
    if (alerts.length > 0) {
      out.push({ rule: "thermal", reason: `dish alert ${alerts.join(", ")}` });
    }
    const holds = active.filter((a) => ALERT_EFFECTS[a]?.effect === "hold");
    if (holds.length > 0) {
      out.push({
        rule: "dish_alert",
        reason: `dish alert ${holds.join(", ")} (${ALERT_EFFECTS[holds[0]].why})`,
      });
    }
    const rebootIn = freshNumber(m, "swupdate_reboot_in_s", now, stale);
    if (
      freshBool(m, "swupdate_reboot_ready", now, stale) === true && rebootIn !== undefined &&
      rebootIn >= 0 && rebootIn <= P.swupdate_lead_s
    ) {
      out.push({
        rule: "swupdate_reboot",
        reason: `dish reboots for a software update in ${r1(rebootIn)} s`,
      });
    }
    const slot = freshNumber(m, "seconds_to_first_nonempty_slot", now, stale);
    if (outage === undefined && slot !== undefined && slot > P.schedule_gap_s) {
      out.push({
        rule: "schedule_gap",
        reason: `dish expects no satellite slot for ${r1(slot)} s`,
      });
    }
  } else if (cls === "cellular") {
    const rsrp = freshNumber(m, "rsrp_dbm", now, stale);
    const rs = trendSlopePerMin(m.trend, "rsrp_dbm", now);
    if (
      rsrp !== undefined && rs !== undefined && rs <= P.rsrp_slope_db_per_min &&
      rsrp < P.rsrp_floor_dbm
    ) {
      out.push({
        rule: "rsrp_fall",
        reason: `RSRP ${r1(rsrp)} dBm falling ${r1(-rs)} dB/min`,
      });
    }
    const sinr = freshNumber(m, "sinr_db", now, stale);
    const ss = trendSlopePerMin(m.trend, "sinr_db", now);
    if (
      sinr !== undefined && ss !== undefined && ss <= P.sinr_slope_db_per_min &&
      sinr < P.sinr_floor_db
    ) {
      out.push({
        rule: "sinr_fall",
        reason: `SINR ${r1(sinr)} dB falling ${r1(-ss)} dB/min`,
      });
    }
  } else if (cls === "wifi") {
    const sig = freshNumber(m, "signal_dbm", now, stale);
    const noise = freshNumber(m, "noise_dbm", now, stale);
    if (sig !== undefined && sig < P.wifi_signal_dbm) {
      out.push({ rule: "wifi_signal_low", reason: `Wi-Fi signal ${r1(sig)} dBm` });
    } else if (sig !== undefined && noise !== undefined && sig - noise < P.wifi_snr_db) {
      out.push({ rule: "wifi_signal_low", reason: `Wi-Fi SNR ${r1(sig - noise)} dB` });
    }
  }
  const lat = m.trend.length > 0 ? m.trend[m.trend.length - 1].latency_ms : undefined;
  const ls = trendSlopePerMin(m.trend, "latency_ms", now);
  if (
    lat !== undefined && ls !== undefined && ls >= P.latency_slope_ms_per_min &&
    lat >= cfg.fail_latency_ms / 2
  ) {
    out.push({
      rule: "latency_trend",
      reason: `latency ${r1(lat)} ms rising ${r1(ls)} ms/min`,
    });
  }
  const loss = m.trend.length > 0 ? m.trend[m.trend.length - 1].loss_pct : undefined;
  const lss = trendSlopePerMin(m.trend, "loss_pct", now);
  if (
    loss !== undefined && lss !== undefined && lss >= P.loss_slope_pct_per_min &&
    loss >= cfg.fail_loss_pct / 2
  ) {
    out.push({ rule: "loss_trend", reason: `loss ${r1(loss)}% rising ${r1(lss)} %/min` });
  }
  return out;
}

function firstInWindow(
  trend: TrendPoint[],
  key: Exclude<keyof TrendPoint, "t">,
  now: number,
): number | undefined {
  for (const p of trend) {
    if (now - p.t <= PREDICTIVE_THRESHOLDS.trend_window_s && p[key] !== undefined) return p[key];
  }
  return undefined;
}

function r1(v: number): string {
  return String(Math.round(v * 10) / 10);
}
