/**
 * Fault test (issue 18): the daemon on the simulated router while the dish
 * answers, in turn, an HTTP 500 page, a 200 with a wrong content-type,
 * garbage, a reset stream and nothing at all. The loop must keep ticking,
 * `ubus call starfail status` must answer throughout, and the starlink
 * collector's error must say what the dish did (never RESOURCE_EXHAUSTED).
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { simRouterConfig, startSimRouter } from "../sim/router.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { UbusClient } from "../ubus/client.ts";

const MODES = ["http500", "html200", "garbage", "reset", "hang"] as const;

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "daemon keeps ticking and answering status while the dish answers garbage, resets, hangs",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: `starfail_fault_dish_${Deno.pid}_` });
    let requests = 0;
    const server = http2.createServer();
    server.on("stream", (stream: http2.ServerHttp2Stream) => {
      stream.on("error", () => {});
      const mode = MODES[requests++ % MODES.length];
      if (mode === "http500") {
        stream.respond({ ":status": 500, "content-type": "text/html" });
        stream.end("<html>Internal Server Error</html>");
      } else if (mode === "html200") {
        stream.respond({ ":status": 200, "content-type": "text/html" });
        stream.end("<html>captive portal</html>");
      } else if (mode === "garbage") {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        stream.end(new Uint8Array([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]));
      } else if (mode === "reset") {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
      // hang: never answer; the client's deadline ends it.
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const dishPort = (server.address() as AddressInfo).port;
    const router = await startSimRouter({ dir });
    const cfgPath = `${dir}/starfail`;
    await Deno.writeTextFile(cfgPath, simRouterConfig(dishPort, closedPort()));
    const handle = await startDaemon({
      configPath: cfgPath,
      socket: router.socket,
      run: router.run,
    });
    const client = await UbusClient.connect({ socket: router.socket });
    try {
      const ticksBefore = handle.runtime.state.ticks;
      const errors = new Set<string>();
      let answered = 0;
      const started = performance.now();
      while (performance.now() - started < 9000) {
        const status = await client.call("starfail", "status", {}, { timeoutMs: 1000 });
        answered++;
        const dish =
          (status.collectors as { name: string; ok: boolean; last_error: string | null }[])
            .find((c) => c.name === "starlink");
        if (dish?.last_error) errors.add(dish.last_error);
        await new Promise((r) => setTimeout(r, 100));
      }
      const ticksAfter = handle.runtime.state.ticks;
      assert.ok(ticksAfter >= ticksBefore + 6, `ticks ${ticksBefore} → ${ticksAfter}`);
      assert.ok(answered >= 40, `${answered} status answers`);
      assert.ok(requests >= MODES.length, `the dish saw ${requests} requests`);
      const all = [...errors].join(" | ");
      assert.doesNotMatch(all, /larger than max|RESOURCE_EXHAUSTED/);
      assert.match(all, /HTTP 500|text\/html/, all);
      console.log(
        `fault dish: ${requests} dish requests, ticks ${ticksBefore}→${ticksAfter}, ` +
          `${answered} status answers; errors: ${all}`,
      );
    } finally {
      await client.close();
      await handle.stop();
      await router.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
