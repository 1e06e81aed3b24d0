/**
 * The outward channels under exactly the compiled binary's permissions
 * (`scripts/permissions.ts`) with NO build option: the hook script at its
 * default path `/etc/starfail/hook` runs, MQTT connects to a real Mosquitto
 * on loopback with its password file in `/etc/starfail/`, the Home Assistant
 * device id carries the host name (`--allow-sys=hostname`), and the HTTP
 * endpoint answers on a loopback port — with no sandbox denial logged.
 *
 * `/etc/starfail` is a tmpfs in a private mount namespace (created empty on
 * the host if missing, as the mount point), so nothing outside the test sees
 * the hook or the password file; ubusd runs there at the default socket path
 * (`withPrivateUbus`).
 */

import assert from "node:assert/strict";
import { haveOpenwrt, IN_CI, isExecutable, requirePart, skipUnless } from "./require.ts";
import { killUbusd, scopedStarfail, scratchDir, withPrivateUbus } from "./scoped_run.ts";
import { collect, haveMosquitto, startMosquitto } from "./mosquitto.ts";
import { nodeId } from "../daemon/outbound.ts";

const runnable = Deno.uid() === 0 && haveOpenwrt() && haveMosquitto() &&
  isExecutable("/usr/bin/unshare");
const NEEDS = "root, unshare, the OpenWrt programs (ubusd) and mosquitto + mosquitto-clients";

Deno.test({
  name:
    "scoped daemon, default build: hook at /etc/starfail/hook runs, MQTT with a password file in /etc/starfail, HA id with the host name, HTTP endpoint; no denial",
  ignore: skipUnless(runnable, NEEDS),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    requirePart(runnable, NEEDS);
    const dir = await scratchDir("channels_");
    const broker = await startMosquitto(dir);
    try {
      // The hook appends what it got to a file in the scratch folder (it runs outside the
      // sandbox, as any child process does).
      await Deno.writeTextFile(
        `${dir}/hook`,
        `#!/bin/sh\necho "$STARFAIL_EVENT|$STARFAIL_MEMBER|$STARFAIL_TO|$STARFAIL_KIND" >> ${dir}/hook.out\n`,
      );
      await Deno.writeTextFile(`${dir}/mqtt.pass`, `${broker.password}\n`);
      const config = `${dir}/starfail.uci`;
      await Deno.writeTextFile(
        config,
        [
          "config starfail 'main'",
          "\toption poll_interval_ms '500'",
          "config starfail 'starlink'",
          "\toption enabled '0'",
          "config starfail 'mqtt'",
          "\toption enabled '1'",
          `\toption url '${broker.url}'`,
          `\toption username '${broker.user}'`,
          "\toption password_file '/etc/starfail/mqtt.pass'",
          "config starfail 'http'",
          "\toption enabled '1'",
          "\toption listen '127.0.0.1:0'",
          "config member 'lo'",
          "\toption device 'lo'",
          "\tlist probe_target '127.0.0.1'",
          "",
        ].join("\n"),
      );
      await Deno.mkdir("/etc/starfail", { recursive: true });
      const setup = [
        "mount -t tmpfs -o size=1m,mode=0755 starfail-test /etc/starfail",
        `cp ${dir}/hook /etc/starfail/hook`,
        "chmod 755 /etc/starfail/hook",
        `cp ${dir}/mqtt.pass /etc/starfail/mqtt.pass`,
        "chmod 600 /etc/starfail/mqtt.pass",
      ].join("\n");
      const { args, env } = withPrivateUbus(
        scopedStarfail(["daemon", "--config", config, "--dry-run", "--json"]),
        { setup },
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
      const until = async (what: string, check: () => boolean | Promise<boolean>) => {
        const deadline = Date.now() + 20_000;
        while (!(await check())) {
          if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}:\n${out}${err}`);
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      let hookOut = "";
      let health = 0;
      let discovery: string[] = [];
      try {
        await until("the hook's output", async () => {
          hookOut = await Deno.readTextFile(`${dir}/hook.out`).catch(() => "");
          return /^switch\|lo\|lo\|initial$/m.test(hookOut);
        });
        let url = "";
        await until("the HTTP endpoint", () => {
          url = /HTTP endpoint listening.*?(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? "";
          return url !== "";
        });
        const res = await fetch(`${url}/health`);
        await res.body?.cancel();
        health = res.status;
        await until("retained discovery configs", async () => {
          discovery = (await collect(broker, ["homeassistant/#"], 1)).map((m) => m.topic);
          return discovery.length > 0;
        });
      } finally {
        proc.kill("SIGTERM");
        await proc.status;
        killUbusd(out);
        await reading;
      }
      const all = out + err;
      assert.match(hookOut, /^member\|lo\|/m, "a member state change ran the hook too");
      assert.equal(health, 200, all);
      // --allow-sys=hostname: the device id is the host's, not the fallback `starfail_router`.
      const node = nodeId();
      assert.ok(
        discovery.every((t) => t.split("/")[2] === node),
        `${node}: ${discovery.join(", ")}`,
      );
      assert.doesNotMatch(all, /sandbox denies|NotCapable|Requires \w+ access|is off: this build/);
      assert.doesNotMatch(all, /Failed to resolve|cannot read \/etc\/starfail/);
    } finally {
      await broker.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (IN_CI && !runnable) console.warn(`scoped_channels_test needs ${NEEDS}`);
