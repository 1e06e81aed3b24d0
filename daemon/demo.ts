/**
 * `starfail demo`: the real daemon on a simulated router, on any machine.
 *
 * What is simulated, and how (every piece speaks the real protocol or format,
 * so the daemon runs its production code paths unchanged):
 * - ubus: the in-process broker (`ubus/broker.ts`) on a unix socket, with
 *   simulated netifd interfaces, iwinfo and a RutOS-style `gsm.modem0`
 *   (`test/ubus_sims.ts`);
 * - the dish: the gRPC simulator (`test/dish_sim.ts`) on 127.0.0.1;
 * - `uci`, `mwan3` and `ping`: the fake tools in `test/fakebin/`, which keep
 *   real UCI files and print the real text formats.
 *
 * The story: everything healthy → the dish sees an obstruction building up
 * and then an outage (predictive failover to cellular before pings are
 * lost) → the sky clears → failback to Starlink once it has been stable for
 * the restore window.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { startBroker } from "../ubus/broker.ts";
import { type DishState, startDishSim } from "../test/dish_sim.ts";
import { RouterSim } from "../test/ubus_sims.ts";
import { createFakeRouter } from "../test/fakebin/fake_router.ts";
import { startDaemon, type ToolRunner } from "./daemon.ts";
import { runCommand } from "../collectors/exec.ts";
import type { LogHandle } from "../telemetry/log.ts";

const log = getLogger(["starfail", "demo"]);

/** Options for {@linkcode runDemo}. */
export interface DemoOptions {
  /** Length of the story in seconds (30–600, default 60). */
  durationS?: number;
  /** Logging, so the daemon's `setlog` works. */
  logs?: LogHandle;
  /** Called once the simulated router is up, with the socket the CLI can query. */
  onReady?: (info: { socket: string; dir: string }) => void;
}

/** One change of primary seen during the demo. */
export interface DemoSwitch {
  /** Seconds since the demo started. */
  at_s: number;
  /** Previous primary. */
  from: string | null;
  /** New primary. */
  to: string;
  /** The engine's reason. */
  reason: string;
}

/** What the demo shows at the end. */
export interface DemoSummary {
  /** Story length, seconds. */
  duration_s: number;
  /** When the dish started reporting the obstruction (s). */
  obstruction_at_s: number;
  /** When pings through Starlink started to fail (s). */
  loss_at_s: number;
  /** When the sky cleared (s). */
  clear_at_s: number;
  /** Every change of primary. */
  switches: DemoSwitch[];
  /** Commands the fake mwan3 received (`ifup wwan`, …). */
  mwan3_calls: string[];
  /** The mwan3 member metrics at the end, from the fake uci's files. */
  metrics: Record<string, string>;
}

const MEMBERS = { starlink: "wan_m1_w3", cellular: "wwan_m2_w2", wifi: "wifi_m3_w1" };
const DEVICES = { starlink: "demo-sl0", cellular: "demo-cell0", wifi: "demo-wifi0" };

