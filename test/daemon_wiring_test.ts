import assert from "node:assert/strict";
import { startBroker } from "../ubus/broker.ts";
import { RouterSim } from "../sim/ubus_sims.ts";
import type { ExecResult } from "../collectors/exec.ts";
import { startDishSim } from "../sim/dish_sim.ts";
import { pollUntil } from "./wait.ts";
import {
  type DaemonHandle,
  dishOutageReasons,
  dropPathMetrics,
  startDaemon,
} from "../daemon/daemon.ts";

/** A config with mwan3 and the dish off and member 'wan' as LAN, then `extra` lines. */
function lanConfig(extra: string[] = []): string {
  return [
    "config starfail 'main'",
    "\toption use_mwan3 '0'",
    "config starfail 'starlink'",
    "\toption enabled '0'",
    "config member 'wan'",
    "\toption class 'lan'",
    ...extra,
    "",
  ].join("\n");
}

/** Every tool fails: no probe answers, no route exists; only netifd's view matters. */
const noTools = (): Promise<ExecResult> =>
  Promise.resolve({ code: 1, stdout: "", stderr: "not here", timedOut: false });

/** A simulated netifd with one interface 'wan' on `device`. */
function wanRouter(socket: string, device: string): RouterSim {
  return new RouterSim({
    socket,
    interfaces: [{ name: "wan", l3_device: device, address: "192.0.2.2", gateway: "192.0.2.1" }],
  });
}

/** Waits (at most `timeoutMs`) until the netifd collector has finished a poll. */
function netifdPolled(handle: DaemonHandle, timeoutMs: number): Promise<boolean> {
  return pollUntil(
    () => handle.runtime.health().find((h) => h.name === "netifd")?.last_ok_t != null,
    timeoutMs,
  );
}

