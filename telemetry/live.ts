/**
 * What the daemon's outward channels (/metrics, /health, MQTT) need besides
 * the `status` reply: the dish's latest state (alerts, obstruction, a pending
 * update — fields `status` leaves out), switch counts by kind and send counts
 * per channel. The daemon feeds it from its telemetry sink and event stream.
 *
 * @module
 */

import type { Observation } from "../engine/types.ts";

/** The dish as the latest observations describe it. */
export interface DishView {
  /** The Starlink member. */
  member: string;
  /** `online`, `obstructed`, or the dish's outage cause in lower case (`no_schedule`, `booting`, …). */
  state: string;
  /** The dish reports it is obstructed right now. */
  obstructed: boolean;
  /** Fraction of the sky obstructed, percent. */
  obstruction_pct: number | null;
  /** Active alerts, snake_case. */
  alerts: string[];
  /** A downloaded software update waits for a reboot. */
  update_pending: boolean;
  /** Engine time of the newest dish observation. */
  t: number;
}

/** Something about the dish that changed with one observation (for notifications). */
export interface DishChange {
  /** `alert` (a new alert), `alert_cleared`, `update_pending` (an update waits for a reboot). */
  kind: "alert" | "alert_cleared" | "update_pending";
  /** The alert name, or `swupdate_reboot_ready`. */
  what: string;
}

/**
 * The dish states /metrics lists (one 0/1 series each): online, obstructed, or
 * the outage causes of the dish's `DishOutage` enum; a cause not known here is `other`.
 */
export const DISH_STATES = [
  "online",
  "obstructed",
  "booting",
  "stowed",
  "thermal_shutdown",
  "no_schedule",
  "no_sats",
  "no_downlink",
  "no_pings",
  "actuator_activity",
  "cable_test",
  "sleeping",
  "sky_search",
  "inhibit_rf",
  "unknown",
  "other",
] as const;

function dishState(obs: Observation, obstructed: boolean): string {
  if (obs.outage_cause !== undefined && obs.outage_cause !== "") {
    const cause = obs.outage_cause.toLowerCase();
    return (DISH_STATES as readonly string[]).includes(cause) ? cause : "other";
  }
  return obstructed ? "obstructed" : "online";
}

/** Whether an observation carries any of the dish's own fields. */
function isDishObservation(obs: Observation): boolean {
  return obs.obstruction_pct !== undefined || obs.currently_obstructed !== undefined ||
    obs.alerts !== undefined || obs.outage_cause !== undefined ||
    obs.swupdate_reboot_ready !== undefined;
}

/**
 * Live counters and the dish view.
 *
 * @example
 * ```ts
 * const live = new LiveState();
 * live.sample({ t: 1, member: "wan", currently_obstructed: true, alerts: [] });
 * live.countSwitch("failover");
 * live.dish?.state; // "obstructed"
 * ```
 */
export class LiveState {
  #dish: DishView | null = null;
  #switches = new Map<string, number>();
  #sends = new Map<string, { ok: number; failed: number }>();

  /** The dish, null until a dish observation arrived. */
  get dish(): DishView | null {
    return this.#dish === null ? null : { ...this.#dish, alerts: [...this.#dish.alerts] };
  }

  /** Takes what a dish observation says (other observations are ignored); returns what changed. */
  sample(obs: Observation): DishChange[] {
    if (!isDishObservation(obs)) return [];
    const prev = this.#dish;
    const obstructed = obs.currently_obstructed ?? prev?.obstructed ?? false;
    // A dish reading without an outage cause means the outage ended; keep the rest.
    this.#dish = {
      member: obs.member,
      state: dishState(obs, obstructed),
      obstructed,
      obstruction_pct: obs.obstruction_pct ?? prev?.obstruction_pct ?? null,
      alerts: obs.alerts ?? prev?.alerts ?? [],
      update_pending: obs.swupdate_reboot_ready ?? prev?.update_pending ?? false,
      t: obs.t,
    };
    const changes: DishChange[] = [];
    const before = new Set(prev?.alerts ?? []);
    const now = new Set(this.#dish.alerts);
    for (const a of now) if (!before.has(a)) changes.push({ kind: "alert", what: a });
    for (const a of before) if (!now.has(a)) changes.push({ kind: "alert_cleared", what: a });
    if (this.#dish.update_pending && !(prev?.update_pending ?? false)) {
      changes.push({ kind: "update_pending", what: "swupdate_reboot_ready" });
    }
    return changes;
  }

  /** Counts one switch of `kind` (`failover`, `failback`, `manual`, …). */
  countSwitch(kind: string): void {
    this.#switches.set(kind, (this.#switches.get(kind) ?? 0) + 1);
  }

  /** Switches so far by kind. */
  switches(): Record<string, number> {
    return Object.fromEntries([...this.#switches].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Counts one notification send on `channel`. */
  countSend(channel: string, ok: boolean): void {
    const c = this.#sends.get(channel) ?? { ok: 0, failed: 0 };
    if (ok) c.ok++;
    else c.failed++;
    this.#sends.set(channel, c);
  }

  /** Sends so far by channel. */
  sends(): Record<string, { ok: number; failed: number }> {
    return Object.fromEntries(
      [...this.#sends].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, { ...v }]),
    );
  }
}
