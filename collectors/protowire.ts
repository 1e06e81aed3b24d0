/**
 * A small protobuf (proto3) wire codec driven by a schema table: decodes bytes
 * into plain objects with the schema's snake_case field names and encodes plain
 * objects back. It exists so the daemon reads the dish without protobufjs: any
 * CommonJS npm package costs the daemon ~10 MiB of RSS under Deno (measured in
 * `docs/starlink.md`), and starfail needs only a few dozen fields of one API.
 * protobufjs stays as the test oracle (`collectors/protowire_test.ts`).
 *
 * Decoding follows the protobuf rules a reader must: unknown fields are
 * skipped (groups included), a known field arriving with an unexpected wire
 * type is skipped as unknown, packed and unpacked repeated scalars are both
 * read, a message field seen twice is merged, the last scalar wins, and an
 * enum value this build does not know stays its number. Absent fields read as
 * their proto3 defaults (0, false, "", 0n, empty bytes, []) except message and
 * oneof fields, which stay absent. 64-bit integers decode as `bigint`.
 *
 * @module
 */

/** Scalar field types the codec knows. */
export type ScalarType =
  | "double"
  | "float"
  | "int32"
  | "uint32"
  | "sint32"
  | "int64"
  | "uint64"
  | "bool"
  | "string"
  | "bytes";

/**
 * A schema: message field tables written like .proto field lines, keyed by
 * field number (`1001: "repeated float pop_ping_drop_rate"`,
 * `1004: "oneof request GetStatusRequest get_status"`), and enums as
 * number → name tables. A type that is neither a scalar nor an enum is a
 * message of the schema.
 */
export interface ProtoSchemaSource {
  /** Message name → field number → field line. */
  messages: Readonly<Record<string, Readonly<Record<number, string>>>>;
  /** Enum name → value → name. */
  enums: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

/** One field of a compiled schema. */
export interface FieldInfo {
  /** Field number. */
  readonly no: number;
  /** snake_case name, as in the .proto source. */
  readonly name: string;
  /** Scalar type, or "enum"/"message". */
  readonly kind: ScalarType | "enum" | "message";
  /** The enum's or message's name for kind "enum"/"message". */
  readonly ref: string;
  /** A repeated field. */
  readonly repeated: boolean;
  /** The oneof this field belongs to, if any. */
  readonly oneof: string | undefined;
}

/** A compiled message: its fields by number and in declaration order. */
export interface MessageInfo {
  /** The message name. */
  readonly name: string;
  /** Fields in field-number order. */
  readonly fields: readonly FieldInfo[];
  /** Fields by number. */
  readonly byNo: ReadonlyMap<number, FieldInfo>;
}

/** A compiled schema ready for {@linkcode decodeMessage} and {@linkcode encodeMessage}. */
export interface ProtoSchema {
  /** Messages by name. */
  readonly messages: ReadonlyMap<string, MessageInfo>;
  /** Enum tables (value → name) by name. */
  readonly enums: ReadonlyMap<string, Readonly<Record<number, string>>>;
}

/** A decoded message: snake_case field names to values. */
export type DecodedMessage = Record<string, unknown>;

const SCALARS: ReadonlySet<string> = new Set([
  "double",
  "float",
  "int32",
  "uint32",
  "sint32",
  "int64",
  "uint64",
  "bool",
  "string",
  "bytes",
]);

/** The wire type each scalar (and enum) travels with. */
function wireTypeOf(kind: FieldInfo["kind"]): number {
  switch (kind) {
    case "double":
      return 1;
    case "float":
      return 5;
    case "string":
    case "bytes":
    case "message":
      return 2;
    default:
      return 0;
  }
}

/**
 * Compiles a schema source; throws on a field line that does not parse or a
 * type that is neither a scalar, an enum nor a message of the schema.
 */
export function compileSchema(source: ProtoSchemaSource): ProtoSchema {
  const enums = new Map(Object.entries(source.enums));
  const messages = new Map<string, MessageInfo>();
  for (const [name, table] of Object.entries(source.messages)) {
    const fields: FieldInfo[] = [];
    for (const [noText, line] of Object.entries(table)) {
      const words = line.trim().split(/\s+/);
      let repeated = false;
      let oneof: string | undefined;
      if (words[0] === "repeated") {
        repeated = true;
        words.shift();
      } else if (words[0] === "oneof") {
        oneof = words[1];
        words.splice(0, 2);
      }
      if (words.length !== 2) throw new Error(`schema ${name}.${noText}: cannot read '${line}'`);
      const [type, fieldName] = words;
      const kind: FieldInfo["kind"] = SCALARS.has(type)
        ? type as ScalarType
        : enums.has(type)
        ? "enum"
        : source.messages[type] !== undefined
        ? "message"
        : (() => {
          throw new Error(`schema ${name}.${fieldName}: unknown type '${type}'`);
        })();
      fields.push({ no: Number(noText), name: fieldName, kind, ref: type, repeated, oneof });
    }
    fields.sort((a, b) => a.no - b.no);
    messages.set(name, { name, fields, byNo: new Map(fields.map((f) => [f.no, f])) });
  }
  return { messages, enums };
}

/** The compiled message `name`; throws when the schema has no such message. */
export function messageOf(schema: ProtoSchema, name: string): MessageInfo {
  const info = schema.messages.get(name);
  if (info === undefined) throw new Error(`no message '${name}' in the schema`);
  return info;
}

/** Reads the protobuf wire format from a byte array. */
export class WireReader {
  /** The bytes read. */
  readonly bytes: Uint8Array;
  /** The next byte to read. */
  pos: number;
  /** One past the last byte this reader may read. */
  readonly end: number;
  #view: DataView | undefined;

