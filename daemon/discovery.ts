/**
 * Member discovery: which uplinks exist, what kind each is, and how the
 * owner's `member` sections override that. Pure functions over what the
 * shell read from mwan3's UCI and netifd; no I/O here.
 *
 * @module
 */

import type { MemberClass, MemberSpec } from "../engine/types.ts";

/** What the shell learnt about one candidate uplink. */
export interface InterfaceFacts {
  /** Member name (the mwan3 member, or the netifd interface without mwan3). */
  member: string;
  /** netifd logical interface, e.g. `wan`, `mob1s1a1`. */
  iface: string;
  /** Layer-3 device, e.g. `eth1`, `wwan0` (unknown until netifd says). */
  device?: string;
  /** netifd protocol, e.g. `dhcp`, `qmi`, `modemmanager`. */
  proto?: string;
  /** IPv4 addresses on the interface. */
  ipv4?: string[];
  /** The device is a wireless station (from the wireless config / iwinfo). */
  wireless?: boolean;
  /** The dish answered at 192.168.100.1 through this interface. */
  dishReachable?: boolean;
  /** mwan3 member metric (lower is preferred), when mwan3 is used. */
  metric?: number;
  /** mwan3 member weight, when mwan3 is used. */
  mwan3Weight?: number;
}

/** The owner's `member` section, as far as discovery cares. */
export interface MemberOverride {
  /** Section name. */
  name: string;
  /** netifd interface it describes (defaults to the section name). */
  iface?: string;
  /** Layer-3 device override. */
  device?: string;
  /** Forced class, or `auto`. */
  class?: MemberClass | "auto";
  /** Weight 1–100. */
  weight?: number;
  /** `auto` (use when found), `disable` (never use), `force` (use even if not found). */
  detect?: "auto" | "disable" | "force";
  /** Metered member. */
  metered?: boolean;
  /** Roaming is acceptable. */
  prefer_roaming?: boolean;
  /** Warm-up override. */
  min_uptime_s?: number;
  /** Cooldown override. */
  cooldown_s?: number;
}

/** A discovered member: the engine's spec plus where it lives. */
export interface DiscoveredMember extends MemberSpec {
  /** netifd interface. */
  iface: string;
  /** Layer-3 device, when known. */
  device?: string;
  /** How the class was decided, for `starfail members` and logs. */
  class_reason: string;
}

/** Default weight of a class when the owner set none (upstream's order). */
export const CLASS_WEIGHTS: Record<MemberClass, number> = {
  starlink: 100,
  cellular: 80,
  wifi: 60,
  lan: 40,
  other: 20,
};

const CELLULAR_PROTOS = new Set(["qmi", "mbim", "ncm", "wwan", "modemmanager", "3g", "directip"]);

/**
 * Whether `ip` is in the carrier-grade NAT range 100.64.0.0/10 (Starlink hands
 * these out, and so do many cellular carriers).
 */
export function isCgnat(ip: string): boolean {
  const m = /^100\.(\d{1,3})\./.exec(ip);
  if (m === null) return false;
  const second = Number(m[1]);
  return second >= 64 && second <= 127;
}

/** Wi-Fi client devices: OpenWrt ≥ 23.05 names them `phy0-sta0`; older ones `wlan0`; MediaTek `apcli0`. */
const WIFI_DEVICE = /(^|-)sta\d+$|^wlan\d|^apcli\d/;
/** Modem devices (RutOS `wan_info` prefixes and qmi_wwan/cdc): `wwan0`, `rmnet0`, `qmimux0`, `usb0`, `ppp-…`. */
const CELLULAR_DEVICE = /^(wwan\d|rmnet|qmimux|usb\d|ppp-)/;
/** Interfaces named like a modem uplink: RutOS `mob1s1a1`, or a telling name. */
const CELLULAR_NAME = /\bmob\d|lte|cell|modem|gsm|3g|4g|5g/;
/** Interfaces named like a Wi-Fi uplink. `wwan` is what LuCI's "Join network" creates for a Wi-Fi client. */
const WIFI_NAME = /^wwan$|wlan|wifi|wireless|\bsta\b/;

/**
 * Decides a member's class from what the router says about it, strongest
 * evidence first: the dish answering through it, a cellular netifd protocol,
 * a wireless device, the device's name (`phy0-sta0`/`wlan0` Wi-Fi, `wwan0`/
 * `rmnet0` modem), then the names of the interface and member, otherwise LAN.
 * A CGNAT address (100.64.0.0/10) is not evidence of Starlink by itself —
 * cellular carriers hand those out too: only the dish answering through the
 * uplink, a Starlink name, or the member's `class` option make it Starlink.
 */
