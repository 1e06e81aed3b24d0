/**
 * The daemon's ubus registrations against OpenWrt's real ubusd: the netifd
 * event listener on every fresh start (ubusd's object ids are random u32s,
 * half of them ≥ 2^31), netifd's `ifdown` sent with the real `ubus send`
 * acted on within 1 s, ubusd killed and restarted (the object back within
 * 1 s each time, once, with its listener; a subscription restored), and the
 * daemon killed with SIGKILL (ubusd drops its object; a new one registers).
 * Every address the daemons use is on loopback (dish simulator on 127.0.0.1,
 * probe targets 127.0.0.1 or the `ping` double). The measured figures are
 * printed (README "Testing").
 *
 * @module
 */

import assert from "node:assert/strict";
import { MEMBERS } from "../../sim/router.ts";
import { UbusClient } from "../../ubus/client.ts";
import { UbusObjectServer } from "../../ubus/object_server.ts";
import type { JsonObject } from "../../ubus/blob.ts";
import { haveOpenwrt, requirePart, skipUnless } from "../require.ts";
import { pollUntil } from "../wait.ts";
import { type RealRouter, startRealRouter } from "./router.ts";
import { ubusCli } from "./ubusd.ts";

const NEEDS = "OpenWrt's ubusd, ubus and uci built from ../shared/openwrt";
const ROOT = new URL("../../", import.meta.url).pathname;

/** Collects `starfail.member` events seen by a plain client on the real ubusd. */
async function memberEvents(socket: string) {
  const client = await UbusClient.connect({ socket, timeoutMs: 2000 });
  const seen: { at: number; data: JsonObject }[] = [];
  await client.listen("starfail.member", (_id, data) => seen.push({ at: performance.now(), data }));
  return { client, seen };
}

/**
 * Sends netifd's ifdown for `iface` with the real CLI. `t0`: just before the CLI started;
 * `sent`: when it returned (ubusd had passed the event on by then).
 */
async function sendIfdown(socket: string, iface: string): Promise<{ t0: number; sent: number }> {
  const t0 = performance.now();
  const r = await ubusCli(socket, [
    "send",
    "network.interface",
    JSON.stringify({ action: "ifdown", interface: iface }),
  ]);
  assert.equal(r.code, 0, r.stderr);
  return { t0, sent: performance.now() };
}

/**
 * Milliseconds from the event's sending until `member` went down (by `starfail.member`),
 * or null when that took longer than `ms`.
 */
async function downWithin(
  seen: { at: number; data: JsonObject }[],
  member: string,
  at: { t0: number; sent: number },
  ms: number,
): Promise<number | null> {
  const hit = () =>
    seen.find((e) => e.at >= at.t0 && e.data.member === member && e.data.new === "down");
  await pollUntil(() => hit() !== undefined, ms + (at.sent - at.t0), 5);
  const e = hit();
  if (e === undefined) return null;
  const took = Math.max(0, e.at - at.sent);
  return took <= ms ? took : null;
}

Deno.test({
  name:
    "real ubusd: 20 fresh starts register the netifd listener; `ubus send` ifdown acted on within 1 s",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const router = await startRealRouter();
    const watch = await memberEvents(router.socket);
    const registered: boolean[] = [];
    const latencies: number[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const daemon = await router.startDaemon();
        try {
          const state = daemon.ubus();
          registered.push(state.listeners.registered === 1 && state.objects.registered === 1);
          const stateOf = () =>
            daemon.runtime.state.members.find((m) => m.spec.name === MEMBERS.starlink)?.state;
          assert.ok(await pollUntil(() => stateOf() !== "down", 15_000, 50), "Starlink is down");
          const sent = await sendIfdown(router.socket, "wan");
          const ms = await downWithin(watch.seen, MEMBERS.starlink, sent, 1000);
          assert.notEqual(ms, null, `start ${i + 1}: ifdown not acted on within 1 s`);
          latencies.push(ms!);
        } finally {
          await daemon.stop();
        }
      }
      console.log(
        `fresh starts with the listener registered: ${registered.filter(Boolean).length}/20; ` +
          `ifdown → member down: max ${Math.max(...latencies).toFixed(0)} ms`,
      );
      assert.deepEqual(registered, Array(20).fill(true));
    } finally {
      await watch.client.close();
      await router.stop();
    }
  },
});

/** The ids of every `starfail` object ubusd lists. */
async function starfailIds(socket: string): Promise<number[]> {
  let client: UbusClient;
  try {
    client = await UbusClient.connect({ socket, timeoutMs: 500 });
  } catch {
    return [];
  }
  try {
    return (await client.lookup("starfail", { timeoutMs: 500 })).map((o) => o.id);
  } catch {
    return [];
  } finally {
    await client.close();
  }
}

