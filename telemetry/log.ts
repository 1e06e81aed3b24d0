/**
 * Logging for the whole program (JSR's `@std/log` cannot be installed here):
 * library code only calls `getLogger(["starfail", part])` from
 * `telemetry/logger.ts`; this module decides where records go:
 *
 * - console lines like `[15:04:05.123] INFO  Failover triggered from=starlink to=cellular`,
 *   coloured only on a terminal and never with `--no-color` or `NO_COLOR`;
 * - JSON lines `{"ts":…,"level":…,"msg":…,"fields":{…}}`;
 * - a log file (appended, reopened on SIGHUP for logrotate, capped in size:
 *   past the cap it is renamed to `FILE.1` and a new file is started).
 *
 * @module
 */

import { SideFile } from "../io/side_file.ts";
import { type LogRecord, setLogSink, type Sink } from "./logger.ts";

/** Our level names, from most to least detailed. */
export const LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

/** A level name accepted by `--log-level`, UCI `log_level` and ubus `setlog`. */
export type LevelName = typeof LEVELS[number];

/** Whether `s` is one of {@linkcode LEVELS}. */
export function isLevelName(s: string): s is LevelName {
  return (LEVELS as readonly string[]).includes(s);
}

/** Options for {@linkcode setupLogging}. */
export interface LoggingOptions {
  /** Lowest level written. */
  level: LevelName;
  /** Write JSON lines instead of console lines (console and file alike). */
  json?: boolean;
  /** `true`/`false` force colours; `"auto"` (default) colours only a terminal without NO_COLOR. */
  color?: boolean | "auto";
  /** Where console records go (default stderr); `"none"` writes no console output. */
  console?: "stdout" | "stderr" | "none";
  /** Append records to this file too. */
  file?: string;
  /** Rotate the file to `FILE.1` once it grows past this many bytes (default 1 MiB). */
  fileMaxBytes?: number;
  /** Clock for console timestamps (tests); defaults to the record's own timestamp. */
  timeZone?: "local" | "utc";
}

/** A running logging set-up. */
export interface LogHandle {
  /** Changes the lowest level written, at once. */
  setLevel(level: LevelName): void;
  /** The lowest level currently written. */
  level(): LevelName;
  /** Closes and reopens the log file (after logrotate moved it). */
  reopen(): void;
  /** Flushes and closes everything. */
  close(): Promise<void>;
}

const RANK: Record<LevelName, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** The lowest level the running set-up writes; null while logging is not set up. */
let activeLevel: LevelName | null = null;

/**
 * Whether a record at `level` would be written now. Hot paths check it before
 * building the fields of a detailed record, so a quiet daemon does no such work.
 */
export function logEnabled(level: LevelName): boolean {
  return activeLevel !== null && RANK[level] >= RANK[activeLevel];
}

function levelOf(record: LogRecord): LevelName {
  switch (record.level) {
    case "trace":
      return "trace";
    case "debug":
      return "debug";
    case "info":
      return "info";
    case "warning":
      return "warn";
    default:
      return "error";
  }
}

/** The message of a record with its `{name}` fields filled in. */
function messageText(record: LogRecord): string {
  return record.message.map((part, i) => (i % 2 === 0 ? String(part) : render(part))).join("");
}

/** Renders a field value for a console line: bare when simple, JSON otherwise. */
function render(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
  }
  if (typeof value === "boolean" || value === null) return String(value);
  if (value === undefined) return "undefined";
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function plainFields(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) out[k] = v instanceof Error ? v.message : v;
  return out;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/**
 * Formats a record as a console line:
 * `[15:04:05.123] INFO  Failover triggered from=starlink to=cellular reason=low_score`.
 */
export function formatConsoleLine(
  record: LogRecord,
  opts: { color: boolean; timeZone?: "local" | "utc" },
): string {
  const d = new Date(record.timestamp);
  const utc = opts.timeZone === "utc";
  const hh = utc ? d.getUTCHours() : d.getHours();
  const mm = utc ? d.getUTCMinutes() : d.getMinutes();
  const ss = utc ? d.getUTCSeconds() : d.getSeconds();
  const ms = utc ? d.getUTCMilliseconds() : d.getMilliseconds();
  const time = `[${pad2(hh)}:${pad2(mm)}:${pad2(ss)}.${String(ms).padStart(3, "0")}]`;
  const level = levelOf(record);
  const label = level.toUpperCase().padEnd(5);
  const fields = Object.entries(record.properties)
    .map(([k, v]) => `${k}=${render(v)}`)
    .join(" ");
  const text = messageText(record) + (fields ? ` ${fields}` : "");
  if (!opts.color) return `${time} ${label} ${text}`;
  const colour = { trace: 90, debug: 36, info: 32, warn: 33, error: 31 }[level];
  return `\x1b[90m${time}\x1b[0m \x1b[${colour}m${label}\x1b[0m ${text}`;
}

