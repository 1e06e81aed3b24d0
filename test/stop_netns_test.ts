/**
 * The router as users run it, in network namespaces: the daemon under exactly
 * the compiled binary's permissions (`scripts/permissions.ts`), DEFAULT
 * timings, route mode, OpenWrt's real ubusd at the default socket path
 * (private mount namespace), the dish simulator in the Starlink ISP.
 *
 * Checks: a 3-s blip switches nothing; an upstream blackhole fails over
 * within 10 s and fails back within 60 s of clearing; SIGTERM while failed
 * over exits within 5 s with the default routes exactly as found before the
 * daemon started; a link going down is acted on within 3 s. The dish
 * simulator runs with -A: it is a test double, not the product.
 *
 * @module
 */

import assert from "node:assert/strict";
import { buildTopology, canBuildNetns, type Topology } from "./netns.ts";
import { haveOpenwrt, requirePart, skipUnless } from "./require.ts";
import { killUbusd, ROOT, scopedStarfail, scratchDir, withPrivateUbus } from "./scoped_run.ts";

const runnable = (await canBuildNetns()) && haveOpenwrt();
const NEEDS = "root with iproute2, iptables, ping (network namespaces) and the OpenWrt ubusd";

const CONFIG = `config starfail 'starlink'
\toption host '192.168.100.1'

config member 'sat'
\toption iface 'starlink'
\toption device 'sl0'
\toption class 'starlink'
\tlist probe_target '198.51.100.10'

config member 'cell'
\toption iface 'cell'
\toption device 'ce0'
\toption class 'cellular'
\tlist probe_target '198.51.100.10'
`;

interface Proc {
  proc: Deno.ChildProcess;
  out: { at: number; text: string }[];
  done: Promise<void>;
}

function start(args: string[], env: Record<string, string> = {}): Proc {
  const proc = new Deno.Command(args[0], {
    args: args.slice(1),
    env: { NO_COLOR: "1", ...env },
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const p: Proc = { proc, out: [], done: Promise.resolve() };
  const drain = async (s: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    let rest = "";
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const text of parts) p.out.push({ at: Date.now(), text });
    }
  };
  p.done = Promise.all([drain(proc.stdout), drain(proc.stderr)]).then(() => undefined);
  return p;
}

const text = (p: Proc) => p.out.map((l) => l.text).join("\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, from: number, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return Date.now() - from;
    await sleep(200);
  }
  return null;
}

/** Wall time of the first log line `msg` with `to` at or after `since`. */
function loggedAt(p: Proc, msg: RegExp, to: string, since: number): number | null {
  for (const l of p.out) {
    if (!l.text.startsWith("{")) continue;
    try {
      const j = JSON.parse(l.text);
      const at = Date.parse(j.ts);
      if (at >= since && msg.test(j.msg) && j.fields?.to === to) return at;
    } catch {
      // not a log line
    }
  }
  return null;
}

function daemon(topo: Topology, config: string): Proc {
  const { args, env } = withPrivateUbus([
    "ip",
    "netns",
    "exec",
    topo.ns.router,
    ...scopedStarfail(["daemon", "--config", config, "--json"]),
  ]);
  return start(args, env);
}

async function stop(p: Proc): Promise<{ code: number; ms: number }> {
  const t = Date.now();
  try {
    p.proc.kill("SIGTERM");
  } catch {
    // Already exited.
  }
  const st = await p.proc.status;
  const ms = Date.now() - t;
  killUbusd(text(p));
  await p.done;
  return { code: st.code, ms };
}

