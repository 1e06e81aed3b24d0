/**
 * `starfail status`: the current primary and why, every member's state and
 * score, recent decisions and collector health, from the running daemon.
 *
 * @module
 */

import { wallTime } from "../daemon/wall_time.ts";
import { type CommandSpec, EXIT, parseCommand } from "./args.ts";
import {
  callAndPrint,
  clock,
  duration,
  num,
  REMOTE_OPTION_HELP,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  table,
  when,
} from "./remote.ts";
import type { StatusResult } from "../ubus/starfail_object.ts";

/** How `starfail status` is called. */
export const spec: CommandSpec = {
  name: "status",
  summary: "Show the current primary and why, member states, decisions and collector health.",
  usage: `starfail status ${REMOTE_USAGE}`,
  examples: [
    "starfail status",
    "starfail status --json",
    "starfail status --url http://127.0.0.1:9101",
  ],
  options: REMOTE_OPTIONS,
  optionHelp: REMOTE_OPTION_HELP,
};

/** Renders a `status` reply as text. */
export function formatStatus(s: StatusResult, now: number = Date.now() / 1000): string {
  const out: string[] = [];
  out.push(
    `Primary:   ${s.primary ?? "none"}${
      s.primary_since !== null ? ` since ${when(s.primary_since, now)}` : ""
    }`,
  );
  out.push(`Why:       ${s.why}`);
  out.push(
    `Override:  ${
      s.override
        ? `${s.override.member} ${
          s.override.expires_at === null
            ? "until restore"
            : `until ${wallTime(s.override.expires_at, Date.now() / 1000)}`
        }`
        : "none"
    }`,
  );
  if (s.ride_through) {
    out.push(
      `Riding through: ${s.ride_through.member} until ${
        wallTime(s.ride_through.until, Date.now() / 1000)
      } (${s.ride_through.reason})`,
    );
  }
  out.push(
    `Cooldown:  ${duration(s.cooldown_left_s)}   Dry run: ${s.dry_run ? "yes" : "no"}   ` +
      `Uptime: ${duration(s.uptime_s)}   Version: ${s.version}`,
  );
  out.push("");
  out.push(table(
    ["MEMBER", "CLASS", "STATE", "SINCE", "FINAL", "INSTANT", "EWMA", "ELIGIBLE", "REASON"],
    s.members.map((m) => [
      (m.primary ? "*" : " ") + m.name,
      m.class,
      m.state,
      duration(now - m.since),
      num(m.score.final),
      num(m.score.instant),
      num(m.score.ewma),
      eligibleText(m),
      m.reason,
    ]),
  ));
  if (s.decisions.length > 0) {
    out.push("", "Recent decisions:");
    out.push(table(
      ["TIME", "FROM", "TO", "KIND", "REASON"],
      s.decisions.map((d) => [clock(d.at), d.from, d.to, d.kind, d.reason]),
    ));
  }
  if (s.collectors.length > 0) {
    out.push("", "Collectors:");
    out.push(table(
      ["COLLECTOR", "MEMBER", "OK", "LAST OK", "FAILURES", "LAST ERROR"],
      s.collectors.map((c) => [
        c.name,
        c.member,
        c.ok ? "yes" : "NO",
        c.last_ok === null ? "never" : when(c.last_ok, now),
        c.failures,
        c.last_error,
      ]),
    ));
  }
  return out.join("\n");
}

/** Runs `starfail status`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  return await callAndPrint(parsed.values, "status", {}, formatStatus);
}

/**
 * The ELIGIBLE column: `yes`, `no`, or `waiting for first sample` for a member
 * nothing has been measured for yet (it is not ineligible, just unknown).
 */
export function eligibleText(
  m: { eligible: boolean; state: string; metrics?: { at: number | null } | null },
): string {
  if (m.eligible) return "yes";
  if (m.state === "unknown" && (m.metrics?.at ?? null) === null) return "waiting for first sample";
  return "no";
}
