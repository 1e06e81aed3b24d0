/**
 * The router seam over JSON-RPC (uhttpd `/ubus` + rpcd), for a companion
 * host driving a router that cannot run starfail itself:
 *
 * - ubus calls go through the rpcd session ({@linkcode RpcSession});
 * - `network.interface` events are made by polling `network.interface dump`
 *   every `eventPollMs` and reporting each interface whose `up` changed as
 *   `ifup`/`ifdown` (JSON-RPC has no push on every firmware);
 * - uci goes through rpcd's `uci` object: changes are staged in the
 *   session, `apply` commits them with rollback, `confirm` keeps them;
 * - tools run through rpcd's `file exec` with an argument array (never a
 *   shell), only those in the tool table (`ping`), by absolute path so the
 *   ACL can name exactly them.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { BlobmsgInput, JsonObject } from "../ubus/blob.ts";
import type { RequestOptions } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import type { RpcSession } from "./rpc_session.ts";
import type { ApplyOptions, Router, RouterUci, ToolOptions, ToolResult, UciStep } from "./types.ts";
import type { ShownPackage, ShownSection } from "./uci_show.ts";

const log = getLogger(["starfail", "router", "remote"]);

/** Tools remote mode runs on the router, by the name callers use → absolute path. */
export const REMOTE_TOOLS: Readonly<Record<string, string>> = { ping: "/bin/ping" };

/** Default interval of the `network.interface dump` poll that stands in for netifd events. */
export const DEFAULT_EVENT_POLL_MS = 2000;

/**
 * Turns rpcd's `uci get {config}` reply into the `uci show` model: sections
 * in file order (`.index`), options as lists of strings.
 *
 * @example
 * ```ts
 * const pkg = uciValuesToPackage("mwan3", { values: { wan_m1: { ".type": "member", ".index": 0, metric: "1" } } });
 * pkg.sections[0].options.get("metric"); // ["1"]
 * ```
 */
export function uciValuesToPackage(config: string, reply: JsonObject): ShownPackage {
  const values = reply.values;
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new Error(`uci get ${config}: the router's reply has no values`);
  }
  const sections: (ShownSection & { index: number })[] = [];
  for (const [name, raw] of Object.entries(values)) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) continue;
    const s = raw as JsonObject;
    const options = new Map<string, string[]>();
    for (const [k, v] of Object.entries(s)) {
      if (k.startsWith(".")) continue;
      if (Array.isArray(v)) options.set(k, v.map(String));
      else if (v !== null && typeof v !== "object") options.set(k, [String(v)]);
    }
    sections.push({
      name: typeof s[".name"] === "string" ? s[".name"] : name,
      type: typeof s[".type"] === "string" ? s[".type"] : "",
      options,
      index: typeof s[".index"] === "number" ? s[".index"] : Number.MAX_SAFE_INTEGER,
    });
  }
  sections.sort((a, b) => a.index - b.index);
  return { name: config, sections: sections.map(({ index: _i, ...s }) => s) };
}

/** uci through rpcd's `uci` object, in this session's own change set. */
export class RemoteUci implements RouterUci {
  readonly rollsBack = true;
  #call: RemoteRouter["call"];

  /** Creates it over a call function (the remote router's). */
  constructor(call: RemoteRouter["call"]) {
    this.#call = call;
  }

  /** `uci get {config}`. */
  async show(config: string): Promise<ShownPackage> {
    return uciValuesToPackage(config, await this.#call("uci", "get", { config }));
  }

  /**
   * Other sessions' staged changes never reach our apply (rpcd keeps them
   * apart), so none are foreign; stale ones of our own session (a round cut
   * short) are dropped here.
   */
  async foreignChanges(config: string): Promise<string[]> {
    const reply = await this.#call("uci", "changes", { config });
    const c = reply.changes;
    const ours = Array.isArray(c) ? c : (c !== null && typeof c === "object" ? c[config] : null);
    if (Array.isArray(ours) && ours.length > 0) {
      log.info("Dropping this session's stale staged uci changes", {
        config,
        changes: ours.length,
      });
      await this.revert(config);
    }
    return [];
  }

  /** `uci set {config, section, values: {option: value}}`. */
  async set(config: string, section: string, option: string, value: string): Promise<void> {
    await this.#call("uci", "set", { config, section, values: { [option]: value } });
  }

  /** `uci revert {config}`. */
  async revert(config: string): Promise<void> {
    await this.#call("uci", "revert", { config });
  }

  /** `uci apply {rollback, timeout}`: commits this session's changes; procd reloads the service. */
  async apply(_config: string, opts: ApplyOptions): Promise<void> {
    try {
      await this.#call("uci", "apply", {
        rollback: opts.rollbackS > 0,
        ...(opts.rollbackS > 0 ? { timeout: opts.rollbackS } : {}),
      });
    } catch (err) {
      if (err instanceof UbusError && err.status === Status.PERMISSION_DENIED) {
        throw new UbusError(
          Status.PERMISSION_DENIED,
          "the router refused uci apply: another apply is waiting for its confirm (LuCI or an earlier starfail round), or the ACL does not grant uci write to mwan3",
        );
      }
      throw err;
    }
  }

  /** `uci confirm`: keeps the applied change. */
  async confirm(): Promise<void> {
    await this.#call("uci", "confirm", {});
  }

  /** `uci rollback`: restores the config from before the apply. */
  async rollback(): Promise<void> {
    await this.#call("uci", "rollback", {});
  }

  /** The rpcd call a set is. */
  describeSet(config: string, section: string, option: string, value: string): UciStep {
    return {
      cmd: "rpcd",
      args: ["uci", "set", JSON.stringify({ config, section, values: { [option]: value } })],
    };
  }

  /** The rpcd calls an apply is. */
  describeApply(_config: string, opts: ApplyOptions): UciStep[] {
    return [
      {
        cmd: "rpcd",
        args: [
          "uci",
          "apply",
          JSON.stringify({ rollback: opts.rollbackS > 0, timeout: opts.rollbackS }),
        ],
      },
      { cmd: "rpcd", args: ["uci", "confirm", "{}"] },
    ];
  }
}

