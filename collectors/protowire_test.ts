/**
 * The wire codec against protobufjs as an independent oracle: the same schema
 * built as protobufjs types, the real dish captures and random messages decoded
 * by both, and bytes from each encoder read back by the other.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import protobuf from "protobufjs";
import {
  compileSchema,
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  type FieldInfo,
  messageOf,
  type ProtoSchema,
} from "./protowire.ts";
import { STARLINK_SCHEMA, STARLINK_SCHEMA_SOURCE } from "./starlink_proto.ts";

const oracleName = (name: string) => name.replaceAll(".", "_");

/** The schema as protobufjs types (names with dots flattened). */
function oracleRoot(schema: ProtoSchema): protobuf.Root {
  const root = new protobuf.Root();
  for (const [name, values] of schema.enums) {
    const byName: Record<string, number> = {};
    for (const [n, v] of Object.entries(values)) byName[v] = Number(n);
    root.add(new protobuf.Enum(oracleName(name), byName));
  }
  for (const info of schema.messages.values()) {
    const type = new protobuf.Type(oracleName(info.name));
    const oneofs = new Map<string, string[]>();
    for (const f of info.fields) {
      const t = f.kind === "enum" || f.kind === "message" ? oracleName(f.ref) : f.kind;
      type.add(new protobuf.Field(f.name, f.no, t, f.repeated ? "repeated" : undefined));
      if (f.oneof !== undefined) oneofs.set(f.oneof, [...(oneofs.get(f.oneof) ?? []), f.name]);
    }
    for (const [name, fields] of oneofs) type.add(new protobuf.OneOf(name, fields));
    root.add(type);
  }
  root.resolveAll();
  return root;
}

const ROOT = oracleRoot(STARLINK_SCHEMA);

/** A decoded message in comparable form: 64-bit as strings, absent/null dropped. */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      out[k] = plain(v);
    }
    return out;
  }
  return value;
}

function oracleDecode(name: string, bytes: Uint8Array): unknown {
  const type = ROOT.lookupType(oracleName(name));
  return plain(
    type.toObject(type.decode(bytes), {
      longs: String,
      enums: Number,
      bytes: Array,
      defaults: true,
      arrays: true,
    }),
  );
}

const REF = new URL("./testdata/starlink/bin/", import.meta.url);

Deno.test("the real dish captures decode exactly as protobufjs decodes them", () => {
  const bins = [...Deno.readDirSync(REF)].map((e) => e.name).sort();
  assert.ok(bins.length >= 4);
  for (const bin of bins) {
    const bytes = Deno.readFileSync(new URL(bin, REF));
    assert.deepEqual(
      plain(decodeMessage(STARLINK_SCHEMA, "Response", bytes)),
      oracleDecode("Response", bytes),
      bin,
    );
  }
});

/** Random values for one field (no nesting beyond `depth`). */
function fieldArb(field: FieldInfo, depth: number): fc.Arbitrary<unknown> {
  const one = (): fc.Arbitrary<unknown> => {
    switch (field.kind) {
      case "double":
        return fc.double();
      case "float":
        return fc.float();
      case "int32":
        return fc.integer();
      case "uint32":
        return fc.nat({ max: 0xffffffff });
      case "sint32":
        return fc.integer();
      case "int64":
        return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
      case "uint64":
        return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
      case "bool":
        return fc.boolean();
      case "string":
        return fc.string({ maxLength: 12, unit: "grapheme" });
      case "bytes":
        return fc.uint8Array({ maxLength: 8 });
      case "enum":
        // Known values and one newer firmware might send.
        return fc.constantFrom(
          ...Object.keys(STARLINK_SCHEMA.enums.get(field.ref)!).map(Number),
          77,
        );
      case "message":
        return messageArb(field.ref, depth + 1);
    }
  };
  return field.repeated ? fc.array(one(), { maxLength: 3 }) : one();
}

function messageArb(name: string, depth: number): fc.Arbitrary<DecodedMessage> {
  const info = messageOf(STARLINK_SCHEMA, name);
  if (depth > 3) return fc.constant({});
  const fields = info.fields.filter((f) => f.oneof === undefined);
  const oneofs = info.fields.filter((f) => f.oneof !== undefined);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) record[f.name] = fieldArb(f, depth);
  const base = fc.record(record, { requiredKeys: [] });
  if (oneofs.length === 0) return base as fc.Arbitrary<DecodedMessage>;
  return fc.tuple(base, fc.option(fc.constantFrom(...oneofs), { nil: undefined })).chain((
    [b, member],
  ) =>
    member === undefined
      ? fc.constant(b as DecodedMessage)
      : fieldArb(member, depth).map((v) => ({ ...(b as DecodedMessage), [member.name]: v }))
  );
}

