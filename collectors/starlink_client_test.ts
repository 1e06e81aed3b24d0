import assert from "node:assert/strict";
import { startDishSim } from "../sim/dish_sim.ts";
import {
  DishCallError,
  frameMessage,
  isConnectionRefused,
  parseGrpcWebBody,
  StarlinkClient,
} from "./starlink_client.ts";
import { unknownAlertFields } from "./starlink_proto.ts";

const net = { sanitizeOps: false, sanitizeResources: false };

/** A client asking gRPC first (the tests of the HTTP/2 path); `prefer` chooses otherwise. */
function clientFor(
  sim: { hostname: string; port: number; grpcWebPort: number },
  timeoutMs = 1000,
  prefer: "auto" | "grpc-web" | "grpc" = "grpc",
) {
  return new StarlinkClient({
    host: sim.hostname,
    port: sim.port,
    grpcWebPort: sim.grpcWebPort,
    timeoutMs,
    prefer,
  });
}

Deno.test({
  name: "by default the dish is asked over gRPC-Web (plain HTTP/1.1) and answers there",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "thermal_throttle", clock: () => 100 });
    const client = new StarlinkClient({
      host: sim.hostname,
      port: sim.port,
      grpcWebPort: sim.grpcWebPort,
      timeoutMs: 1000,
    });
    try {
      assert.equal(client.transport, "grpc-web");
      for (const kind of ["get_status", "get_history", "get_device_info"] as const) {
        const answer = await client.call(kind);
        assert.equal(answer.transport, "grpc-web", kind);
      }
      const status = await client.call("get_status");
      assert.equal((status.body.alerts as Record<string, boolean>).thermal_throttle, true);
      assert.equal(status.apiVersion, 37);
      assert.equal(client.channelsCreated, 0, "no HTTP/2 client was made");
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "gRPC-Web: a hung call ends with DEADLINE_EXCEEDED in time and the next call answers",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: () => ({ hang_every: 2 }), clock: () => 10 });
    const client = clientFor(sim, 300, "auto");
    try {
      await client.call("get_status");
      const started = performance.now();
      await assert.rejects(client.call("get_status"), (err: unknown) => {
        assert.ok(err instanceof DishCallError);
        assert.equal(err.status, "DEADLINE_EXCEEDED");
        assert.equal(err.transport, "grpc-web");
        return true;
      });
      assert.ok(performance.now() - started < 1000, "the deadline held");
      assert.equal((await client.call("get_status")).transport, "grpc-web");
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "get_status over gRPC decodes the simulator's answer",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "thermal_throttle", clock: () => 100 });
    const client = clientFor(sim);
    try {
      const answer = await client.call("get_status");
      assert.equal(answer.transport, "grpc");
      assert.equal(answer.apiVersion, 37);
      const alerts = answer.body.alerts as Record<string, boolean>;
      assert.equal(alerts.thermal_throttle, true);
      assert.equal(sim.requests.get_status, 1);
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "a refused gRPC port falls back to gRPC-Web and stays there",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "healthy", refuseGrpc: true, clock: () => 50 });
    const client = clientFor(sim);
    try {
      const first = await client.call("get_status");
      assert.equal(first.transport, "grpc-web");
      assert.equal(client.transport, "grpc-web");
      const history = await client.call("get_history");
      assert.equal(history.transport, "grpc-web");
      assert.equal(String(history.body.current), "50");
      assert.equal(client.channelsCreated, 1, "gRPC was tried once, then not again");
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "PERMISSION_DENIED comes through both transports with its message",
  ...net,
  async fn() {
    for (const refuseGrpc of [false, true]) {
      const sim = await startDishSim({ scenario: "healthy", refuseGrpc, clock: () => 10 });
      const client = clientFor(sim);
      try {
        await assert.rejects(client.call("get_location"), (err: unknown) => {
          assert.ok(err instanceof DishCallError);
          assert.equal(err.status, "PERMISSION_DENIED");
          assert.match(err.message, /GetLocation requests are not enabled/);
          return true;
        });
      } finally {
        await sim.close();
        client.close();
      }
    }
  },
});

