/**
 * `starfail events`: recent decisions, state changes and other events.
 *
 * @module
 */

import { type CommandSpec, EXIT, numberFlag, parseCommand } from "./args.ts";
import {
  callAndPrint,
  clock,
  REMOTE_OPTION_HELP,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  table,
} from "./remote.ts";
import type { EventsResult } from "../ubus/starfail_object.ts";

/** How `starfail events` is called. */
export const spec: CommandSpec = {
  name: "events",
  summary: "Show recent events: switches, member state changes, predictive warnings.",
  usage: `starfail events [--limit N] ${REMOTE_USAGE}`,
  examples: ["starfail events", "starfail events --limit 100 --json"],
  options: { ...REMOTE_OPTIONS, limit: { type: "string" } },
  optionHelp: { ...REMOTE_OPTION_HELP, limit: "number of events (default 50)" },
};

/** Renders an `events` reply as a table. */
export function formatEvents(r: EventsResult): string {
  if (r.events.length === 0) return "No events yet.";
  return table(
    ["TIME", "TYPE", "MEMBER", "FROM", "TO", "REASON"],
    r.events.map((e) => [clock(e.at), e.type, e.member, e.from, e.to, e.reason]),
  );
}

/** Runs `starfail events`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const limit = numberFlag(spec, parsed.values, "limit", {
    min: 1,
    max: 100000,
    fallback: 50,
    integer: true,
  });
  return await callAndPrint(parsed.values, "events", { limit }, formatEvents);
}
