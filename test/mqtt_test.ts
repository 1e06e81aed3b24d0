import assert from "node:assert/strict";
import * as v from "valibot";
import { MqttSchema } from "../config/schema.ts";
import { MqttPublisher } from "../telemetry/mqtt.ts";
import { pollUntil } from "./wait.ts";
import { haveOpenwrt, requirePart, skipUnless } from "./require.ts";
import { startUbusd, ubusCli } from "./openwrt/ubusd.ts";
import { collect, haveMosquitto, startMosquitto, subscribe } from "./mosquitto.ts";
import { startLoopbackDaemon } from "./loopback_daemon.ts";

const HAVE = haveMosquitto();

function byTopic(msgs: { topic: string; payload: string; retained: boolean }[]) {
  return new Map(msgs.map((m) => [m.topic, m]));
}

Deno.test({
  name:
    "mqtt + real ubusd: discovery and state retained, a ubus failover is an event within 2 s, the hook runs",
  ignore: skipUnless(
    HAVE && haveOpenwrt(),
    "mosquitto, mosquitto-clients and OpenWrt's ubusd/ubus",
  ),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(HAVE, "mosquitto and mosquitto-clients");
    requirePart(haveOpenwrt(), "OpenWrt's ubusd and ubus (STARFAIL_OPENWRT)");
    const dir = await Deno.makeTempDir({ prefix: `starfail_mqtt_${Deno.pid}_` });
    const broker = await startMosquitto(dir);
    const ubusd = await startUbusd(`${dir}/ubus.sock`);
    await Deno.writeTextFile(`${dir}/mqtt.pw`, `${broker.password}\n`);
    // The hook writes its environment (the STARFAIL_ part) to a file per run.
    const hookOut = `${dir}/hook.out`;
    await Deno.writeTextFile(
      `${dir}/hook`,
      `#!/bin/sh\nenv | grep '^STARFAIL_' | sort >> ${hookOut}\necho --- >> ${hookOut}\necho hook-said-hello\n`,
      { mode: 0o755 },
    );
    const handle = await startLoopbackDaemon(dir, ubusd.socket, [
      "config starfail 'mqtt'",
      "\toption enabled '1'",
      `\toption url '${broker.url}'`,
      `\toption username '${broker.user}'`,
      `\toption password_file '${dir}/mqtt.pw'`,
      "config starfail 'hook'",
      `\toption path '${dir}/hook'`,
      "\toption timeout_s '5'",
    ]);
    try {
      assert.ok(
        await pollUntil(
          () =>
            handle.runtime.state.primary === "wan" &&
            handle.outbound.mqtt?.status().connected === true,
          20000,
          100,
        ),
        `wan primary and MQTT connected: ${JSON.stringify(handle.outbound.mqtt?.status())}`,
      );
      // State topics need the members scored: wait for the score topics.
      let seen = new Map<string, { topic: string; payload: string; retained: boolean }>();
      assert.ok(
        await pollUntil(
          async () => {
            seen = byTopic(await collect(broker, ["homeassistant/#", "starfail/#"], 1));
            return seen.has("starfail/member/lte/score") &&
              seen.has("starfail/member/wan/latency_ms");
          },
          20000,
          100,
        ),
        [...seen.keys()].join(", "),
      );
      const discovery = [...seen.values()].filter((m) => m.topic.startsWith("homeassistant/"));
      assert.ok(discovery.every((m) => m.retained), "discovery configs are retained");
      const node = /^homeassistant\/sensor\/([^/]+)\/primary\/config$/.exec(
        discovery.find((m) => m.topic.endsWith("/primary/config"))?.topic ?? "",
      )?.[1];
      assert.ok(node?.startsWith("starfail_"), discovery.map((m) => m.topic).join(", "));
      for (
        const [component, object] of [
          ["sensor", "wan_score"],
          ["sensor", "lte_latency"],
          ["sensor", "lte_loss"],
          ["sensor", "wan_state"],
          ["binary_sensor", "wan_up"],
          ["binary_sensor", "lte_up"],
        ]
      ) {
        const cfg = seen.get(`homeassistant/${component}/${node}/${object}/config`);
        assert.ok(cfg, `${component} ${object}`);
        const c = JSON.parse(cfg.payload);
        assert.equal(c.availability_topic, "starfail/availability");
        assert.equal(c.device.name, "starfail");
        assert.equal(c.unique_id, `${node}_${object}`);
      }
      const up = JSON.parse(seen.get(`homeassistant/binary_sensor/${node}/wan_up/config`)!.payload);
      assert.equal(up.state_topic, "starfail/member/wan/up");
      assert.equal(up.device_class, "connectivity");
      assert.equal(seen.get("starfail/availability")?.payload, "online");
      assert.equal(seen.get("starfail/primary")?.payload, "wan");
      assert.equal(seen.get("starfail/primary")?.retained, true);
      assert.equal(seen.get("starfail/member/wan/state")?.payload, "up");
      assert.equal(seen.get("starfail/member/lte/up")?.payload, "ON");
      assert.match(seen.get("starfail/member/wan/score")?.payload ?? "", /^\d+(\.\d)?$/);
      assert.equal(seen.get("starfail/member/wan/loss_pct")?.payload, "0");

      // A manual failover through the real ubus CLI reaches the broker as an event within 2 s.
      const sub = await subscribe(broker, ["starfail/event/#", "starfail/primary"]);
      try {
        const asked = Date.now();
        const r = await ubusCli(ubusd.socket, ["call", "starfail", "failover", '{"member":"lte"}']);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(
          await pollUntil(
            () => sub.messages.some((m) => m.topic === "starfail/event/switch"),
            5000,
            20,
          ),
          JSON.stringify(sub.messages),
        );
        const ev = sub.messages.find((m) => m.topic === "starfail/event/switch")!;
        const took = ev.at - asked;
        console.log(`ubus failover → MQTT event: ${took} ms`);
        assert.ok(took < 2000, `event after ${took} ms`);
        assert.equal(ev.retained, false);
        const body = JSON.parse(ev.payload);
        assert.equal(body.type, "switch");
        assert.equal(body.from, "wan");
        assert.equal(body.to, "lte");
        assert.equal(body.kind, "override");
        assert.ok(body.reason.length > 0);
        assert.ok(
          await pollUntil(
            () => sub.messages.some((m) => m.topic === "starfail/primary" && m.payload === "lte"),
            3000,
            20,
          ),
          "primary topic follows",
        );
      } finally {
        await sub.close();
      }

      // The hook ran for the switch, with the documented variables, and its run is an event.
      assert.ok(
        await pollUntil(
          async () => {
            try {
              return /STARFAIL_EVENT=switch\n(.*\n)*STARFAIL_TO=lte/.test(
                await Deno.readTextFile(hookOut),
              );
            } catch {
              return false;
            }
          },
          5000,
          50,
        ),
        "hook ran",
      );
      const runs = (await Deno.readTextFile(hookOut)).split("---\n").filter((r) => r.trim() !== "");
      const sw = runs.find((r) =>
        r.includes("STARFAIL_EVENT=switch") && r.includes("STARFAIL_TO=lte")
      )!;
      const env = Object.fromEntries(
        sw.trim().split("\n").map((l) => {
          const i = l.indexOf("=");
          return [l.slice(0, i), l.slice(i + 1)];
        }),
      );
      assert.equal(env.STARFAIL_FROM, "wan");
      assert.equal(env.STARFAIL_TO, "lte");
      assert.equal(env.STARFAIL_MEMBER, "lte");
      assert.equal(env.STARFAIL_KIND, "override");
      assert.ok(env.STARFAIL_REASON.length > 0, sw);
      assert.match(env.STARFAIL_TIME, /^\d{10}$/);
      const events = await ubusCli(ubusd.socket, ["call", "starfail", "events", '{"limit":100}']);
      const list = JSON.parse(events.stdout).events as { type: string; reason: string }[];
      assert.ok(
        list.some((e) => e.type === "hook" && /exited 0/.test(e.reason)),
        JSON.stringify(list.filter((e) => e.type === "hook")),
      );

      // Broker restart: the daemon reconnects and publishes its state and discovery again
      // (the broker kept nothing: persistence is off).
      await broker.stop();
      assert.ok(
        await pollUntil(() => handle.outbound.mqtt?.status().connected === false, 5000, 50),
      );
      await broker.restart();
      assert.ok(
        await pollUntil(() => handle.outbound.mqtt?.status().connected === true, 15000, 100),
        JSON.stringify(handle.outbound.mqtt?.status()),
      );
      assert.ok(
        await pollUntil(
          async () => {
            const again = byTopic(await collect(broker, ["homeassistant/#", "starfail/#"], 1));
            return again.get("starfail/primary")?.payload === "lte" &&
              again.get("starfail/availability")?.payload === "online" &&
              [...again.keys()].some((t) => t.startsWith("homeassistant/binary_sensor/"));
          },
          10000,
          100,
        ),
        "state and discovery republished after the broker restart",
      );

      // Stopping the daemon marks it offline (retained), for Home Assistant's availability.
      await handle.stop();
      const last = byTopic(await collect(broker, ["starfail/availability"], 1));
      assert.equal(last.get("starfail/availability")?.payload, "offline");
    } finally {
      await handle.stop();
      await ubusd.stop();
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "mqtt: a wrong password is one clear line; events wait in a bounded queue while the broker is away",
  ignore: skipUnless(HAVE, "mosquitto and mosquitto-clients"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(HAVE, "mosquitto and mosquitto-clients");
    const dir = await Deno.makeTempDir({ prefix: `starfail_mqtt2_${Deno.pid}_` });
    const broker = await startMosquitto(dir);
    const base = v.parse(MqttSchema, {
      enabled: "1",
      url: broker.url,
      username: broker.user,
      queue_max: "3",
    });
    const identity = { nodeId: "starfail_test", version: "test" };
    const bad = new MqttPublisher(base, {
      password: "wrong",
      identity,
      backoffMs: { min: 200, max: 400 },
    });
    const good = new MqttPublisher(base, {
      password: broker.password,
      identity,
      backoffMs: { min: 1500, max: 1500 },
    });
    try {
      await bad.start();
      assert.ok(await pollUntil(() => bad.status().lastError !== null, 5000, 20));
      const line = bad.status().lastError!;
      assert.equal(line.split("\n").length, 1);
      assert.match(
        line,
        new RegExp(
          `^MQTT broker mqtt://127\\.0\\.0\\.1:${broker.port} refused the login: .*user 'starfail'.*mqtt\\.password_file`,
        ),
      );
      // It keeps retrying (with backoff) and stays refused.
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(bad.status().connected, false);
      assert.equal(bad.status().connects, 0);

      await good.start();
      assert.ok(await pollUntil(() => good.status().connected, 5000, 20));
      await broker.stop();
      assert.ok(await pollUntil(() => !good.status().connected, 5000, 20));
      for (let i = 0; i < 10; i++) {
        good.publishEvent({
          type: "switch",
          at: i,
          member: "lte",
          from: "wan",
          to: "lte",
          reason: `r${i}`,
        });
      }
      assert.equal(good.status().queued, 3);
      assert.equal(good.status().dropped, 7);
      await broker.restart();
      const sub = await subscribe(broker, ["starfail/event/#"]);
      try {
        assert.ok(await pollUntil(() => good.status().connected, 15000, 50));
        assert.ok(
          await pollUntil(() => sub.messages.length >= 3, 5000, 50),
          JSON.stringify(sub.messages),
        );
        assert.deepEqual(sub.messages.map((m) => JSON.parse(m.payload).reason), ["r7", "r8", "r9"]);
        assert.equal(good.status().queued, 0);
      } finally {
        await sub.close();
      }
    } finally {
      await bad.close();
      await good.close();
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "mqtt: the client loads and connects under a narrow --allow-env (as in the compiled binary)",
  ignore: skipUnless(HAVE, "mosquitto and mosquitto-clients"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(HAVE, "mosquitto and mosquitto-clients");
    const dir = await Deno.makeTempDir({ prefix: `starfail_mqtt3_${Deno.pid}_` });
    const broker = await startMosquitto(dir);
    const root = new URL("../", import.meta.url);
    const script = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      script,
      [
        `import { DEFAULT_CONFIG } from "${new URL("config/schema.ts", root).href}";`,
        `import { MqttPublisher } from "${new URL("telemetry/mqtt.ts", root).href}";`,
        `const cfg = { ...DEFAULT_CONFIG.mqtt, enabled: true, url: "${broker.url}", username: "${broker.user}" };`,
        `const p = new MqttPublisher(cfg, { password: "${broker.password}", identity: { nodeId: "starfail_narrow", version: "t" } });`,
        `await p.start();`,
        `for (let i = 0; i < 100 && !p.status().connected; i++) await new Promise((r) => setTimeout(r, 50));`,
        `console.log(JSON.stringify(p.status()));`,
        `await p.close();`,
      ].join("\n"),
    );
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          `--config=${new URL("deno.json", root).pathname}`,
          `--allow-read=${root.pathname},${dir}`,
          `--allow-net=127.0.0.1:${broker.port}`,
          "--allow-env=STARFAIL_CONFIG",
          script,
        ],
        cwd: root.pathname,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30000),
      }).output();
      const dec = new TextDecoder();
      assert.equal(out.code, 0, dec.decode(out.stderr));
      assert.equal(JSON.parse(dec.decode(out.stdout)).connected, true, dec.decode(out.stdout));
    } finally {
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
