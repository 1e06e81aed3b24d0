/**
 * Notifications on failover, failback, member down and predictive switches,
 * sent to Pushover and/or a generic JSON webhook. Each type is rate-limited
 * on its own (`rate_limit_s`), every request has a deadline (`timeout_ms`),
 * and failures are logged and returned, never thrown: a dead notification
 * service must not stop failover.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["starfail", "notify"]);

/** The Pushover message endpoint. */
export const PUSHOVER_URL = "https://api.pushover.net/1/messages.json";

/** Kinds of notification, one per config switch (`on_<type>`). */
export type NotificationType =
  | "failover"
  | "failback"
  | "member_down"
  | "predictive"
  | "api_drift";

/** The `config notifications 'notifications'` section. */
export interface NotifyConfig {
  /** Master switch. */
  enabled: boolean;
  /** Minimum seconds between two notifications of the same type. */
  rate_limit_s: number;
  /** Send on failover. */
  on_failover: boolean;
  /** Send on failback. */
  on_failback: boolean;
  /** Send when a member goes down. */
  on_member_down: boolean;
  /** Send on predictive (pre-emptive) switches. */
  on_predictive: boolean;
  /** Pushover application token ('' = Pushover off). */
  pushover_token: string;
  /** Pushover user key ('' = Pushover off). */
  pushover_user: string;
  /** Webhook URL ('' = webhook off). */
  webhook_url: string;
  /** Deadline per HTTP request, ms. */
  timeout_ms: number;
}

/** One notification. */
export interface Notification {
  /** Type; selects the on_ switch and the rate-limit slot. */
  type: NotificationType;
  /** Seconds on the daemon clock; used for rate limiting. */
  t: number;
  /** Short title, e.g. `starfail: failover to lte`. */
  title: string;
  /** The reason in words. */
  message: string;
  /** Member concerned. */
  member?: string;
  /** Extra fields for the webhook body. */
  data?: Record<string, unknown>;
}

/** What happened to one notification. */
export interface NotifyResult {
  /** Channels that accepted it (`pushover`, `webhook`). */
  sent: string[];
  /** Why nothing was attempted, if so. */
  skipped?: "disabled" | "type_off" | "rate_limited" | "no_channel";
  /** One sentence per failed channel. */
  errors: string[];
}

/** Options for {@linkcode Notifier}. */
export interface NotifierOptions {
  /** The fetch to use (tests point it at a local server). Default global `fetch`. */
  fetch?: typeof fetch;
  /** Pushover endpoint. Default {@linkcode PUSHOVER_URL}. */
  pushoverUrl?: string;
}

const SWITCH: Record<NotificationType, keyof NotifyConfig> = {
  failover: "on_failover",
  failback: "on_failback",
  member_down: "on_member_down",
  predictive: "on_predictive",
  // The dish's API changed under us (fields gone, unknown alerts): gated by the master switch only.
  api_drift: "enabled",
};

/**
 * Sends notifications with per-type rate limiting.
 *
 * @example
 * ```ts
 * const notifier = new Notifier(config);
 * const r = await notifier.notify({ type: "failover", t: 120, title: "starfail: failover to lte", message: "wan lost 40% of probes" });
 * if (r.errors.length) console.warn(r.errors);
 * ```
 */
export class Notifier {
  #config: NotifyConfig;
  #fetch: typeof fetch;
  #pushoverUrl: string;
  #lastSent = new Map<NotificationType, number>();

  /** Creates a notifier for this config. */
  constructor(config: NotifyConfig, opts: NotifierOptions = {}) {
    this.#config = { ...config };
    this.#fetch = opts.fetch ?? fetch;
    this.#pushoverUrl = opts.pushoverUrl ?? PUSHOVER_URL;
  }

  /** Sends `n` to every configured channel unless disabled or rate-limited. Never throws. */
  async notify(n: Notification): Promise<NotifyResult> {
    const c = this.#config;
    if (!c.enabled) return { sent: [], skipped: "disabled", errors: [] };
    if (!c[SWITCH[n.type]]) return { sent: [], skipped: "type_off", errors: [] };
    const last = this.#lastSent.get(n.type);
    if (last !== undefined && n.t - last < c.rate_limit_s) {
      log.debug("Notification rate-limited", { type: n.type, since_last_s: n.t - last });
      return { sent: [], skipped: "rate_limited", errors: [] };
    }
    const channels: Array<[string, () => Promise<Response>]> = [];
    if (c.pushover_token !== "" && c.pushover_user !== "") {
      channels.push(["pushover", () => this.#pushover(n)]);
    }
    if (c.webhook_url !== "") channels.push(["webhook", () => this.#webhook(n)]);
    if (channels.length === 0) return { sent: [], skipped: "no_channel", errors: [] };
    this.#lastSent.set(n.type, n.t);
    const result: NotifyResult = { sent: [], errors: [] };
    await Promise.all(channels.map(async ([name, send]) => {
      try {
        const res = await send();
        await res.body?.cancel();
        if (res.ok) result.sent.push(name);
        else result.errors.push(`${name} answered HTTP ${res.status}`);
      } catch (err) {
        const e = err as Error;
        const reason = e.name === "TimeoutError"
          ? `no answer within ${c.timeout_ms} ms`
          : e.message;
        result.errors.push(`${name} request failed: ${reason}`);
      }
    }));
    result.sent.sort();
    for (const error of result.errors) {
      log.warn("Notification not delivered", { type: n.type, error });
    }
    return result;
  }

  #pushover(n: Notification): Promise<Response> {
    const body = new URLSearchParams({
      token: this.#config.pushover_token,
      user: this.#config.pushover_user,
      title: n.title,
      message: n.message,
      priority: n.type === "member_down" ? "1" : "0",
    });
    return this.#fetch(this.#pushoverUrl, {
      method: "POST",
      body,
      signal: AbortSignal.timeout(this.#config.timeout_ms),
    });
  }

  #webhook(n: Notification): Promise<Response> {
    const body = {
      source: "starfail",
      type: n.type,
      t: n.t,
      title: n.title,
      message: n.message,
      ...(n.member === undefined ? {} : { member: n.member }),
      ...(n.data === undefined ? {} : { data: n.data }),
    };
    return this.#fetch(this.#config.webhook_url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.#config.timeout_ms),
    });
  }
}
