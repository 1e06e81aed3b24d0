/**
 * The loggers every part of starfail writes to: `getLogger(["starfail",
 * part]).info("Failover to {to}", { to, reason })`. A record carries its
 * category, level, message (with `{name}` placeholders filled from its
 * properties), properties and timestamp, and goes to the one sink that
 * `telemetry/log.ts` installs (console lines, JSON lines, a log file); with no
 * sink installed a record costs nothing but its call.
 *
 * This replaced LogTape (same record shape and call style): importing it took
 * a process holding `node:util` and valibot from 40.4 to 42.6 MiB of RSS
 * (README, Footprint), and starfail used only its loggers and one sink.
 *
 * @module
 */

/** Record levels, from most to least detailed. */
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** One log record as the sink receives it. */
export interface LogRecord {
  /** The logger's category, e.g. `["starfail", "engine"]`. */
  readonly category: readonly string[];
  /** The record's level. */
  readonly level: LogLevel;
  /** The message: text parts at even indexes, placeholder values at odd ones. */
  readonly message: readonly unknown[];
  /** The message as written, placeholders unfilled. */
  readonly rawMessage: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** The record's fields. */
  readonly properties: Record<string, unknown>;
}

/** Where records go. */
export type Sink = (record: LogRecord) => void;

/** A logger of one category. */
export interface Logger {
  /** The logger's category. */
  readonly category: readonly string[];
  /** Writes a trace record. */
  trace(message: string, properties?: Record<string, unknown>): void;
  /** Writes a debug record. */
  debug(message: string, properties?: Record<string, unknown>): void;
  /** Writes an info record. */
  info(message: string, properties?: Record<string, unknown>): void;
  /** Writes a warning record. */
  warn(message: string, properties?: Record<string, unknown>): void;
  /** Writes a warning record (the same as {@linkcode Logger.warn}). */
  warning(message: string, properties?: Record<string, unknown>): void;
  /** Writes an error record. */
  error(message: string, properties?: Record<string, unknown>): void;
  /** Writes a fatal record. */
  fatal(message: string, properties?: Record<string, unknown>): void;
}

let activeSink: Sink | null = null;

/**
 * Installs the sink every logger writes to (`null`: records are dropped).
 * Returns the sink it replaced.
 */
export function setLogSink(sink: Sink | null): Sink | null {
  const previous = activeSink;
  activeSink = sink;
  return previous;
}

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Splits a message template into text parts and the values of its `{name}`
 * placeholders (text at even indexes). A placeholder without such a property
 * stays text; `{{` and `}}` are literal braces.
 *
 * @example
 * ```ts
 * parseMessage("Failover to {to}", { to: "cell" }); // ["Failover to ", "cell", ""]
 * ```
 */
export function parseMessage(template: string, properties: Record<string, unknown>): unknown[] {
  if (!template.includes("{") && !template.includes("}")) return [template];
  const parts: unknown[] = [];
  let text = "";
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    text += template.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === "{{") text += "{";
    else if (m[0] === "}}") text += "}";
    else if (Object.hasOwn(properties, m[1])) {
      parts.push(text, properties[m[1]]);
      text = "";
    } else text += m[0];
  }
  parts.push(text + template.slice(last));
  return parts;
}

function emit(
  category: readonly string[],
  level: LogLevel,
  message: string,
  properties: Record<string, unknown> | undefined,
): void {
  const sink = activeSink;
  if (sink === null) return;
  const props = properties ?? {};
  try {
    sink({
      category,
      level,
      message: parseMessage(message, props),
      rawMessage: message,
      timestamp: Date.now(),
      properties: props,
    });
  } catch {
    // A failing sink must never take its caller down; the sink reports its own problems.
  }
}

/**
 * The logger of `category` (a string is a one-part category).
 *
 * @example
 * ```ts
 * const log = getLogger(["starfail", "engine"]);
 * log.info("Failover to {to}", { to: "cellular", reason: "low_score" });
 * ```
 */
export function getLogger(category: string | readonly string[]): Logger {
  const cat = typeof category === "string" ? [category] : [...category];
  return {
    category: cat,
    trace: (m, p) => emit(cat, "trace", m, p),
    debug: (m, p) => emit(cat, "debug", m, p),
    info: (m, p) => emit(cat, "info", m, p),
    warn: (m, p) => emit(cat, "warning", m, p),
    warning: (m, p) => emit(cat, "warning", m, p),
    error: (m, p) => emit(cat, "error", m, p),
    fatal: (m, p) => emit(cat, "fatal", m, p),
  };
}
