/**
 * The trace format (JSON Lines) read by `starfail replay` and written by the
 * benchmark's scenario generator.
 *
 * Line 1 is the header:
 * `{"starfail_trace":1,"members":[{"name":"starlink","class":"starlink","weight":100}, …]}`
 * (members may also carry `metered`, `prefer_roaming`, `min_uptime_s`, `cooldown_s`).
 * Every other non-blank line is one observation:
 * `{"t":12.0,"member":"starlink","latency_ms":41.2,"loss_pct":0}` with `t` in
 * seconds from the start (non-decreasing) and the field names of
 * {@linkcode Observation}.
 *
 * A trace recorded by the daemon (`daemon --record`, `demo --record`) also
 * carries what replay needs to make the same decisions at the same times:
 * the header has `config` (the effective engine options), `start_t` (when
 * the engine was created, in trace seconds) and the members with every
 * option in force, in their order; and a line `{"tick":41.503}` marks each
 * engine tick at its recorded time, after the observations the engine had
 * been given by then. `replay` then ticks at exactly those times. Parsing is all-or-nothing: the first problem throws
 * a {@linkcode TraceError} naming the line.
 *
 * @module
 */

import {
  MEMBER_CLASSES,
  type MemberClass,
  type MemberSpec,
  type Observation,
  OBSERVATION_FIELD_KINDS,
  OBSERVATION_FIELD_NAMES,
} from "./types.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "./config.ts";

/** An engine tick recorded in a trace. */
export interface TraceTick {
  /** Tick time (trace seconds). */
  t: number;
  /** How many observations (in file order) the engine had been given before this tick. */
  after: number;
}

/** A parsed trace. */
export interface Trace {
  /** Members from the header. */
  members: MemberSpec[];
  /** Observations in file order. */
  observations: Observation[];
  /** The engine options in force when it was recorded (header `config`), if recorded. */
  config?: Partial<EngineConfig>;
  /** When the engine was created (header `start_t`), if recorded. */
  start_t?: number;
  /** The engine's ticks, if recorded. */
  ticks?: TraceTick[];
}

/** A problem in a trace, with the 1-based line it is on. */
export class TraceError extends Error {
  /** 1-based line number. */
  readonly line: number;
  /** Creates an error for `line`. */
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "TraceError";
    this.line = line;
  }
}

/** The version written in and accepted from the header. */
export const TRACE_VERSION = 1;

const NUMBER_FIELDS = OBSERVATION_FIELD_NAMES.filter((f) =>
  OBSERVATION_FIELD_KINDS[f] === "number"
);
const BOOL_FIELDS = OBSERVATION_FIELD_NAMES.filter((f) => OBSERVATION_FIELD_KINDS[f] === "boolean");
const KNOWN = new Set<string>(["t", "member", ...OBSERVATION_FIELD_NAMES]);

function parseLine(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new TraceError(line, `not valid JSON (${msg})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TraceError(line, "expected a JSON object");
  }
  return value as Record<string, unknown>;
}

function parseHeader(h: Record<string, unknown>): MemberSpec[] {
  if (h.starfail_trace !== TRACE_VERSION) {
    throw new TraceError(
      1,
      `expected the header {"starfail_trace":${TRACE_VERSION},"members":[…]}, got ${
        JSON.stringify(h).slice(0, 80)
      }`,
    );
  }
  if (!Array.isArray(h.members) || h.members.length === 0) {
    throw new TraceError(1, `"members" must be a non-empty array of {name, class, weight}`);
  }
  const seen = new Set<string>();
  return h.members.map((raw, i) => {
    const where = `members[${i}]`;
    if (typeof raw !== "object" || raw === null) {
      throw new TraceError(1, `${where} must be an object`);
    }
    const m = raw as Record<string, unknown>;
    if (typeof m.name !== "string" || m.name === "") {
      throw new TraceError(1, `${where}.name must be a non-empty string`);
    }
    if (seen.has(m.name)) throw new TraceError(1, `member '${m.name}' is listed twice`);
    seen.add(m.name);
    if (typeof m.class !== "string" || !MEMBER_CLASSES.includes(m.class as MemberClass)) {
      throw new TraceError(
        1,
        `${where}.class '${String(m.class)}' must be one of ${MEMBER_CLASSES.join(", ")}`,
      );
    }
    if (typeof m.weight !== "number" || !(m.weight >= 1 && m.weight <= 100)) {
      throw new TraceError(1, `${where}.weight must be a number from 1 to 100`);
    }
    const spec: MemberSpec = { name: m.name, class: m.class as MemberClass, weight: m.weight };
    for (const b of ["metered", "prefer_roaming"] as const) {
      if (m[b] === undefined) continue;
      if (typeof m[b] !== "boolean") throw new TraceError(1, `${where}.${b} must be true or false`);
      spec[b] = m[b] as boolean;
    }
    for (const n of ["min_uptime_s", "cooldown_s"] as const) {
      if (m[n] === undefined) continue;
      if (typeof m[n] !== "number" || !(m[n] as number >= 0)) {
        throw new TraceError(1, `${where}.${n} must be a number ≥ 0`);
      }
      spec[n] = m[n] as number;
    }
    return spec;
  });
}

function parseObservation(
  o: Record<string, unknown>,
  line: number,
  names: Set<string>,
  lastT: number,
): Observation {
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new TraceError(line, `unknown field '${key}'`);
    }
  }
  if (typeof o.t !== "number" || !Number.isFinite(o.t) || o.t < 0) {
    throw new TraceError(line, `"t" must be a number of seconds ≥ 0`);
  }
  if (o.t < lastT) {
    throw new TraceError(
      line,
      `"t" ${o.t} is earlier than the previous line's ${lastT}; sort the trace by t`,
    );
  }
  if (typeof o.member !== "string" || !names.has(o.member)) {
    throw new TraceError(
      line,
      `"member" '${String(o.member)}' is not in the header (members: ${[...names].join(", ")})`,
    );
  }
  for (const f of NUMBER_FIELDS) {
    if (o[f] !== undefined && (typeof o[f] !== "number" || !Number.isFinite(o[f]))) {
      throw new TraceError(line, `"${f}" must be a finite number`);
    }
  }
  for (const f of BOOL_FIELDS) {
    if (o[f] !== undefined && typeof o[f] !== "boolean") {
      throw new TraceError(line, `"${f}" must be true or false`);
    }
  }
  if (o.loss_pct !== undefined && ((o.loss_pct as number) < 0 || (o.loss_pct as number) > 100)) {
    throw new TraceError(line, `"loss_pct" must be from 0 to 100`);
  }
  if (o.outage_cause !== undefined && typeof o.outage_cause !== "string") {
    throw new TraceError(line, `"outage_cause" must be a string (the dish's enum name)`);
  }
  if (
    o.alerts !== undefined &&
    (!Array.isArray(o.alerts) || !o.alerts.every((a) => typeof a === "string"))
  ) {
    throw new TraceError(line, `"alerts" must be an array of alert names`);
  }
  return o as unknown as Observation;
}

