/**
 * `starfail daemon --dry-run` exactly as the compiled binary runs it (its
 * permissions and V8 flags, `deno task scoped`), against OpenWrt's real ubusd
 * at the default socket path `/var/run/ubus/ubus.sock` (inside a private
 * mount namespace) and the kernel's link state of real veth devices (inside a
 * new network namespace): it registers, reads link up and link down right,
 * and logs no permission error and no "Failed to resolve".
 *
 * @module
 */

import assert from "node:assert/strict";
import { haveOpenwrt, IN_CI, isExecutable, requirePart, skipUnless } from "./require.ts";
import {
  killUbusd,
  scopedStarfail,
  scratchDir,
  ubusCallIn,
  withPrivateUbus,
} from "./scoped_run.ts";

const runnable = Deno.uid() === 0 && haveOpenwrt() && isExecutable("/usr/bin/unshare") &&
  isExecutable("/usr/bin/nsenter");
const NEEDS = "root, unshare/nsenter and the OpenWrt programs (ubusd, ubus)";

const CONFIG = `config starfail 'main'
\toption use_mwan3 '0'
config starfail 'starlink'
\toption enabled '0'
config member 'up1'
\toption class 'lan'
\toption device 'sfu0'
\tlist probe_target '10.77.0.2'
config member 'down1'
\toption class 'lan'
\toption device 'sfd0'
\tlist probe_target '10.78.0.2'
config member 'up2'
\toption class 'lan'
\toption device 'sfu1'
\tlist probe_target '10.79.0.2'
config member 'up3'
\toption class 'lan'
\toption device 'sfu2'
\tlist probe_target '10.80.0.2'
config member 'up4'
\toption class 'lan'
\toption device 'sfu3'
\tlist probe_target '10.81.0.2'
`;

// sfu0's peer is up (carrier), sfd0's peer is down (no carrier: operstate LOWERLAYERDOWN).
const SETUP = [
  "ip link set lo up",
  "ip link add sfu0 type veth peer name sfu0p",
  "ip addr add 10.77.0.1/24 dev sfu0",
  "ip link set sfu0 up",
  "ip link set sfu0p up",
  "ip link add sfd0 type veth peer name sfd0p",
  "ip addr add 10.78.0.1/24 dev sfd0",
  "ip link set sfd0 up",
  ...[1, 2, 3].flatMap((i) => [
    `ip link add sfu${i} type veth peer name sfu${i}p`,
    `ip addr add 10.${78 + i}.0.1/24 dev sfu${i}`,
    `ip link set sfu${i} up`,
    `ip link set sfu${i}p up`,
  ]),
].join("\n");

Deno.test({
  name:
    "scoped daemon --dry-run, 5 members: registers on real ubusd at the default path, reads link state, no permission error, stops in < 1 s",
  ignore: skipUnless(runnable, NEEDS),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requirePart(runnable, NEEDS);
    const dir = await scratchDir("dryrun_");
    try {
      const config = `${dir}/starfail.uci`;
      await Deno.writeTextFile(config, CONFIG);
      const { args, env } = withPrivateUbus(
        scopedStarfail(["daemon", "--config", config, "--dry-run", "--json"]),
        { netns: true, setup: SETUP },
      );
      const proc = new Deno.Command(args[0], {
        args: args.slice(1),
        env: { ...env, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const d = new TextDecoder();
      let out = "";
      let err = "";
      const reading = Promise.all([
        (async () => {
          for await (const c of proc.stdout) out += d.decode(c);
        })(),
        (async () => {
          for await (const c of proc.stderr) err += d.decode(c);
        })(),
      ]);
      let status: Record<string, unknown> | null = null;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 300));
        const r = await ubusCallIn(proc.pid, "starfail", "status");
        if (r.code !== 0) continue;
        const s = JSON.parse(r.stdout);
        const links = (s.members as { name: string; metrics?: { link_up?: boolean } }[])
          .map((m) => m.metrics?.link_up);
        if (links.every((l) => l !== undefined)) {
          status = s;
          break;
        }
      }
      const term = Date.now();
      proc.kill("SIGTERM");
      const st = await proc.status;
      const stopMs = Date.now() - term;
      killUbusd(out);
      await reading;
      const all = out + err;
      assert.ok(status !== null, `no status with link state over ubus within 20 s:\n${all}`);
      const members = status.members as {
        name: string;
        metrics: { link_up: boolean };
        reason: string;
      }[];
      assert.equal(members.find((m) => m.name === "up1")?.metrics.link_up, true);
      assert.equal(members.find((m) => m.name === "down1")?.metrics.link_up, false);
      assert.match(out, /"Registered on ubus".*\/var\/run\/ubus\/ubus\.sock/);
      assert.doesNotMatch(all, /sandbox denies|NotCapable|Requires \w+ access|permission/i);
      assert.doesNotMatch(all, /Failed to resolve/);
      assert.equal(st.code, 0, all);
      // Issue 18: a clean stop with 5 members completes (logged) in under 1 s, no forced exit.
      const stopped = /"msg":"Stopped".*"ms":(\d+)/.exec(out);
      assert.ok(stopped !== null, `no "Stopped" line:\n${all}`);
      assert.doesNotMatch(all, /did not finish within/);
      console.log(
        `  5 members: SIGTERM → "Stopped" after ${
          stopped[1]
        } ms, exit ${st.code} after ${stopMs} ms`,
      );
      assert.ok(stopMs < 1000, `stop took ${stopMs} ms`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (IN_CI && !runnable) console.warn(`scoped_daemon_test needs ${NEEDS}`);
