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
 * {@linkcode Observation}. Parsing is all-or-nothing: the first problem throws
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

/** A parsed trace. */
export interface Trace {
  /** Members from the header. */
  members: MemberSpec[];
  /** Observations in file order. */
  observations: Observation[];
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
  const lines = text.split("\n");
  const { members, observations } = parseTraceLines(lines);
  return { members, observations: [...observations] };
}

/**
 * Parses a trace given as lines, lazily: the header at once, each observation
 * when the returned iterable reaches it (so a file read line by line is never
 * held whole). Throws {@linkcode TraceError} at the first problem, the
 * observations' problems while iterating. The iterable can be walked once.
 *
 * @example
 * ```ts
 * const { members, observations } = parseTraceLines(['{"starfail_trace":1,"members":[{"name":"sl","class":"starlink","weight":100}]}']);
 * for (const o of observations) console.log(o.t);
 * ```
 */
export function parseTraceLines(
  lines: Iterable<string>,
): { members: MemberSpec[]; observations: Iterable<Observation> } {
  const it = lines[Symbol.iterator]();
  const first = it.next();
  if (first.done) throw new TraceError(1, "the trace is empty; expected a header line");
  if (first.value.trim() === "") {
    // Blank lines before the header: name where the header really is, as before.
    let n = 1;
    for (let r = it.next(); !r.done; r = it.next()) {
      n++;
      if (r.value.trim() !== "") throw new TraceError(n, "the header must be the first line");
    }
    throw new TraceError(1, "the trace is empty; expected a header line");
  }
  const members = parseHeader(parseLine(first.value, 1));
  const names = new Set(members.map((m) => m.name));
  function* observations(): Generator<Observation> {
    let lastT = 0;
    let n = 1;
    for (let r = it.next(); !r.done; r = it.next()) {
      n++;
      const text = r.value.trim();
      if (text === "") continue;
      const obs = parseObservation(parseLine(text, n), n, names, lastT);
      lastT = obs.t;
      yield obs;
    }
  }
  return { members, observations: observations() };
}

/** Serialises a trace as JSON Lines (the inverse of {@linkcode parseTrace}). */
export function formatTrace(trace: Trace): string {
  const out = [JSON.stringify({ starfail_trace: TRACE_VERSION, members: trace.members })];
  for (const o of trace.observations) out.push(JSON.stringify(o));
  return out.join("\n") + "\n";
}