  /** A reader over `bytes[start, end)`. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  /** Whether every byte was read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) {
      throw new RangeError(`index out of range: ${this.pos} + ${n} > ${this.end}`);
    }
  }

  /** A varint's low and high 32 bits (unsigned). */
  varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      this.#need(1);
      const b = this.bytes[this.pos++];
      if (shift < 28) {
        lo |= (b & 0x7f) << shift;
      } else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else {
        hi |= (b & 0x7f) << (shift - 32);
      }
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
      shift += 7;
    }
    throw new RangeError(`invalid varint encoding at ${this.pos}`);
  }

  /** A varint's low 32 bits, unsigned. */
  uint32(): number {
    return this.varint64()[0];
  }

  /** A length prefix, checked against the bytes left. */
  length(): number {
    const [lo, hi] = this.varint64();
    if (hi !== 0 || lo > this.end - this.pos) {
      throw new RangeError(`index out of range: length ${lo} at ${this.pos} > ${this.end}`);
    }
    return lo;
  }

  #dataView(): DataView {
    this.#view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.#view;
  }

  /** A little-endian float32. */
  float(): number {
    this.#need(4);
    const v = this.#dataView().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A little-endian float64. */
  double(): number {
    this.#need(8);
    const v = this.#dataView().getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Skips one value of `wireType` (a group up to its end tag). */
  skip(wireType: number, fieldNo = 0): void {
    switch (wireType) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.#need(8);
        this.pos += 8;
        return;
      case 2: {
        const n = this.length();
        this.pos += n;
        return;
      }
      case 3:
        for (;;) {
          const tag = this.uint32();
          const wt = tag & 7;
          if (wt === 4) {
            if (tag >>> 3 !== fieldNo) throw new Error(`invalid end group tag at ${this.pos}`);
            return;
          }
          this.skip(wt, tag >>> 3);
        }
      case 5:
        this.#need(4);
        this.pos += 4;
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

const utf8 = new TextDecoder();

function bigintOf(lo: number, hi: number, signed: boolean): bigint {
  const u = (BigInt(hi) << 32n) | BigInt(lo);
  return signed ? BigInt.asIntN(64, u) : u;
}

/** One scalar or enum value of `field`'s type from the reader. */
function readValue(r: WireReader, field: FieldInfo): unknown {
  switch (field.kind) {
    case "double":
      return r.double();
    case "float":
      return r.float();
    case "bool": {
      const [lo, hi] = r.varint64();
      return lo !== 0 || hi !== 0;
    }
    case "int32":
    case "enum":
      return r.varint64()[0] | 0;
    case "uint32":
      return r.varint64()[0];
    case "sint32": {
      const n = r.varint64()[0];
      return (n >>> 1) ^ -(n & 1);
    }
    case "int64": {
      const [lo, hi] = r.varint64();
      return bigintOf(lo, hi, true);
    }
    case "uint64": {
      const [lo, hi] = r.varint64();
      return bigintOf(lo, hi, false);
    }
    case "string": {
      const n = r.length();
      const s = utf8.decode(r.bytes.subarray(r.pos, r.pos + n));
      r.pos += n;
      return s;
    }
    case "bytes": {
      const n = r.length();
      const b = r.bytes.slice(r.pos, r.pos + n);
      r.pos += n;
      return b;
    }
    default:
      throw new Error(`readValue: ${field.kind}`);
  }
}

/** The proto3 default of a non-message field. */
function defaultOf(field: FieldInfo): unknown {
  if (field.repeated) return [];
  switch (field.kind) {
    case "bool":
      return false;
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    case "int64":
    case "uint64":
      return 0n;
    default:
      return 0;
  }
}

function fillDefaults(info: MessageInfo, out: DecodedMessage): void {
  for (const field of info.fields) {
    if (field.oneof !== undefined || out[field.name] !== undefined) continue;
    if (field.kind === "message" && !field.repeated) continue;
    out[field.name] = defaultOf(field);
  }
}

const MAX_DEPTH = 32;

function decodeInto(
  schema: ProtoSchema,
  info: MessageInfo,
  r: WireReader,
  out: DecodedMessage,
  depth: number,
): void {
  if (depth > MAX_DEPTH) throw new Error(`messages nested deeper than ${MAX_DEPTH}`);
  while (!r.done) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) throw new Error(`invalid field number 0 at offset ${r.pos}`);
    const field = info.byNo.get(no);
    if (field === undefined) {
      r.skip(wt, no);
      continue;
    }
    if (field.kind === "message") {
      if (wt !== 2) {
        r.skip(wt, no);
        continue;
      }
      const n = r.length();
      const sub = new WireReader(r.bytes, r.pos, r.pos + n);
      r.pos += n;
      const target = messageOf(schema, field.ref);
      if (field.repeated) {
        const item: DecodedMessage = {};
        decodeInto(schema, target, sub, item, depth + 1);
        fillDefaults(target, item);
        ((out[field.name] ??= []) as unknown[]).push(item);
      } else {
        const existing = out[field.name] as DecodedMessage | undefined;
        const item: DecodedMessage = existing ?? {};
        decodeInto(schema, target, sub, item, depth + 1);
        fillDefaults(target, item);
        if (field.oneof !== undefined) clearOneof(info, field, out);
        out[field.name] = item;
      }
      continue;
    }
    const expected = wireTypeOf(field.kind);
    if (field.repeated && wt === 2 && expected !== 2) {
      // Packed repeated scalars.
      const n = r.length();
      const sub = new WireReader(r.bytes, r.pos, r.pos + n);
      r.pos += n;
      const list = (out[field.name] ??= []) as unknown[];
      while (!sub.done) list.push(readValue(sub, field));
      continue;
    }
    if (wt !== expected) {
      r.skip(wt, no);
      continue;
    }
    const value = readValue(r, field);
    if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(value);
    } else {
      if (field.oneof !== undefined) clearOneof(info, field, out);
      out[field.name] = value;
    }
  }
}