export function classify(facts: InterfaceFacts): { class: MemberClass; reason: string } {
  if (facts.dishReachable) {
    return { class: "starlink", reason: "the dish answers at 192.168.100.1 through it" };
  }
  if (facts.proto !== undefined && CELLULAR_PROTOS.has(facts.proto)) {
    return { class: "cellular", reason: `netifd protocol '${facts.proto}'` };
  }
  if (facts.wireless) return { class: "wifi", reason: "wireless device" };
  const device = (facts.device ?? "").toLowerCase();
  if (WIFI_DEVICE.test(device)) {
    return { class: "wifi", reason: `device '${facts.device}' is a Wi-Fi client` };
  }
  if (CELLULAR_DEVICE.test(device)) {
    return { class: "cellular", reason: `device '${facts.device}' is a modem device` };
  }
  const iface = facts.iface.toLowerCase();
  const names = `${facts.member} ${facts.iface}`.toLowerCase();
  if (/starlink|dish/.test(`${names} ${device}`)) {
    return { class: "starlink", reason: "name mentions Starlink" };
  }
  if (WIFI_NAME.test(iface)) {
    return { class: "wifi", reason: `interface '${facts.iface}' is named like a Wi-Fi uplink` };
  }
  if (CELLULAR_NAME.test(names)) {
    return { class: "cellular", reason: "name looks like a modem interface" };
  }
  if (/wlan|wifi|wireless|\bsta\b/.test(names)) {
    return { class: "wifi", reason: "name looks like a Wi-Fi interface" };
  }
  if ((facts.ipv4 ?? []).some(isCgnat)) {
    return {
      class: "lan",
      reason: "wired uplink; its CGNAT address alone does not make it Starlink " +
        "(the dish does not answer through it; set option class 'starlink' if it is)",
    };
  }
  return { class: "lan", reason: "wired uplink (no other evidence)" };
}

/**
 * Joins what was found with the owner's overrides into the member list, in a
 * stable order (mwan3 metric, then name). Members disabled by `detect
 * 'disable'` are left out; `detect 'force'` members are kept even when not found.
 */
export function resolveMembers(
  found: InterfaceFacts[],
  overrides: MemberOverride[],
): DiscoveredMember[] {
  const byName = new Map<string, MemberOverride>();
  for (const o of overrides) byName.set(o.name, o);
  const byIface = new Map<string, MemberOverride>();
  for (const o of overrides) byIface.set(o.iface ?? o.name, o);
  const out: DiscoveredMember[] = [];
  const used = new Set<string>();
  for (const f of found) {
    const o = byName.get(f.member) ?? byIface.get(f.iface);
    if (o !== undefined) used.add(o.name);
    if (o?.detect === "disable") continue;
    out.push(buildMember(f, o));
  }
  for (const o of overrides) {
    if (used.has(o.name) || o.detect !== "force") continue;
    out.push(buildMember({ member: o.name, iface: o.iface ?? o.name, device: o.device }, o));
  }
  return out.sort((a, b) => {
    const ma = found.find((f) => f.member === a.name)?.metric ?? Infinity;
    const mb = found.find((f) => f.member === b.name)?.metric ?? Infinity;
    return ma !== mb ? ma - mb : a.name.localeCompare(b.name);
  });
}

function buildMember(f: InterfaceFacts, o: MemberOverride | undefined): DiscoveredMember {
  const auto = classify(f);
  const forced = o?.class !== undefined && o.class !== "auto";
  const cls: MemberClass = forced ? o!.class as MemberClass : auto.class;
  const member: DiscoveredMember = {
    name: f.member,
    iface: o?.iface ?? f.iface,
    class: cls,
    weight: o?.weight ?? CLASS_WEIGHTS[cls],
    class_reason: forced ? "set in /etc/config/starfail" : auto.reason,
  };
  const device = o?.device ?? f.device;
  if (device !== undefined) member.device = device;
  if (o?.metered !== undefined) member.metered = o.metered;
  if (o?.prefer_roaming !== undefined) member.prefer_roaming = o.prefer_roaming;
  if (o?.min_uptime_s !== undefined) member.min_uptime_s = o.min_uptime_s;
  if (o?.cooldown_s !== undefined) member.cooldown_s = o.cooldown_s;
  return member;
}
