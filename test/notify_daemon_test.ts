import assert from "node:assert/strict";
import { pollUntil } from "./wait.ts";
import { startLoopbackDaemon } from "./loopback_daemon.ts";
import { StarfailHttpClient } from "../ubus/http_api.ts";
import { signBody } from "../telemetry/notify.ts";

interface Got {
  path: string;
  body: string;
  signature: string | null;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", new URL("../main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30000),
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test({
  name:
    "notify: `notify test` through every channel, results printed and in events; a failover is notified, signed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const got: Got[] = [];
    let webhookStatus = 200;
    const srv = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      got.push({
        path,
        body: await req.text(),
        signature: req.headers.get("x-starfail-signature"),
      });
      return new Response('{"status":1}', { status: path === "/hook" ? webhookStatus : 200 });
    });
    const base = `http://127.0.0.1:${srv.addr.port}`;
    const dir = await Deno.makeTempDir({ prefix: `starfail_notify_${Deno.pid}_` });
    const handle = await startLoopbackDaemon(dir, `${dir}/no-ubusd.sock`, [
      "config starfail 'notifications'",
      "\toption enabled '1'",
      "\toption pushover_token 'atoken'",
      "\toption pushover_user 'auser'",
      `\toption pushover_url '${base}/1/messages.json'`,
      `\toption webhook_url '${base}/hook'`,
      "\toption webhook_secret 'sekrit'",
      "\toption webhook_retries '0'",
      "config starfail 'http'",
      "\toption enabled '1'",
      "\toption listen '127.0.0.1:0'",
    ], 100);
    try {
      const url = handle.http!.url;
      const api = new StarfailHttpClient(url);
      assert.ok(await pollUntil(() => handle.runtime.state.primary === "wan", 20000, 100));

      const both = await cli(["notify", "test", "--url", url]);
      assert.equal(both.code, 0, both.err);
      assert.match(both.out, /^pushover\s+ok\s+HTTP 200$/m);
      assert.match(both.out, /^webhook\s+ok\s+HTTP 200$/m);
      assert.match(both.out, /2 of 2 channels took the test message/);
      const push = new URLSearchParams(got.find((g) => g.path === "/1/messages.json")!.body);
      assert.deepEqual(
        [push.get("token"), push.get("user"), push.get("title"), push.get("priority")],
        ["atoken", "auser", "starfail: test notification", "0"],
      );

      webhookStatus = 500;
      const one = await cli(["notify", "test", "--channel", "webhook", "--url", url]);
      assert.equal(one.code, 1, one.out + one.err);
      assert.match(one.out, /^webhook\s+FAILED\s+answered HTTP 500$/m);
      assert.doesNotMatch(one.out, /pushover/);
      const bad = await cli(["notify", "test", "--channel", "mqtt", "--url", url]);
      assert.equal(bad.code, 65, bad.err);
      assert.match(bad.err, /channel 'mqtt' is not configured; configured: pushover, webhook/);

      const events = (await api.call("events", { limit: 100 })).events as {
        type: string;
        reason: string;
      }[];
      const notes = events.filter((e) => e.type === "notify").map((e) => e.reason);
      assert.ok(
        notes.includes("pushover accepted 'starfail: test notification' (test)"),
        notes.join("\n"),
      );
      assert.ok(
        notes.includes(
          "webhook did not take 'starfail: test notification' (test): answered HTTP 500",
        ),
        notes.join("\n"),
      );

      // A switch is notified: the webhook body is signed, Pushover gets its priority.
      webhookStatus = 200;
      got.length = 0;
      await api.call("failover", { member: "lte" });
      assert.ok(await pollUntil(() => got.filter((g) => g.path === "/hook").length >= 1, 5000, 50));
      const hook = got.find((g) => g.path === "/hook")!;
      const body = JSON.parse(hook.body);
      assert.equal(body.type, "failover");
      assert.equal(body.title, "starfail: failover wan → lte");
      assert.equal(body.data.kind, "override");
      assert.equal(hook.signature, `sha256=${await signBody("sekrit", hook.body)}`);
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      assert.match(
        metrics,
        /^starfail_notifications_total\{channel="webhook",result="failed"\} 1$/m,
      );
    } finally {
      await handle.stop();
      await srv.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
