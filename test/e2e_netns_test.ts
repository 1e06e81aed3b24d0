/**
 * End-to-end failover in Linux network namespaces: the real daemon in route
 * mode inside a router namespace with a Starlink and a cellular uplink, the
 * dish simulator inside the Starlink ISP namespace, the ubus broker beside
 * them, and real faults: an upstream blackhole, a dish-reported outage while
 * the uplink still passes traffic, and the Starlink link going down.
 *
 * Needs root with `ip`, `iptables` and `ping`; ignored otherwise. It fails
 * only on wrong routing or an outcome missed within a generous deadline, never
 * on a slow machine's timing: the timings are printed (see docs/e2e.md).
 *
 * Why the daemon runs with -A here: it talks to an in-process ubus broker on a socket in a temp
 * folder, which the binary's permissions (exact socket paths) do not cover. The same failover
 * story under exactly the binary's permissions, with OpenWrt's real ubusd at the default socket
 * path and default timings, is `test/stop_netns_test.ts`.
 *
 * Run alone: `sudo node_modules/.bin/deno test -A test/e2e_netns_test.ts`
 *
 * @module
 */

import assert from "node:assert/strict";
import { buildTopology, canBuildNetns, type Topology } from "./netns.ts";
import { requirePart, skipUnless } from "./require.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN_TS = `${ROOT}main.ts`;
const DISH_SIM_TS = `${ROOT}sim/dish_sim.ts`;
const BROKER_TS = `${ROOT}ubus/broker.ts`;
const DENO = Deno.execPath();

/** The engine windows of this run (written into the daemon's config). */
const WINDOWS = {
  poll_interval_ms: 1000,
  fail_min_duration_s: 3,
  restore_min_duration_s: 10,
  min_uptime_s: 3,
  cooldown_s: 5,
  hard_fail_probes: 3,
  // The smallest allowed: flap damping (stability hold doubling per recent down) is capped
  // at history_window_s, which keeps the third failback of this run within a minute.
  history_window_s: 60,
};
const PROBE_INTERVAL_S = 1;
/** Generous deadline for each expected outcome, ms. */
const DEADLINE_MS = 30_000;
/** Poll period while waiting for an outcome, ms. */
const POLL_MS = 200;

function configText(): string {
  const main = Object.entries(WINDOWS).map(([k, v]) => `\toption ${k} '${v}'`).join("\n");
  return `config starfail 'main'
\toption use_mwan3 '0'
${main}

config starfail 'starlink'
\toption host '192.168.100.1'
\toption port '9200'
\toption grpc_web_port '9201'
\toption poll_interval_ms '1000'

config member
\toption iface 'starlink'
\toption device 'sl0'
\toption class 'starlink'
\tlist probe_target '198.51.100.10'
\toption probe_interval_s '${PROBE_INTERVAL_S}'

config member
\toption iface 'cell'
\toption device 'ce0'
\toption class 'cellular'
\tlist probe_target '198.51.100.10'
\toption probe_interval_s '${PROBE_INTERVAL_S}'
`;
}

/** A child process whose output is kept line by line (with the arrival time). */
interface Child {
  name: string;
  proc: Deno.ChildProcess;
  lines: { at: number; text: string }[];
  /** Resolves when both output streams are drained. */
  drained: Promise<void>;
  exited: boolean;
}

