/**
 * `starfail restore`: end a manual override and return to automatic selection.
 *
 * @module
 */

import { type CommandSpec, EXIT, parseCommand } from "./args.ts";
import { callAction, REMOTE_OPTION_HELP, REMOTE_OPTIONS, REMOTE_USAGE } from "./remote.ts";

/** How `starfail restore` is called. */
export const spec: CommandSpec = {
  name: "restore",
  summary: "End a manual override and return to automatic selection.",
  usage: `starfail restore ${REMOTE_USAGE}`,
  examples: ["starfail restore", "starfail restore --url http://127.0.0.1:9101"],
  options: REMOTE_OPTIONS,
  optionHelp: REMOTE_OPTION_HELP,
};

/** Runs `starfail restore`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  return await callAction(parsed.values, "restore");
}
