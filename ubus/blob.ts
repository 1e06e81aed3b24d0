/**
 * The libubox `blob` and `blobmsg` binary formats, byte for byte.
 *
 * A blob attribute is a big-endian u32 header (bit 31 = extended, bits 30–24 =
 * id, bits 23–0 = length including the header but not the padding) followed by
 * the payload and zero padding to the next multiple of four. blobmsg adds a
 * name header (u16 length, the name, a NUL, zero padding) and uses the id as
 * its type. All numbers are big-endian; doubles are IEEE-754 big-endian.
 *
 * @module
 */

/** blobmsg type numbers (blobmsg.h). `BOOL` is `INT8`. */
export const BlobmsgType = {
  UNSPEC: 0,
  ARRAY: 1,
  TABLE: 2,
  STRING: 3,
  INT64: 4,
  INT32: 5,
  INT16: 6,
  INT8: 7,
  BOOL: 7,
  DOUBLE: 8,
} as const;

/** Largest blob a frame may carry (UBUS_MAX_MSGLEN, padded). */
export const MAX_BLOB_LEN = 1_048_576;

const EXTENDED_BIT = 0x80000000;
const ID_MASK = 0x7f000000;
const ID_SHIFT = 24;
const LEN_MASK = 0x00ffffff;

/** A malformed or oversized blob; decoding throws it instead of crashing. */
export class BlobError extends Error {
  /** Creates a decoding error with a sentence saying what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "BlobError";
  }
}

/** Rounds `n` up to a multiple of four. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** One raw blob attribute as found in a buffer. */
export interface BlobAttr {
  /** Attribute id (7 bits). */
  id: number;
  /** Whether the EXTENDED bit (blobmsg name header) is set. */
  extended: boolean;
  /** Payload without the 4-byte header and without padding. */
  data: Uint8Array;
}

/**
 * Builds one raw blob attribute: header, payload and zero padding.
 *
 * @example
 * ```ts
 * const attr = encodeBlobAttr(2, new TextEncoder().encode("test.obj\0"));
 * // 02 00 00 0d 74 65 73 74 2e 6f 62 6a 00 00 00 00
 * ```
 */
export function encodeBlobAttr(
  id: number,
  payload: Uint8Array,
  opts: { extended?: boolean } = {},
): Uint8Array {
  const len = 4 + payload.length;
  if (len > LEN_MASK) throw new BlobError(`blob attribute of ${len} bytes exceeds 24-bit length`);
  const out = new Uint8Array(pad4(len));
  const view = new DataView(out.buffer);
  const header = ((opts.extended ? EXTENDED_BIT : 0) | ((id << ID_SHIFT) & ID_MASK) | len) >>> 0;
  view.setUint32(0, header, false);
  out.set(payload, 4);
  return out;
}

/**
 * Splits a buffer holding consecutive blob attributes. Throws
 * {@linkcode BlobError} when a length runs past the buffer or is below 4.
 */
export function decodeBlobAttrs(buf: Uint8Array): BlobAttr[] {
  const attrs: BlobAttr[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 4) {
      throw new BlobError(`truncated blob header: ${buf.length - off} bytes left at offset ${off}`);
    }
    const header = view.getUint32(off, false);
    const len = header & LEN_MASK;
    if (len < 4) throw new BlobError(`blob attribute length ${len} is below 4 at offset ${off}`);
    if (off + len > buf.length) {
      throw new BlobError(
        `blob attribute length ${len} at offset ${off} runs past the ${buf.length}-byte buffer`,
      );
    }
    attrs.push({
      id: (header & ID_MASK) >>> ID_SHIFT,
      extended: (header & EXTENDED_BIT) !== 0,
      data: buf.subarray(off + 4, off + len),
    });
    off += pad4(len);
  }
  return attrs;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/** Encodes a C string (UTF-8 plus the terminating NUL). */
export function cString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Decodes a NUL-terminated string payload; throws when the NUL is missing. */
export function readCString(data: Uint8Array, what = "string"): string {
  if (data.length === 0 || data[data.length - 1] !== 0) {
    throw new BlobError(`${what} is not NUL-terminated`);
  }
  return decoder.decode(data.subarray(0, data.length - 1));
}

/** Reads a big-endian u32 payload; throws unless it is exactly 4 bytes. */
export function readU32(data: Uint8Array, what = "u32"): number {
  if (data.length !== 4) throw new BlobError(`${what} must be 4 bytes, got ${data.length}`);
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0, false);
}

