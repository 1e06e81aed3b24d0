import assert from "node:assert/strict";
import { BlobError } from "./blob.ts";
import { decodeMessage, encodeMessage, FrameReader, MsgType, Status } from "./protocol.ts";

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}
function fromHex(s: string): Uint8Array {
  return Uint8Array.from(s.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
}

Deno.test("HELLO frame matches ubusd's greeting", () => {
  const frame = encodeMessage({ type: MsgType.HELLO, seq: 0, peer: 0x12345678, attrs: {} });
  assert.equal(hex(frame), "00 00 00 00 12 34 56 78 00 00 00 04");
  const msg = decodeMessage(frame);
  assert.deepEqual(msg, { type: MsgType.HELLO, seq: 0, peer: 0x12345678, attrs: {} });
});

Deno.test("NOT_FOUND status for an unknown objid matches the reference bytes", () => {
  const frame = encodeMessage({
    type: MsgType.STATUS,
    seq: 0x0102,
    peer: 0xdeadbeef,
    attrs: { status: Status.NOT_FOUND },
  });
  assert.equal(hex(frame), "00 01 01 02 de ad be ef 00 00 00 0c 01 00 00 08 00 00 00 04");
});

Deno.test("PING echo frame", () => {
  const frame = encodeMessage({ type: MsgType.DATA, seq: 7, peer: 0, attrs: {} });
  assert.equal(hex(frame), "00 02 00 07 00 00 00 00 00 00 00 04");
});

Deno.test("LOOKUP with OBJPATH embeds the verified OBJPATH attribute", () => {
  const frame = encodeMessage({
    type: MsgType.LOOKUP,
    seq: 1,
    peer: 0,
    attrs: { objpath: "test.obj" },
  });
  assert.equal(
    hex(frame),
    "00 04 00 01 00 00 00 00 00 00 00 14 02 00 00 0d 74 65 73 74 2e 6f 62 6a 00 00 00 00",
  );
});

Deno.test("ADD_OBJECT signature encodes method tables of int32 types and round-trips", () => {
  const sig = { hello: { msg: 3, n: 5 }, status: {} };
  const frame = encodeMessage({
    type: MsgType.ADD_OBJECT,
    seq: 3,
    peer: 0,
    attrs: { objpath: "test.obj", signature: sig },
  });
  const msg = decodeMessage(frame);
  assert.deepEqual(msg.attrs, { objpath: "test.obj", signature: sig });
});

Deno.test("every attribute round-trips", () => {
  const attrs = {
    status: 4,
    objpath: "a.b",
    objid: 0xfffffff0,
    method: "status",
    objtype: 99,
    signature: { m: { a: 3 } },
    data: { x: [1, "2", { y: false }] },
    target: 1234,
    active: true,
    noReply: true,
    subscribers: [1025, 2048],
    user: "root",
    group: "root",
  };
  const msg = decodeMessage(encodeMessage({ type: MsgType.INVOKE, seq: 65535, peer: 1, attrs }));
  assert.deepEqual(msg.attrs, attrs);
  assert.equal(msg.seq, 65535);
});

Deno.test("FrameReader reassembles frames split at every byte", () => {
  const a = encodeMessage({
    type: MsgType.INVOKE,
    seq: 1,
    peer: 5,
    attrs: { method: "x", data: { k: "v" } },
  });
  const b = encodeMessage({ type: MsgType.STATUS, seq: 1, peer: 5, attrs: { status: 0 } });
  const stream = new Uint8Array([...a, ...b]);
  const reader = new FrameReader();
  const got = [];
  for (const byte of stream) {
    reader.push(Uint8Array.of(byte));
    for (let m = reader.next(); m; m = reader.next()) got.push(m);
  }
  assert.equal(got.length, 2);
  assert.deepEqual(got[0].attrs, { method: "x", data: { k: "v" } });
  assert.equal(got[1].type, MsgType.STATUS);
});

Deno.test("FrameReader rejects oversized, bad-version and short frames", () => {
  const big = new FrameReader();
  big.push(fromHex("00 02 00 01 00 00 00 00 00 10 00 04")); // len 1 MiB + 4
  assert.throws(() => big.next(), /1 MiB/);
  const ver = new FrameReader();
  ver.push(fromHex("01 00 00 00 00 00 00 00 00 00 00 04"));
  assert.throws(() => ver.next(), /version/);
  const short = new FrameReader();
  short.push(fromHex("00 00 00 00 00 00 00 00 00 00 00 02"));
  assert.throws(() => short.next(), BlobError);
});

Deno.test("encodeMessage refuses to build a frame over 1 MiB", () => {
  assert.throws(
    () =>
      encodeMessage({
        type: MsgType.DATA,
        seq: 1,
        peer: 0,
        attrs: { data: { s: "x".repeat(1_048_600) } },
      }),
    /1 MiB/,
  );
});

Deno.test("property: FrameReader on arbitrary bytes yields messages or throws BlobError", async () => {
  const fc = (await import("fast-check")).default;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
      const reader = new FrameReader();
      reader.push(bytes);
      try {
        while (reader.next() !== null) {
          // keep reading
        }
      } catch (err) {
        assert.ok(err instanceof BlobError, String(err));
      }
    }),
    { numRuns: 1000 },
  );
});
