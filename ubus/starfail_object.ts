/**
 * The `starfail` ubus object: its method table, argument schemas and result
 * types. The daemon implements {@linkcode StarfailBackend}; this module turns
 * it into a table for {@linkcode UbusObjectServer}. `docs/api.md` documents
 * every method with its exact JSON.
 *
 * @module
 */

import { quoteValue } from "../io/show_value.ts";
import * as v from "valibot";
import { ubusMethod, type UbusMethodTable } from "./object_server.ts";
import { Status, UbusError } from "./protocol.ts";

/** The ubus path of the object. */
export const STARFAIL_OBJECT = "starfail";

import type { MemberStateName } from "../engine/state.ts";
import type { ScoreTerm } from "../engine/scoring.ts";
import type { Observation } from "../engine/types.ts";
/** Member health states: the engine's. */
export type { MemberStateName };

/** One metric's contribution to a member's instant score: the engine's `ScoreTerm`. */
export type ScoreTermResult = ScoreTerm;

/** A member's scores with their explanation. */
export interface ScoreResult {
  /** Score from the latest metrics (0–100), null before the first sample. */
  instant: number | null;
  /** Exponentially weighted average of instant scores. */
  ewma: number | null;
  /** Mean instant score over `history_window_s`. */
  window: number | null;
  /** Blended score after member weight and penalties: what selection compares. */
  final: number | null;
  /** Per-metric terms of the instant score. */
  explanation: ScoreTermResult[];
  /** Points subtracted for a metered member and for roaming. */
  penalties: { metered: number; roaming: number };
  /** Member weight as a factor (weight / 100). */
  member_weight: number;
}

/** The {@linkcode Observation} fields `metrics` does not show: the dish's schedule and update flags and the probe rounds' send time. */
export const HIDDEN_METRIC_FIELDS = [
  "sent_unix_s",
  "seconds_to_first_nonempty_slot",
  "swupdate_reboot_ready",
  "swupdate_reboot_in_s",
] as const;

/**
 * The latest value of each metric and how old it is: the engine's
 * {@linkcode Observation} fields less {@linkcode HIDDEN_METRIC_FIELDS}.
 */
export interface LatestMetrics
  extends Omit<Observation, "t" | "member" | (typeof HIDDEN_METRIC_FIELDS)[number]> {
  /** Wall-clock time (unix seconds) of the newest value, null when none. */
  at: number | null;
}

/** One member as `status` and `members` show it. */
export interface MemberStatus {
  /** Member name. */
  name: string;
  /** Member class. */
  class: string;
  /** netifd interface. */
  iface: string;
  /** Preference weight 1–100. */
  weight: number;
  /** Health state. */
  state: MemberStateName;
  /** When the state was entered (unix seconds). */
  since: number;
  /** Why the state was entered. */
  reason: string;
  /** Whether it may be chosen as primary now. */
  eligible: boolean;
  /** Whether it is the current primary. */
  primary: boolean;
  /** Scores and their explanation. */
  score: ScoreResult;
  /** Latest metrics. */
  metrics: LatestMetrics;
  /** Active predictive findings. */
  risks: { rule: string; reason: string }[];
}

/** One primary decision. */
export interface DecisionResult {
  /** Unix seconds. */
  at: number;
  /** Previous primary. */
  from: string | null;
  /** New primary. */
  to: string | null;
  /** `failover`, `failback`, `predictive`, `manual`, `restore`, `initial`, … */
  kind: string;
  /** Why. */
  reason: string;
}

/** Health of one collector. */
export interface CollectorHealth {
  /** Collector name (`starlink`, `probe`, `netifd`, `iwinfo`, `cellular`, `mwan3`). */
  name: string;
  /** Member it serves, null for global collectors. */
  member: string | null;
  /** Whether its last run succeeded. */
  ok: boolean;
  /** Unix seconds of the last success, null when never. */
  last_ok: number | null;
  /** Last error message, null when none. */
  last_error: string | null;
  /** Failures since the last success. */
  failures: number;
}

/** A manual override in force. */
export interface OverrideResult {
  /** Forced primary. */
  member: string;
  /** Unix seconds when it expires, null = until `restore`. */
  expires_at: number | null;
}

/** Result of `status`. */
export interface StatusResult {
  /** Daemon version. */
  version: string;
  /** Seconds since the daemon started. */
  uptime_s: number;
  /** Current primary member, null when none is usable. */
  primary: string | null;
  /** Unix seconds since when it is primary. */
  primary_since: number | null;
  /** Why it is primary. */
  why: string;
  /** Manual override, null when none. */
  override: OverrideResult | null;
  /** Seconds before another discretionary switch is allowed. */
  cooldown_left_s: number;
  /** The primary is being kept through a short dish outage (`ride_through_s`), null when not. */
  ride_through: { member: string; until: number; reason: string } | null;
  /** The controller only logs what it would change. */
  dry_run: boolean;
  /** Every member. */
  members: MemberStatus[];
  /** Recent primary decisions, newest last. */
  decisions: DecisionResult[];
  /** Collector health. */
  collectors: CollectorHealth[];
}

