/**
 * MQTT: starfail's state as retained topics under `<topic>/…`, every event
 * as a message under `<topic>/event/<type>`, and Home Assistant MQTT
 * discovery configs under `<discovery_prefix>/…`. The protocol is the `mqtt`
 * npm package's; this module decides what is published when.
 *
 * While the broker is away (or refuses the login), the client reconnects with
 * a backoff doubling from 1 s to 60 s; each distinct error is logged once. State is kept as the latest value per topic (so it is
 * bounded by the number of topics) and events in a queue of at most
 * `queue_max` (the oldest are dropped, and the drop is counted and logged).
 * The last will marks `<topic>/availability` `offline`.
 *
 * @module
 */

import { getLogger } from "./logger.ts";
// Loaded when MQTT starts: a daemon with MQTT off never loads the client.
import type { MqttClient } from "mqtt";
import process from "node:process";
import type { MqttConfig } from "../config/schema.ts";
import type { StatusResult } from "../ubus/starfail_object.ts";
import type { DishView } from "./live.ts";

const log = getLogger(["starfail", "mqtt"]);

/** What the state topics are made from. */
export interface MqttStateInput {
  /** The `status` reply. */
  status: StatusResult;
  /** The dish, null when none (or no reading yet). */
  dish: DishView | null;
  /** The Starlink member, null when there is none (no dish entities then). */
  dishMember: string | null;
}

/** One event as published under `<topic>/event/<type>`. */
export interface MqttEvent {
  /** `switch`, `member_state`, `dish_alert`, … */
  type: string;
  /** Unix seconds. */
  at: number;
  /** Member concerned, null when global. */
  member: string | null;
  /** Previous value (the old primary for a switch). */
  from: string | null;
  /** New value (the new primary for a switch). */
  to: string | null;
  /** Why. */
  reason: string;
  /** Decision kind for a switch (`failover`, `failback`, `override`, …). */
  kind?: string;
}

/** One message to publish. */
export interface MqttMessage {
  /** Topic. */
  topic: string;
  /** Payload text. */
  payload: string;
  /** Retained. */
  retain: boolean;
}

function onOff(b: boolean): string {
  return b ? "ON" : "OFF";
}

function round(v: number, digits: number): string {
  const f = 10 ** digits;
  return String(Math.round(v * f) / f);
}

/** Topic-safe form of a member name (`wan_m1_w3` stays; `wan.2` becomes `wan_2`). */
export function topicSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * The retained state topics and their payloads. Values absent from the
 * status (no score yet) are left out rather than published as empty. Pure.
 */
export function stateMessages(topic: string, input: MqttStateInput): Map<string, string> {
  const out = new Map<string, string>();
  const s = input.status;
  out.set(`${topic}/primary`, s.primary ?? "none");
  out.set(`${topic}/override`, s.override?.member ?? "none");
  for (const m of s.members) {
    const base = `${topic}/member/${topicSafe(m.name)}`;
    out.set(`${base}/state`, m.state);
    out.set(`${base}/up`, onOff(m.state === "up" || m.state === "degraded"));
    out.set(`${base}/primary`, onOff(m.primary));
    if (m.score.final !== null) out.set(`${base}/score`, round(m.score.final, 1));
    if (typeof m.metrics.latency_ms === "number") {
      out.set(`${base}/latency_ms`, round(m.metrics.latency_ms, 0));
    }
    if (typeof m.metrics.loss_pct === "number") {
      out.set(`${base}/loss_pct`, round(m.metrics.loss_pct, 1));
    }
  }
  const d = input.dish;
  if (input.dishMember !== null && d !== null) {
    out.set(`${topic}/dish/state`, d.state);
    out.set(`${topic}/dish/obstructed`, onOff(d.obstructed));
    out.set(`${topic}/dish/update_pending`, onOff(d.update_pending));
    out.set(`${topic}/dish/alerts`, JSON.stringify(d.alerts));
    if (d.obstruction_pct !== null) {
      out.set(`${topic}/dish/obstruction_pct`, round(d.obstruction_pct, 2));
    }
  }
  return out;
}

/** Names for the Home Assistant device. */
export interface DiscoveryIdentity {
  /** Unique node id (letters, digits, `_`, `-`), e.g. `starfail_rut955`. */
  nodeId: string;
  /** The daemon version (the device's `sw_version`). */
  version: string;
}

