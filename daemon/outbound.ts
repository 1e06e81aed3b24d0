/**
 * The daemon's outward channels for events: notifications (Pushover,
 * webhook), MQTT (state, events, Home Assistant discovery) and the owner's
 * hook script. It turns daemon events into what each channel wants, records
 * every notification send and hook run in the event log, and rebuilds the
 * channels whose config changed on reload.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { StarfailConfig } from "../config/schema.ts";
import type { NotifyTestResult, StatusResult } from "../ubus/starfail_object.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import type { LiveState } from "../telemetry/live.ts";
import { type Notification, type NotificationType, Notifier } from "../telemetry/notify.ts";
import { MqttPublisher, topicSafe } from "../telemetry/mqtt.ts";
import { HookRunner } from "../telemetry/hook.ts";
import { sectionDenials } from "../config/sandbox.ts";
import { VERSION } from "../version.ts";
import type { DaemonEvent } from "./runtime.ts";

const log = getLogger(["starfail", "outbound"]);

/** What the outward channels need from the daemon. */
export interface OutboundDeps {
  /** The `status` reply now. */
  status: () => Promise<StatusResult>;
  /** Dish view and counters. */
  live: LiveState;
  /** The Starlink member, null when none. */
  dishMember: () => string | null;
  /** Records an event in the daemon's event log (`notify`, `hook`). */
  record: (type: "notify" | "hook", fields: { member?: string | null; reason: string }) => void;
  /** Unix seconds now. */
  wallS: () => number;
  /** How often MQTT state is refreshed, ms. */
  stateIntervalMs: () => number;
}

