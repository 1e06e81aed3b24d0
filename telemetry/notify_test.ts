import assert from "node:assert/strict";
import * as v from "valibot";
import { NotificationsSchema } from "../config/schema.ts";
import { Notifier, signBody } from "./notify.ts";
import type { NotifyConfig } from "./notify.ts";

interface Received {
  path: string;
  contentType: string | null;
  signature: string | null;
  body: string;
}

/** A local HTTP server on 127.0.0.1 that records requests; `/slow` never answers in time. */
function startServer(status: number | (() => number) = 200) {
  const received: Received[] = [];
  const pending: Array<() => void> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    received.push({
      path,
      contentType: req.headers.get("content-type"),
      signature: req.headers.get("x-starfail-signature"),
      body: await req.text(),
    });
    if (path === "/slow") await new Promise<void>((resolve) => pending.push(resolve));
    const code = typeof status === "number" ? status : status();
    return new Response(
      code === 400 ? '{"status":0,"errors":["application token is invalid"]}' : "{}",
      {
        status: code,
      },
    );
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
    ...v.parse(NotificationsSchema, {}),
    enabled: true,
    timeout_ms: 2000,
    digest_s: 0,
    webhook_retries: 0,
    ...overrides,
  };
}

Deno.test("webhook gets a JSON POST; pushover gets the form fields", async () => {
  const srv = startServer();
  try {
    const n = new Notifier(
      config({
        webhook_url: `${srv.base}/hook`,
        pushover_token: "tok",
        pushover_user: "usr",
        pushover_url: `${srv.base}/1/messages.json`,
      }),
    );
    const r = await n.notify({
      type: "failover",
      t: 100,
      title: "starfail: failover to lte",
      message: "wan lost 40% of probes",
      member: "lte",
      data: { from: "wan" },
    });
    assert.deepEqual(r.sent, ["pushover", "webhook"]);
    assert.deepEqual(r.errors, []);
    const hook = srv.received.find((x) => x.path === "/hook");
    assert.equal(hook?.contentType, "application/json");
    const { at, ...fields } = JSON.parse(hook?.body ?? "");
    assert.ok(Math.abs(at - Date.now() / 1000) < 60);
    assert.equal(hook?.signature, null, "no secret, no signature");
    assert.deepEqual(fields, {
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
    assert.deepEqual([...push.keys()].sort(), [
      "message",
      "priority",
      "timestamp",
      "title",
      "token",
      "user",
    ]);
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
    assert.deepEqual(r500.errors, ["webhook: answered HTTP 500"]);
    const timeout = await new Notifier(
      config({ webhook_url: `${slow.base}/slow`, timeout_ms: 100 }),
    ).notify({
      type: "failover",
      t: 0,
      title: "t",
      message: "m",
    });
    assert.deepEqual(timeout.errors, ["webhook: request failed: no answer within 100 ms"]);
    const refused = await new Notifier(config({ webhook_url: "http://127.0.0.1:1/hook" })).notify({
      type: "failover",
      t: 0,
      title: "t",
      message: "m",
    });
    assert.equal(refused.sent.length, 0);
    assert.match(refused.errors[0], /^webhook: request failed: /);
  } finally {
    await bad.close();
    await slow.close();
  }
});

Deno.test("webhook: signed with HMAC-SHA256 over the exact body, retried with backoff on 5xx", async () => {
  const answers = [503, 500, 200];
  const srv = startServer(() => answers.shift() ?? 200);
  try {
    const sends: string[] = [];
    const n = new Notifier(
      config({ webhook_url: `${srv.base}/hook`, webhook_secret: "s3cret", webhook_retries: 3 }),
      { retryBaseMs: 10, onSend: (_n, r) => sends.push(`${r.channel} ${r.ok} ${r.attempts}`) },
    );
    const r = await n.notify({ type: "failover", t: 0, title: "t", message: "m" });
    assert.deepEqual(r.sent, ["webhook"]);
    assert.equal(r.results[0].attempts, 3);
    assert.deepEqual(sends, ["webhook true 3"]);
    assert.equal(srv.received.length, 3);
    for (const got of srv.received) {
      assert.equal(got.signature, `sha256=${await signBody("s3cret", got.body)}`);
    }
    // Known answer (RFC 4231 test case 2).
    assert.equal(
      await signBody("Jefe", "what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  } finally {
    await srv.close();
  }
});

Deno.test("webhook: a 4xx is not retried; pushover's error text is kept", async () => {
  const srv = startServer(400);
  try {
    const n = new Notifier(
      config({
        webhook_url: `${srv.base}/hook`,
        webhook_retries: 3,
        pushover_token: "tok",
        pushover_user: "usr",
        pushover_url: `${srv.base}/1/messages.json`,
      }),
      { retryBaseMs: 10 },
    );
    const r = await n.notify({ type: "failover", t: 0, title: "t", message: "m" });
    assert.deepEqual(r.errors, [
      "pushover: answered HTTP 400: application token is invalid",
      "webhook: answered HTTP 400",
    ]);
    assert.equal(srv.received.length, 2);
  } finally {
    await srv.close();
  }
});

Deno.test("pushover: priority per kind, title and message cut to the documented limits", async () => {
  const srv = startServer();
  try {
    const n = new Notifier(config({
      pushover_token: "tok",
      pushover_user: "usr",
      pushover_url: `${srv.base}/1/messages.json`,
    }));
    await n.notify({ type: "all_down", t: 0, title: "T".repeat(300), message: "é".repeat(2000) });
    await n.notify({ type: "failback", t: 0, title: "back", message: "m" });
    const [down, back] = srv.received.map((x) => new URLSearchParams(x.body));
    assert.equal(down.get("priority"), "1");
    assert.equal([...down.get("title")!].length, 250);
    assert.equal([...down.get("message")!].length, 1024);
    assert.equal(back.get("priority"), "-1");
  } finally {
    await srv.close();
  }
});

Deno.test("rate-limited notifications become one digest instead of a storm", async () => {
  const srv = startServer();
  try {
    const n = new Notifier(config({ webhook_url: `${srv.base}/hook`, digest_s: 3600 }));
    await n.notify({ type: "member_down", t: 0, title: "wan down", message: "a" });
    for (let i = 1; i <= 5; i++) {
      const r = await n.notify({ type: "member_down", t: i, title: `wan down ${i}`, message: "b" });
      assert.equal(r.skipped, "digested");
    }
    assert.equal(srv.received.length, 1);
    const digest = await n.flushDigest();
    assert.deepEqual(digest?.sent, ["webhook"]);
    assert.equal(srv.received.length, 2);
    const body = JSON.parse(srv.received[1].body);
    assert.equal(body.title, "starfail: 5 more events");
    assert.equal(body.data.digest.length, 5);
    assert.equal(await n.flushDigest(), null, "nothing held any more");
    n.close();
  } finally {
    await srv.close();
  }
});

Deno.test("a test notification ignores enabled and the rate limit, and can pick one channel", async () => {
  const srv = startServer();
  try {
    const n = new Notifier(config({
      enabled: false,
      webhook_url: `${srv.base}/hook`,
      pushover_token: "tok",
      pushover_user: "usr",
      pushover_url: `${srv.base}/1/messages.json`,
    }));
    const both = await n.notify({ type: "test", t: 0, title: "t", message: "m" });
    assert.deepEqual(both.sent, ["pushover", "webhook"]);
    const one = await n.notify({ type: "test", t: 0, title: "t", message: "m" }, "webhook");
    assert.deepEqual(one.sent, ["webhook"]);
    assert.equal(srv.received.length, 3);
  } finally {
    await srv.close();
  }
});