/**
 * Home Assistant MQTT discovery configs: a device "starfail" with sensors
 * (primary; per member state, score, latency, loss) and binary sensors (each
 * member up; dish obstructed and update pending when there is a dish), all
 * with availability on `<topic>/availability`. Keys are the config topics. Pure.
 */
export function discoveryMessages(
  cfg: Pick<MqttConfig, "topic" | "discovery_prefix">,
  id: DiscoveryIdentity,
  members: string[],
  dishMember: string | null,
): Map<string, Record<string, unknown>> {
  const t = cfg.topic;
  const device = {
    identifiers: [id.nodeId],
    name: "starfail",
    manufacturer: "starfail",
    model: "multi-WAN failover",
    sw_version: id.version,
  };
  const common = {
    device,
    availability_topic: `${t}/availability`,
    payload_available: "online",
    payload_not_available: "offline",
  };
  const out = new Map<string, Record<string, unknown>>();
  const add = (component: string, object: string, name: string, extra: Record<string, unknown>) => {
    out.set(`${cfg.discovery_prefix}/${component}/${id.nodeId}/${object}/config`, {
      name,
      unique_id: `${id.nodeId}_${object}`,
      object_id: `starfail_${object}`,
      ...common,
      ...extra,
    });
  };
  add("sensor", "primary", "Primary", { state_topic: `${t}/primary`, icon: "mdi:router-network" });
  for (const name of members) {
    const m = topicSafe(name);
    const base = `${t}/member/${m}`;
    add("sensor", `${m}_state`, `${name} state`, { state_topic: `${base}/state` });
    add("sensor", `${m}_score`, `${name} score`, {
      state_topic: `${base}/score`,
      state_class: "measurement",
      icon: "mdi:gauge",
    });
    add("sensor", `${m}_latency`, `${name} latency`, {
      state_topic: `${base}/latency_ms`,
      unit_of_measurement: "ms",
      device_class: "duration",
      state_class: "measurement",
    });
    add("sensor", `${m}_loss`, `${name} loss`, {
      state_topic: `${base}/loss_pct`,
      unit_of_measurement: "%",
      state_class: "measurement",
    });
    add("binary_sensor", `${m}_up`, `${name} up`, {
      state_topic: `${base}/up`,
      device_class: "connectivity",
      payload_on: "ON",
      payload_off: "OFF",
    });
  }
  if (dishMember !== null) {
    add("binary_sensor", "dish_obstructed", "Dish obstructed", {
      state_topic: `${t}/dish/obstructed`,
      device_class: "problem",
      payload_on: "ON",
      payload_off: "OFF",
    });
    add("binary_sensor", "dish_update_pending", "Dish update pending", {
      state_topic: `${t}/dish/update_pending`,
      device_class: "update",
      payload_on: "ON",
      payload_off: "OFF",
    });
    add("sensor", "dish_state", "Dish state", { state_topic: `${t}/dish/state` });
  }
  return out;
}

/** The one line a connection error is logged as. */
export function describeMqttError(url: string, username: string, err: Error): string {
  const code = (err as { code?: unknown }).code;
  const where = `MQTT broker ${url}`;
  if (code === 4 || code === 134) {
    return `${where} refused the login: bad user name or password (user '${
      username || "(none)"
    }'); check mqtt.username and the file named by mqtt.password_file`;
  }
  if (code === 5 || code === 135) {
    // Mosquitto answers a wrong password with "not authorized" too.
    return `${where} refused the login: not authorized (user '${
      username || "(none)"
    }'): a wrong password, or the broker does not allow this user; check mqtt.username, the file named by mqtt.password_file and the broker's ACL`;
  }
  if (code === "ECONNREFUSED" || /ECONNREFUSED|Connection refused \(os error/.test(err.message)) {
    return `${where} is not reachable: connection refused (is the broker running?)`;
  }
  if (err.name === "NotCapable" || /NotCapable|Requires net access/.test(err.message)) {
    return `${where}: the sandbox denies network access to it (${err.message})`;
  }
  return `${where}: ${err.message}`;
}

let loaded: Promise<typeof import("mqtt").default> | null = null;

/**
 * Runs `fn` while `process.env` is an empty object. The `mqtt` package and
 * its dependencies read the environment as they load (`debug` enumerates all
 * of it; `readable-stream`, `ws` read single names) — at import and, for the
 * transport modules, inside `connect()` — which the compiled binary's narrow
 * `--allow-env` refuses. They get their defaults instead. `connect()` is
 * synchronous, so nothing else runs meanwhile; the import is the one await.
 */
async function withEmptyEnv<T>(fn: () => T | Promise<T>): Promise<T> {
  const env = Object.getOwnPropertyDescriptor(process, "env");
  if (!env?.configurable) return await fn();
  Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    Object.defineProperty(process, "env", env);
  }
}

