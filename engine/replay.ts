/**
 * Replaying a trace through the engine in virtual time: ticks every
 * `poll_interval_ms`, feeding each observation before the first tick at or
 * after its time. Like the daemon (daemon/daemon.ts ticks at once when a
 * member's link goes down), an observation `link_up: false` for a member
 * whose link was not already down runs an extra tick at its own time.
 * Pure and deterministic.
 *
 * @module
 */

import type { EngineConfig } from "./config.ts";
import { createEngine, observe, tick, type TickResult } from "./engine.ts";
import type { DecisionKind, EngineEvent, EngineState } from "./state.ts";
import type { Trace } from "./trace.ts";
import type { MemberSpec, Observation } from "./types.ts";

/** One change of primary. */
export interface PrimaryChange {
  /** Tick time (seconds from the trace start). */
  t: number;
  /** New primary. */
  primary: string | null;
  /** Previous primary (null for the initial choice). */
  from: string | null;
  /** Kind of decision. */
  kind: DecisionKind;
  /** Why. */
  reason: string;
}

/** Totals of a replay. */
export interface ReplaySummary {
  /** Seconds from the first to the last tick. */
  duration_s: number;
  /** Observations fed. */
  observations: number;
  /** Ticks run. */
  ticks: number;
  /** Changes of primary after the initial choice. */
  switches: number;
  /** Switches by decision kind. */
  switches_by_kind: Record<string, number>;
  /** Seconds each member was primary. */
  primary_s: Record<string, number>;
  /** How often each member went down. */
  downs: Record<string, number>;
  /** Predictive findings acted on (switch or warning). */
  predictive_findings: number;
  /** Primary at the end. */
  final_primary: string | null;
}

/** Result of a replay. */
export interface ReplayResult {
  /** Every change of primary, the initial choice first. */
  changes: PrimaryChange[];
  /** Totals. */
  summary: ReplaySummary;
  /** Final engine state. */
  state: EngineState;
}

/** Optional hooks of {@linkcode replay}. */
export interface ReplayOptions {
  /** Called after every tick with the new state (for metrics such as impact). */
  onTick?: (state: EngineState) => void;
  /** Called with the events of every tick. */
  onEvents?: (events: EngineEvent[]) => void;
}

/**
 * Runs `trace` through the engine with `config` in virtual time.
 *
 * @example
 * ```ts
 * const result = replay(parseTrace(text), engineConfig());
 * result.summary.switches;
 * ```
 */
export function replay(trace: Trace, config: EngineConfig, opts: ReplayOptions = {}): ReplayResult {
  return replayObservations(trace.members, trace.observations, config, opts);
}

/**
 * {@linkcode replay} over observations that arrive one by one (a trace file
 * read as it is replayed, `engine/trace_file.ts` `openTraceFile`): the same
 * result as `replay` on the same observations, holding none of them.
 *
 * @example
 * ```ts
 * const { members, observations } = openTraceFile("night.jsonl");
 * replayObservations(members, observations, engineConfig()).summary.switches;
 * ```
 */
export function replayObservations(
  members: MemberSpec[],
  observations: Iterable<Observation>,
  config: EngineConfig,
  opts: ReplayOptions = {},
): ReplayResult {
  const step = config.poll_interval_ms / 1000;
  const it = observations[Symbol.iterator]();
  let next: Observation | undefined = it.next().value ?? undefined;
  let count = 0;
  const t0 = next !== undefined ? next.t : 0;
  // The last observation's time, known once the stream is exhausted (replay stops there).
  let tEnd = next === undefined ? t0 : Infinity;
  let state = createEngine(members, config, t0);
  const changes: PrimaryChange[] = [];
  const byKind: Record<string, number> = {};
  const primaryS: Record<string, number> = {};
  const downs: Record<string, number> = {};
  let predictive = 0;
  let ticks = 0;
  let lastT = t0;
  const runTick = (t: number): TickResult => {
    const prev = state.primary;
    if (prev !== null && ticks > 0) primaryS[prev] = (primaryS[prev] ?? 0) + (t - lastT);
    const r = tick(state, t, config);
    state = r.state;
    ticks++;
    lastT = t;
    for (const e of r.events) {
      if (e.type === "member_state" && e.to === "down" && e.member !== null) {
        downs[e.member] = (downs[e.member] ?? 0) + 1;
      }
      if (e.type === "predictive") predictive++;
    }
    opts.onEvents?.(r.events);
    opts.onTick?.(state);
    if (r.decision.changed) {
      changes.push({
        t: round3(t),
        primary: r.decision.primary,
        from: r.decision.from,
        kind: r.decision.kind,
        reason: r.decision.reason,
      });
      if (r.decision.from !== null) byKind[r.decision.kind] = (byKind[r.decision.kind] ?? 0) + 1;
    }
    return r;
  };
  for (let k = 0;; k++) {
    const t = t0 + k * step;
    while (next !== undefined && next.t <= t) {
      const o = next;
      count++;
      const r = it.next();
      next = r.done ? undefined : r.value;
      if (next === undefined) tEnd = o.t;
      const linkDrop = o.link_up === false && o.t > lastT && linkWasUp(state, o.member);
      state = observe(state, o);
      if (linkDrop && ticks > 0) runTick(o.t);
    }
    runTick(t);
    if (t >= tEnd) break;
  }
  for (const k of Object.keys(primaryS)) primaryS[k] = round3(primaryS[k]);
  return {
    changes,
    summary: {
      duration_s: round3(lastT - t0),
      observations: count,
      ticks,
      switches: changes.filter((c) => c.from !== null).length,
      switches_by_kind: byKind,
      primary_s: primaryS,
      downs,
      predictive_findings: predictive,
      final_primary: state.primary,
    },
    state,
  };
}

/** Whether `member`'s last reported link state is not "down" (unknown counts as up). */
function linkWasUp(state: EngineState, member: string): boolean {
  const m = state.members.find((x) => x.spec.name === member);
  return m !== undefined && m.fields.link_up?.v !== false;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
