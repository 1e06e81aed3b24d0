/**
 * mwan3's own view over ubus (`ubus call mwan3 status`), when mwan3 is
 * installed: tracker state per interface and the live policy percentages.
 * The mwan3 controller parses the reply with it for its read-back; the
 * daemon does not feed mwan3's tracker verdicts to the engine (netifd and
 * starfail's own probes already report link state and loss).
 *
 * Formats: 2.10 (no `tracking`), 2.11+ (`tracking`), RutOS 7.x (`standby`,
 * `notracking`); see `collectors/testdata/mwan3_status_*`. `latency` and
 * `packetloss` stay 0 unless `check_quality=1`, so they are reported but not
 * turned into observations.
 *
 * @module
 */

import type { UbusCaller } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";

/** One tracked address. */
export interface Mwan3TrackIp {
  /** Address. */
  ip: string;
  /** `up`, `down` or `skipped` (not probed: reliability already met). */
  status: string;
  /** ms; 0 unless check_quality=1. */
  latency: number;
  /** %; 0 unless check_quality=1. */
  packetloss: number;
}

/** One interface as mwan3track sees it. */
export interface Mwan3Interface {
  /** `online`, `offline`, `connecting`, `disconnecting`, `disabled`, `unknown`, RutOS `standby`/`notracking`. */
  status: string;
  /** 2.11+: `active`, `paused`, `down`, `disabled`. */
  tracking?: string;
  /** Seconds online (0 when offline). */
  online_s: number;
  /** Seconds offline (0 when online). */
  offline_s: number;
  /** netifd uptime, s. */
  uptime_s: number;
  /** Seconds since the last tracking round. */
  age_s: number;
  /** Tracker score. */
  score: number;
  /** Lost probes in the current round. */
  lost: number;
  /** Tracking rounds. */
  turn: number;
  /** Configured in mwan3. */
  enabled: boolean;
  /** Tracker running. */
  running: boolean;
  /** netifd reports it up. */
  up: boolean;
  /** Tracked addresses. */
  track_ip: Mwan3TrackIp[];
}

/** One share of a policy. */
export interface Mwan3Share {
  /** Interface. */
  interface: string;
  /** Truncated integer percent. */
  percent: number;
}

/** The whole reply. */
export interface Mwan3Runtime {
  /** Interfaces by name. */
  interfaces: Record<string, Mwan3Interface>;
  /** Policies by family; an empty list means unreachable. */
  policies: { ipv4: Record<string, Mwan3Share[]>; ipv6: Record<string, Mwan3Share[]> };
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}
function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

function policies(v: unknown): Record<string, Mwan3Share[]> {
  const out: Record<string, Mwan3Share[]> = {};
  for (const [name, shares] of Object.entries(obj(v))) {
    out[name] = (Array.isArray(shares) ? shares : []).map(obj)
      .filter((s) => typeof s.interface === "string")
      .map((s) => ({ interface: String(s.interface), percent: num(s.percent) }));
  }
  return out;
}

/**
 * Parses `ubus call mwan3 status`.
 *
 * @example
 * ```ts
 * const s = parseMwan3Runtime({ interfaces: { wan: { status: "online", up: true } } });
 * s.interfaces.wan.status; // "online"
 * ```
 */
export function parseMwan3Runtime(json: unknown): Mwan3Runtime {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error("mwan3 status reply is not a JSON object");
  }
  const j = json as Record<string, unknown>;
  const interfaces: Record<string, Mwan3Interface> = {};
  for (const [name, raw] of Object.entries(obj(j.interfaces))) {
    const i = obj(raw);
    const iface: Mwan3Interface = {
      status: typeof i.status === "string" ? i.status : "unknown",
      online_s: num(i.online),
      offline_s: num(i.offline),
      uptime_s: num(i.uptime),
      age_s: num(i.age),
      score: num(i.score),
      lost: num(i.lost),
      turn: num(i.turn),
      enabled: i.enabled === true,
      running: i.running === true,
      up: i.up === true,
      track_ip: (Array.isArray(i.track_ip) ? i.track_ip : []).map(obj)
        .filter((t) => typeof t.ip === "string")
        .map((t) => ({
          ip: String(t.ip),
          status: typeof t.status === "string" ? t.status : "unknown",
          latency: num(t.latency),
          packetloss: num(t.packetloss),
        })),
    };
    if (typeof i.tracking === "string") iface.tracking = i.tracking;
    interfaces[name] = iface;
  }
  const p = obj(j.policies);
  return { interfaces, policies: { ipv4: policies(p.ipv4), ipv6: policies(p.ipv6) } };
}

/**
 * Reads `mwan3 status` over ubus; resolves `null` when mwan3 is not installed
 * (no `mwan3` object).
 */
export async function fetchMwan3Runtime(
  ubus: UbusCaller,
  opts: { timeoutMs?: number } = {},
): Promise<Mwan3Runtime | null> {
  try {
    return parseMwan3Runtime(
      await ubus.call("mwan3", "status", {}, { timeoutMs: opts.timeoutMs ?? 3000 }),
    );
  } catch (err) {
    if (err instanceof UbusError && err.status === Status.NOT_FOUND) return null;
    throw err;
  }
}

/** Whether mwan3 considers the interface usable (`online`, or RutOS `standby`). */
export function mwan3Usable(iface: Mwan3Interface): boolean {
  return iface.status === "online" || iface.status === "standby";
}

/**
 * Interfaces a policy routes new connections to now, with their percent
 * (empty: unreachable). Unknown policy → empty.
 */
export function policyShares(
  rt: Mwan3Runtime,
  policy: string,
  family: "ipv4" | "ipv6" = "ipv4",
): Mwan3Share[] {
  return rt.policies[family][policy] ?? [];
}
