/**
 * The network addresses the outward channels of a configuration need, as
 * `host:port` strings for `--allow-net` and `Deno.permissions.query`: the
 * Pushover endpoint and the webhook when notifications are on, the MQTT
 * broker when MQTT is on, and the HTTP endpoint's listen address. The
 * permission check at start-up (issue 13's) adds these to the ones it knows.
 *
 * @module
 */

import type { StarfailConfig } from "../config/schema.ts";

function hostPort(url: string, fallbackPort: number): string | null {
  try {
    const u = new URL(url);
    const port = u.port !== "" ? Number(u.port) : fallbackPort;
    return `${u.hostname}:${port}`;
  } catch {
    return null;
  }
}

/** What one channel needs. */
export interface ChannelHost {
  /** `pushover`, `webhook`, `mqtt` (connect) or `http` (listen). */
  channel: "pushover" | "webhook" | "mqtt" | "http";
  /** `host:port` (IPv6 hosts in brackets, as `--allow-net` takes them). */
  host: string;
  /** `connect` or `listen`. */
  use: "connect" | "listen";
}

/**
 * The hosts the configured channels connect to or listen on.
 *
 * @example
 * ```ts
 * channelHosts(config); // [{ channel: "pushover", host: "api.pushover.net:443", use: "connect" }, …]
 * ```
 */
export function channelHosts(cfg: StarfailConfig): ChannelHost[] {
  const out: ChannelHost[] = [];
  const n = cfg.notifications;
  if (n.enabled && n.pushover_token !== "" && n.pushover_user !== "") {
    const h = hostPort(n.pushover_url, n.pushover_url.startsWith("https:") ? 443 : 80);
    if (h !== null) out.push({ channel: "pushover", host: h, use: "connect" });
  }
  if (n.enabled && n.webhook_url !== "") {
    const h = hostPort(n.webhook_url, n.webhook_url.startsWith("https:") ? 443 : 80);
    if (h !== null) out.push({ channel: "webhook", host: h, use: "connect" });
  }
  if (cfg.mqtt.enabled && cfg.mqtt.url !== "") {
    const h = hostPort(cfg.mqtt.url, cfg.mqtt.url.startsWith("mqtts:") ? 8883 : 1883);
    if (h !== null) out.push({ channel: "mqtt", host: h, use: "connect" });
  }
  if (cfg.http.enabled) out.push({ channel: "http", host: cfg.http.listen, use: "listen" });
  return out;
}
