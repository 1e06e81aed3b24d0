/**
 * The engine's state, decisions and events: plain JSON-serialisable data whose
 * size is bounded by the configuration, however long the engine runs.
 *
 * @module
 */

import type { MemberSpec, Observation } from "./types.ts";

/** A member's health state. `unknown` holds until its first measurement. */
export type MemberStateName = "unknown" | "up" | "degraded" | "down" | "recovering";

/** Observation fields the engine merges (everything but `t`, `member` and `sent_unix_s`). */
export type FieldName = Exclude<keyof Observation, "t" | "member" | "sent_unix_s">;

/** Latest value of one field, when it was last reported and since when it has had this value. */
export interface FieldValue {
  /** The value. */
  v: number | boolean | string | string[];
  /** When it was last reported. */
  t: number;
  /** Since when it has had this value. */
  since: number;
}

/** One row of the per-tick trend history used by predictive rules. */
export interface TrendPoint {
  /** Tick time. */
  t: number;
  /** Latency (ms) if fresh. */
  latency_ms?: number;
  /** Recent loss (%) if fresh. */
  loss_pct?: number;
  /** Obstruction (%) if fresh. */
  obstruction_pct?: number;
  /** RSRP (dBm) if fresh. */
  rsrp_dbm?: number;
  /** SINR (dB) if fresh. */
  sinr_db?: number;
}

/** Everything the engine remembers about one member. */
export interface MemberRuntime {
  /** How the member is described. */
  spec: MemberSpec;
  /** Latest value per field. */
  fields: Partial<Record<FieldName, FieldValue>>;
  /**
   * Loss of the most recent probe rounds, newest last (bounded). `reconfig`
   * marks a Starlink round sent in a reconfiguration window.
   */
  probes: { t: number; loss_pct: number; reconfig?: true }[];
  /** Per-tick trend points, bounded by the trend window and a count cap. */
  trend: TrendPoint[];
  /** Instant scores for the window average, newest last (bounded). */
  window: { t: number; score: number }[];
  /** Latest instant score (null before the first tick). */
  instant: number | null;
  /** EWMA of the instant score (null before the first tick). */
  ewma: number | null;
  /** Final score after blend, weights and penalties (null before the first tick). */
  final: number | null;
  /** Health state. */
  state: MemberStateName;
  /** When the state was entered. */
  since: number;
  /** Why the state was entered. */
  reason: string;
  /** When the member was added. */
  first_seen: number;
  /** Since when it has been continuously out of `down` (recovering counts; null while down or unknown). */
  usable_since: number | null;
  /** Start of the current continuous soft-failure breach. */
  breach_since: number | null;
  /** Start of the current continuous restore-threshold pass. */
  restore_since: number | null;
  /** Predictive findings active at the last tick. */
  risks: { rule: string; reason: string }[];
  /** When each predictive rule last acted on this member. */
  rule_fired: Record<string, number>;
  /** When a member last went down (null if never). */
  last_down: number | null;
  /** The state it left when it last went down (absent or null if never). */
  down_from?: MemberStateName | null;
  /** Flap count: downs, each decaying with half-life `history_window_s`, as of `last_down`. */
  flap: number;
  /**
   * Cause of the last down when it was a link drop ("link") or a dish outage
   * (its cause name); null otherwise. Decides whether a fast failback may apply.
   */
  down_cause?: string | null;
  /** Until when a fast restore lets the member be failed back to at once (null: none). */
  fast_until?: number | null;
  /** Since when each predictive rule's raw condition has held (for rules with a hold time). */
  risk_since: Record<string, number>;
}

/** What kind of decision a tick made. */
export type DecisionKind =
  | "initial"
  | "hard"
  | "predictive"
  | "score"
  | "failback"
  | "override"
  | "override_end"
  | "hold"
  | "none";

/** The outcome of one tick. */
export interface Decision {
  /** Tick time. */
  t: number;
  /** The primary member after this tick (null only with no members). */
  primary: string | null;
  /** The primary before this tick. */
  from: string | null;
  /** Whether the primary changed. */
  changed: boolean;
  /** Kind of decision. */
  kind: DecisionKind;
  /** Human-readable reason. */
  reason: string;
}

/** Something worth logging or notifying about. */
export interface EngineEvent {
  /** Time. */
  t: number;
  /** Kind. */
  type: "switch" | "member_state" | "predictive" | "override" | "member_added" | "member_removed";
  /** The member concerned (the new primary for `switch`). */
  member: string | null;
  /** Previous value (state or primary). */
  from: string | null;
  /** New value (state or primary). */
  to: string | null;
  /** Human-readable reason. */
  reason: string;
}

/** A ride-through of a short, dish-predicted outage of the primary. */
export interface RideThrough {
  /** The primary being kept. */
  member: string;
  /** When the ride-through began. */
  since: number;
  /** When it ends at the latest (the member is left then if still down). */
  until: number;
  /** Why (the dish's outage cause and predicted slot). */
  reason: string;
}

/** A manual override in force. */
export interface Override {
  /** Member forced to be primary. */
  member: string;
  /** When it ends (null: until `restore`). */
  until_t: number | null;
  /** When it was set. */
  since: number;
}

/** The whole engine state. */
export interface EngineState {
  /** Latest time seen (observation or tick). */
  t: number;
  /** Members in configuration order. */
  members: MemberRuntime[];
  /** Current primary. */
  primary: string | null;
  /** When the current primary was chosen. */
  primary_since: number;
  /** Why the current primary was chosen. */
  primary_reason: string;
  /** Time of the last switch (null if none yet). */
  last_switch_t: number | null;
  /** Active manual override. */
  override: Override | null;
  /** A member beating the primary by the margin, and since when. */
  challenger: { member: string; since: number } | null;
  /**
   * A ride-through in progress: the primary `member` is down from a dish
   * outage predicted to be short and is kept until `until` (see
   * `ride_through_s`). Absent or null when none.
   */
  ride?: RideThrough | null;
  /** Recent primary changes, newest last (bounded by `max_events`). */
  decisions: Decision[];
  /** Recent events, newest last (bounded by `max_events`). */
  events: EngineEvent[];
  /** Number of ticks run. */
  ticks: number;
}
