import assert from "node:assert/strict";
import { dispatchCall, signatureOf } from "../ubus/object_server.ts";
import { starfailMethods } from "../ubus/starfail_object.ts";
import { Status } from "../ubus/protocol.ts";
import { FakeStarfailBackend } from "./starfail_fake_backend.ts";

Deno.test("starfail signature lists every method with blobmsg argument types", () => {
  assert.deepEqual(signatureOf(starfailMethods(new FakeStarfailBackend())), {
    status: {},
    members: {},
    metrics: { member: 3, limit: 5 },
    history: { member: 3, since_s: 5 },
    events: { limit: 5 },
    failover: { member: 3, expires_s: 5 },
    restore: {},
    recheck: {},
    config_get: {},
    setlog: { level: 3 },
    info: {},
    notify_test: { channel: 3 },
  });
});

Deno.test("starfail methods validate arguments before the backend runs", async () => {
  const backend = new FakeStarfailBackend();
  const table = starfailMethods(backend);
  const bad = await dispatchCall(table, "setlog", { level: "loud" });
  assert.equal(bad.status, Status.INVALID_ARGUMENT);
  assert.match(String(bad.data?.error), /level must be one of trace, debug, info, warn, error/);
  assert.equal(backend.logLevel, "info");
  const limit = await dispatchCall(table, "metrics", { member: "wifi", limit: 0 });
  assert.equal(limit.status, Status.INVALID_ARGUMENT);
  assert.match(String(limit.data?.error), /limit must be at least 1/);
  const missing = await dispatchCall(table, "failover", {});
  assert.equal(missing.status, Status.INVALID_ARGUMENT);
  const unknown = await dispatchCall(table, "failover", { member: "lte9" });
  assert.equal(unknown.status, Status.NOT_FOUND);
  assert.equal(backend.primary, "starlink");
  const nope = await dispatchCall(table, "reboot", {});
  assert.equal(nope.status, Status.METHOD_NOT_FOUND);
});

Deno.test("starfail methods apply defaults and pass arguments through", async () => {
  const backend = new FakeStarfailBackend();
  const table = starfailMethods(backend);
  const hist = await dispatchCall(table, "history", { member: "wifi" });
  assert.equal(hist.status, Status.OK);
  assert.equal((hist.data as { since_s: number }).since_s, 600);
  const ok = await dispatchCall(table, "setlog", { level: "debug" });
  assert.equal(ok.status, Status.OK);
  assert.equal(backend.logLevel, "debug");
  const cfg = await dispatchCall(table, "config_get", {});
  // A table under `config`, not a JSON string.
  assert.deepEqual(
    (cfg.data as { config: { main: { log_level: string } } }).config.main.log_level,
    "debug",
  );
});
