/**
 * `starfail members`: every member with its state, scores, the terms that
 * explain the score, and its latest metrics.
 *
 * @module
 */

import { eligibleText } from "./status.ts";
import { type CommandSpec, EXIT, parseCommand } from "./args.ts";
import {
  callAndPrint,
  duration,
  num,
  REMOTE_OPTION_HELP,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  table,
} from "./remote.ts";
import type { MembersResult, MemberStatus } from "../ubus/starfail_object.ts";

/** How `starfail members` is called. */
export const spec: CommandSpec = {
  name: "members",
  summary: "Show every member with its scores explained and its latest metrics.",
  usage: `starfail members ${REMOTE_USAGE}`,
  examples: [
    "starfail members",
    "starfail members --json",
    "starfail members --url http://127.0.0.1:9101",
  ],
  options: REMOTE_OPTIONS,
  optionHelp: REMOTE_OPTION_HELP,
};

const METRIC_LABELS: [keyof MemberStatus["metrics"], string][] = [
  ["link_up", "link"],
  ["latency_ms", "latency ms"],
  ["loss_pct", "loss %"],
  ["jitter_ms", "jitter ms"],
  ["obstruction_pct", "obstruction %"],
  ["outage_cause", "outage"],
  ["rsrp_dbm", "RSRP dBm"],
  ["rsrq_db", "RSRQ dB"],
  ["sinr_db", "SINR dB"],
  ["roaming", "roaming"],
  ["signal_dbm", "signal dBm"],
  ["noise_dbm", "noise dBm"],
];

/** Renders one member as a block of text. */
export function formatMember(m: MemberStatus, now: number = Date.now() / 1000): string {
  const out: string[] = [];
  out.push(
    `${m.name}${m.primary ? " (primary)" : ""}: ${m.class} on ${m.iface}, weight ${m.weight}, ` +
      `${m.state} for ${duration(now - m.since)} — ${m.reason}`,
  );
  out.push(
    `  score: final ${num(m.score.final)} = blend(instant ${num(m.score.instant)}, ewma ${
      num(m.score.ewma)
    }, window ${num(m.score.window)}) × ${num(m.score.member_weight, 2)}` +
      ` − metered ${num(m.score.penalties.metered)} − roaming ${num(m.score.penalties.roaming)}` +
      `; eligible: ${eligibleText(m)}`,
  );
  if (m.score.explanation.length > 0) {
    const rows = m.score.explanation.map((t) => [
      t.metric,
      t.value === null ? "missing" : `${num(t.value)} ${t.unit}`,
      `${num(t.ok)}..${num(t.bad)}`,
      num(t.sub_score),
      num(t.weight),
      num(t.penalty),
      t.note,
    ]);
    out.push(
      table(
        ["  TERM", "VALUE", "OK..BAD", "SUB", "WEIGHT", "PENALTY", "NOTE"],
        rows.map((r) => {
          r[0] = `  ${r[0]}`;
          return r;
        }),
      ),
    );
  }
  const metrics = METRIC_LABELS
    .filter(([k]) => m.metrics[k] !== undefined)
    .map(([k, label]) => {
      const val = m.metrics[k];
      return `${label} ${typeof val === "number" ? num(val) : String(val)}`;
    });
  if (metrics.length > 0) {
    out.push(
      `  latest${m.metrics.at !== null ? ` (${duration(now - m.metrics.at)} ago)` : ""}: ${
        metrics.join(", ")
      }`,
    );
  }
  for (const r of m.risks) out.push(`  risk ${r.rule}: ${r.reason}`);
  return out.join("\n");
}

/** Renders a `members` reply as text. */
export function formatMembers(r: MembersResult, now: number = Date.now() / 1000): string {
  if (r.members.length === 0) return "No members configured.";
  return r.members.map((m) => formatMember(m, now)).join("\n\n");
}

/** Runs `starfail members`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  return await callAndPrint(parsed.values, "members", {}, formatMembers);
}
