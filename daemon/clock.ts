/**
 * A clock that moves only when told to, for running the daemon in virtual time.
 *
 * @module
 */

import type { Clock } from "./runtime.ts";

/** A manually advanced clock: `now()` in seconds, wall time derived from a fixed epoch. */
export class VirtualClock implements Clock {
  #t: number;
  #epochMs: number;

  /** Starts at `t0` seconds; wall time is `epochMs + t * 1000`. */
  constructor(t0 = 0, epochMs = Date.UTC(2026, 0, 1)) {
    this.#t = t0;
    this.#epochMs = epochMs;
  }

  /** Current virtual time in seconds. */
  now(): number {
    return this.#t;
  }

  /** Current virtual wall time in milliseconds since the epoch. */
  wallMs(): number {
    return this.#epochMs + this.#t * 1000;
  }

  /** Moves time forward by `seconds`. */
  advance(seconds: number): void {
    this.#t += seconds;
  }
}
