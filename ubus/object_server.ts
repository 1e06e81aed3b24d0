/**
 * Serving ubus objects from method tables, netifd style: every method has an
 * argument schema (valibot) that is checked before the handler runs, and the
 * ADD_OBJECT signature is derived from those schemas. The server keeps its
 * registrations (objects and event listeners) across ubusd restarts: when the
 * connection drops it reconnects with back-off and registers everything
 * again; the state behind the handlers is untouched.
 *
 * @module
 */

import { oneLine, quoteValue } from "../io/show_value.ts";
import { getLogger } from "../telemetry/logger.ts";
import * as v from "valibot";
import { type BlobmsgInput, BlobmsgType, type JsonObject } from "./blob.ts";
import {
  type IncomingInvoke,
  type InvokeReply,
  type RequestOptions,
  resolveSocketPath,
  UbusClient,
} from "./client.ts";
import { Status, UbusError } from "./protocol.ts";

const log = getLogger(["starfail", "ubus", "server"]);

/** What a handler learns about its caller. */
export interface UbusCallContext {
  /** Method name. */
  method: string;
  /** Caller's user name (from ubusd). */
  user?: string;
  /** Caller's group name (from ubusd). */
  group?: string;
}

/** One method: its argument schema and handler. */
export interface UbusMethod<
  // deno-lint-ignore no-explicit-any
  TSchema extends v.GenericSchema<any, any> = v.GenericSchema<any, any>,
> {
  /** Argument schema; must be a valibot object schema (possibly piped). */
  args: TSchema;
  /** Produces the reply object; throw {@linkcode UbusError} for a specific status. */
  handler: (
    args: v.InferOutput<TSchema>,
    ctx: UbusCallContext,
  ) => { [key: string]: unknown } | Promise<{ [key: string]: unknown }>;
}

/** A ubus object: method name → method. */
// deno-lint-ignore no-explicit-any
export type UbusMethodTable = Record<string, UbusMethod<any>>;

/**
 * Declares a method with its schema and handler, keeping the handler's
 * argument type tied to the schema.
 *
 * @example
 * ```ts
 * const table = {
 *   hello: ubusMethod(v.object({ msg: v.string() }), (args) => ({ echo: args.msg })),
 * };
 * ```
 */
export function ubusMethod<
  // deno-lint-ignore no-explicit-any
  TSchema extends v.GenericSchema<any, any>,
>(args: TSchema, handler: UbusMethod<TSchema>["handler"]): UbusMethod<TSchema> {
  return { args, handler };
}

// deno-lint-ignore no-explicit-any
type AnySchema = { type: string; entries?: Record<string, any>; wrapped?: any; pipe?: any[] };

function blobTypeOf(schema: AnySchema): number {
  switch (schema.type) {
    case "optional":
    case "nullish":
    case "nullable":
    case "exact_optional":
    case "undefinedable":
      return blobTypeOf(schema.wrapped);
    case "string":
    case "picklist":
    case "enum":
    case "literal":
      return BlobmsgType.STRING;
    case "number": {
      const integer = (schema.pipe ?? []).some((a: { type?: string }) =>
        a.type === "integer" || a.type === "safe_integer"
      );
      return integer ? BlobmsgType.INT32 : BlobmsgType.DOUBLE;
    }
    case "boolean":
      return BlobmsgType.BOOL;
    case "array":
    case "tuple":
      return BlobmsgType.ARRAY;
    case "object":
    case "record":
    case "loose_object":
    case "strict_object":
      return BlobmsgType.TABLE;
    default:
      return BlobmsgType.UNSPEC;
  }
}

/**
 * Derives the ubus signature (method → { argument → blobmsg type }) from a
 * method table's object schemas, as ADD_OBJECT sends it.
 */
