/**
 * Raw ubus frames for tests: blobmsg fields with lying headers, INVOKE frames
 * built by hand, and a client that speaks to ubusd byte by byte.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodeBlobAttr } from "../../ubus/blob.ts";
import { Attr, decodeMessage, MsgType } from "../../ubus/protocol.ts";

const enc = new TextEncoder();

function cstr(text: string): Uint8Array {
  return enc.encode(text + "\0");
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A blobmsg field with a raw header: type, name, payload, and an optional lie about lengths. */
export function field(
  type: number,
  name: string,
  payload: Uint8Array,
  lie: { len?: number; namelen?: number } = {},
): Uint8Array {
  const nameBytes = enc.encode(name);
  const hdrLen = (2 + nameBytes.length + 1 + 3) & ~3;
  const hdr = new Uint8Array(hdrLen);
  new DataView(hdr.buffer).setUint16(0, lie.namelen ?? nameBytes.length, false);
  hdr.set(nameBytes, 2);
  const attr = encodeBlobAttr(type, concat([hdr, payload]), { extended: true });
  if (lie.len !== undefined) {
    const view = new DataView(attr.buffer);
    view.setUint32(0, (view.getUint32(0, false) & 0xff000000) | lie.len, false);
  }
  return attr;
}

export const TABLE = 2;
export const STRING = 3;
export const INT32 = 5;

export function nested(depth: number): Uint8Array {
  let inner = field(INT32, "x", new Uint8Array(4));
  for (let i = 0; i < depth; i++) inner = field(TABLE, "t", inner);
  return inner;
}

/** The DATA payloads: each is malformed in one way. */
export const BAD_DATA: Record<string, Uint8Array> = {
  "unterminated string": field(STRING, "s", enc.encode("abcd")),
  "nesting 70 deep": nested(70),
  "field length past the table": field(INT32, "n", new Uint8Array(4), { len: 200 }),
  "field length below the header": field(INT32, "n", new Uint8Array(4), { len: 2 }),
  "name length past the field": field(INT32, "n", new Uint8Array(4), { namelen: 300 }),
  "unknown blobmsg type 42": field(42, "u", new Uint8Array(4)),
  "int32 with 2 bytes": field(INT32, "n", new Uint8Array(2)),
  "string with 100 KB and no NUL": field(STRING, "s", new Uint8Array(100_000).fill(65)),
};

export function invokeFrame(seq: number, objid: number, data: Uint8Array): Uint8Array {
  const attrs = concat([
    encodeBlobAttr(Attr.OBJID, new Uint8Array([objid >>> 24, objid >>> 16, objid >>> 8, objid])),
    encodeBlobAttr(Attr.METHOD, cstr("status")),
    encodeBlobAttr(Attr.DATA, data),
  ]);
  const blob = encodeBlobAttr(0, attrs);
  const frame = new Uint8Array(8 + blob.length);
  const view = new DataView(frame.buffer);
  view.setUint8(1, MsgType.INVOKE);
  view.setUint16(2, seq, false);
  view.setUint32(4, objid, false);
  frame.set(blob, 8);
  return frame;
}

/** A raw client: HELLO read, then frames written and STATUS replies awaited by seq. */
export class RawClient {
  #conn: Deno.UnixConn;
  #buf: Uint8Array = new Uint8Array(0);
  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }
  static async connect(path: string): Promise<RawClient> {
    const c = new RawClient(await Deno.connect({ transport: "unix", path }));
    const hello = await c.next(2000);
    assert.equal(hello?.type, MsgType.HELLO);
    return c;
  }
  async send(frame: Uint8Array): Promise<void> {
    let off = 0;
    while (off < frame.length) off += await this.#conn.write(frame.subarray(off));
  }
  /** The next whole frame, or null at the deadline. */
  async next(ms: number): Promise<ReturnType<typeof decodeMessage> | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.#buf.length >= 12) {
        const len = new DataView(this.#buf.buffer, this.#buf.byteOffset).getUint32(8) & 0xffffff;
        if (this.#buf.length >= 8 + len) {
          const frame = this.#buf.slice(0, 8 + len);
          this.#buf = this.#buf.slice(8 + len);
          return decodeMessage(frame);
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const chunk = new Uint8Array(65536);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#conn.read(chunk),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (n === "timeout") return null;
      if (n === null) throw new Error("ubusd closed the connection");
      this.#buf = concat([this.#buf, chunk.subarray(0, n)]);
    }
  }
  close(): void {
    this.#conn.close();
  }
}
