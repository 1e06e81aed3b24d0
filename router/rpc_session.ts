/**
 * A JSON-RPC client for uhttpd's `/ubus` endpoint with an rpcd session:
 * `session login`, keep-alive while idle, a fresh login when the router
 * answers `-32002 Access denied` for a session it no longer knows (after a
 * reboot or an rpcd restart), backoff while the router is away, and a
 * deadline on every request.
 *
 * Wire format (uhttpd `ubus.c`, the "legacy" POST to the prefix itself):
 * `{"jsonrpc":"2.0","id":N,"method":"call","params":[SID, OBJECT, METHOD, ARGS]}`
 * answers `{"result":[STATUS, DATA?]}` or `{"error":{"code":-32xxx,…}}`
 * (-32000 object not found, -32001 session not found, -32002 access denied,
 * -32003 ubus timeout).
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { BlobmsgInput, JsonObject } from "../ubus/blob.ts";
import { Status, UbusError } from "../ubus/protocol.ts";

const log = getLogger(["starfail", "router", "rpc"]);

/** The session id rpcd gives every caller before login. */
export const ANONYMOUS_SID = "00000000000000000000000000000000";

/** uhttpd's JSON-RPC error codes. */
export const RPC_ERROR = {
  OBJECT_NOT_FOUND: -32000,
  SESSION_NOT_FOUND: -32001,
  ACCESS_DENIED: -32002,
  TIMEOUT: -32003,
} as const;

/** The router refused the login: wrong username or password (startup exits 77). */
export class RemoteAuthError extends Error {
  /** Creates the one-line error. */
  constructor(message: string) {
    super(message);
    this.name = "RemoteAuthError";
  }
}

/** What a login grants, as rpcd reports it (`acls` of the login reply). */
export type SessionAcls = Record<string, Record<string, string[]>>;

/** Options for {@linkcode RpcSession}. */
export interface RpcSessionOptions {
  /** The endpoint, e.g. `http://192.168.1.1/ubus`. */
  url: string;
  /** rpcd login name (`config login` in the router's /etc/config/rpcd). */
  username: string;
  /** Its password. */
  password: string;
  /** Deadline per request, ms. */
  timeoutMs: number;
  /** Session timeout asked of rpcd, s (default 300, rpcd's own default). */
  sessionTimeoutS?: number;
  /** Longest wait between tries while the router is away, ms (default 30000). */
  maxBackoffMs?: number;
  /** Monotonic clock in ms (tests). Default `performance.now`. */
  nowMs?: () => number;
}

interface RpcReply {
  result?: unknown;
  error?: { code?: number; message?: string };
}

/**
 * One rpcd session over uhttpd, kept alive and renewed.
 *
 * @example
 * ```ts
 * const s = new RpcSession({ url: "http://192.168.1.1/ubus", username: "starfail",
 *   password: await Deno.readTextFile("/etc/starfail/router.pass"), timeoutMs: 5000 });
 * await s.login(); // RemoteAuthError on a wrong password
 * const wan = await s.call("network.interface.wan", "status", {});
 * ```
 */
export class RpcSession {
  #o: RpcSessionOptions;
  #sid: string | null = null;
  #acls: SessionAcls = {};
  #login: Promise<string> | null = null;
  #nextId = 1;
  #awayUntil = 0;
  #backoffMs = 0;
  #lastUse = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /** object\0method → the session id with which a fresh login was still denied. */
  #denied = new Map<string, string>();
  #logins = 0;
  #closed = false;

  /** Creates the client; nothing is sent until the first call or {@linkcode login}. */
  constructor(opts: RpcSessionOptions) {
    this.#o = opts;
  }

