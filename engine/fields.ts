/**
 * Reading a member's merged fields: a field counts only while it is fresh
 * (reported within `stale_after_s`); a stale or never-reported field is missing.
 *
 * @module
 */

import type { FieldName, FieldValue, MemberRuntime } from "./state.ts";

/** The fields a Starlink dish status reports as one group. */
export const DISH_FIELDS: readonly FieldName[] = [
  "obstruction_pct",
  "currently_obstructed",
  "outage_cause",
  "alerts",
  "seconds_to_first_nonempty_slot",
  "swupdate_reboot_ready",
  "swupdate_reboot_in_s",
];

/** Field `name` of `m` when it was reported within `staleAfterS` of `now`. */
function freshField(
  m: MemberRuntime,
  name: FieldName,
  now: number,
  staleAfterS: number,
): FieldValue | undefined {
  const f = m.fields[name];
  if (f === undefined || now - f.t > staleAfterS) return undefined;
  return f;
}

/** A fresh numeric field, or undefined. */
export function freshNumber(
  m: MemberRuntime,
  name: FieldName,
  now: number,
  staleAfterS: number,
): number | undefined {
  const v = freshField(m, name, now, staleAfterS)?.v;
  return typeof v === "number" ? v : undefined;
}

/** A fresh boolean field, or undefined. */
export function freshBool(
  m: MemberRuntime,
  name: FieldName,
  now: number,
  staleAfterS: number,
): boolean | undefined {
  const v = freshField(m, name, now, staleAfterS)?.v;
  return typeof v === "boolean" ? v : undefined;
}

/** A fresh non-empty string field, or undefined (an empty string means "none"). */
export function freshString(
  m: MemberRuntime,
  name: FieldName,
  now: number,
  staleAfterS: number,
): string | undefined {
  const v = freshField(m, name, now, staleAfterS)?.v;
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A fresh list field (empty when missing or stale). */
export function freshList(
  m: MemberRuntime,
  name: FieldName,
  now: number,
  staleAfterS: number,
): string[] {
  const v = freshField(m, name, now, staleAfterS)?.v;
  return Array.isArray(v) ? v : [];
}

/** Since when a fresh field has had its current value, or undefined. */
export function freshSince(
  m: MemberRuntime,
  name: FieldName,
  now: number,
  staleAfterS: number,
): number | undefined {
  return freshField(m, name, now, staleAfterS)?.since;
}

/** Most probe rounds kept per member (the upper bound of `hard_fail_probes`). */
export const MAX_PROBES = 100;

/**
 * Whether probe round `p` counts towards soft loss: every round does, except
 * a Starlink round sent in a reconfiguration window while `reconfig_guard`
 * is on (the default). Hard failure (all recent rounds lost) counts them all.
 */
export function countsAsSoftLoss(
  p: MemberRuntime["probes"][number],
  cfg: { reconfig_guard?: boolean },
): boolean {
  return p.reconfig !== true || cfg.reconfig_guard === false;
}

/**
 * Mean loss of the last `hard_fail_probes` probe rounds that are fresh and
 * count as soft loss ({@linkcode countsAsSoftLoss}), or undefined when none
 * is. Averaging a few rounds makes one-probe rounds (loss 0 or 100) usable
 * for thresholds.
 */
export function recentLoss(
  m: MemberRuntime,
  now: number,
  cfg: { stale_after_s: number; hard_fail_probes: number; reconfig_guard?: boolean },
): number | undefined {
  let sum = 0;
  let n = 0;
  for (let i = m.probes.length - 1; i >= 0 && n < cfg.hard_fail_probes; i--) {
    const p = m.probes[i];
    if (now - p.t > cfg.stale_after_s) break;
    if (!countsAsSoftLoss(p, cfg)) continue;
    sum += p.loss_pct;
    n++;
  }
  return n === 0 ? undefined : sum / n;
}