/** Result of `members`. */
export interface MembersResult {
  /** Every member, in configuration order. */
  members: MemberStatus[];
}

/** One stored sample. */
export interface MetricSample extends Omit<LatestMetrics, "at"> {
  /** Unix seconds. */
  at: number;
  /** Final score at that time, null when not scored. */
  final: number | null;
}

/** Result of `metrics`. */
export interface MetricsResult {
  /** Member name. */
  member: string;
  /** Newest `limit` samples, oldest first. */
  samples: MetricSample[];
}

/** One point of the score/state history. */
export interface HistoryPoint {
  /** Unix seconds. */
  at: number;
  /** State at that time. */
  state: MemberStateName;
  /** Instant score. */
  instant: number | null;
  /** EWMA score. */
  ewma: number | null;
  /** Final score. */
  final: number | null;
}

/** Result of `history`. */
export interface HistoryResult {
  /** Member name. */
  member: string;
  /** The window asked for, seconds. */
  since_s: number;
  /** Points, oldest first. */
  points: HistoryPoint[];
}

/** One event from the event log. */
export interface EventRecord {
  /** Unix seconds. */
  at: number;
  /** `switch`, `member_state`, `predictive`, `override`, `member_added`, `member_removed`, `controller`, `collector`, `dish_alert`, `notify`, `hook`, … (docs/api.md lists them). */
  type: string;
  /** Member concerned, null when global. */
  member: string | null;
  /** Previous value. */
  from: string | null;
  /** New value. */
  to: string | null;
  /** Why. */
  reason: string;
}

/** Result of `events`. */
export interface EventsResult {
  /** Newest `limit` events, oldest first. */
  events: EventRecord[];
}

/** Result of `failover`, `restore`, `recheck` and `setlog`. */
export interface ActionResult {
  /** Whether the action was applied. */
  ok: boolean;
  /** What happened, one sentence. */
  message: string;
  /** Primary after the action. */
  primary: string | null;
}

/** Result of `info`. */
export interface InfoResult {
  /** Daemon version. */
  version: string;
  /** Seconds since start. */
  uptime_s: number;
  /** Process id. */
  pid: number;
  /** Deno runtime version. */
  runtime: string;
  /** Memory use. */
  memory: { rss_bytes: number; heap_used_bytes: number; limit_mb: number };
  /** Stored data. */
  counts: { members: number; samples: number; events: number };
  /** Current log level. */
  log_level: string;
  /** ubus socket in use. */
  socket: string;
  /** Config file read. */
  config_file: string;
}

/** What one notification channel did with the test message. */
export interface NotifyChannelResult {
  /** `pushover`, `webhook` or `mqtt`. */
  channel: string;
  /** Accepted. */
  ok: boolean;
  /** `HTTP 200`, `published`, or why it failed. */
  detail: string;
}

/** Result of `notify_test`. */
export interface NotifyTestResult {
  /** Every configured channel tried (only the one asked for, if any). */
  results: NotifyChannelResult[];
  /** One sentence: how many took it, or why none was tried. */
  message: string;
}

type MaybePromise<T> = T | Promise<T>;

/** What the daemon provides to the `starfail` object. */
export interface StarfailBackend {
  /** Overall status. */
  status(): MaybePromise<StatusResult>;
  /** Every member in detail. */
  members(): MaybePromise<MembersResult>;
  /** Newest `limit` samples of `member`. */
  metrics(member: string, limit: number): MaybePromise<MetricsResult>;
  /** Score/state history of `member` over the last `sinceS` seconds. */
  history(member: string, sinceS: number): MaybePromise<HistoryResult>;
  /** Newest `limit` events. */
  events(limit: number): MaybePromise<EventsResult>;
  /** Force `member` as primary, for `expiresS` seconds or until `restore`. */
  failover(member: string, expiresS?: number): MaybePromise<ActionResult>;
  /** Drop a manual override. */
  restore(): MaybePromise<ActionResult>;
  /** Poll every collector now and re-evaluate. */
  recheck(): MaybePromise<ActionResult>;
  /**
   * The effective configuration (all sections, defaults filled in) as an
   * object; `config_get` answers it as a table under `config`.
   */
  configGet(): MaybePromise<{ [key: string]: unknown }>;
  /** Change the log level at run time. */
  setLog(level: string): MaybePromise<ActionResult>;
  /** Process information. */
  info(): MaybePromise<InfoResult>;
  /** Sends a test message through every configured channel, or only `channel`. */
  notifyTest?(channel?: string): MaybePromise<NotifyTestResult>;
}

