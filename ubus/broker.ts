/**
 * An in-process ubus broker speaking the ubusd wire protocol on a unix
 * socket: HELLO, PING, LOOKUP, INVOKE routing, ADD_OBJECT/REMOVE_OBJECT,
 * events (send/register), SUBSCRIBE/UNSUBSCRIBE/NOTIFY. It lets the daemon,
 * the CLI, the demo and the tests run the production client and object server
 * unchanged on machines without OpenWrt.
 *
 * Standalone: `deno run -A ubus/broker.ts --socket /tmp/ubus.sock`.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { parseArgs } from "node:util";
import { type BlobmsgInput, blobmsgU32, type JsonObject } from "./blob.ts";
import {
  encodeMessage,
  FrameReader,
  MalformedMessageError,
  MsgType,
  Status,
  SystemObject,
  type UbusMessage,
  type UbusOutMessage,
} from "./protocol.ts";

const log = getLogger(["starfail", "ubus", "broker"]);

interface BrokerClient {
  id: number;
  conn: Deno.UnixConn;
  writeChain: Promise<void>;
  closed: boolean;
}

interface BrokerObject {
  id: number;
  path?: string;
  owner: BrokerClient;
  type?: BrokerType;
  /** Subscriber object ids. */
  subscribers: Set<number>;
  /** Target object ids this (subscriber) object is subscribed to. */
  targets: Set<number>;
  /** Sequence counter for NOTIFY/UNSUBSCRIBE sent about this object (ubusd `invoke_seq`). */
  invokeSeq: number;
  /** Event number this object last received (ubusd sends each event once per object). */
  eventSeen: number;
}

interface BrokerType {
  id: number;
  signature: JsonObject;
  refcount: number;
}

interface EventRegistration {
  objid: number;
  pattern: string;
}

/** Options for {@linkcode startBroker}. */
export interface BrokerOptions {
  /** Unix socket path to listen on; an existing socket file is replaced. */
  path: string;
  /** User name reported to objects in INVOKE (default: from the process uid). */
  user?: string;
  /** Group name reported to objects in INVOKE (default: same as user). */
  group?: string;
}

/** A running broker. */
export interface Broker {
  /** The socket path. */
  readonly path: string;
  /** Paths of the registered objects, sorted. */
  objectPaths(): string[];
  /** Number of connected clients. */
  clientCount(): number;
  /** Stops listening, drops every client and removes the socket file. */
  close(): Promise<void>;
}

function defaultUser(): string {
  // Under the compiled binary's permissions (the demo) neither the uid nor $USER may be read.
  try {
    const uid = Deno.uid();
    if (uid === 0) return "root";
    return Deno.env.get("USER") ?? String(uid);
  } catch {
    return "starfail";
  }
}

function patternMatches(pattern: string, id: string): boolean {
  if (pattern.endsWith("*")) return id.startsWith(pattern.slice(0, -1));
  return pattern === id;
}

/**
 * Starts a broker listening on `opts.path`.
 *
 * @example
 * ```ts
 * const broker = await startBroker({ path: "/tmp/starfail-test/ubus.sock" });
 * // … UbusClient.connect({ socket: broker.path }) …
 * await broker.close();
 * ```
 */