function spawn(name: string, args: string[]): Child {
  const proc = new Deno.Command(args[0], {
    args: args.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).spawn();
  const child: Child = { name, proc, lines: [], drained: Promise.resolve(), exited: false };
  const drain = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) child.lines.push({ at: Date.now(), text });
    }
    if (rest !== "") child.lines.push({ at: Date.now(), text: rest });
  };
  child.drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]).then(() => undefined);
  proc.status.then(() => (child.exited = true));
  return child;
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`; resolves to its exit code. */
async function stopChild(child: Child, graceMs = 3000): Promise<number> {
  if (!child.exited) {
    try {
      child.proc.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
  const timer = setTimeout(() => {
    try {
      child.proc.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, graceMs);
  const status = await child.proc.status;
  clearTimeout(timer);
  await child.drained;
  return status.code;
}

function tail(child: Child, n = 40): string {
  return child.lines.slice(-n).map((l) => `  ${child.name}| ${l.text}`).join("\n");
}

/** A daemon JSON log line. */
interface LogLine {
  ts: string;
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function logLines(child: Child): LogLine[] {
  const out: LogLine[] = [];
  for (const l of child.lines) {
    if (!l.text.startsWith("{")) continue;
    try {
      out.push(JSON.parse(l.text) as LogLine);
    } catch {
      // Not a log line.
    }
  }
  return out;
}

/** Wall time (ms) of the first "Failover triggered" to `to` logged at or after `sinceMs`. */
function switchLoggedAt(daemon: Child, to: string, sinceMs: number): number | null {
  for (const l of logLines(daemon)) {
    const at = Date.parse(l.ts);
    if (at >= sinceMs && l.msg === "Failover triggered" && l.fields.to === to) return at;
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The daemon under test; waits give up at once when it has exited. */
let watched: Child | null = null;

/**
 * Polls `check` every POLL_MS until it returns true or `deadlineMs` passed;
 * resolves to the ms elapsed since `fromMs` at the first true, or null.
 */
async function waitFor(
  check: () => Promise<boolean>,
  fromMs: number,
  deadlineMs = DEADLINE_MS,
): Promise<number | null> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return Date.now() - fromMs;
    if (watched?.exited) return null;
    await sleep(POLL_MS);
  }
  return null;
}

function secs(ms: number | null): string {
  return ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`;
}

/** `starfail status --json` over the test's ubus socket; null while the daemon does not answer. */
async function status(socket: string): Promise<Record<string, unknown> | null> {
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", "--no-prompt", MAIN_TS, "status", "--json", "--socket", socket],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (out.code !== 0) return null;
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch {
    return null;
  }
}

async function primaryOf(socket: string): Promise<string | null> {
  const s = await status(socket);
  return typeof s?.primary === "string" ? s.primary : null;
}

/** A ping bound to the Starlink device (`ping -I sl0`): does the uplink itself pass traffic? */
async function pingThroughStarlink(topo: Topology): Promise<boolean> {
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", topo.ns.router, "ping", "-n", "-c", "1", "-W", "1", "-I", "sl0"]
      .concat(topo.internetHost),
    stdout: "null",
    stderr: "null",
  }).output();
  return out.code === 0;
}

/** Replaces the dish simulator's scenario file atomically (it re-reads it every second). */
async function setDishScenario(path: string, name: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await file.write(new TextEncoder().encode(`${name}\n`));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

async function waitReady(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.lines.some((l) => pattern.test(l.text))) return;
    if (child.exited) break;
    await sleep(50);
  }
  throw new Error(`${child.name} did not get ready (waiting for ${pattern}):\n${tail(child)}`);
}

const runnable = await canBuildNetns();
const NEEDS = "root with iproute2, iptables and iputils ping (network namespaces)";

