/**
 * The bridge from the checked configuration (`config/`) to the engine's
 * {@linkcode EngineConfig} and member specs. Option names are the same on
 * both sides, so this only picks the engine's options out of `main` and
 * `scoring`.
 *
 * @module
 */

import type { StarfailConfig } from "../config/mod.ts";
import { type EngineConfig, engineConfig } from "./config.ts";
import type { MemberSpec } from "./types.ts";

/**
 * The engine options of a loaded configuration (sections `main` and `scoring`;
 * the engine-only curve options keep their defaults).
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/mod.ts";
 * engineConfigFromConfig(DEFAULT_CONFIG).cooldown_s; // 30
 * ```
 */
export function engineConfigFromConfig(cfg: StarfailConfig): Required<EngineConfig> {
  const m = cfg.main;
  const s = cfg.scoring;
  return engineConfig({
    poll_interval_ms: m.poll_interval_ms,
    history_window_s: m.history_window_s,
    ewma_alpha: m.ewma_alpha,
    predictive: m.predictive,
    switch_margin: m.switch_margin,
    min_uptime_s: m.min_uptime_s,
    cooldown_s: m.cooldown_s,
    fail_loss_pct: m.fail_loss_pct,
    fail_latency_ms: m.fail_latency_ms,
    fail_min_duration_s: m.fail_min_duration_s,
    restore_loss_pct: m.restore_loss_pct,
    restore_latency_ms: m.restore_latency_ms,
    restore_min_duration_s: m.restore_min_duration_s,
    hard_fail_probes: m.hard_fail_probes,
    ride_through_s: m.ride_through_s,
    reconfig_guard: m.reconfig_guard,
    flap_suppress: m.flap_suppress,
    stale_after_s: m.stale_after_s,
    max_samples_per_member: m.max_samples_per_member,
    max_events: m.max_events,
    weight_latency: s.weight_latency,
    weight_loss: s.weight_loss,
    weight_jitter: s.weight_jitter,
    weight_obstruction: s.weight_obstruction,
    latency_ok_ms: s.latency_ok_ms,
    latency_bad_ms: s.latency_bad_ms,
    loss_ok_pct: s.loss_ok_pct,
    loss_bad_pct: s.loss_bad_pct,
    jitter_ok_ms: s.jitter_ok_ms,
    jitter_bad_ms: s.jitter_bad_ms,
    obstruction_ok_pct: s.obstruction_ok_pct,
    obstruction_bad_pct: s.obstruction_bad_pct,
    blend_instant: s.blend_instant,
    blend_ewma: s.blend_ewma,
    blend_window: s.blend_window,
    metered_penalty: s.metered_penalty,
    roaming_penalty: s.roaming_penalty,
  });
}

/**
 * Applies the member sections of `cfg` to `members` by name: a configured
 * weight (explicit or from a fixed class), `metered`, `prefer_roaming`,
 * `min_uptime_s` and `cooldown_s` replace the given values. Members without a
 * section are returned unchanged. Used by `starfail replay --config`.
 */
export function applyMemberConfig(members: MemberSpec[], cfg: StarfailConfig): MemberSpec[] {
  return members.map((spec) => {
    const mc = cfg.members.find((m) => m.name === spec.name);
    if (mc === undefined) return spec;
    const out: MemberSpec = { ...spec, metered: mc.metered, prefer_roaming: mc.prefer_roaming };
    if (mc.weight !== undefined) out.weight = mc.weight;
    if (mc.min_uptime_s !== undefined) out.min_uptime_s = mc.min_uptime_s;
    if (mc.cooldown_s !== undefined) out.cooldown_s = mc.cooldown_s;
    return out;
  });
}
