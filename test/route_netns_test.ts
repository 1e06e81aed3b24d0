/**
 * The route controller against a real kernel routing table, in a throwaway
 * network namespace with three uplinks. Needs root.
 */

import assert from "node:assert/strict";
import { runCommand } from "../collectors/exec.ts";
import { parseDefaultRoutes, RouteController } from "../controllers/route.ts";
import { IS_ROOT, requirePart, skipUnless, which } from "./require.ts";

const netnsReady = IS_ROOT && which("ip") !== null;

async function ip(...args: string[]): Promise<string> {
  const r = await runCommand("ip", args, { timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** `ip -n NS route VERB default via VIA dev DEV metric METRIC`. */
function defaultRoute(
  ns: string,
  verb: "add" | "del" | "replace",
  via: string,
  dev: string,
  metric: number,
): Promise<string> {
  return ip("-n", ns, "route", verb, "default", "via", via, "dev", dev, "metric", String(metric));
}

async function withNetns(fn: (ns: string) => Promise<void>): Promise<void> {
  const ns = `sfrt${Deno.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  await ip("netns", "add", ns);
  try {
    for (
      const [dev, addr] of [["eth1", "100.64.0.2/24"], ["wwan0", "10.20.0.2/24"], [
        "wlan1",
        "192.168.8.2/24",
      ]]
    ) {
      await ip("-n", ns, "link", "add", dev, "type", "veth", "peer", "name", `${dev}p`);
      await ip("-n", ns, "addr", "add", addr, "dev", dev);
      await ip("-n", ns, "link", "set", `${dev}p`, "up");
      await ip("-n", ns, "link", "set", dev, "up");
    }
    await defaultRoute(ns, "add", "100.64.0.1", "eth1", 10);
    await defaultRoute(ns, "add", "10.20.0.1", "wwan0", 20);
    await defaultRoute(ns, "add", "192.168.8.1", "wlan1", 30);
    await fn(ns);
  } finally {
    await ip("netns", "del", ns);
  }
}

const MEMBERS = [
  { name: "starlink", device: "eth1" },
  { name: "lte", device: "wwan0" },
  { name: "wifi", device: "wlan1" },
];

Deno.test({
  name: "route mode in a netns: failover, idempotent second run, drift, dry run",
  ignore: skipUnless(netnsReady, "root with iproute2 (network namespaces)"),
  async fn() {
    requirePart(netnsReady, "root with iproute2 (network namespaces)");
    await withNetns(async (ns) => {
      const dry = new RouteController({ members: MEMBERS, ipPrefixArgs: ["-n", ns], dryRun: true });
      const before = await ip("-n", ns, "-4", "route", "show", "default");
      const planned = await dry.reconcile({ primary: "lte", order: ["lte", "starlink", "wifi"] });
      assert.equal(planned.changed, true);
      assert.equal(planned.verified, false);
      assert.equal(
        await ip("-n", ns, "-4", "route", "show", "default"),
        before,
        "dry run changed nothing",
      );

      const ctl = new RouteController({ members: MEMBERS, ipPrefixArgs: ["-n", ns] });
      const r = await ctl.reconcile({ primary: "lte", order: ["lte", "starlink", "wifi"] });
      assert.deepEqual(r.errors, []);
      assert.equal(r.previousPrimary, "starlink");
      assert.equal(r.verified, true, r.verification.join("; "));
      assert.deepEqual(
        parseDefaultRoutes(await ip("-n", ns, "-4", "route", "show", "default"))
          .map((x) => [x.dev, x.metric, x.via]).sort((a, b) => Number(a[1]) - Number(b[1])),
        [["wwan0", 10, "10.20.0.1"], ["eth1", 20, "100.64.0.1"], ["wlan1", 30, "192.168.8.1"]],
      );
      assert.equal((await ctl.readBack()).primary, "lte");

      const again = await ctl.reconcile({ primary: "lte", order: ["lte", "starlink", "wifi"] });
      assert.equal(again.changed, false);
      assert.deepEqual(again.actions, []);
      assert.equal(again.verified, true);

      await defaultRoute(ns, "del", "10.20.0.1", "wwan0", 10);
      await defaultRoute(ns, "add", "10.20.0.1", "wwan0", 5);
      const drifted = await ctl.reconcile({ primary: "lte", order: ["lte", "starlink", "wifi"] });
      assert.deepEqual(drifted.drift, [{ member: "lte", expected: 10, found: 5, field: "metric" }]);
      assert.equal(drifted.verified, true);

      const back = await ctl.reconcile({ primary: "starlink", order: ["starlink", "lte", "wifi"] });
      assert.equal(back.verified, true, back.verification.join("; "));
      assert.equal((await ctl.readBack()).primary, "starlink");
    });
  },
});

Deno.test({
  name: "route mode in a netns: a backup whose link is down gets no route until it is up again",
  ignore: skipUnless(netnsReady, "root with iproute2 (network namespaces)"),
  async fn() {
    requirePart(netnsReady, "root with iproute2 (network namespaces)");
    await withNetns(async (ns) => {
      const ctl = new RouteController({
        members: [
          { name: "starlink", device: "eth1", gateway: "100.64.0.1" },
          { name: "lte", device: "wwan0" },
        ],
        ipPrefixArgs: ["-n", ns],
      });
      await ip("-n", ns, "link", "set", "eth1", "down"); // the kernel drops eth1's routes
      const r = await ctl.reconcile({ primary: "lte", order: ["lte", "starlink"] });
      assert.deepEqual(r.errors, []);
      assert.equal(r.verified, true, r.verification.join("; "));
      assert.ok(r.verification.some((v) => /starlink: link eth1 is down/.test(v)));
      assert.ok(!r.actions.some((a) => a.args.includes("eth1")), "no route for a down link");
      const again = await ctl.reconcile({ primary: "lte", order: ["lte", "starlink"] });
      assert.deepEqual(again.drift, [], "a route the kernel removed is not drift");
      await ip("-n", ns, "link", "set", "eth1", "up");
      const back = await ctl.reconcile({ primary: "lte", order: ["lte", "starlink"] });
      assert.deepEqual(back.errors, []);
      assert.deepEqual(
        parseDefaultRoutes(await ip("-n", ns, "-4", "route", "show", "default"))
          .filter((x) => x.dev !== "wlan1").map((x) => [x.dev, x.metric]).sort(),
        [["eth1", 20], ["wwan0", 10]],
      );
    });
  },
});