  #now(): number {
    return this.#o.nowMs?.() ?? performance.now();
  }

  /** The endpoint. */
  get url(): string {
    return this.#o.url;
  }

  /** The login name. */
  get username(): string {
    return this.#o.username;
  }

  /** What the current session is granted (empty before the first login). */
  get acls(): SessionAcls {
    return this.#acls;
  }

  /** How many logins succeeded (the first, and each renewal). */
  get logins(): number {
    return this.#logins;
  }

  /** Whether the router is being waited out after a failed connection. */
  get away(): boolean {
    return this.#now() < this.#awayUntil;
  }

  /** One request with a deadline; connection failures start or extend the backoff. */
  async #post(method: string, params: unknown[], timeoutMs: number): Promise<RpcReply> {
    if (this.#closed) throw new UbusError(Status.CONNECTION_FAILED, "the router session is closed");
    const wait = this.#awayUntil - this.#now();
    if (wait > 0) {
      throw new UbusError(
        Status.CONNECTION_FAILED,
        `router ${this.#o.url} is not answering; next try in ${Math.ceil(wait / 1000)} s`,
      );
    }
    const body = JSON.stringify({ jsonrpc: "2.0", id: this.#nextId++, method, params });
    let res: Response;
    try {
      res = await fetch(this.#o.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      if (name === "TimeoutError" || name === "AbortError") {
        throw new UbusError(
          Status.TIMEOUT,
          `router ${this.#o.url} did not answer within ${timeoutMs} ms`,
        );
      }
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        throw new UbusError(
          Status.PERMISSION_DENIED,
          `the sandbox does not allow network access to ${
            new URL(this.#o.url).host
          } (add it to the net permission): ${err.message}`,
        );
      }
      this.#backoffMs = Math.min(
        this.#o.maxBackoffMs ?? 30000,
        this.#backoffMs === 0 ? 1000 : this.#backoffMs * 2,
      );
      this.#awayUntil = this.#now() + this.#backoffMs;
      if (this.#backoffMs === 1000 || this.#backoffMs === (this.#o.maxBackoffMs ?? 30000)) {
        log.warn("Router not reachable; backing off", {
          url: this.#o.url,
          retry_ms: this.#backoffMs,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      throw new UbusError(
        Status.CONNECTION_FAILED,
        `router ${this.#o.url} not reachable (${
          err instanceof Error ? err.message : String(err)
        }); next try in ${this.#backoffMs / 1000} s`,
      );
    }
    if (this.#backoffMs !== 0) log.info("Router answers again", { url: this.#o.url });
    this.#backoffMs = 0;
    this.#awayUntil = 0;
    const text = await res.text();
    if (!res.ok) {
      throw new UbusError(
        Status.UNKNOWN_ERROR,
        `router ${this.#o.url} answered HTTP ${res.status}${
          res.status === 404 ? " (is uhttpd's ubus plugin installed: uhttpd-mod-ubus?)" : ""
        }`,
      );
    }
    try {
      return JSON.parse(text) as RpcReply;
    } catch {
      throw new UbusError(
        Status.PARSE_ERROR,
        `router ${this.#o.url} answered something that is not JSON-RPC: ${
          JSON.stringify(text.slice(0, 80))
        }`,
      );
    }
  }

  /**
   * Logs in (again). Rejects with {@linkcode RemoteAuthError} when the router
   * refuses the credentials, with `UbusError` when it cannot be reached.
   */
  login(): Promise<string> {
    this.#login ??= this.#doLogin().finally(() => {
      this.#login = null;
    });
    return this.#login;
  }

  async #doLogin(): Promise<string> {
    const reply = await this.#post("call", [
      ANONYMOUS_SID,
      "session",
      "login",
      {
        username: this.#o.username,
        password: this.#o.password,
        timeout: this.#o.sessionTimeoutS ?? 300,
      },
    ], this.#o.timeoutMs);
    if (reply.error !== undefined) {
      if (
        reply.error.code === RPC_ERROR.ACCESS_DENIED ||
        reply.error.code === RPC_ERROR.OBJECT_NOT_FOUND
      ) {
        throw new RemoteAuthError(
          `router ${this.#o.url} does not offer session login to anyone (rpcd's unauthenticated ACL is missing or rpcd is not running): ${
            reply.error.message ?? reply.error.code
          }`,
        );
      }
      throw new UbusError(
        Status.UNKNOWN_ERROR,
        `router ${this.#o.url}: login failed: ${reply.error.message ?? reply.error.code}`,
      );
    }
    const [status, data] = Array.isArray(reply.result) ? reply.result : [Status.UNKNOWN_ERROR];
    if (status === Status.PERMISSION_DENIED) {
      throw new RemoteAuthError(
        `router ${this.#o.url} refused the login of user '${this.#o.username}': wrong username or password (see the router's /etc/config/rpcd 'config login', docs/remote.md)`,
      );
    }
    const sid = (data as JsonObject | undefined)?.ubus_rpc_session;
    if (status !== 0 || typeof sid !== "string") {
      throw new UbusError(
        typeof status === "number" ? status : Status.UNKNOWN_ERROR,
        `router ${this.#o.url}: session login gave no session`,
      );
    }
    this.#sid = sid;
    const acls = (data as JsonObject).acls;
    this.#acls = acls !== null && typeof acls === "object" && !Array.isArray(acls)
      ? acls as SessionAcls
      : {};
    this.#logins++;
    this.#lastUse = this.#now();
    this.#armKeepAlive();
    if (this.#logins > 1) log.info("Logged in to the router again", { url: this.#o.url });
    return sid;
  }

  /** While idle, touch the session at a third of its timeout so rpcd keeps it. */
  #armKeepAlive(): void {
    if (this.#keepAlive !== undefined) return;
    const periodMs = Math.max(1000, (this.#o.sessionTimeoutS ?? 300) * 1000 / 3);
    const timer = setInterval(() => {
      if (this.#sid === null || this.#now() - this.#lastUse < periodMs) return;
      const sid = this.#sid;
      // uhttpd adds ubus_rpc_session itself (and refuses it from the caller).
      this.#post("call", [sid, "session", "access", {
        scope: "ubus",
        object: "session",
        function: "access",
      }], this.#o.timeoutMs).then(() => {
        this.#lastUse = this.#now();
      }).catch(() => {
        // The next real call finds out and logs in again.
      });
    }, periodMs);
    this.#keepAlive = timer;
    Deno.unrefTimer(timer as unknown as number);
  }

  /**
   * Calls a ubus method through uhttpd. Rejects with `UbusError`: NOT_FOUND
   * (no such object), PERMISSION_DENIED (the ACL does not grant it),
   * TIMEOUT, CONNECTION_FAILED (router away), or the method's own status.
   */
  async call(
    object: string,
    method: string,
    args: { [key: string]: BlobmsgInput } = {},
    opts: { timeoutMs?: number } = {},
  ): Promise<JsonObject> {
    const timeoutMs = opts.timeoutMs ?? this.#o.timeoutMs;
    const key = `${object}\0${method}`;
    let sid = this.#sid ?? await this.login();
    let reply = await this.#post("call", [sid, object, method, args], timeoutMs);
    if (reply.error?.code === RPC_ERROR.ACCESS_DENIED && this.#denied.get(key) !== sid) {
      // Either the ACL does not grant this, or the session is gone (router restarted):
      // a fresh login tells them apart.
      if (this.#sid === sid) this.#sid = null;
      sid = this.#sid ?? await this.login();
      reply = await this.#post("call", [sid, object, method, args], timeoutMs);
      if (reply.error?.code === RPC_ERROR.ACCESS_DENIED) this.#denied.set(key, sid);
    }
    this.#lastUse = this.#now();
    if (reply.error !== undefined) {
      const code = reply.error.code;
      if (code === RPC_ERROR.OBJECT_NOT_FOUND) {
        throw new UbusError(Status.NOT_FOUND, `${object} is not on the router's ubus`);
      }
      if (code === RPC_ERROR.ACCESS_DENIED) {
        throw new UbusError(
          Status.PERMISSION_DENIED,
          `the router's ACL does not let user '${this.#o.username}' call ${object} ${method} (install scripts/openwrt/acl.d/starfail.json, docs/remote.md)`,
        );
      }
      if (code === RPC_ERROR.TIMEOUT) {
        throw new UbusError(Status.TIMEOUT, `${object} ${method} timed out on the router`);
      }
      throw new UbusError(
        Status.UNKNOWN_ERROR,
        `${object} ${method}: ${reply.error.message ?? `JSON-RPC error ${code}`}`,
      );
    }
    if (!Array.isArray(reply.result) || typeof reply.result[0] !== "number") {
      throw new UbusError(Status.PARSE_ERROR, `${object} ${method}: reply has no status`);
    }
    const [status, data] = reply.result as [number, unknown];
    if (status !== Status.OK) throw new UbusError(status, `${object} ${method} on the router`);
    return data !== null && typeof data === "object" && !Array.isArray(data)
      ? data as JsonObject
      : {};
  }

  /** Ends the session (best effort) and stops the keep-alive. */
  async close(): Promise<void> {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    const sid = this.#sid;
    this.#sid = null;
    if (sid !== null && !this.away) {
      await this.#post("call", [sid, "session", "destroy", {}], 1000)
        .catch(() => undefined);
    }
    this.#closed = true;
  }
}
