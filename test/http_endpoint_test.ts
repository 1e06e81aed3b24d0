import assert from "node:assert/strict";
import { pollUntil } from "./wait.ts";
import { requirePart, skipUnless, which } from "./require.ts";
import { loopbackConfig, startLoopbackDaemon } from "./loopback_daemon.ts";
import { StarfailHttpClient } from "../ubus/http_api.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import type { StatusResult } from "../ubus/starfail_object.ts";

const PROMTOOL = which("promtool");

async function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(PROMTOOL!, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(10000),
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test({
  name: "http endpoint: /metrics passes promtool, /health, /api is the ubus table, status --url",
  ignore: skipUnless(PROMTOOL !== null, "promtool (Debian package prometheus)"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(PROMTOOL !== null, "promtool");
    const dir = await Deno.makeTempDir({ prefix: `starfail_http_${Deno.pid}_` });
    const handle = await startLoopbackDaemon(dir, `${dir}/no-ubusd.sock`, [
      "config starfail 'http'",
      "\toption enabled '1'",
      "\toption listen '127.0.0.1:0'",
    ], 100);
    try {
      const ep = handle.http;
      assert.ok(ep !== null, "the endpoint listens");
      assert.equal(ep.hostname, "127.0.0.1");
      const api = new StarfailHttpClient(ep.url);
      const scored = await pollUntil(
        async () => {
          const s = await api.call("status") as unknown as StatusResult;
          return s.members.every((m) => m.score.final !== null) && s.primary === "wan";
        },
        20000,
        200,
      );
      assert.ok(scored, "both members scored from real loopback pings, wan primary");

      // /metrics: the real promtool accepts it, and it has per-member series.
      const res = await fetch(`${ep.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const check = await promtoolCheck(text);
      assert.equal(check.code, 0, check.out);
      for (const member of ["wan", "lte"]) {
        assert.match(
          text,
          new RegExp(`^starfail_member_score\\{member="${member}",kind="final"\\} \\d`, "m"),
        );
        assert.match(
          text,
          new RegExp(`^starfail_member_latency_seconds\\{member="${member}"\\} \\d`, "m"),
        );
        assert.match(
          text,
          new RegExp(`^starfail_member_loss_ratio\\{member="${member}"\\} 0$`, "m"),
        );
        assert.match(
          text,
          new RegExp(`^starfail_member_state\\{member="${member}",state="up"\\} 1$`, "m"),
        );
      }
      assert.match(text, /^starfail_primary\{member="wan"\} 1$/m);
      assert.match(text, /^starfail_primary\{member="lte"\} 0$/m);
      assert.match(text, /^# TYPE starfail_switches_total counter$/m);

      // /health while the loop ticks.
      const health = await fetch(`${ep.url}/health`);
      assert.equal(health.status, 200);
      const h = await health.json();
      assert.equal(h.status, "ok");
      assert.equal(h.primary, "wan");

      // /api: reads by GET, actions by POST, errors carry the ubus status.
      const wrongVerb = await fetch(`${ep.url}/api/failover?member=lte`);
      assert.equal(wrongVerb.status, 405);
      assert.equal(wrongVerb.headers.get("allow"), "POST");
      await wrongVerb.body?.cancel();
      await assert.rejects(
        api.call("failover", { member: "nope" }),
        (e: unknown) =>
          e instanceof UbusError && e.status === Status.NOT_FOUND &&
          /known members: (lte, wan|wan, lte)/.test(e.message),
      );
      await assert.rejects(
        api.call("metrics", { member: "wan", limit: 0 }),
        (e: unknown) => e instanceof UbusError && e.status === Status.INVALID_ARGUMENT,
      );
      const unknown = await fetch(`${ep.url}/api/reboot`);
      assert.equal(unknown.status, 404);
      assert.equal((await unknown.json()).status, Status.METHOD_NOT_FOUND);
      const metrics = await api.call("metrics", { member: "lte", limit: 3 });
      assert.equal(metrics.member, "lte");
      assert.ok((metrics.samples as unknown[]).length > 0);
      const fo = await api.call("failover", { member: "lte" });
      assert.equal(fo.ok, true, String(fo.message));
      assert.ok(await pollUntil(() => handle.runtime.state.primary === "lte", 5000, 50));
      const after = await fetch(`${ep.url}/metrics`).then((r) => r.text());
      assert.match(after, /^starfail_switches_total\{kind="override"\} 1$/m);

      // The CLI over HTTP: the same status, as JSON and as text.
      const cli = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-prompt",
          new URL("../main.ts", import.meta.url).pathname,
          "status",
          "--url",
          ep.url,
          "--json",
        ],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30000),
      }).output();
      const out = new TextDecoder().decode(cli.stdout);
      assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
      assert.equal(JSON.parse(out).primary, "lte");

      // A stalled loop makes /health 503 with the reason.
      await handle.runtime.stop();
      assert.ok(
        await pollUntil(
          async () => (await fetch(`${ep.url}/health`).then(async (r) => {
            const body = await r.json();
            return r.status === 503 && /has not ticked/.test(body.reason);
          })),
          10000,
          250,
        ),
        "/health turns 503 once the loop stops",
      );
    } finally {
      await handle.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "status --url: an endpoint that is not there is exit 69 with one line",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-prompt",
        new URL("../main.ts", import.meta.url).pathname,
        "status",
        "--url",
        `http://127.0.0.1:${port}`,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30000),
    }).output();
    const err = new TextDecoder().decode(cli.stderr).trim();
    assert.equal(cli.code, 69, err);
    assert.equal(err.split("\n").length, 1, err);
    assert.match(
      err,
      /^starfail daemon is not answering at http:\/\/127\.0\.0\.1:\d+: cannot reach/,
    );
  },
});

Deno.test({
  name: "http endpoint: a reload turns it on and off",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: `starfail_http_reload_${Deno.pid}_` });
    const handle = await startLoopbackDaemon(dir, `${dir}/no-ubusd.sock`, [], 100);
    try {
      assert.equal(handle.http, null);
      await Deno.writeTextFile(
        `${dir}/starfail`,
        loopbackConfig([
          "config starfail 'http'",
          "\toption enabled '1'",
          "\toption listen '127.0.0.1:0'",
        ]),
      );
      await handle.reload();
      const ep = handle.http as { url: string } | null;
      assert.ok(ep !== null);
      const res = await fetch(`${ep.url}/api/info`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).config_file, `${dir}/starfail`);
      await Deno.writeTextFile(`${dir}/starfail`, loopbackConfig());
      await handle.reload();
      assert.equal(handle.http, null);
      await assert.rejects(fetch(`${ep.url}/health`));
    } finally {
      await handle.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
