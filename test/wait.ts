/**
 * Polling for tests that wait on real timers, sockets and subprocesses: a
 * condition is checked until it holds or a deadline passes, never a fixed sleep.
 *
 * @module
 */

/**
 * Checks `ok` every `intervalMs` until it returns true (resolves true) or
 * `timeoutMs` has passed (resolves false).
 *
 * @example
 * ```ts
 * import { pollUntil } from "./wait.ts";
 * const t0 = performance.now();
 * await pollUntil(() => performance.now() - t0 > 50, 1000);
 * ```
 */
export async function pollUntil(
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await ok()) return true;
    if (performance.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
