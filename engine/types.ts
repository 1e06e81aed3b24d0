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