export function signatureOf(table: UbusMethodTable): Record<string, Record<string, number>> {
  const sig: Record<string, Record<string, number>> = {};
  for (const [name, method] of Object.entries(table)) {
    const schema = method.args as unknown as AnySchema;
    const args: Record<string, number> = {};
    for (const [arg, argSchema] of Object.entries(schema.entries ?? {})) {
      args[arg] = blobTypeOf(argSchema as AnySchema);
    }
    sig[name] = args;
  }
  return sig;
}

/** Longest `error` text in a ubus error reply: a 100 KB argument never comes back whole. */
export const REPLY_ERROR_MAX_CHARS = 256;

/**
 * Runs one call against a table: unknown method → METHOD_NOT_FOUND, arguments
 * failing the schema → INVALID_ARGUMENT (with the reason in `error`), a
 * {@linkcode UbusError} from the handler → its status, anything else thrown →
 * UNKNOWN_ERROR. Never throws.
 */
export async function dispatchCall(
  table: UbusMethodTable,
  method: string,
  data: JsonObject,
  ctx: Omit<UbusCallContext, "method"> = {},
): Promise<InvokeReply> {
  const entry = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!entry) {
    return {
      status: Status.METHOD_NOT_FOUND,
      data: {
        error: oneLine(
          `unknown method ${quoteValue(method)}; known: ${Object.keys(table).join(", ")}`,
          REPLY_ERROR_MAX_CHARS,
        ),
      },
    };
  }
  const parsed = v.safeParse(entry.args, data);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue.path?.map((p: { key: unknown }) => String(p.key)).join(".") ?? "";
    return {
      status: Status.INVALID_ARGUMENT,
      data: {
        error: oneLine(
          `${method}: ${path ? `argument ${quoteValue(path)}: ` : ""}${issue.message}`,
          REPLY_ERROR_MAX_CHARS,
        ),
      },
    };
  }
  try {
    const result = await entry.handler(parsed.output, { ...ctx, method });
    return { status: Status.OK, data: result as { [key: string]: BlobmsgInput } };
  } catch (err) {
    if (err instanceof UbusError) {
      return {
        status: err.status,
        data: { error: oneLine(err.detail ?? err.message, REPLY_ERROR_MAX_CHARS) },
      };
    }
    log.error("ubus method failed", { method, error: String(err) });
    return {
      status: Status.UNKNOWN_ERROR,
      data: {
        error: oneLine(
          `${method} failed: ${err instanceof Error ? err.message : String(err)}`,
          REPLY_ERROR_MAX_CHARS,
        ),
      },
    };
  }
}

/** Options for {@linkcode UbusObjectServer}. */
export interface ObjectServerOptions {
  /** Socket path; default: `/var/run/ubus/ubus.sock`, else `/var/run/ubus.sock`. */
  socket?: string;
  /** Deadline for connecting and for each request (default 5000 ms). */
  timeoutMs?: number;
  /**
   * First reconnect delay (default 100 ms), doubled up to `reconnectMaxMs`.
   * The same back-off retries a refused registration on a live connection.
   */
  reconnectMinMs?: number;
  /**
   * Longest reconnect delay (default 500 ms): after a ubusd restart the
   * objects are back within this much of the new ubusd accepting connections.
   * A connect attempt to a missing socket costs next to nothing.
   */
  reconnectMaxMs?: number;
}

/** What one registration does on a connection, and how it is undone. */
interface Reg {
  kind: "object" | "listener" | "subscription";
  /** Object path, event pattern or subscription target. */
  name: string;
  /** Registers on `client`; returns the hosted object id. */
  register: (client: UbusClient) => Promise<number>;
  /** The connection it is registered on, or null. */
  on: UbusClient | null;
  /** Hosted object id on `on`. */
  id?: number;
  /** A registration attempt is in flight. */
  busy: boolean;
  /** Retry timer after a refused registration. */
  timer?: ReturnType<typeof setTimeout>;
  /** Next retry delay. */
  delay: number;
  /** Failed attempts in a row (the first is a warning, the rest debug lines). */
  failures: number;
  /** Set once the registration was withdrawn. */
  removed: boolean;
}

