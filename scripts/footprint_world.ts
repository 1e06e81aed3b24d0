/**
 * The loopback world the footprint bench runs the shipped daemon in: a private
 * real `ubusd` (from `$STARFAIL_OPENWRT`, else the in-process broker) with the
 * simulated netifd interfaces, iwinfo, RutOS modem and mwan3 status on it, the
 * dish simulator over gRPC on 127.0.0.1, the fake `uci`/`mwan3` on `PATH`
 * (the real ones would change this machine's config), and real `ping`/`ip`
 * probing 127.0.0.1 through `lo`. Everything lives under
 * `/tmp/starfail/footprint_<pid>/`, a path the binary's permissions allow.
 *
 * Loaded only by `scripts/bench_footprint.ts` (never by the product).
 *
 * @module
 */

import { type Broker, startBroker } from "../ubus/broker.ts";

/** A running world and how to run `starfail` in it. */
export interface FootprintWorld {
  /** The world's directory (config, socket, trace files). */
  dir: string;
  /** The starfail config file the daemon reads. */
  configPath: string;
  /** The ubus socket. */
  socket: string;
  /** `real ubusd` or `in-process broker`. */
  broker: string;
  /** Environment for `starfail` processes (PATH with the fake uci/mwan3 first, their files). */
  env: Record<string, string>;
  /**
   * `--allow-net` entries the world needs beyond the binary's (as `STARFAIL_EXTRA_NET` adds
   * them): the dish simulator's ports, and the ubus socket (Deno asks for net access to
   * `unix:PATH` to connect to a Unix socket).
   */
  net: string[];
  /** Stops every double and removes the directory. */
  stop(): Promise<void>;
}

const MWAN3 = `
config globals 'globals'
	option mmx_mask '0x3F00'

config interface 'wan'
	option enabled '1'

config interface 'wwan'
	option enabled '1'

config interface 'wifi'
	option enabled '1'

config member 'wan_m1'
	option interface 'wan'
	option metric '1'

config member 'wwan_m2'
	option interface 'wwan'
	option metric '2'

config member 'wifi_m3'
	option interface 'wifi'
	option metric '3'

config policy 'balanced'
	list use_member 'wan_m1'
	list use_member 'wwan_m2'
	list use_member 'wifi_m3'

config rule 'default_rule_v4'
	option dest_ip '0.0.0.0/0'
	option use_policy 'balanced'
`;

function starfailConfig(dishPort: number, webPort: number): string {
  return `config starfail 'main'
	option use_mwan3 '1'
	option poll_interval_ms '1000'

config starfail 'starlink'
	option host '127.0.0.1'
	option port '${dishPort}'
	option grpc_web_port '${webPort}'
	option poll_interval_ms '1000'

config member 'wan_m1'
	option class 'starlink'
	option probe_interval_s '1'
	list probe_target '127.0.0.1'

config member 'wwan_m2'
	option class 'cellular'
	option probe_interval_s '1'
	option metered_probe_interval_s '1'
	list probe_target '127.0.0.1'

config member 'wifi_m3'
	option class 'wifi'
	option probe_interval_s '1'
	list probe_target '127.0.0.1'
`;
}

async function waitForSocket(path: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${path} not accepting within ${ms} ms: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Starts the world; `tag` tells apart several worlds of one process (their directories). */
export async function startFootprintWorld(tag = ""): Promise<FootprintWorld> {
  // The simulators are lazy imports: this module is only ever loaded by the bench.
  const { RouterSim } = await import("../sim/ubus_sims.ts");
  const { SIM_CELLULAR, simWifi } = await import("../sim/router.ts");
  const { startDishSim } = await import("../sim/dish_sim.ts");
  const { createFakeRouter } = await import("../sim/fakebin/fake_router.ts");

  const dir = `/tmp/starfail/footprint_${Deno.pid}${tag === "" ? "" : `_${tag}`}`;
  await Deno.mkdir(dir, { recursive: true });
  const socket = `${dir}/ubus.sock`;
  const prefix = Deno.env.get("STARFAIL_OPENWRT");
  const ubusdPath = prefix ? `${prefix}/sbin/ubusd` : null;
  let ubusd: Deno.ChildProcess | null = null;
  let inProc: Broker | null = null;
  if (ubusdPath !== null && (await Deno.stat(ubusdPath).catch(() => null)) !== null) {
    ubusd = new Deno.Command(ubusdPath, { args: ["-s", socket], stdout: "null", stderr: "null" })
      .spawn();
    await waitForSocket(socket, 5000);
  } else {
    inProc = await startBroker({ path: socket });
  }
  const iface = (name: string, proto: string, address: string) => ({
    name,
    proto,
    l3_device: "lo",
    address,
    gateway: "127.0.0.1",
  });
  const sim = new RouterSim({
    socket,
    interfaces: [
      iface("wan", "dhcp", "127.0.0.2"),
      iface("wwan", "qmi", "127.0.0.3"),
      iface("wifi", "dhcp", "127.0.0.4"),
    ],
    wifi: [simWifi("lo")],
    cellular: SIM_CELLULAR,
    mwan3: true,
  });
  await sim.start();
  const dish = await startDishSim({ hostname: "127.0.0.1", scenario: "healthy" });

  const mwan3File = `${dir}/mwan3.uci`;
  await Deno.writeTextFile(mwan3File, MWAN3);
  const fake = await createFakeRouter({ mwan3Config: mwan3File, online: ["wan", "wwan", "wifi"] });
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  for (const tool of ["uci", "mwan3"]) {
    await Deno.symlink(
      new URL(`../sim/fakebin/${tool}`, import.meta.url).pathname,
      `${bin}/${tool}`,
    );
  }
  const configPath = `${dir}/starfail`;
  await Deno.writeTextFile(configPath, starfailConfig(dish.port, dish.grpcWebPort));
  return {
    dir,
    configPath,
    socket,
    net: [`127.0.0.1:${dish.port}`, `127.0.0.1:${dish.grpcWebPort}`, `unix:${socket}`],
    broker: ubusd !== null ? "real ubusd" : "in-process broker",
    env: {
      ...fake.env,
      PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      NO_COLOR: "1",
    },
    async stop() {
      await dish.close();
      await sim.stop();
      if (ubusd !== null) {
        ubusd.kill("SIGKILL");
        await ubusd.status;
      }
      await inProc?.close();
      await fake.cleanup();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
