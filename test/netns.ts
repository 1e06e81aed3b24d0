/**
 * A throwaway multi-WAN network built from Linux network namespaces and veth
 * pairs, for end-to-end failover tests (needs root, `ip`, `iptables`, `ping`).
 *
 * ```text
 *                    ┌─────────── <p>sl (Starlink ISP) ───────────┐
 *  <p>rt (router)    │ dish 192.168.100.1 (on lo)                 │
 *   sl0 100.64.0.2 ──┤ sl1 100.64.0.1        up0 10.200.1.1 ──────┼──┐
 *                    └────────────────────────────────────────────┘  │  <p>inet
 *                    ┌─────────── <p>ce (cellular ISP) ───────────┐  ├─ 10.200.1.2 / 10.200.2.2
 *   ce0 10.64.0.2 ───┤ ce1 10.64.0.1         up0 10.200.2.1 ──────┼──┘  host 198.51.100.10 (lo)
 *                    └────────────────────────────────────────────┘
 * ```
 *
 * The router has one default route per uplink (Starlink metric 10, cellular
 * 20), as netifd would install them; the daemon under test rewrites the
 * metrics. Every address lives only inside these namespaces.
 *
 * @module
 */

/** Names and addresses of one topology. */
export interface Topology {
  /** Namespace names. */
  ns: { router: string; starlink: string; cellular: string; internet: string };
  /** The router's uplink devices. */
  dev: { starlink: string; cellular: string };
  /** The ISPs' gateway addresses as seen from the router. */
  gw: { starlink: string; cellular: string };
  /** The "internet host" everyone probes. */
  internetHost: string;
  /** The dish address inside the Starlink ISP namespace. */
  dishAddress: string;
  /** Runs a command inside a namespace; throws with its stderr on failure. */
  exec(ns: string, cmd: string[], opts?: { allowFail?: boolean }): Promise<string>;
  /** Drops everything the Starlink ISP forwards (the "upstream blackhole"). */
  blackholeStarlink(on: boolean): Promise<void>;
  /** Sets the router's Starlink link down or up. */
  starlinkLink(up: boolean): Promise<void>;
  /** Sets the router's cellular link down or up. */
  cellularLink(up: boolean): Promise<void>;
  /** `ip route get INTERNET_HOST` from the router: the device traffic leaves through. */
  routeDevice(): Promise<string>;
  /** One ping from the router to the internet host, unbound (follows the routing table). */
  pingInternet(): Promise<boolean>;
  /** Deletes every namespace (the veth pairs go with them). */
  destroy(): Promise<void>;
}

async function run(cmd: string[], allowFail = false): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0 && !allowFail) {
    throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return text;
}

