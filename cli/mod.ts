/**
 * The `starfail` command line: one executable, many subcommands. This module
 * holds the table of subcommands and {@linkcode main}, which dispatches to them
 * and turns every failure into one line on stderr and a `sysexits.h` code.
 *
 * @module
 */

import { CliError, EXIT, UsageError } from "./args.ts";
import { VERSION } from "../version.ts";
import { FileReadError } from "../io/read_file.ts";
import { oneLine } from "../io/show_value.ts";
import { sandboxMessage } from "../config/sandbox.ts";

/** A subcommand module: `run(argv)` resolves to the exit code. */
export interface CommandModule {
  /** Runs the subcommand with the arguments after its name. */
  run(argv: string[]): Promise<number>;
}

/** One row of the subcommand table. */
export interface CommandEntry {
  /** Name typed after `starfail`. */
  name: string;
  /** Synopsis shown by `starfail help`. */
  synopsis: string;
  /** What it does, one line. */
  summary: string;
  /** Loads the module; `null` while the backend is not built yet. */
  load: (() => Promise<CommandModule>) | null;
}

/** Every subcommand, in the order `starfail help` lists them. */
export const COMMANDS: CommandEntry[] = [
  {
    name: "daemon",
    synopsis: "daemon [--config PATH] [--monitor] [--dry-run] …",
    summary: "run the failover daemon",
    load: () => import("./daemon.ts"),
  },
  {
    name: "status",
    synopsis: "status [--json]",
    summary: "current primary, why, and member states",
    load: () => import("./status.ts"),
  },
  {
    name: "members",
    synopsis: "members [--json]",
    summary: "members with scores and latest metrics",
    load: () => import("./members.ts"),
  },
  {
    name: "metrics",
    synopsis: "metrics MEMBER [--limit N] [--json]",
    summary: "a member's score explained and its samples",
    load: () => import("./metrics.ts"),
  },
  {
    name: "history",
    synopsis: "history MEMBER [--since S] [--json]",
    summary: "a member's score history",
    load: () => import("./history.ts"),
  },
  {
    name: "events",
    synopsis: "events [--limit N] [--json]",
    summary: "recent decisions and events",
    load: () => import("./events.ts"),
  },
  {
    name: "failover",
    synopsis: "failover MEMBER [--for S]",
    summary: "make MEMBER primary now (manual override)",
    load: () => import("./failover.ts"),
  },
  {
    name: "restore",
    synopsis: "restore",
    summary: "end a manual override, back to automatic",
    load: () => import("./restore.ts"),
  },
  {
    name: "recheck",
    synopsis: "recheck",
    summary: "re-read interfaces and re-evaluate now",
    load: () => import("./recheck.ts"),
  },
  {
    name: "notify",
    synopsis: "notify test [--channel NAME]",
    summary: "send a test message through the notification channels",
    load: () => import("./notify.ts"),
  },
  {
    name: "config",
    synopsis: "config validate|show|get|set …",
    summary: "check, show or edit /etc/config/starfail",
    load: () => import("./config.ts"),
  },
  {
    name: "dish",
    synopsis: "dish status|history|device-info|diagnostics|location",
    summary: "query the Starlink dish directly",
    load: () => import("./dish.ts"),
  },
  {
    name: "remote",
    synopsis: "remote check [--config PATH]",
    summary: "log in to the remote router and report what it allows",
    load: () => import("./remote_check.ts"),
  },
  {
    name: "replay",
    synopsis: "replay FILE [--config PATH] [--json]",
    summary: "run the engine over a recorded trace",
    load: () => import("./replay.ts"),
  },
  {
    name: "demo",
    synopsis: "demo [--duration S]",
    summary: "run the daemon on a built-in simulated router",
    load: () => import("./demo.ts"),
  },
  {
    name: "version",
    synopsis: "version [--json]",
    summary: "show the version",
    load: () => import("./version.ts"),
  },
  {
    name: "help",
    synopsis: "help [COMMAND]",
    summary: "show this help, or a command's help",
    load: null,
  },
];

/** The top-level help text. */
export function usage(): string {
  const rows = COMMANDS.map((c) => `  starfail ${c.synopsis.padEnd(52)} ${c.summary}`);
  return [
    `starfail ${VERSION} — multi-WAN failover for OpenWrt/RutOS (Starlink, cellular, Wi-Fi, LAN)`,
    "",
    "Usage:",
    ...rows,
    "",
    "Daemon flags may also be given without the word `daemon`: starfail --monitor --config PATH",
    "Run `starfail COMMAND --help` for a command's flags and examples.",
  ].join("\n");
}

/** Prints a user-facing failure as one line and returns its exit code. */
export function reportError(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(oneLine(err.message));
    console.error(`Usage: ${err.usage}`);
    return EXIT.USAGE;
  }
  if (err instanceof CliError) {
    console.error(oneLine(err.message));
    return err.code;
  }
  const problems = (err as { problems?: unknown }).problems;
  if (err instanceof Error && err.name === "ConfigError" && Array.isArray(problems)) {
    for (const p of problems) console.error(oneLine(String(p)));
    const code = (err as { exitCode?: unknown }).exitCode;
    return typeof code === "number" ? code : EXIT.CONFIG;
  }
  if (err instanceof FileReadError) {
    console.error(err.message);
    return err.exitCode;
  }
  const denied = sandboxMessage(err);
  if (denied !== null) {
    console.error(`starfail: ${denied}`);
    return EXIT.NOPERM;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (typeof (err as { code?: unknown }).code === "string") {
    // An OS error nothing below turned into a sentence (read-only, full disk, I/O):
    // EX_IOERR, with Deno's message, which names the path.
    console.error(`starfail: I/O error: ${oneLine(message.split("\n")[0])}`);
    return EXIT.IOERR;
  }
  console.error(`starfail: internal error: ${oneLine(message.split("\n")[0])}`);
  if (Deno.env.get("STARFAIL_DEBUG")) console.error(err);
  return EXIT.SOFTWARE;
}

/**
 * Runs the command line `argv` (without the program name) and resolves to the
 * process exit code.
 *
 * @example
 * ```ts
 * Deno.exit(await main(["version"]));
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "help" || first === "--help" || first === "-h") {
      const topic = first === "help" ? rest[0] : undefined;
      if (topic !== undefined && topic !== "help") return await main([topic, "--help"]);
      console.log(usage());
      return first === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (first === "--version" || first === "-V") return await main(["version"]);
    if (first.startsWith("-")) return await main(["daemon", ...argv]);
    const entry = COMMANDS.find((c) => c.name === first);
    if (entry === undefined) {
      throw new UsageError(`starfail: unknown command '${first}'`, "starfail COMMAND [FLAGS]");
    }
    if (entry.load === null) {
      throw new CliError(
        `starfail ${entry.name}: not available yet in this build (${entry.summary})`,
        EXIT.SOFTWARE,
      );
    }
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (err) {
    return reportError(err);
  }
}
