/**
 * The imperative shell around {@linkcode parseTrace}: reads a trace file.
 * This is the only file in engine/ that does I/O.
 *
 * @module
 */

import { parseTrace, type Trace, TraceError } from "./trace.ts";
import { FileReadError, readTextFileBounded, TRACE_MAX_BYTES } from "../io/read_file.ts";
import { oneLine, showValue } from "../io/show_value.ts";

/** Why a trace file could not be used. */
export class TraceFileError extends Error {
  /**
   * `missing` (no such file, or not a readable regular file), `unreadable`
   * (I/O error) or `invalid` (bad content, or above the size cap).
   */
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
    // Regular files only, at most TRACE_MAX_BYTES: a FIFO or /dev/zero is refused at once.
    text = await readTextFileBounded(path, { maxBytes: TRACE_MAX_BYTES, what: "trace file" });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    // Cannot open as input (absent, FIFO, device, directory, no permission) → `missing`;
    // above the size cap → `invalid`; an I/O error (symlink loop, EIO) → `unreadable`.
    const kind = err.kind === "too_large"
      ? "invalid"
      : err.kind === "io"
      ? "unreadable"
      : "missing";
    throw new TraceFileError(kind, err.message);
  }
  try {
    return parseTrace(text);
  } catch (err) {
    if (err instanceof TraceError) {
      throw new TraceFileError("invalid", oneLine(`${showValue(path, 200)}: ${err.message}`));
    }
    throw err;
  }
}
