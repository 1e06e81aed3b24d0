import assert from "node:assert/strict";
import type { Observation } from "../engine/types.ts";
import { startBroker } from "../ubus/broker.ts";
import { UbusClient } from "../ubus/client.ts";
import { UbusObjectServer } from "../ubus/object_server.ts";
import { NetifdCollector } from "../collectors/netifd.ts";
import { fetchIwinfo } from "../collectors/iwinfo.ts";
import { cellularObservation, detectCellular } from "../collectors/cellular.ts";
import { fetchMwan3Runtime, policyShares } from "../collectors/mwan3_status.ts";
import { RouterSim } from "../sim/ubus_sims.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "starfail-sim-" });
  const socket = `${dir}/ubus.sock`;
  const broker = await startBroker({ path: socket });
  const sim = new RouterSim({
    socket,
    interfaces: [
      { name: "wan", l3_device: "eth1", address: "100.64.0.2", gateway: "100.64.0.1", metric: 1 },
      { name: "mob1s1a1", proto: "wwan", l3_device: "wwan0", gateway: "10.78.34.17", metric: 2 },
    ],
    wifi: [{ device: "wlan0", signal: -61, noise: -92, bitrate: 144400 }],
    cellular: {
      net_mode: "LTE",
      rssi: -63,
      rsrp: -90,
      rsrq: -8,
      sinr: 18,
      operator: "Verizon Wireless",
      reg_stat_str: "Registered, home",
    },
    mwan3: true,
  });
  await sim.start();
  const daemon = new UbusObjectServer({ socket });
  await daemon.start();
  return {
    socket,
    sim,
    daemon,
    async close() {
      await daemon.stop();
      await sim.stop();
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("netifd collector: poll, then an ifdown event reaches the engine at once", async () => {
  const env = await setup();
  try {
    const seen: Observation[] = [];
    let wake: (() => void) | null = null;
    const netifd = new NetifdCollector({
      ubus: env.daemon,
      members: [{ member: "starlink", iface: "wan" }, { member: "cellular", iface: "mob1s1a1" }],
      clock: () => 42,
      onObservation: (o) => {
        seen.push(o);
        wake?.();
      },
    });
    await netifd.start();
    assert.deepEqual(await netifd.poll(), [
      { t: 42, member: "starlink", link_up: true },
      { t: 42, member: "cellular", link_up: true },
    ]);
    assert.equal(netifd.last.get("starlink")?.l3_device, "eth1");
    assert.equal(netifd.last.get("starlink")?.default_route, true);
    const down = new Promise<void>((r) => (wake = r));
    await env.sim.setInterfaceUp("wan", false);
    await down;
    assert.deepEqual(seen, [{ t: 42, member: "starlink", link_up: false }]);
    const up = new Promise<void>((r) => (wake = r));
    await env.sim.setInterfaceUp("wan", true);
    await up;
    assert.deepEqual(seen[1], { t: 42, member: "starlink", link_up: true });
  } finally {
    await env.close();
  }
});

Deno.test("netifd subscription delivers interface.down with the full status", async () => {
  const env = await setup();
  const client = await UbusClient.connect({ socket: env.socket });
  try {
    let resolveGot!: (v: [string, Record<string, unknown>]) => void;
    const got = new Promise<[string, Record<string, unknown>]>((r) => (resolveGot = r));
    await client.subscribe("network.interface", (type, data) => resolveGot([type, data]));
    await env.sim.setInterfaceUp("mob1s1a1", false);
    const [type, data] = await got;
    assert.equal(type, "interface.down");
    assert.equal(data.interface, "mob1s1a1");
    assert.equal(data.up, false);
    assert.equal("route" in data, false);
  } finally {
    await client.close();
    await env.close();
  }
});

Deno.test("iwinfo, cellular and mwan3 collectors read the simulated router over ubus", async () => {
  const env = await setup();
  try {
    const wifi = await fetchIwinfo(env.daemon, "wlan0");
    assert.equal(wifi.signal_dbm, -61);
    assert.equal(wifi.noise_dbm, -92);
    assert.equal(wifi.bitrate_kbps, 144400);
    env.sim.setWifi("wlan0", { signal: undefined });
    assert.equal((await fetchIwinfo(env.daemon, "wlan0")).signal_dbm, undefined);

    const cell = await detectCellular({
      ubus: env.daemon,
      run: () => Promise.resolve({ code: 127, stdout: "", stderr: "not found", timedOut: false }),
    });
    assert.equal(cell?.backend, "rutos-ubus");
    env.sim.setCellular({ rsrp: -112, reg_stat_str: "Roaming" });
    const reading = await cell!.read();
    assert.deepEqual(cellularObservation("cellular", reading, 7), {
      t: 7,
      member: "cellular",
      rsrp_dbm: -112,
      rsrq_db: -8,
      sinr_db: 18,
      roaming: true,
    });
    assert.equal(reading.operator, "Verizon Wireless");

    const mwan3 = await fetchMwan3Runtime(env.daemon);
    assert.deepEqual(policyShares(mwan3!, "failover"), [{ interface: "wan", percent: 100 }]);
    await env.sim.setInterfaceUp("wan", false);
    const after = await fetchMwan3Runtime(env.daemon);
    assert.equal(after!.interfaces.wan.status, "offline");
    assert.deepEqual(policyShares(after!, "failover"), [{ interface: "mob1s1a1", percent: 100 }]);
  } finally {
    await env.close();
  }
});

Deno.test("iwinfo: missing device argument is INVALID_ARGUMENT, unknown device NOT_FOUND", async () => {
  const env = await setup();
  try {
    await assert.rejects(env.daemon.call("iwinfo", "info", {}), /Invalid argument/);
    await assert.rejects(
      fetchIwinfo(env.daemon, "wlan9", {
        run: () =>
          Promise.resolve({ code: 127, stdout: "", stderr: "iwinfo: not found", timedOut: false }),
      }),
      /iwinfo has no device 'wlan9'/,
    );
  } finally {
    await env.close();
  }
});