Deno.test({
  name: "daemon: a member netifd does not know is not reported down by the netifd collector",
  // The object server and broker keep sockets open between awaits.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starfail_daemon_wiring_test" });
    const socket = `${dir}/ubus.sock`;
    const trace = `${dir}/trace.jsonl`;
    const config = `${dir}/starfail`;
    // 'side' is configured by hand, not a netifd interface (like a bare Linux router).
    await Deno.writeTextFile(
      config,
      lanConfig(["config member 'side'", "\toption class 'lan'", "\toption device 'sfdt0side'"]),
    );
    const broker = await startBroker({ path: socket });
    const router = wanRouter(socket, "sfdt0wan");
    await router.start();
    const handle = await startDaemon({
      configPath: config,
      socket,
      run: noTools,
      recordPath: trace,
    });
    try {
      // The schedule started the collectors; wait for netifd's first poll to finish (bounded).
      await netifdPolled(handle, 5000);
      handle.runtime.step();
      const observations = (await Deno.readTextFile(trace)).trim().split("\n").slice(1)
        .map((l) => JSON.parse(l) as { member: string; link_up?: boolean });
      const links = observations.filter((o) => o.link_up !== undefined);
      assert.deepEqual(
        links.map((o) => [o.member, o.link_up]),
        [["wan", true]],
        "netifd reports wan up and says nothing about side",
      );
      assert.deepEqual(handle.members().map((m) => m.name).sort(), ["side", "wan"]);
    } finally {
      await handle.stop();
      await router.stop();
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("daemon: the dish's PoP loss and latency are not passed on as probe rounds", () => {
  const dish = {
    t: 5,
    member: "starlink",
    loss_pct: 0,
    latency_ms: 31,
    obstruction_pct: 0.1,
    currently_obstructed: false,
    outage_cause: "",
    alerts: [],
  };
  assert.deepEqual(dropPathMetrics([dish]), [{
    t: 5,
    member: "starlink",
    obstruction_pct: 0.1,
    currently_obstructed: false,
    outage_cause: "",
    alerts: [],
  }]);
  assert.deepEqual(dropPathMetrics([]), []);
});

Deno.test({
  name:
    "daemon: a probed Starlink member gets the dish's fields and its 1 Hz history, but not its PoP loss and latency as probe rounds",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starfail_daemon_wiring_test" });
    const trace = `${dir}/trace.jsonl`;
    const config = `${dir}/starfail`;
    // The dish has been up for 100 s, so its history ring has seconds to read.
    const born = performance.now() / 1000 - 100;
    const dish = await startDishSim({
      hostname: "127.0.0.1",
      scenario: "healthy",
      clock: () => performance.now() / 1000 - born,
    });
    await Deno.writeTextFile(
      config,
      [
        "config starfail 'main'",
        "\toption use_mwan3 '0'",
        "config starfail 'starlink'",
        "\toption host '127.0.0.1'",
        `\toption port '${dish.port}'`,
        `\toption grpc_web_port '${dish.grpcWebPort}'`,
        "config member 'sat'",
        "\toption class 'starlink'",
        "\toption device 'sfdt0sat'",
        "",
      ].join("\n"),
    );
    const run = (): Promise<ExecResult> =>
      Promise.resolve({ code: 1, stdout: "", stderr: "not here", timedOut: false });
    const handle = await startDaemon({
      configPath: config,
      socket: `${dir}/no_ubus.sock`,
      ubusWaitMs: 50,
      run,
      recordPath: trace,
    });
    try {
      for (let i = 0; i < 250; i++) {
        if (handle.runtime.health().find((h) => h.name === "starlink")?.last_ok_t != null) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      handle.runtime.step();
      const observations = (await Deno.readTextFile(trace)).trim().split("\n").slice(1)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const fromDish = observations.filter((o) => o.obstruction_pct !== undefined);
      assert.ok(fromDish.length > 0, "the dish was read");
      for (const o of fromDish) {
        assert.equal(o.member, "sat");
        assert.equal(o.loss_pct, undefined, JSON.stringify(o));
        assert.equal(o.latency_ms, undefined, JSON.stringify(o));
      }
      // The dish's 1 Hz history reaches the engine (as its own fields), each second once.
      const history = observations.filter((o) => o.pop_drop_pct !== undefined);
      assert.ok(history.length > 0, "history seconds were passed to the engine");
      assert.ok(history.every((o) => o.member === "sat" && o.loss_pct === undefined));
      const sat = handle.runtime.state.members.find((m) => m.spec.name === "sat");
      assert.ok(sat?.fields.pop_drop_pct !== undefined, "the engine holds the dish's drop rate");
    } finally {
      await handle.stop();
      await dish.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "daemon: ubusd coming up after the daemon wires the netifd collector without a SIGHUP",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "starfail_daemon_late_ubus_test" });
    const socket = `${dir}/ubus.sock`;
    const config = `${dir}/starfail`;
    await Deno.writeTextFile(config, lanConfig());
    // No broker yet: the daemon starts without ubus.
    const handle = await startDaemon({ configPath: config, socket, run: noTools, ubusWaitMs: 50 });
    let broker: Awaited<ReturnType<typeof startBroker>> | null = null;
    let router: RouterSim | null = null;
    try {
      const names = () => handle.runtime.health().map((h) => h.name);
      assert.ok(!names().includes("netifd"), names().join(","));
      broker = await startBroker({ path: socket });
      router = wanRouter(socket, "sfdt1wan");
      await router.start();
      // The object server retries with back-off (at most 5 s); then the collector polls.
      const polled = await netifdPolled(handle, 15000);
      assert.ok(polled, `netifd collector never polled; collectors: ${names().join(",")}`);
      const wired = handle.backend.events(50).events.find((e) =>
        e.type === "config" && e.reason.startsWith("ubus is up")
      );
      assert.ok(wired, "one event says the ubus collectors were wired");
      assert.equal(handle.members().find((m) => m.name === "wan")?.device, "sfdt1wan");
    } finally {
      await handle.stop();
      await router?.stop();
      await broker?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("daemon: the dish's outage records become events, the backlog as one summary", () => {
  const at = Date.UTC(2026, 10, 25, 12, 0, 0);
  const rec = (cause: string, offsetS: number, duration_s: number, backlog: boolean) => ({
    cause,
    start_unix_ms: at + offsetS * 1000,
    duration_s,
    did_switch: cause === "NO_SCHEDULE",
    backlog,
  });
  const first = dishOutageReasons([
    rec("OBSTRUCTED", 0, 3.25, true),
    rec("NO_SCHEDULE", 60, 9, true),
    rec("OBSTRUCTED", 90, 2, true),
    rec("NO_SCHEDULE", 600, 8.9, false),
  ]);
  assert.deepEqual(first.lines, [
    "dish history before starfail was watching: 3 outages since 2026-11-25T12:00:00.000Z " +
    "(OBSTRUCTED 2, NO_SCHEDULE 1), 14.3 s in all",
    "dish outage NO_SCHEDULE: 8.9 s from 2026-11-25T12:10:00.000Z (ended by a satellite switch)",
  ]);
  assert.equal(first.reportedUntilMs, at + 600_000);
  // A collector rebuilt by a reload reads the whole list again: only the new outage is news.
  const again = dishOutageReasons([
    rec("OBSTRUCTED", 0, 3.25, false),
    rec("NO_SCHEDULE", 600, 8.9, false),
    rec("OBSTRUCTED", 700, 4, false),
  ], first.reportedUntilMs);
  assert.deepEqual(again.lines, ["dish outage OBSTRUCTED: 4.0 s from 2026-11-25T12:11:40.000Z"]);
  assert.equal(again.reportedUntilMs, at + 700_000);
  assert.deepEqual(dishOutageReasons([], 5), { lines: [], reportedUntilMs: 5 });
});
