/**
 * What the runtime's sandbox must allow for a configuration, and how a denial
 * is told: the compiled binary carries its permissions baked in
 * (`scripts/permissions.ts`), so a host in the config that the build does not
 * allow can never be reached. {@linkcode netNeeds} lists every host a config
 * makes starfail talk to (modules that add a network client add theirs here);
 * {@linkcode checkSandbox} asks `Deno.permissions.query` about each and about
 * the ubus socket, and returns one line per denial naming the fix.
 *
 * @module
 */

import type { StarfailConfig } from "./schema.ts";

/** One host:port a configuration needs, and the option that asks for it. */
export interface NetNeed {
  /** `host:port` as `--allow-net` takes it (IPv6 in brackets). */
  host: string;
  /** The option that makes starfail talk to it, e.g. `notifications.webhook_url`. */
  option: string;
}

/** The Pushover API host. */
export const PUSHOVER_HOST = "api.pushover.net:443";

function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, "");
  return `${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
}

/** `host:port` of an http(s) URL, or null when it is not one. */
export function urlHost(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    const port = u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
    return hostPort(u.hostname, port);
  } catch {
    return null;
  }
}

/** A TCP probe target's `host:port` (default port 443). */
function tcpTarget(target: string): string {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(target);
  if (bracketed) return hostPort(bracketed[1], Number(bracketed[2]));
  const withPort = /^([^:]+):(\d+)$/.exec(target);
  if (withPort) return hostPort(withPort[1], Number(withPort[2]));
  return hostPort(target, 443);
}

/**
 * Every network host a configuration makes starfail talk to, in config order:
 * the dish (both ports), Pushover, the webhook, and TCP/DNS probe targets
 * (ICMP probes run `ping`, which needs no net permission).
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "./schema.ts";
 * netNeeds(DEFAULT_CONFIG); // [{ host: "192.168.100.1:9200", option: "starlink.host" }, …]
 * ```
 */
export function netNeeds(cfg: StarfailConfig): NetNeed[] {
  const out: NetNeed[] = [
    { host: hostPort(cfg.starlink.host, cfg.starlink.port), option: "starlink.port" },
    {
      host: hostPort(cfg.starlink.host, cfg.starlink.grpc_web_port),
      option: "starlink.grpc_web_port",
    },
  ];
  const n = cfg.notifications;
  if (n.pushover_token !== "") {
    out.push({ host: PUSHOVER_HOST, option: "notifications.pushover_token" });
  }
  if (n.webhook_url !== "") {
    const h = urlHost(n.webhook_url);
    if (h !== null) out.push({ host: h, option: "notifications.webhook_url" });
  }
  for (const m of cfg.members) {
    if (m.probe_method === "icmp") continue;
    for (const t of m.probe_target) {
      out.push({
        host: m.probe_method === "tcp" ? tcpTarget(t) : hostPort(t, 53),
        option: `${m.name}.probe_target`,
      });
    }
  }
  const seen = new Set<string>();
  return out.filter((x) => !seen.has(x.host) && seen.add(x.host) !== undefined);
}

/** The fix for a host the build does not allow, in one phrase. */
export function netFix(host: string): string {
  return `rebuild with STARFAIL_EXTRA_NET=${host} deno task compile (the binary cannot widen ` +
    `its own permissions)`;
}

function state(desc: Deno.PermissionDescriptor): Deno.PermissionState {
  try {
    return Deno.permissions.querySync(desc).state;
  } catch {
    return "denied";
  }
}

/**
 * One line per sandbox denial that would stop this config from working:
 * hosts from {@linkcode netNeeds}, and the ubus socket (read, write and
 * `net unix:`; Deno checks all three). Empty when everything is allowed
 * (always so under `-A`).
 */
export function checkSandbox(cfg: StarfailConfig, ubusSocket?: string): string[] {
  const lines: string[] = [];
  for (const need of netNeeds(cfg)) {
    if (state({ name: "net", host: need.host }) !== "granted") {
      lines.push(
        `the binary's sandbox denies net access to ${need.host} (needed by ${need.option}); ` +
          netFix(need.host),
      );
    }
  }
  if (ubusSocket !== undefined) {
    const missing = socketDenials(ubusSocket);
    if (missing.length > 0) {
      lines.push(
        `the binary's sandbox denies ${missing.join(", ")} of the ubus socket ${ubusSocket} ` +
          `(main.ubus_socket or --socket); use /var/run/ubus/ubus.sock or /var/run/ubus.sock, ` +
          `which this build allows`,
      );
    }
  }
  return lines;
}

/** Which of read, write and `net unix:` the sandbox denies for a unix socket. */
export function socketDenials(path: string): string[] {
  const missing: string[] = [];
  if (state({ name: "read", path }) !== "granted") missing.push("read");
  if (state({ name: "write", path }) !== "granted") missing.push("write");
  if (state({ name: "net", host: `unix:${path}` }) !== "granted") missing.push(`net unix:${path}`);
  return missing;
}

/**
 * A permission error said as such, one line: "the binary's sandbox denies
 * read of /x; this build lacks --allow-read for it". Null when `err` is not
 * a sandbox denial.
 */
export function sandboxMessage(err: unknown): string | null {
  if (!(err instanceof Deno.errors.NotCapable)) return null;
  if (/LD_LIBRARY_PATH|LD_PRELOAD/.test(err.message)) {
    return `the binary's sandbox denies running a tool with LD_* set in the environment; ` +
      `start starfail without LD_LIBRARY_PATH/LD_PRELOAD`;
  }
  const m = /Requires (\w+) access to "?([^",]+)"?/.exec(err.message);
  if (m === null) return `the binary's sandbox denies it: ${err.message.split("\n")[0]}`;
  const [, kind, what] = m;
  const flag = kind === "all"
    ? "--allow-all (Deno grants /sys, /proc and /dev only with it)"
    : `--allow-${kind}=${what}`;
  const fix = kind === "net" ? `; ${netFix(what)}` : "";
  return `the binary's sandbox denies ${kind} access to ${what}; this build lacks ${flag}${fix}`;
}
