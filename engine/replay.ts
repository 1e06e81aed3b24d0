/**
 * Replaying a trace through the engine in virtual time: ticks every
 * `poll_interval_ms`, feeding each observation before the first tick at or
 * after its time. Like the daemon (daemon/daemon.ts ticks at once when a
 * member's link goes down), an observation `link_up: false` for a member
 * whose link was not already down runs an extra tick at its own time.
 * A trace that recorded the engine's ticks (the daemon's `--record`) is
 * replayed at exactly those ticks instead, each after the observations the
 * live engine had been given by then, so replay makes the live decisions.
 * Pure and deterministic.
 *
 * @module
 */

import type { EngineConfig } from "./config.ts";
import { createEngine, observe, tick, type TickResult } from "./engine.ts";
import type { DecisionKind, EngineEvent, EngineState } from "./state.ts";
import { type Trace, traceEntries, type TraceEntry } from "./trace.ts";
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
  const start = replayStart({
    start_t: trace.start_t,
    firstTick: trace.ticks?.[0]?.t,
    firstObservationT: trace.observations[0]?.t,
  });
  return replayEntries(trace.members, traceEntries(trace), config, start, opts);
}

/** Where a replay starts and how it ticks ({@linkcode replayStart}). */
export interface ReplayStart {
  /** When the engine is created (trace seconds). */
  t0: number;
  /** Whether the trace recorded its ticks (replay ticks exactly there, and nowhere else). */
  recorded: boolean;
}

/**
 * The start of a replay from what precedes it in the trace: the header's
 * `start_t`, the first recorded tick and the first observation (file order).
 * Without `start_t` the engine starts at the earlier of the first tick and
 * the first observation (0 for an empty trace).
 */
export function replayStart(
  h: { start_t?: number; firstTick?: number; firstObservationT?: number },
): ReplayStart {
  const recorded = h.firstTick !== undefined;
  const t0 = h.start_t ??
    (recorded
      ? Math.min(h.firstTick as number, h.firstObservationT ?? Infinity)
      : h.firstObservationT ?? 0);
  return { t0, recorded };
}

/**
 * {@linkcode replay} over a trace's entries as they arrive (a trace file read
 * while it is replayed: `engine/trace_file.ts` `openTraceFile`), holding none
 * of them: the same result as `replay` on the same trace. `start` comes from
 * {@linkcode replayStart}.
 *
 * @example
 * ```ts
 * const s = openTraceFile("night.jsonl");
 * replayEntries(s.members, s.entries, engineConfig(s.config), s.start).summary.switches;
 * ```
 */
export function replayEntries(
  members: MemberSpec[],
  entries: Iterable<TraceEntry>,
  config: EngineConfig,
  start: ReplayStart,
  opts: ReplayOptions = {},
): ReplayResult {
  const step = config.poll_interval_ms / 1000;
  const t0 = start.t0;
  let state = createEngine(members, config, t0);
  const changes: PrimaryChange[] = [];
  const byKind: Record<string, number> = {};
  const primaryS: Record<string, number> = {};
  const downs: Record<string, number> = {};
  let predictive = 0;
  let count = 0;
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
  if (start.recorded) {
    // A recorded trace: in file order, each tick after the observations the live engine had.
    for (const e of entries) {
      if ("tick" in e) runTick(e.tick);
      else {
        state = observe(state, e);
        count++;
      }
    }
  } else {
    // Virtual ticks every poll interval until the last observation's time.
    const it = entries[Symbol.iterator]();
    const pull = (): Observation | undefined => {
      const r = it.next();
      if (r.done) return undefined;
      if ("tick" in r.value) {
        throw new Error("a tick line in a trace replayed without recorded ticks (file changed?)");
      }
      return r.value;
    };
    let next = pull();
    // The last observation's time, known once the entries run out (replay stops there).
    let tEnd = next === undefined ? 0 : Infinity;
    for (let k = 0;; k++) {
      const t = t0 + k * step;
      while (next !== undefined && next.t <= t) {
        const o = next;
        count++;
        next = pull();
        if (next === undefined) tEnd = o.t;
        const linkDrop = o.link_up === false && o.t > lastT && linkWasUp(state, o.member);
        state = observe(state, o);
        if (linkDrop && ticks > 0) runTick(o.t);
      }
      runTick(t);
      if (t >= tEnd) break;
    }
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