/** A tick line of a trace (`{"tick":41.503}`): the engine ticked at `tick` trace seconds. */
export interface TraceTickLine {
  /** Tick time (trace seconds). */
  tick: number;
}

/** One line after the header, in file order: an observation or a recorded tick. */
export type TraceEntry = Observation | TraceTickLine;

/** A trace's header, parsed at once; its lines follow lazily in `entries`. */
export interface TraceLines {
  /** Members from the header. */
  members: MemberSpec[];
  /** The header's `config`, if recorded. */
  config?: Partial<EngineConfig>;
  /** The header's `start_t`, if recorded. */
  start_t?: number;
  /**
   * Observations and tick lines in file order, each parsed when the iteration
   * reaches it; throws {@linkcode TraceError} at the first bad line. Can be
   * walked once.
   */
  entries: Iterable<TraceEntry>;
}

/**
 * Parses a trace given as lines, lazily: the header at once, each later line
 * when the returned `entries` reach it, so a file read line by line is never
 * held whole. The same checks and messages as {@linkcode parseTrace} (which
 * is built on it).
 *
 * @example
 * ```ts
 * const { members, entries } = parseTraceLines([
 *   '{"starfail_trace":1,"members":[{"name":"sl","class":"starlink","weight":100}]}',
 *   '{"t":0,"member":"sl","latency_ms":40,"loss_pct":0}',
 *   '{"tick":0}',
 * ]);
 * for (const e of entries) console.log("tick" in e ? `tick ${e.tick}` : e.member);
 * ```
 */
export function parseTraceLines(lines: Iterable<string>): TraceLines {
  const it = lines[Symbol.iterator]();
  const first = it.next();
  if (first.done) throw new TraceError(1, "the trace is empty; expected a header line");
  if (first.value.trim() === "") {
    // Blank lines before the header: name where the header really is.
    let n = 1;
    for (let r = it.next(); !r.done; r = it.next()) {
      n++;
      if (r.value.trim() !== "") throw new TraceError(n, "the header must be the first line");
    }
    throw new TraceError(1, "the trace is empty; expected a header line");
  }
  const header = parseLine(first.value, 1);
  const members = parseHeader(header);
  const extra = parseHeaderExtras(header);
  const names = new Set(members.map((m) => m.name));
  function* entries(): Generator<TraceEntry> {
    let lastT = 0;
    let lastTick = -Infinity;
    let n = 1;
    for (let r = it.next(); !r.done; r = it.next()) {
      n++;
      const text = r.value.trim();
      if (text === "") continue;
      const raw = parseLine(text, n);
      if ("tick" in raw) {
        const t = raw.tick;
        if (typeof t !== "number" || !Number.isFinite(t) || t < lastTick) {
          throw new TraceError(
            n,
            `"tick" must be a finite number of seconds, not before the previous tick (got ${
              JSON.stringify(t)
            })`,
          );
        }
        lastTick = t;
        yield { tick: t };
        continue;
      }
      const obs = parseObservation(raw, n, names, lastT);
      lastT = obs.t;
      yield obs;
    }
  }
  return { members, ...extra, entries: entries() };
}

