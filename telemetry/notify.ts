/**
 * Notifications — switches, members down and up, all members down, dish
 * alerts and update reboots, dish API drift — sent to Pushover and/or a
 * JSON webhook.
 *
 * - Each kind is rate-limited on its own (`rate_limit_s`); what the limit
 *   holds back is sent as one digest `digest_s` later rather than dropped or
 *   sent as a storm.
 * - Pushover: a priority per kind ({@linkcode PUSHOVER_PRIORITY}); title and
 *   message cut to Pushover's documented limits (250 and 1024 characters);
 *   a 4xx answer (bad token, over quota) is not retried, as Pushover asks.
 * - Webhook: a JSON POST, signed when `webhook_secret` is set
 *   (`X-Starfail-Signature: sha256=<hex HMAC-SHA256 of the body>`), retried
 *   `webhook_retries` times with a doubling backoff on network errors, 429
 *   and 5xx.
 * - Every request has a deadline (`timeout_ms`); failures are returned and
 *   reported through `onSend`, never thrown: a dead notification service
 *   must not stop failover.
 *
 * @module
 */

import { getLogger } from "./logger.ts";
import type { NotificationsConfig } from "../config/schema.ts";

const log = getLogger(["starfail", "notify"]);

/** The Pushover message endpoint (the default of `pushover_url`). */
export const PUSHOVER_URL = "https://api.pushover.net/1/messages.json";

/** Pushover's documented limits: title and message length (characters). */
export const PUSHOVER_LIMITS = { title: 250, message: 1024 } as const;

/** The header carrying the webhook signature. */
export const SIGNATURE_HEADER = "X-Starfail-Signature";

/** Kinds of notification. */
export type NotificationType =
  | "failover"
  | "failback"
  | "predictive"
  | "member_down"
  | "member_up"
  | "all_down"
  | "dish_alert"
  | "api_drift"
  | "test";

/** The Pushover priority of each kind (-1 quiet, 0 normal, 1 high; 2 is never used). */
export const PUSHOVER_PRIORITY: Readonly<Record<NotificationType, number>> = {
  all_down: 1,
  member_down: 0,
  failover: 0,
  predictive: 0,
  dish_alert: 0,
  api_drift: -1,
  failback: -1,
  member_up: -1,
  test: 0,
};

/** The `config starfail 'notifications'` section. */
export type NotifyConfig = NotificationsConfig;

/** One notification. */
export interface Notification {
  /** Kind; selects the on_ switch and the rate-limit slot. */
  type: NotificationType;
  /** Seconds on the daemon clock; used for rate limiting. */
  t: number;
  /** Short title, e.g. `starfail: failover wan → lte`. */
  title: string;
  /** The reason in words. */
  message: string;
  /** Member concerned. */
  member?: string;
  /** Extra fields for the webhook body. */
  data?: Record<string, unknown>;
}

/** What one channel did with one notification. */
export interface ChannelResult {
  /** `pushover` or `webhook`. */
  channel: string;
  /** Accepted. */
  ok: boolean;
  /** `HTTP 200`, or why it failed, one sentence. */
  detail: string;
  /** Requests made (retries included). */
  attempts: number;
}

/** What happened to one notification. */
export interface NotifyResult {
  /** Channels that accepted it. */
  sent: string[];
  /** Why nothing was attempted, if so (`digested`: held for the next digest). */
  skipped?: "disabled" | "type_off" | "rate_limited" | "digested" | "no_channel";
  /** One sentence per failed channel. */
  errors: string[];
  /** Every channel tried. */
  results: ChannelResult[];
}

/** Options for {@linkcode Notifier}. */
export interface NotifierOptions {
  /** The fetch to use. Default global `fetch`. */
  fetch?: typeof fetch;
  /** Called after every send attempt on a channel (the daemon logs it as an event). */
  onSend?: (n: Notification, r: ChannelResult) => void;
  /** First retry delay of the webhook, ms (default 1000; doubles each retry). */
  retryBaseMs?: number;
}

const SWITCH: Record<NotificationType, keyof NotifyConfig | null> = {
  failover: "on_failover",
  failback: "on_failback",
  member_down: "on_member_down",
  predictive: "on_predictive",
  member_up: "on_member_up",
  all_down: "on_all_down",
  dish_alert: "on_dish_alert",
  api_drift: "on_api_drift",
  test: null,
};

