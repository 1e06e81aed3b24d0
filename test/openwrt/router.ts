/**
 * A router for the integration suite built on the REAL OpenWrt programs where
 * they exist: OpenWrt's `ubusd` on a private socket and the real `uci` (with
 * its config and save folders in a temp dir). What has no real program here
 * stays a double built from the real samples: netifd's interface objects,
 * iwinfo and the RutOS modem (`sim/ubus_sims.ts`, registered on the real
 * ubusd), `mwan3` (`sim/fakebin/mwan3`, reading the file the real `uci`
 * wrote) and `ping` (`sim/fakebin/ping`: no packet leaves the machine). The
 * dish simulator listens on 127.0.0.1 only.
 *
 * @module
 */

import { runCommand } from "../../collectors/exec.ts";
import type { ToolRunner } from "../../daemon/daemon.ts";
import { type DaemonHandle, startDaemon } from "../../daemon/daemon.ts";
import { type DishSim, startDishSim } from "../../sim/dish_sim.ts";
import { createFakeRouter, type FakeRouter } from "../../sim/fakebin/fake_router.ts";
import { DEVICES, mwan3Config, SIM_CELLULAR, simRouterConfig, simWifi } from "../../sim/router.ts";
import { RouterSim } from "../../sim/ubus_sims.ts";
import { OPENWRT } from "../require.ts";
import { type RealUbusd, startUbusd } from "./ubusd.ts";

const FAKEBIN = new URL("../../sim/fakebin/", import.meta.url).pathname;

/** A running router of real ubusd + real uci + doubles for netifd/iwinfo/modem/mwan3/ping. */
export interface RealRouter {
  /** Temp dir holding everything. */
  dir: string;
  /** ubus socket of the real ubusd. */
  socket: string;
  /** The current real ubusd (replaced by {@linkcode RealRouter.restartUbusd}). */
  ubusd: RealUbusd;
  /** uci's config folder (`uci -c`), holding `mwan3`. */
  confDir: string;
  /** uci's save folder (`uci -t`; `-P` would make `uci commit` a no-op) for staged changes. */
  saveDir: string;
  /** Runs `uci` as the real binary on this router's folders, `mwan3`/`ping` as the doubles. */
  run: ToolRunner;
  /** The real `uci` on this router's folders. */
  uci(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The netifd/iwinfo/modem doubles on the real ubusd. */
  sim: RouterSim;
  /** The mwan3 double's state. */
  fake: FakeRouter;
  /** The dish simulator (127.0.0.1). */
  dish: DishSim;
  /** The daemon's config file. */
  configPath: string;
  /** Kills ubusd (SIGKILL) and starts a new one on the same socket; resolves when it accepts. */
  restartUbusd(): Promise<void>;
  /** Starts the daemon in this process against this router. */
  startDaemon(extra?: { ubusWaitMs?: number }): Promise<DaemonHandle>;
  /** Stops everything and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts ubusd, the doubles and the dish simulator, with mwan3's config in
 * the real uci's folder and the daemon's config beside it.
 */
export async function startRealRouter(): Promise<RealRouter> {
  const dir = await Deno.makeTempDir({ prefix: `starfail_owrt_${Deno.pid}_` });
  const confDir = `${dir}/config`;
  const saveDir = `${dir}/save`;
  const netDir = `${dir}/net`;
  await Deno.mkdir(confDir);
  await Deno.mkdir(saveDir);
  await Deno.mkdir(netDir);
  for (const [dev, latency] of [[DEVICES.starlink, 38], [DEVICES.cellular, 62]] as const) {
    await Deno.writeTextFile(
      `${netDir}/${dev}.json`,
      JSON.stringify({ latency_ms: latency, loss_pct: 0, jitter_ms: 4 }),
    );
  }
  await Deno.writeTextFile(
    `${netDir}/${DEVICES.wifi}.json`,
    JSON.stringify({ latency_ms: 30, loss_pct: 0, jitter_ms: 3 }),
  );
  await Deno.writeTextFile(`${confDir}/mwan3`, mwan3Config());
  // The mwan3 double keeps its interface state in its own dir; it reads the mwan3 config
  // from the real uci's folder (UCI_CONFDIR), i.e. what the real uci committed.
  const fake = await createFakeRouter({
    mwan3Config: `${confDir}/mwan3`,
    online: ["wan", "wwan", "wifi"],
  });
  const toolEnv = {
    UCI_CONFDIR: confDir,
    UCI_SAVEDIR: saveDir,
    FAKE_MWAN3_STATE: fake.env.FAKE_MWAN3_STATE,
    FAKE_NET_DIR: netDir,
  };
  const uciBase = ["-c", confDir, "-t", saveDir];
  const run: ToolRunner = (cmd, args, o) => {
    if (cmd === "uci") return runCommand(OPENWRT.uci, [...uciBase, ...args], o);
    if (cmd === "mwan3" || cmd === "ping") {
      return runCommand(`${FAKEBIN}${cmd}`, args, { ...o, env: { ...o.env, ...toolEnv } });
    }
    return runCommand(cmd, args, o);
  };
  const socket = `${dir}/ubus.sock`;
  const ubusd = await startUbusd(socket);
  const sim = new RouterSim({
    socket,
    interfaces: [
      { name: "wan", proto: "dhcp", l3_device: DEVICES.starlink, address: "100.64.0.2" },
      { name: "wwan", proto: "qmi", l3_device: DEVICES.cellular, address: "10.64.12.7" },
      { name: "wifi", proto: "dhcp", l3_device: DEVICES.wifi, address: "192.0.2.77" },
    ],
    wifi: [simWifi(DEVICES.wifi)],
    cellular: SIM_CELLULAR,
    mwan3: false,
  });
  await sim.start();
  const dish = await startDishSim({ hostname: "127.0.0.1", scenario: "healthy" });
  const configPath = `${dir}/starfail`;
  await Deno.writeTextFile(configPath, simRouterConfig(dish.port, dish.grpcWebPort));

  const router: RealRouter = {
    dir,
    socket,
    ubusd,
    confDir,
    saveDir,
    run,
    uci: async (args) => {
      const r = await runCommand(OPENWRT.uci, [...uciBase, ...args], { timeoutMs: 5000 });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    },
    sim,
    fake,
    dish,
    configPath,
    async restartUbusd() {
      await router.ubusd.stop();
      router.ubusd = await startUbusd(socket);
    },
    startDaemon(extra = {}) {
      return startDaemon({ configPath, socket, run, ...extra });
    },
    async stop() {
      await sim.stop();
      await dish.close();
      await router.ubusd.stop();
      await fake.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
  };
  return router;
}