Deno.test({
  name:
    "real ubusd killed and restarted 10 times: object back within 1 s, once, listener and subscription restored",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const router: RealRouter = await startRealRouter();
    const daemon = await router.startDaemon();
    // Another program's subscription to netifd's object, kept by the same object server code.
    const watcher = new UbusObjectServer({ socket: router.socket, timeoutMs: 2000 });
    const notes: string[] = [];
    const memberSeen: { at: number; data: JsonObject }[] = [];
    await watcher.subscribe("network.interface", (type) => notes.push(type));
    await watcher.listen("starfail.member", (_id, data) => {
      memberSeen.push({ at: performance.now(), data });
    });
    await watcher.start();
    const backMs: number[] = [];
    try {
      assert.ok(
        await pollUntil(() => watcher.registrations().subscriptions.registered === 1, 3000),
      );
      // The members one round each takes down by netifd event, checking the restored listener.
      const downRounds = new Map([[4, ["wifi", MEMBERS.wifi]], [7, ["wwan", MEMBERS.cellular]], [
        10,
        ["wan", MEMBERS.starlink],
      ]]);
      for (let round = 1; round <= 10; round++) {
        await router.restartUbusd();
        const ready = performance.now();
        let ids: number[] = [];
        await pollUntil(async () => (ids = await starfailIds(router.socket)).length > 0, 3000, 10);
        const back = performance.now() - ready;
        backMs.push(back);
        assert.equal(ids.length, 1, `round ${round}: one starfail object`);
        assert.ok(back <= 1000, `round ${round}: starfail back after ${back.toFixed(0)} ms`);
        // Calls answer (not just listed), through the real CLI.
        const st = await ubusCli(router.socket, ["-S", "call", "starfail", "status"]);
        assert.equal(st.code, 0, `round ${round}: ${st.stderr}`);
        // No flapping: the same object stays (same id), and the listener is back.
        assert.ok(
          await pollUntil(() => daemon.ubus().listeners.registered === 1, 2000),
          `round ${round}: listener restored`,
        );
        assert.ok(
          await pollUntil(() => watcher.registrations().subscriptions.registered === 1, 2000),
          `round ${round}: subscription restored`,
        );
        assert.deepEqual(await starfailIds(router.socket), ids, `round ${round}: same object`);
        const down = downRounds.get(round);
        if (down !== undefined) {
          // A member already down (a slow machine's probe timeouts) would not change on ifdown.
          const stateOf = () =>
            daemon.runtime.state.members.find((m) => m.spec.name === down[1])?.state;
          assert.ok(await pollUntil(() => stateOf() !== "down", 15_000, 50), `${down[1]} is down`);
          assert.ok(
            await pollUntil(() => watcher.registrations().listeners.registered === 1, 2000),
          );
          const sent = await sendIfdown(router.socket, down[0]);
          const ms = await downWithin(memberSeen, down[1], sent, 1000);
          assert.notEqual(ms, null, `round ${round}: ifdown ${down[0]} not acted on within 1 s`);
        }
      }
      assert.equal(daemon.ubus().connects, 11);
      // The restored subscription delivers netifd's notification.
      await router.sim.setInterfaceUp("wifi", false);
      assert.ok(await pollUntil(() => notes.includes("interface.down"), 2000), notes.join(","));
      console.log(
        `ubusd restarts: starfail back after max ${Math.max(...backMs).toFixed(0)} ms ` +
          `(all: ${backMs.map((ms) => ms.toFixed(0)).join(", ")})`,
      );
    } finally {
      await watcher.stop();
      await daemon.stop();
      await router.stop();
    }
  },
});

/** A daemon process (`deno run main.ts daemon`) on the router's ubusd, route mode, dry run. */
function spawnDaemon(router: RealRouter, config: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}main.ts`,
      "daemon",
      "--config",
      config,
      "--socket",
      router.socket,
      "--dry-run",
      "--log-level",
      "warn",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test({
  name: "real ubusd: a daemon killed with SIGKILL loses its object; a new daemon registers cleanly",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const router = await startRealRouter();
    // Route mode in dry run: nothing on the host's routing table changes. Probes aim at
    // loopback through devices that do not exist here, so no packet leaves the machine.
    const config = `${router.dir}/starfail_route`;
    await Deno.writeTextFile(
      config,
      `config starfail 'main'
\toption use_mwan3 '0'
\toption dry_run '1'

config starfail 'starlink'
\toption host '127.0.0.1'
\toption port '${router.dish.port}'
\toption grpc_web_port '${router.dish.grpcWebPort}'

config member 'wan'
\toption class 'starlink'
\toption device 'demo-sl0'
\tlist probe_target '127.0.0.1'

config member 'wwan'
\toption class 'cellular'
\toption device 'demo-cell0'
\tlist probe_target '127.0.0.1'
`,
    );
    const procs: Deno.ChildProcess[] = [];
    try {
      const first = spawnDaemon(router, config);
      procs.push(first);
      assert.ok(
        await pollUntil(async () => (await starfailIds(router.socket)).length === 1, 30_000, 50),
        "first daemon registered",
      );
      const [firstId] = await starfailIds(router.socket);
      first.kill("SIGKILL");
      await first.status;
      // ubusd drops the object with the connection.
      assert.ok(
        await pollUntil(async () => (await starfailIds(router.socket)).length === 0, 2000, 10),
        "ubusd dropped the killed daemon's object",
      );
      const gone = await ubusCli(router.socket, ["-S", "call", "starfail", "status"]);
      assert.equal(gone.code, 4, "NOT_FOUND once the daemon is gone");

      const second = spawnDaemon(router, config);
      procs.push(second);
      assert.ok(
        await pollUntil(async () => (await starfailIds(router.socket)).length === 1, 30_000, 50),
        "second daemon registered",
      );
      const ids = await starfailIds(router.socket);
      assert.equal(ids.length, 1);
      assert.notEqual(ids[0], firstId, "a new object");
      const st = await ubusCli(router.socket, ["-S", "call", "starfail", "members"]);
      assert.equal(st.code, 0, st.stderr);
      assert.deepEqual(
        (JSON.parse(st.stdout).members as { name: string }[]).map((m) => m.name).sort(),
        ["wan", "wwan"],
      );
    } finally {
      for (const p of procs) {
        try {
          p.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await p.status;
      }
      await router.stop();
    }
  },
});
