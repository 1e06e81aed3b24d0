/**
 * Shared command-line plumbing: one parser for every subcommand, built on
 * `node:util` parseArgs (JSR's `@std/cli` cannot be installed here), help text
 * with examples, and the exit codes of `sysexits.h`.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** Exit codes, after BSD `sysexits.h`. */
export const EXIT = {
  OK: 0,
  FAIL: 1,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  IOERR: 74,
  /** Permission denied: the binary's sandbox, or (remote mode) the router refused the login. */
  NOPERM: 77,
  CONFIG: 78,
} as const;

/** A mistake in how a command was called: printed as one line plus usage, exit 64. */
export class UsageError extends Error {
  /** Usage text of the command that was called wrongly. */
  readonly usage: string;
  /** Creates a usage error for the command whose usage text is given. */
  constructor(message: string, usage: string) {
    super(message);
    this.name = "UsageError";
    this.usage = usage;
  }
}

/** An error meant for the user: printed as its one-line message, exits with `code`. */
export class CliError extends Error {
  /** Process exit code. */
  readonly code: number;
  /** Creates an error that main.ts prints as one line and exits with `code`. */
  constructor(message: string, code: number = EXIT.FAIL) {
    super(message);
    this.name = "CliError";
    this.code = code;
  }
}

/** How a subcommand is called. */
export interface CommandSpec {
  /** Name as typed after `starfail`, e.g. `config validate`. */
  name: string;
  /** One line saying what it does. */
  summary: string;
  /** Synopsis, e.g. `starfail metrics MEMBER [--json] [--limit N]`. */
  usage: string;
  /** Example command lines shown by `--help`. */
  examples: string[];
  /** Flags for `node:util` parseArgs; `--help` is added automatically. */
  options: ParseArgsOptionsConfig;
  /** Optional text listing the flags; derived from `options` when absent. */
  optionHelp?: Record<string, string>;
  /** Fewest positional arguments accepted (default 0). */
  minPositionals?: number;
  /** Most positional arguments accepted (default 0). */
  maxPositionals?: number;
}

/** Parsed flags and positional arguments. */
export interface ParsedCommand {
  /** Flag values by long name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments in order. */
  positionals: string[];
}

/** Renders the `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`${spec.summary}`, "", `Usage: ${spec.usage}`];
  const names = Object.keys(spec.options);
  if (names.length > 0) {
    lines.push("", "Options:");
    for (const name of names) {
      const opt = spec.options[name];
      const flag = `--${name}${opt.type === "string" ? " VALUE" : ""}` +
        (opt.short ? `, -${opt.short}` : "");
      const text = spec.optionHelp?.[name] ?? "";
      lines.push(`  ${flag.padEnd(26)} ${text}`.trimEnd());
    }
  }
  lines.push(`  ${"--help, -h".padEnd(26)} show this help`);
  if (spec.examples.length > 0) {
    lines.push("", "Examples:");
    for (const ex of spec.examples) lines.push(`  ${ex}`);
  }
  return lines.join("\n");
}

/**
 * Parses `argv` for the command described by `spec`. Prints help and returns
 * `null` for `--help`; throws {@linkcode UsageError} for unknown flags, missing
 * flag values, or a wrong number of positional arguments.
 *
 * @example
 * ```ts
 * const parsed = parseCommand({
 *   name: "events", summary: "Show recent events", usage: "starfail events [--limit N]",
 *   examples: ["starfail events --limit 20"], options: { limit: { type: "string" } },
 * }, ["--limit", "20"]);
 * ```
 */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(`starfail ${spec.name}: ${tidyParseError(message)}`, spec.usage);
  }
  if (parsed.values.help === true) {
    console.log(helpText(spec));
    return null;
  }
  const min = spec.minPositionals ?? 0;
  const max = spec.maxPositionals ?? 0;
  const n = parsed.positionals.length;
  if (n < min) {
    throw new UsageError(
      `starfail ${spec.name}: missing argument (expected ${
        min === max ? min : `${min} to ${max}`
      })`,
      spec.usage,
    );
  }
  if (n > max) {
    throw new UsageError(
      `starfail ${spec.name}: unexpected argument '${parsed.positionals[max]}'`,
      spec.usage,
    );
  }
  const values = { ...parsed.values } as ParsedCommand["values"];
  delete values.help;
  return { values, positionals: parsed.positionals };
}

/** Turns node's parseArgs messages into a short sentence. */
function tidyParseError(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /^Option '([^']+)' argument missing/.exec(message);
  if (missing) return `option '${missing[1]}' needs a value`;
  return message.replace(/\. To specify a positional argument.*$/, "");
}

/**
 * Reads a numeric flag; throws {@linkcode UsageError} naming the flag when it is
 * not a number within [min, max].
 */
export function numberFlag(
  spec: CommandSpec,
  values: ParsedCommand["values"],
  name: string,
  opts: { min: number; max: number; fallback: number; integer?: boolean },
): number {
  const raw = values[name];
  if (raw === undefined) return opts.fallback;
  const n = Number(raw);
  const ok = typeof raw === "string" && raw.trim() !== "" && Number.isFinite(n) &&
    n >= opts.min && n <= opts.max && (!opts.integer || Number.isInteger(n));
  if (!ok) {
    throw new UsageError(
      `starfail ${spec.name}: --${name} '${String(raw)}': expected ${
        opts.integer ? "an integer" : "a number"
      } from ${opts.min} to ${opts.max}`,
      spec.usage,
    );
  }
  return n;
}