/** Counts of what is registered on the current connection. */
export interface RegistrationState {
  /** Whether the connection is up. */
  connected: boolean;
  /** Registered / wanted objects. */
  objects: { registered: number; wanted: number };
  /** Registered / wanted event listeners. */
  listeners: { registered: number; wanted: number };
  /** Registered / wanted subscriptions. */
  subscriptions: { registered: number; wanted: number };
  /** Connections made so far (1 on a first start, +1 after each ubusd restart). */
  connects: number;
}

/**
 * Hosts method tables on ubus and keeps them — and its event listeners and
 * subscriptions — registered: a registration ubusd refuses is retried with
 * back-off on the same connection (the connection and the other
 * registrations stay), and after the connection drops (ubusd restarted)
 * everything is registered again on the next one, exactly once.
 *
 * @example
 * ```ts
 * const server = new UbusObjectServer({ socket: "/var/run/ubus/ubus.sock" });
 * server.addObject("starfail", table);
 * await server.start();
 * const wan = await server.call("network.interface.wan", "status");
 * await server.stop();
 * ```
 */
export class UbusObjectServer {
  #opts: Required<Omit<ObjectServerOptions, "socket">> & { socket?: string };
  #regs: Reg[] = [];
  #client: UbusClient | null = null;
  #stopped = false;
  #started = false;
  #delay: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #connecting: Promise<boolean> | null = null;
  #connectedWaiters: (() => void)[] = [];
  #connects = 0;
  /** Called after every (re)connection, once its registrations were tried. */
  onRegistered?: (client: UbusClient) => void;