function sameSection(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The device's node id for Home Assistant: `starfail_<hostname>`. */
export function nodeId(): string {
  let host = "router";
  try {
    host = Deno.hostname();
  } catch {
    // No permission for the host name: the fixed id serves one router per broker.
  }
  return `starfail_${topicSafe(host).toLowerCase()}`;
}

/**
 * Notifications, MQTT and the hook, driven by daemon events.
 *
 * @example
 * ```ts
 * const out = new Outbound(cfg, deps);
 * await out.start();
 * runtime.onEvent((ev) => out.event(ev, kindOf(ev)));
 * await out.stop();
 * ```
 */
export class Outbound {
  #cfg: StarfailConfig;
  #deps: OutboundDeps;
  #notifier: Notifier;
  #mqtt: MqttPublisher | null = null;
  #hook: HookRunner;
  #timer: ReturnType<typeof setInterval> | null = null;
  #allDown = false;

  /** Builds the channels for `cfg`; nothing connects before {@linkcode start}. */
  constructor(cfg: StarfailConfig, deps: OutboundDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#notifier = this.#newNotifier(cfg);
    this.#hook = this.#newHook(cfg);
  }

  /** The notifier (for `notify test`). */
  get notifier(): Notifier {
    return this.#notifier;
  }

  /** The MQTT publisher, null when MQTT is off. */
  get mqtt(): MqttPublisher | null {
    return this.#mqtt;
  }

  /** The hook runner. */
  get hook(): HookRunner {
    return this.#hook;
  }

  #newNotifier(cfg: StarfailConfig): Notifier {
    return new Notifier(cfg.notifications, {
      onSend: (n, r) => {
        this.#deps.live.countSend(r.channel, r.ok);
        this.#deps.record("notify", {
          member: n.member ?? null,
          reason: r.ok
            ? `${r.channel} accepted '${n.title}' (${n.type})`
            : `${r.channel} did not take '${n.title}' (${n.type}): ${r.detail}`,
        });
      },
    });
  }

  #newHook(cfg: StarfailConfig): HookRunner {
    const hook = new HookRunner(cfg.hook.path, cfg.hook.timeout_s);
    hook.onRun = (run) => {
      const what = `${run.event.event} ${run.event.from || "none"} → ${run.event.to}`;
      this.#deps.record("hook", {
        member: run.event.member,
        reason: run.error ??
          (run.timedOut
            ? `${cfg.hook.path} (${what}) killed after ${cfg.hook.timeout_s} s`
            : `${cfg.hook.path} (${what}) exited ${run.code}`),
      });
    };
    return hook;
  }

  async #startMqtt(cfg: StarfailConfig): Promise<void> {
    const m = cfg.mqtt;
    if (!m.enabled) return;
    if (sectionDenials(cfg, "mqtt").length > 0) {
      // The startup check (and `config validate`) named each denied host or file with its fix;
      // connecting would only fail again on every retry.
      log.info("MQTT is off: this build does not allow its broker or password file");
      return;
    }
    let password = "";
    if (m.password_file !== "") {
      try {
        password = (await Deno.readTextFile(m.password_file)).split("\n")[0].trim();
      } catch (err) {
        log.warn(
          `MQTT is off: cannot read mqtt.password_file ${m.password_file}: ${
            err instanceof Error ? err.message : String(err)
          }`,
        );
        return;
      }
    }
    const pub = new MqttPublisher(m, {
      password,
      identity: { nodeId: nodeId(), version: VERSION },
    });
    this.#mqtt = pub;
    await pub.start();
    await this.#publishState();
    this.#timer = setInterval(() => void this.#publishState(), this.#deps.stateIntervalMs());
  }

  async #publishState(): Promise<void> {
    const pub = this.#mqtt;
    if (pub === null) return;
    try {
      const status = await this.#deps.status();
      const dishMember = this.#deps.dishMember();
      pub.setMembers(status.members.map((m) => m.name), dishMember);
      pub.publishState({ status, dish: this.#deps.live.dish, dishMember });
    } catch (err) {
      log.debug("MQTT state not published", { error: String(err) });
    }
  }

  /** Connects MQTT (when enabled). */
  async start(): Promise<void> {
    await this.#startMqtt(this.#cfg);
  }

  /** Takes a new config: rebuilds the channels whose section changed. */
  async reconfigure(cfg: StarfailConfig): Promise<void> {
    const old = this.#cfg;
    this.#cfg = cfg;
    if (!sameSection(old.notifications, cfg.notifications)) {
      this.#notifier.close();
      this.#notifier = this.#newNotifier(cfg);
    }
    if (!sameSection(old.hook, cfg.hook)) {
      await this.#hook.idle();
      this.#hook = this.#newHook(cfg);
    }
    if (!sameSection(old.mqtt, cfg.mqtt)) {
      await this.#stopMqtt();
      await this.#startMqtt(cfg);
    }
  }

  async #stopMqtt(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#mqtt?.close();
    this.#mqtt = null;
  }

  /** The channels `notify_test` can try: `pushover`, `webhook`, `mqtt` as configured. */
  channels(): string[] {
    return [...this.#notifier.channels(), ...(this.#cfg.mqtt.enabled ? ["mqtt"] : [])];
  }

  /**
   * Sends a test message through every configured channel (or `channel`
   * only); each result is logged and recorded as a `notify` event. Throws
   * {@linkcode UbusError} INVALID_ARGUMENT for a channel that is not configured.
   */
  async test(channel?: string): Promise<NotifyTestResult> {
    const configured = this.channels();
    if (channel !== undefined && !configured.includes(channel)) {
      throw new UbusError(
        Status.INVALID_ARGUMENT,
        `channel '${channel}' is not configured; configured: ${configured.join(", ") || "none"}`,
      );
    }
    const wanted = channel === undefined ? configured : [channel];
    if (wanted.length === 0) {
      return {
        results: [],
        message: "no notification channel is configured (notifications.pushover_token and " +
          "pushover_user, notifications.webhook_url, or mqtt.enabled with mqtt.url)",
      };
    }
    const at = this.#deps.wallS();
    const n: Notification = {
      type: "test",
      t: at,
      title: "starfail: test notification",
      message: `A test message from starfail ${VERSION}, sent by 'starfail notify test'.`,
    };
    const results: NotifyTestResult["results"] = [];
    const http = wanted.filter((c) => c !== "mqtt");
    for (const ch of http) {
      const r = await this.#notifier.notify(n, ch);
      for (const x of r.results) results.push({ channel: x.channel, ok: x.ok, detail: x.detail });
    }
    if (wanted.includes("mqtt")) {
      const st = this.#mqtt?.status();
      const ok = st?.connected === true;
      if (ok) {
        this.#mqtt!.publishEvent({
          type: "test",
          at,
          member: null,
          from: null,
          to: null,
          reason: n.message,
        });
      }
      const detail = ok
        ? `published to ${this.#cfg.mqtt.topic}/event/test`
        : `not connected to ${this.#cfg.mqtt.url}: ${st?.lastError ?? "not started"}`;
      results.push({ channel: "mqtt", ok, detail });
      this.#deps.live.countSend("mqtt", ok);
      this.#deps.record("notify", {
        reason: ok
          ? `mqtt accepted '${n.title}' (test)`
          : `mqtt did not take '${n.title}' (test): ${detail}`,
      });
      if (ok) log.info("Notification sent", { type: "test", channel: "mqtt" });
      else log.warn("Notification not delivered", { type: "test", channel: "mqtt", error: detail });
    }
    const good = results.filter((r) => r.ok).length;
    return {
      results,
      message: `${good} of ${results.length} channel${
        results.length === 1 ? "" : "s"
      } took the test message`,
    };
  }

  /** Sends one notification, never throwing. */
  notify(n: Notification): void {
    void this.#notifier.notify(n).catch((err) =>
      log.warn("Notification failed", { error: String(err) })
    );
  }

  /** A daemon event: to MQTT, the hook and notifications as each wants it. */
  event(ev: DaemonEvent, kind: string | undefined): void {
    if (ev.type === "notify" || ev.type === "hook") return;
    const at = ev.wall_ms / 1000;
    this.#mqtt?.publishEvent({
      type: ev.type,
      at,
      member: ev.member,
      from: ev.from,
      to: ev.to,
      reason: ev.reason,
      ...(kind !== undefined ? { kind } : {}),
    });
    if (ev.type === "switch" || ev.type === "member_state") {
      // State topics follow at once rather than at the next refresh.
      void this.#publishState();
      this.#hook.enqueue({
        event: ev.type === "switch" ? "switch" : "member",
        from: ev.from ?? "",
        to: ev.to ?? "",
        member: ev.member ?? "",
        reason: ev.reason,
        kind: kind ?? "",
        at,
      });
    }
    const n = notificationFor(ev, kind);
    if (n !== null) this.notify(n);
    if (ev.type === "member_state") void this.#checkAllDown(ev);
  }

  async #checkAllDown(ev: DaemonEvent): Promise<void> {
    let status: StatusResult;
    try {
      status = await this.#deps.status();
    } catch {
      return;
    }
    const usable = status.members.filter((m) => m.state === "up" || m.state === "degraded");
    if (usable.length === 0 && status.members.length > 0 && !this.#allDown) {
      this.#allDown = true;
      this.notify({
        type: "all_down",
        t: ev.t,
        title: "starfail: every member is down",
        message: status.members.map((m) => `${m.name}: ${m.state} (${m.reason})`).join("\n"),
      });
    } else if (usable.length > 0) {
      this.#allDown = false;
    }
  }

  /** Stops the state timer, disconnects MQTT (marking offline) and waits for the hook. */
  async stop(): Promise<void> {
    this.#notifier.close();
    await this.#stopMqtt();
    await this.#hook.idle();
  }
}

