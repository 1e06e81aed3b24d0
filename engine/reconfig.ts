/**
 * Starlink's global reconfiguration windows. Every 15 s, at :12, :27, :42
 * and :57 of each minute (Unix time), the constellation reassigns satellites
 * to dishes: latency steps and a few pings are lost around the boundary.
 * cake-autorate compensates from 300 ms before to 200 ms after each boundary
 * (facts: `failover-anchors.md`, Tanveer et al. CoNEXT'23 companion).
 *
 * Leaving Starlink does not avoid these losses (the next boundary brings
 * them back), so the engine does not count them as soft loss on a
 * Starlink member (`reconfig_guard`).
 *
 * @module
 */

/** Seconds between reconfigurations. */
export const RECONFIG_PERIOD_S = 15;
/** Offset of the first boundary in each minute, seconds (:12, then :27, :42, :57). */
export const RECONFIG_OFFSET_S = 12;
/** The window opens this long before a boundary, seconds. */
export const RECONFIG_BEFORE_S = 0.3;
/** The window closes this long after a boundary, seconds. */
export const RECONFIG_AFTER_S = 0.2;

/**
 * Whether Unix time `unixS` (seconds) falls in a reconfiguration window.
 * Any time axis whose 0 lies on a minute boundary works the same way.
 *
 * @example
 * ```ts
 * inReconfigWindow(1_764_028_812.1); // true: 0.1 s after :12
 * inReconfigWindow(1_764_028_820); // false
 * ```
 */
export function inReconfigWindow(unixS: number): boolean {
  const p = RECONFIG_PERIOD_S;
  const phase = (((unixS - RECONFIG_OFFSET_S) % p) + p) % p;
  return phase >= p - RECONFIG_BEFORE_S || phase < RECONFIG_AFTER_S;
}
