/**
 * A simulated OpenWrt router for the demo and the daemon tests: the in-process
 * ubus broker with simulated netifd interfaces, iwinfo and a RutOS-style
 * `gsm.modem0` (`sim/ubus_sims.ts`), and the fake `uci`, `mwan3` and `ping`
 * (`sim/fakebin/`) keeping real files in a temp dir. The daemon talks to it
 * exactly as to a router: over the ubus socket, and by running the tools by
 * name through the {@linkcode SimRouter.run} runner.
 *
 * @module
 */

import { runCommand } from "../collectors/exec.ts";
import type { ToolRunner } from "../daemon/daemon.ts";
import { type Broker, startBroker } from "../ubus/broker.ts";
import { createFakeRouter, type FakeRouter } from "./fakebin/fake_router.ts";
import { FAKE_TOOLS, runFakeTool } from "./fakebin/inproc.ts";
import { RouterSim } from "./ubus_sims.ts";

/** Member (mwan3 member section) names of the simulated router. */
export const MEMBERS = { starlink: "wan_m1_w3", cellular: "wwan_m2_w2", wifi: "wifi_m3_w1" };
/** Layer-3 device names of the simulated uplinks (names no real machine has). */
export const DEVICES = { starlink: "demo-sl0", cellular: "demo-cell0", wifi: "demo-wifi0" };

/** The simulated router's /etc/config/mwan3: one policy, Starlink → cellular → Wi-Fi. */
export function mwan3Config(): string {
  return `
config globals 'globals'
	option mmx_mask '0x3F00'

config interface 'wan'
	option enabled '1'
	list track_ip '1.1.1.1'

config interface 'wwan'
	option enabled '1'
	list track_ip '1.0.0.1'

config interface 'wifi'
	option enabled '1'
	list track_ip '9.9.9.9'

config member '${MEMBERS.starlink}'
	option interface 'wan'
	option metric '1'
	option weight '3'

config member '${MEMBERS.cellular}'
	option interface 'wwan'
	option metric '2'
	option weight '2'

config member '${MEMBERS.wifi}'
	option interface 'wifi'
	option metric '3'
	option weight '1'

config policy 'starlink_cell'
	list use_member '${MEMBERS.starlink}'
	list use_member '${MEMBERS.cellular}'
	list use_member '${MEMBERS.wifi}'
	option last_resort 'unreachable'

config rule 'default_rule_v4'
	option dest_ip '0.0.0.0/0'
	option use_policy 'starlink_cell'
	option family 'ipv4'
`;
}

/** The simulated modem's readings (RutOS `gsm.modem0` fields), shared by every simulated router. */
export const SIM_CELLULAR = {
  net_mode: "LTE",
  rssi: -67,
  rsrp: -94,
  rsrq: -10,
  sinr: 12,
  operator: "Telia",
  reg_stat_str: "Registered, home",
} as const;

/** The simulated Wi-Fi uplink's iwinfo reading, on `device`. */
export function simWifi(
  device: string,
): { device: string; ssid: string; signal: number; noise: number; bitrate: number } {
  return { device, ssid: "Marina-Guest", signal: -67, noise: -95, bitrate: 65000 };
}

/** A /etc/config/starfail for the simulated router, with short demo-friendly windows. */
export function simRouterConfig(
  dishPort: number,
  webPort: number,
  transport: "auto" | "grpc-web" = "auto",
): string {
  return `# Written by 'starfail demo' for its simulated router.
config starfail 'main'
	option use_mwan3 '1'
	option poll_interval_ms '1000'
	option min_uptime_s '5'
	option cooldown_s '10'
	option fail_min_duration_s '4'
	option restore_min_duration_s '8'
	option history_window_s '60'

config starfail 'starlink'
	option host '127.0.0.1'
	option port '${dishPort}'
	option grpc_web_port '${webPort}'
	option transport '${transport}'
	option poll_interval_ms '1000'
	option timeout_ms '1500'

config member '${MEMBERS.starlink}'
	option class 'starlink'
	option probe_interval_s '1'
	list probe_target '192.0.2.1'

config member '${MEMBERS.cellular}'
	option class 'cellular'
	option metered '1'
	option probe_interval_s '2'
	option metered_probe_interval_s '2'
	list probe_target '192.0.2.1'

config member '${MEMBERS.wifi}'
	option class 'wifi'
	option probe_interval_s '2'
	list probe_target '192.0.2.1'
`;
}

