/**
 * `starfail demo`: the real daemon on a simulated router, on any machine.
 *
 * What is simulated, and how (every piece speaks the real protocol or format,
 * so the daemon runs its production code paths unchanged):
 * - ubus: the in-process broker (`ubus/broker.ts`) on a unix socket, with
 *   simulated netifd interfaces, iwinfo and a RutOS-style `gsm.modem0`
 *   (`sim/ubus_sims.ts`);
 * - the dish: the gRPC simulator (`sim/dish_sim.ts`) on 127.0.0.1;
 * - `uci`, `mwan3` and `ping`: the fake tools in `sim/fakebin/`, which keep
 *   real UCI files and print the real text formats.
 *
 * The story: everything healthy → the dish sees an obstruction building up
 * and then an outage (predictive failover to cellular before pings are
 * lost) → the sky clears → failback to Starlink once it has been stable for
 * the restore window.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { DishState } from "../sim/dish_sim.ts";
import { startDaemon } from "./daemon.ts";
import type { LogHandle } from "../telemetry/log.ts";

const log = getLogger(["starfail", "demo"]);

/**
 * Where the demo keeps its temporary folder (removed on every exit, Ctrl-C
 * included): the compiled binary may read and write only there.
 */
export const DEMO_DIR = "/tmp/starfail";

/** The demo's ubus sockets: fixed paths, since Deno's `net` permission on unix sockets takes exact paths. */
export const DEMO_SOCKETS: readonly string[] = [0, 1, 2, 3].map((i) =>
  `${DEMO_DIR}/demo-ubus-${i}.sock`
);

/** The first demo socket no running demo uses (a stale one is removed). */
async function freeDemoSocket(): Promise<string> {
  for (const path of DEMO_SOCKETS) {
    try {
      const conn = await Deno.connect({ transport: "unix", path });
      conn.close();
      continue; // a demo is running on it
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return path;
      if (err instanceof Deno.errors.ConnectionRefused) {
        await Deno.remove(path).catch(() => undefined);
        return path;
      }
      throw err;
    }
  }
  throw new Error(
    `${DEMO_SOCKETS.length} demos are running already (sockets ${DEMO_DIR}/demo-ubus-*.sock); ` +
      `stop one first`,
  );
}