Deno.test({
  name: "a hung call ends with DEADLINE_EXCEEDED and a fresh channel answers the next call",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: () => ({ hang_every: 2 }), clock: () => 10 });
    const client = clientFor(sim, 300);
    try {
      await client.call("get_status"); // request 1 answered
      await assert.rejects(client.call("get_status"), (err: unknown) => {
        assert.ok(err instanceof DishCallError);
        assert.equal(err.status, "DEADLINE_EXCEEDED");
        return true;
      });
      const again = await client.call("get_status"); // request 3 answered
      assert.equal(again.transport, "grpc");
      assert.equal(client.channelsCreated, 2, "the client was recreated after the timeout");
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "a dish that hangs on every call recovers once it answers again",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: () => ({ hang_every: 1 }), clock: () => 10 });
    const client = clientFor(sim, 200);
    try {
      for (let i = 0; i < 3; i++) {
        await assert.rejects(client.call("get_status"), DishCallError);
      }
      sim.setScenario("healthy");
      const answer = await client.call("get_status");
      assert.equal(answer.transport, "grpc");
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "nothing listening: UNAVAILABLE (refused), no fallback when the web port is 0",
  ...net,
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const client = new StarlinkClient({ host: "127.0.0.1", port, grpcWebPort: 0, timeoutMs: 1000 });
    try {
      await assert.rejects(client.call("get_status"), (err: unknown) => {
        assert.ok(err instanceof DishCallError);
        assert.equal(err.status, "UNAVAILABLE");
        assert.ok(isConnectionRefused(err), err.message);
        return true;
      });
    } finally {
      client.close();
    }
  },
});

