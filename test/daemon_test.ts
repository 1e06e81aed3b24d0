import assert from "node:assert/strict";
import { setOption } from "../config/mod.ts";
import { startDishSim } from "../sim/dish_sim.ts";
import { MEMBERS, simRouterConfig, startSimRouter } from "../sim/router.ts";
import { UbusClient } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { pollUntil } from "./wait.ts";
import { inReconfigWindow, readTraceFile, replay } from "../engine/mod.ts";

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutS = 20,
): Promise<void> {
  if (!(await pollUntil(ok, timeoutS * 1000, 200))) {
    throw new Error(`not ${what} within ${timeoutS} s`);
  }
}

Deno.test({
  name: "daemon on the simulated router: mwan3 mode, the ubus object, manual failover, reload",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starfail_daemon_test_" });
    const router = await startSimRouter({ dir });
    const dish = await startDishSim({ hostname: "127.0.0.1", scenario: "healthy" });
    const cfgPath = `${dir}/starfail`;
    await Deno.writeTextFile(cfgPath, simRouterConfig(dish.port, dish.grpcWebPort));
    const recordPath = `${dir}/night.jsonl`;
    const handle = await startDaemon({
      configPath: cfgPath,
      socket: router.socket,
      run: router.run,
      recordPath,
    });
    const client = await UbusClient.connect({ socket: router.socket });
    try {
      assert.equal(handle.mode, "mwan3");
      assert.deepEqual(handle.members().map((m) => [m.name, m.iface, m.class]), [
        [MEMBERS.starlink, "wan", "starlink"],
        [MEMBERS.cellular, "wwan", "cellular"],
        [MEMBERS.wifi, "wifi", "wifi"],
      ]);
      await until("on Starlink", () => handle.runtime.state.primary === MEMBERS.starlink);
      await until("applied", () => handle.runtime.controller().applied === MEMBERS.starlink);

      const status = await client.call("starfail", "status", {});
      assert.equal(status.primary, MEMBERS.starlink);
      const collectors = status.collectors as { name: string; ok: boolean }[];
      assert.ok(collectors.some((c) => c.name === "starlink" && c.ok), JSON.stringify(collectors));
      assert.ok(collectors.some((c) => c.name === "netifd" && c.ok));
      const metrics = await client.call("starfail", "metrics", {
        member: MEMBERS.starlink,
        limit: 5,
      });
      assert.ok((metrics.samples as unknown[]).length > 0);
      await assert.rejects(
        client.call("starfail", "metrics", { member: "nope" }),
        (e: unknown) => e instanceof UbusError && e.status === Status.NOT_FOUND,
      );

      // Manual failover reaches mwan3's metrics through the fake uci files.
      const fo = await client.call("starfail", "failover", { member: MEMBERS.cellular });
      assert.equal(fo.ok, true, String(fo.message));
      await until(
        "cellular applied",
        () => handle.runtime.controller().applied === MEMBERS.cellular,
      );
      assert.equal((await router.metrics())[MEMBERS.cellular], "1");
      const calls = await router.mwan3Calls();
      assert.ok(calls.includes("ifup wwan"), JSON.stringify(calls));
      await client.call("starfail", "restore", {});
      assert.equal(handle.runtime.state.override, null);

      // SIGHUP-style reload: new settings take effect, member history stays.
      const windowBefore = handle.runtime.state.members.find((m) =>
        m.spec.name === MEMBERS.starlink
      )!
        .window.length;
      const ticksBefore = handle.runtime.state.ticks;
      const set = await setOption(cfgPath, "main.switch_margin", "20");
      assert.deepEqual(set.problems, []);
      await handle.reload();
      assert.equal(handle.runtime.engineConfig.switch_margin, 20);
      const after = handle.runtime.state.members.find((m) => m.spec.name === MEMBERS.starlink)!;
      assert.ok(after.window.length >= windowBefore, "history kept across reload");
      await until("ticking after reload", () => handle.runtime.state.ticks > ticksBefore + 2);
      const events = await client.call("starfail", "events", { limit: 100 });
      assert.ok((events.events as { type: string }[]).some((e) => e.type === "config"));
      // --record wrote a trace that replays: the same members, and the same first choice.
      await handle.stop();
      const trace = await readTraceFile(recordPath);
      assert.deepEqual(trace.members.map((m) => m.name), [
        MEMBERS.starlink,
        MEMBERS.cellular,
        MEMBERS.wifi,
      ]);
      assert.ok(trace.observations.length > 20);
      // Probe rounds carry their wall-clock send time; Starlink's avoid the reconfiguration windows.
      const rounds = trace.observations.filter((o) => o.loss_pct !== undefined);
      const nowS = Date.now() / 1000;
      assert.ok(rounds.length > 5);
      for (const o of rounds) {
        assert.ok(
          o.sent_unix_s !== undefined && Math.abs(nowS - o.sent_unix_s) < 600,
          JSON.stringify(o),
        );
        if (o.member === MEMBERS.starlink) {
          assert.ok(!inReconfigWindow(o.sent_unix_s), JSON.stringify(o));
        }
      }
      const replayed = replay(trace, handle.runtime.engineConfig);
      assert.equal(replayed.changes[0].primary, MEMBERS.starlink);
    } finally {
      await client.close();
      await handle.stop();
      await dish.close();
      await router.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
