/**
 * The one valibot schema of `/etc/config/starfail`: every option, its
 * default, its range, and the checks that involve several options. Keys are
 * the UCI option names (snake_case), so the docs, the file and the code use
 * the same words.
 *
 * Input values are what UCI gives (strings, or string arrays for lists);
 * JSON numbers and booleans are accepted too, so the same schema checks
 * values that arrive over ubus or from the CLI.
 *
 * @module
 */

import * as v from "valibot";
import { isIPv6 } from "./ip_address.ts";
import { quoteValue } from "../io/show_value.ts";

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const NOT_A_LIST = "expected a single value, not a list";

/** A field schema: anything in, a checked value out, with our own one-line message. */
function field<T>(parse: (input: unknown) => Parsed<T>) {
  return v.pipe(
    v.unknown(),
    v.rawTransform<unknown, T>(({ dataset, addIssue, NEVER }) => {
      const result = parse(dataset.value);
      if (!result.ok) {
        addIssue({ message: result.message });
        return NEVER;
      }
      return result.value;
    }),
  );
}

function scalarText(input: unknown): string | null {
  if (typeof input === "string") return input.trim();
  if (typeof input === "number" && Number.isFinite(input)) return String(input);
  return null;
}

function parseInteger(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return (input: unknown): Parsed<number> => {
    if (Array.isArray(input)) return { ok: false, message: NOT_A_LIST };
    const text = scalarText(input);
    if (text === null || !/^-?\d+$/.test(text)) return { ok: false, message };
    const n = Number(text);
    if (n < min || n > max) return { ok: false, message };
    return { ok: true, value: n };
  };
}

function parseNumber(min: number, max: number) {
  const message = `expected a number from ${min} to ${max}`;
  return (input: unknown): Parsed<number> => {
    if (Array.isArray(input)) return { ok: false, message: NOT_A_LIST };
    const text = scalarText(input);
    if (text === null || !/^-?(\d+(\.\d*)?|\.\d+)$/.test(text)) return { ok: false, message };
    const n = Number(text);
    if (n < min || n > max) return { ok: false, message };
    return { ok: true, value: n };
  };
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on", "enabled"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", "disabled"]);

/**
 * Reads a UCI boolean: `1/0`, `true/false`, `yes/no`, `on/off`,
 * `enabled/disabled` (any case), or a JSON boolean. Returns `undefined` for
 * anything else.
 */