function loadMqtt(): Promise<typeof import("mqtt").default> {
  loaded ??= withEmptyEnv(async () => (await import("mqtt")).default);
  return loaded;
}

/** Options for {@linkcode MqttPublisher}. */
export interface MqttPublisherOptions {
  /** The password (read from `password_file` by the caller), '' for none. */
  password?: string;
  /** Device identity for discovery. */
  identity: DiscoveryIdentity;
  /** Backoff bounds (tests shorten them), ms. Default 1000 and 60000. */
  backoffMs?: { min: number; max: number };
}

/** How the publisher is doing. */
export interface MqttStatus {
  /** Connected to the broker now. */
  connected: boolean;
  /** Successful connections so far. */
  connects: number;
  /** The last connection error (one line), null when none since the last connect. */
  lastError: string | null;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events waiting for the broker. */
  queued: number;
}

/**
 * Publishes state, events and discovery to one broker.
 *
 * @example
 * ```ts
 * const pub = new MqttPublisher(cfg.mqtt, { identity: { nodeId: "starfail_router", version: "1.0" } });
 * await pub.start();
 * pub.setMembers(["wan", "lte"], null);
 * pub.publishState({ status, dish: null, dishMember: null });
 * pub.publishEvent({ type: "switch", at: 1, member: "lte", from: "wan", to: "lte", reason: "manual" });
 * await pub.close();
 * ```
 */
export class MqttPublisher {
  #cfg: MqttConfig;
  #opts: MqttPublisherOptions;
  #client: MqttClient | null = null;
  /** Latest state payload per topic, and what the broker has been sent. */
  #state = new Map<string, string>();
  #sent = new Map<string, string>();
  #events: MqttMessage[] = [];
  #members: string[] = [];
  #dishMember: string | null = null;
  #discoveryTopics = new Set<string>();
  #discoveryDirty = true;
  #status: MqttStatus = { connected: false, connects: 0, lastError: null, dropped: 0, queued: 0 };
  #backoff: number;
  #loggedError: string | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;