/** The notification a daemon event calls for, null for none. */
export function notificationFor(ev: DaemonEvent, kind: string | undefined): Notification | null {
  let type: NotificationType | null = null;
  let title = "";
  if (ev.type === "switch" && ev.from !== null) {
    type = kind === "failback" ? "failback" : kind === "predictive" ? "predictive" : "failover";
    title = `starfail: ${type} ${ev.from} → ${ev.to}`;
  } else if (ev.type === "member_state" && ev.to === "down") {
    type = "member_down";
    title = `starfail: ${ev.member} is down`;
  } else if (ev.type === "member_state" && ev.to === "up" && ev.from !== "unknown") {
    type = "member_up";
    title = `starfail: ${ev.member} is up again`;
  } else if (ev.type === "dish_alert" && ev.to !== null) {
    type = "dish_alert";
    title = ev.to === "update_pending"
      ? "starfail: dish update downloaded, it reboots to install it"
      : ev.to === "reboot"
      ? "starfail: the dish rebooted"
      : `starfail: dish alert ${ev.to}`;
  } else if (ev.type === "dish_api") {
    type = "api_drift";
    title = "starfail: the dish API changed";
  }
  if (type === null) return null;
  return {
    type,
    t: ev.t,
    title,
    message: ev.reason,
    ...(ev.member !== null ? { member: ev.member } : {}),
    data: { from: ev.from, to: ev.to, ...(kind !== undefined ? { kind } : {}) },
  };
}
