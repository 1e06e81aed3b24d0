/**
 * Plain data types shared by the engine and every part that feeds it.
 *
 * @module
 */

/** The kind of uplink a member is; it selects the scoring curves and predictive rules. */
export type MemberClass = "starlink" | "cellular" | "wifi" | "lan" | "other";

/** All member classes, in the order used for display and validation. */
export const MEMBER_CLASSES: readonly MemberClass[] = [
  "starlink",
  "cellular",
  "wifi",
  "lan",
  "other",
];

/**
 * One observation of one member at one time. Every field except `t` and
 * `member` is optional: a collector fills in what it measured. Missing data
 * never counts as healthy.
 */
export interface Observation {
  /** Seconds on the engine's clock (virtual in replay, monotonic in the daemon). */
  t: number;
  /** Member name. */
  member: string;
  /** Whether the interface/link carrying the member is up. */
  link_up?: boolean;
  /** Round-trip latency in milliseconds. */
  latency_ms?: number;
  /** Packet loss in percent (0–100). */
  loss_pct?: number;
  /**
   * Probe rounds: Unix time (seconds, wall clock) at which the round's probes
   * were sent. On a Starlink member it places the round relative to the
   * dish's reconfiguration windows (`reconfig_guard`); it is not a field the
   * engine keeps.
   */
  sent_unix_s?: number;
  /** Latency jitter in milliseconds. */
  jitter_ms?: number;
  /** Starlink: fraction of the sky obstructed, in percent (0–100). */
  obstruction_pct?: number;
  /** Starlink: the dish reports it is obstructed right now. */
  currently_obstructed?: boolean;
  /** Starlink: the dish's outage cause enum name (`OBSTRUCTED`, `NO_SCHEDULE`, `BOOTING`, …). */
  outage_cause?: string;
  /** Starlink: active alert names in snake_case (`thermal_throttle`, …). */
  alerts?: string[];
  /** Starlink: seconds until the dish expects its next scheduled slot. */
  seconds_to_first_nonempty_slot?: number;
  /** Starlink: a downloaded software update waits for a reboot. */
  swupdate_reboot_ready?: boolean;
  /**
   * Starlink: seconds until the dish's scheduled update reboot (from
   * `software_update_stats.reboot_scheduled_utc_time`); absent when the dish
   * gives no time.
   */
  swupdate_reboot_in_s?: number;
  /**
   * Starlink: one second of the dish's own history (1 Hz): its PoP ping drop
   * rate, percent. Not a probe round: it never counts as `loss_pct`.
   */
  pop_drop_pct?: number;
  /** Starlink: one second of the dish's history: its PoP ping latency in ms (absent when all dropped). */
  pop_latency_ms?: number;
  /** Cellular: reference signal received power in dBm. */
  rsrp_dbm?: number;
  /** Cellular: reference signal received quality in dB. */
  rsrq_db?: number;
  /** Cellular: signal to interference plus noise ratio in dB. */
  sinr_db?: number;
  /** Cellular: the modem is roaming. */
  roaming?: boolean;
  /** Wi-Fi: signal in dBm. */
  signal_dbm?: number;
  /** Wi-Fi: noise floor in dBm. */
  noise_dbm?: number;
}

/** What one optional {@linkcode Observation} field holds. */
export type ObservationFieldKind = "number" | "boolean" | "string" | "strings";

/**
 * Every optional {@linkcode Observation} field and its kind, in declaration
 * order: the one list the engine, the trace reader and the ubus API derive
 * their field lists from (the type makes the compiler reject a missing or
 * unknown field).
 */
export const OBSERVATION_FIELD_KINDS: {
  readonly [K in Exclude<keyof Observation, "t" | "member">]-?: ObservationFieldKind;
} = Object.freeze({
  link_up: "boolean",
  latency_ms: "number",
  loss_pct: "number",
  sent_unix_s: "number",
  jitter_ms: "number",
  obstruction_pct: "number",
  currently_obstructed: "boolean",
  outage_cause: "string",
  alerts: "strings",
  seconds_to_first_nonempty_slot: "number",
  swupdate_reboot_ready: "boolean",
  swupdate_reboot_in_s: "number",
  pop_drop_pct: "number",
  pop_latency_ms: "number",
  rsrp_dbm: "number",
  rsrq_db: "number",
  sinr_db: "number",
  roaming: "boolean",
  signal_dbm: "number",
  noise_dbm: "number",
});

/** The optional {@linkcode Observation} field names, in declaration order. */
export const OBSERVATION_FIELD_NAMES = Object.keys(OBSERVATION_FIELD_KINDS) as readonly (
  keyof typeof OBSERVATION_FIELD_KINDS
)[];

/** How a member is described to the engine (from the config and discovery). */
export interface MemberSpec {
  /** Member name, unique. */
  name: string;
  /** Member class. */
  class: MemberClass;
  /** Preference weight 1–100: higher is preferred. */
  weight: number;
  /** Traffic on this member costs money (cellular plans): penalised and probed less. */
  metered?: boolean;
  /** Roaming is acceptable on this member (no roaming penalty). */
  prefer_roaming?: boolean;
  /** Per-member override of the warm-up time before it may become primary. */
  min_uptime_s?: number;
  /** Per-member override of the hold-off after a switch. */
  cooldown_s?: number;
}