  /** Creates a server; nothing connects until {@linkcode start}. */
  constructor(opts: ObjectServerOptions = {}) {
    this.#opts = {
      socket: opts.socket,
      timeoutMs: opts.timeoutMs ?? 5000,
      reconnectMinMs: opts.reconnectMinMs ?? 100,
      reconnectMaxMs: opts.reconnectMaxMs ?? 500,
    };
    this.#delay = this.#opts.reconnectMinMs;
  }

  /** The socket path in use. */
  get socketPath(): string {
    return resolveSocketPath(this.#opts.socket);
  }

  /** Whether the connection to ubusd is up. */
  get connected(): boolean {
    return this.#client !== null && !this.#client.isClosed;
  }

  /** The current connection, or null. */
  get client(): UbusClient | null {
    return this.connected ? this.#client : null;
  }

  /** What is registered now (for status output and tests). */
  registrations(): RegistrationState {
    const count = (kind: Reg["kind"]) => {
      const regs = this.#regs.filter((r) => r.kind === kind);
      const live = this.client;
      return {
        registered: regs.filter((r) => live !== null && r.on === live).length,
        wanted: regs.length,
      };
    };
    return {
      connected: this.connected,
      objects: count("object"),
      listeners: count("listener"),
      subscriptions: count("subscription"),
      connects: this.#connects,
    };
  }

  /**
   * Adds an object; registers it now when connected (a refusal is retried in
   * the background), and after every reconnect. Resolves whether it is
   * registered now.
   */
  addObject(path: string, table: UbusMethodTable): Promise<boolean> {
    return this.#add("object", path, async (client) => {
      const { id } = await client.addObject(
        path,
        signatureOf(table),
        (req: IncomingInvoke) =>
          dispatchCall(table, req.method, req.data, { user: req.user, group: req.group }),
      );
      return id;
    });
  }

  /** Removes an object previously added. */
  async removeObject(path: string): Promise<void> {
    const reg = this.#regs.find((r) => r.kind === "object" && r.name === path);
    if (reg) await this.#withdraw(reg);
  }

  /**
   * Listens for events matching `pattern`, now and after every reconnect; a
   * refused registration is retried with back-off. Resolves whether it is
   * registered now.
   */
  listen(pattern: string, onEvent: (id: string, data: JsonObject) => void): Promise<boolean> {
    return this.#add("listener", pattern, async (client) => {
      const { objid } = await client.listen(pattern, onEvent, { timeoutMs: this.#opts.timeoutMs });
      return objid;
    });
  }

  /**
   * Subscribes to notifications of the object at `path`, now and whenever it
   * is (re)registered: a target that is missing, or went away with its owner,
   * is subscribed again with back-off once it is back. Resolves whether it is
   * subscribed now.
   */
  subscribe(path: string, onNotify: (type: string, data: JsonObject) => void): Promise<boolean> {
    let reg: Reg | undefined = undefined;
    const p = this.#add("subscription", path, async (client) => {
      const { objid } = await client.subscribe(path, onNotify, {
        timeoutMs: this.#opts.timeoutMs,
        onUnsubscribe: () => {
          // The target left (its owner restarted or removed it): subscribe again when it is back.
          if (reg === undefined || reg.removed || reg.on !== client) return;
          log.debug("Subscription target went away; resubscribing", { target: path });
          reg.on = null;
          void client.removeObject(objid).catch(() => undefined);
          this.#retryLater(reg, client);
        },
      });
      return objid;
    });
    reg = this.#regs[this.#regs.length - 1];
    return p;
  }

  /**
   * Connects and registers everything. Resolves `true` once connected (with
   * every registration tried), or `false` when the first attempt failed
   * (retries continue in the background until {@linkcode stop}).
   */
  async start(): Promise<boolean> {
    this.#stopped = false;
    this.#started = true;
    return await this.#connectOnce();
  }

  /** Resolves when connected, or rejects after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#connectedWaiters.indexOf(done);
        if (i >= 0) this.#connectedWaiters.splice(i, 1);
        reject(new UbusError(Status.TIMEOUT, `not connected to ubus within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#connectedWaiters.push(done);
    });
  }

  /** Calls a method on another object through the current connection. */
  async call(
    path: string,
    method: string,
    data: { [key: string]: BlobmsgInput } = {},
    opts: RequestOptions = {},
  ): Promise<JsonObject> {
    const client = this.client;
    if (!client) throw new UbusError(Status.CONNECTION_FAILED, "not connected to ubus");
    return await client.call(path, method, data, {
      timeoutMs: opts.timeoutMs ?? this.#opts.timeoutMs,
    });
  }

  /** Sends an event through the current connection (ubusd answers once it has passed it on). */
  async sendEvent(id: string, data: { [key: string]: BlobmsgInput } = {}): Promise<void> {
    const client = this.client;
    if (!client) throw new UbusError(Status.CONNECTION_FAILED, "not connected to ubus");
    await client.sendEvent(id, data, { timeoutMs: this.#opts.timeoutMs });
  }

  /** Notifies subscribers of hosted object `path`. */
  async notify(path: string, type: string, data: { [key: string]: BlobmsgInput }): Promise<void> {
    const client = this.client;
    const reg = this.#regs.find((r) => r.kind === "object" && r.name === path);
    if (!client || reg?.on !== client || reg.id === undefined) return;
    await client.notify(reg.id, type, data);
  }

  /** Disconnects and stops reconnecting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const reg of this.#regs) clearTimeout(reg.timer);
    if (this.#connecting) await this.#connecting;
    const client = this.#client;
    this.#client = null;
    if (client) await client.close();
  }

  async #add(kind: Reg["kind"], name: string, register: Reg["register"]): Promise<boolean> {
    const reg: Reg = {
      kind,
      name,
      register,
      on: null,
      busy: false,
      delay: this.#opts.reconnectMinMs,
      failures: 0,
      removed: false,
    };
    this.#regs.push(reg);
    const client = this.client;
    if (client) await this.#register(client, reg);
    return client !== null && reg.on === client;
  }

  async #withdraw(reg: Reg): Promise<void> {
    reg.removed = true;
    clearTimeout(reg.timer);
    const i = this.#regs.indexOf(reg);
    if (i >= 0) this.#regs.splice(i, 1);
    const client = reg.on;
    reg.on = null;
    if (client && !client.isClosed && reg.id !== undefined) await client.removeObject(reg.id);
  }

  /** Tries one registration on `client`; a refusal schedules a retry, the connection stays. */
  async #register(client: UbusClient, reg: Reg): Promise<void> {
    if (reg.removed || reg.busy || reg.on === client || client.isClosed) return;
    reg.busy = true;
    clearTimeout(reg.timer);
    try {
      const id = await reg.register(client);
      if (reg.removed || client.isClosed || client !== this.#client) {
        // Withdrawn or disconnected meanwhile: do not leave it behind.
        if (!client.isClosed) await client.removeObject(id).catch(() => undefined);
        return;
      }
      reg.id = id;
      reg.on = client;
      if (reg.failures > 0) {
        log.info("ubus registration succeeded after retrying", {
          kind: reg.kind,
          name: reg.name,
          attempts: reg.failures + 1,
        });
      }
      reg.failures = 0;
      reg.delay = this.#opts.reconnectMinMs;
    } catch (err) {
      if (client.isClosed || reg.removed) return; // The reconnect registers it again.
      reg.failures++;
      const fields = {
        kind: reg.kind,
        name: reg.name,
        error: err instanceof Error ? err.message : String(err),
        retryMs: reg.delay,
      };
      if (reg.failures === 1) log.warn("ubus refused a registration; retrying", fields);
      else log.debug("ubus registration still refused; retrying", fields);
      this.#retryLater(reg, client);
    } finally {
      reg.busy = false;
    }
  }

  #retryLater(reg: Reg, client: UbusClient): void {
    if (this.#stopped || reg.removed) return;
    clearTimeout(reg.timer);
    const delay = reg.delay;
    reg.delay = Math.min(reg.delay * 2, Math.max(this.#opts.reconnectMaxMs, 1000));
    reg.timer = setTimeout(() => {
      if (client === this.#client && !client.isClosed) void this.#register(client, reg);
    }, delay);
  }

  #connectOnce(): Promise<boolean> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = this.#doConnect().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #doConnect(): Promise<boolean> {
    let client: UbusClient;
    try {
      client = await UbusClient.connect({
        socket: this.#opts.socket,
        timeoutMs: this.#opts.timeoutMs,
      });
    } catch (err) {
      log.debug("ubus connect failed; will retry", { error: String(err), delayMs: this.#delay });
      this.#scheduleReconnect();
      return false;
    }
    if (this.#stopped) {
      await client.close();
      return false;
    }
    this.#client = client;
    this.#connects++;
    this.#delay = this.#opts.reconnectMinMs;
    client.closed.then(() => {
      for (const reg of this.#regs) {
        if (reg.on === client) reg.on = null;
        clearTimeout(reg.timer);
        reg.delay = this.#opts.reconnectMinMs;
      }
      if (this.#client === client) this.#client = null;
      if (!this.#stopped) {
        log.warn("Lost the ubus connection; reconnecting", { socket: client.socketPath });
        this.#scheduleReconnect();
      }
    });
    // Objects first (callers see them soonest), then listeners and subscriptions.
    for (const kind of ["object", "listener", "subscription"] as const) {
      await Promise.all(
        this.#regs.filter((r) => r.kind === kind).map((r) => this.#register(client, r)),
      );
    }
    if (client.isClosed) return false;
    const state = this.registrations();
    log.info("Registered on ubus", {
      socket: client.socketPath,
      objects: this.#regs.filter((r) => r.kind === "object" && r.on === client).map((r) => r.name),
      listeners: `${state.listeners.registered}/${state.listeners.wanted}`,
      subscriptions: `${state.subscriptions.registered}/${state.subscriptions.wanted}`,
    });
    this.onRegistered?.(client);
    for (const w of this.#connectedWaiters.splice(0)) w();
    return true;
  }

  #scheduleReconnect(): void {
    if (this.#stopped || !this.#started) return;
    clearTimeout(this.#timer);
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#opts.reconnectMaxMs);
    this.#timer = setTimeout(() => {
      this.#connectOnce();
    }, delay);
  }
}
