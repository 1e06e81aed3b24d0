/**
 * `starfail notify test [--channel NAME]`: asks the running daemon to send a
 * test message through every configured notification channel (Pushover,
 * webhook, MQTT) and prints what each did. The daemon logs every send and
 * records it in `events`.
 *
 * @module
 */

import { type CommandSpec, EXIT, parseCommand, UsageError } from "./args.ts";
import { callAndPrint, REMOTE_OPTION_HELP, REMOTE_OPTIONS, REMOTE_USAGE, table } from "./remote.ts";
import type { NotifyTestResult } from "../ubus/starfail_object.ts";

/** How `starfail notify` is called. */
export const spec: CommandSpec = {
  name: "notify",
  summary: "Send a test message through every configured notification channel.",
  usage: `starfail notify test [--channel pushover|webhook|mqtt] ${REMOTE_USAGE}`,
  examples: ["starfail notify test", "starfail notify test --channel webhook"],
  options: { ...REMOTE_OPTIONS, channel: { type: "string" } },
  optionHelp: {
    ...REMOTE_OPTION_HELP,
    channel: "only this channel: pushover, webhook or mqtt",
  },
  minPositionals: 1,
  maxPositionals: 1,
};

/** Renders a `notify_test` reply. */
export function formatNotifyTest(r: NotifyTestResult): string {
  if (r.results.length === 0) return r.message;
  return table(
    ["CHANNEL", "RESULT", "DETAIL"],
    r.results.map((x) => [x.channel, x.ok ? "ok" : "FAILED", x.detail]),
  ) + `\n${r.message}`;
}

/** Runs `starfail notify`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  if (parsed.positionals[0] !== "test") {
    throw new UsageError(
      `unknown notify action '${parsed.positionals[0]}'; use: notify test`,
      spec.usage,
    );
  }
  const args: Record<string, string> = {};
  if (typeof parsed.values.channel === "string") args.channel = parsed.values.channel;
  // Exit 0 when every channel tried took the message; 1 when one failed or none is configured.
  return await callAndPrint<NotifyTestResult>(
    parsed.values,
    "notify_test",
    args,
    formatNotifyTest,
    (r) => r.results.length > 0 && r.results.every((x) => x.ok) ? EXIT.OK : EXIT.FAIL,
  );
}
