/**
 * Interface state from netifd over ubus: `network.interface.<name> status`
 * (up, uptime, l3_device, routes) and the `network.interface` ifup/ifdown
 * events, so a link drop reaches the engine as soon as netifd announces it.
 *
 * Formats: see `collectors/testdata/netifd_*` (a down interface has no
 * address/route keys at all; QMI/NCM/RutOS `wwan` keep the address on the
 * dynamic `<iface>_4` interface).
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { Observation } from "../engine/types.ts";
import type { JsonObject } from "../ubus/blob.ts";
import type { UbusCaller, UbusEventSource } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";

const log = getLogger(["starfail", "collectors", "netifd"]);

/** One route of an interface. */
export interface InterfaceRoute {
  /** Destination network. */
  target: string;
  /** Prefix length. */
  mask: number;
  /** Gateway. */
  nexthop: string;
  /** Route metric when given. */
  metric?: number;
}

/** The parts of `network.interface.<name> status` the daemon uses. */
export interface InterfaceStatus {
  /** Interface is up. */
  up: boolean;
  /** Setup is in progress. */
  pending: boolean;
  /** The device exists. */
  available: boolean;
  /** Created at run time (e.g. `wwan_4`). */
  dynamic: boolean;
  /** Seconds up (only when up). */
  uptime_s?: number;
  /** Layer-3 device (only when up). */
  l3_device?: string;
  /** Configured device. */
  device?: string;
  /** Protocol handler. */
  proto?: string;
  /** Interface metric (only when up). */
  metric?: number;
  /** IPv4 addresses as `addr/len`. */
  ipv4: string[];
  /** IPv6 addresses as `addr/len`. */
  ipv6: string[];
  /** Routes. */
  routes: InterfaceRoute[];
  /** Whether a default route (0.0.0.0/0 or ::/0) is present. */
  default_route: boolean;
  /** Errors netifd recorded, e.g. `qmi/NETWORK_REGISTRATION_FAILED`. */
  errors: string[];
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

function addresses(v: unknown): string[] {
  return list(v)
    .map(obj)
    .filter((a) => typeof a.address === "string")
    .map((a) => `${a.address}/${num(a.mask) ?? ""}`);
}

/**
 * Parses the reply of `ubus call network.interface.<name> status`. Missing
 * keys are treated as absent (never as empty lists meaning "down").
 *
 * @example
 * ```ts
 * const s = parseInterfaceStatus({ up: true, uptime: 132, l3_device: "eth1" });
 * s.up; // true
 * ```
 */
export function parseInterfaceStatus(json: unknown): InterfaceStatus {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error("netifd status reply is not a JSON object");
  }
  const j = json as Record<string, unknown>;
  const routes = list(j.route).map(obj).filter((r) => typeof r.target === "string").map((r) => {
    const route: InterfaceRoute = {
      target: String(r.target),
      mask: num(r.mask) ?? 0,
      nexthop: str(r.nexthop) ?? "",
    };
    const metric = num(r.metric);
    if (metric !== undefined) route.metric = metric;
    return route;
  });
  return {
    up: j.up === true,
    pending: j.pending === true,
    available: j.available === true,
    dynamic: j.dynamic === true,
    uptime_s: num(j.uptime),
    l3_device: str(j.l3_device),
    device: str(j.device),
    proto: str(j.proto),
    metric: num(j.metric),
    ipv4: addresses(j["ipv4-address"]),
    ipv6: addresses(j["ipv6-address"]),
    routes,
    default_route: routes.some((r) =>
      r.mask === 0 && (r.target === "0.0.0.0" || r.target === "::")
    ),
    errors: list(j.errors).map(obj).map((e) => `${str(e.subsystem) ?? "?"}/${str(e.code) ?? "?"}`),
  };
}

/** Options for {@linkcode fetchInterfaceStatus}. */
export interface FetchOptions {
  /** Deadline per ubus call (default 2000 ms). */
  timeoutMs?: number;
}

/**
 * Reads `network.interface.<iface> status`. When the interface is up but has
 * no address (QMI/NCM/RutOS `wwan`), the dynamic `<iface>_4` interface fills
 * in addresses, routes and the l3 device. Resolves `null` when netifd has no
 * such interface (ubus NOT_FOUND).
 */
export async function fetchInterfaceStatus(
  ubus: UbusCaller,
  iface: string,
  opts: FetchOptions = {},
): Promise<InterfaceStatus | null> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  let status: InterfaceStatus;
  try {
    status = parseInterfaceStatus(
      await ubus.call(`network.interface.${iface}`, "status", {}, { timeoutMs }),
    );
  } catch (err) {
    if (err instanceof UbusError && err.status === Status.NOT_FOUND) return null;
    throw err;
  }
  if (status.up && status.ipv4.length === 0 && status.ipv6.length === 0 && !iface.endsWith("_4")) {
    try {
      const sub = parseInterfaceStatus(
        await ubus.call(`network.interface.${iface}_4`, "status", {}, { timeoutMs }),
      );
      if (sub.up) {
        status = {
          ...status,
          ipv4: sub.ipv4,
          routes: sub.routes,
          default_route: sub.default_route,
          l3_device: status.l3_device ?? sub.l3_device,
        };
      }
    } catch (err) {
      if (!(err instanceof UbusError && err.status === Status.NOT_FOUND)) throw err;
    }
  }
  return status;
}

