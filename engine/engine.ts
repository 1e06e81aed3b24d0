/**
 * The engine's front door: pure functions over plain-data state. Time is
 * always an input; nothing here reads a clock or does I/O.
 *
 * ```ts
 * let s = createEngine(members, cfg, 0);
 * s = observe(s, { t: 0.5, member: "starlink", latency_ms: 40, loss_pct: 0 });
 * const { state, decision, events } = tick(s, 1.5, cfg);
 * ```
 *
 * @module
 */

import type { EngineConfig } from "./config.ts";
import { DISH_FIELDS, freshNumber, MAX_PROBES, recentLoss } from "./fields.ts";
import { stepMemberState } from "./member_state.ts";
import { inReconfigWindow } from "./reconfig.ts";
import {
  applyRuleHolds,
  evaluateRisks,
  HOLD_ONLY_RULES,
  PREDICTIVE_THRESHOLDS,
  ruleRateLimitS,
} from "./predictive.ts";
import {
  blendScore,
  explainScore,
  finalScore,
  instantFromTerms,
  memberPenalties,
  type ScoreExplanation,
  scoreTerms,
  windowAverage,
} from "./scoring.ts";
import { cooldownFor, isStrictCandidate, selectPrimary } from "./selection.ts";
import type {
  Decision,
  EngineEvent,
  EngineState,
  FieldName,
  FieldValue,
  MemberRuntime,
  MemberStateName,
  RideThrough,
} from "./state.ts";
import { type MemberSpec, type Observation, OBSERVATION_FIELD_NAMES } from "./types.ts";

/** A command from the operator (CLI/ubus). */
export type EngineCommand =
  | { type: "failover"; member: string; until_t?: number }
  | { type: "restore" }
  | { type: "recheck" };

/** Result of one tick. */
export interface TickResult {
  /** New state. */
  state: EngineState;
  /** What the tick decided. */
  decision: Decision;
  /** Events raised by this tick (state transitions, switches, predictive warnings). */
  events: EngineEvent[];
}

/** Most trend points kept per member, whatever the tick rate. */
const MAX_TREND_POINTS = 240;

/** The fields `observe` keeps: every observation field but the probe send time. */
const OBSERVATION_FIELDS = OBSERVATION_FIELD_NAMES.filter((f): f is FieldName =>
  f !== "sent_unix_s"
);

function newMember(spec: MemberSpec, t0: number): MemberRuntime {
  return {
    spec: { ...spec },
    fields: {},
    probes: [],
    trend: [],
    window: [],
    instant: null,
    ewma: null,
    final: null,
    state: "unknown",
    since: t0,
    reason: "no measurement yet",
    first_seen: t0,
    usable_since: null,
    breach_since: null,
    restore_since: null,
    risks: [],
    rule_fired: {},
    last_down: null,
    down_from: null,
    flap: 0,
    risk_since: {},
  };
}

/**
 * Creates the engine state for `members` at time `t0`. Member names must be
 * unique (a duplicate throws).
 */
export function createEngine(
  members: MemberSpec[],
  _config: EngineConfig,
  t0: number,
): EngineState {
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.name)) {
      throw new Error(`Member '${m.name}' is listed twice; names must be unique.`);
    }
    seen.add(m.name);
  }
  return {
    t: t0,
    members: members.map((m) => newMember(m, t0)),
    primary: null,
    primary_since: t0,
    primary_reason: "no decision yet",
    last_switch_t: null,
    override: null,
    challenger: null,
    ride: null,
    decisions: [],
    events: [],
    ticks: 0,
  };
}

function sameValue(a: FieldValue["v"], b: FieldValue["v"]): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return a === b;
}

/**
 * Merges one observation into the state: the latest value of each field is
 * kept with its timestamp; loss values also enter the bounded probe history
 * (a Starlink round whose `sent_unix_s` falls in a reconfiguration window is
 * marked there, see `reconfig_guard`).
 * An observation carrying any dish field without `outage_cause` (or `alerts`)
 * means "no outage" (or "no alerts"). Non-finite numbers are ignored.
 * Observations for unknown members are ignored (the member may have just been
 * removed); the state is returned unchanged.
 */
