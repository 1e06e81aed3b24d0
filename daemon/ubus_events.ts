/**
 * The ubus events the daemon sends, so hotplug scripts, LuCI and other
 * daemons learn of changes the OpenWrt way (`ubus listen starfail.*`):
 *
 * - `starfail.switch` — the primary changed (failover, failback, manual);
 * - `starfail.member` — a member's state changed;
 * - `starfail.alert` — a dish alert or a pending update reboot began or ended.
 *
 * The builders here are pure; {@linkcode publishEvent} sends one without
 * waiting on ubusd or any listener. Fields: docs/api.md "Events".
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { Observation } from "../engine/mod.ts";
import type { DaemonEvent } from "./runtime.ts";

const log = getLogger(["starfail", "ubus", "events"]);

/** One event to send: its id (`starfail.*`) and its data table. */
export interface StarfailUbusEvent {
  /** Event id, e.g. `starfail.switch`. */
  id: "starfail.switch" | "starfail.member" | "starfail.alert";
  /** Event data (a flat table of strings, numbers and booleans). */
  data: { [key: string]: string | number | boolean | null };
}

/** Decision kinds an operator caused (`starfail failover`, `restore`, the ubus methods). */
const MANUAL_KINDS = new Set(["override", "override_end"]);

/**
 * The ubus event for a daemon event, or null when it has none.
 * `switch` → `starfail.switch`, `member_state` → `starfail.member`.
 * `kind` is the engine's decision kind for a switch (`hard`, `predictive`,
 * `score`, `failback`, `override`, `override_end`, `initial`).
 */
export function ubusEventFor(
  ev: DaemonEvent,
  kind: string | undefined,
): StarfailUbusEvent | null {
  const time = Math.round(ev.wall_ms / 1000);
  if (ev.type === "switch") {
    return {
      id: "starfail.switch",
      data: {
        from: ev.from,
        to: ev.to,
        reason: ev.reason,
        kind: kind ?? (ev.from === null ? "initial" : "unknown"),
        manual: kind !== undefined && MANUAL_KINDS.has(kind),
        time,
      },
    };
  }
  if (ev.type === "member_state" && ev.member !== null) {
    return {
      id: "starfail.member",
      data: { member: ev.member, old: ev.from, new: ev.to, reason: ev.reason, time },
    };
  }
  return null;
}

/** What the dish says about a pending update reboot, as a pseudo-alert name. */
export const UPDATE_REBOOT_ALERT = "update_reboot";

/**
 * Follows the dish's alerts across observations and says which began and
 * which ended. A dish alert is one of the status's `alerts` flags (e.g.
 * `thermal_throttle`, `motors_stuck`); {@linkcode UPDATE_REBOOT_ALERT} is
 * active while the dish reports a downloaded update waiting for its reboot
 * (`swupdate_reboot_ready`), and ends when the flag clears (after the reboot).
 *
 * @example
 * ```ts
 * const alerts = new AlertTracker();
 * alerts.observe({ t: 1, member: "wan", alerts: ["thermal_throttle"] }, 0); // one start event
 * alerts.observe({ t: 2, member: "wan", alerts: [] }, 0); // one end event
 * ```
 */
export class AlertTracker {
  #active = new Map<string, Set<string>>();

  /** Events for what began or ended with this observation (none when it carries no dish fields). */
  observe(obs: Observation, wallMs: number): StarfailUbusEvent[] {
    if (obs.alerts === undefined && obs.swupdate_reboot_ready === undefined) return [];
    const before = this.#active.get(obs.member) ?? new Set<string>();
    const now = new Set(obs.alerts ?? [...before].filter((a) => a !== UPDATE_REBOOT_ALERT));
    if (obs.swupdate_reboot_ready === true) now.add(UPDATE_REBOOT_ALERT);
    else if (obs.swupdate_reboot_ready === undefined && before.has(UPDATE_REBOOT_ALERT)) {
      now.add(UPDATE_REBOOT_ALERT);
    }
    this.#active.set(obs.member, now);
    const time = Math.round(wallMs / 1000);
    const out: StarfailUbusEvent[] = [];
    const event = (alert: string, active: boolean): StarfailUbusEvent => ({
      id: "starfail.alert",
      data: {
        member: obs.member,
        alert,
        kind: alert === UPDATE_REBOOT_ALERT ? "update_reboot" : "dish_alert",
        active,
        message: alertMessage(alert, active),
        time,
      },
    });
    for (const a of [...now].sort()) if (!before.has(a)) out.push(event(a, true));
    for (const a of [...before].sort()) if (!now.has(a)) out.push(event(a, false));
    return out;
  }
}

function alertMessage(alert: string, active: boolean): string {
  if (alert === UPDATE_REBOOT_ALERT) {
    return active
      ? "the dish downloaded a software update and will reboot to install it"
      : "the dish's update reboot is over (no update waits for a reboot)";
  }
  return active ? `dish alert ${alert} began` : `dish alert ${alert} ended`;
}

/** Where events go: the ubus object server's `sendEvent` (or a test's recorder). */
export interface EventSender {
  /** Whether ubus is connected now. */
  readonly connected: boolean;
  /** Sends one event. */
  sendEvent(id: string, data: StarfailUbusEvent["data"]): Promise<void>;
}

/**
 * Sends `ev` and returns at once: the daemon never waits on ubusd or on any
 * listener. Without a ubus connection the event is dropped (the event log
 * and `starfail events` still have it); a failure is a debug line.
 */
export function publishEvent(sender: EventSender, ev: StarfailUbusEvent): void {
  if (!sender.connected) return;
  sender.sendEvent(ev.id, ev.data).catch((err) =>
    log.debug("Could not send a ubus event", {
      event: ev.id,
      error: err instanceof Error ? err.message : String(err),
    })
  );
}