/** Whether this process can build namespaces (root, with `ip`, `iptables` and `ping`). */
export async function canBuildNetns(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  for (const tool of ["ip", "iptables", "ping"]) {
    try {
      const out = await new Deno.Command("sh", {
        args: ["-c", `command -v ${tool}`],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.code !== 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Builds the topology with namespace names starting with `prefix` (keep it
 * short: device names are limited to 15 characters, namespace names are not).
 */
export async function buildTopology(prefix: string): Promise<Topology> {
  const ns = {
    router: `${prefix}rt`,
    starlink: `${prefix}sl`,
    cellular: `${prefix}ce`,
    internet: `${prefix}in`,
  };
  const exec = (n: string, cmd: string[], opts?: { allowFail?: boolean }) =>
    run(["ip", "netns", "exec", n, ...cmd], opts?.allowFail ?? false);
  const topo: Topology = {
    ns,
    dev: { starlink: "sl0", cellular: "ce0" },
    gw: { starlink: "100.64.0.1", cellular: "10.64.0.1" },
    internetHost: "198.51.100.10",
    dishAddress: "192.168.100.1",
    exec,
    async blackholeStarlink(on: boolean) {
      await exec(ns.starlink, ["iptables", on ? "-I" : "-D", "FORWARD", "-j", "DROP"]);
    },
    async starlinkLink(up: boolean) {
      await exec(ns.router, ["ip", "link", "set", "sl0", up ? "up" : "down"]);
    },
    async cellularLink(up: boolean) {
      await exec(ns.router, ["ip", "link", "set", "ce0", up ? "up" : "down"]);
    },
    async routeDevice() {
      const out = await exec(ns.router, ["ip", "route", "get", "198.51.100.10"], {
        allowFail: true,
      });
      return /\bdev (\S+)/.exec(out)?.[1] ?? "";
    },
    async pingInternet() {
      const out = await new Deno.Command("ip", {
        args: ["netns", "exec", ns.router, "ping", "-n", "-c", "1", "-W", "1", "198.51.100.10"],
        stdout: "null",
        stderr: "null",
      }).output();
      return out.code === 0;
    },
    async destroy() {
      for (const n of Object.values(ns)) await run(["ip", "netns", "del", n], true);
    },
  };
  await topo.destroy(); // leftovers of an aborted earlier run
  try {
    for (const n of Object.values(ns)) {
      await run(["ip", "netns", "add", n]);
      await exec(n, ["ip", "link", "set", "lo", "up"]);
    }
    const link = async (a: string, devA: string, b: string, devB: string) => {
      await run(["ip", "link", "add", `${prefix}t`, "type", "veth", "peer", "name", `${prefix}u`]);
      await run(["ip", "link", "set", `${prefix}t`, "netns", a]);
      await run(["ip", "link", "set", `${prefix}u`, "netns", b]);
      await exec(a, ["ip", "link", "set", `${prefix}t`, "name", devA]);
      await exec(b, ["ip", "link", "set", `${prefix}u`, "name", devB]);
      await exec(a, ["ip", "link", "set", devA, "up"]);
      await exec(b, ["ip", "link", "set", devB, "up"]);
    };
    await link(ns.router, "sl0", ns.starlink, "sl1");
    await link(ns.router, "ce0", ns.cellular, "ce1");
    await link(ns.starlink, "up0", ns.internet, "sl9");
    await link(ns.cellular, "up0", ns.internet, "ce9");

    await exec(ns.router, ["ip", "addr", "add", "100.64.0.2/24", "dev", "sl0"]);
    await exec(ns.router, ["ip", "addr", "add", "10.64.0.2/24", "dev", "ce0"]);
    await exec(ns.router, [
      "ip",
      "route",
      "add",
      "default",
      "via",
      "100.64.0.1",
      "dev",
      "sl0",
      "metric",
      "10",
    ]);
    await exec(ns.router, [
      "ip",
      "route",
      "add",
      "default",
      "via",
      "10.64.0.1",
      "dev",
      "ce0",
      "metric",
      "20",
    ]);
    // The dish is reachable through the Starlink uplink only, as on a real router.
    await exec(ns.router, ["ip", "route", "add", "192.168.100.1/32", "via", "100.64.0.1"]);

    await exec(ns.starlink, ["ip", "addr", "add", "100.64.0.1/24", "dev", "sl1"]);
    await exec(ns.starlink, ["ip", "addr", "add", "192.168.100.1/32", "dev", "lo"]);
    await exec(ns.starlink, ["ip", "addr", "add", "10.200.1.1/30", "dev", "up0"]);
    await exec(ns.starlink, ["ip", "route", "add", "default", "via", "10.200.1.2"]);
    await exec(ns.starlink, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);

    await exec(ns.cellular, ["ip", "addr", "add", "10.64.0.1/24", "dev", "ce1"]);
    await exec(ns.cellular, ["ip", "addr", "add", "10.200.2.1/30", "dev", "up0"]);
    await exec(ns.cellular, ["ip", "route", "add", "default", "via", "10.200.2.2"]);
    await exec(ns.cellular, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);

    await exec(ns.internet, ["ip", "addr", "add", "10.200.1.2/30", "dev", "sl9"]);
    await exec(ns.internet, ["ip", "addr", "add", "10.200.2.2/30", "dev", "ce9"]);
    await exec(ns.internet, ["ip", "addr", "add", "198.51.100.10/32", "dev", "lo"]);
    await exec(ns.internet, ["ip", "route", "add", "100.64.0.0/24", "via", "10.200.1.1"]);
    await exec(ns.internet, ["ip", "route", "add", "10.64.0.0/24", "via", "10.200.2.1"]);
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return topo;
}