/**
 * An append-only buffer that builds nested blob attributes in one pass, like
 * libubox's `blob_buf`: open an attribute, write its payload (or children),
 * close it to patch the length and pad to four bytes.
 */
export class BlobWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  /** Creates a writer with `capacity` bytes reserved (it grows as needed). */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Appends raw bytes. */
  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Appends a u8. */
  u8(n: number): void {
    this.#ensure(1);
    this.#view.setUint8(this.#pos, n & 0xff);
    this.#pos += 1;
  }

  /** Appends a big-endian u16. */
  u16(n: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#pos, n & 0xffff, false);
    this.#pos += 2;
  }

  /** Appends a big-endian u32. */
  u32(n: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.#pos, n >>> 0, false);
    this.#pos += 4;
  }

  /** Appends a big-endian i16. */
  i16(n: number): void {
    this.#ensure(2);
    this.#view.setInt16(this.#pos, n, false);
    this.#pos += 2;
  }

  /** Appends a big-endian i32. */
  i32(n: number): void {
    this.#ensure(4);
    this.#view.setInt32(this.#pos, n, false);
    this.#pos += 4;
  }

  /** Appends a big-endian i64. */
  i64(n: bigint): void {
    this.#ensure(8);
    this.#view.setBigInt64(this.#pos, n, false);
    this.#pos += 8;
  }

  /** Appends a big-endian IEEE-754 double. */
  f64(n: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, n, false);
    this.#pos += 8;
  }

  /** Appends a UTF-8 string and its NUL. */
  cString(str: string): void {
    this.#pos += this.#utf8(str);
    this.#ensure(1);
    this.#buf[this.#pos] = 0;
    this.#pos += 1;
  }

  /** Writes `str` as UTF-8 at the current position (not advancing); returns its byte length. */
  #utf8(str: string): number {
    this.#ensure(str.length * 3);
    return encoder.encodeInto(str, this.#buf.subarray(this.#pos)).written;
  }

  /** Appends zero bytes up to the next multiple of four. */
  pad(): void {
    const target = pad4(this.#pos);
    this.#ensure(target - this.#pos);
    this.#buf.fill(0, this.#pos, target);
    this.#pos = target;
  }

  /** Opens an attribute; returns its offset for {@linkcode BlobWriter.close}. */
  open(id: number, extended = false): number {
    const at = this.#pos;
    this.#ensure(4);
    this.#view.setUint32(at, ((extended ? EXTENDED_BIT : 0) | ((id << ID_SHIFT) & ID_MASK)) >>> 0);
    this.#pos += 4;
    return at;
  }

  /** Closes the attribute opened at `at`: writes its length (without padding), then pads. */
  close(at: number): void {
    const len = this.#pos - at;
    if (len > LEN_MASK) throw new BlobError(`blob attribute of ${len} bytes exceeds 24-bit length`);
    const header = this.#view.getUint32(at, false);
    this.#view.setUint32(at, ((header & ~LEN_MASK) | len) >>> 0, false);
    this.pad();
  }

  /** Opens a blobmsg attribute: header with EXTENDED, then the padded name header. */
  openField(type: number, name: string): number {
    const at = this.open(type, true);
    const lenAt = this.#pos;
    this.u16(0);
    const n = this.#utf8(name);
    if (n > 0xffff) throw new BlobError(`blobmsg name of ${n} bytes`);
    this.#view.setUint16(lenAt, n, false);
    this.#pos += n;
    this.u8(0);
    this.pad();
    return at;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}

// ---------------------------------------------------------------------------
// blobmsg

/** The scalar blobmsg types a value can be forced to. */
export type BlobmsgScalarKind =
  | "int8"
  | "int16"
  | "int32"
  | "u32"
  | "int64"
  | "double"
  | "bool";

/**
 * A value with an explicit blobmsg type, for when the JSON mapping (integers →
 * INT32/INT64, other numbers → DOUBLE, booleans → INT8) is not the one wanted.
 *
 * @example
 * ```ts
 * encodeBlobmsgTable({ snr: new BlobmsgTyped("double", 19) });
 * ```
 */
export class BlobmsgTyped {
  /** The blobmsg type to write. */
  readonly kind: BlobmsgScalarKind;
  /** The value to write. */
  readonly value: number | bigint | boolean;
  /** Wraps `value` so it is encoded as `kind`. */
  constructor(kind: BlobmsgScalarKind, value: number | bigint | boolean) {
    this.kind = kind;
    this.value = value;
  }
}

/**
 * A ubus object id as the C side writes it into blobmsg (`blobmsg_add_u32`):
 * type INT32 holding the u32. Ids are random u32s, so about half are ≥ 2^31;
 * written as a plain number they would become INT64, which ubusd's policies
 * (event `register`'s `object`, …) refuse. Read one back with {@linkcode asU32}.
 *
 * @example
 * ```ts
 * encodeBlobmsgTable({ object: blobmsgU32(0x9abcdef0), pattern: "network.interface" });
 * ```
 */
export function blobmsgU32(id: number): BlobmsgTyped {
  return new BlobmsgTyped("u32", id);
}

/**
 * Reads an object id from a decoded blobmsg INT32 (which decodes signed, as
 * libubox's JSON formatter prints it): the u32 again, or `null` when the value
 * is not a 32-bit integer.
 */
export function asU32(value: unknown): number | null {
  if (typeof value !== "number" || !Number.isInteger(value)) return null;
  if (value < -0x80000000 || value > 0xffffffff) return null;
  return value >>> 0;
}

/** Values the encoder accepts: JSON plus typed scalars and bigints. */
export type BlobmsgInput =
  | null
  | undefined
  | string
  | number
  | bigint
  | boolean
  | BlobmsgTyped
  | BlobmsgInput[]
  | { [key: string]: BlobmsgInput };

/** A decoded blobmsg value with its wire type, for exact round trips. */
export type BlobmsgNode =
  | { type: "unspec" }
  | { type: "array"; items: BlobmsgNode[] }
  | { type: "table"; entries: [string, BlobmsgNode][] }
  | { type: "string"; value: string }
  | { type: "int64"; value: bigint }
  | { type: "int32"; value: number }
  | { type: "int16"; value: number }
  | { type: "int8"; value: number }
  | { type: "double"; value: number };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function writeScalar(
  w: BlobWriter,
  name: string,
  kind: BlobmsgScalarKind,
  value: number | bigint | boolean,
): void {
  switch (kind) {
    case "bool":
    case "int8": {
      const at = w.openField(BlobmsgType.INT8, name);
      w.u8(typeof value === "boolean" ? (value ? 1 : 0) : Number(value));
      return w.close(at);
    }
    case "int16": {
      const at = w.openField(BlobmsgType.INT16, name);
      w.i16(Number(value));
      return w.close(at);
    }
    case "int32": {
      const at = w.openField(BlobmsgType.INT32, name);
      w.i32(Number(value));
      return w.close(at);
    }
    case "u32": {
      // libubox's blobmsg_add_u32: type INT32, the 32 bits unsigned (object ids ≥ 2^31 included).
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
        throw new BlobError(`blobmsg u32 '${name}' out of range: ${n}`);
      }
      const at = w.openField(BlobmsgType.INT32, name);
      w.u32(n);
      return w.close(at);
    }
    case "int64": {
      const at = w.openField(BlobmsgType.INT64, name);
      w.i64(typeof value === "bigint" ? value : BigInt(Math.trunc(Number(value))));
      return w.close(at);
    }
    case "double": {
      const at = w.openField(BlobmsgType.DOUBLE, name);
      w.f64(Number(value));
      return w.close(at);
    }
  }
}

