import assert from "node:assert/strict";
import { healthReport, parseListen, startHttpEndpoint } from "./http_endpoint.ts";
import type { SourceHealth } from "./runtime.ts";

function src(
  name: string,
  ok: boolean,
  failures: number,
  error: string | null = null,
): SourceHealth {
  return {
    name,
    ok,
    runs: failures + (ok ? 1 : 0),
    failures,
    skipped: 0,
    last_ok_t: ok ? 1 : null,
    last_error: error,
    last_duration_ms: 1,
    observations: 0,
  };
}

const base = { startedT: 0, pollIntervalMs: 1500, primary: "wan" };

Deno.test("health: ok while the loop ticks and a collector answers", () => {
  const h = healthReport({
    ...base,
    now: 100,
    lastStepT: 99,
    collectors: [src("probe:wan", true, 0), src("starlink", false, 3, "timeout")],
  });
  assert.equal(h.status, "ok");
  assert.deepEqual(h.collectors_failing, [{ name: "starlink", error: "timeout" }]);
});

Deno.test("health: a loop that stopped ticking is unhealthy, with how long", () => {
  const h = healthReport({
    ...base,
    now: 100,
    lastStepT: 90,
    collectors: [src("probe:wan", true, 0)],
  });
  assert.equal(h.status, "unhealthy");
  assert.equal(h.reason, "the decision loop has not ticked for 10 s (expected every 1.5 s)");
});

Deno.test("health: every collector failing is unhealthy, naming them", () => {
  const h = healthReport({
    ...base,
    now: 100,
    lastStepT: 100,
    collectors: [src("probe:wan", false, 2, "ping: no answer")],
  });
  assert.equal(h.reason, "no collector answers: probe:wan (ping: no answer)");
  const fresh = healthReport({
    ...base,
    now: 1,
    lastStepT: null,
    collectors: [src("probe:wan", false, 0)],
  });
  assert.equal(fresh.status, "ok", "just started: nothing has failed yet");
});

Deno.test("listen addresses: host:port and [v6]:port", () => {
  assert.deepEqual(parseListen("127.0.0.1:9101"), { hostname: "127.0.0.1", port: 9101 });
  assert.deepEqual(parseListen("[::1]:0"), { hostname: "::1", port: 0 });
  assert.throws(() => parseListen("9101"), /not host:port/);
});

Deno.test("http endpoint: a port in use is one sentence", async () => {
  const opts = {
    listen: "127.0.0.1:0",
    table: {},
    metrics: () => Promise.resolve(""),
    health: () => healthReport({ ...base, now: 0, lastStepT: 0, collectors: [] }),
  };
  const first = await startHttpEndpoint(opts);
  try {
    await assert.rejects(
      startHttpEndpoint({ ...opts, listen: `127.0.0.1:${first.port}` }),
      new RegExp(
        `^Error: http: cannot listen on 127\\.0\\.0\\.1:${first.port}: the address is in use`,
      ),
    );
    const res = await fetch(`${first.url}/nope`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await first.close();
  }
});