/** Turns an interface status into an observation: link up means up and not pending. */
export function interfaceObservation(
  member: string,
  status: InterfaceStatus | null,
  t: number,
): Observation {
  return { t, member, link_up: status !== null && status.up && !status.pending };
}

/** A `network.interface` event as netifd sends it. */
export interface InterfaceEvent {
  /** `ifup` or `ifdown`. */
  action: "ifup" | "ifdown";
  /** Logical interface name. */
  interface: string;
}

/** Parses the payload of a `network.interface` event; null for anything else. */
export function parseInterfaceEvent(data: JsonObject): InterfaceEvent | null {
  const action = data.action;
  const iface = data.interface;
  if ((action !== "ifup" && action !== "ifdown") || typeof iface !== "string") return null;
  return { action, interface: iface };
}

/** A member and the netifd interface it rides on. */
export interface NetifdMember {
  /** Member name. */
  member: string;
  /** netifd interface (`wan`, `wwan`, `mob1s1a1`). */
  iface: string;
}

/** Options for {@linkcode NetifdCollector}. */
export interface NetifdCollectorOptions {
  /** ubus access (calls and events). */
  ubus: UbusCaller & UbusEventSource;
  /** Members to watch. */
  members: NetifdMember[];
  /** Engine clock in seconds. */
  clock: () => number;
  /** Receives observations produced by events. */
  onObservation: (obs: Observation) => void;
  /** Deadline per ubus call (default 2000 ms). */
  timeoutMs?: number;
}

/**
 * Polls interface status for each member and reacts to ifup/ifdown events:
 * `ifdown` of a member's interface (or its `_4` child) yields `link_up:
 * false` at once; `ifup` re-reads the status and reports it.
 *
 * @example
 * ```ts
 * const netifd = new NetifdCollector({ ubus: server, members: [{ member: "starlink", iface: "wan" }],
 *   clock: () => performance.now() / 1000, onObservation: (o) => feed(o) });
 * await netifd.start();
 * const obs = await netifd.poll();
 * ```
 */
export class NetifdCollector {
  #opts: NetifdCollectorOptions;
  /** Last status read per member. */
  readonly last = new Map<string, InterfaceStatus | null>();

  /** Creates the collector; call {@linkcode start} to listen for events. */
  constructor(opts: NetifdCollectorOptions) {
    this.#opts = opts;
  }

  /** Replaces the member list (after discovery or a config reload). */
  setMembers(members: NetifdMember[]): void {
    this.#opts = { ...this.#opts, members };
  }

  /** Subscribes to the `network.interface` event. */
  async start(): Promise<void> {
    await this.#opts.ubus.listen("network.interface", (_id, data) => this.handleEvent(data));
  }

  /** Handles one `network.interface` event payload (exposed for replay and tests). */
  handleEvent(data: JsonObject): void {
    const ev = parseInterfaceEvent(data);
    if (!ev) return;
    const parent = ev.interface.endsWith("_4") || ev.interface.endsWith("_6")
      ? ev.interface.slice(0, -2)
      : ev.interface;
    for (const m of this.#opts.members) {
      if (m.iface !== ev.interface && m.iface !== parent) continue;
      if (ev.action === "ifdown" && (m.iface === ev.interface || ev.interface.endsWith("_4"))) {
        log.info("Interface went down", { member: m.member, iface: ev.interface });
        this.#opts.onObservation({ t: this.#opts.clock(), member: m.member, link_up: false });
      } else if (ev.action === "ifup") {
        log.info("Interface came up", { member: m.member, iface: ev.interface });
        this.#pollOne(m).then((obs) => this.#opts.onObservation(obs)).catch((err) => {
          log.warn("Could not read interface status after ifup", {
            member: m.member,
            error: String(err),
          });
        });
      }
    }
  }

  /** Reads every member's interface status once. Members whose read failed are left out. */
  async poll(): Promise<Observation[]> {
    const results = await Promise.allSettled(this.#opts.members.map((m) => this.#pollOne(m)));
    const out: Observation[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") out.push(r.value);
      else {
        log.warn("netifd status failed", {
          member: this.#opts.members[i].member,
          error: String(r.reason),
        });
      }
    });
    return out;
  }

  async #pollOne(m: NetifdMember): Promise<Observation> {
    const status = await fetchInterfaceStatus(this.#opts.ubus, m.iface, {
      timeoutMs: this.#opts.timeoutMs,
    });
    this.last.set(m.member, status);
    return interfaceObservation(m.member, status, this.#opts.clock());
  }
}