function clearOneof(info: MessageInfo, field: FieldInfo, out: DecodedMessage): void {
  for (const other of info.fields) {
    if (other.oneof === field.oneof && other !== field) delete out[other.name];
  }
}

/**
 * Decodes `bytes` as message `name` of `schema`. Throws an Error with a
 * one-line message on malformed input (truncated values, bad lengths, invalid
 * wire types); never on unknown fields or enum values.
 *
 * @example
 * ```ts
 * const schema = compileSchema({ messages: { Ping: { 1: "int32 n" } }, enums: {} });
 * decodeMessage(schema, "Ping", new Uint8Array([0x08, 0x2a])); // { n: 42 }
 * ```
 */
export function decodeMessage(
  schema: ProtoSchema,
  name: string,
  bytes: Uint8Array,
): DecodedMessage {
  const info = messageOf(schema, name);
  const out: DecodedMessage = {};
  decodeInto(schema, info, new WireReader(bytes), out, 0);
  fillDefaults(info, out);
  return out;
}

/** Builds protobuf bytes. */
class WireWriter {
  #buf = new Uint8Array(64);
  #len = 0;

  #grow(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    this.#grow(10);
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
  }

  uint32(value: number): void {
    let v = value >>> 0;
    this.#grow(5);
    while (v >= 0x80) {
      this.#buf[this.#len++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#buf[this.#len++] = v;
  }

  tag(no: number, wireType: number): void {
    this.uint32((no << 3 | wireType) >>> 0);
  }

  bytes(b: Uint8Array): void {
    this.uint32(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.#grow(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  fixed(size: 4 | 8, value: number): void {
    this.#grow(size);
    const view = new DataView(this.#buf.buffer, this.#len, size);
    if (size === 4) view.setFloat32(0, value, true);
    else view.setFloat64(0, value, true);
    this.#len += size;
  }

  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#len);
  }
}

function asBigint(value: unknown, field: FieldInfo): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  throw new Error(`field ${field.name}: ${String(value)} is not a 64-bit integer`);
}

