/**
 * The imperative shell around {@linkcode parseTrace}: reads a trace file.
 * This is the only file in engine/ that does I/O.
 *
 * @module
 */

import { parseTrace, type Trace, TraceError } from "./trace.ts";

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
    // A sandbox denial is said as such by the CLI (exit 77), not as an I/O error.
    if (err instanceof Deno.errors.NotCapable) throw err;
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