/** Formats a record as one JSON line: `{"ts":…,"level":…,"msg":…,"fields":{…}}`. */
export function formatJsonLine(record: LogRecord): string {
  return JSON.stringify({
    ts: new Date(record.timestamp).toISOString(),
    level: levelOf(record),
    category: record.category.join("."),
    msg: messageText(record),
    fields: plainFields(record.properties),
  });
}

/** Decides whether console output gets ANSI colours. */
export function wantColor(
  setting: boolean | "auto" | undefined,
  isTerminal: boolean,
  env: { noColor?: string },
): boolean {
  if (setting === true) return true;
  if (setting === false) return false;
  if (env.noColor !== undefined && env.noColor !== "") return false;
  return isTerminal;
}

/**
 * A file that is appended to, reopened on demand, and rotated past a size cap.
 * A read-only path or a full disk never stops the daemon: the problem is told
 * once on the console (with the count of lost lines when it clears).
 */
class LogFile {
  #maxBytes: number;
  #file: SideFile;

  constructor(path: string, maxBytes: number, onProblem: (message: string) => void) {
    this.#maxBytes = maxBytes;
    this.#file = new SideFile(path, {
      mode: "append",
      what: "log file",
      onProblem: (p) => onProblem(p.message),
    });
  }

  reopen(): void {
    this.#file.reopen();
  }

  write(line: string): void {
    const bytes = new TextEncoder().encode(line).length + 1;
    if (this.#file.size + bytes > this.#maxBytes && this.#file.size > 0) {
      this.#file.rotate();
    }
    this.#file.writeLine(line);
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * Routes every `["starfail", …]` logger to the console and/or a file.
 * Calling it again replaces the previous set-up.
 *
 * @example
 * ```ts
 * const logs = await setupLogging({ level: "info", console: "stdout" });
 * getLogger(["starfail", "engine"]).info("Failover triggered", { from: "starlink", to: "cellular" });
 * await logs.close();
 * ```
 */
export function setupLogging(opts: LoggingOptions): Promise<LogHandle> {
  let current: LevelName = opts.level;
  activeLevel = current;
  const color = wantColor(
    opts.color,
    opts.console === "stdout" ? Deno.stdout.isTerminal() : Deno.stderr.isTerminal(),
    { noColor: Deno.env.get("NO_COLOR") },
  );
  const encoder = new TextEncoder();
  const target = opts.console ?? "stderr";
  const out = target === "stdout" ? Deno.stdout : target === "stderr" ? Deno.stderr : null;
  const problem = (message: string) => {
    // Straight to the console: logging it would write to the failing file again.
    const ts = new Date().toISOString();
    const line = opts.json
      ? JSON.stringify({ ts, level: "warning", msg: message, fields: {} })
      : `${ts} WARN  starfail: ${message}`;
    writeAll(out ?? Deno.stderr, encoder.encode(line + "\n"));
  };
  const file = opts.file ? new LogFile(opts.file, opts.fileMaxBytes ?? 1024 * 1024, problem) : null;

  const sink: Sink = (record: LogRecord) => {
    if (RANK[levelOf(record)] < RANK[current]) return;
    if (out !== null) {
      const line = opts.json
        ? formatJsonLine(record)
        : formatConsoleLine(record, { color, timeZone: opts.timeZone });
      writeAll(out, encoder.encode(line + "\n"));
    }
    if (file !== null) {
      file.write(
        opts.json
          ? formatJsonLine(record)
          : formatConsoleLine(record, { color: false, timeZone: opts.timeZone }),
      );
    }
  };

  setLogSink(sink);

  return Promise.resolve({
    setLevel(level: LevelName) {
      current = level;
      activeLevel = level;
    },
    level() {
      return current;
    },
    reopen() {
      file?.reopen();
    },
    close() {
      activeLevel = null;
      setLogSink(null);
      file?.close();
      return Promise.resolve();
    },
  });
}

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}
