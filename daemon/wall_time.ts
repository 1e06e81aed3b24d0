/**
 * Times shown to a person are wall-clock times: local time and seconds from
 * now ("15:42:10, in 600 s"), never the engine's internal clock ("t=632.02").
 * The engine stays pure on its injected clock; these helpers turn its times
 * into wall time at the edges (logs, the ubus replies, the CLI).
 *
 * @module
 */

/** Local `HH:MM:SS` of a Unix time in seconds. */
export function localClock(unixS: number): string {
  const d = new Date(unixS * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/**
 * `15:42:10 (in 600 s)` — or `(600 s ago)` — for a Unix time, relative to
 * `nowUnixS`.
 *
 * @example
 * ```ts
 * wallTime(1_700_000_600, 1_700_000_000); // "…:10:00 (in 600 s)" in local time
 * ```
 */
export function wallTime(unixS: number, nowUnixS: number): string {
  const d = Math.round(unixS - nowUnixS);
  return `${localClock(unixS)} (${d >= 0 ? `in ${d} s` : `${-d} s ago`})`;
}

/**
 * Replaces every engine time in a reason (`until t=632.02`, `kept until t=…`)
 * by its wall time, given the engine's `now` and the wall clock's.
 */
export function humanizeTimes(text: string, nowT: number, nowUnixS: number): string {
  return text.replace(
    /\bt=(-?\d+(?:\.\d+)?)/g,
    (_m, t: string) => wallTime(nowUnixS + (Number(t) - nowT), nowUnixS),
  );
}