function toOracleObject(value: unknown): unknown {
  if (typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return value.map(toOracleObject);
  if (value instanceof Uint8Array) return value;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toOracleObject(v)]));
  }
  return value;
}

for (const name of ["Response", "Request"]) {
  Deno.test(`random ${name} messages: each encoder's bytes decode the same in both decoders`, () => {
    const type = ROOT.lookupType(oracleName(name));
    fc.assert(
      fc.property(messageArb(name, 0), (value) => {
        const ours = encodeMessage(STARLINK_SCHEMA, name, value);
        assert.deepEqual(
          plain(decodeMessage(STARLINK_SCHEMA, name, ours)),
          oracleDecode(name, ours),
        );
        const theirs = type.encode(type.fromObject(toOracleObject(value) as object)).finish();
        assert.deepEqual(
          plain(decodeMessage(STARLINK_SCHEMA, name, theirs)),
          oracleDecode(name, theirs),
        );
      }),
      { numRuns: 300, seed: 17 },
    );
  });
}

const TINY = compileSchema({
  messages: {
    Outer: {
      1: "int32 n",
      2: "Inner inner",
      3: "repeated uint32 list",
      4: "oneof pick string a",
      5: "oneof pick Inner b",
    },
    Inner: { 1: "bool on", 2: "int64 big" },
  },
  enums: {},
});

Deno.test("a message field seen twice is merged, the last scalar wins, both list forms are read", () => {
  const bytes = new Uint8Array([
    0x08,
    0x01, // n = 1
    0x12,
    0x02,
    0x08,
    0x01, // inner { on: true }
    0x12,
    0x02,
    0x10,
    0x05, // inner { big: 5 } — merged
    0x08,
    0x02, // n = 2 (last wins)
    0x1a,
    0x02,
    0x07,
    0x08, // list packed [7, 8]
    0x18,
    0x09, // list unpacked 9
  ]);
  assert.deepEqual(decodeMessage(TINY, "Outer", bytes), {
    n: 2,
    inner: { on: true, big: 5n },
    list: [7, 8, 9],
  });
});

Deno.test("a oneof keeps only its last member; unknown fields, groups and wrong wire types are skipped", () => {
  const bytes = new Uint8Array([
    0x22,
    0x01,
    0x78, // a = "x"
    0x2a,
    0x00, // b = {} replaces a
    0x30,
    0x05, // field 6 (unknown) varint
    0x3b,
    0x08,
    0x01,
    0x3c, // field 7 group with a varint inside, end group
    0x0d,
    0x00,
    0x00,
    0x00,
    0x00, // field 1 (int32) sent as fixed32: skipped
  ]);
  assert.deepEqual(decodeMessage(TINY, "Outer", bytes), {
    n: 0,
    list: [],
    b: { on: false, big: 0n },
  });
});

Deno.test("malformed bytes throw one-line errors", () => {
  for (
    const [bytes, pattern] of [
      [[0x08], /index out of range/],
      [[0x12, 0x05, 0x08], /index out of range/],
      [[0x0f], /invalid wire type 7/],
      [[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /invalid varint/],
      [[0x00], /field number 0/],
    ] as const
  ) {
    assert.throws(
      () => decodeMessage(TINY, "Outer", new Uint8Array(bytes)),
      (err: Error) => pattern.test(err.message) && !err.message.includes("\n"),
    );
  }
});

Deno.test("encoding rejects a key the message does not have and an enum name it does not know", () => {
  assert.throws(() => encodeMessage(TINY, "Outer", { nn: 1 }), /Outer has no field 'nn'/);
  assert.throws(
    () =>
      encodeMessage(STARLINK_SCHEMA, "DishOutage", {
        cause: "NOT_A_CAUSE",
      }),
    /'NOT_A_CAUSE' is not a value of DishOutage.Cause/,
  );
  assert.deepEqual(
    [...encodeMessage(STARLINK_SCHEMA, "DishOutage", { cause: "BOOTING" })],
    [0x08, 0x01],
  );
});

Deno.test("the schema source compiles and names only known types", () => {
  assert.throws(
    () => compileSchema({ messages: { A: { 1: "Nope x" } }, enums: {} }),
    /A.x: unknown type 'Nope'/,
  );
  assert.ok(messageOf(STARLINK_SCHEMA, "DishGetStatusResponse").fields.length >= 30);
  assert.equal(
    Object.keys(STARLINK_SCHEMA_SOURCE.messages).length,
    STARLINK_SCHEMA.messages.size,
  );
});