/** Writes one named blobmsg attribute for a JSON-like value into `w`. */
export function writeBlobmsgField(w: BlobWriter, name: string, value: BlobmsgInput): void {
  if (value === null || value === undefined) {
    return w.close(w.openField(BlobmsgType.UNSPEC, name));
  }
  if (value instanceof BlobmsgTyped) return writeScalar(w, name, value.kind, value.value);
  if (typeof value === "string") {
    const at = w.openField(BlobmsgType.STRING, name);
    w.cString(value);
    return w.close(at);
  }
  if (typeof value === "boolean") return writeScalar(w, name, "bool", value);
  if (typeof value === "bigint") return writeScalar(w, name, "int64", value);
  if (typeof value === "number") {
    if (Number.isInteger(value)) {
      return writeScalar(
        w,
        name,
        value >= INT32_MIN && value <= INT32_MAX ? "int32" : "int64",
        value,
      );
    }
    return writeScalar(w, name, "double", value);
  }
  if (Array.isArray(value)) {
    const at = w.openField(BlobmsgType.ARRAY, name);
    for (const item of value) writeBlobmsgField(w, "", item);
    return w.close(at);
  }
  const at = w.openField(BlobmsgType.TABLE, name);
  writeBlobmsgTable(w, value);
  w.close(at);
}