export function observe(state: EngineState, obs: Observation): EngineState {
  const idx = state.members.findIndex((m) => m.spec.name === obs.member);
  if (idx < 0) return state;
  const m = state.members[idx];
  const fields = { ...m.fields };
  const record = obs as unknown as Record<string, unknown>;
  const put = (name: FieldName, v: FieldValue["v"]) => {
    const prev = fields[name];
    fields[name] = {
      v,
      t: obs.t,
      since: prev !== undefined && sameValue(prev.v, v) ? prev.since : obs.t,
    };
  };
  for (const name of OBSERVATION_FIELDS) {
    const v = record[name];
    if (v === undefined || v === null) continue;
    if (typeof v === "number" && !Number.isFinite(v)) continue;
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") put(name, v);
    else if (Array.isArray(v)) put(name, v.map(String));
  }
  if (DISH_FIELDS.some((f) => record[f] !== undefined)) {
    if (record.outage_cause === undefined) put("outage_cause", "");
    if (record.alerts === undefined) put("alerts", []);
  }
  let probes = m.probes;
  const loss = record.loss_pct;
  if (typeof loss === "number" && Number.isFinite(loss)) {
    const keep = MAX_PROBES;
    const p: MemberRuntime["probes"][number] = {
      t: obs.t,
      loss_pct: Math.min(100, Math.max(0, loss)),
    };
    const sent = record.sent_unix_s;
    if (
      m.spec.class === "starlink" && typeof sent === "number" && Number.isFinite(sent) &&
      inReconfigWindow(sent)
    ) p.reconfig = true;
    probes = [...probes, p];
    if (probes.length > keep) probes = probes.slice(probes.length - keep);
  }
  const members = state.members.slice();
  members[idx] = { ...m, fields, probes };
  return { ...state, members, t: Math.max(state.t, obs.t) };
}

function scoreMember(m: MemberRuntime, now: number, cfg: EngineConfig): MemberRuntime {
  const stale = cfg.stale_after_s;
  const point = {
    t: now,
    latency_ms: freshNumber(m, "latency_ms", now, stale),
    loss_pct: recentLoss(m, now, cfg),
    obstruction_pct: freshNumber(m, "obstruction_pct", now, stale),
    rsrp_dbm: freshNumber(m, "rsrp_dbm", now, stale),
    sinr_db: freshNumber(m, "sinr_db", now, stale),
  };
  let trend = [...m.trend, point];
  const horizon = now - PREDICTIVE_THRESHOLDS.trend_window_s;
  let drop = 0;
  while (
    drop < trend.length && (trend[drop].t < horizon || trend.length - drop > MAX_TREND_POINTS)
  ) {
    drop++;
  }
  if (drop > 0) trend = trend.slice(drop);
  const instant = instantFromTerms(scoreTerms(m, now, cfg));
  const ewma = m.ewma === null ? instant : cfg.ewma_alpha * instant + (1 - cfg.ewma_alpha) * m.ewma;
  let window = [...m.window, { t: now, score: instant }];
  const wHorizon = now - cfg.history_window_s;
  const cap = Math.max(1, cfg.max_samples_per_member);
  let wDrop = 0;
  while (
    wDrop < window.length && (window[wDrop].t <= wHorizon || window.length - wDrop > cap)
  ) wDrop++;
  if (wDrop > 0) window = window.slice(wDrop);
  const next: MemberRuntime = { ...m, trend, instant, ewma, window };
  const w = windowAverage(next, now, cfg);
  const final = finalScore(
    blendScore(instant, ewma, w.avg, cfg),
    m.spec.weight,
    memberPenalties(m, now, cfg),
  );
  next.final = final;
  if (cfg.predictive) {
    const held = applyRuleHolds(evaluateRisks(next, now, cfg), m.risk_since, now);
    next.risks = held.risks;
    next.risk_since = held.since;
  } else {
    next.risks = [];
    next.risk_since = {};
  }
  return next;
}

function pushBounded<T>(list: T[], items: T[], max: number): T[] {
  if (items.length === 0) return list;
  const out = [...list, ...items];
  const cap = Math.max(1, max);
  return out.length > cap ? out.slice(out.length - cap) : out;
}

/**
 * Advances the engine to time `t`: updates every member's state machine,
 * scores and predictive findings, then chooses the primary. Pure: returns a
 * new state, the decision, and the events of this tick.
 */
