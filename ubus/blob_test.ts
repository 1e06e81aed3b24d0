import assert from "node:assert/strict";
import fc from "fast-check";
import {
  asU32,
  BlobError,
  type BlobmsgNode,
  BlobmsgTyped,
  blobmsgU32,
  decodeBlobAttrs,
  decodeBlobmsgFields,
  decodeBlobmsgTable,
  encodeBlobAttr,
  encodeBlobmsgField,
  encodeBlobmsgNode,
  encodeBlobmsgTable,
} from "./blob.ts";

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}
function fromHex(s: string): Uint8Array {
  return Uint8Array.from(s.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
}

Deno.test('verified vector: "msg":"x" encodes and decodes exactly', () => {
  const want = "83 00 00 0e 00 03 6d 73 67 00 00 00 78 00 00 00";
  assert.equal(hex(encodeBlobmsgField("msg", "x")), want);
  assert.deepEqual(decodeBlobmsgTable(fromHex(want)), { msg: "x" });
});

Deno.test('verified vector: "n":7 as int32 encodes and decodes exactly', () => {
  const want = "85 00 00 0c 00 01 6e 00 00 00 00 07";
  assert.equal(hex(encodeBlobmsgField("n", 7)), want);
  assert.deepEqual(decodeBlobmsgTable(fromHex(want)), { n: 7 });
});

Deno.test("verified vector: raw OBJPATH attribute", () => {
  const want = "02 00 00 0d 74 65 73 74 2e 6f 62 6a 00 00 00 00";
  assert.equal(hex(encodeBlobAttr(2, new TextEncoder().encode("test.obj\0"))), want);
  const [attr] = decodeBlobAttrs(fromHex(want));
  assert.equal(attr.id, 2);
  assert.equal(attr.extended, false);
  assert.equal(new TextDecoder().decode(attr.data), "test.obj\0");
});

Deno.test("every scalar type has the exact width and big-endian bytes", () => {
  assert.equal(
    hex(encodeBlobmsgField("", new BlobmsgTyped("int8", 1))),
    "87 00 00 09 00 00 00 00 01 00 00 00",
  );
  assert.equal(hex(encodeBlobmsgField("", true)), "87 00 00 09 00 00 00 00 01 00 00 00");
  assert.equal(
    hex(encodeBlobmsgField("", new BlobmsgTyped("int16", -2))),
    "86 00 00 0a 00 00 00 00 ff fe 00 00",
  );
  assert.equal(hex(encodeBlobmsgField("", -1)), "85 00 00 0c 00 00 00 00 ff ff ff ff");
  assert.equal(
    hex(encodeBlobmsgField("", 2n ** 40n)),
    "84 00 00 10 00 00 00 00 00 00 01 00 00 00 00 00",
  );
  // 1.5 = 0x3FF8000000000000 big-endian
  assert.equal(
    hex(encodeBlobmsgField("", 1.5)),
    "88 00 00 10 00 00 00 00 3f f8 00 00 00 00 00 00",
  );
  assert.equal(hex(encodeBlobmsgField("", null)), "80 00 00 08 00 00 00 00");
});

Deno.test("integers beyond int32 become int64; fractions become double", () => {
  const [big] = decodeBlobmsgFields(encodeBlobmsgField("a", 5_000_000_000));
  assert.deepEqual(big.node, { type: "int64", value: 5_000_000_000n });
  const [d] = decodeBlobmsgFields(encodeBlobmsgField("d", -92.5));
  assert.deepEqual(d.node, { type: "double", value: -92.5 });
});

Deno.test("nested tables and arrays round-trip with padding and array names empty", () => {
  const obj = {
    interface: "wan",
    up: true,
    uptime: 132,
    route: [{ target: "0.0.0.0", mask: 0, nexthop: "10.0.2.1" }],
    "dns-server": ["10.0.2.1"],
    empty: [],
    inactive: { route: [], nested: { deeper: { x: "y" } } },
    snr: 19.2,
    none: null,
  };
  const bytes = encodeBlobmsgTable(obj);
  assert.equal(bytes.length % 4, 0);
  assert.deepEqual(decodeBlobmsgTable(bytes), obj);
  // Array items: EXTENDED set, empty name header 00 00 00 00.
  const arr = encodeBlobmsgField("a", ["x"]);
  assert.equal(hex(arr.subarray(8, 16)), "83 00 00 0a 00 00 00 00");
});

Deno.test("container length is 4 + header + padded children", () => {
  const t = encodeBlobmsgField("t", { msg: "x" }); // child is 14 bytes, padded 16
  const header = new DataView(t.buffer).getUint32(0);
  assert.equal(header >>> 24, 0x82);
  assert.equal(header & 0xffffff, 4 + 4 + 16);
});

const nodeArb: fc.Arbitrary<BlobmsgNode> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant({ type: "unspec" } as BlobmsgNode),
    fc.string().map((value) => ({ type: "string", value }) as BlobmsgNode),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) =>
      ({ type: "int64", value }) as BlobmsgNode
    ),
    fc.integer().map((value) => ({ type: "int32", value }) as BlobmsgNode),
    fc.integer({ min: -32768, max: 32767 }).map((value) =>
      ({ type: "int16", value }) as BlobmsgNode
    ),
    fc.integer({ min: 0, max: 255 }).map((value) => ({ type: "int8", value }) as BlobmsgNode),
    fc.double({ noNaN: true }).map((value) => ({ type: "double", value }) as BlobmsgNode),
    fc.array(tie("node"), { maxLength: 4 }).map((items) =>
      ({ type: "array", items }) as BlobmsgNode
    ),
    fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), tie("node")), { maxLength: 4 })
      .map((entries) => ({ type: "table", entries }) as BlobmsgNode),
  ),
})).node;