/** Writes the members of an object as consecutive blobmsg attributes into `w`. */
export function writeBlobmsgTable(w: BlobWriter, obj: { [key: string]: BlobmsgInput }): void {
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const value = obj[key];
    if (value === undefined) continue;
    writeBlobmsgField(w, key, value);
  }
}

/**
 * Encodes one named blobmsg attribute (EXTENDED set, name header, value,
 * padding). Array items use the empty name.
 *
 * @example
 * ```ts
 * encodeBlobmsgField("n", 7); // 85 00 00 0c 00 01 6e 00 00 00 00 07
 * ```
 */
export function encodeBlobmsgField(name: string, value: BlobmsgInput): Uint8Array {
  const w = new BlobWriter();
  writeBlobmsgField(w, name, value);
  return w.finish();
}

/**
 * Encodes the members of an object as consecutive blobmsg attributes: the
 * payload of a TABLE, and what the ubus DATA attribute holds. Members whose
 * value is `undefined` are left out.
 */
export function encodeBlobmsgTable(obj: { [key: string]: BlobmsgInput }): Uint8Array {
  const w = new BlobWriter();
  writeBlobmsgTable(w, obj);
  return w.finish();
}

function writeNode(w: BlobWriter, name: string, node: BlobmsgNode): void {
  switch (node.type) {
    case "unspec":
      return w.close(w.openField(BlobmsgType.UNSPEC, name));
    case "array": {
      const at = w.openField(BlobmsgType.ARRAY, name);
      for (const item of node.items) writeNode(w, "", item);
      return w.close(at);
    }
    case "table": {
      const at = w.openField(BlobmsgType.TABLE, name);
      for (const [k, v] of node.entries) writeNode(w, k, v);
      return w.close(at);
    }
    case "string": {
      const at = w.openField(BlobmsgType.STRING, name);
      w.cString(node.value);
      return w.close(at);
    }
    default:
      return writeScalar(w, name, node.type, node.value);
  }
}

/** Encodes a typed node tree as one named blobmsg attribute. */
export function encodeBlobmsgNode(name: string, node: BlobmsgNode): Uint8Array {
  const w = new BlobWriter();
  writeNode(w, name, node);
  return w.finish();
}

/** One decoded blobmsg attribute: its name and typed value. */
export interface BlobmsgField {
  /** Name from the name header (empty for array items). */
  name: string;
  /** Typed value. */
  node: BlobmsgNode;
}

const MAX_DEPTH = 64;