Deno.test({
  name: "a second call while one is in flight fails at once with BUSY",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: () => ({ hang_every: 1 }), clock: () => 10 });
    const client = clientFor(sim, 200);
    try {
      const first = client.call("get_status");
      await assert.rejects(client.call("get_status"), (err: unknown) => {
        assert.ok(err instanceof DishCallError);
        assert.equal(err.status, "BUSY");
        return true;
      });
      await assert.rejects(first, DishCallError);
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test({
  name: "gRPC over a unix socket",
  ...net,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/dish.sock`;
    const sim = await startDishSim({ path, scenario: "healthy", clock: () => 5 });
    const client = new StarlinkClient({ socketPath: path, timeoutMs: 1000 });
    try {
      const answer = await client.call("get_device_info");
      const info = answer.body.device_info as Record<string, unknown>;
      assert.equal(info.hardware_version, "rev4_prod1");
    } finally {
      await sim.close();
      client.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "unknown fields and enum values from newer firmware decode without error",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "unknown_fields", clock: () => 62 });
    const client = clientFor(sim);
    try {
      const answer = await client.call("get_status");
      assert.equal(answer.apiVersion, 99);
      const outage = answer.body.outage as Record<string, unknown>;
      assert.equal(outage.cause, 15);
      assert.ok(answer.body.alerts != null);
    } finally {
      await sim.close();
      client.close();
    }
  },
});

Deno.test("gRPC-Web frames: data and trailers are split, truncation is an error", () => {
  const data = frameMessage(new Uint8Array([1, 2, 3]));
  const trailer = frameMessage(
    new TextEncoder().encode("grpc-status: 7\r\ngrpc-message: no\r\n"),
    0x80,
  );
  const body = new Uint8Array([...data, ...trailer]);
  const frames = parseGrpcWebBody(body);
  assert.deepEqual(frames.messages.map((m) => [...m]), [[1, 2, 3]]);
  assert.deepEqual(frames.trailers, { "grpc-status": "7", "grpc-message": "no" });
  assert.throws(() => parseGrpcWebBody(body.subarray(0, 6)), /ends inside a frame/);
});

Deno.test({
  name: "alert flags newer than this build are found on the wire",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "unknown_fields", clock: () => 12 });
    const client = clientFor(sim);
    try {
      const answer = await client.call("get_status");
      assert.deepEqual(unknownAlertFields(answer.raw), [30]);
      sim.setScenario("thermal_throttle");
      const plain = (await client.call("get_status")).raw;
      assert.deepEqual(unknownAlertFields(plain), []);
    } finally {
      await sim.close();
      client.close();
    }
  },
});

function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

Deno.test({
  name: "the dish restarting between calls (GOAWAY, closed connection) is survived",
  ...net,
  async fn() {
    // Closing the simulator ends its HTTP/2 sessions under the client: the abort Deno 2.9.6's
    // node:http2 client suffered (denoland/deno#36788). The fetch client must just reconnect.
    const port = freePort();
    let sim = await startDishSim({ port, grpcWebPort: -1, scenario: "healthy", clock: () => 5 });
    const client = new StarlinkClient({ host: "127.0.0.1", port, grpcWebPort: 0, timeoutMs: 1000 });
    try {
      for (let restart = 0; restart < 3; restart++) {
        const answer = await client.call("get_status");
        assert.equal(answer.transport, "grpc");
        await sim.close();
        sim = await startDishSim({ port, grpcWebPort: -1, scenario: "healthy", clock: () => 5 });
      }
      const after = await client.call("get_status");
      assert.equal(after.transport, "grpc");
      assert.equal(sim.requests.get_status, 1, "the restarted simulator answered the last call");
    } finally {
      client.close();
      await sim.close();
    }
  },
});

Deno.test({
  name:
    "a dish that accepts TCP and never answers: DEADLINE_EXCEEDED in time, then a healthy dish answers",
  ...net,
  async fn() {
    const port = freePort();
    const silent = Deno.listen({ hostname: "127.0.0.1", port });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of silent) held.push(conn);
    })();
    const timeoutMs = 300;
    const client = new StarlinkClient({ host: "127.0.0.1", port, grpcWebPort: 0, timeoutMs });
    let sim: Awaited<ReturnType<typeof startDishSim>> | undefined;
    try {
      const started = performance.now();
      await assert.rejects(client.call("get_status"), (err: unknown) => {
        assert.ok(err instanceof DishCallError);
        assert.equal(err.status, "DEADLINE_EXCEEDED", err.message);
        return true;
      });
      const ms = performance.now() - started;
      assert.ok(ms < timeoutMs + 250, `ended after ${Math.round(ms)} ms`);
      assert.equal(held.length, 1, "the silent dish accepted the connection");
      // The silent dish keeps its connection open; a healthy one takes over the port.
      silent.close();
      await accepting;
      sim = await startDishSim({ port, grpcWebPort: -1, scenario: "healthy", clock: () => 5 });
      const answer = await client.call("get_status");
      assert.equal(answer.transport, "grpc");
      assert.equal(client.channelsCreated, 2, "the client was recreated after the deadline");
    } finally {
      client.close();
      for (const conn of held) conn.close();
      await sim?.close();
    }
  },
});

Deno.test({
  name: "starting on gRPC-Web, a refused web port sends the client back to gRPC",
  ...net,
  async fn() {
    const sim = await startDishSim({ grpcWebPort: -1, scenario: "healthy", clock: () => 5 });
    const client = new StarlinkClient({
      host: sim.hostname,
      port: sim.port,
      grpcWebPort: freePort(),
      timeoutMs: 1000,
      prefer: "grpc-web",
    });
    try {
      assert.equal(client.transport, "grpc-web");
      const answer = await client.call("get_status");
      assert.equal(answer.transport, "grpc");
      assert.equal(client.transport, "grpc");
    } finally {
      client.close();
      await sim.close();
    }
  },
});

Deno.test({
  name: "the dish is reached directly even when http_proxy/HTTP_PROXY name a proxy",
  ...net,
  async fn() {
    const names = ["http_proxy", "HTTP_PROXY"];
    const saved = names.map((n) => Deno.env.get(n));
    const proxyPort = freePort(); // nothing listens: a proxied call would be refused
    for (const n of names) Deno.env.set(n, `http://127.0.0.1:${proxyPort}`);
    const sim = await startDishSim({ scenario: "healthy", clock: () => 5 });
    const client = clientFor(sim);
    const web = new StarlinkClient({
      host: sim.hostname,
      port: sim.port,
      grpcWebPort: sim.grpcWebPort,
      timeoutMs: 1000,
      prefer: "grpc-web",
    });
    try {
      assert.equal((await client.call("get_status")).transport, "grpc");
      assert.equal((await web.call("get_status")).transport, "grpc-web");
    } finally {
      names.forEach((n, i) =>
        saved[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, saved[i]!)
      );
      client.close();
      web.close();
      await sim.close();
    }
  },
});
