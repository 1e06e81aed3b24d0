import assert from "node:assert/strict";
import { Notifier } from "./notify.ts";
import type { NotifyConfig } from "./notify.ts";

interface Received {
  path: string;
  contentType: string | null;
  body: string;
}

/** A local HTTP server on 127.0.0.1 that records requests; `/slow` never answers in time. */
function startServer(status = 200) {
  const received: Received[] = [];
  const pending: Array<() => void> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    received.push({ path, contentType: req.headers.get("content-type"), body: await req.text() });
    if (path === "/slow") await new Promise<void>((resolve) => pending.push(resolve));
    return new Response("{}", { status });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    received,
    async close() {
      for (const p of pending) p();
      await server.shutdown();
    },
  };
}

function config(overrides: Partial<NotifyConfig>): NotifyConfig {
  return {
    enabled: true,
    rate_limit_s: 300,
    on_failover: true,
    on_failback: true,
    on_member_down: true,
    on_predictive: true,
    pushover_token: "",
    pushover_user: "",
    webhook_url: "",
    timeout_ms: 2000,
    ...overrides,
  };
}

Deno.test("webhook gets a JSON POST; pushover gets the form fields", async () => {
  const srv = startServer();
  try {
    const n = new Notifier(
      config({ webhook_url: `${srv.base}/hook`, pushover_token: "tok", pushover_user: "usr" }),
      { pushoverUrl: `${srv.base}/1/messages.json` },
    );
    const r = await n.notify({
      type: "failover",
      t: 100,
      title: "starfail: failover to lte",
      message: "wan lost 40% of probes",
      member: "lte",
      data: { from: "wan" },
    });
    assert.deepEqual(r, { sent: ["pushover", "webhook"], errors: [] });
    const hook = srv.received.find((x) => x.path === "/hook");
    assert.equal(hook?.contentType, "application/json");
    assert.deepEqual(JSON.parse(hook?.body ?? ""), {
      source: "starfail",
      type: "failover",
      t: 100,
      title: "starfail: failover to lte",
      message: "wan lost 40% of probes",
      member: "lte",
      data: { from: "wan" },
    });
    const push = new URLSearchParams(srv.received.find((x) => x.path === "/1/messages.json")?.body);
    assert.equal(push.get("token"), "tok");
    assert.equal(push.get("user"), "usr");
    assert.equal(push.get("message"), "wan lost 40% of probes");
    assert.equal(push.get("priority"), "0");
  } finally {
    await srv.close();
  }
});

Deno.test("rate limit is per type", async () => {
  const srv = startServer();
  try {
    const n = new Notifier(config({ webhook_url: `${srv.base}/hook`, rate_limit_s: 300 }));
    const msg = { title: "t", message: "m" };
    assert.deepEqual((await n.notify({ type: "failover", t: 0, ...msg })).sent, ["webhook"]);
    assert.equal((await n.notify({ type: "failover", t: 299, ...msg })).skipped, "rate_limited");
    assert.deepEqual((await n.notify({ type: "failback", t: 299, ...msg })).sent, ["webhook"]);
    assert.deepEqual((await n.notify({ type: "failover", t: 300, ...msg })).sent, ["webhook"]);
    assert.equal(srv.received.length, 3);
  } finally {
    await srv.close();
  }
});

Deno.test("disabled, type switched off and no channel are skipped without requests", async () => {
  let calls = 0;
  const fake = (() => {
    calls++;
    return Promise.resolve(new Response("{}"));
  }) as typeof fetch;
  const msg = { t: 0, title: "t", message: "m" };
  const off = new Notifier(config({ enabled: false, webhook_url: "http://127.0.0.1:9/x" }), {
    fetch: fake,
  });
  assert.equal((await off.notify({ type: "failover", ...msg })).skipped, "disabled");
  const typeOff = new Notifier(
    config({ on_predictive: false, webhook_url: "http://127.0.0.1:9/x" }),
    { fetch: fake },
  );
  assert.equal((await typeOff.notify({ type: "predictive", ...msg })).skipped, "type_off");
  const none = new Notifier(config({ pushover_token: "tok" }), { fetch: fake });
  assert.equal((await none.notify({ type: "failover", ...msg })).skipped, "no_channel");
  assert.equal(calls, 0);
});

Deno.test("HTTP errors, refused connections and timeouts are returned, not thrown", async () => {
  const bad = startServer(500);
  const slow = startServer();
  try {
    const r500 = await new Notifier(config({ webhook_url: `${bad.base}/hook` })).notify({
      type: "member_down",
      t: 0,
      title: "t",
      message: "m",
    });
    assert.deepEqual(r500, { sent: [], errors: ["webhook answered HTTP 500"] });
    const timeout = await new Notifier(
      config({ webhook_url: `${slow.base}/slow`, timeout_ms: 100 }),
    ).notify({
      type: "failover",
      t: 0,
      title: "t",
      message: "m",
    });
    assert.deepEqual(timeout.errors, ["webhook request failed: no answer within 100 ms"]);
    const refused = await new Notifier(config({ webhook_url: "http://127.0.0.1:1/hook" })).notify({
      type: "failover",
      t: 0,
      title: "t",
      message: "m",
    });
    assert.equal(refused.sent.length, 0);
    assert.match(refused.errors[0], /^webhook request failed: /);
  } finally {
    await bad.close();
    await slow.close();
  }
});