  /** A publisher for `cfg`; nothing connects before {@linkcode start}. */
  constructor(cfg: MqttConfig, opts: MqttPublisherOptions) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.#backoff = opts.backoffMs?.min ?? 1000;
  }

  /** How it is doing. */
  status(): MqttStatus {
    return { ...this.#status, queued: this.#events.length };
  }

  /** Loads the client and connects (and keeps reconnecting) in the background. */
  async start(): Promise<void> {
    const mqtt = await loadMqtt();
    const c = this.#cfg;
    const min = this.#opts.backoffMs?.min ?? 1000;
    const max = this.#opts.backoffMs?.max ?? 60000;
    const client = await withEmptyEnv(() =>
      mqtt.connect(c.url, {
        clientId: c.client_id || this.#opts.identity.nodeId,
        ...(c.username !== "" ? { username: c.username } : {}),
        ...(this.#opts.password ? { password: this.#opts.password } : {}),
        connectTimeout: c.timeout_ms,
        // Reconnects are ours (below): the client's own retry runs at one fixed period.
        reconnectPeriod: 0,
        // Our own bounded queue holds what waits for the broker; the client's would grow without bound.
        queueQoSZero: false,
        clean: true,
        // Said here so the client does not read MQTTJS_SOCKS_PROXY from the environment.
        socksProxy: "",
        will: { topic: `${c.topic}/availability`, payload: "offline", retain: true, qos: 1 },
      })
    );
    this.#client = client;
    client.on("connect", () => {
      this.#status.connected = true;
      this.#status.connects++;
      this.#status.lastError = null;
      this.#loggedError = null;
      this.#backoff = min;
      log.info("MQTT connected", { url: c.url });
      // A new session: the broker may have restarted and lost what was not retained in its store.
      this.#sent.clear();
      this.#discoveryDirty = true;
      this.#send({ topic: `${c.topic}/availability`, payload: "online", retain: true });
      this.#flush();
    });
    client.on("close", () => {
      if (this.#status.connected) log.warn("MQTT connection lost; reconnecting", { url: c.url });
      this.#status.connected = false;
      if (this.#client !== client || this.#retry !== null) return;
      const wait = this.#backoff;
      this.#backoff = Math.min(max, this.#backoff * 2);
      this.#retry = setTimeout(() => {
        this.#retry = null;
        if (this.#client === client) client.reconnect();
      }, wait);
    });
    client.on("error", (err: Error) => {
      const line = describeMqttError(c.url, c.username, err);
      this.#status.lastError = line;
      if (line !== this.#loggedError) {
        this.#loggedError = line;
        log.warn(line);
      }
    });
  }

  /** The members (and the dish member) discovery describes; changes republish discovery. */
  setMembers(members: string[], dishMember: string | null): void {
    if (members.join("\n") === this.#members.join("\n") && dishMember === this.#dishMember) return;
    this.#members = [...members];
    this.#dishMember = dishMember;
    this.#discoveryDirty = true;
    // Topics of members that are gone are no longer kept (nor republished on reconnect).
    const kept = new Set(members.map((m) => `${this.#cfg.topic}/member/${topicSafe(m)}/`));
    for (const topic of [...this.#state.keys()]) {
      const i = topic.indexOf("/member/");
      if (i < 0) continue;
      const prefix = topic.slice(0, topic.indexOf("/", i + 8) + 1);
      if (!kept.has(prefix)) {
        this.#state.delete(topic);
        this.#sent.delete(topic);
      }
    }
    this.#flush();
  }

  /** Publishes the state topics that changed since they were last sent. */
  publishState(input: MqttStateInput): void {
    for (const [topic, payload] of stateMessages(this.#cfg.topic, input)) {
      this.#state.set(topic, payload);
    }
    this.#flush();
  }

  /** Publishes an event now, or queues it (bounded) while disconnected. */
  publishEvent(ev: MqttEvent): void {
    const msg = {
      topic: `${this.#cfg.topic}/event/${ev.type}`,
      payload: JSON.stringify(ev),
      retain: false,
    };
    if (this.#status.connected) {
      this.#send(msg);
      return;
    }
    this.#events.push(msg);
    const excess = this.#events.length - this.#cfg.queue_max;
    if (excess > 0) {
      this.#events.splice(0, excess);
      this.#status.dropped += excess;
      log.warn("MQTT broker away: oldest queued events dropped", {
        dropped: excess,
        queue_max: this.#cfg.queue_max,
      });
    }
  }

  #send(m: MqttMessage): void {
    this.#client?.publish(m.topic, m.payload, { retain: m.retain, qos: 0 }, (err) => {
      if (err) log.debug("MQTT publish failed", { topic: m.topic, error: err.message });
    });
  }

  #flush(): void {
    if (!this.#status.connected) return;
    if (this.#discoveryDirty) {
      this.#discoveryDirty = false;
      const wanted = this.#cfg.ha_discovery
        ? discoveryMessages(this.#cfg, this.#opts.identity, this.#members, this.#dishMember)
        : new Map<string, Record<string, unknown>>();
      // Entities of members that are gone are removed by an empty retained config.
      for (const topic of this.#discoveryTopics) {
        if (!wanted.has(topic)) this.#send({ topic, payload: "", retain: true });
      }
      this.#discoveryTopics = new Set(wanted.keys());
      for (const [topic, config] of wanted) {
        this.#send({ topic, payload: JSON.stringify(config), retain: true });
      }
    }
    for (const [topic, payload] of this.#state) {
      if (this.#sent.get(topic) === payload) continue;
      this.#sent.set(topic, payload);
      this.#send({ topic, payload, retain: this.#cfg.retain });
    }
    for (const m of this.#events.splice(0)) this.#send(m);
  }

  /** Marks the daemon offline and disconnects (0.8 s deadline: a stop must stay under 1 s). */
  async close(): Promise<void> {
    const client = this.#client;
    if (client === null) return;
    this.#client = null;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    if (client.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 400);
        client.publish(
          `${this.#cfg.topic}/availability`,
          "offline",
          { retain: true, qos: 1 },
          () => {
            clearTimeout(timer);
            resolve();
          },
        );
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.end(true);
        resolve();
      }, 400);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#status.connected = false;
  }
}