export function tick(state: EngineState, t: number, config: EngineConfig): TickResult {
  const now = Math.max(t, state.t);
  const events: EngineEvent[] = [];
  const members = state.members.map((m) => {
    const stepped = stepMemberState(m, now, config);
    if (stepped.event !== null) events.push(stepped.event);
    return scoreMember(stepped.member, now, config);
  });
  let override = state.override;
  let overrideEnded = false;
  if (override !== null) {
    const gone = !members.some((m) => m.spec.name === override?.member);
    const expired = override.until_t !== null && now >= override.until_t;
    if (gone || expired) {
      events.push({
        t: now,
        type: "override",
        member: override.member,
        from: "manual",
        to: "automatic",
        reason: gone ? `override member ${override.member} was removed` : "manual override expired",
      });
      override = null;
      overrideEnded = true;
    }
  }
  const cur = members.find((m) => m.spec.name === state.primary);
  let firing: { rule: string; reason: string } | null = null;
  if (config.predictive && override === null && cur !== undefined) {
    const limit = ruleRateLimitS(config);
    for (const r of cur.risks) {
      if (HOLD_ONLY_RULES.has(r.rule)) continue;
      const last = cur.rule_fired[r.rule];
      if (last === undefined || now - last >= limit) {
        firing = r;
        break;
      }
    }
  }
  const before = state.members.find((m) => m.spec.name === state.primary);
  const wentDown = cur !== undefined && before !== undefined && cur.state === "down" &&
    before.state !== "down" && before.state !== "unknown";
  const sel = selectPrimary({
    members,
    primary: state.primary,
    lastSwitchT: state.last_switch_t,
    override,
    challenger: state.challenger,
    firing,
    now,
    ride: state.ride ?? null,
    primaryUsableBefore: wentDown ? before.usable_since : null,
  }, config);
  if (firing !== null && sel.firingConsumed && cur !== undefined) {
    const i = members.indexOf(cur);
    members[i] = { ...cur, rule_fired: { ...cur.rule_fired, [firing.rule]: now } };
    events.push({
      t: now,
      type: "predictive",
      member: cur.spec.name,
      from: null,
      to: firing.rule,
      reason: sel.reason,
    });
  }
  if ((state.ride ?? null) === null && (sel.ride ?? null) !== null && cur !== undefined) {
    // A down the engine rides through was predicted by the dish and handled without a
    // switch: it does not count towards flap suppression.
    const i = members.findIndex((m) => m.spec.name === cur.spec.name);
    members[i] = { ...members[i], flap: Math.max(0, members[i].flap - 1) };
  }
  const changed = sel.primary !== state.primary;
  const kind = changed ? sel.kind : overrideEnded ? "override_end" : sel.kind;
  const decision: Decision = {
    t: now,
    primary: sel.primary,
    from: state.primary,
    changed,
    kind: changed ? kind : (kind === "override_end" ? kind : "none"),
    reason: sel.reason,
  };
  if (changed) {
    events.push({
      t: now,
      type: "switch",
      member: sel.primary,
      from: state.primary,
      to: sel.primary,
      reason: sel.reason,
    });
  }
  const next: EngineState = {
    ...state,
    t: now,
    members,
    override,
    challenger: sel.challenger,
    ride: sel.ride ?? null,
    primary: sel.primary,
    primary_since: changed ? now : state.primary_since,
    primary_reason: changed ? sel.reason : state.primary_reason,
    last_switch_t: changed && state.primary !== null ? now : state.last_switch_t,
    decisions: changed
      ? pushBounded(state.decisions, [decision], config.max_events)
      : state.decisions,
    events: pushBounded(state.events, events, config.max_events),
    ticks: state.ticks + 1,
  };
  return { state: next, decision, events };
}

/**
 * Applies an operator command at time `t`: `failover` forces a member to be
 * primary (until `until_t`, or until `restore`), `restore` returns to
 * automatic selection, `recheck` forgets the challenger and predictive rate
 * limits so the next tick re-evaluates from scratch (the cooldown still
 * applies). The switch itself happens at the next tick. Throws for an
 * unknown member.
 */
export function applyCommand(state: EngineState, cmd: EngineCommand, t: number): EngineState {
  if (cmd.type === "failover") {
    if (!state.members.some((m) => m.spec.name === cmd.member)) {
      throw new Error(
        `Cannot fail over to '${cmd.member}': no such member (known: ${
          state.members.map((m) => m.spec.name).join(", ") || "none"
        }).`,
      );
    }
    const until = cmd.until_t ?? null;
    const ev: EngineEvent = {
      t,
      type: "override",
      member: cmd.member,
      from: "automatic",
      to: "manual",
      reason: `manual failover to ${cmd.member}${until === null ? "" : ` until t=${until}`}`,
    };
    return {
      ...state,
      override: { member: cmd.member, until_t: until, since: t },
      events: [...state.events, ev],
    };
  }
  if (cmd.type === "restore") {
    if (state.override === null) return state;
    const ev: EngineEvent = {
      t,
      type: "override",
      member: state.override.member,
      from: "manual",
      to: "automatic",
      reason: "restored to automatic selection",
    };
    return { ...state, override: null, events: [...state.events, ev] };
  }
  return {
    ...state,
    challenger: null,
    members: state.members.map((m) => ({ ...m, rule_fired: {} })),
  };
}

