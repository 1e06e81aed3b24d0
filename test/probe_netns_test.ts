/**
 * The probes against the real ping programs (iputils and busybox) through a
 * veth pair between two throwaway network namespaces. Needs root.
 */

import assert from "node:assert/strict";
import { runCommand } from "../collectors/exec.ts";
import { pingTarget, probeRound } from "../collectors/probe.ts";
import { IS_ROOT, requirePart, skipUnless, which } from "./require.ts";

const netnsReady = IS_ROOT && which("ip") !== null && which("ping") !== null;
const busyboxReady = which("busybox") !== null;

async function ip(...args: string[]): Promise<void> {
  const r = await runCommand("ip", args, { timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
}

Deno.test({
  name: "real ping through a veth pair in a network namespace",
  ignore: skipUnless(netnsReady && busyboxReady, "root, iproute2, iputils ping and busybox"),
  async fn() {
    requirePart(netnsReady, "root with iproute2 and iputils ping (network namespaces)");
    requirePart(busyboxReady, "busybox (its ping applet)");
    const tag = `${Deno.pid % 10000}${Math.floor(Math.random() * 1000)}`;
    const a = `sfpa${tag}`;
    const b = `sfpb${tag}`;
    await ip("netns", "add", a);
    try {
      await ip("netns", "add", b);
      try {
        await ip("-n", a, "link", "add", "wan0", "type", "veth", "peer", "name", "up0", "netns", b);
        await ip("-n", a, "addr", "add", "10.99.0.1/24", "dev", "wan0");
        await ip("-n", b, "addr", "add", "10.99.0.2/24", "dev", "up0");
        await ip("-n", a, "link", "set", "wan0", "up");
        await ip("-n", b, "link", "set", "up0", "up");
        await ip("-n", a, "link", "set", "lo", "up");
        const pingCommand = { cmd: "ip", prefixArgs: ["netns", "exec", a, "ping"] };
        const round = await probeRound(
          {
            member: "wan",
            device: "wan0",
            targets: ["10.99.0.2", "10.99.0.77"],
            reliability: 1,
            count: 2,
            timeoutMs: 1000,
          },
          { t: 1, pingCommand },
        );
        assert.equal(round.ok, true);
        assert.equal(round.per_target[0].received, 2);
        assert.equal(round.per_target[1].received, 0);
        assert.equal(round.loss_pct, 50);
        assert.ok(round.latency_ms !== undefined && round.latency_ms > 0);
        const missing = await pingTarget("10.99.0.2", {
          device: "wwan9",
          timeoutS: 1,
          command: pingCommand,
        });
        assert.equal(missing.received, 0);
        assert.match(missing.error ?? "", /wwan9/);
        const busybox = await pingTarget("10.99.0.2", {
          device: "wan0",
          count: 1,
          timeoutS: 1,
          command: { cmd: "ip", prefixArgs: ["netns", "exec", a, "busybox", "ping"] },
        });
        assert.equal(busybox.received, 1);
      } finally {
        await ip("netns", "del", b);
      }
    } finally {
      await ip("netns", "del", a);
    }
  },
});