/** Options for {@linkcode runDemo}. */
export interface DemoOptions {
  /** Length of the story in seconds (30–600, default 60). */
  durationS?: number;
  /** Logging, so the daemon's `setlog` works. */
  logs?: LogHandle;
  /** `--record FILE`: record the daemon's trace (replay it with `starfail replay FILE`). */
  recordPath?: string;
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
  /** With `recordPath`: the engine's decision time in the recorded trace's seconds. */
  trace_t?: number;
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
  /** Outages the dish recorded in its own history (the `dish_outage` events). */
  dish_outages: string[];
  /** Commands the fake mwan3 received (`ifup wwan`, …). */
  mwan3_calls: string[];
  /** The mwan3 member metrics at the end, from the fake uci's files. */
  metrics: Record<string, string>;
  /** The signal that cut the story short (SIGINT, SIGTERM), if one did. */
  interrupted?: string;
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
  await Deno.mkdir(DEMO_DIR, { recursive: true });
  // The pid in the name tells whose folder it is when several demos share DEMO_DIR.
  const dir = await Deno.makeTempDir({ dir: DEMO_DIR, prefix: `demo_${Deno.pid}_` });
  // Ctrl-C or SIGTERM ends the story early; everything below is still cleaned up.
  let interrupted: string | undefined;
  const cut = Promise.withResolvers<void>();
  const signals = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const on = () => {
      interrupted ??= sig;
      cut.resolve();
    };
    Deno.addSignalListener(sig, on);
    return () => Deno.removeSignalListener(sig, on);
  });
  try {
    return await story(dir, durationS, times, cut.promise, () => interrupted, opts);
  } finally {
    for (const off of signals) off();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

async function story(
  dir: string,
  durationS: number,
  times: ReturnType<typeof storyTimes>,
  cut: Promise<void>,
  interrupted: () => string | undefined,
  opts: DemoOptions,
): Promise<DemoSummary> {
  const t0 = performance.now() / 1000;
  const elapsed = () => performance.now() / 1000 - t0;

  // The simulated world is loaded only here, so no other command's module graph holds it.
  const { startDishSim } = await import("../sim/dish_sim.ts");
  const { DEVICES, simRouterConfig, startSimRouter } = await import("../sim/router.ts");
  const router = await startSimRouter({ dir, socket: await freeDemoSocket() });
  const { setPing, socket, run } = router;
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
  // gRPC-Web (HTTP/1.1): with the dish simulator in the same process, raw gRPC's HTTP/2
  // sessions can crash Deno 2.9.6's nghttp2 when one side closes (denoland/deno#36788).
  await Deno.writeTextFile(cfgPath, simRouterConfig(dish.port, dish.grpcWebPort, "grpc-web"));

  const handle = await startDaemon({
    configPath: cfgPath,
    socket,
    run,
    monitor: true,
    ...(opts.recordPath !== undefined ? { recordPath: opts.recordPath } : {}),
    ...(opts.logs ? { logs: opts.logs } : {}),
  });
  opts.onReady?.({ socket, dir });

  const switches: DemoSwitch[] = [];
  const dishOutages: string[] = [];
  const failedBack = Promise.withResolvers<void>();
  handle.runtime.onEvent((ev) => {
    if (ev.type === "dish_outage") dishOutages.push(ev.reason);
    if (ev.type === "switch" && ev.to !== null) {
      if (ev.from !== null && switches.length > 0 && ev.to === switches[0].to) failedBack.resolve();
      switches.push({
        at_s: Math.round(elapsed() * 10) / 10,
        from: ev.from,
        to: ev.to,
        reason: ev.reason,
        ...(handle.recordT0 !== null
          ? { trace_t: Math.round((ev.t - handle.recordT0) * 1000) / 1000 }
          : {}),
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
  let calls: string[] = [];
  let metrics: Record<string, string> = {};
  try {
    for (const [at, action] of steps) {
      if (await sleepUntil(t0, at, cut)) break;
      await action();
    }
    if (interrupted() === undefined) await sleepUntil(t0, durationS, cut);
    // On a busy machine the failback can come a little after the story's end: the story ends
    // with it (at most FAILBACK_GRACE_S later), so a run always shows both directions.
    const last = switches.at(-1);
    if (interrupted() === undefined && last !== undefined && last.to !== switches[0].to) {
      log.info("Story: waiting for the failback to Starlink", { at_most_s: FAILBACK_GRACE_S });
      await sleepUntil(t0, durationS + FAILBACK_GRACE_S, Promise.race([cut, failedBack.promise]));
    }
  } finally {
    await handle.stop();
    await dish.close();
    calls = await router.mwan3Calls().catch(() => []);
    metrics = await router.metrics().catch(() => ({}));
    await router.stop();
    await Deno.remove(socket).catch(() => undefined);
  }
  const signal = interrupted();
  return {
    ...(signal !== undefined ? { interrupted: signal } : {}),
    duration_s: durationS,
    obstruction_at_s: times.obstruction,
    loss_at_s: times.loss,
    clear_at_s: times.clear,
    switches,
    dish_outages: dishOutages,
    mwan3_calls: calls,
    metrics,
  };
}

/** How long past `--duration` the story waits for a failback that is due. */
const FAILBACK_GRACE_S = 30;

/** Sleeps until `atS` into the story; resolves true when `cut` came first. */
async function sleepUntil(t0: number, atS: number, cut: Promise<void>): Promise<boolean> {
  const ms = Math.max(0, (t0 + atS) * 1000 - performance.now());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slept = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([slept, cut.then(() => true)]);
  clearTimeout(timer);
  return result;
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
      `  ${sw.at_s.toFixed(1).padStart(5)} s  ${
        sw.trace_t === undefined ? "" : `(trace ${sw.trace_t.toFixed(1)} s)  `
      }${sw.from ?? "(start)"} → ${sw.to}: ${sw.reason}`,
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
  for (const o of s.dish_outages) lines.push(`The dish's own record: ${o}.`);
  lines.push(`mwan3 received: ${s.mwan3_calls.join(", ") || "nothing"}`);
  lines.push(
    `mwan3 member metrics now: ${Object.entries(s.metrics).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  );
  return lines.join("\n");
}