/** Adds a member discovered at runtime (replacing the spec if it exists). */
export function addMember(state: EngineState, spec: MemberSpec, t: number): EngineState {
  const idx = state.members.findIndex((m) => m.spec.name === spec.name);
  const members = state.members.slice();
  if (idx >= 0) members[idx] = { ...members[idx], spec: { ...spec } };
  else members.push(newMember(spec, t));
  const ev: EngineEvent = {
    t,
    type: "member_added",
    member: spec.name,
    from: null,
    to: spec.class,
    reason: idx >= 0 ? "member settings updated" : "member discovered",
  };
  return { ...state, members, events: [...state.events, ev] };
}

/**
 * Removes a member. If it was primary, the primary becomes unset and the next
 * tick chooses a new one at once.
 */
export function removeMember(state: EngineState, name: string, t: number): EngineState {
  if (!state.members.some((m) => m.spec.name === name)) return state;
  const ev: EngineEvent = {
    t,
    type: "member_removed",
    member: name,
    from: null,
    to: null,
    reason: "member removed",
  };
  return {
    ...state,
    members: state.members.filter((m) => m.spec.name !== name),
    primary: state.primary === name ? null : state.primary,
    challenger: state.challenger?.member === name ? null : state.challenger,
    events: [...state.events, ev],
  };
}

/**
 * Every term of `member`'s score as of the last tick (see
 * {@linkcode ScoreExplanation}), or null for an unknown member.
 */
export function explain(
  state: EngineState,
  member: string,
  config: EngineConfig,
): ScoreExplanation | null {
  const m = state.members.find((x) => x.spec.name === member);
  return m === undefined ? null : explainScore(m, state.t, config);
}

/** One member as shown by the API. */
export interface MemberSnapshot {
  /** Name. */
  name: string;
  /** Class. */
  class: string;
  /** Weight. */
  weight: number;
  /** Health state. */
  state: MemberStateName;
  /** When the state was entered. */
  since: number;
  /** Why. */
  reason: string;
  /** Whether it may be chosen by a discretionary switch now. */
  eligible: boolean;
  /** Scores as of the last tick. */
  score: { instant: number | null; ewma: number | null; final: number | null };
  /** Active predictive findings. */
  risks: { rule: string; reason: string }[];
}

/** What the API shows about the engine. */
export interface EngineSnapshot {
  /** Time of the last update. */
  t: number;
  /** Current primary. */
  primary: string | null;
  /** When it was chosen. */
  primary_since: number;
  /** Why it was chosen. */
  primary_reason: string;
  /** Override in force, if any. */
  override: EngineState["override"];
  /** Members, in configuration order. */
  members: MemberSnapshot[];
  /** Recent primary changes, newest last. */
  decisions: Decision[];
  /** Seconds of cooldown left (0 when none). */
  cooldown_left_s: number;
  /** A ride-through in progress (the primary is down but kept), or null. */
  ride_through: RideThrough | null;
}

/** A JSON-ready view of the state for `status`/`members` (the last `recent` decisions). */
export function snapshot(
  state: EngineState,
  opts: { recent?: number; config?: EngineConfig } = {},
): EngineSnapshot {
  const recent = opts.recent ?? 20;
  const cur = state.members.find((m) => m.spec.name === state.primary);
  const cd = opts.config === undefined ? undefined : cooldownFor(cur, opts.config);
  const left = state.last_switch_t === null || cd === undefined
    ? 0
    : Math.max(0, cd - (state.t - state.last_switch_t));
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    t: state.t,
    primary: state.primary,
    primary_since: state.primary_since,
    primary_reason: state.primary_reason,
    override: state.override,
    members: state.members.map((m) => ({
      name: m.spec.name,
      class: m.spec.class,
      weight: m.spec.weight,
      state: m.state,
      since: m.since,
      reason: m.reason,
      eligible: opts.config === undefined
        ? m.state === "up" && m.risks.length === 0
        : isStrictCandidate(m, state.t, opts.config),
      score: { instant: round(m.instant), ewma: round(m.ewma), final: round(m.final) },
      risks: m.risks,
    })),
    decisions: state.decisions.slice(-recent),
    cooldown_left_s: left,
    ride_through: state.ride ?? null,
  };
}