function enumNumber(schema: ProtoSchema, field: FieldInfo, value: unknown): number {
  if (typeof value === "number") return value;
  const table = schema.enums.get(field.ref) ?? {};
  for (const [n, name] of Object.entries(table)) if (name === value) return Number(n);
  throw new Error(`field ${field.name}: '${String(value)}' is not a value of ${field.ref}`);
}

function writeValue(schema: ProtoSchema, w: WireWriter, field: FieldInfo, value: unknown): void {
  switch (field.kind) {
    case "double":
      return w.fixed(8, Number(value));
    case "float":
      return w.fixed(4, Number(value));
    case "bool":
      return w.uint32(value ? 1 : 0);
    case "int32":
      return w.varint(BigInt(Number(value) | 0));
    case "uint32":
      return w.uint32(Number(value));
    case "sint32": {
      const n = Number(value) | 0;
      return w.uint32((n << 1) ^ (n >> 31));
    }
    case "enum":
      return w.varint(BigInt(enumNumber(schema, field, value) | 0));
    case "int64":
    case "uint64":
      return w.varint(asBigint(value, field));
    case "string":
      return w.bytes(new TextEncoder().encode(String(value)));
    case "bytes":
      return w.bytes(value as Uint8Array);
    default:
      throw new Error(`writeValue: ${field.kind}`);
  }
}

/**
 * Whether a present, non-message value is its field's proto3 default (0,
 * false, "", empty bytes, 0n; -0 is not), i.e. what proto3 neither writes nor
 * prints.
 */
export function isDefaultValue(field: FieldInfo, value: unknown): boolean {
  switch (field.kind) {
    case "bool":
      return value === false;
    case "string":
      return value === "";
    case "bytes":
      return (value as Uint8Array).length === 0;
    case "int64":
    case "uint64":
      return asBigint(value, field) === 0n;
    default:
      return Number(value) === 0 && !Object.is(Number(value), -0);
  }
}

function encodeInto(schema: ProtoSchema, info: MessageInfo, value: DecodedMessage, w: WireWriter) {
  for (const key of Object.keys(value)) {
    if (!info.fields.some((f) => f.name === key)) {
      throw new Error(`${info.name} has no field '${key}'`);
    }
  }
  for (const field of info.fields) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    if (field.kind === "message") {
      const target = messageOf(schema, field.ref);
      for (const item of field.repeated ? v as DecodedMessage[] : [v as DecodedMessage]) {
        const sub = new WireWriter();
        encodeInto(schema, target, item, sub);
        w.tag(field.no, 2);
        w.bytes(sub.finish());
      }
      continue;
    }
    if (field.repeated) {
      const list = v as unknown[];
      if (list.length === 0) continue;
      if (wireTypeOf(field.kind) === 2) {
        for (const item of list) {
          w.tag(field.no, 2);
          writeValue(schema, w, field, item);
        }
      } else {
        const sub = new WireWriter();
        for (const item of list) writeValue(schema, sub, field, item);
        w.tag(field.no, 2);
        w.bytes(sub.finish());
      }
      continue;
    }
    // proto3: default scalars are not written, except a set oneof member.
    if (field.oneof === undefined && field.kind !== "enum" && isDefaultValue(field, v)) continue;
    if (field.oneof === undefined && field.kind === "enum" && enumNumber(schema, field, v) === 0) {
      continue;
    }
    w.tag(field.no, wireTypeOf(field.kind));
    writeValue(schema, w, field, v);
  }
}

/**
 * Encodes a plain object (snake_case field names) as message `name`. Enum
 * fields take names or numbers, 64-bit fields bigints, numbers or decimal
 * strings; proto3 defaults are not written (a set oneof member is). A key
 * that is not a field of the message throws.
 *
 * @example
 * ```ts
 * const schema = compileSchema({ messages: { Ping: { 1: "int32 n" } }, enums: {} });
 * encodeMessage(schema, "Ping", { n: 42 }); // Uint8Array [0x08, 0x2a]
 * ```
 */
export function encodeMessage(
  schema: ProtoSchema,
  name: string,
  value: DecodedMessage,
): Uint8Array<ArrayBuffer> {
  const w = new WireWriter();
  encodeInto(schema, messageOf(schema, name), value, w);
  return w.finish();
}
