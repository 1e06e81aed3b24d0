/**
 * The engine's tuning knobs. Option names are exactly those of the UCI
 * sections `main` and `scoring` (docs/design.md); a few engine-only curve
 * options (cellular and Wi-Fi signal) are optional and fall back to
 * {@linkcode DEFAULT_ENGINE_CONFIG}.
 *
 * @module
 */

/** Everything the decision engine reads from the configuration. */
export interface EngineConfig {
  // --- section `main` ---
  /** Tick period in milliseconds (replay steps virtual time by this). */
  poll_interval_ms: number;
  /** Window (seconds) of the score's window-average term. */
  history_window_s: number;
  /** EWMA smoothing factor per tick, 0.01–1. */
  ewma_alpha: number;
  /** Predictive pre-emption on/off. */
  predictive: boolean;
  /** Minimum final-score gap (points) for a discretionary switch. */
  switch_margin: number;
  /** Warm-up after a member comes up before it may be switched to. */
  min_uptime_s: number;
  /** Hold-off after a switch during which no discretionary switch happens. */
  cooldown_s: number;
  /** Soft failure: recent loss at or above this (percent). */
  fail_loss_pct: number;
  /** Soft failure: latency at or above this (milliseconds). */
  fail_latency_ms: number;
  /** Soft failure must hold this long before the member is down. */
  fail_min_duration_s: number;
  /** Recovery: recent loss at or below this (percent). */
  restore_loss_pct: number;
  /** Recovery: latency at or below this (milliseconds). */
  restore_latency_ms: number;
  /** Recovery thresholds must hold this long before the member is up. */
  restore_min_duration_s: number;
  /** All of the last N probe rounds lost → down at once. */
  hard_fail_probes: number;
  /** A field older than this (seconds) counts as missing. */
  stale_after_s: number;
  /** Bound on the per-member score samples kept for the window average. */
  max_samples_per_member: number;
  /** Bound on the decisions and events kept in the state. */
  max_events: number;

  // --- section `scoring` ---
  /** Share of the latency term (0–100). */
  weight_latency: number;
  /** Share of the loss term (0–100). */
  weight_loss: number;
  /** Share of the jitter term (0–100). */
  weight_jitter: number;
  /** Share of the Starlink obstruction term (0–100). */
  weight_obstruction: number;
  /** Latency at or below which the latency sub-score is 100. */
  latency_ok_ms: number;
  /** Latency at or above which the latency sub-score is 0. */
  latency_bad_ms: number;
  /** Loss at or below which the loss sub-score is 100. */
  loss_ok_pct: number;
  /** Loss at or above which the loss sub-score is 0. */
  loss_bad_pct: number;
  /** Jitter at or below which the jitter sub-score is 100. */
  jitter_ok_ms: number;
  /** Jitter at or above which the jitter sub-score is 0. */
  jitter_bad_ms: number;
  /** Obstruction at or below which the obstruction sub-score is 100. */
  obstruction_ok_pct: number;
  /** Obstruction at or above which the obstruction sub-score is 0. */
  obstruction_bad_pct: number;
  /** Blend share of the instant score. */
  blend_instant: number;
  /** Blend share of the EWMA. */
  blend_ewma: number;
  /** Blend share of the window average. */
  blend_window: number;
  /** Points subtracted from a metered member's final score. */
  metered_penalty: number;
  /** Points subtracted while a member roams (unless `prefer_roaming`). */
  roaming_penalty: number;

