/**
 * ubus messages: header, attribute ids, status codes and the stream framing
 * of ubusmsg.h / libubus-io.c.
 *
 * A frame is an 8-byte header (u8 version = 0, u8 type, u16 seq BE, u32 peer
 * BE) followed by exactly one blob attribute (id 0, not extended) whose
 * children are the message attributes.
 *
 * @module
 */

import {
  BlobError,
  type BlobmsgInput,
  BlobWriter,
  concatBytes,
  decodeBlobAttrs,
  decodeBlobmsgTable,
  type JsonObject,
  MAX_BLOB_LEN,
  pad4,
  readCString,
  readU32,
  writeBlobmsgTable,
} from "./blob.ts";

/** Message types (ubusmsg.h `UBUS_MSG_*`). */
export const MsgType = {
  HELLO: 0,
  STATUS: 1,
  DATA: 2,
  PING: 3,
  LOOKUP: 4,
  INVOKE: 5,
  ADD_OBJECT: 6,
  REMOVE_OBJECT: 7,
  SUBSCRIBE: 8,
  UNSUBSCRIBE: 9,
  NOTIFY: 10,
  MONITOR: 11,
} as const;

/** Attribute ids (ubusmsg.h `UBUS_ATTR_*`). */
export const Attr = {
  UNSPEC: 0,
  STATUS: 1,
  OBJPATH: 2,
  OBJID: 3,
  METHOD: 4,
  OBJTYPE: 5,
  SIGNATURE: 6,
  DATA: 7,
  TARGET: 8,
  ACTIVE: 9,
  NO_REPLY: 10,
  SUBSCRIBERS: 11,
  USER: 12,
  GROUP: 13,
} as const;

/** Status codes (ubusmsg.h `UBUS_STATUS_*`). */
export const Status = {
  OK: 0,
  INVALID_COMMAND: 1,
  INVALID_ARGUMENT: 2,
  METHOD_NOT_FOUND: 3,
  NOT_FOUND: 4,
  NO_DATA: 5,
  PERMISSION_DENIED: 6,
  TIMEOUT: 7,
  NOT_SUPPORTED: 8,
  UNKNOWN_ERROR: 9,
  CONNECTION_FAILED: 10,
  NO_MEMORY: 11,
  PARSE_ERROR: 12,
  SYSTEM_ERROR: 13,
} as const;

/** System object ids: below 1024 are reserved. */
export const SystemObject = { EVENT: 1, ACL: 2, MONITOR: 3 } as const;

/** Text of each status code, as libubus `ubus_strerror` prints it. */
export const STATUS_TEXT: Record<number, string> = {
  0: "Success",
  1: "Invalid command",
  2: "Invalid argument",
  3: "Method not found",
  4: "Not found",
  5: "No response",
  6: "Permission denied",
  7: "Request timed out",
  8: "Operation not supported",
  9: "Unknown error",
  10: "Connection failed",
  11: "Out of memory",
  12: "Parsing message data failed",
  13: "System error",
};

/** Returns the libubus text for a status code. */
export function statusText(code: number): string {
  return STATUS_TEXT[code] ?? `Unknown status ${code}`;
}

/** A failed ubus request: its status code and, when known, a detail message. */
export class UbusError extends Error {
  /** The ubus status code (`Status.*`). */
  readonly status: number;
  /** The detail message alone, when one was given. */
  readonly detail?: string;
  /** Creates an error for `status`; `detail` (if any) is appended to the message. */
  constructor(status: number, detail?: string) {
    super(detail ? `${statusText(status)}: ${detail}` : statusText(status));
    this.name = "UbusError";
    this.status = status;
    this.detail = detail;
  }
}

/** Header size in bytes. */
export const HEADER_LEN = 8;

/** The attributes a message may carry, decoded by their known types. */
export interface UbusAttrs {
  /** UBUS_ATTR_STATUS (u32). */
  status?: number;
  /** UBUS_ATTR_OBJPATH (string). */
  objpath?: string;
  /** UBUS_ATTR_OBJID (u32). */
  objid?: number;
  /** UBUS_ATTR_METHOD (string). */
  method?: string;
  /** UBUS_ATTR_OBJTYPE (u32). */
  objtype?: number;
  /** UBUS_ATTR_SIGNATURE: method name → { argument name → blobmsg type }. */
  signature?: JsonObject;
  /** UBUS_ATTR_DATA: the request or reply object. */
  data?: JsonObject;
  /** UBUS_ATTR_TARGET (u32). */
  target?: number;
  /** UBUS_ATTR_ACTIVE (u8). */
  active?: boolean;
  /** UBUS_ATTR_NO_REPLY (u8). */
  noReply?: boolean;
  /** UBUS_ATTR_SUBSCRIBERS: subscriber object ids. */
  subscribers?: number[];
  /** UBUS_ATTR_USER (string). */
  user?: string;
  /** UBUS_ATTR_GROUP (string). */
  group?: string;
}

