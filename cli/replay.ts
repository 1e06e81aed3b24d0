/**
 * `starfail replay FILE [--config PATH] [--json]`: runs the decision engine
 * over a recorded trace in virtual time ("what would this config have done
 * last night?").
 *
 * @module
 */

import { CliError, type CommandSpec, EXIT, parseCommand } from "./args.ts";
import { loadConfig } from "../config/mod.ts";
import { engineConfig } from "../engine/config.ts";
import { applyMemberConfig, engineConfigFromConfig } from "../engine/from_config.ts";
import { replayEntries, type ReplayResult } from "../engine/replay.ts";
import { openTraceFile, TraceFileError } from "../engine/trace_file.ts";
import type { Trace } from "../engine/trace.ts";

/** How `starfail replay` is called. */
export const spec: CommandSpec = {
  name: "replay",
  summary: "Run the decision engine over a recorded trace (JSON Lines) in virtual time " +
    "and show every change of primary with its reason.",
  usage: "starfail replay FILE [--config PATH] [--json]",
  examples: [
    "starfail replay last-night.jsonl",
    "starfail replay last-night.jsonl --config /etc/config/starfail",
    "starfail replay last-night.jsonl --json | tail -n 1",
  ],
  options: { config: { type: "string" }, json: { type: "boolean" } },
  optionHelp: {
    config:
      "UCI config whose main/scoring/member options to use (default: the options recorded in the trace, else built-in defaults)",
    json: 'print one JSON object per change of primary, then {"summary":…}',
  },
  minPositionals: 1,
  maxPositionals: 1,
};

/**
 * Runs `f`, turning a {@linkcode TraceFileError} into the CLI's one-line error
 * and exit code (the trace is read while it is replayed, so both can throw it).
 */
function withTraceErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof TraceFileError) {
      const code = err.kind === "missing"
        ? EXIT.NOINPUT
        : err.kind === "invalid"
        ? EXIT.DATAERR
        : EXIT.IOERR;
      throw new CliError(`starfail replay: ${err.message}`, code);
    }
    throw err;
  }
}

/** Formats seconds as H:MM:SS(.s). */
export function clock(t: number): string {
  const whole = Math.floor(t);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const frac = Math.round((t - whole) * 10);
  const base = `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  return frac === 0 ? base : `${base}.${frac}`;
}

/** Renders a replay result as a readable timeline and summary. */
export function formatTimeline(
  file: string,
  trace: Pick<Trace, "members">,
  result: ReplayResult,
  pollMs: number,
): string {
  const s = result.summary;
  const lines = [
    `Replay of ${file}: ${trace.members.length} members (${
      trace.members.map((m) => m.name).join(", ")
    }), ${s.duration_s} s, ${s.observations} observations, tick every ${pollMs / 1000} s`,
    "",
  ];
  if (result.changes.length === 0) lines.push("  (no member was ever usable: no primary chosen)");
  for (const c of result.changes) {
    const move = c.from === null ? `→ ${c.primary}` : `${c.from} → ${c.primary}`;
    lines.push(`  ${clock(c.t).padStart(9)}  ${move.padEnd(24)} [${c.kind}] ${c.reason}`);
  }
  const kinds = Object.entries(s.switches_by_kind).map(([k, n]) => `${k} ${n}`).join(", ");
  const total = s.duration_s > 0 ? s.duration_s : 1;
  const prim = Object.entries(s.primary_s)
    .map(([m, sec]) => `${m} ${Math.round(sec)} s (${Math.round((sec / total) * 1000) / 10}%)`)
    .join(", ");
  const downs = Object.entries(s.downs).map(([m, n]) => `${m} ${n}`).join(", ");
  lines.push(
    "",
    "Summary",
    `  switches         ${s.switches}${kinds === "" ? "" : ` (${kinds})`}`,
    `  time as primary  ${prim || "none"}`,
    `  members down     ${downs || "none"}`,
    `  predictive       ${s.predictive_findings} findings acted on`,
    `  final primary    ${s.final_primary ?? "none"}`,
  );
  return lines.join("\n");
}

/** Runs `starfail replay`. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  const file = parsed.positionals[0];
  const configPath = parsed.values.config;
  // Streamed: the header now, the rest read as it is replayed (a 24 h trace is ~30 MB).
  const trace = withTraceErrors(() => openTraceFile(file));
  let members = trace.members;
  // A recorded trace carries the engine options it ran with: replay uses them unless
  // --config asks "what would this config have done?".
  let cfg = engineConfig(trace.config ?? {});
  if (typeof configPath === "string") {
    const loaded = await loadConfig(configPath);
    for (const w of loaded.warnings) console.error(w);
    cfg = engineConfigFromConfig(loaded.config);
    members = applyMemberConfig(members, loaded.config);
  }
  const result = withTraceErrors(() => replayEntries(members, trace.entries, cfg, trace.start));
  if (parsed.values.json) {
    const out = result.changes.map((c) =>
      JSON.stringify({ t: c.t, primary: c.primary, from: c.from, kind: c.kind, reason: c.reason })
    );
    out.push(JSON.stringify({ summary: result.summary }));
    console.log(out.join("\n"));
  } else {
    console.log(formatTimeline(file, { members }, result, cfg.poll_interval_ms));
  }
  return EXIT.OK;
}
