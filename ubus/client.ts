/**
 * A ubus client over the ubusd unix socket: HELLO, LOOKUP, INVOKE (DATA +
 * STATUS matched on seq and peer), events, subscriptions, and hosting objects.
 * One instance is one connection; {@linkcode UbusObjectServer} adds reconnects.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { type BlobmsgInput, blobmsgU32, concatBytes, type JsonObject } from "./blob.ts";
import {
  encodeMessage,
  FrameReader,
  MalformedMessageError,
  MsgType,
  Status,
  SystemObject,
  UbusError,
  type UbusMessage,
  type UbusOutMessage,
} from "./protocol.ts";

const log = getLogger(["starfail", "ubus"]);

/** The socket paths tried when none is given: current ubus first, then pre-2020. */
export const DEFAULT_SOCKETS: readonly string[] = ["/var/run/ubus/ubus.sock", "/var/run/ubus.sock"];

/** Default deadline for connecting and for each request, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Picks the socket path: the explicit one, else the first default that
 * exists, else the first default.
 */
export function resolveSocketPath(explicit?: string): string {
  if (explicit) return explicit;
  for (const path of DEFAULT_SOCKETS) {
    try {
      Deno.statSync(path);
      return path;
    } catch {
      // try the next one
    }
  }
  return DEFAULT_SOCKETS[0];
}

/** Options for {@linkcode UbusClient.connect}. */
export interface ConnectOptions {
  /** Socket path; default: {@linkcode resolveSocketPath}. */
  socket?: string;
  /** Deadline for connecting and receiving HELLO (default 5000 ms). */
  timeoutMs?: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** Deadline for the reply, in milliseconds (default 5000). */
  timeoutMs?: number;
}

/**
 * What the collectors need from ubus: calling a method by path. Both
 * {@linkcode UbusClient} and `UbusObjectServer` provide it.
 */
export interface UbusCaller {
  /** Calls `method` on the object at `path`; rejects with `UbusError`. */
  call(
    path: string,
    method: string,
    data?: { [key: string]: BlobmsgInput },
    opts?: RequestOptions,
  ): Promise<JsonObject>;
}

/** Subscribing to ubus events by pattern (`UbusClient` and `UbusObjectServer`). */
export interface UbusEventSource {
  /** Calls `onEvent` for each event whose id matches `pattern`. */
  listen(pattern: string, onEvent: (id: string, data: JsonObject) => void): Promise<unknown>;
}

/** One object as returned by LOOKUP. */
export interface UbusObjectInfo {
  /** Object path. */
  path: string;
  /** Object id. */
  id: number;
  /** Type id. */
  type: number;
  /** Method name → { argument → blobmsg type number }. */
  signature: JsonObject;
}

/** An INVOKE that arrived for an object this client hosts. */
export interface IncomingInvoke {
  /** Object id the call is for. */
  objid: number;
  /** Method name (or event id for listeners). */
  method: string;
  /** Arguments (empty object when none). */
  data: JsonObject;
  /** Caller's user name as ubusd reports it. */
  user?: string;
  /** Caller's group name as ubusd reports it. */
  group?: string;
  /** The caller's client id (0 for events). */
  peer: number;
  /** Set when the sender does not want a reply. */
  noReply: boolean;
}

/** What an object handler answers: a status and optionally one DATA object. */
export interface InvokeReply {
  /** ubus status code. */
  status: number;
  /** Reply object, sent as DATA before the STATUS. */
  data?: { [key: string]: BlobmsgInput };
}

/** Handles calls to a hosted object. */
export type ObjectHandler = (req: IncomingInvoke) => InvokeReply | Promise<InvokeReply>;

