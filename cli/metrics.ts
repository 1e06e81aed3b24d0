/**
 * `starfail metrics MEMBER`: the newest stored samples of one member.
 *
 * @module
 */

import { type CommandSpec, EXIT, numberFlag, parseCommand } from "./args.ts";
import {
  callAndPrint,
  clock,
  num,
  REMOTE_OPTION_HELP,
  REMOTE_OPTIONS,
  REMOTE_USAGE,
  table,
} from "./remote.ts";
import type { MetricSample, MetricsResult } from "../ubus/starfail_object.ts";

/** How `starfail metrics` is called. */
export const spec: CommandSpec = {
  name: "metrics",
  summary: "Show a member's newest samples (latency, loss, signal …) and scores.",
  usage: `starfail metrics MEMBER [--limit N] ${REMOTE_USAGE}`,
  examples: ["starfail metrics starlink", "starfail metrics cellular --limit 20 --json"],
  options: { ...REMOTE_OPTIONS, limit: { type: "string" } },
  optionHelp: { ...REMOTE_OPTION_HELP, limit: "number of samples (default 20)" },
  minPositionals: 1,
  maxPositionals: 1,
};

const COLUMNS: [keyof MetricSample, string][] = [
  ["link_up", "LINK"],
  ["latency_ms", "LAT_MS"],
  ["loss_pct", "LOSS_%"],
  ["jitter_ms", "JIT_MS"],
  ["obstruction_pct", "OBSTR_%"],
  ["rsrp_dbm", "RSRP"],
  ["rsrq_db", "RSRQ"],
  ["sinr_db", "SINR"],
  ["roaming", "ROAM"],
  ["signal_dbm", "SIGNAL"],
  ["noise_dbm", "NOISE"],
  ["final", "FINAL"],
];

function cell(v: unknown): string {
  if (v === undefined || v === null) return "-";
  if (typeof v === "boolean") return v ? "yes" : "no";
  return typeof v === "number" ? num(v) : String(v);
}

/** Renders a `metrics` reply as a table with only the columns that have data. */
export function formatMetrics(r: MetricsResult): string {
  if (r.samples.length === 0) return `No samples stored for ${r.member} yet.`;
  const cols = COLUMNS.filter(([k]) => r.samples.some((s) => s[k] !== undefined && s[k] !== null));
  return `${r.member}: ${r.samples.length} samples\n` + table(
    ["TIME", ...cols.map(([, h]) => h)],
    r.samples.map((s) => [clock(s.at), ...cols.map(([k]) => cell(s[k]))]),
  );
}

/** Runs `starfail metrics`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const limit = numberFlag(spec, parsed.values, "limit", {
    min: 1,
    max: 100000,
    fallback: 20,
    integer: true,
  });
  return await callAndPrint(parsed.values, "metrics", {
    member: parsed.positionals[0],
    limit,
  }, formatMetrics);
}
