/**
 * `starfail failover MEMBER`: make a member primary now (manual override).
 *
 * @module
 */

import { type CommandSpec, EXIT, numberFlag, parseCommand } from "./args.ts";
import {
  callStarfail,
  printJson,
  REMOTE_OPTION_HELP,
  REMOTE_OPTIONS,
  runRemote,
} from "./remote.ts";
import type { ActionResult } from "../ubus/starfail_object.ts";

/** How `starfail failover` is called. */
export const spec: CommandSpec = {
  name: "failover",
  summary: "Make MEMBER the primary now, until `starfail restore` or for S seconds.",
  usage: "starfail failover MEMBER [--for S] [--json] [--socket PATH]",
  examples: ["starfail failover cellular", "starfail failover cellular --for 600"],
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
  return await runRemote(async () => {
    const reply = await callStarfail(parsed.values, "failover", args);
    if (parsed.values.json) printJson(reply);
    else console.log((reply as unknown as ActionResult).message);
    return (reply as unknown as ActionResult).ok ? EXIT.OK : EXIT.FAIL;
  });
}