  // --- engine-only curve options (not yet UCI options; defaults below) ---
  /** Share of the radio-signal term for cellular and Wi-Fi members. */
  weight_signal?: number;
  /** Cellular RSRP at or above which the RSRP sub-score is 100. */
  rsrp_ok_dbm?: number;
  /** Cellular RSRP at or below which the RSRP sub-score is 0. */
  rsrp_bad_dbm?: number;
  /** Cellular SINR at or above which the SINR sub-score is 100. */
  sinr_ok_db?: number;
  /** Cellular SINR at or below which the SINR sub-score is 0. */
  sinr_bad_db?: number;
  /** Wi-Fi SNR (signal − noise) at or above which the sub-score is 100. */
  wifi_snr_ok_db?: number;
  /** Wi-Fi SNR at or below which the sub-score is 0. */
  wifi_snr_bad_db?: number;
  /**
   * Ride-through: a primary down only because of a dish outage that the dish
   * itself expects to end within this many seconds (its
   * `seconds_to_first_nonempty_slot`) is kept instead of being left, for at
   * most the predicted time plus this many seconds. Leaving costs two
   * switches (out and back), each resetting the flows that move, which
   * outweighs a few seconds of outage. 0 turns it off.
   */
  ride_through_s?: number;
  /**
   * Reconfiguration guard: a Starlink probe round sent in one of the dish's
   * 15 s reconfiguration windows (`sent_unix_s` at :12, :27, :42, :57,
   * −300/+200 ms) does not count as soft loss; it still counts towards
   * "all of the last N rounds lost". Needs a synchronised router clock.
   */
  reconfig_guard?: boolean;
  /**
   * Flap suppression: a member whose damped down count (each down adds 1,
   * halving every `history_window_s`) is above this is not chosen by a
   * discretionary switch (failback, better member, predictive). 0 turns it
   * off. Default 2, RFC 2439's suppress limit (2000 at 1000 per flap).
   */
  flap_suppress?: number;
  /**
   * Flap suppression decays with clean time: a member out of `down` for this
   * many seconds (no down since) is no longer flap-suppressed, and its
   * stability hold is at most this long, whatever its down count. A rate of
   * downs high enough to make leaving it again likely within minutes leaves
   * few clean stretches this long (with a down every ~90 s, 4 % of them).
   * Default 300 (half of `history_window_s`'s default).
   */
  flap_release_s?: number;
  /**
   * Ride-through limit when the member that would take over is metered:
   * leaving costs two switches (3 s each in the benchmark's cost), about a
   * second of detection and the metered seconds until the failback, so a
   * dish-predicted gap shorter than this is cheaper ridden through. Default 8.
   */
  ride_through_metered_s?: number;
  /**
   * Fast failback: a member that went down from a dish outage (any cause)
   * lasting at most this many seconds, or from a link drop or a dish reboot
   * (BOOTING) of any length, whose cause is over — link up, and for a dish a fresh status
   * with no outage and no satellite gap ahead — and whose probes pass the
   * restore thresholds for `fast_restore_s` is `up` at once and may be
   * failed back to without warm-up, stability hold or cooldown (flap
   * suppression still applies). 0 turns it off. Default 60.
   */
  fast_failback_max_outage_s?: number;
  /** Fast failback: seconds of passing probes (at least) before the member counts as up. Default 4. */
  fast_restore_s?: number;
}

/** Defaults: the UCI defaults of docs/design.md plus the engine-only curve options. */
export const DEFAULT_ENGINE_CONFIG: Readonly<Required<EngineConfig>> = Object.freeze({
  poll_interval_ms: 1500,
  history_window_s: 600,
  ewma_alpha: 0.2,
  predictive: true,
  switch_margin: 10,
  min_uptime_s: 20,
  cooldown_s: 30,
  fail_loss_pct: 5,
  fail_latency_ms: 1200,
  fail_min_duration_s: 10,
  restore_loss_pct: 1,
  restore_latency_ms: 800,
  restore_min_duration_s: 30,
  hard_fail_probes: 3,
  stale_after_s: 10,
  max_samples_per_member: 1000,
  max_events: 500,
  weight_latency: 25,
  weight_loss: 30,
  weight_jitter: 15,
  weight_obstruction: 20,
  latency_ok_ms: 50,
  latency_bad_ms: 1500,
  loss_ok_pct: 0,
  loss_bad_pct: 10,
  jitter_ok_ms: 5,
  jitter_bad_ms: 200,
  obstruction_ok_pct: 0,
  obstruction_bad_pct: 10,
  blend_instant: 0.3,
  blend_ewma: 0.5,
  blend_window: 0.2,
  metered_penalty: 10,
  roaming_penalty: 15,
  weight_signal: 20,
  rsrp_ok_dbm: -90,
  rsrp_bad_dbm: -120,
  sinr_ok_db: 13,
  sinr_bad_db: 0,
  wifi_snr_ok_db: 25,
  wifi_snr_bad_db: 5,
  ride_through_s: 6,
  reconfig_guard: true,
  flap_suppress: 2,
  flap_release_s: 300,
  ride_through_metered_s: 6,
  fast_failback_max_outage_s: 60,
  fast_restore_s: 4,
});

/**
 * Fills every option missing from `partial` with its default.
 *
 * @example
 * ```ts
 * const cfg = engineConfig({ cooldown_s: 60 });
 * cfg.poll_interval_ms; // 1500
 * ```
 */
export function engineConfig(partial: Partial<EngineConfig> = {}): Required<EngineConfig> {
  const out = { ...DEFAULT_ENGINE_CONFIG } as Required<EngineConfig>;
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