Deno.test("property: every blobmsg type round-trips through encode/decode", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), nodeArb, (name, node) => {
      const bytes = encodeBlobmsgNode(name, node);
      const [field] = decodeBlobmsgFields(bytes);
      assert.equal(field.name, name);
      assert.deepEqual(field.node, node);
      assert.deepEqual(encodeBlobmsgNode(field.name, field.node), bytes);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: decoding arbitrary bytes either succeeds or throws BlobError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeBlobmsgFields(bytes);
      } catch (err) {
        assert.ok(err instanceof BlobError, String(err));
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("malformed blobmsg is rejected with a sentence", () => {
  assert.throws(() => decodeBlobmsgTable(fromHex("85 00 00 0b 00 01 6e 00 00 00 07")), BlobError);
  assert.throws(() => decodeBlobmsgTable(fromHex("83 00 00 0c 00 01 6e 00 78 79 7a 7a")), /NUL/);
  assert.throws(() => decodeBlobmsgTable(fromHex("85 00 00 40 00 01 6e 00")), /runs past/);
  assert.throws(() => decodeBlobmsgTable(fromHex("05 00 00 08 00 00 00 07")), /EXTENDED/);
  assert.throws(
    () => decodeBlobmsgTable(fromHex("8f 00 00 08 00 01 6e 00")),
    /unknown blobmsg type/,
  );
});

Deno.test("object ids ≥ 2^31 go out as blobmsg INT32 holding the u32, as blobmsg_add_u32 writes them", () => {
  // "object": 0x9abcdef0, the way libubus's ubus_register_event_handler sends it.
  assert.equal(
    hex(encodeBlobmsgField("object", blobmsgU32(0x9abcdef0))),
    "85 00 00 14 00 06 6f 62 6a 65 63 74 00 00 00 00 9a bc de f0",
  );
  for (const id of [1024, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]) {
    const [field] = decodeBlobmsgFields(encodeBlobmsgField("id", blobmsgU32(id)));
    assert.equal(field.node.type, "int32", `id ${id}`);
    assert.equal(asU32(decodeBlobmsgTable(encodeBlobmsgField("id", blobmsgU32(id))).id), id);
  }
  // A plain number that large would be INT64, which ubusd's INT32 policies refuse.
  assert.equal(decodeBlobmsgFields(encodeBlobmsgField("id", 0x9abcdef0))[0].node.type, "int64");
  assert.throws(() => encodeBlobmsgField("id", blobmsgU32(2 ** 32)), BlobError);
  assert.throws(() => encodeBlobmsgField("id", blobmsgU32(-1)), BlobError);
  assert.equal(asU32("7"), null);
  assert.equal(asU32(1.5), null);
});