function mwan3Config(): string {
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

function starfailConfig(dishPort: number, webPort: number): string {
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

/** The story's timetable for a given length. */
export function storyTimes(
  durationS: number,
): { obstruction: number; loss: number; clear: number } {
  const obstruction = Math.round(durationS * 0.2);
  return {
    obstruction,
    loss: obstruction + 4,
    clear: Math.round(durationS * 0.45),
  };
}

/**
 * Runs the demo for its duration and resolves with the summary. Everything it
 * started is stopped and its temp dir removed before it resolves.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoSummary> {
  const durationS = Math.min(600, Math.max(30, opts.durationS ?? 60));
  const times = storyTimes(durationS);
  const dir = await Deno.makeTempDir({ prefix: "starfail_demo_" });
  const netDir = `${dir}/net`;
  await Deno.mkdir(netDir);
  const t0 = performance.now() / 1000;
  const elapsed = () => performance.now() / 1000 - t0;

  const setPing = (dev: string, state: Record<string, unknown>) =>
    Deno.writeTextFile(`${netDir}/${dev}.json`, JSON.stringify(state));
  await setPing(DEVICES.starlink, { latency_ms: 38, loss_pct: 0, jitter_ms: 4 });
  await setPing(DEVICES.cellular, { latency_ms: 62, loss_pct: 0, jitter_ms: 8 });
  await setPing(DEVICES.wifi, { latency_ms: 30, loss_pct: 0, jitter_ms: 3 });

  // The fake tools, called by name exactly as on a router; their files come through the
  // environment of each call (the process environment stays untouched).
  const mwan3File = `${dir}/mwan3.uci`;
  await Deno.writeTextFile(mwan3File, mwan3Config());
  const router = await createFakeRouter({
    mwan3Config: mwan3File,
    online: ["wan", "wwan", "wifi"],
  });
  const fakebin = new URL("../test/fakebin/", import.meta.url).pathname;
  const fakes: Record<string, string> = {
    uci: `${fakebin}uci`,
    mwan3: `${fakebin}mwan3`,
    ping: `${fakebin}ping`,
  };
  const toolEnv = { ...router.env, FAKE_NET_DIR: netDir };
  const run: ToolRunner = (cmd, args, o) =>
    runCommand(fakes[cmd] ?? cmd, args, { ...o, env: { ...o.env, ...toolEnv } });

  const socket = `${dir}/ubus.sock`;
  const broker = await startBroker({ path: socket });
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
    wifi: [{ device: DEVICES.wifi, ssid: "Marina-Guest", signal: -67, noise: -95, bitrate: 65000 }],
    cellular: {
      net_mode: "LTE",
      rssi: -67,
      rsrp: -94,
      rsrq: -10,
      sinr: 12,
      operator: "Telia",
      reg_stat_str: "Registered, home",
    },
    // mwan3's runtime state comes from the fake `mwan3 status`, which follows the fake uci files.
    mwan3: false,
  });
  await sim.start();

  // The dish: healthy, then an obstruction building up, an outage, then clear sky.
  const dishState = (second: number): DishState => {
    const t = second;
    if (t < times.obstruction) return { latency_ms: 38, fraction_obstructed: 0.004 };
    if (t < times.loss) {
      return {
        latency_ms: 55,
        fraction_obstructed: 0.02 + 0.01 * (t - times.obstruction),
        currently_obstructed: t >= times.obstruction + 2,
        drop_rate: 0.05,
      };
    }
    if (t < times.clear) {
      return {
        latency_ms: -1,
        fraction_obstructed: 0.07,
        currently_obstructed: true,
        outage_cause: "OBSTRUCTED",
        drop_rate: 1,
      };
    }
    // The boat swung clear of the mast: the obstructed fraction falls back.
    return { latency_ms: 36, fraction_obstructed: 0.005 };
  };
  const dish = await startDishSim({ hostname: "127.0.0.1", scenario: dishState, clock: elapsed });
  const cfgPath = `${dir}/starfail`;
  await Deno.writeTextFile(cfgPath, starfailConfig(dish.port, dish.grpcWebPort));

  const handle = await startDaemon({
    configPath: cfgPath,
    socket,
    run,
    monitor: true,
    ...(opts.logs ? { logs: opts.logs } : {}),
  });
  opts.onReady?.({ socket, dir });

  const switches: DemoSwitch[] = [];
  handle.runtime.onEvent((ev) => {
    if (ev.type === "switch" && ev.to !== null) {
      switches.push({
        at_s: Math.round(elapsed() * 10) / 10,
        from: ev.from,
        to: ev.to,
        reason: ev.reason,
      });
    }
  });

  const steps: [number, () => Promise<void>][] = [
    [times.obstruction, async () => {
      log.info("Story: the dish starts to see an obstruction (a tree, a mast?)");
      await setPing(DEVICES.starlink, { latency_ms: 70, loss_pct: 5, jitter_ms: 30 });
    }],
    [times.loss, async () => {
      log.info("Story: the dish is obstructed; pings through Starlink are lost");
      await setPing(DEVICES.starlink, { latency_ms: 70, loss_pct: 100 });
    }],
    [times.clear, async () => {
      log.info("Story: the sky is clear again");
      await setPing(DEVICES.starlink, { latency_ms: 36, loss_pct: 0, jitter_ms: 4 });
    }],
  ];
  try {
    for (const [at, action] of steps) {
      await sleepUntil(t0, at);
      await action();
    }
    await sleepUntil(t0, durationS);
  } finally {
    await handle.stop();
    await dish.close();
    await sim.stop();
    await broker.close();
  }
  const calls = (await router.calls()).map((c) => c.join(" "));
  const metrics: Record<string, string> = {};
  const shown = await new Deno.Command(router.uciCommand, {
    args: ["-q", "show", "mwan3"],
    env: router.env,
    stdout: "piped",
  }).output();
  for (const line of new TextDecoder().decode(shown.stdout).split("\n")) {
    const m = /^mwan3\.([^.]+)\.metric='?(\d+)'?$/.exec(line);
    if (m) metrics[m[1]] = m[2];
  }
  await router.cleanup();
  await Deno.remove(dir, { recursive: true });
  return {
    duration_s: durationS,
    obstruction_at_s: times.obstruction,
    loss_at_s: times.loss,
    clear_at_s: times.clear,
    switches,
    mwan3_calls: calls,
    metrics,
  };
}

function sleepUntil(t0: number, atS: number): Promise<void> {
  const ms = Math.max(0, (t0 + atS) * 1000 - performance.now());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The summary as text for people. */
export function formatSummary(s: DemoSummary): string {
  const lines = [
    "",
    `starfail demo — ${s.duration_s} s on a simulated router (Starlink + cellular + Wi-Fi, mwan3)`,
    `  ${String(s.obstruction_at_s).padStart(5)} s  the dish reports an obstruction building up`,
    `  ${String(s.loss_at_s).padStart(5)} s  outage: pings through Starlink are lost`,
    `  ${String(s.clear_at_s).padStart(5)} s  the sky clears`,
    "",
    "Decisions:",
  ];
  for (const sw of s.switches) {
    lines.push(
      `  ${sw.at_s.toFixed(1).padStart(5)} s  ${sw.from ?? "(start)"} → ${sw.to}: ${sw.reason}`,
    );
  }
  const left = s.switches.find((x) => x.from !== null && x.at_s >= s.obstruction_at_s);
  if (left !== undefined) {
    const lead = s.loss_at_s - left.at_s;
    lines.push(
      "",
      lead >= 0
        ? `Left Starlink ${lead.toFixed(1)} s before the first lost ping.`
        : `Left Starlink ${(-lead).toFixed(1)} s after the first lost ping.`,
    );
  }
  lines.push(`mwan3 received: ${s.mwan3_calls.join(", ") || "nothing"}`);
  lines.push(
    `mwan3 member metrics now: ${Object.entries(s.metrics).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  );
  return lines.join("\n");
}
