/**
 * The dish answering what is not gRPC (issue 18): an HTTP 500 page, a 200
 * with a wrong content-type, garbage, a reset, a hang — each reported as what
 * it is, within the deadline, never as "Received message larger than max"
 * (how grpc-js, the transport before issue 17, read an HTML page).
 */

import assert from "node:assert/strict";
import { DishCallError, StarlinkClient } from "../collectors/starlink_client.ts";
import { type FaultMode, startFaultServer } from "./http2_fault_server.ts";
import { pollUntil } from "./wait.ts";

async function withServer(mode: FaultMode, fn: (port: number) => Promise<void>): Promise<void> {
  // The server runs in a child process, ended with SIGKILL (see test/http2_fault_server.ts).
  const server = await startFaultServer([mode]);
  try {
    await fn(server.port);
  } finally {
    await server.kill();
  }
}

async function failure(port: number): Promise<{ err: DishCallError; ms: number }> {
  const client = new StarlinkClient({ host: "127.0.0.1", port, grpcWebPort: 0, timeoutMs: 1000 });
  const started = performance.now();
  try {
    await client.call("get_status");
    throw new Error("the call succeeded");
  } catch (err) {
    assert.ok(err instanceof DishCallError, `expected DishCallError, got ${err}`);
    return { err, ms: performance.now() - started };
  } finally {
    client.close();
  }
}

const EXPECTED: Record<FaultMode, RegExp> = {
  http500: /the dish answered HTTP 500 with content-type 'text\/html'/,
  html200: /content-type 'text\/html; charset=utf-8': not a gRPC answer/,
  garbage: /not valid protobuf/,
  reset: /stream error|reset/i,
  hang: /[Dd]eadline/,
};

for (const mode of Object.keys(EXPECTED) as FaultMode[]) {
  Deno.test({
    name: `dish fault '${mode}' is reported as such within the deadline`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withServer(mode, async (port) => {
        const { err, ms } = await failure(port);
        assert.match(err.message, EXPECTED[mode], `${err.status}: ${err.message}`);
        assert.doesNotMatch(err.message, /larger than max/);
        assert.notEqual(err.status, "RESOURCE_EXHAUSTED");
        assert.ok(!err.message.includes("\n"));
        assert.ok(ms < 2000, `${mode}: ${Math.round(ms)} ms`);
      });
    },
  });
}

Deno.test({
  name: "a dish that sends GOAWAY after every answer: each next call gets its answer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // A GOAWAY is what aborted Deno 2.9.6's node:http2 client (denoland/deno#36788); the
    // fetch client must open a new connection for the next call, without an error.
    const server = await startFaultServer(["goaway"]);
    const client = new StarlinkClient({
      host: "127.0.0.1",
      port: server.port,
      grpcWebPort: 0,
      timeoutMs: 1000,
    });
    try {
      for (let i = 0; i < 5; i++) {
        await assert.rejects(client.call("get_status"), (err: unknown) => {
          assert.ok(err instanceof DishCallError);
          assert.equal(err.status, "NOT_FOUND", `call ${i + 1}: ${err.status}: ${err.message}`);
          assert.equal(err.message, "goaway test");
          return true;
        });
      }
      // The server's log lines reach this process through a pipe: wait for all of them.
      await pollUntil(() => server.requests() >= 5 && server.sessions() >= 5, 2000);
      assert.equal(server.requests(), 5);
      assert.equal(server.sessions(), 5, "each call came on a new connection after the GOAWAY");
      assert.equal(client.channelsCreated, 1, "no call failed, so the client was never recreated");
    } finally {
      client.close();
      await server.kill();
    }
  },
});