const secs = (ms: number | null) => (ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`);

Deno.test({
  name:
    "netns, default timings, scoped permissions: blip, failover, failback, SIGTERM restores routes, link down",
  ignore: skipUnless(runnable, NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    requirePart(runnable, NEEDS);
    const dir = await scratchDir("netns_");
    const config = `${dir}/starfail.uci`;
    await Deno.writeTextFile(config, CONFIG);
    let topo: Topology | null = null;
    let sim: Proc | null = null;
    let d: Proc | null = null;
    try {
      topo = await buildTopology(`sq${Deno.pid % 1000}`);
      const tp = topo;
      sim = start([
        "ip",
        "netns",
        "exec",
        tp.ns.starlink,
        Deno.execPath(),
        "run",
        "-A",
        "--no-prompt",
        `${ROOT}sim/dish_sim.ts`,
        "--listen",
        `${tp.dishAddress}:9200`,
        "--scenario",
        "healthy",
      ]);
      const routes = () => tp.exec(tp.ns.router, ["ip", "-4", "route", "show", "default"]);
      const found = await routes();
      const onSl = async () => (await tp.routeDevice()) === "sl0";
      const onCe = async () => (await tp.routeDevice()) === "ce0";
      d = daemon(tp, config);
      const dd = d;
      const begun = Date.now();
      const up = await waitFor(
        () => Promise.resolve(loggedAt(dd, /^Primary chosen$/, "sat", begun) !== null),
        begun,
        30_000,
      );
      assert.notEqual(up, null, `no primary within 30 s:\n${text(dd)}`);
      assert.doesNotMatch(text(dd), /sandbox denies|NotCapable|Failed to resolve/);

      await t.step("a 3-s blip switches nothing", async () => {
        const at = Date.now();
        await tp.blackholeStarlink(true);
        await sleep(3000);
        await tp.blackholeStarlink(false);
        await sleep(15_000);
        assert.equal(loggedAt(dd, /Failover/, "cell", at), null, text(dd));
        assert.ok(await onSl());
      });

      let failover: number | null = null;
      await t.step("blackhole → failover within 10 s", async () => {
        const at = Date.now();
        await tp.blackholeStarlink(true);
        failover = await waitFor(onCe, at, 20_000);
        console.log(`  blackhole → route via ce0: ${secs(failover)}`);
        assert.ok(failover !== null && failover <= 10_000, `failover took ${secs(failover)}`);
      });

      await t.step("cleared → failback within 60 s", async () => {
        const at = Date.now();
        await tp.blackholeStarlink(false);
        const back = await waitFor(onSl, at, 90_000);
        console.log(`  cleared → route back on sl0: ${secs(back)}`);
        assert.ok(back !== null && back <= 60_000, `failback took ${secs(back)}`);
        assert.notEqual(loggedAt(dd, /^Failback$/, "sat", at), null, "failback not logged as such");
      });

      await t.step("SIGTERM while failed over: exit ≤ 5 s, routes exactly as found", async () => {
        const at = Date.now();
        await tp.blackholeStarlink(true);
        assert.notEqual(await waitFor(onCe, at, 20_000), null, "no failover");
        const { code, ms } = await stop(dd);
        d = null;
        console.log(`  SIGTERM while failed over → exit ${code} after ${ms} ms`);
        assert.equal(code, 0, text(dd));
        assert.ok(ms <= 5000, `stop took ${ms} ms`);
        assert.equal(await routes(), found, "default routes differ from those found at start");
        assert.match(text(dd), /"Restored what was found at start"/);
        assert.match(text(dd), /"Stopped"/);
        assert.doesNotMatch(text(dd), /did not finish within/);
        await tp.blackholeStarlink(false);
      });

      await t.step("link down → acted on within 3 s", async () => {
        const d2 = daemon(tp, config);
        d = d2;
        const b = Date.now();
        assert.notEqual(
          await waitFor(
            () => Promise.resolve(loggedAt(d2, /^Primary chosen$/, "sat", b) !== null),
            b,
            30_000,
          ),
          null,
        );
        await sleep(2000);
        const at = Date.now();
        await tp.starlinkLink(false);
        const ms = await waitFor(
          () => Promise.resolve(loggedAt(d2, /^Failover triggered$/, "cell", at) !== null),
          at,
          10_000,
        );
        const decided = loggedAt(d2, /^Failover triggered$/, "cell", at);
        console.log(
          `  link down → switch logged after ${secs(decided === null ? null : decided - at)}`,
        );
        assert.ok(ms !== null && decided !== null && decided - at <= 3000, text(d2));
        const { code, ms: stopMs } = await stop(d2);
        d = null;
        console.log(`  SIGTERM → exit ${code} after ${stopMs} ms`);
        assert.equal(code, 0);
        await tp.starlinkLink(true);
      });
    } catch (err) {
      if (d !== null) console.log(`daemon output:\n${text(d).split("\n").slice(-40).join("\n")}`);
      throw err;
    } finally {
      if (d !== null) await stop(d);
      if (sim !== null) {
        try {
          sim.proc.kill("SIGTERM");
        } catch {
          // Already exited.
        }
        await sim.proc.status;
        await sim.done;
      }
      await topo?.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
