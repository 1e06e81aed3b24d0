/**
 * `starfail daemon`: runs the failover daemon in the foreground (procd keeps
 * it running). SIGHUP reloads the config and reopens the log file; SIGTERM
 * and SIGINT stop it cleanly, putting back the routes or mwan3 metrics found
 * at start (`main.restore_on_stop`).
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { configPathFromEnv, loadConfig } from "../config/mod.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { isLevelName, type LevelName, LEVELS, setupLogging } from "../telemetry/log.ts";
import { VERSION } from "../version.ts";
import { CliError, type CommandSpec, EXIT, parseCommand, UsageError } from "./args.ts";
import { RemoteAuthError } from "../router/rpc_session.ts";
import { RemotePermissionError } from "../router/from_config.ts";

/** How `starfail daemon` is called. */
export const spec: CommandSpec = {
  name: "daemon",
  summary: "Run the failover daemon in the foreground (procd runs it as a service).",
  usage:
    "starfail daemon [--config PATH] [--monitor] [--verbose|--debug|--trace|--log-level L] [--log-file PATH] [--json] [--no-color] [--dry-run] [--record FILE] [--socket PATH]",
  examples: [
    "starfail daemon --config /etc/config/starfail",
    "starfail daemon --monitor --verbose",
    "starfail --monitor --no-color --verbose > /tmp/starfail.log",
    "starfail daemon --monitor --json --verbose | jq '.fields | select(.scores != null)'",
    "starfail daemon --monitor --dry-run --config /tmp/test-config --log-level trace",
    "starfail daemon --record /tmp/starfail/night.jsonl   # then: starfail replay /tmp/starfail/night.jsonl",
  ],
  options: {
    config: { type: "string", short: "c" },
    monitor: { type: "boolean", short: "m" },
    verbose: { type: "boolean", short: "v" },
    debug: { type: "boolean" },
    trace: { type: "boolean" },
    "log-level": { type: "string" },
    "log-file": { type: "string" },
    json: { type: "boolean" },
    "no-color": { type: "boolean" },
    "dry-run": { type: "boolean", short: "n" },
    record: { type: "string" },
    socket: { type: "string" },
    version: { type: "boolean", short: "V" },
  },
  optionHelp: {
    config: "UCI config file (default /etc/config/starfail, or $STARFAIL_CONFIG)",
    monitor: "live view: collection, scores and decisions on the console",
    verbose: "debug-level logging",
    debug: "same as --verbose",
    trace: "trace-level logging: every API call and decision step",
    "log-level": `one of ${LEVELS.join(", ")} (overrides the config's log_level)`,
    "log-file": "also append logs to this file (reopened on SIGHUP)",
    json: "log JSON lines: {ts, level, msg, fields}",
    "no-color": "no ANSI colours (also when NO_COLOR is set)",
    "dry-run": "decide and log, but change nothing on the router",
    record: "write every observation to FILE as a replayable trace",
    socket: "ubus socket (default /var/run/ubus/ubus.sock, then /var/run/ubus.sock)",
    version: "print the version and exit",
  },
};

/** The log level the flags ask for, or null when they leave it to the config. */
export function levelFromFlags(values: Record<string, unknown>): LevelName | null {
  const explicit = values["log-level"];
  if (typeof explicit === "string") {
    if (!isLevelName(explicit)) {
      throw new UsageError(
        `starfail daemon: --log-level '${explicit}': expected one of ${LEVELS.join(", ")}`,
        spec.usage,
      );
    }
    return explicit;
  }
  if (values.trace) return "trace";
  if (values.verbose || values.debug) return "debug";
  return null;
}

/** Runs `starfail daemon`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const v = parsed.values;
  if (v.version) {
    console.log(`starfail ${VERSION}`);
    return EXIT.OK;
  }
  const forced = levelFromFlags(v);
  const configPath = typeof v.config === "string" ? v.config : configPathFromEnv();
  const loaded = await loadConfig(configPath);
  const main = loaded.config.main;
  const logFile = typeof v["log-file"] === "string" ? v["log-file"] : main.log_file || undefined;
  const logs = await setupLogging({
    level: forced ?? main.log_level,
    json: v.json === true,
    color: v["no-color"] ? false : "auto",
    console: "stdout",
    ...(logFile !== undefined ? { file: logFile, fileMaxBytes: main.log_max_kb * 1024 } : {}),
  });
  const log = getLogger(["starfail", "daemon"]);
  log.info("Starting starfail daemon", { version: VERSION, config: configPath });

  let handle;
  try {
    handle = await startDaemon({
      configPath,
      preloaded: loaded,
      dryRun: v["dry-run"] === true,
      monitor: v.monitor === true,
      logs,
      logsForced: forced !== null,
      ...(typeof v.record === "string" ? { recordPath: v.record } : {}),
      ...(typeof v.socket === "string" ? { socket: v.socket } : {}),
    });
  } catch (err) {
    // Remote mode with credentials the router refuses: one line, exit 77 (EX_NOPERM).
    // (The sandbox refusing the router's host is a permission problem too: same code.)
    if (err instanceof RemoteAuthError || err instanceof RemotePermissionError) {
      throw new CliError(err.message, EXIT.NOPERM);
    }
    throw err;
  }

  let stopping = false;
  const done = Promise.withResolvers<number>();
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("Stopping", { signal });
    // The clean stop (restoring routes/metrics included) takes well under a second; this
    // safety net only fires if something hangs, and stays below procd's term_timeout (10 s).
    const hard = setTimeout(() => {
      log.error("Clean stop did not finish within 8 s; exiting anyway", { signal });
      done.resolve(EXIT.SOFTWARE);
    }, 8000);
    handle.stop().catch((err) => log.error("Unclean stop", { error: String(err) })).finally(() => {
      clearTimeout(hard);
      done.resolve(EXIT.OK);
    });
  };
  const onHup = () => {
    logs.reopen();
    handle.reload().then(
      () => log.info("Configuration reloaded", { config: configPath }),
      (err) => {
        const problems = (err as { problems?: string[] }).problems;
        log.error("Reload failed; keeping the running configuration", {
          error: problems?.join(" | ") ?? String(err),
        });
      },
    );
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGHUP", onHup);
  const code = await done.promise;
  await logs.close();
  return code;
}
