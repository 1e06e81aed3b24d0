import assert from "node:assert/strict";
import { startBroker } from "../ubus/broker.ts";
import { UbusObjectServer } from "../ubus/object_server.ts";
import { STARFAIL_OBJECT, starfailMethods } from "../ubus/starfail_object.ts";
import { FakeStarfailBackend } from "./starfail_fake_backend.ts";
import { UsageError } from "../cli/args.ts";
import * as status from "../cli/status.ts";
import * as members from "../cli/members.ts";
import * as metrics from "../cli/metrics.ts";
import * as history from "../cli/history.ts";
import * as events from "../cli/events.ts";
import * as failover from "../cli/failover.ts";
import * as restore from "../cli/restore.ts";
import * as recheck from "../cli/recheck.ts";

async function capture(
  fn: () => Promise<number>,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await fn();
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

async function withDaemon(
  fn: (socket: string, backend: FakeStarfailBackend) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "starfail-cli-" });
  const socket = `${dir}/ubus.sock`;
  const broker = await startBroker({ path: socket });
  const backend = new FakeStarfailBackend();
  const server = new UbusObjectServer({ socket });
  await server.addObject(STARFAIL_OBJECT, starfailMethods(backend));
  await server.start();
  try {
    await fn(socket, backend);
  } finally {
    await server.stop();
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli status prints the primary, why, members and collectors", async () => {
  await withDaemon(async (socket) => {
    const r = await capture(() => status.run(["--socket", socket]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Primary: {3}starlink since/m);
    assert.match(r.out, /^Why: {7}highest final score$/m);
    assert.match(r.out, /^\*starlink +starlink +up /m);
    assert.match(r.out, /^ cellular +cellular +up +5m0\ds +71 /m);
    assert.match(r.out, /cellular +cellular +NO .*mmcli: couldn't find modem/);
  });
});

Deno.test("cli status --json prints the raw reply", async () => {
  await withDaemon(async (socket, backend) => {
    const r = await capture(() => status.run(["--socket", socket, "--json"]));
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.out), JSON.parse(JSON.stringify(backend.status())));
  });
});

Deno.test("cli members explains the score terms", async () => {
  await withDaemon(async (socket) => {
    const r = await capture(() => members.run(["--socket", socket]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^starlink \(primary\): starlink on wan, weight 100, up for 5m0\ds/m);
    assert.match(
      r.out,
      /score: final 71 = blend\(instant 71, ewma 71, window 71\) × 0.8 − metered 10/,
    );
    assert.match(r.out, /^ {2}latency +62 ms +50\.\.1500 +95 +25 +1\.4/m);
    assert.match(r.out, /RSRP dBm -95, RSRQ dB -11, SINR dB 12\.5, roaming false/);
  });
});

Deno.test("cli metrics, history and events print tables", async () => {
  await withDaemon(async (socket) => {
    const m = await capture(() => metrics.run(["cellular", "--limit", "3", "--socket", socket]));
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /^cellular: 3 samples$/m);
    assert.match(m.out, /^TIME +LINK +LAT_MS +LOSS_% +RSRP +RSRQ +SINR +ROAM +FINAL$/m);
    const h = await capture(() => history.run(["wifi", "--since", "120", "--socket", socket]));
    assert.equal(h.code, 0, h.err);
    assert.match(h.out, /^wifi: last 2m00s, 3 points$/m);
    const e = await capture(() => events.run(["--socket", socket]));
    assert.equal(e.code, 0);
    assert.match(e.out, /switch +starlink +- +starlink +initial choice/);
  });
});

Deno.test("cli failover, restore and recheck change the daemon's state", async () => {
  await withDaemon(async (socket, backend) => {
    const f = await capture(() => failover.run(["cellular", "--for", "600", "--socket", socket]));
    assert.equal(f.code, 0, f.err);
    assert.equal(f.out, "cellular is primary now (manual override for 600 s)");
    assert.equal(backend.primary, "cellular");
    const s = await capture(() => status.run(["--socket", socket, "--json"]));
    assert.equal(JSON.parse(s.out).override.member, "cellular");
    const r = await capture(() => restore.run(["--socket", socket]));
    assert.equal(r.out, "override removed; automatic selection chose starlink");
    assert.equal(backend.primary, "starlink");
    const c = await capture(() => recheck.run(["--socket", socket]));
    assert.equal(c.code, 0);
    assert.equal(backend.rechecks, 1);
  });
});

Deno.test("cli: unknown member is one line from the daemon, exit 65", async () => {
  await withDaemon(async (socket) => {
    const r = await capture(() => metrics.run(["nosuch", "--socket", socket]));
    assert.equal(r.code, 65);
    assert.equal(
      r.err,
      "starfail metrics: Not found: unknown member 'nosuch'; known members: starlink, cellular, wifi",
    );
  });
});

Deno.test("cli: no starfail object on the bus → one line, exit 69", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail-cli-" });
  const socket = `${dir}/ubus.sock`;
  const broker = await startBroker({ path: socket });
  try {
    const r = await capture(() => status.run(["--socket", socket]));
    assert.equal(r.code, 69);
    assert.equal(r.err, `starfail daemon is not running: no object 'starfail' on ${socket}`);
    assert.equal(r.out, "");
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: no ubus at all → one line, exit 69; env socket is honoured", async () => {
  const socket = "/nonexistent-starfail/ubus.sock";
  Deno.env.set("STARFAIL_UBUS_SOCKET", socket);
  try {
    const r = await capture(() => recheck.run([]));
    assert.equal(r.code, 69);
    assert.match(
      r.err,
      /^starfail daemon is not running: cannot reach ubus at \/nonexistent-starfail\/ubus\.sock \(/,
    );
    assert.equal(r.err.split("\n").length, 1);
  } finally {
    Deno.env.delete("STARFAIL_UBUS_SOCKET");
  }
});

Deno.test("cli: bad flags are usage errors", async () => {
  await assert.rejects(metrics.run([]), UsageError);
  await assert.rejects(metrics.run(["wan", "--limit", "x"]), UsageError);
  await assert.rejects(status.run(["--bogus"]), UsageError);
});