Deno.test({
  name: "e2e netns: route-mode failover and failback with the real daemon",
  ignore: skipUnless(runnable, NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requirePart(runnable, NEEDS);
    const prefix = `sf${Deno.pid % 1000}`;
    const dir = await Deno.makeTempDir({ prefix: "starfail_e2e" });
    const socket = `${dir}/ubus.sock`;
    const configPath = `${dir}/starfail.uci`;
    const scenarioFile = `${dir}/dish_scenario`;
    const children: Child[] = [];
    let topo: Topology | null = null;
    let daemon: Child | null = null;
    let failed = true;
    const describe = () => (daemon === null ? "" : `\ndaemon log (last lines):\n${tail(daemon)}`);
    try {
      await Deno.writeTextFile(configPath, configText());
      await setDishScenario(scenarioFile, "healthy");
      topo = await buildTopology(prefix);
      const tp = topo;

      const broker = spawn("broker", [
        DENO,
        "run",
        "-A",
        "--no-prompt",
        BROKER_TS,
        "--socket",
        socket,
      ]);
      children.push(broker);
      await waitReady(broker, /listening/);
      const sim = spawn("dish", [
        "ip",
        "netns",
        "exec",
        tp.ns.starlink,
        DENO,
        "run",
        "-A",
        "--no-prompt",
        DISH_SIM_TS,
        "--listen",
        `${tp.dishAddress}:9200`,
        "--scenario",
        "healthy",
        "--scenario-file",
        scenarioFile,
      ]);
      children.push(sim);
      await waitReady(sim, /"grpc"/);
      const started = Date.now();
      daemon = spawn("daemon", [
        "ip",
        "netns",
        "exec",
        tp.ns.router,
        DENO,
        "run",
        "-A",
        "--no-prompt",
        MAIN_TS,
        "daemon",
        "--config",
        configPath,
        "--socket",
        socket,
        "--json",
        "--monitor",
      ]);
      children.push(daemon);
      const d = daemon;
      watched = daemon;

      const onStarlink = async () =>
        (await tp.routeDevice()) === "sl0" && (await primaryOf(socket)) === "starlink";
      const onCell = async () => (await tp.routeDevice()) === "ce0";

      if (
        !await t.step("1. starts on the Starlink uplink", async () => {
          const ms = await waitFor(onStarlink, started);
          assert.notEqual(ms, null, `not on Starlink within ${secs(DEADLINE_MS)}${describe()}`);
          console.log(`  daemon start → primary starlink via sl0: ${secs(ms)}`);
          assert.ok(await tp.pingInternet(), "ping to the internet host fails on Starlink");
        })
      ) return;

      if (
        !await t.step(
          "2. upstream blackhole → failover to ce0, traffic really leaves there",
          async () => {
            const dropped = Date.now();
            await tp.blackholeStarlink(true);
            const ms = await waitFor(onCell, dropped);
            assert.notEqual(ms, null, `route did not move to ce0${describe()}`);
            assert.equal(await tp.routeDevice(), "ce0");
            assert.ok(
              await tp.pingInternet(),
              "unbound ping to 198.51.100.10 fails after failover",
            );
            assert.equal(await primaryOf(socket), "cell");
            const decided = switchLoggedAt(d, "cell", dropped);
            console.log(
              `  DROP → route via ce0: ${secs(ms)} (decision logged after ${
                secs(decided === null ? null : decided - dropped)
              }); README: a blackhole the dish does not report needs ` +
                `${WINDOWS.hard_fail_probes} lost probe rounds, one ping per target each, ` +
                `here one round every ${PROBE_INTERVAL_S} s (about 5 s)`,
            );
          },
        )
      ) return;

      if (
        !await t.step("3. blackhole cleared → failback only after the restore window", async () => {
          const cleared = Date.now();
          await tp.blackholeStarlink(false);
          let early: number | null = null;
          const ms = await waitFor(
            async () => {
              const dev = await tp.routeDevice();
              if (dev === "sl0" && Date.now() - cleared < WINDOWS.restore_min_duration_s * 1000) {
                early ??= Date.now() - cleared;
              }
              return dev === "sl0";
            },
            cleared,
            WINDOWS.restore_min_duration_s * 1000 + DEADLINE_MS,
          );
          assert.equal(
            early,
            null,
            `route returned to sl0 ${
              secs(early)
            } after the fault cleared, before restore_min_duration_s ${WINDOWS.restore_min_duration_s} s${describe()}`,
          );
          assert.notEqual(ms, null, `no failback to sl0${describe()}`);
          assert.equal(await primaryOf(socket), "starlink");
          assert.ok(await tp.pingInternet(), "ping fails after failback");
          console.log(
            `  DROP cleared → route back on sl0: ${
              secs(ms)
            } (restore_min_duration_s ${WINDOWS.restore_min_duration_s} s, ` +
              `then the stability hold and a ${WINDOWS.fail_min_duration_s} s score lead)`,
          );
        })
      ) return;

      if (
        !await t.step(
          "4. dish-reported outage while sl0 passes traffic → failover, then failback",
          async () => {
            assert.ok(await pingThroughStarlink(tp), "sl0 does not pass traffic before the outage");
            const written = Date.now();
            await setDishScenario(scenarioFile, "outage_now");
            const ms = await waitFor(onCell, written);
            assert.notEqual(ms, null, `route did not move to ce0 on the dish outage${describe()}`);
            assert.ok(
              await pingThroughStarlink(tp),
              "sl0 stopped passing traffic: the failover was not caused by the dish report alone",
            );
            assert.ok(await tp.pingInternet(), "unbound ping fails after the dish-outage failover");
            const s = await status(socket);
            const last =
              (s?.decisions as { to: string; kind: string; reason: string }[] | undefined)
                ?.findLast((x) => x.to === "cell");
            console.log(
              `  dish outage (scenario file written; the simulator reads it within 1 s, the daemon polls the dish every 1 s) → route via ce0: ${
                secs(ms)
              }; decision: [${last?.kind}] ${last?.reason}`,
            );
            assert.match(
              last?.reason ?? "",
              /outage|obstruct/i,
              "the decision does not name the dish",
            );

            const healed = Date.now();
            await setDishScenario(scenarioFile, "healthy");
            const back = await waitFor(
              onStarlink,
              healed,
              WINDOWS.restore_min_duration_s * 1000 + WINDOWS.history_window_s * 1000 + DEADLINE_MS,
            );
            assert.notEqual(
              back,
              null,
              `no failback to sl0 after the dish outage ended${describe()}`,
            );
            console.log(
              `  dish healthy again → route back on sl0: ${secs(back)} (restore_min_duration_s ` +
                `${WINDOWS.restore_min_duration_s} s, a flap-damped stability hold, the score lead)`,
            );
          },
        )
      ) return;

      if (
        !await t.step("5. sl0 link down → failover to ce0", async () => {
          const down = Date.now();
          await tp.starlinkLink(false);
          const kernel = await waitFor(onCell, down);
          const ms = await waitFor(async () => (await primaryOf(socket)) === "cell", down);
          assert.notEqual(
            ms,
            null,
            `daemon did not make cell primary after link down${describe()}`,
          );
          assert.equal(await tp.routeDevice(), "ce0");
          assert.ok(await tp.pingInternet(), "unbound ping fails after link-down failover");
          const decided = switchLoggedAt(d, "cell", down);
          console.log(
            `  link down → kernel route via ce0: ${
              secs(kernel)
            } (the kernel drops sl0's routes itself); ` +
              `daemon switch logged after ${secs(decided === null ? null : decided - down)}, ` +
              `seen in status after ${secs(ms)}; README promise: within one second`,
          );
        })
      ) return;

      if (
        !await t.step(
          "6. sl0 link up again → the daemon re-adds its route and fails back",
          async () => {
            const up = Date.now();
            await tp.starlinkLink(true);
            // netifd would restore the interface's static routes; the default route is the daemon's job.
            await tp.exec(tp.ns.router, [
              "ip",
              "route",
              "replace",
              `${tp.dishAddress}/32`,
              "via",
              tp.gw.starlink,
            ]);
            const ms = await waitFor(
              onStarlink,
              up,
              WINDOWS.restore_min_duration_s * 1000 + WINDOWS.history_window_s * 1000 + DEADLINE_MS,
            );
            assert.notEqual(ms, null, `no failback to sl0 after the link came back${describe()}`);
            assert.ok(await tp.pingInternet(), "ping fails after the link came back");
            console.log(`  link up → route back on sl0: ${secs(ms)}`);
          },
        )
      ) return;

      if (
        !await t.step("SIGTERM stops the daemon cleanly", async () => {
          const term = Date.now();
          const code = await stopChild(d, 10_000);
          const ms = Date.now() - term;
          console.log(`  SIGTERM → exit ${code} after ${ms} ms (promise: within 2 s)`);
          assert.equal(code, 0, `daemon exit code ${code}${describe()}`);
          assert.ok(ms < 10_000, `daemon took ${secs(ms)} to stop`);
        })
      ) return;
      failed = false;
    } finally {
      for (const c of children.reverse()) await stopChild(c);
      if (failed && daemon !== null) console.log(`daemon log (last lines):\n${tail(daemon, 80)}`);
      const keep = Deno.env.get("STARFAIL_E2E_LOG");
      if (keep && daemon !== null) {
        await Deno.writeTextFile(keep, daemon.lines.map((l) => l.text).join("\n") + "\n");
        console.log(`daemon log written to ${keep}`);
      }
      await topo?.destroy();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
});
