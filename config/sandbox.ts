/**
 * What the runtime's sandbox must allow for a configuration, and how a denial
 * is told: the compiled binary carries its permissions baked in
 * (`scripts/permissions.ts`), so a host in the config that the build does not
 * allow can never be reached. {@linkcode netNeeds} lists every host a config
 * makes starfail talk to or listen on (modules that add a network client add
 * theirs here), {@linkcode fileNeeds} the files it reads or runs (hook,
 * password files); {@linkcode checkSandbox} asks `Deno.permissions.query`
 * about each and about the ubus socket, and returns one line per denial
 * naming the fix.
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

/** The Pushover API host (the default `notifications.pushover_url`). */
export const PUSHOVER_HOST = "api.pushover.net:443";

/** starfail's own folder, readable by the binary: the hook and the password files go here. */
export const STARFAIL_ETC = "/etc/starfail";

/** The hook script's default path (`hook.path`), readable and runnable by the binary. */
export const DEFAULT_HOOK_PATH = `${STARFAIL_ETC}/hook`;

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

/** `host:port` of an `mqtt://` or `mqtts://` broker URL (1883 / 8883 by default), or null. */
export function mqttHost(url: string): string | null {
  try {
    const u = new URL(url);
    if ((u.protocol !== "mqtt:" && u.protocol !== "mqtts:") || u.hostname === "") return null;
    const port = u.port !== "" ? Number(u.port) : u.protocol === "mqtts:" ? 8883 : 1883;
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
 * The hosts the `remote` section needs: the router's uhttpd (`remote.url`);
 * none while remote mode is off.
 */
export function remoteNetNeeds(remote: StarfailConfig["remote"]): NetNeed[] {
  if (remote.url === "") return [];
  const h = urlHost(remote.url);
  return h === null ? [] : [{ host: h, option: "remote.url" }];
}

/**
 * Every network host a configuration makes starfail talk to or listen on, in
 * config order: the dish (both ports), Pushover, the webhook, the MQTT
 * broker, the HTTP endpoint's listen address, the remote router, and TCP/DNS
 * probe targets (ICMP probes run `ping`, which needs no net permission). The
 * one list: `checkSandbox`, remote mode's startup check and the docs use it.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "./schema.ts";
 * netNeeds(DEFAULT_CONFIG); // [{ host: "192.168.100.1:9200", option: "starlink.port" }, …]
 * ```
 */
export function netNeeds(cfg: StarfailConfig): NetNeed[] {
  const out: NetNeed[] = [];
  if (cfg.starlink.enabled) {
    out.push(
      { host: hostPort(cfg.starlink.host, cfg.starlink.port), option: "starlink.port" },
      {
        host: hostPort(cfg.starlink.host, cfg.starlink.grpc_web_port),
        option: "starlink.grpc_web_port",
      },
    );
  }
  const n = cfg.notifications;
  // Configured channels count even with notifications.enabled off: `notify test` uses them.
  if (n.pushover_token !== "") {
    const h = urlHost(n.pushover_url);
    if (h !== null) {
      const option = h === PUSHOVER_HOST
        ? "notifications.pushover_token"
        : "notifications.pushover_url";
      out.push({ host: h, option });
    }
  }
  if (n.webhook_url !== "") {
    const h = urlHost(n.webhook_url);
    if (h !== null) out.push({ host: h, option: "notifications.webhook_url" });
  }
  if (cfg.mqtt.enabled && cfg.mqtt.url !== "") {
    const h = mqttHost(cfg.mqtt.url);
    if (h !== null) out.push({ host: h, option: "mqtt.url" });
  }
  if (cfg.http.enabled) out.push({ host: cfg.http.listen, option: "http.listen" });
  out.push(...remoteNetNeeds(cfg.remote));
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

/** A file a configuration makes starfail read (and, for the hook, run). */
export interface FileNeed {
  /** Absolute path. */
  path: string;
  /** The option that names it, e.g. `hook.path`. */
  option: string;
  /** `true` for a program starfail runs (read and run), `false` for a file it reads. */
  run: boolean;
}

/** The password file of the `remote` section, when remote mode is on. */
export function remoteFileNeeds(remote: StarfailConfig["remote"]): FileNeed[] {
  return remote.url !== "" && remote.password_file !== ""
    ? [{ path: remote.password_file, option: "remote.password_file", run: false }]
    : [];
}

/**
 * Every file a configuration makes starfail read or run besides its config:
 * the hook script, the MQTT and remote password files.
 */
export function fileNeeds(cfg: StarfailConfig): FileNeed[] {
  const out: FileNeed[] = [];
  if (cfg.hook.path !== "") out.push({ path: cfg.hook.path, option: "hook.path", run: true });
  if (cfg.mqtt.enabled && cfg.mqtt.password_file !== "") {
    out.push({ path: cfg.mqtt.password_file, option: "mqtt.password_file", run: false });
  }
  out.push(...remoteFileNeeds(cfg.remote));
  return out;
}

/** The fix for a host the build does not allow, in one phrase. */
export function netFix(host: string): string {
  return `rebuild with STARFAIL_EXTRA_NET=${host} deno task compile (the binary cannot widen ` +
    `its own permissions)`;
}

/** The fix for a file the build does not allow, in one phrase. */
export function fileFix(need: FileNeed): string {
  const where = need.run ? DEFAULT_HOOK_PATH : `${STARFAIL_ETC}/`;
  const env = need.run ? "STARFAIL_EXTRA_RUN" : "STARFAIL_EXTRA_READ";
  return `move it to ${where} or rebuild with ${env}=${need.path} deno task compile (the ` +
    `binary cannot widen its own permissions)`;
}

function state(desc: Deno.PermissionDescriptor): Deno.PermissionState {
  try {
    return Deno.permissions.querySync(desc).state;
  } catch {
    return "denied";
  }
}

/** One sandbox denial: the option it concerns and the line that says it. */
export interface SandboxDenial {
  /** The option, e.g. `mqtt.url`, `hook.path`, `main.ubus_socket`. */
  option: string;
  /** One line naming what is denied, the option and the fix. */
  line: string;
}

/** The denials among these host and file needs (empty under `-A`). */
export function denialsOf(nets: NetNeed[], files: FileNeed[]): SandboxDenial[] {
  const out: SandboxDenial[] = [];
  for (const need of nets) {
    if (state({ name: "net", host: need.host }) !== "granted") {
      out.push({
        option: need.option,
        line:
          `the binary's sandbox denies net access to ${need.host} (needed by ${need.option}); ` +
          netFix(need.host),
      });
    }
  }
  for (const need of files) {
    const missing: string[] = [];
    if (state({ name: "read", path: need.path }) !== "granted") missing.push("read");
    if (need.run && state({ name: "run", command: need.path }) !== "granted") missing.push("run");
    if (missing.length > 0) {
      out.push({
        option: need.option,
        line:
          `the binary's sandbox denies ${
            missing.join(" and ")
          } of ${need.path} (${need.option}); ` +
          fileFix(need),
      });
    }
  }
  return out;
}

/**
 * Every sandbox denial that would stop this config from working: hosts from
 * {@linkcode netNeeds}, files from {@linkcode fileNeeds}, and the ubus socket
 * (read, write and `net unix:`; Deno checks all three).
 */
export function sandboxDenials(cfg: StarfailConfig, ubusSocket?: string): SandboxDenial[] {
  const out = denialsOf(netNeeds(cfg), fileNeeds(cfg));
  if (ubusSocket !== undefined) {
    const missing = socketDenials(ubusSocket);
    if (missing.length > 0) {
      out.push({
        option: "main.ubus_socket",
        line:
          `the binary's sandbox denies ${missing.join(", ")} of the ubus socket ${ubusSocket} ` +
          `(main.ubus_socket or --socket); use /var/run/ubus/ubus.sock or /var/run/ubus.sock, ` +
          `which this build allows`,
      });
    }
  }
  return out;
}

/**
 * The denials of one section's hosts and files (`mqtt`, `http`, `hook`,
 * `remote`…): a channel the sandbox denies stays off without retrying, the
 * startup check having said why.
 */
export function sectionDenials(cfg: StarfailConfig, section: string): SandboxDenial[] {
  const mine = (n: { option: string }) => n.option.startsWith(`${section}.`);
  return denialsOf(netNeeds(cfg).filter(mine), fileNeeds(cfg).filter(mine));
}

/**
 * One line per sandbox denial (see {@linkcode sandboxDenials}); empty when
 * everything is allowed (always so under `-A`).
 */
export function checkSandbox(cfg: StarfailConfig, ubusSocket?: string): string[] {
  return sandboxDenials(cfg, ubusSocket).map((d) => d.line);
}

/**
 * Whether the sandbox lets starfail read and run `path` (the hook): the
 * startup check names a denial once, so the hook runner stays quiet.
 */
export function mayRun(path: string): boolean {
  return state({ name: "read", path }) === "granted" &&
    state({ name: "run", command: path }) === "granted";
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