/** One ubus message. */
export interface UbusMessage {
  /** `MsgType.*`. */
  type: number;
  /** Request sequence number (u16). */
  seq: number;
  /** Peer: object or client id (u32). */
  peer: number;
  /** Decoded attributes. */
  attrs: UbusAttrs;
}

/** Values accepted for DATA/SIGNATURE when encoding. */
export type UbusOutAttrs = Omit<UbusAttrs, "data" | "signature"> & {
  /** Request or reply object; may contain typed values. */
  data?: { [key: string]: BlobmsgInput };
  /** Method signature table. */
  signature?: { [key: string]: BlobmsgInput };
};

/** An outgoing message. */
export interface UbusOutMessage {
  /** `MsgType.*`. */
  type: number;
  /** Sequence number. */
  seq: number;
  /** Peer id. */
  peer: number;
  /** Attributes to send (in ubus attribute-id order). */
  attrs: UbusOutAttrs;
}

function writeAttrs(w: BlobWriter, a: UbusOutAttrs): void {
  const u32 = (id: number, n: number) => {
    const at = w.open(id);
    w.u32(n);
    w.close(at);
  };
  const str = (id: number, v: string) => {
    const at = w.open(id);
    w.cString(v);
    w.close(at);
  };
  const u8 = (id: number, v: boolean) => {
    const at = w.open(id);
    w.u8(v ? 1 : 0);
    w.close(at);
  };
  if (a.status !== undefined) u32(Attr.STATUS, a.status);
  if (a.objpath !== undefined) str(Attr.OBJPATH, a.objpath);
  if (a.objid !== undefined) u32(Attr.OBJID, a.objid);
  if (a.method !== undefined) str(Attr.METHOD, a.method);
  if (a.objtype !== undefined) u32(Attr.OBJTYPE, a.objtype);
  if (a.signature !== undefined) {
    const at = w.open(Attr.SIGNATURE);
    writeBlobmsgTable(w, a.signature);
    w.close(at);
  }
  if (a.data !== undefined) {
    const at = w.open(Attr.DATA);
    writeBlobmsgTable(w, a.data);
    w.close(at);
  }
  if (a.target !== undefined) u32(Attr.TARGET, a.target);
  if (a.active !== undefined) u8(Attr.ACTIVE, a.active);
  if (a.noReply !== undefined) u8(Attr.NO_REPLY, a.noReply);
  if (a.subscribers !== undefined) {
    const at = w.open(Attr.SUBSCRIBERS);
    for (const id of a.subscribers) u32(0, id);
    w.close(at);
  }
  if (a.user !== undefined) str(Attr.USER, a.user);
  if (a.group !== undefined) str(Attr.GROUP, a.group);
}

/**
 * Encodes a message as one frame: header + blob (id 0) holding the attributes.
 * Throws {@linkcode BlobError} when the blob would exceed 1 MiB.
 *
 * @example
 * ```ts
 * const frame = encodeMessage({ type: MsgType.LOOKUP, seq: 1, peer: 0, attrs: { objpath: "starfail" } });
 * ```
 */
export function encodeMessage(msg: UbusOutMessage): Uint8Array {
  const w = new BlobWriter(512);
  w.u8(0);
  w.u8(msg.type);
  w.u16(msg.seq);
  w.u32(msg.peer);
  const at = w.open(0);
  writeAttrs(w, msg.attrs);
  w.close(at);
  if (w.length - HEADER_LEN > MAX_BLOB_LEN) {
    throw new BlobError(`ubus message of ${w.length - HEADER_LEN} bytes exceeds the 1 MiB limit`);
  }
  return w.finish();
}

function readU8(data: Uint8Array, what: string): boolean {
  if (data.length !== 1) throw new BlobError(`${what} must be 1 byte, got ${data.length}`);
  return data[0] !== 0;
}

/** Decodes the attributes blob payload of a message. Throws {@linkcode BlobError}. */
export function decodeAttrs(payload: Uint8Array): UbusAttrs {
  const attrs: UbusAttrs = {};
  for (const a of decodeBlobAttrs(payload)) {
    switch (a.id) {
      case Attr.STATUS:
        attrs.status = readU32(a.data, "STATUS");
        break;
      case Attr.OBJPATH:
        attrs.objpath = readCString(a.data, "OBJPATH");
        break;
      case Attr.OBJID:
        attrs.objid = readU32(a.data, "OBJID");
        break;
      case Attr.METHOD:
        attrs.method = readCString(a.data, "METHOD");
        break;
      case Attr.OBJTYPE:
        attrs.objtype = readU32(a.data, "OBJTYPE");
        break;
      case Attr.SIGNATURE:
        attrs.signature = decodeBlobmsgTable(a.data);
        break;
      case Attr.DATA:
        attrs.data = decodeBlobmsgTable(a.data);
        break;
      case Attr.TARGET:
        attrs.target = readU32(a.data, "TARGET");
        break;
      case Attr.ACTIVE:
        attrs.active = readU8(a.data, "ACTIVE");
        break;
      case Attr.NO_REPLY:
        attrs.noReply = readU8(a.data, "NO_REPLY");
        break;
      case Attr.SUBSCRIBERS:
        attrs.subscribers = decodeBlobAttrs(a.data).map((s) => readU32(s.data, "SUBSCRIBERS id"));
        break;
      case Attr.USER:
        attrs.user = readCString(a.data, "USER");
        break;
      case Attr.GROUP:
        attrs.group = readCString(a.data, "GROUP");
        break;
      default:
        // Unknown attributes are ignored, as blob_parse does with no policy.
        break;
    }
  }
  return attrs;
}

