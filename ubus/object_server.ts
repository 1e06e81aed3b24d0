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
import { getLogger } from "@logtape/logtape";
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
  /** First reconnect delay (default 200 ms), doubled up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  /** Longest reconnect delay (default 5000 ms). */
  reconnectMaxMs?: number;
}

interface ObjectReg {
  path: string;
  table: UbusMethodTable;
  id?: number;
}

interface ListenReg {
  pattern: string;
  onEvent: (id: string, data: JsonObject) => void;
}

/**
 * Hosts method tables on ubus and keeps them registered.
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
  #objects: ObjectReg[] = [];
  #listeners: ListenReg[] = [];
  #client: UbusClient | null = null;
  #stopped = false;
  #started = false;
  #delay: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #connecting: Promise<boolean> | null = null;
  #connectedWaiters: (() => void)[] = [];
  /** Called after every successful (re)registration. */
  onRegistered?: (client: UbusClient) => void;

  /** Creates a server; nothing connects until {@linkcode start}. */
  constructor(opts: ObjectServerOptions = {}) {
    this.#opts = {
      socket: opts.socket,
      timeoutMs: opts.timeoutMs ?? 5000,
      reconnectMinMs: opts.reconnectMinMs ?? 200,
      reconnectMaxMs: opts.reconnectMaxMs ?? 5000,
    };
    this.#delay = this.#opts.reconnectMinMs;
  }

  /** The socket path in use. */
  get socketPath(): string {
    return resolveSocketPath(this.#opts.socket);
  }

  /** Whether a connection with all registrations is up. */
  get connected(): boolean {
    return this.#client !== null && !this.#client.isClosed;
  }

  /** The current connection, or null. */
  get client(): UbusClient | null {
    return this.connected ? this.#client : null;
  }

  /** Adds an object; registers it now when connected, and after every reconnect. */
  async addObject(path: string, table: UbusMethodTable): Promise<void> {
    const reg: ObjectReg = { path, table };
    this.#objects.push(reg);
    const client = this.client;
    if (client) await this.#registerObject(client, reg);
  }

  /** Removes an object previously added. */
  async removeObject(path: string): Promise<void> {
    const idx = this.#objects.findIndex((o) => o.path === path);
    if (idx < 0) return;
    const [reg] = this.#objects.splice(idx, 1);
    const client = this.client;
    if (client && reg.id !== undefined) await client.removeObject(reg.id);
  }

  /** Listens for events matching `pattern`, now and after every reconnect. */
  async listen(pattern: string, onEvent: (id: string, data: JsonObject) => void): Promise<void> {
    const reg: ListenReg = { pattern, onEvent };
    this.#listeners.push(reg);
    const client = this.client;
    if (client) await client.listen(reg.pattern, reg.onEvent);
  }

  /**
   * Connects and registers everything. Resolves `true` once registered, or
   * `false` when the first attempt failed (retries continue in the
   * background until {@linkcode stop}).
   */
  async start(): Promise<boolean> {
    this.#stopped = false;
    this.#started = true;
    return await this.#connectOnce();
  }

  /** Resolves when connected and registered, or rejects after `timeoutMs`. */
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

  /** Sends an event through the current connection. */
  async sendEvent(id: string, data: { [key: string]: BlobmsgInput } = {}): Promise<void> {
    const client = this.client;
    if (!client) throw new UbusError(Status.CONNECTION_FAILED, "not connected to ubus");
    await client.sendEvent(id, data, { timeoutMs: this.#opts.timeoutMs });
  }

  /** Notifies subscribers of hosted object `path`. */
  async notify(path: string, type: string, data: { [key: string]: BlobmsgInput }): Promise<void> {
    const client = this.client;
    const reg = this.#objects.find((o) => o.path === path);
    if (!client || reg?.id === undefined) return;
    await client.notify(reg.id, type, data);
  }

  /** Disconnects and stops reconnecting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#connecting) await this.#connecting;
    const client = this.#client;
    this.#client = null;
    if (client) await client.close();
  }

  #connectOnce(): Promise<boolean> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = this.#doConnect().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #doConnect(): Promise<boolean> {
    let client: UbusClient | null = null;
    try {
      client = await UbusClient.connect({
        socket: this.#opts.socket,
        timeoutMs: this.#opts.timeoutMs,
      });
      for (const reg of this.#objects) await this.#registerObject(client, reg);
      for (const reg of this.#listeners) await client.listen(reg.pattern, reg.onEvent);
    } catch (err) {
      if (client) await client.close();
      log.debug("ubus connect failed; will retry", { error: String(err), delayMs: this.#delay });
      this.#scheduleReconnect();
      return false;
    }
    if (this.#stopped) {
      await client.close();
      return false;
    }
    this.#client = client;
    this.#delay = this.#opts.reconnectMinMs;
    log.info("Registered on ubus", {
      socket: client.socketPath,
      objects: this.#objects.map((o) => o.path),
    });
    this.onRegistered?.(client);
    for (const w of this.#connectedWaiters.splice(0)) w();
    client.closed.then(() => {
      if (this.#client === client) this.#client = null;
      if (!this.#stopped) {
        log.warn("Lost the ubus connection; reconnecting", { socket: client!.socketPath });
        this.#scheduleReconnect();
      }
    });
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

  async #registerObject(client: UbusClient, reg: ObjectReg): Promise<void> {
    const { id } = await client.addObject(
      reg.path,
      signatureOf(reg.table),
      (req: IncomingInvoke) =>
        dispatchCall(reg.table, req.method, req.data, { user: req.user, group: req.group }),
    );
    reg.id = id;
  }
}