/** Most notifications one digest lists. */
const DIGEST_MAX = 50;

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max - 1).join("") + "…";
}

/** Hex HMAC-SHA256 of `body` under `secret`: what {@linkcode SIGNATURE_HEADER} carries after `sha256=`. */
export async function signBody(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function reasonOf(err: unknown, timeoutMs: number): string {
  const e = err as Error;
  if (e.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  if (e instanceof Deno.errors.NotCapable || e.name === "NotCapable") {
    return `the sandbox denies network access (${e.message})`;
  }
  return e.message;
}

/**
 * Sends notifications with per-kind rate limiting and digests.
 *
 * @example
 * ```ts
 * const notifier = new Notifier(config);
 * const r = await notifier.notify({ type: "failover", t: 120, title: "starfail: failover wan → lte", message: "wan lost 40% of probes" });
 * if (r.errors.length) console.warn(r.errors);
 * ```
 */
export class Notifier {
  #config: NotifyConfig;
  #fetch: typeof fetch;
  #opts: NotifierOptions;
  #lastSent = new Map<NotificationType, number>();
  #digest: Notification[] = [];
  #digestTimer: ReturnType<typeof setTimeout> | null = null;
  #digestDropped = 0;

  /** Creates a notifier for this config. */
  constructor(config: NotifyConfig, opts: NotifierOptions = {}) {
    this.#config = { ...config };
    this.#fetch = opts.fetch ?? fetch;
    this.#opts = opts;
  }

  /** The channels configured (`pushover`, `webhook`), whatever `enabled` says. */
  channels(): string[] {
    const c = this.#config;
    const out: string[] = [];
    if (c.pushover_token !== "" && c.pushover_user !== "") out.push("pushover");
    if (c.webhook_url !== "") out.push("webhook");
    return out;
  }

  /**
   * Sends `n` to every configured channel (or only `only`) unless disabled,
   * switched off or rate-limited. `test` notifications ignore `enabled`, the
   * `on_` switches and the rate limit. Never throws.
   */
  async notify(n: Notification, only?: string): Promise<NotifyResult> {
    const c = this.#config;
    const empty = (skipped: NotifyResult["skipped"]): NotifyResult => ({
      sent: [],
      skipped,
      errors: [],
      results: [],
    });
    const isTest = n.type === "test";
    if (!isTest && !c.enabled) return empty("disabled");
    const onSwitch = SWITCH[n.type];
    if (onSwitch !== null && !c[onSwitch]) return empty("type_off");
    const channels = this.channels().filter((ch) => only === undefined || ch === only);
    if (channels.length === 0) return empty("no_channel");
    if (!isTest) {
      const last = this.#lastSent.get(n.type);
      if (last !== undefined && n.t - last < c.rate_limit_s) {
        if (c.digest_s > 0) {
          this.#hold(n);
          return empty("digested");
        }
        log.debug("Notification rate-limited", { type: n.type, since_last_s: n.t - last });
        return empty("rate_limited");
      }
      this.#lastSent.set(n.type, n.t);
    }
    return await this.#send(n, channels);
  }

  async #send(n: Notification, channels: string[]): Promise<NotifyResult> {
    const result: NotifyResult = { sent: [], errors: [], results: [] };
    await Promise.all(channels.map(async (name) => {
      const r = name === "pushover" ? await this.#pushover(n) : await this.#webhook(n);
      result.results.push(r);
      if (r.ok) result.sent.push(name);
      else result.errors.push(`${name}: ${r.detail}`);
      if (r.ok) log.info("Notification sent", { type: n.type, channel: name, title: n.title });
      else log.warn("Notification not delivered", { type: n.type, channel: name, error: r.detail });
      this.#opts.onSend?.(n, r);
    }));
    result.sent.sort();
    result.errors.sort();
    result.results.sort((a, b) => a.channel.localeCompare(b.channel));
    return result;
  }

  #hold(n: Notification): void {
    this.#digest.push(n);
    if (this.#digest.length > DIGEST_MAX) {
      this.#digest.shift();
      this.#digestDropped++;
    }
    this.#digestTimer ??= setTimeout(() => {
      this.#digestTimer = null;
      void this.flushDigest();
    }, this.#config.digest_s * 1000);
  }

  /** Sends what the rate limit held back as one notification now (the timer does this by itself). */
  async flushDigest(): Promise<NotifyResult | null> {
    if (this.#digestTimer !== null) clearTimeout(this.#digestTimer);
    this.#digestTimer = null;
    const held = this.#digest.splice(0);
    const dropped = this.#digestDropped;
    this.#digestDropped = 0;
    if (held.length === 0) return null;
    const total = held.length + dropped;
    const lines = held.map((h) => `${h.title}: ${h.message}`);
    if (dropped > 0) lines.unshift(`(${dropped} older ones not listed)`);
    const last = held[held.length - 1];
    const channels = this.channels();
    if (!this.#config.enabled || channels.length === 0) return null;
    return await this.#send({
      type: held.some((h) => h.type === "all_down") ? "all_down" : last.type,
      t: last.t,
      title: `starfail: ${total} more event${total === 1 ? "" : "s"}`,
      message: lines.join("\n"),
      data: { digest: held.map((h) => ({ type: h.type, title: h.title, message: h.message })) },
    }, channels);
  }

  /** Stops the digest timer (what it held is dropped). */
  close(): void {
    if (this.#digestTimer !== null) clearTimeout(this.#digestTimer);
    this.#digestTimer = null;
    this.#digest = [];
  }

  async #pushover(n: Notification): Promise<ChannelResult> {
    const body = new URLSearchParams({
      token: this.#config.pushover_token,
      user: this.#config.pushover_user,
      title: cut(n.title, PUSHOVER_LIMITS.title),
      message: cut(n.message || n.title, PUSHOVER_LIMITS.message),
      priority: String(PUSHOVER_PRIORITY[n.type]),
      timestamp: String(Math.round(Date.now() / 1000)),
    });
    try {
      const res = await this.#fetch(this.#config.pushover_url, {
        method: "POST",
        body,
        signal: AbortSignal.timeout(this.#config.timeout_ms),
      });
      const text = await res.text();
      if (res.ok) {
        return { channel: "pushover", ok: true, detail: `HTTP ${res.status}`, attempts: 1 };
      }
      let why = "";
      try {
        const errors = (JSON.parse(text) as { errors?: unknown }).errors;
        if (Array.isArray(errors)) why = `: ${errors.join("; ")}`;
      } catch {
        // Not JSON: the status says enough.
      }
      return {
        channel: "pushover",
        ok: false,
        detail: `answered HTTP ${res.status}${why}`,
        attempts: 1,
      };
    } catch (err) {
      return {
        channel: "pushover",
        ok: false,
        detail: `request failed: ${reasonOf(err, this.#config.timeout_ms)}`,
        attempts: 1,
      };
    }
  }

  async #webhook(n: Notification): Promise<ChannelResult> {
    const c = this.#config;
    const body = JSON.stringify({
      source: "starfail",
      type: n.type,
      t: n.t,
      at: Math.round(Date.now() / 1000),
      title: n.title,
      message: n.message,
      ...(n.member === undefined ? {} : { member: n.member }),
      ...(n.data === undefined ? {} : { data: n.data }),
    });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (c.webhook_secret !== "") {
      headers[SIGNATURE_HEADER] = `sha256=${await signBody(c.webhook_secret, body)}`;
    }
    let detail = "";
    let attempts = 0;
    for (let attempt = 0; attempt <= c.webhook_retries; attempt++) {
      if (attempt > 0) {
        const wait = (this.#opts.retryBaseMs ?? 1000) * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, wait));
      }
      attempts++;
      try {
        const res = await this.#fetch(c.webhook_url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(c.timeout_ms),
        });
        await res.body?.cancel();
        if (res.ok) return { channel: "webhook", ok: true, detail: `HTTP ${res.status}`, attempts };
        detail = `answered HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) break;
      } catch (err) {
        detail = `request failed: ${reasonOf(err, c.timeout_ms)}`;
      }
    }
    return {
      channel: "webhook",
      ok: false,
      detail: attempts > 1 ? `${detail} (after ${attempts} attempts)` : detail,
      attempts,
    };
  }
}