function decodeField(attr: BlobAttr, depth: number): BlobmsgField {
  if (!attr.extended) {
    throw new BlobError(`blobmsg attribute of type ${attr.id} lacks the EXTENDED bit`);
  }
  const data = attr.data;
  if (data.length < 4) throw new BlobError(`blobmsg name header is truncated`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nameLen = view.getUint16(0, false);
  const hdrLen = pad4(2 + nameLen + 1);
  if (hdrLen > data.length) {
    throw new BlobError(`blobmsg name of ${nameLen} bytes runs past its attribute`);
  }
  if (data[2 + nameLen] !== 0) throw new BlobError(`blobmsg name is not NUL-terminated`);
  const name = decoder.decode(data.subarray(2, 2 + nameLen));
  const value = data.subarray(hdrLen);
  return { name, node: decodeValue(attr.id, value, name, depth) };
}

function exactLen(value: Uint8Array, n: number, type: string, name: string): DataView {
  if (value.length !== n) {
    throw new BlobError(`blobmsg ${type} '${name}' must be ${n} bytes, got ${value.length}`);
  }
  return new DataView(value.buffer, value.byteOffset, n);
}

function decodeValue(type: number, value: Uint8Array, name: string, depth: number): BlobmsgNode {
  switch (type) {
    case BlobmsgType.UNSPEC:
      return { type: "unspec" };
    case BlobmsgType.ARRAY:
    case BlobmsgType.TABLE: {
      if (depth >= MAX_DEPTH) throw new BlobError(`blobmsg nesting deeper than ${MAX_DEPTH}`);
      const children = decodeBlobAttrs(value).map((a) => decodeField(a, depth + 1));
      if (type === BlobmsgType.ARRAY) return { type: "array", items: children.map((c) => c.node) };
      for (const c of children) {
        if (c.name === "") throw new BlobError(`blobmsg table '${name}' has an unnamed member`);
      }
      return { type: "table", entries: children.map((c) => [c.name, c.node]) };
    }
    case BlobmsgType.STRING:
      return { type: "string", value: readCString(value, `blobmsg string '${name}'`) };
    case BlobmsgType.INT64:
      return { type: "int64", value: exactLen(value, 8, "int64", name).getBigInt64(0, false) };
    case BlobmsgType.INT32:
      return { type: "int32", value: exactLen(value, 4, "int32", name).getInt32(0, false) };
    case BlobmsgType.INT16:
      return { type: "int16", value: exactLen(value, 2, "int16", name).getInt16(0, false) };
    case BlobmsgType.INT8:
      return { type: "int8", value: exactLen(value, 1, "int8", name).getUint8(0) };
    case BlobmsgType.DOUBLE:
      return { type: "double", value: exactLen(value, 8, "double", name).getFloat64(0, false) };
    default:
      throw new BlobError(`unknown blobmsg type ${type} for '${name}'`);
  }
}

/**
 * Decodes consecutive blobmsg attributes (a TABLE payload or a ubus DATA
 * attribute) into named typed nodes. Throws {@linkcode BlobError} on any
 * malformed input.
 */
export function decodeBlobmsgFields(buf: Uint8Array): BlobmsgField[] {
  return decodeBlobAttrs(buf).map((a) => decodeField(a, 0));
}

/** JSON values produced by decoding. */
export type JsonValue = null | string | number | boolean | JsonValue[] | {
  [key: string]: JsonValue;
};

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Converts a typed node to JSON the way libubox's `blobmsg_format_json` does:
 * INT8 → boolean, INT64 → number (precision beyond 2^53 is lost), UNSPEC → null.
 */
export function blobmsgNodeToJson(node: BlobmsgNode): JsonValue {
  switch (node.type) {
    case "unspec":
      return null;
    case "array":
      return node.items.map(blobmsgNodeToJson);
    case "table": {
      const out: JsonObject = {};
      for (const [k, v] of node.entries) out[k] = blobmsgNodeToJson(v);
      return out;
    }
    case "string":
      return node.value;
    case "int64":
      return Number(node.value);
    case "int8":
      return node.value !== 0;
    default:
      return node.value;
  }
}

/**
 * Decodes a TABLE payload / ubus DATA attribute into a JSON object.
 *
 * @example
 * ```ts
 * const bytes = encodeBlobmsgTable({ msg: "x", n: 7 });
 * decodeBlobmsgTable(bytes); // { msg: "x", n: 7 }
 * ```
 */
export function decodeBlobmsgTable(buf: Uint8Array): JsonObject {
  const out: JsonObject = {};
  for (const field of decodeBlobmsgFields(buf)) out[field.name] = blobmsgNodeToJson(field.node);
  return out;
}