export function parseUciBool(input: unknown): boolean | undefined {
  if (typeof input === "boolean") return input;
  if (typeof input === "number") return input === 1 ? true : input === 0 ? false : undefined;
  if (typeof input !== "string") return undefined;
  const word = input.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

function parseBool(input: unknown): Parsed<boolean> {
  if (Array.isArray(input)) return { ok: false, message: NOT_A_LIST };
  const value = parseUciBool(input);
  if (value === undefined) {
    return { ok: false, message: "expected a boolean: 1/0, true/false, yes/no or on/off" };
  }
  return { ok: true, value };
}

function parseEnum<const T extends string>(values: readonly T[]) {
  const message = `expected one of ${values.join(", ")}`;
  return (input: unknown): Parsed<T> => {
    if (Array.isArray(input)) return { ok: false, message: NOT_A_LIST };
    const text = typeof input === "string" ? input.trim() : null;
    if (text === null || !(values as readonly string[]).includes(text)) {
      return { ok: false, message };
    }
    return { ok: true, value: text as T };
  };
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** True for an IPv4 address, an IPv6 address or a DNS host name. */
export function isHost(text: string): boolean {
  if (IPV4_RE.test(text)) return true;
  if (text.includes(":")) return isIPv6(text);
  return HOSTNAME_RE.test(text) && !/^[\d.]+$/.test(text);
}

/** Host, optionally with a port: `1.1.1.1`, `1.1.1.1:443`, `[2606:4700::1111]:53`, `dns.google`. */
function isProbeTarget(text: string): boolean {
  if (isHost(text)) return true;
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  if (bracketed) {
    return isIPv6(bracketed[1]) && Number(bracketed[2]) >= 1 && Number(bracketed[2]) <= 65535;
  }
  const withPort = /^([^:]+):(\d{1,5})$/.exec(text);
  return withPort !== null && isHost(withPort[1]) && Number(withPort[2]) >= 1 &&
    Number(withPort[2]) <= 65535;
}

function parseHost(input: unknown): Parsed<string> {
  if (Array.isArray(input)) return { ok: false, message: NOT_A_LIST };
  const text = typeof input === "string" ? input.trim() : "";
  if (!isHost(text)) return { ok: false, message: "expected an IP address or host name" };
  return { ok: true, value: text };
}

/** Most probe targets one member may list. */
export const MAX_PROBE_TARGETS = 16;

function parseProbeTargets(input: unknown): Parsed<string[]> {
  const items = Array.isArray(input)
    ? input.map((item) => String(item).trim())
    : typeof input === "string"
    ? input.trim().split(/[\s,]+/).filter((s) => s !== "")
    : null;
  if (items === null || items.length === 0) {
    return { ok: false, message: "expected at least one probe target (IP address or host name)" };
  }
  if (items.length > MAX_PROBE_TARGETS) {
    return {
      ok: false,
      message: `${items.length} probe targets, above the limit of ${MAX_PROBE_TARGETS}`,
    };
  }
  const bad = items.find((item) => !isProbeTarget(item));
  if (bad !== undefined) {
    return {
      ok: false,
      message: `${quoteValue(bad)} is not an IP address or host name (optionally with :port)`,
    };
  }
  return { ok: true, value: items };
}

function parseText(check?: (s: string) => boolean, message?: string) {
  return (input: unknown): Parsed<string> => {
    if (Array.isArray(input)) return { ok: false, message: NOT_A_LIST };
    if (typeof input !== "string") return { ok: false, message: message ?? "expected text" };
    if (check !== undefined && !check(input)) {
      return { ok: false, message: message ?? "invalid value" };
    }
    return { ok: true, value: input };
  };
}

function isAbsolutePathOrEmpty(s: string): boolean {
  return s === "" || (s.startsWith("/") && !/[\n\0]/.test(s));
}

function isHttpUrlOrEmpty(s: string): boolean {
  if (s === "") return true;
  try {
    const url = new URL(s);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function isNameOrEmpty(s: string): boolean {
  return s === "" || /^[A-Za-z0-9_.@-]+$/.test(s);
}

function integer(min: number, max: number, fallback: number) {
  return v.optional(field(parseInteger(min, max)), fallback);
}
function optionalInteger(min: number, max: number) {
  return v.optional(field(parseInteger(min, max)));
}
function number(min: number, max: number, fallback: number) {
  return v.optional(field(parseNumber(min, max)), fallback);
}
function bool(fallback: boolean) {
  return v.optional(field(parseBool), fallback);
}
function oneOf<const T extends string>(values: readonly T[], fallback: T) {
  return v.optional(field(parseEnum(values)), fallback);
}
function text(fallback: string, check?: (s: string) => boolean, message?: string) {
  return v.optional(field(parseText(check, message)), fallback);
}

/** Log levels accepted by `main.log_level`. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

/**
 * How the dish is asked: `auto` and `grpc-web` ask gRPC-Web first (grpc_web_port,
 * plain HTTP/1.1) and fall back to raw gRPC (port, HTTP/2) when it refuses;
 * `grpc` asks raw gRPC first and falls back to gRPC-Web.
 */
export const DISH_TRANSPORTS = ["auto", "grpc-web", "grpc"] as const;
/** Member classes accepted by `member.class` (`auto` = detect). */
export const MEMBER_CLASSES = ["auto", "starlink", "cellular", "wifi", "lan", "other"] as const;
/** Detection modes accepted by `member.detect`. */
export const DETECT_MODES = ["auto", "disable", "force"] as const;
/** Probe methods accepted by `member.probe_method`. */
export const PROBE_METHODS = ["icmp", "tcp", "dns"] as const;

/** A member class after detection. */
export type DetectedClass = Exclude<(typeof MEMBER_CLASSES)[number], "auto">;

/** Default member weight by class (docs/design.md). */
export const DEFAULT_WEIGHT_BY_CLASS: Readonly<Record<DetectedClass, number>> = {
  starlink: 100,
  cellular: 80,
  wifi: 60,
  lan: 40,
  other: 20,
};

/** Default probe targets of a member. */
export const DEFAULT_PROBE_TARGETS: readonly string[] = ["1.1.1.1", "8.8.8.8"];

/**
 * A check across several options of one section, reported on `target`. It
 * runs even when other options of the section are invalid, so every problem
 * is reported at once.
 */
function crossCheck<T extends Record<string, unknown>>(
  keys: (keyof T & string)[],
  requirement: (section: T) => boolean,
  message: (section: T) => string,
  target: keyof T & string,
): v.BaseValidation<T, T, v.BaseIssue<unknown>> {
  const paths = keys.map((key) => [key]);
  const action = v.partialCheck(
    paths as never,
    requirement as never,
    ((issue: { input: unknown }) => message(issue.input as T)) as never,
  );
  return v.forward(action as never, [target] as never) as never;
}

const MainObject = v.object({
  enabled: bool(true),
  poll_interval_ms: integer(500, 30000, 1500),
  history_window_s: integer(60, 3600, 600),
  ewma_alpha: number(0.01, 1, 0.2),
  predictive: bool(true),
  switch_margin: number(1, 50, 10),
  min_uptime_s: integer(0, 3600, 20),
  cooldown_s: integer(0, 3600, 30),
  fail_loss_pct: number(0, 100, 5),
  fail_latency_ms: integer(1, 60000, 1200),
  fail_min_duration_s: integer(0, 3600, 10),
  restore_loss_pct: number(0, 100, 1),
  restore_latency_ms: integer(1, 60000, 800),
  restore_min_duration_s: integer(0, 3600, 30),
  hard_fail_probes: integer(1, 100, 3),
  ride_through_s: integer(0, 60, 6),
  reconfig_guard: bool(true),
  flap_suppress: number(0, 100, 2),
  stale_after_s: integer(1, 600, 10),
  use_mwan3: bool(true),
  dry_run: bool(false),
  conntrack_flush: bool(false),
  restore_on_stop: bool(true),
  log_level: oneOf(LOG_LEVELS, "info"),
  log_file: text("", isAbsolutePathOrEmpty, "expected an absolute path, or empty for none"),
  log_max_kb: integer(16, 1048576, 1024),
  retention_hours: integer(1, 168, 24),
  max_ram_mb: integer(4, 128, 16),
  max_samples_per_member: integer(10, 100000, 1000),
  max_events: integer(10, 100000, 500),
  ubus_socket: text("", isAbsolutePathOrEmpty, "expected an absolute path, or empty for auto"),
});
type MainOut = v.InferOutput<typeof MainObject>;

/** Section `config starfail 'main'`. */
export const MainSchema = v.pipe(
  MainObject,
  crossCheck<MainOut>(
    ["restore_loss_pct", "fail_loss_pct"],
    (m) => m.restore_loss_pct <= m.fail_loss_pct,
    (m) =>
      `must not be above fail_loss_pct (${m.fail_loss_pct}): a member must be better ` +
      `to come back than to stay`,
    "restore_loss_pct",
  ),
  crossCheck<MainOut>(
    ["restore_latency_ms", "fail_latency_ms"],
    (m) => m.restore_latency_ms <= m.fail_latency_ms,
    (m) =>
      `must not be above fail_latency_ms (${m.fail_latency_ms}): a member must be better ` +
      `to come back than to stay`,
    "restore_latency_ms",
  ),
);

const ScoringObject = v.object({
  weight_latency: number(0, 100, 25),
  weight_loss: number(0, 100, 30),
  weight_jitter: number(0, 100, 15),
  weight_obstruction: number(0, 100, 20),
  latency_ok_ms: integer(0, 60000, 50),
  latency_bad_ms: integer(1, 60000, 1500),
  loss_ok_pct: number(0, 100, 0),
  loss_bad_pct: number(0, 100, 10),
  jitter_ok_ms: integer(0, 60000, 5),
  jitter_bad_ms: integer(1, 60000, 200),
  obstruction_ok_pct: number(0, 100, 0),
  obstruction_bad_pct: number(0, 100, 10),
  blend_instant: number(0, 1, 0.3),
  blend_ewma: number(0, 1, 0.5),
  blend_window: number(0, 1, 0.2),
  metered_penalty: number(0, 100, 10),
  roaming_penalty: number(0, 100, 15),
});
type ScoringOut = v.InferOutput<typeof ScoringObject>;

function okBelowBad(ok: keyof ScoringOut & string, bad: keyof ScoringOut & string) {
  return crossCheck<ScoringOut>(
    [ok, bad],
    (s) => s[ok] < s[bad],
    (s) => `must be above ${ok} (${s[ok]})`,
    bad,
  );
}

/** Section `config scoring 'scoring'`. */
export const ScoringSchema = v.pipe(
  ScoringObject,
  okBelowBad("latency_ok_ms", "latency_bad_ms"),
  okBelowBad("loss_ok_pct", "loss_bad_pct"),
  okBelowBad("jitter_ok_ms", "jitter_bad_ms"),
  okBelowBad("obstruction_ok_pct", "obstruction_bad_pct"),
  crossCheck<ScoringOut>(
    ["blend_instant", "blend_ewma", "blend_window"],
    (s) => Math.abs(s.blend_instant + s.blend_ewma + s.blend_window - 1) <= 0.001,
    (s) => {
      const sum = Math.round((s.blend_instant + s.blend_ewma + s.blend_window) * 1e6) / 1e6;
      return `blend_instant + blend_ewma + blend_window must sum to 1 (they sum to ${sum})`;
    },
    "blend_window",
  ),
  crossCheck<ScoringOut>(
    ["weight_latency", "weight_loss", "weight_jitter", "weight_obstruction"],
    (s) => s.weight_latency + s.weight_loss + s.weight_jitter + s.weight_obstruction > 0,
    () =>
      "at least one of weight_latency, weight_loss, weight_jitter, weight_obstruction " +
      "must be above 0",
    "weight_obstruction",
  ),
);

/** Section `config starlink 'starlink'`. */
export const StarlinkSchema = v.object({
  enabled: bool(true),
  host: v.optional(field(parseHost), "192.168.100.1"),
  port: integer(1, 65535, 9200),
  grpc_web_port: integer(1, 65535, 9201),
  transport: oneOf(DISH_TRANSPORTS, "auto"),
  timeout_ms: integer(100, 60000, 2000),
  poll_interval_ms: integer(500, 60000, 1000),
  history: bool(true),
  location: bool(false),
  diagnostics: bool(false),
});

const NotificationsObject = v.object({
  enabled: bool(false),
  rate_limit_s: integer(0, 86400, 300),
  on_failover: bool(true),
  on_failback: bool(true),
  on_member_down: bool(true),
  on_predictive: bool(true),
  pushover_token: text("", isNameOrEmpty, "expected a Pushover token (letters and digits)"),
  pushover_user: text("", isNameOrEmpty, "expected a Pushover user key (letters and digits)"),
  webhook_url: text("", isHttpUrlOrEmpty, "expected an http:// or https:// URL, or empty"),
  timeout_ms: integer(100, 60000, 5000),
  on_member_up: bool(true),
  on_all_down: bool(true),
  on_dish_alert: bool(true),
  on_api_drift: bool(true),
  pushover_url: text(
    "https://api.pushover.net/1/messages.json",
    isHttpUrlOrEmpty,
    "expected an http:// or https:// URL (the Pushover messages endpoint)",
  ),
  webhook_secret: text("", (s) => !/[\n\0]/.test(s), "expected a secret on one line"),
  webhook_retries: integer(0, 10, 3),
  digest_s: integer(0, 3600, 60),
});
type NotificationsOut = v.InferOutput<typeof NotificationsObject>;

/** Section `config notifications 'notifications'`. */
export const NotificationsSchema = v.pipe(
  NotificationsObject,
  crossCheck<NotificationsOut>(
    ["pushover_token", "pushover_user"],
    (n) => (n.pushover_token === "") === (n.pushover_user === ""),
    () => "pushover_token and pushover_user must be set together",
    "pushover_user",
  ),
);

const RemoteObject = v.object({
  url: text("", isHttpUrlOrEmpty, "expected the router's http:// or https:// /ubus URL, or empty"),
  username: text("", isNameOrEmpty, "expected an rpcd login name (letters, digits, _.@-)"),
  password_file: text("", isAbsolutePathOrEmpty, "expected an absolute path, or empty"),
  timeout_ms: integer(100, 60000, 5000),
  event_poll_ms: integer(500, 60000, 2000),
  rollback_s: integer(5, 600, 30),
});
type RemoteOut = v.InferOutput<typeof RemoteObject>;

/**
 * Section `config starfail 'remote'`: drive a router over uhttpd/rpcd
 * JSON-RPC from a companion host. Off while `url` is empty.
 */
export const RemoteSchema = v.pipe(
  RemoteObject,
  crossCheck<RemoteOut>(
    ["url", "username"],
    (r) => r.url === "" || r.username !== "",
    () => "must be set when url is (the rpcd login name on the router)",
    "username",
  ),
  crossCheck<RemoteOut>(
    ["url", "password_file"],
    (r) => r.url === "" || r.password_file !== "",
    () =>
      "must be set when url is: a file holding the rpcd login's password (never the password itself in the config)",
    "password_file",
  ),
);

/** Longest member (and interface) name, in characters. */
export const MAX_NAME_LENGTH = 63;
/** `host:port` with a numeric port: `127.0.0.1:9101`, `[::1]:9101`, `0.0.0.0:9101`. */
function isListenAddress(s: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(s);
  return m !== null && isHost(m[1] ?? m[2]) && Number(m[3]) <= 65535;
}

function isMqttUrlOrEmpty(s: string): boolean {
  if (s === "") return true;
  try {
    const url = new URL(s);
    return (url.protocol === "mqtt:" || url.protocol === "mqtts:") && url.hostname !== "";
  } catch {
    return false;
  }
}

function isTopic(s: string): boolean {
  return /^[A-Za-z0-9_./-]+$/.test(s) && !s.startsWith("/") && !s.endsWith("/");
}

/** Section `config starfail 'http'`: the local HTTP endpoint (/metrics, /health, /api). */
export const HttpSchema = v.object({
  enabled: bool(false),
  listen: text(
    "127.0.0.1:9101",
    isListenAddress,
    "expected host:port, e.g. 127.0.0.1:9101 (port 0 picks a free one)",
  ),
});

const MqttObject = v.object({
  enabled: bool(false),
  url: text("", isMqttUrlOrEmpty, "expected mqtt://host:port or mqtts://host:port"),
  username: text("", (s) => !/[\n\0]/.test(s), "expected a user name on one line"),
  password_file: text("", isAbsolutePathOrEmpty, "expected an absolute path, or empty for none"),
  topic: text("starfail", isTopic, "expected a topic without wildcards, e.g. starfail"),
  retain: bool(true),
  ha_discovery: bool(true),
  discovery_prefix: text("homeassistant", isTopic, "expected a topic, e.g. homeassistant"),
  client_id: text("", isNameOrEmpty, "expected a client id (letters and digits)"),
  queue_max: integer(0, 10000, 200),
  timeout_ms: integer(100, 60000, 5000),
});
type MqttOut = v.InferOutput<typeof MqttObject>;

/** Section `config starfail 'mqtt'`: MQTT state, events and Home Assistant discovery. */
export const MqttSchema = v.pipe(
  MqttObject,
  crossCheck<MqttOut>(
    ["enabled", "url"],
    (m) => !m.enabled || m.url !== "",
    () => "MQTT is enabled but has no url; set e.g. mqtt://127.0.0.1:1883",
    "url",
  ),
);

/** Section `config starfail 'hook'`: the user's script run on switches and member changes. */
export const HookSchema = v.object({
  path: text(
    "/etc/starfail/hook",
    isAbsolutePathOrEmpty,
    "expected an absolute path, or empty for none",
  ),
  timeout_s: integer(1, 600, 30),
});

const MemberObject = v.object({
  name: v.pipe(
    v.string(),
    v.regex(
      /^[A-Za-z0-9_.@-]{1,63}$/,
      `expected a member name of 1 to ${MAX_NAME_LENGTH} letters, digits, _ . @ -`,
    ),
  ),
  iface: v.optional(
    field(
      parseText(
        (s) => /^[A-Za-z0-9_.@-]{1,63}$/.test(s),
        `expected an interface name of 1 to ${MAX_NAME_LENGTH} letters, digits, _ . @ -`,
      ),
    ),
  ),
  device: v.optional(
    field(parseText((s) => /^[A-Za-z0-9_.@:-]{1,15}$/.test(s), "expected a device name")),
  ),
  class: oneOf(MEMBER_CLASSES, "auto"),
  weight: optionalInteger(1, 100),
  detect: oneOf(DETECT_MODES, "auto"),
  metered: bool(false),
  prefer_roaming: bool(false),
  min_uptime_s: optionalInteger(0, 3600),
  cooldown_s: optionalInteger(0, 3600),
  probe_target: v.optional(field(parseProbeTargets), () => [...DEFAULT_PROBE_TARGETS]),
  probe_method: oneOf(PROBE_METHODS, "icmp"),
  probe_interval_s: integer(1, 3600, 2),
  metered_probe_interval_s: integer(1, 3600, 30),
  probe_reliability: integer(1, 100, 1),
});
type MemberOut = v.InferOutput<typeof MemberObject>;

/** One `config member '<name>'` section; `name` is the section name. */
export const MemberSchema = v.pipe(
  MemberObject,
  crossCheck<MemberOut>(
    ["probe_reliability", "probe_target"],
    (m) => m.probe_reliability <= m.probe_target.length,
    (m) => `must not be above the number of probe targets (${m.probe_target.length})`,
    "probe_reliability",
  ),
  v.transform((m: MemberOut) => ({
    ...m,
    iface: m.iface ?? m.name,
    weight: m.weight ?? (m.class === "auto" ? undefined : DEFAULT_WEIGHT_BY_CLASS[m.class]),
  })),
);

/**
 * The whole configuration. Input: section objects of raw option values (as
 * UCI gives them) plus `members` (one object per member section, with its
 * `name`). Output: {@linkcode StarfailConfig}, every default applied.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { ConfigSchema } from "./schema.ts";
 * const config = v.parse(ConfigSchema, { main: { cooldown_s: "45" } });
 * // config.main.cooldown_s === 45, config.main.min_uptime_s === 20
 * ```
 */
export const ConfigSchema = v.object({
  main: v.optional(MainSchema, {}),
  scoring: v.optional(ScoringSchema, {}),
  starlink: v.optional(StarlinkSchema, {}),
  notifications: v.optional(NotificationsSchema, {}),
  remote: v.optional(RemoteSchema, {}),
  http: v.optional(HttpSchema, {}),
  mqtt: v.optional(MqttSchema, {}),
  hook: v.optional(HookSchema, {}),
  members: v.optional(v.array(MemberSchema), []),
});

/** The checked configuration, every default applied. */
export type StarfailConfig = v.InferOutput<typeof ConfigSchema>;
/** Section `main` of {@linkcode StarfailConfig}. */
export type MainConfig = StarfailConfig["main"];
/** Section `scoring` of {@linkcode StarfailConfig}. */
export type ScoringConfig = StarfailConfig["scoring"];
/** Section `starlink` of {@linkcode StarfailConfig}. */
export type StarlinkConfig = StarfailConfig["starlink"];
/** Section `notifications` of {@linkcode StarfailConfig}. */
export type NotificationsConfig = StarfailConfig["notifications"];
/** Section `remote` of {@linkcode StarfailConfig}. */
export type RemoteConfig = StarfailConfig["remote"];
/** Section `http` of {@linkcode StarfailConfig}. */
export type HttpConfig = StarfailConfig["http"];
/** Section `mqtt` of {@linkcode StarfailConfig}. */
export type MqttConfig = StarfailConfig["mqtt"];
/** Section `hook` of {@linkcode StarfailConfig}. */
export type HookConfig = StarfailConfig["hook"];
/** One member section of {@linkcode StarfailConfig}. */
export type MemberConfig = StarfailConfig["members"][number];

/** The configuration with nothing set: all defaults, no member sections. */
export const DEFAULT_CONFIG: StarfailConfig = v.parse(ConfigSchema, {});

/** The named `config starfail '<name>'` sections and their schemas' option names. */
export const SECTION_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  main: Object.keys(MainObject.entries),
  scoring: Object.keys(ScoringObject.entries),
  starlink: Object.keys(StarlinkSchema.entries),
  notifications: Object.keys(NotificationsObject.entries),
  remote: Object.keys(RemoteObject.entries),
  http: Object.keys(HttpSchema.entries),
  mqtt: Object.keys(MqttObject.entries),
  hook: Object.keys(HookSchema.entries),
};

/** Option names of a `config member` section. */
export const MEMBER_OPTIONS: readonly string[] = Object.keys(MemberObject.entries).filter((k) =>
  k !== "name"
);

/** Options read as UCI lists. */
export const LIST_OPTIONS: ReadonlySet<string> = new Set(["probe_target"]);

/**
 * The weight a member gets: its own `weight`, else the default of its class
 * (the configured class, else the detected one).
 */
export function memberWeight(member: MemberConfig, detected: DetectedClass): number {
  if (member.weight !== undefined) return member.weight;
  const cls = member.class === "auto" ? detected : member.class;
  return DEFAULT_WEIGHT_BY_CLASS[cls];
}