export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  try {
    await Deno.remove(opts.path);
  } catch {
    // no stale socket
  }
  const listener = Deno.listen({ transport: "unix", path: opts.path });
  const user = opts.user ?? defaultUser();
  const group = opts.group ?? user;
  const clients = new Map<number, BrokerClient>();
  const objects = new Map<number, BrokerObject>();
  const paths = new Map<string, BrokerObject>();
  const types = new Map<number, BrokerType>();
  const events: EventRegistration[] = [];
  let eventSeq = 0;
  let objEventSeq = 1;
  let closing = false;
  const loops: Promise<void>[] = [];

  function newId(taken: (id: number) => boolean): number {
    for (;;) {
      const id = 1024 + Math.floor(Math.random() * (0xffffffff - 1024));
      if (!taken(id)) return id;
    }
  }
  function idTaken(id: number): boolean {
    return clients.has(id) || objects.has(id) || types.has(id);
  }

  function send(cl: BrokerClient, msg: UbusOutMessage): void {
    if (cl.closed) return;
    let frame: Uint8Array;
    try {
      frame = encodeMessage(msg);
    } catch (err) {
      log.warn("Broker could not encode a message", { error: String(err) });
      return;
    }
    cl.writeChain = cl.writeChain.then(async () => {
      if (cl.closed) return;
      let off = 0;
      while (off < frame.length) off += await cl.conn.write(frame.subarray(off));
    }).catch(() => dropClient(cl));
  }

  function status(cl: BrokerClient, req: UbusMessage, code: number): void {
    send(cl, { type: MsgType.STATUS, seq: req.seq, peer: req.peer, attrs: { status: code } });
  }

  /** Delivers an event like ubusd: not back to the sender, once per object, seq per delivery. */
  function emitEvent(
    id: string,
    data: { [key: string]: BlobmsgInput },
    sender?: BrokerClient,
  ): void {
    objEventSeq++;
    for (const reg of events) {
      if (!patternMatches(reg.pattern, id)) continue;
      const obj = objects.get(reg.objid);
      if (!obj || obj.owner === sender || obj.eventSeen === objEventSeq) continue;
      obj.eventSeen = objEventSeq;
      eventSeq = (eventSeq + 1) & 0xffff;
      send(obj.owner, {
        type: MsgType.INVOKE,
        seq: eventSeq,
        peer: 0,
        attrs: { objid: obj.id, method: id, data },
      });
    }
  }

  function notifyActive(target: BrokerObject, active: boolean): void {
    target.invokeSeq = (target.invokeSeq + 1) & 0xffff;
    send(target.owner, {
      type: MsgType.NOTIFY,
      seq: target.invokeSeq,
      peer: 0,
      attrs: { objid: target.id, active },
    });
  }

  function unsubscribe(subscriber: BrokerObject, target: BrokerObject): void {
    if (!target.subscribers.delete(subscriber.id)) return;
    subscriber.targets.delete(target.id);
    if (target.subscribers.size === 0) notifyActive(target, false);
  }

  function removeObject(obj: BrokerObject): void {
    objects.delete(obj.id);
    if (obj.path !== undefined) paths.delete(obj.path);
    for (let i = events.length - 1; i >= 0; i--) {
      if (events[i].objid === obj.id) events.splice(i, 1);
    }
    for (const targetId of [...obj.targets]) {
      const target = objects.get(targetId);
      if (target) unsubscribe(obj, target);
    }
    for (const subId of [...obj.subscribers]) {
      const sub = objects.get(subId);
      if (!sub) continue;
      sub.targets.delete(obj.id);
      sub.invokeSeq = (sub.invokeSeq + 1) & 0xffff;
      send(sub.owner, {
        type: MsgType.UNSUBSCRIBE,
        seq: sub.invokeSeq,
        peer: 0,
        attrs: { objid: sub.id, target: obj.id },
      });
    }
    obj.subscribers.clear();
    if (obj.path !== undefined) {
      emitEvent("ubus.object.remove", { id: blobmsgU32(obj.id), path: obj.path });
    }
    if (obj.type && --obj.type.refcount <= 0) types.delete(obj.type.id);
  }

  function dropClient(cl: BrokerClient): void {
    if (cl.closed) return;
    cl.closed = true;
    clients.delete(cl.id);
    try {
      cl.conn.close();
    } catch {
      // already closed
    }
    for (const obj of [...objects.values()]) if (obj.owner === cl) removeObject(obj);
  }

  function handleLookup(cl: BrokerClient, msg: UbusMessage): void {
    const path = msg.attrs.objpath;
    let found: BrokerObject[];
    if (path === "") return status(cl, msg, Status.INVALID_ARGUMENT);
    if (path === undefined) {
      found = [...paths.values()];
    } else if (path.endsWith("*")) {
      const prefix = path.slice(0, -1);
      found = [...paths.values()].filter((o) => o.path!.startsWith(prefix));
    } else {
      const hit = paths.get(path);
      found = hit ? [hit] : [];
    }
    found.sort((a, b) => (a.path! < b.path! ? -1 : a.path! > b.path! ? 1 : 0));
    if (path !== undefined && found.length === 0) return status(cl, msg, Status.NOT_FOUND);
    for (const obj of found) {
      if (!obj.type) continue; // ubusd sends nothing for objects without a type
      send(cl, {
        type: MsgType.DATA,
        seq: msg.seq,
        peer: msg.peer,
        attrs: {
          objpath: obj.path,
          objid: obj.id,
          objtype: obj.type.id,
          signature: obj.type.signature,
        },
      });
    }
    status(cl, msg, Status.OK);
  }

  function handleAddObject(cl: BrokerClient, msg: UbusMessage): void {
    const path = msg.attrs.objpath;
    if (path !== undefined && paths.has(path)) return status(cl, msg, Status.INVALID_ARGUMENT);
    // As ubusd: an unknown OBJTYPE or a bad signature leaves the object without a type.
    let type: BrokerType | undefined;
    if (msg.attrs.objtype !== undefined) {
      type = types.get(msg.attrs.objtype);
    } else if (msg.attrs.signature !== undefined) {
      type = { id: newId(idTaken), signature: msg.attrs.signature, refcount: 0 };
      types.set(type.id, type);
    }
    if (type) type.refcount++;
    const obj: BrokerObject = {
      id: newId(idTaken),
      path,
      owner: cl,
      type,
      subscribers: new Set(),
      targets: new Set(),
      invokeSeq: 0,
      eventSeen: 0,
    };
    objects.set(obj.id, obj);
    if (path !== undefined) paths.set(path, obj);
    send(cl, {
      type: MsgType.DATA,
      seq: msg.seq,
      peer: msg.peer,
      attrs: { objid: obj.id, objtype: msg.attrs.signature !== undefined ? type?.id : undefined },
    });
    status(cl, msg, Status.OK);
    if (path !== undefined) emitEvent("ubus.object.add", { id: blobmsgU32(obj.id), path });
  }

  function handleRemoveObject(cl: BrokerClient, msg: UbusMessage): void {
    const obj = objects.get(msg.attrs.objid ?? 0);
    if (!obj) return status(cl, msg, Status.NOT_FOUND);
    if (obj.owner !== cl) return status(cl, msg, Status.PERMISSION_DENIED);
    send(cl, {
      type: MsgType.DATA,
      seq: msg.seq,
      peer: msg.peer,
      attrs: { objid: obj.id, objtype: obj.type?.refcount === 1 ? obj.type.id : undefined },
    });
    removeObject(obj);
    status(cl, msg, Status.OK);
  }

  function handleEventObject(cl: BrokerClient, msg: UbusMessage): void {
    const data = msg.attrs.data ?? {};
    if (msg.attrs.method === "send") {
      const id = data.id;
      const payload = data.data;
      if (
        typeof id !== "string" || payload === null || typeof payload !== "object" ||
        Array.isArray(payload)
      ) {
        return status(cl, msg, Status.INVALID_ARGUMENT);
      }
      if (id.startsWith("ubus.")) return status(cl, msg, Status.PERMISSION_DENIED);
      emitEvent(id, payload as JsonObject, cl);
      return status(cl, msg, Status.OK);
    }
    if (msg.attrs.method === "register") {
      const objid = data.object;
      const pattern = data.pattern;
      // ubusd's policy wants `object` as INT32 (blobmsg_add_u32) and treats any other type
      // as missing. INT32 decodes signed, so a value above INT32_MAX came as INT64.
      if (
        typeof objid !== "number" || !Number.isInteger(objid) || objid < -0x80000000 ||
        objid > 0x7fffffff || typeof pattern !== "string" || pattern === ""
      ) {
        return status(cl, msg, Status.INVALID_ARGUMENT);
      }
      if (objid >>> 0 < 1024) return status(cl, msg, Status.PERMISSION_DENIED);
      const obj = objects.get(objid >>> 0);
      if (!obj) return status(cl, msg, Status.NOT_FOUND);
      if (obj.owner !== cl) return status(cl, msg, Status.PERMISSION_DENIED);
      events.push({ objid: obj.id, pattern });
      return status(cl, msg, Status.OK);
    }
    status(cl, msg, Status.INVALID_COMMAND);
  }

  function handleInvoke(cl: BrokerClient, msg: UbusMessage): void {
    const objid = msg.attrs.objid;
    if (objid === undefined || msg.attrs.method === undefined) {
      return status(cl, msg, Status.INVALID_ARGUMENT);
    }
    if (objid === SystemObject.EVENT) return handleEventObject(cl, msg);
    const obj = objects.get(objid);
    if (!obj) return status(cl, msg, Status.NOT_FOUND);
    send(obj.owner, {
      type: MsgType.INVOKE,
      seq: msg.seq,
      peer: cl.id,
      attrs: { objid: obj.id, method: msg.attrs.method, user, group, data: msg.attrs.data },
    });
  }

  /** DATA/STATUS from an object's owner: route to the caller with peer = objid. */
  function handleResponse(cl: BrokerClient, msg: UbusMessage): void {
    const objid = msg.attrs.objid;
    if (objid === undefined) return;
    if (msg.type === MsgType.STATUS && msg.attrs.status === undefined) return;
    if (msg.type === MsgType.DATA && msg.attrs.data === undefined) return;
    const obj = objects.get(objid);
    if (!obj || obj.owner !== cl) return;
    const target = clients.get(msg.peer);
    if (!target) return;
    const { data, status: st, subscribers } = msg.attrs;
    send(target, {
      type: msg.type,
      seq: msg.seq,
      peer: objid,
      attrs: msg.type === MsgType.STATUS
        ? { status: st, objid, subscribers }
        : data !== undefined
        ? { objid, data }
        : { objid },
    });
  }

  /**
   * The subscriber object (owned by `cl`) and the target of a SUBSCRIBE or
   * UNSUBSCRIBE; answers the call with an error status and returns null when
   * either is missing or the subscriber is not the caller's.
   */
  function subscription(
    cl: BrokerClient,
    msg: UbusMessage,
  ): { sub: BrokerObject; target: BrokerObject | undefined } | null {
    if (msg.attrs.objid === undefined || msg.attrs.target === undefined) {
      status(cl, msg, Status.INVALID_ARGUMENT);
      return null;
    }
    const sub = objects.get(msg.attrs.objid);
    if (!sub) {
      status(cl, msg, Status.NOT_FOUND);
      return null;
    }
    if (sub.owner !== cl) {
      status(cl, msg, Status.INVALID_ARGUMENT);
      return null;
    }
    return { sub, target: objects.get(msg.attrs.target) };
  }

  function handleSubscribe(cl: BrokerClient, msg: UbusMessage): void {
    const pair = subscription(cl, msg);
    if (pair === null) return;
    const { sub, target } = pair;
    if (!target) return status(cl, msg, Status.NOT_FOUND);
    if (target.owner === cl) return status(cl, msg, Status.INVALID_ARGUMENT);
    const first = target.subscribers.size === 0;
    target.subscribers.add(sub.id);
    sub.targets.add(target.id);
    status(cl, msg, Status.OK);
    if (first) notifyActive(target, true);
  }

  function handleUnsubscribe(cl: BrokerClient, msg: UbusMessage): void {
    const pair = subscription(cl, msg);
    if (pair === null) return;
    const { sub, target } = pair;
    if (!target || !sub.targets.has(target.id)) return status(cl, msg, Status.NOT_FOUND);
    unsubscribe(sub, target);
    status(cl, msg, Status.OK);
  }

  function handleNotify(cl: BrokerClient, msg: UbusMessage): void {
    if (msg.attrs.objid === undefined || msg.attrs.method === undefined) {
      return status(cl, msg, Status.INVALID_ARGUMENT);
    }
    const obj = objects.get(msg.attrs.objid);
    if (!obj) return status(cl, msg, Status.NOT_FOUND);
    if (obj.owner !== cl) return status(cl, msg, Status.PERMISSION_DENIED);
    const noReply = msg.attrs.noReply === true;
    const subs = [...obj.subscribers].map((id) => objects.get(id)).filter((o) => o !== undefined);
    if (!noReply) {
      send(cl, {
        type: MsgType.STATUS,
        seq: msg.seq,
        peer: msg.peer,
        attrs: { objid: obj.id, subscribers: subs.map((s) => s!.id), status: Status.OK },
      });
    }
    for (const sub of subs) {
      send(sub!.owner, {
        type: MsgType.INVOKE,
        seq: msg.seq,
        peer: cl.id,
        attrs: {
          objid: sub!.id,
          method: msg.attrs.method,
          user,
          group,
          data: msg.attrs.data,
          noReply: noReply ? true : undefined,
        },
      });
    }
  }

  function handle(cl: BrokerClient, msg: UbusMessage): void {
    switch (msg.type) {
      case MsgType.PING:
        return send(cl, { type: MsgType.DATA, seq: msg.seq, peer: msg.peer, attrs: msg.attrs });
      case MsgType.LOOKUP:
        return handleLookup(cl, msg);
      case MsgType.INVOKE:
        return handleInvoke(cl, msg);
      case MsgType.ADD_OBJECT:
        return handleAddObject(cl, msg);
      case MsgType.REMOVE_OBJECT:
        return handleRemoveObject(cl, msg);
      case MsgType.DATA:
      case MsgType.STATUS:
        return handleResponse(cl, msg);
      case MsgType.SUBSCRIBE:
        return handleSubscribe(cl, msg);
      case MsgType.UNSUBSCRIBE:
        return handleUnsubscribe(cl, msg);
      case MsgType.NOTIFY:
        return handleNotify(cl, msg);
      default:
        return status(cl, msg, Status.INVALID_COMMAND);
    }
  }

  async function serve(conn: Deno.UnixConn): Promise<void> {
    const cl: BrokerClient = {
      id: newId(idTaken),
      conn,
      writeChain: Promise.resolve(),
      closed: false,
    };
    clients.set(cl.id, cl);
    send(cl, { type: MsgType.HELLO, seq: 0, peer: cl.id, attrs: {} });
    const reader = new FrameReader();
    const buf = new Uint8Array(65536);
    try {
      while (!cl.closed) {
        const n = await conn.read(buf);
        if (n === null) break;
        reader.push(buf.subarray(0, n));
        for (;;) {
          let msg: UbusMessage | null;
          try {
            msg = reader.next();
          } catch (err) {
            if (!(err instanceof MalformedMessageError)) throw err;
            // ubusd answers a message it cannot parse with INVALID_ARGUMENT.
            const { seq, peer } = err.header;
            send(cl, {
              type: MsgType.STATUS,
              seq,
              peer,
              attrs: { status: Status.INVALID_ARGUMENT },
            });
            continue;
          }
          if (msg === null) break;
          handle(cl, msg);
        }
      }
    } catch (err) {
      if (!cl.closed && !closing) {
        log.warn("Broker dropped a client", { client: cl.id, error: String(err) });
      }
    }
    dropClient(cl);
  }

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        if (closing) {
          conn.close();
          break;
        }
        loops.push(serve(conn));
      }
    } catch (err) {
      if (!closing) log.error("Broker stopped accepting", { error: String(err) });
    }
  })();

  return {
    path: opts.path,
    objectPaths: () => [...paths.keys()].sort(),
    clientCount: () => clients.size,
    async close() {
      if (closing) return;
      closing = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      for (const cl of [...clients.values()]) dropClient(cl);
      await acceptLoop;
      await Promise.allSettled(loops);
      try {
        await Deno.remove(opts.path);
      } catch {
        // already gone
      }
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { socket: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || !values.socket) {
    console.log("Usage: deno run -A ubus/broker.ts --socket PATH");
    Deno.exit(values.help ? 0 : 64);
  }
  const broker = await startBroker({ path: values.socket });
  console.log(`ubus broker listening on ${broker.path}`);
  const stop = async () => {
    await broker.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