/** Log levels `setlog` accepts. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

const memberName = v.pipe(v.string(), v.minLength(1, "member must not be empty"));
const positiveInt = (max: number, what: string) =>
  v.pipe(
    v.number(),
    v.integer(`${what} must be an integer`),
    v.minValue(1, `${what} must be at least 1`),
    v.maxValue(max, `${what} must be at most ${max}`),
  );

/** Argument schemas of every method (also used by the CLI and docs). */
export const STARFAIL_ARGS = {
  status: v.object({}),
  members: v.object({}),
  metrics: v.object({
    member: memberName,
    limit: v.optional(positiveInt(100000, "limit"), 100),
  }),
  history: v.object({
    member: memberName,
    since_s: v.optional(positiveInt(604800, "since_s"), 600),
  }),
  events: v.object({ limit: v.optional(positiveInt(100000, "limit"), 50) }),
  failover: v.object({
    member: memberName,
    expires_s: v.optional(positiveInt(604800, "expires_s")),
  }),
  restore: v.object({}),
  recheck: v.object({}),
  config_get: v.object({}),
  setlog: v.object({
    level: v.picklist(LOG_LEVELS, `level must be one of ${LOG_LEVELS.join(", ")}`),
  }),
  info: v.object({}),
  notify_test: v.object({
    channel: v.optional(
      v.picklist(
        ["pushover", "webhook", "mqtt"],
        "channel must be one of pushover, webhook, mqtt",
      ),
    ),
  }),
} as const;

async function requireMember(backend: StarfailBackend, member: string): Promise<void> {
  const { members } = await backend.members();
  if (!members.some((m) => m.name === member)) {
    throw new UbusError(
      Status.NOT_FOUND,
      `unknown member ${quoteValue(member)}; known members: ${
        members.map((m) => m.name).join(", ") || "none"
      }`,
    );
  }
}

type Json = { [key: string]: unknown };

/** A backend result as the reply object it is on the wire (result interfaces have no index signature). */
async function asJson(result: MaybePromise<object>): Promise<Json> {
  return (await result) as Json;
}

/**
 * Builds the `starfail` method table over a backend. Member arguments are
 * checked against `members()`: an unknown member gets NOT_FOUND with a
 * message listing the known ones.
 *
 * @example
 * ```ts
 * const server = new UbusObjectServer({});
 * await server.addObject(STARFAIL_OBJECT, starfailMethods(daemon));
 * await server.start();
 * ```
 */
export function starfailMethods(backend: StarfailBackend): UbusMethodTable {
  return {
    status: ubusMethod(STARFAIL_ARGS.status, () => asJson(backend.status())),
    members: ubusMethod(STARFAIL_ARGS.members, () => asJson(backend.members())),
    metrics: ubusMethod(STARFAIL_ARGS.metrics, async (a) => {
      await requireMember(backend, a.member);
      return asJson(backend.metrics(a.member, a.limit));
    }),
    history: ubusMethod(STARFAIL_ARGS.history, async (a) => {
      await requireMember(backend, a.member);
      return asJson(backend.history(a.member, a.since_s));
    }),
    events: ubusMethod(STARFAIL_ARGS.events, (a) => asJson(backend.events(a.limit))),
    failover: ubusMethod(STARFAIL_ARGS.failover, async (a) => {
      await requireMember(backend, a.member);
      return asJson(backend.failover(a.member, a.expires_s));
    }),
    restore: ubusMethod(STARFAIL_ARGS.restore, () => asJson(backend.restore())),
    recheck: ubusMethod(STARFAIL_ARGS.recheck, () => asJson(backend.recheck())),
    // A table (not a JSON string), so `ubus call starfail config_get | jsonfilter -e
    // @.config.main.enabled` works; JSON round trip drops undefined options.
    config_get: ubusMethod(STARFAIL_ARGS.config_get, async () => ({
      config: JSON.parse(JSON.stringify(await backend.configGet())) as Json,
    })),
    setlog: ubusMethod(STARFAIL_ARGS.setlog, (a) => asJson(backend.setLog(a.level))),
    info: ubusMethod(STARFAIL_ARGS.info, () => asJson(backend.info())),
    notify_test: ubusMethod(STARFAIL_ARGS.notify_test, (a) => {
      if (backend.notifyTest === undefined) {
        throw new UbusError(Status.NOT_SUPPORTED, "this daemon sends no notifications");
      }
      return asJson(backend.notifyTest(a.channel));
    }),
  };
}
