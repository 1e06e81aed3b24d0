/**
 * The starfail decision engine: a pure, clock-injected core that turns
 * per-member observations into member states, scores and a primary choice,
 * plus the trace format and replay used by
 * `starfail replay` and the benchmark.
 *
 * @example
 * ```ts
 * import { createEngine, engineConfig, observe, tick } from "./mod.ts";
 * const cfg = engineConfig();
 * let s = createEngine([{ name: "starlink", class: "starlink", weight: 100 }], cfg, 0);
 * s = observe(s, { t: 0, member: "starlink", latency_ms: 40, loss_pct: 0 });
 * const { decision } = tick(s, 0, cfg);
 * decision.primary; // "starlink"
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./config.ts";
export type * from "./state.ts";
export {
  addMember,
  applyCommand,
  createEngine,
  type EngineCommand,
  type EngineSnapshot,
  explain,
  type MemberSnapshot,
  observe,
  removeMember,
  snapshot,
  tick,
  type TickResult,
} from "./engine.ts";
export { type ScoreExplanation, type ScoreTerm, subScore } from "./scoring.ts";
export {
  ALERT_EFFECTS,
  type AlertEffect,
  PREDICTIVE_RULES,
  PREDICTIVE_THRESHOLDS,
  ruleRateLimitS,
} from "./predictive.ts";
export {
  formatTrace,
  parseTrace,
  parseTraceLines,
  scanTraceLines,
  type Trace,
  TRACE_VERSION,
  traceEntries,
  type TraceEntry,
  TraceError,
  type TraceLines,
  type TraceScan,
  type TraceTickLine,
} from "./trace.ts";
export {
  openTraceFile,
  readTraceFile,
  TRACE_MAX_LINE_CHARS,
  TraceFileError,
  type TraceStream,
} from "./trace_file.ts";
export {
  type PrimaryChange,
  replay,
  replayEntries,
  type ReplayOptions,
  type ReplayResult,
  type ReplayStart,
  replayStart,
  type ReplaySummary,
} from "./replay.ts";
export { applyMemberConfig, engineConfigFromConfig } from "./from_config.ts";
export {
  inReconfigWindow,
  RECONFIG_AFTER_S,
  RECONFIG_BEFORE_S,
  RECONFIG_OFFSET_S,
  RECONFIG_PERIOD_S,
} from "./reconfig.ts";
