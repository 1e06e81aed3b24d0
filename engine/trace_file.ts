/**
 * The imperative shell around {@linkcode parseTrace}: reads a trace file,
 * whole ({@linkcode readTraceFile}, capped at `TRACE_MAX_BYTES`) or streamed
 * in 64 KiB chunks while it is replayed ({@linkcode openTraceFile}, no size
 * cap: memory does not grow with the file; one line may not exceed
 * {@linkcode TRACE_MAX_LINE_CHARS}). This is the only file in engine/ that
 * does I/O.
 *
 * @module
 */

import {
  parseTrace,
  parseTraceLines,
  scanTraceLines,
  type Trace,
  type TraceEntry,
  TraceError,
} from "./trace.ts";
import { type ReplayStart, replayStart } from "./replay.ts";
import type { EngineConfig } from "./config.ts";
import type { MemberSpec } from "./types.ts";
import {
  fileErrorOf,
  FileReadError,
  openRegularFileSync,
  readTextFileBounded,
  TRACE_MAX_BYTES,
} from "../io/read_file.ts";
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
    throw traceFileErrorOf(err);
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

/**
 * A {@linkcode FileReadError} as a {@linkcode TraceFileError}: cannot open as
 * input (absent, FIFO, device, directory, no permission) → `missing`; above
 * the size cap → `invalid`; an I/O error (symlink loop, EIO) → `unreadable`.
 */
function traceFileErrorOf(err: FileReadError): TraceFileError {
  const kind = err.kind === "too_large" ? "invalid" : err.kind === "io" ? "unreadable" : "missing";
  return new TraceFileError(kind, err.message);
}

/** Longest line {@linkcode openTraceFile} accepts (a trace line is one observation: ~200 chars). */
export const TRACE_MAX_LINE_CHARS = 1024 * 1024;

/** The lines of an open file, read in 64 KiB chunks from its start; closes it when done. */
function* fileLines(file: Deno.FsFile, path: string): Generator<string> {
  const buf = new Uint8Array(65536);
  const dec = new TextDecoder();
  const shown = oneLine(showValue(path, 200));
  let rest = "";
  let line = 0;
  try {
    for (;;) {
      let n: number | null;
      try {
        n = file.readSync(buf);
      } catch (err) {
        if (err instanceof Deno.errors.NotCapable) throw err;
        throw traceFileErrorOf(fileErrorOf(err, path, "trace file"));
      }
      if (n === null) break;
      const parts = (rest + dec.decode(buf.subarray(0, n), { stream: true })).split("\n");
      rest = parts.pop()!;
      if (rest.length > TRACE_MAX_LINE_CHARS) {
        throw new TraceFileError(
          "invalid",
          `${shown}: line ${
            line + parts.length + 1
          } is longer than ${TRACE_MAX_LINE_CHARS} characters; a trace line is one JSON object`,
        );
      }
      line += parts.length;
      yield* parts;
    }
    rest += dec.decode();
    yield rest;
  } finally {
    try {
      file.close();
    } catch {
      // already closed
    }
  }
}

/** A trace file opened for replay: the header parsed, the rest read as it is iterated. */
export interface TraceStream {
  /** The header's members. */
  members: MemberSpec[];
  /** The header's `config` (the engine options it was recorded with), if any. */
  config?: Partial<EngineConfig>;
  /** The header's `start_t`, if any. */
  start_t?: number;
  /** Where replay starts and whether it ticks at recorded times (for `replayEntries`). */
  start: ReplayStart;
  /**
   * Observations and tick lines in file order, parsed as they are read;
   * iterating throws {@linkcode TraceFileError} (`invalid`, `unreadable`) at
   * the first problem. Can be walked once; the file is closed at the end.
   */
  entries: Iterable<TraceEntry>;
}

/**
 * Opens the trace at `path` for a streamed replay: checks it is a regular
 * file, parses the header at once, finds where replay starts (a first pass
 * that stops at the first recorded tick), and leaves the observations and
 * ticks to be read while iterating, so memory stays flat however long the
 * trace (a 24 h recording is ~30 MB). Throws {@linkcode TraceFileError} like
 * {@linkcode readTraceFile}.
 *
 * @example
 * ```ts
 * const s = openTraceFile("/tmp/starfail/night.jsonl");
 * const result = replayEntries(s.members, s.entries, engineConfig(s.config ?? {}), s.start);
 * ```
 */
export function openTraceFile(path: string): TraceStream {
  const shown = showValue(path, 200);
  const invalid = (err: unknown): never => {
    if (err instanceof TraceError) {
      throw new TraceFileError("invalid", oneLine(`${shown}: ${err.message}`));
    }
    throw err;
  };
  const open = (): Deno.FsFile => {
    try {
      return openRegularFileSync(path, "trace file");
    } catch (err) {
      if (err instanceof FileReadError) throw traceFileErrorOf(err);
      throw err;
    }
  };
  // First pass: where replay starts (stops at the first tick of a recorded trace).
  const scanLines = fileLines(open(), path);
  let scan;
  try {
    scan = scanTraceLines(scanLines);
  } finally {
    scanLines.return(undefined);
  }
  const lines = fileLines(open(), path);
  let parsed: ReturnType<typeof parseTraceLines>;
  try {
    parsed = parseTraceLines(lines);
  } catch (err) {
    lines.return(undefined);
    return invalid(err);
  }
  const inner = parsed.entries;
  function* entries(): Generator<TraceEntry> {
    try {
      yield* inner;
    } catch (err) {
      invalid(err);
    } finally {
      lines.return(undefined);
    }
  }
  const { entries: _, ...head } = parsed;
  const start = replayStart({ start_t: head.start_t, ...scan });
  return { ...head, start, entries: entries() };
}
