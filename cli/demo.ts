/**
 * `starfail demo`: the daemon on a built-in simulated router, with the live
 * monitor view, ending by itself with a summary.
 *
 * @module
 */

import { formatSummary, runDemo } from "../daemon/demo.ts";
import { setupLogging } from "../telemetry/log.ts";
import { type CommandSpec, EXIT, numberFlag, parseCommand } from "./args.ts";

/** How `starfail demo` is called. */
export const spec: CommandSpec = {
  name: "demo",
  summary:
    "Run the real daemon on a simulated router (dish, modem, Wi-Fi, mwan3) through an obstruction story.",
  usage: "starfail demo [--duration S] [--record FILE] [--json] [--no-color]",
  examples: [
    "starfail demo",
    "starfail demo --duration 90",
    "starfail demo --duration 60 --record demo.jsonl && starfail replay demo.jsonl",
    "starfail demo --json | jq -c 'select(.msg == \"Failover triggered\")'",
  ],
  options: {
    duration: { type: "string" },
    json: { type: "boolean" },
    record: { type: "string" },
    "no-color": { type: "boolean" },
  },
  optionHelp: {
    duration:
      "story length in seconds, 30–600 (default 60); a failback that is due ends it, at most 30 s later",
    json: "log JSON lines and print the summary as JSON",
    record: "write the daemon's trace to FILE (replay makes the same decisions at the same times)",
    "no-color": "no ANSI colours",
  },
};

/** Runs `starfail demo`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const duration = numberFlag(spec, parsed.values, "duration", {
    min: 30,
    max: 600,
    fallback: 60,
    integer: true,
  });
  const json = parsed.values.json === true;
  const logs = await setupLogging({
    level: "info",
    json,
    color: parsed.values["no-color"] ? false : "auto",
    console: "stdout",
  });
  const summary = await runDemo({
    durationS: duration,
    logs,
    ...(typeof parsed.values.record === "string" ? { recordPath: parsed.values.record } : {}),
    onReady: ({ socket }) => {
      if (!json) {
        console.log(
          `\nThe daemon is up. While it runs, ask it from another terminal:\n` +
            `  STARFAIL_UBUS_SOCKET=${socket} starfail status\n` +
            `  (from this checkout: STARFAIL_UBUS_SOCKET=${socket} node_modules/.bin/deno run -A main.ts status)\n`,
        );
      }
    },
  });
  await logs.close();
  console.log(json ? JSON.stringify({ summary }) : formatSummary(summary));
  // Cut short by a signal: everything was cleaned up; exit as a shell expects (128 + signal).
  if (summary.interrupted === "SIGINT") return 130;
  if (summary.interrupted === "SIGTERM") return 143;
  return EXIT.OK;
}
