/**
 * Parsers for mwan3's runtime status: the `mwan3 status` / `mwan3
 * interfaces` text (all layouts from 2.6 to 2.12 and RutOS) and the
 * `ubus call mwan3 status` JSON (2.10, 2.11+, RutOS).
 *
 * @module
 */

import { parseMwan3Runtime } from "../collectors/mwan3_status.ts";

/** One interface's runtime state. */
export interface Mwan3InterfaceStatus {
  /** `online`, `offline`, `connecting`, `disconnecting`, `disabled`, `unknown`, `error`, `standby` (RutOS)… */
  status: string;
  /** `active`, `paused`, `down`, `disabled`, `not enabled`; absent when not printed. */
  tracking?: string;
  /** Seconds online (text: from `HHh:MMm:SSs`). */
  online_s?: number;
  /** netifd uptime in seconds. */
  uptime_s?: number;
}

/** One member share of a policy as mwan3 routes it now. */
export interface Mwan3PolicyShare {
  /** Interface name. */
  iface: string;
  /** Percent of new connections (truncated integer). */
  percent: number;
}

/** mwan3's runtime view: interface states and the live policy shares. */
export interface Mwan3Status {
  /** Interfaces by name. */
  interfaces: Record<string, Mwan3InterfaceStatus>;
  /** Policies by family, each the list of interfaces routed now (empty = unreachable/last resort). */
  policies: { ipv4: Record<string, Mwan3PolicyShare[]>; ipv6: Record<string, Mwan3PolicyShare[]> };
}

function seconds(hms: string): number {
  const m = /^(\d+)h:(\d+)m:(\d+)s$/.exec(hms);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0;
}

/**
 * Parses `mwan3 status` (or `mwan3 interfaces` / `mwan3 policies`) text.
 *
 * @example
 * ```ts
 * const s = parseMwan3StatusText(" interface wan is online 00h:02m:12s, uptime 00h:59m:27s and tracking is active\n");
 * s.interfaces.wan.status; // "online"
 * ```
 */
export function parseMwan3StatusText(text: string): Mwan3Status {
  const out: Mwan3Status = { interfaces: {}, policies: { ipv4: {}, ipv6: {} } };
  let family: "ipv4" | "ipv6" | null = null;
  let policy: string | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s+$/, "");
    const iface =
      /^ interface (\S+) is (\S+)(?: (\d+h:\d+m:\d+s), uptime (\d+h:\d+m:\d+s))?(?: and tracking is (.+?))?(?: \((\d+)\))?$/
        .exec(line);
    if (iface) {
      const st: Mwan3InterfaceStatus = { status: iface[2] };
      if (iface[3]) st.online_s = seconds(iface[3]);
      if (iface[4]) st.uptime_s = seconds(iface[4]);
      if (iface[5]) st.tracking = iface[5];
      out.interfaces[iface[1]] = st;
      continue;
    }
    const fork = /^ interface (\S+) (?:is )?(\S+)(?: \(tracking (\S+)\))?$/.exec(line);
    if (fork && !line.includes(" and tracking")) {
      out.interfaces[fork[1]] = fork[3]
        ? { status: fork[2], tracking: fork[3] }
        : { status: fork[2] };
      continue;
    }
    const header = /^Current (ipv4|ipv6) policies:$/.exec(line);
    if (header) {
      family = header[1] as "ipv4" | "ipv6";
      policy = null;
      continue;
    }
    if (/^\S.*:$/.test(line) && !line.startsWith(" ")) {
      if (family && !/^(Directly|Active|Interface)/.test(line)) {
        policy = line.slice(0, -1);
        out.policies[family][policy] = [];
      } else {
        family = null;
        policy = null;
      }
      continue;
    }
    if (family && policy) {
      const share = /^ (\S+) \((\d+)%\)$/.exec(line);
      if (share) out.policies[family][policy].push({ iface: share[1], percent: Number(share[2]) });
    }
  }
  return out;
}

/**
 * Converts the `ubus call mwan3 status` JSON (already parsed) into the same
 * shape as the text parser. Unknown or missing fields are skipped.
 *
 * @example
 * ```ts
 * const s = parseMwan3UbusStatus(JSON.parse(text));
 * s.policies.ipv4["wan_only"]; // [{ iface: "wan", percent: 100 }]
 * ```
 */
export function parseMwan3UbusStatus(json: unknown): Mwan3Status {
  // One parser of the ubus reply (collectors/mwan3_status.ts); this maps it to the shape the
  // text parser gives, so the controller reads both forms alike.
  const out: Mwan3Status = { interfaces: {}, policies: { ipv4: {}, ipv6: {} } };
  if (json === null || typeof json !== "object" || Array.isArray(json)) return out;
  const rt = parseMwan3Runtime(json);
  for (const [name, i] of Object.entries(rt.interfaces)) {
    const st: Mwan3InterfaceStatus = {
      status: i.status,
      online_s: i.online_s,
      uptime_s: i.uptime_s,
    };
    if (i.tracking !== undefined) st.tracking = i.tracking;
    out.interfaces[name] = st;
  }
  for (const family of ["ipv4", "ipv6"] as const) {
    for (const [policy, shares] of Object.entries(rt.policies[family])) {
      out.policies[family][policy] = shares.map((x) => ({
        iface: x.interface,
        percent: x.percent,
      }));
    }
  }
  return out;
}