/** A running simulated router. */
export interface SimRouter {
  /** The ubus socket. */
  socket: string;
  /** Runs `uci`, `mwan3` and `ping` (by name) as the fakes, with their files. */
  run: ToolRunner;
  /** Sets what the fake ping answers through a device. */
  setPing(
    device: string,
    state: { latency_ms?: number; loss_pct?: number; jitter_ms?: number; link?: boolean },
  ): Promise<void>;
  /** The simulated netifd/iwinfo/modem objects. */
  sim: RouterSim;
  /** The fake uci/mwan3 files. */
  fake: FakeRouter;
  /** Commands the fake mwan3 received, e.g. `ifup wwan`. */
  mwan3Calls(): Promise<string[]>;
  /** mwan3 member metrics as the fake uci files hold them. */
  metrics(): Promise<Record<string, string>>;
  /** Stops the simulated objects and the broker, and removes the fake files. */
  stop(): Promise<void>;
}

/** Starts the simulated router with files under `dir` (and its ubus socket at `socket`, default `dir/ubus.sock`); all uplinks healthy. */
export async function startSimRouter(opts: { dir: string; socket?: string }): Promise<SimRouter> {
  const netDir = `${opts.dir}/net`;
  await Deno.mkdir(netDir, { recursive: true });
  const setPing: SimRouter["setPing"] = (device, state) =>
    Deno.writeTextFile(`${netDir}/${device}.json`, JSON.stringify(state));
  await setPing(DEVICES.starlink, { latency_ms: 38, loss_pct: 0, jitter_ms: 4 });
  await setPing(DEVICES.cellular, { latency_ms: 62, loss_pct: 0, jitter_ms: 8 });
  await setPing(DEVICES.wifi, { latency_ms: 30, loss_pct: 0, jitter_ms: 3 });

  // The fake tools, called by name exactly as on a router; their files come through the
  // environment of each call (the process environment stays untouched).
  const mwan3File = `${opts.dir}/mwan3.uci`;
  await Deno.writeTextFile(mwan3File, mwan3Config());
  const fake = await createFakeRouter({
    mwan3Config: mwan3File,
    online: ["wan", "wwan", "wifi"],
    parentDir: opts.dir,
  });
  // In-process (sim/fakebin/inproc.ts): nothing is spawned but the real tools (`ip`), so the
  // demo runs under the compiled binary's permissions.
  const toolEnv = { ...fake.env, FAKE_NET_DIR: netDir };
  const run: ToolRunner = (cmd, args, o) =>
    FAKE_TOOLS.includes(cmd)
      ? runFakeTool(cmd, args, { ...o, env: { ...o.env, ...toolEnv } })
      : runCommand(cmd, args, o);

  const socket = opts.socket ?? `${opts.dir}/ubus.sock`;
  const broker: Broker = await startBroker({ path: socket });
  const sim = new RouterSim({
    socket,
    interfaces: [
      {
        name: "wan",
        proto: "dhcp",
        l3_device: DEVICES.starlink,
        address: "100.64.0.2",
        gateway: "100.64.0.1",
      },
      {
        name: "wwan",
        proto: "qmi",
        l3_device: DEVICES.cellular,
        address: "10.64.12.7",
        gateway: "10.64.12.1",
      },
      {
        name: "wifi",
        proto: "dhcp",
        l3_device: DEVICES.wifi,
        address: "192.0.2.77",
        gateway: "192.0.2.1",
      },
    ],
    wifi: [simWifi(DEVICES.wifi)],
    cellular: SIM_CELLULAR,
    // mwan3's runtime state comes from the fake `mwan3 status`, which follows the fake uci files.
    mwan3: false,
  });
  await sim.start();

  return {
    socket,
    run,
    setPing,
    sim,
    fake,
    async mwan3Calls() {
      return (await fake.calls()).map((c) => c.join(" "));
    },
    async metrics() {
      const shown = await run("uci", ["-q", "show", "mwan3"], { timeoutMs: 5000 });
      const out: Record<string, string> = {};
      for (const line of shown.stdout.split("\n")) {
        const m = /^mwan3\.([^.]+)\.metric='?(\d+)'?$/.exec(line);
        if (m) out[m[1]] = m[2];
      }
      return out;
    },
    async stop() {
      await sim.stop();
      await broker.close();
      await fake.cleanup();
    },
  };
}