interface Pending {
  data: JsonObject[];
  resolve: (r: { status: number; data: JsonObject[] }) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface HostedObject {
  handler: ObjectHandler;
  /** Event listeners and subscribers get no STATUS back (ubusd drops it anyway). */
  kind: "object" | "listener" | "subscriber";
  /** Called when ubusd ends a subscription because its target went away. */
  onUnsubscribe?: (target: number) => void;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UbusError(Status.TIMEOUT, `${what} took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * One connection to ubusd (or the in-process broker).
 *
 * @example
 * ```ts
 * const ubus = await UbusClient.connect({ socket: "/var/run/ubus/ubus.sock" });
 * const status = await ubus.call("network.interface.wan", "status", {});
 * await ubus.close();
 * ```
 */
export class UbusClient {
  /** Client id assigned by ubusd in HELLO. */
  readonly id: number;
  /** Socket path this client is connected to. */
  readonly socketPath: string;
  /** Resolves when the connection has closed (for any reason). */
  readonly closed: Promise<void>;

  #conn: Deno.UnixConn;
  #reader: FrameReader;
  #seq = 0;
  #pending = new Map<string, Pending>();
  #objects = new Map<number, HostedObject>();
  #outQueue: { frame: Uint8Array; done: PromiseWithResolvers<void> }[] = [];
  #writing = false;
  #isClosed = false;
  #closedResolve!: () => void;
  #defaultTimeout: number;
  #onNotifyActive?: (objid: number, active: boolean) => void;

  private constructor(
    conn: Deno.UnixConn,
    reader: FrameReader,
    id: number,
    socketPath: string,
    timeoutMs: number,
  ) {
    this.#conn = conn;
    this.#reader = reader;
    this.id = id;
    this.socketPath = socketPath;
    this.#defaultTimeout = timeoutMs;
    this.closed = new Promise((resolve) => (this.#closedResolve = resolve));
  }

  /** Connects, waits for HELLO and starts reading. Throws {@linkcode UbusError} (CONNECTION_FAILED or TIMEOUT). */
  static async connect(opts: ConnectOptions = {}): Promise<UbusClient> {
    const socketPath = resolveSocketPath(opts.socket);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let conn: Deno.UnixConn;
    try {
      conn = await withDeadline(
        Deno.connect({ transport: "unix", path: socketPath }),
        timeoutMs,
        `connecting to ${socketPath}`,
      );
    } catch (err) {
      if (err instanceof UbusError) throw err;
      throw new UbusError(
        Status.CONNECTION_FAILED,
        `cannot connect to ${socketPath}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const reader = new FrameReader();
    try {
      const hello = await withDeadline(readOne(conn, reader), timeoutMs, "waiting for HELLO");
      if (hello.type !== MsgType.HELLO || hello.peer <= 1) {
        throw new UbusError(Status.CONNECTION_FAILED, `ubusd did not greet with HELLO`);
      }
      const client = new UbusClient(conn, reader, hello.peer, socketPath, timeoutMs);
      client.#readLoop();
      return client;
    } catch (err) {
      try {
        conn.close();
      } catch {
        // already closed
      }
      if (err instanceof UbusError) throw err;
      throw new UbusError(
        Status.CONNECTION_FAILED,
        `${socketPath}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Whether the connection is closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Called when ubusd reports that an object we host gained (true) or lost (false) its first/last subscriber. */
  set onNotifyActive(fn: ((objid: number, active: boolean) => void) | undefined) {
    this.#onNotifyActive = fn;
  }

  /** Lists objects: exact path, prefix with a trailing `*`, or everything when `path` is omitted. */
  async lookup(path?: string, opts: RequestOptions = {}): Promise<UbusObjectInfo[]> {
    const reply = await this.#request(
      { type: MsgType.LOOKUP, peer: 0, attrs: path === undefined ? {} : { objpath: path } },
      opts,
    );
    if (reply.status !== Status.OK) throw new UbusError(reply.status, `lookup '${path ?? ""}'`);
    return reply.data.map((d) => ({
      path: String(d.objpath ?? ""),
      id: Number(d.objid ?? 0),
      type: Number(d.objtype ?? 0),
      signature: (d.signature ?? {}) as JsonObject,
    }));
  }

  /** Returns the id of the object at `path`; throws {@linkcode UbusError} NOT_FOUND. */
  async lookupId(path: string, opts: RequestOptions = {}): Promise<number> {
    const found = await this.lookup(path, opts);
    const hit = found.find((o) => o.path === path);
    if (!hit) throw new UbusError(Status.NOT_FOUND, `no object '${path}'`);
    return hit.id;
  }

  /**
   * Invokes `method` on object `objid`. Returns the first DATA reply (or
   * `{}`); a non-zero STATUS throws {@linkcode UbusError} whose detail is the
   * reply's `error` string when the object sent one.
   */
  async invoke(
    objid: number,
    method: string,
    data: { [key: string]: BlobmsgInput } = {},
    opts: RequestOptions = {},
  ): Promise<JsonObject> {
    const reply = await this.#request(
      { type: MsgType.INVOKE, peer: objid, attrs: { objid, method, data } },
      opts,
    );
    const first = reply.data[0] ?? {};
    if (reply.status !== Status.OK) {
      const detail = typeof first.error === "string" ? first.error : `${method} on object ${objid}`;
      throw new UbusError(reply.status, detail);
    }
    return first;
  }

  /** Looks up `path` and invokes `method` on it. */
  async call(
    path: string,
    method: string,
    data: { [key: string]: BlobmsgInput } = {},
    opts: RequestOptions = {},
  ): Promise<JsonObject> {
    const id = await this.lookupId(path, opts);
    return await this.invoke(id, method, data, opts);
  }

  /** Sends an event (`ubus send`). Ids starting with `ubus.` are refused by ubusd. */
  async sendEvent(
    id: string,
    data: { [key: string]: BlobmsgInput } = {},
    opts: RequestOptions = {},
  ): Promise<void> {
    const reply = await this.#request({
      type: MsgType.INVOKE,
      peer: SystemObject.EVENT,
      attrs: { objid: SystemObject.EVENT, method: "send", data: { id, data } },
    }, opts);
    if (reply.status !== Status.OK) throw new UbusError(reply.status, `send event '${id}'`);
  }

  /**
   * Hosts an object. `path` undefined makes an anonymous object. Returns the
   * object id and type id ubusd assigned.
   */
  async addObject(
    path: string | undefined,
    signature: { [key: string]: BlobmsgInput } | undefined,
    handler: ObjectHandler,
    opts: RequestOptions = {},
  ): Promise<{ id: number; type: number }> {
    return await this.#addObject(path, signature, { handler, kind: "object" }, opts);
  }

  // Anonymous objects get an empty SIGNATURE, as libubus sends for event
  // handlers and subscribers.
  async #addObject(
    path: string | undefined,
    signature: { [key: string]: BlobmsgInput } | undefined,
    hosted: HostedObject,
    opts: RequestOptions,
  ): Promise<{ id: number; type: number }> {
    const reply = await this.#request({
      type: MsgType.ADD_OBJECT,
      peer: 0,
      attrs: { objpath: path, signature },
    }, opts);
    if (reply.status !== Status.OK) {
      throw new UbusError(reply.status, `add object '${path ?? "(anonymous)"}'`);
    }
    const d = reply.data[0] ?? {};
    const id = Number(d.objid ?? 0);
    this.#objects.set(id, hosted);
    return { id, type: Number(d.objtype ?? 0) };
  }

  /** Removes a hosted object. */
  async removeObject(id: number, opts: RequestOptions = {}): Promise<void> {
    this.#objects.delete(id);
    const reply = await this.#request(
      { type: MsgType.REMOVE_OBJECT, peer: 0, attrs: { objid: id } },
      opts,
    );
    if (reply.status !== Status.OK) throw new UbusError(reply.status, `remove object ${id}`);
  }

  /**
   * Listens for events whose id matches `pattern` (exact, or a prefix ending
   * in `*`). Returns a function that stops listening.
   */
  async listen(
    pattern: string,
    onEvent: (id: string, data: JsonObject) => void,
    opts: RequestOptions = {},
  ): Promise<{ objid: number; stop: () => Promise<void> }> {
    const handler: ObjectHandler = (req) => {
      try {
        onEvent(req.method, req.data);
      } catch (err) {
        log.warn("Event handler failed", { event: req.method, error: String(err) });
      }
      return { status: Status.OK };
    };
    const { id } = await this.#addObject(undefined, {}, { handler, kind: "listener" }, opts);
    const reply = await this.#request({
      type: MsgType.INVOKE,
      peer: SystemObject.EVENT,
      attrs: {
        objid: SystemObject.EVENT,
        method: "register",
        data: { object: blobmsgU32(id), pattern },
      },
    }, opts).catch(async (err) => {
      await this.#dropAnonymous(id, opts);
      throw err;
    });
    if (reply.status !== Status.OK) {
      // Not left behind: a retry adds a fresh object.
      await this.#dropAnonymous(id, opts);
      throw new UbusError(reply.status, `register event pattern '${pattern}'`);
    }
    return { objid: id, stop: () => this.removeObject(id, opts) };
  }

  /**
   * Subscribes to notifications of the object at `path`. `opts.onUnsubscribe`
   * is called when the target goes away (its owner disconnected or removed it).
   */
  async subscribe(
    path: string,
    onNotify: (type: string, data: JsonObject) => void,
    opts: RequestOptions & { onUnsubscribe?: () => void } = {},
  ): Promise<{ objid: number; stop: () => Promise<void> }> {
    const target = await this.lookupId(path, opts);
    const handler: ObjectHandler = (req) => {
      try {
        onNotify(req.method, req.data);
      } catch (err) {
        log.warn("Notification handler failed", { type: req.method, error: String(err) });
      }
      return { status: Status.OK };
    };
    const { id } = await this.#addObject(undefined, {}, {
      handler,
      kind: "subscriber",
      onUnsubscribe: opts.onUnsubscribe,
    }, opts);
    const reply = await this.#request(
      { type: MsgType.SUBSCRIBE, peer: 0, attrs: { objid: id, target } },
      opts,
    ).catch(async (err) => {
      await this.#dropAnonymous(id, opts);
      throw err;
    });
    if (reply.status !== Status.OK) {
      await this.#dropAnonymous(id, opts);
      throw new UbusError(reply.status, `subscribe to '${path}'`);
    }
    return { objid: id, stop: () => this.removeObject(id, opts) };
  }

  /** Removes an anonymous helper object whose registration failed (best effort). */
  async #dropAnonymous(id: number, opts: RequestOptions): Promise<void> {
    if (this.#isClosed) return;
    await this.removeObject(id, opts).catch(() => undefined);
  }

  /** Sends a notification from hosted object `objid` to its subscribers (no reply requested). */
  async notify(objid: number, type: string, data: { [key: string]: BlobmsgInput }): Promise<void> {
    await this.#send({
      type: MsgType.NOTIFY,
      seq: this.#nextSeq(),
      peer: objid,
      attrs: { objid, method: type, data, noReply: true },
    });
  }

  /** Closes the connection; pending requests fail with CONNECTION_FAILED. */
  close(): Promise<void> {
    this.#shutdown("closed by caller");
    return this.closed;
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) & 0xffff;
    return this.#seq;
  }

  async #request(
    msg: Omit<UbusOutMessage, "seq">,
    opts: RequestOptions,
  ): Promise<{ status: number; data: JsonObject[] }> {
    if (this.#isClosed) throw new UbusError(Status.CONNECTION_FAILED, "connection is closed");
    const seq = this.#nextSeq();
    const key = `${seq}:${msg.peer >>> 0}`;
    const timeoutMs = opts.timeoutMs ?? this.#defaultTimeout;
    const result = new Promise<{ status: number; data: JsonObject[] }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(new UbusError(Status.TIMEOUT, `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(key, { data: [], resolve, reject, timer });
    });
    // The connection may close while the frame is still being written: the rejection
    // then comes before anyone awaits `result`, and must not count as unhandled.
    result.catch(() => undefined);
    try {
      await this.#send({ ...msg, seq });
    } catch (err) {
      const p = this.#pending.get(key);
      if (p) {
        clearTimeout(p.timer);
        this.#pending.delete(key);
      }
      throw err;
    }
    return await result;
  }

  #send(msg: UbusOutMessage): Promise<void> {
    if (this.#isClosed) {
      return Promise.reject(new UbusError(Status.CONNECTION_FAILED, "connection is closed"));
    }
    const frame = encodeMessage(msg);
    const done = Promise.withResolvers<void>();
    this.#outQueue.push({ frame, done });
    if (!this.#writing) this.#flush();
    return done.promise;
  }

  /**
   * Writes queued frames, many per write: under a burst (thousands of calls
   * at once) this keeps one buffer and one syscall per batch instead of a
   * promise chain and a write per frame, which bounds the memory a burst takes.
   */
  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#outQueue.length > 0) {
        const batch: { frame: Uint8Array; done: PromiseWithResolvers<void> }[] = [];
        let size = 0;
        while (this.#outQueue.length > 0 && (batch.length === 0 || size < 65536)) {
          const item = this.#outQueue.shift()!;
          batch.push(item);
          size += item.frame.length;
        }
        const bytes = batch.length === 1 ? batch[0].frame : concatBytes(batch.map((b) => b.frame));
        try {
          if (this.#isClosed) throw new UbusError(Status.CONNECTION_FAILED, "connection is closed");
          let off = 0;
          while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
          for (const b of batch) b.done.resolve();
        } catch (err) {
          const failure = err instanceof UbusError
            ? err
            : new UbusError(Status.CONNECTION_FAILED, `write failed: ${String(err)}`);
          if (!(err instanceof UbusError)) this.#shutdown(`write failed: ${String(err)}`);
          for (const b of [...batch, ...this.#outQueue.splice(0)]) b.done.reject(failure);
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      // Frames already buffered behind HELLO.
      this.#drain();
      while (!this.#isClosed) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#reader.push(buf.subarray(0, n));
        this.#drain();
      }
      this.#shutdown("ubusd closed the connection");
    } catch (err) {
      this.#shutdown(`read failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #drain(): void {
    for (;;) {
      let msg: UbusMessage | null;
      try {
        msg = this.#reader.next();
      } catch (err) {
        if (!(err instanceof MalformedMessageError)) throw err;
        this.#malformed(err);
        continue;
      }
      if (msg === null) return;
      this.#dispatch(msg);
    }
  }

  /** A well-framed message with bad attributes: fail its request, refuse its call, go on. */
  #malformed(err: MalformedMessageError): void {
    const { type, seq, peer } = err.header;
    log.warn("Dropped a malformed ubus message", { type, seq, peer, error: err.message });
    if (type === MsgType.DATA || type === MsgType.STATUS) {
      const key = `${seq}:${peer >>> 0}`;
      const p = this.#pending.get(key);
      if (p) {
        clearTimeout(p.timer);
        this.#pending.delete(key);
        p.reject(new UbusError(Status.PARSE_ERROR, err.message));
      }
    } else if (type === MsgType.INVOKE && peer !== 0) {
      // ubusd routes a reply by its OBJID (it must be an object this client owns);
      // without one the caller would wait for its own timeout.
      const objid = err.objid !== undefined && this.#objects.has(err.objid)
        ? err.objid
        : this.#soleObjectId();
      if (objid === undefined) return;
      this.#send({
        type: MsgType.STATUS,
        seq,
        peer,
        attrs: { status: Status.INVALID_ARGUMENT, objid },
      }).catch(() => {});
    }
  }

  /** The id of the only method-serving object this client hosts, if there is exactly one. */
  #soleObjectId(): number | undefined {
    const ids = [...this.#objects.entries()].filter(([, o]) => o.kind === "object");
    return ids.length === 1 ? ids[0][0] : undefined;
  }

  #dispatch(msg: UbusMessage): void {
    switch (msg.type) {
      case MsgType.DATA:
      case MsgType.STATUS: {
        const p = this.#pending.get(`${msg.seq}:${msg.peer >>> 0}`);
        if (!p) return;
        if (msg.type === MsgType.DATA) {
          if (msg.attrs.data) p.data.push(msg.attrs.data);
          else p.data.push({ ...msg.attrs } as JsonObject);
          return;
        }
        clearTimeout(p.timer);
        this.#pending.delete(`${msg.seq}:${msg.peer >>> 0}`);
        p.resolve({ status: msg.attrs.status ?? Status.UNKNOWN_ERROR, data: p.data });
        return;
      }
      case MsgType.INVOKE:
        this.#handleInvoke(msg);
        return;
      case MsgType.NOTIFY:
        if (msg.attrs.objid !== undefined && msg.attrs.active !== undefined) {
          this.#onNotifyActive?.(msg.attrs.objid, msg.attrs.active);
        }
        return;
      case MsgType.UNSUBSCRIBE: {
        const hosted = this.#objects.get(msg.attrs.objid ?? 0);
        try {
          hosted?.onUnsubscribe?.(msg.attrs.target ?? 0);
        } catch (err) {
          log.warn("Unsubscribe handler failed", { error: String(err) });
        }
        return;
      }
      default:
        return;
    }
  }

