/**
 * The imperative shell around {@linkcode parseTrace}: reads a trace file.
 * This is the only file in engine/ that does I/O.
 *
 * @module
 */

import { parseTrace, parseTraceLines, type Trace, TraceError } from "./trace.ts";
import type { MemberSpec, Observation } from "./types.ts";

/** Why a trace file could not be used. */
export class TraceFileError extends Error {
  /** `missing` (no such file), `unreadable` (I/O error) or `invalid` (bad content). */
  readonly kind: "missing" | "unreadable" | "invalid";
  /** Creates the error. */
  constructor(kind: "missing" | "unreadable" | "invalid", message: string) {
    super(message);
    this.name = "TraceFileError";
    this.kind = kind;
  }
}

/**
 * Reads and parses the trace at `path`. Throws {@linkcode TraceFileError}
 * with a one-line message naming the file (and line, for bad content).
 */
export async function readTraceFile(path: string): Promise<Trace> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new TraceFileError("missing", `${path}: no such trace file`);
    }
    const msg = err instanceof Error ? err.message : String(err);
    throw new TraceFileError("unreadable", `${path}: cannot read the trace (${msg})`);
  }
  try {
    return parseTrace(text);
  } catch (err) {
    if (err instanceof TraceError) throw new TraceFileError("invalid", `${path}: ${err.message}`);
    throw err;
  }
}

/** Lines of a file read in 64 KiB chunks (the file is never held whole). */
function* fileLines(file: Deno.FsFile, path: string): Generator<string> {
  const buf = new Uint8Array(65536);
  const dec = new TextDecoder();
  let rest = "";
  try {
    for (;;) {
      let n: number | null;
      try {
        n = file.readSync(buf);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new TraceFileError("unreadable", `${path}: cannot read the trace (${msg})`);
      }
      if (n === null) break;
      const parts = (rest + dec.decode(buf.subarray(0, n), { stream: true })).split("\n");
      rest = parts.pop()!;
      yield* parts;
    }
    rest += dec.decode();
    if (rest !== "") yield rest;
  } finally {
    file.close();
  }
}

/** A trace whose observations are read from the file as they are iterated. */
export interface TraceStream {
  /** The header's members. */
  members: MemberSpec[];
  /**
   * Observations in file order, parsed on the way; iterating throws
   * {@linkcode TraceFileError} (`invalid`, `unreadable`) at the first problem.
   * Can be walked once.
   */
  observations: Iterable<Observation>;
}

/**
 * Opens the trace at `path` and parses its header; the observations follow
 * while iterating, so memory stays flat however long the trace (a 24 h
 * recording is 30 MB of JSON Lines). Throws {@linkcode TraceFileError} like
 * {@linkcode readTraceFile}.
 *
 * @example
 * ```ts
 * const { members, observations } = openTraceFile("/tmp/starfail/night.jsonl");
 * const result = replayObservations(members, observations, engineConfig());
 * ```
 */
export function openTraceFile(path: string): TraceStream {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new TraceFileError("missing", `${path}: no such trace file`);
    }
    const msg = err instanceof Error ? err.message : String(err);
    throw new TraceFileError("unreadable", `${path}: cannot read the trace (${msg})`);
  }
  const invalid = (err: unknown): never => {
    if (err instanceof TraceError) throw new TraceFileError("invalid", `${path}: ${err.message}`);
    throw err;
  };
  const lines = fileLines(file, path);
  let parsed: ReturnType<typeof parseTraceLines>;
  try {
    parsed = parseTraceLines(lines);
  } catch (err) {
    lines.return(undefined);
    return invalid(err);
  }
  const inner = parsed.observations;
  function* observations(): Generator<Observation> {
    try {
      yield* inner;
    } catch (err) {
      invalid(err);
    } finally {
      lines.return(undefined);
    }
  }
  return { members: parsed.members, observations: observations() };
}
