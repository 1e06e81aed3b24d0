/**
 * IP address literals, checked the way `node:net`'s `isIP` checks them, without
 * loading `node:net`: importing it added 4.3 MiB of RSS to a process already
 * holding `node:util` (the daemon measured 0.8 MiB less without it; README,
 * Footprint), and the config, route controller and probe targets only need to
 * tell an address literal apart.
 * `config/ip_address_test.ts` holds `node:net` as the oracle.
 *
 * @module
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

/**
 * Whether `text` is a dotted-quad IPv4 address (no leading zeros).
 *
 * @example
 * ```ts
 * isIPv4("192.168.100.1"); // true
 * isIPv4("01.2.3.4"); // false
 * ```
 */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/**
 * Whether `text` is an IPv6 address: eight groups of 1–4 hex digits, one `::`
 * standing for one or more zero groups, an optional IPv4 tail and an optional
 * `%zone`.
 *
 * @example
 * ```ts
 * isIPv6("fe80::1%eth0"); // true
 * isIPv6("::ffff:192.0.2.1"); // true
 * isIPv6("1::2::3"); // false
 * ```
 */
export function isIPv6(text: string): boolean {
  let address = text;
  const percent = address.indexOf("%");
  if (percent !== -1) {
    if (!ZONE.test(address.slice(percent + 1))) return false;
    address = address.slice(0, percent);
  }
  let groups = 8;
  const lastColon = address.lastIndexOf(":");
  if (lastColon !== -1 && address.slice(lastColon + 1).includes(".")) {
    if (!isIPv4(address.slice(lastColon + 1))) return false;
    address = address.slice(0, lastColon + 1) + "0";
    groups = 7;
  }
  const halves = address.split("::");
  if (halves.length > 2) return false;
  const parts = (half: string) => (half === "" ? [] : half.split(":"));
  if (halves.length === 1) {
    const all = parts(address);
    return all.length === groups && all.every((g) => HEX_GROUP.test(g));
  }
  const head = parts(halves[0]);
  const tail = parts(halves[1]);
  return head.length + tail.length < groups &&
    [...head, ...tail].every((g) => HEX_GROUP.test(g));
}

/**
 * 4 for an IPv4 address, 6 for an IPv6 address, 0 for anything else (as
 * `node:net`'s `isIP`).
 */
export function isIP(text: string): 0 | 4 | 6 {
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return 0;
}
