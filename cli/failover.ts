/**
 * `starfail failover MEMBER`: make a member primary now (manual override).
 *
 * @module
 */

import { type CommandSpec, EXIT, numberFlag, parseCommand } from "./args.ts";
import { callAction, REMOTE_OPTION_HELP, REMOTE_OPTIONS, REMOTE_USAGE } from "./remote.ts";

/** How `starfail failover` is called. */
export const spec: CommandSpec = {
  name: "failover",
  summary: "Make MEMBER the primary now, until `starfail restore` or for S seconds.",
  usage: `starfail failover MEMBER [--for S] ${REMOTE_USAGE}`,
  examples: [
    "starfail failover cellular",
    "starfail failover cellular --for 600",
    "starfail failover cellular --url http://127.0.0.1:9101",
  ],
  options: { ...REMOTE_OPTIONS, for: { type: "string" } },
  optionHelp: {
    ...REMOTE_OPTION_HELP,
    for: "seconds before the override expires (default: never)",
  },
  minPositionals: 1,
  maxPositionals: 1,
};

/** Runs `starfail failover`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const args: Record<string, string | number> = { member: parsed.positionals[0] };
  if (parsed.values.for !== undefined) {
    args.expires_s = numberFlag(spec, parsed.values, "for", {
      min: 1,
      max: 604800,
      fallback: 0,
      integer: true,
    });
  }
  return await callAction(parsed.values, "failover", args);
}