/** Options for {@linkcode RemoteRouter}. */
export interface RemoteRouterOptions {
  /** The logged-in (or to be logged-in) session. */
  session: RpcSession;
  /** How often `network.interface dump` is polled for ifup/ifdown, ms (default 2000). */
  eventPollMs?: number;
  /** Tool name → absolute path on the router (default {@linkcode REMOTE_TOOLS}). */
  tools?: Readonly<Record<string, string>>;
}

/**
 * The router over JSON-RPC.
 *
 * @example
 * ```ts
 * const router = new RemoteRouter({ session: new RpcSession({ url, username, password, timeoutMs: 5000 }) });
 * const r = await router.exec("ping", ["-c", "1", "-W", "1", "-I", "wwan0", "1.1.1.1"], { timeoutMs: 3000 });
 * ```
 */
export class RemoteRouter implements Router {
  readonly kind = "remote" as const;
  readonly uci: RemoteUci;
  readonly session: RpcSession;
  #o: RemoteRouterOptions;
  #pollers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  /** Creates it; the session logs in on the first call. */
  constructor(opts: RemoteRouterOptions) {
    this.#o = opts;
    this.session = opts.session;
    this.uci = new RemoteUci((p, m, d, o) => this.call(p, m, d, o));
  }

  /** A ubus call through uhttpd and rpcd. */
  call(
    path: string,
    method: string,
    data: { [key: string]: BlobmsgInput } = {},
    opts: RequestOptions = {},
  ): Promise<JsonObject> {
    return this.session.call(path, method, data, opts);
  }

  /**
   * `network.interface` events from polling `network.interface dump`; the
   * first poll sets the baseline. Other patterns are not available remotely.
   */
  listen(pattern: string, onEvent: (id: string, data: JsonObject) => void): Promise<unknown> {
    if (pattern !== "network.interface") {
      return Promise.reject(
        new UbusError(
          Status.NOT_SUPPORTED,
          `remote mode has no ${pattern} events (only network.interface, by polling)`,
        ),
      );
    }
    const every = this.#o.eventPollMs ?? DEFAULT_EVENT_POLL_MS;
    let last: Map<string, boolean> | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const dump = await this.call("network.interface", "dump", {});
        const now = new Map<string, boolean>();
        for (const i of Array.isArray(dump.interface) ? dump.interface : []) {
          if (i === null || typeof i !== "object" || Array.isArray(i)) continue;
          if (typeof i.interface === "string") now.set(i.interface, i.up === true);
        }
        if (last !== null) {
          for (const [iface, up] of now) {
            if (last.get(iface) !== up && (up || last.get(iface) === true)) {
              onEvent("network.interface", { action: up ? "ifup" : "ifdown", interface: iface });
            }
          }
          for (const [iface, up] of last) {
            if (up && !now.has(iface)) {
              onEvent("network.interface", { action: "ifdown", interface: iface });
            }
          }
        }
        last = now;
      } catch (err) {
        log.debug("network.interface dump failed", { error: String(err) });
      }
      if (!this.#closed) {
        if (timer !== undefined) this.#pollers.delete(timer);
        timer = setTimeout(poll, every);
        this.#pollers.add(timer);
      }
    };
    return poll();
  }

  /**
   * Runs a tool of the tool table through rpcd's `file exec` (arguments as
   * an array). A tool outside the table answers code 126 without a call.
   */
  async exec(cmd: string, args: string[], opts: ToolOptions): Promise<ToolResult> {
    const tools = this.#o.tools ?? REMOTE_TOOLS;
    const path = tools[cmd];
    if (path === undefined) {
      return {
        code: 126,
        stdout: "",
        stderr: `${cmd}: not run in remote mode (starfail runs only ${
          Object.keys(tools).join(", ")
        } on the router)`,
        timedOut: false,
      };
    }
    try {
      const r = await this.call("file", "exec", { command: path, params: args }, {
        // rpcd kills the tool at its own exec timeout; our deadline covers the round trip too.
        timeoutMs: opts.timeoutMs + 2000,
      });
      return {
        code: typeof r.code === "number" ? r.code : 1,
        stdout: typeof r.stdout === "string" ? r.stdout : "",
        stderr: typeof r.stderr === "string" ? r.stderr : "",
        timedOut: false,
      };
    } catch (err) {
      if (!(err instanceof UbusError)) throw err;
      if (err.status === Status.TIMEOUT) {
        return { code: 124, stdout: "", stderr: err.message, timedOut: true };
      }
      if (err.status === Status.NOT_FOUND) {
        return {
          code: 127,
          stdout: "",
          stderr: `${path}: not found on the router`,
          timedOut: false,
        };
      }
      if (err.status === Status.PERMISSION_DENIED) {
        return {
          code: 126,
          stdout: "",
          stderr: `the router's ACL does not allow file exec of ${path}`,
          timedOut: false,
        };
      }
      throw err;
    }
  }

  /** Stops the event polls and ends the session. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#pollers) clearTimeout(t);
    this.#pollers.clear();
    await this.session.close();
  }
}