/**
 * Parses a whole trace. Throws {@linkcode TraceError} at the first problem.
 *
 * @example
 * ```ts
 * const trace = parseTrace(
 *   '{"starfail_trace":1,"members":[{"name":"sl","class":"starlink","weight":100}]}\n' +
 *   '{"t":0,"member":"sl","latency_ms":40,"loss_pct":0}\n',
 * );
 * trace.observations.length; // 1
 * ```
 */
export function parseTrace(text: string): Trace {
  const { entries, ...head } = parseTraceLines(text.split("\n"));
  const observations: Observation[] = [];
  const ticks: TraceTick[] = [];
  for (const e of entries) {
    if ("tick" in e) ticks.push({ t: e.tick, after: observations.length });
    else observations.push(e);
  }
  return { ...head, observations, ...(ticks.length > 0 ? { ticks } : {}) };
}

/**
 * A trace's entries in file order: each recorded tick after the observations
 * it followed (the inverse of how {@linkcode parseTrace} groups them).
 */
export function* traceEntries(trace: Trace): Generator<TraceEntry> {
  const ticks = trace.ticks ?? [];
  let k = 0;
  for (let i = 0; i < trace.observations.length; i++) {
    while (k < ticks.length && ticks[k].after <= i) yield { tick: ticks[k++].t };
    yield trace.observations[i];
  }
  while (k < ticks.length) yield { tick: ticks[k++].t };
}

/** The header's optional `config` (known engine options only) and `start_t`. */
function parseHeaderExtras(h: Record<string, unknown>): Pick<Trace, "config" | "start_t"> {
  const out: Pick<Trace, "config" | "start_t"> = {};
  if (h.config !== undefined) {
    if (h.config === null || typeof h.config !== "object" || Array.isArray(h.config)) {
      throw new TraceError(1, `"config" must be an object of engine options`);
    }
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h.config as Record<string, unknown>)) {
      if (!(k in DEFAULT_ENGINE_CONFIG)) {
        throw new TraceError(1, `"config.${k}" is not an engine option`);
      }
      const def = (DEFAULT_ENGINE_CONFIG as Record<string, unknown>)[k];
      if (typeof v !== typeof def) {
        const want = typeof def;
        throw new TraceError(1, `"config.${k}" must be a ${want}, got ${JSON.stringify(v)}`);
      }
      config[k] = v;
    }
    out.config = config as Partial<EngineConfig>;
  }
  if (h.start_t !== undefined) {
    if (typeof h.start_t !== "number" || !Number.isFinite(h.start_t)) {
      throw new TraceError(1, `"start_t" must be a finite number of seconds`);
    }
    out.start_t = h.start_t;
  }
  return out;
}

/** Serialises a trace as JSON Lines (the inverse of {@linkcode parseTrace}). */
export function formatTrace(trace: Trace): string {
  const out = [JSON.stringify({
    starfail_trace: TRACE_VERSION,
    members: trace.members,
    ...(trace.config === undefined ? {} : { config: trace.config }),
    ...(trace.start_t === undefined ? {} : { start_t: trace.start_t }),
  })];
  const ticks = trace.ticks ?? [];
  let k = 0;
  trace.observations.forEach((o, i) => {
    while (k < ticks.length && ticks[k].after <= i) {
      out.push(JSON.stringify({ tick: ticks[k++].t }));
    }
    out.push(JSON.stringify(o));
  });
  while (k < ticks.length) out.push(JSON.stringify({ tick: ticks[k++].t }));
  return out.join("\n") + "\n";
}

/** What a replay must know before it starts ({@linkcode scanTraceLines}). */
export interface TraceScan {
  /** The first recorded tick's time, if the trace has tick lines. */
  firstTick?: number;
  /** The first observation's `t`, if any. */
  firstObservationT?: number;
}

/**
 * A cheap first pass over a trace's lines (header included, it is skipped):
 * the first tick and the first observation time, without validating (the
 * full parse reports any problem). Only lines that could be tick lines are
 * parsed as JSON, so a trace without ticks costs a string search per line.
 */
export function scanTraceLines(lines: Iterable<string>): TraceScan {
  const out: TraceScan = {};
  let header = true;
  for (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    const text = line.trim();
    if (text === "") continue;
    // A tick line names "tick" (possibly \u-escaped); other lines are observations.
    const maybeTick = text.includes('"tick"') || text.includes("\\");
    if (!maybeTick && out.firstObservationT !== undefined) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) continue;
    const o = raw as Record<string, unknown>;
    if ("tick" in o) {
      if (out.firstTick !== undefined) continue;
      // The full parse rejects a bad first tick; either way, ticks are recorded.
      out.firstTick = typeof o.tick === "number" ? o.tick : NaN;
      if (out.firstObservationT !== undefined) break;
    } else if (out.firstObservationT === undefined && typeof o.t === "number") {
      out.firstObservationT = o.t;
      if (out.firstTick !== undefined) break;
    }
  }
  return out;
}