/**
 * Decodes one complete frame (header + blob). Throws {@linkcode BlobError}
 * for a wrong version, a bad length, or malformed attributes.
 */
export function decodeMessage(frame: Uint8Array): UbusMessage {
  if (frame.length < HEADER_LEN + 4) {
    throw new BlobError(`ubus frame of ${frame.length} bytes is shorter than 12`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const version = view.getUint8(0);
  if (version !== 0) throw new BlobError(`ubus frame version ${version}, expected 0`);
  const [blob] = decodeBlobAttrs(frame.subarray(HEADER_LEN));
  if (blob === undefined || blob.id !== 0 || blob.extended) {
    throw new BlobError(`ubus frame blob must have id 0 without the EXTENDED bit`);
  }
  return {
    type: view.getUint8(1),
    seq: view.getUint16(2, false),
    peer: view.getUint32(4, false),
    attrs: decodeAttrs(blob.data),
  };
}

/**
 * A frame whose length was sound but whose attributes did not decode. The
 * reader has consumed it, so reading can go on with the next frame.
 */
export class MalformedMessageError extends BlobError {
  /** Header of the bad message. */
  readonly header: { type: number; seq: number; peer: number };
  /**
   * The message's UBUS_ATTR_OBJID when it could still be read (the bad part is
   * usually inside DATA): a reply must carry it, or ubusd cannot route it.
   */
  readonly objid?: number;
  /** Creates the error for the frame with `header`. */
  constructor(
    message: string,
    header: { type: number; seq: number; peer: number },
    objid?: number,
  ) {
    super(message);
    this.name = "MalformedMessageError";
    this.header = header;
    if (objid !== undefined) this.objid = objid;
  }
}

/**
 * Finds UBUS_ATTR_OBJID among the top-level attributes of a frame whose
 * attributes did not decode, walking only as far as the lengths are sound.
 */
export function findObjid(frame: Uint8Array): number | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const end = Math.min(frame.length, HEADER_LEN + (view.getUint32(HEADER_LEN, false) & 0xffffff));
  let off = HEADER_LEN + 4;
  while (off + 4 <= end) {
    const header = view.getUint32(off, false);
    const len = header & 0xffffff;
    if (len < 4 || off + len > end) return undefined;
    if (((header >>> 24) & 0x7f) === Attr.OBJID && len === 8) return view.getUint32(off + 4, false);
    off += (len + 3) & ~3;
  }
  return undefined;
}

/**
 * Reassembles frames from a byte stream the way libubus `get_next_msg` does:
 * wait for 12 bytes (header + blob header), take the length from the low 24
 * bits, then wait for len − 4 more bytes. Frames above 1 MiB, a non-zero
 * version, or a blob length below 4 throw {@linkcode BlobError}; the caller
 * then drops the connection.
 */
export class FrameReader {
  #buf: Uint8Array = new Uint8Array(0);

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#buf.length === 0) {
      this.#buf = chunk.slice();
    } else {
      this.#buf = concatBytes([this.#buf, chunk]);
    }
  }

  /** Number of bytes waiting. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Returns the next complete message, or `null` when more bytes are needed. */
  next(): UbusMessage | null {
    if (this.#buf.length < HEADER_LEN + 4) return null;
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
    if (view.getUint8(0) !== 0) {
      throw new BlobError(`ubus frame version ${view.getUint8(0)}, expected 0`);
    }
    const len = view.getUint32(HEADER_LEN, false) & 0x00ffffff;
    if (len < 4) throw new BlobError(`ubus frame blob length ${len} is below 4`);
    const padded = pad4(len);
    if (padded > MAX_BLOB_LEN) {
      throw new BlobError(`ubus frame of ${padded} bytes exceeds the 1 MiB limit`);
    }
    // libubus reads len - 4 more bytes after the blob header; a container's
    // length is always a multiple of four, so no padding follows.
    const total = HEADER_LEN + len;
    if (this.#buf.length < total) return null;
    const frame = this.#buf.subarray(0, total);
    this.#buf = this.#buf.subarray(total);
    try {
      return decodeMessage(frame);
    } catch (err) {
      // The frame boundary is sound, so the stream stays in sync: report
      // which message was bad and let the caller decide.
      const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      throw new MalformedMessageError(
        err instanceof Error ? err.message : String(err),
        { type: view.getUint8(1), seq: view.getUint16(2, false), peer: view.getUint32(4, false) },
        findObjid(frame),
      );
    }
  }
}
