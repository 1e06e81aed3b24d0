import assert from "node:assert/strict";
import * as v from "valibot";
import { startBroker } from "./broker.ts";
import { UbusClient } from "./client.ts";
import { signatureOf, ubusMethod, UbusObjectServer } from "./object_server.ts";
import { MsgType, Status, UbusError } from "./protocol.ts";
import { asU32, type JsonObject } from "./blob.ts";

async function withBroker(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "starfail-ubus-" });
  const path = `${dir}/ubus.sock`;
  const broker = await startBroker({ path });
  try {
    await fn(path);
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function table() {
  let counter = 0;
  return {
    hello: ubusMethod(
      v.object({ msg: v.string(), n: v.optional(v.pipe(v.number(), v.integer())) }),
      (args) => ({ echo: args.msg, n: args.n ?? 0 }),
    ),
    count: ubusMethod(v.object({}), () => ({ count: ++counter })),
    missing: ubusMethod(v.object({ member: v.string() }), (args) => {
      throw new UbusError(Status.NOT_FOUND, `no member '${args.member}'`);
    }),
  };
}

function nextValue<T>(): { promise: Promise<T>; push: (value: T) => void } {
  const queue: T[] = [];
  const waiters: ((value: T) => void)[] = [];
  return {
    push(value) {
      const w = waiters.shift();
      if (w) w(value);
      else queue.push(value);
    },
    get promise() {
      const q = queue.shift();
      if (q !== undefined) return Promise.resolve(q);
      return new Promise<T>((resolve) => waiters.push(resolve));
    },
  };
}

Deno.test("signature is derived from the valibot schemas", () => {
  assert.deepEqual(signatureOf(table()), {
    hello: { msg: 3, n: 5 },
    count: {},
    missing: { member: 3 },
  });
});

Deno.test("broker: lookup, invoke, bad arguments, unknown method, unknown object", async () => {
  await withBroker(async (path) => {
    const server = new UbusObjectServer({ socket: path });
    await server.addObject("test.obj", table());
    assert.equal(await server.start(), true);
    const client = await UbusClient.connect({ socket: path });
    try {
      const [info] = await client.lookup("test.obj");
      assert.equal(info.path, "test.obj");
      assert.ok(info.id >= 1024);
      assert.deepEqual(info.signature, {
        hello: { msg: 3, n: 5 },
        count: {},
        missing: { member: 3 },
      });
      assert.deepEqual((await client.lookup("test.*")).map((o) => o.path), ["test.obj"]);
      assert.deepEqual(await client.call("test.obj", "hello", { msg: "hi", n: 7 }), {
        echo: "hi",
        n: 7,
      });
      await assert.rejects(
        client.call("test.obj", "hello", { msg: 5 }),
        (e: unknown) =>
          e instanceof UbusError && e.status === Status.INVALID_ARGUMENT && /msg/.test(e.message),
      );
      await assert.rejects(
        client.call("test.obj", "nope", {}),
        (e: unknown) => e instanceof UbusError && e.status === Status.METHOD_NOT_FOUND,
      );
      await assert.rejects(
        client.call("test.obj", "missing", { member: "x" }),
        (e: unknown) =>
          e instanceof UbusError && e.status === Status.NOT_FOUND &&
          /no member 'x'/.test(e.message),
      );
      await assert.rejects(
        client.lookup("no.such"),
        (e: unknown) => e instanceof UbusError && e.status === Status.NOT_FOUND,
      );
      await assert.rejects(
        client.invoke(0x7fff0000, "status", {}),
        (e: unknown) => e instanceof UbusError && e.status === Status.NOT_FOUND,
      );
      // Many concurrent calls are matched on (seq, peer).
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.call("test.obj", "hello", { msg: `m${i}` })),
      );
      results.forEach((r, i) => assert.equal(r.echo, `m${i}`));
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

Deno.test("broker: objects without a type are not listed; empty path is INVALID_ARGUMENT", async () => {
  await withBroker(async (path) => {
    const a = await UbusClient.connect({ socket: path });
    try {
      await a.addObject("typed.obj", {}, () => ({ status: 0 }));
      await a.addObject("untyped.obj", undefined, () => ({ status: 0 }));
      assert.deepEqual((await a.lookup()).map((o) => o.path), ["typed.obj"]);
      assert.deepEqual(await a.lookup("untyped.obj"), []);
      await assert.rejects(
        a.lookup(""),
        (e: unknown) => e instanceof UbusError && e.status === Status.INVALID_ARGUMENT,
      );
    } finally {
      await a.close();
    }
  });
});

Deno.test("broker: duplicate object path is refused with INVALID_ARGUMENT", async () => {
  await withBroker(async (path) => {
    const a = await UbusClient.connect({ socket: path });
    const b = await UbusClient.connect({ socket: path });
    try {
      await a.addObject("dup", {}, () => ({ status: 0 }));
      await assert.rejects(
        b.addObject("dup", {}, () => ({ status: 0 })),
        (e: unknown) => e instanceof UbusError && e.status === Status.INVALID_ARGUMENT,
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("broker: events reach pattern listeners, not the sender; ubus.* is refused", async () => {
  await withBroker(async (path) => {
    const sender = await UbusClient.connect({ socket: path });
    const listener = await UbusClient.connect({ socket: path });
    try {
      const got = nextValue<[string, JsonObject]>();
      const selfGot: string[] = [];
      await listener.listen("network.interface", (id, data) => got.push([id, data]));
      await sender.listen("network.*", (id) => selfGot.push(id));
      const all = nextValue<string>();
      await listener.listen("*", (id) => all.push(id));
      await sender.sendEvent("network.interface", { action: "ifdown", interface: "wan" });
      assert.deepEqual(await got.promise, ["network.interface", {
        action: "ifdown",
        interface: "wan",
      }]);
      assert.equal(await all.promise, "network.interface");
      await sender.sendEvent("other.event", {});
      assert.equal(await all.promise, "other.event");
      assert.deepEqual(selfGot, []);
      await assert.rejects(
        sender.sendEvent("ubus.object.add", {}),
        (e: unknown) => e instanceof UbusError && e.status === Status.PERMISSION_DENIED,
      );
      // The broker emits ubus.object.add itself.
      await sender.addObject("new.obj", {}, () => ({ status: 0 }));
      assert.equal(await all.promise, "ubus.object.add");
    } finally {
      await sender.close();
      await listener.close();
    }
  });
});

Deno.test("broker: listeners whose ids are ≥ 2^31 register (ids travel as u32), and ubus.object.add carries the id", async () => {
  await withBroker(async (path) => {
    const c = await UbusClient.connect({ socket: path });
    const other = await UbusClient.connect({ socket: path });
    try {
      const heard = new Set<number>();
      const ids: number[] = [];
      // Ids are random u32s: among 40, one ≥ 2^31 is all but certain (1 - 2^-40).
      for (let i = 0; i < 40; i++) {
        const { objid } = await c.listen("test.*", () => heard.add(i));
        ids.push(objid);
      }
      assert.ok(ids.some((id) => id >= 2 ** 31), JSON.stringify(ids));
      const added = nextValue<JsonObject>();
      await c.listen("ubus.object.add", (_id, data) => added.push(data));
      await other.sendEvent("test.ping", {});
      for (let i = 0; i < 200 && heard.size < 40; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(heard.size, 40);
      for (let n = 0; n < 20; n++) {
        const path = `big.${n}`;
        const { id } = await other.addObject(path, {}, () => ({ status: 0 }));
        const data = await added.promise;
        assert.equal(data.path, path);
        assert.equal(asU32(data.id), id);
      }
    } finally {
      await c.close();
      await other.close();
    }
  });
});

Deno.test("broker: subscribe, notify, active flag and unsubscribe on removal", async () => {
  await withBroker(async (path) => {
    const pub = await UbusClient.connect({ socket: path });
    const sub = await UbusClient.connect({ socket: path });
    try {
      const active = nextValue<boolean>();
      pub.onNotifyActive = (_id, a) => active.push(a);
      const { id } = await pub.addObject("network.interface", {}, () => ({ status: 0 }));
      const notes = nextValue<[string, JsonObject]>();
      const s = await sub.subscribe("network.interface", (type, data) => notes.push([type, data]));
      assert.equal(await active.promise, true);
      await pub.notify(id, "interface.down", { interface: "wan", up: false });
      assert.deepEqual(await notes.promise, ["interface.down", { interface: "wan", up: false }]);
      await s.stop();
      assert.equal(await active.promise, false);
      // When the target goes away the subscriber hears UNSUBSCRIBE.
      const gone = nextValue<boolean>();
      await sub.subscribe("network.interface", () => {}, { onUnsubscribe: () => gone.push(true) });
      assert.equal(await active.promise, true);
      await pub.removeObject(id);
      assert.equal(await gone.promise, true);
    } finally {
      await pub.close();
      await sub.close();
    }
  });
});

Deno.test("object server re-registers after the broker restarts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail-ubus-" });
  const path = `${dir}/ubus.sock`;
  let broker = await startBroker({ path });
  const server = new UbusObjectServer({ socket: path, reconnectMinMs: 20, reconnectMaxMs: 100 });
  await server.addObject("test.obj", table());
  const events = nextValue<string>();
  await server.listen("demo.*", (id) => events.push(id));
  try {
    assert.equal(await server.start(), true);
    let client = await UbusClient.connect({ socket: path });
    assert.deepEqual(await client.call("test.obj", "count"), { count: 1 });
    await client.close();
    await broker.close();
    broker = await startBroker({ path });
    await server.waitConnected(5000).catch(() => {});
    // Wait until the object is visible again.
    client = await UbusClient.connect({ socket: path });
    for (let i = 0; i < 200 && !broker.objectPaths().includes("test.obj"); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // State behind the handlers survived: the counter continues.
    assert.deepEqual(await client.call("test.obj", "count"), { count: 2 });
    await client.sendEvent("demo.ping", {});
    assert.equal(await events.promise, "demo.ping");
    await client.close();
  } finally {
    await server.stop();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("object server: a refused registration is retried on the same connection; the others stay", async () => {
  await withBroker(async (path) => {
    // Another client holds the path, so ubusd (here the broker) refuses the object at first.
    const squatter = await UbusClient.connect({ socket: path });
    await squatter.addObject("test.obj", {}, () => ({ status: 0 }));
    const server = new UbusObjectServer({ socket: path, reconnectMinMs: 20, reconnectMaxMs: 100 });
    const events = nextValue<string>();
    await server.addObject("other.obj", table());
    await server.addObject("test.obj", table());
    await server.listen("demo.*", (id) => events.push(id));
    const client = await UbusClient.connect({ socket: path });
    try {
      assert.equal(await server.start(), true);
      const first = server.client;
      assert.deepEqual(server.registrations().objects, { registered: 1, wanted: 2 });
      assert.deepEqual(server.registrations().listeners, { registered: 1, wanted: 1 });
      // The connection and what did register stayed.
      assert.deepEqual(await client.call("other.obj", "count"), { count: 1 });
      await client.sendEvent("demo.x", {});
      assert.equal(await events.promise, "demo.x");
      await squatter.close();
      for (let i = 0; i < 300 && server.registrations().objects.registered < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(server.registrations().objects, { registered: 2, wanted: 2 });
      assert.equal(server.client, first, "same connection throughout");
      assert.equal(server.registrations().connects, 1);
      assert.deepEqual(await client.call("test.obj", "count"), { count: 1 });
    } finally {
      await client.close();
      await squatter.close();
      await server.stop();
    }
  });
});

Deno.test("object server: a subscription follows its target through the target's re-registration", async () => {
  await withBroker(async (path) => {
    const server = new UbusObjectServer({ socket: path, reconnectMinMs: 20, reconnectMaxMs: 100 });
    const notes = nextValue<string>();
    // Subscribed before the target exists: retried until it does.
    await server.subscribe("network.interface", (type) => notes.push(type));
    try {
      assert.equal(await server.start(), true);
      assert.deepEqual(server.registrations().subscriptions, { registered: 0, wanted: 1 });
      for (let round = 0; round < 2; round++) {
        const pub = await UbusClient.connect({ socket: path });
        const active = nextValue<boolean>();
        pub.onNotifyActive = (_id, a) => active.push(a);
        const { id } = await pub.addObject("network.interface", {}, () => ({ status: 0 }));
        assert.equal(await active.promise, true, `subscribed again in round ${round}`);
        await pub.notify(id, `round${round}`, {});
        assert.equal(await notes.promise, `round${round}`);
        await pub.close();
      }
    } finally {
      await server.stop();
    }
  });
});

Deno.test("broker survives malformed and oversized frames from a client", async () => {
  await withBroker(async (path) => {
    const raw = await Deno.connect({ transport: "unix", path });
    const hello = new Uint8Array(12);
    await raw.read(hello);
    assert.equal(hello[1], MsgType.HELLO);
    // Oversized length: the broker drops this client only.
    await raw.write(Uint8Array.from([0, 4, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]));
    const buf = new Uint8Array(16);
    assert.equal(await raw.read(buf), null);
    raw.close();
    const client = await UbusClient.connect({ socket: path });
    await client.addObject("still.alive", {}, () => ({ status: 0, data: { ok: true } }));
    assert.deepEqual(await client.call("still.alive", "x"), { ok: true });
    await client.close();
  });
});

Deno.test("client: connecting to a missing socket fails with CONNECTION_FAILED", async () => {
  await assert.rejects(
    UbusClient.connect({ socket: "/nonexistent/ubus.sock", timeoutMs: 500 }),
    (e: unknown) => e instanceof UbusError && e.status === Status.CONNECTION_FAILED,
  );
});

Deno.test("client: a request with no reply times out with TIMEOUT", async () => {
  await withBroker(async (path) => {
    const owner = await UbusClient.connect({ socket: path });
    const caller = await UbusClient.connect({ socket: path });
    try {
      await owner.addObject("slow", {}, () => new Promise(() => {}));
      await assert.rejects(
        caller.call("slow", "x", {}, { timeoutMs: 50 }),
        (e: unknown) => e instanceof UbusError && e.status === Status.TIMEOUT,
      );
    } finally {
      await owner.close();
      await caller.close();
    }
  });
});

Deno.test("client: a well-framed bad reply fails its request; a bad frame length drops the link", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail-ubus-" });
  const path = `${dir}/bad.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.write(Uint8Array.from([0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4])); // HELLO, id 1024
    const buf = new Uint8Array(256);
    await conn.read(buf); // LOOKUP seq 1
    // DATA seq 1 whose only attribute claims 9 bytes inside an 8-byte blob.
    await conn.write(Uint8Array.from([0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 0x85, 0, 0, 9]));
    await conn.read(buf); // LOOKUP seq 2
    await conn.write(Uint8Array.from([0, 2, 0, 2, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff])); // > 1 MiB
    await conn.read(buf).catch(() => null);
    conn.close();
  })();
  try {
    const client = await UbusClient.connect({ socket: path });
    assert.equal(client.id, 1024);
    await assert.rejects(
      client.lookup("x"),
      (e: unknown) => e instanceof UbusError && e.status === Status.PARSE_ERROR,
    );
    assert.equal(client.isClosed, false);
    await assert.rejects(
      client.lookup("y"),
      (e: unknown) => e instanceof UbusError && e.status === Status.CONNECTION_FAILED,
    );
    await client.closed;
    assert.equal(client.isClosed, true);
  } finally {
    listener.close();
    await serving;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("broker answers a well-framed bad message with INVALID_ARGUMENT and keeps the client", async () => {
  await withBroker(async (path) => {
    const raw = await Deno.connect({ transport: "unix", path });
    const buf = new Uint8Array(64);
    await raw.read(buf); // HELLO
    await raw.write(Uint8Array.from([0, 4, 0, 9, 0, 0, 0, 0, 0, 0, 0, 8, 0x02, 0, 0, 0x20]));
    const n = await raw.read(buf);
    assert.deepEqual(
      [...buf.subarray(0, n!)],
      [0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 0, 8, 0, 0, 0, 2],
    );
    raw.close();
  });
});
