/**
 * `starfail history MEMBER`: a member's state and score over time.
 *
 * @module
 */

import { type CommandSpec, EXIT, numberFlag, parseCommand } from "./args.ts";
import {
  callAndPrint,
  clock,
  duration,
  num,
  REMOTE_OPTION_HELP,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  table,
} from "./remote.ts";
import type { HistoryResult } from "../ubus/starfail_object.ts";

/** How `starfail history` is called. */
export const spec: CommandSpec = {
  name: "history",
  summary: "Show a member's state and scores over the last N seconds.",
  usage: `starfail history MEMBER [--since S] ${REMOTE_USAGE}`,
  examples: ["starfail history starlink", "starfail history cellular --since 3600"],
  options: { ...REMOTE_OPTIONS, since: { type: "string" } },
  optionHelp: { ...REMOTE_OPTION_HELP, since: "seconds back (default 600)" },
  minPositionals: 1,
  maxPositionals: 1,
};

/** Renders a `history` reply as a table. */
export function formatHistory(r: HistoryResult): string {
  if (r.points.length === 0) {
    return `No history for ${r.member} in the last ${duration(r.since_s)}.`;
  }
  return `${r.member}: last ${duration(r.since_s)}, ${r.points.length} points\n` + table(
    ["TIME", "STATE", "INSTANT", "EWMA", "FINAL"],
    r.points.map((p) => [clock(p.at), p.state, num(p.instant), num(p.ewma), num(p.final)]),
  );
}

/** Runs `starfail history`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const since = numberFlag(spec, parsed.values, "since", {
    min: 1,
    max: 604800,
    fallback: 600,
    integer: true,
  });
  return await callAndPrint(parsed.values, "history", {
    member: parsed.positionals[0],
    since_s: since,
  }, formatHistory);
}
