/**
 * The dish answering what is not gRPC (issue 18): an HTTP 500 page, a 200
 * with a wrong content-type, garbage, a reset, a hang — each reported as what
 * it is, within the deadline, never as grpc-js's RESOURCE_EXHAUSTED.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { DishCallError, StarlinkClient } from "./starlink_client.ts";

type Mode = "http500" | "html200" | "garbage" | "reset" | "hang";

async function withServer(mode: Mode, fn: (port: number) => Promise<void>): Promise<void> {
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.on("error", () => {});
    switch (mode) {
      case "http500":
        stream.respond({ ":status": 500, "content-type": "text/html" });
        stream.end("<html><body>Internal Server Error</body></html>");
        return;
      case "html200":
        stream.respond({ ":status": 200, "content-type": "text/html; charset=utf-8" });
        stream.end("<html><body>captive portal</body></html>");
        return;
      case "garbage":
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        stream.end(new Uint8Array([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]), () => {});
        return;
      case "reset":
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      case "hang":
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
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

const EXPECTED: Record<Mode, RegExp> = {
  http500: /the dish answered HTTP 500 with content-type 'text\/html'/,
  html200: /content-type 'text\/html; charset=utf-8': not a gRPC answer/,
  garbage: /./,
  reset: /./,
  hang: /[Dd]eadline/,
};

for (const mode of Object.keys(EXPECTED) as Mode[]) {
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
