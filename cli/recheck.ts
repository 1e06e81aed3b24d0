/**
 * `starfail recheck`: poll every collector now and re-evaluate the primary.
 *
 * @module
 */

import { type CommandSpec, EXIT, parseCommand } from "./args.ts";
import { callAction, REMOTE_OPTION_HELP, REMOTE_OPTIONS, REMOTE_USAGE } from "./remote.ts";

/** How `starfail recheck` is called. */
export const spec: CommandSpec = {
  name: "recheck",
  summary: "Poll every collector now and re-evaluate the primary.",
  usage: `starfail recheck ${REMOTE_USAGE}`,
  examples: ["starfail recheck"],
  options: REMOTE_OPTIONS,
  optionHelp: REMOTE_OPTION_HELP,
};

/** Runs `starfail recheck`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  return await callAction(parsed.values, "recheck");
}