  async #handleInvoke(msg: UbusMessage): Promise<void> {
    const objid = msg.attrs.objid ?? 0;
    const hosted = this.#objects.get(objid);
    const req: IncomingInvoke = {
      objid,
      method: msg.attrs.method ?? "",
      data: msg.attrs.data ?? {},
      user: msg.attrs.user,
      group: msg.attrs.group,
      peer: msg.peer,
      noReply: msg.attrs.noReply === true,
    };
    let reply: InvokeReply;
    if (!hosted) {
      reply = { status: Status.NOT_FOUND };
    } else {
      try {
        reply = await hosted.handler(req);
      } catch (err) {
        log.error("ubus handler threw", { objid, method: req.method, error: String(err) });
        reply = { status: Status.UNKNOWN_ERROR };
      }
    }
    if (req.noReply || hosted?.kind === "listener") return;
    try {
      if (reply.data !== undefined) {
        await this.#send({
          type: MsgType.DATA,
          seq: msg.seq,
          peer: msg.peer,
          attrs: { objid, data: reply.data },
        });
      }
      await this.#send({
        type: MsgType.STATUS,
        seq: msg.seq,
        peer: msg.peer,
        attrs: { status: reply.status, objid },
      });
    } catch (err) {
      log.warn("Could not send ubus reply", { objid, method: req.method, error: String(err) });
    }
  }

  #shutdown(reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new UbusError(Status.CONNECTION_FAILED, reason));
    }
    this.#pending.clear();
    this.#objects.clear();
    log.debug("ubus connection closed", { socket: this.socketPath, reason });
    this.#closedResolve();
  }
}

async function readOne(conn: Deno.UnixConn, reader: FrameReader): Promise<UbusMessage> {
  const buf = new Uint8Array(4096);
  for (;;) {
    const msg = reader.next();
    if (msg) return msg;
    const n = await conn.read(buf);
    if (n === null) throw new Error("connection closed before HELLO");
    reader.push(buf.subarray(0, n));
  }
}
