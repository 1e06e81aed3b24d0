/**
 * `starfail daemon` (a process of its own) in remote mode against the real router parts (ubusd,
 * rpcd, uhttpd with the shipped ACL, in a private mount namespace): manual
 * failover and restore change the router's real /etc/config/mwan3 through
 * rpcd (read back with the real `uci`), probes run on the router through
 * rpcd's file exec, a router restart mid-run is survived, and a wrong
 * password stops the start with one line and exit 77.
 *
 * The companion has no ubusd, as on a NAS or a Raspberry Pi: the daemon
 * serves its methods on its HTTP endpoint (a free loopback port, port 0 in
 * the config, read back from its log) and is driven with
 * `starfail failover MEMBER --url http://127.0.0.1:PORT` and
 * `starfail restore --url …` (issue 16's "Done when"); the test reads status
 * and metrics over the same endpoint with `StarfailHttpClient`.
 *
 * The daemon runs with `-A`: the router's rpcd/uhttpd listen on loopback
 * (allowed by the binary's permissions), but the password file and config
 * live in a private temp folder outside `/etc/starfail` and `/tmp/starfail`;
 * the scoped run of remote mode's permission checks is in
 * `test/permissions_test.ts`.
 */

import assert from "node:assert/strict";
import { haveOpenwrt, requirePart, skipUnless, which } from "./require.ts";
import { cryptHash, type RpcdRouter, startRpcdRouter } from "./openwrt/rpcd_router.ts";
import { StarfailHttpClient } from "../ubus/http_api.ts";
import type { JsonObject } from "../ubus/blob.ts";
import { runCommand } from "../collectors/exec.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const TESTDATA = `${ROOT}collectors/testdata`;
const PASSWORD = "correct horse battery";

const available = haveOpenwrt() && which("unshare") !== null && which("nsenter") !== null &&
  which("openssl") !== null && Deno.uid?.() === 0;
const WHAT = "root, unshare/nsenter, openssl and the OpenWrt programs (ubusd, rpcd, uhttpd, uci)";
const ignore = skipUnless(available, WHAT);

async function startRouter(): Promise<RpcdRouter> {
  const wan = JSON.parse(Deno.readTextFileSync(`${TESTDATA}/netifd_wan_status_dhcp.json`));
  const wwan = {
    ...JSON.parse(Deno.readTextFileSync(`${TESTDATA}/netifd_awg_status.json`)),
    interface: "wwan",
  };
  return await startRpcdRouter({
    acls: { "starfail.json": Deno.readTextFileSync(`${ROOT}scripts/openwrt/acl.d/starfail.json`) },
    plugins: {
      "network.interface": { dump: {} },
      "network.interface.wan": { status: {} },
      "network.interface.wwan": { status: {} },
      // No `mwan3 status` here: its REAL sample is a frozen moment that cannot follow the
      // metrics starfail sets, so the runtime check would never agree; the controller then
      // verifies the uci read-back alone (the collector suite reads the sample).
    },
    configs: {
      rpcd: [
        "config login",
        "\toption username 'starfail'",
        `\toption password '${await cryptHash(PASSWORD)}'`,
        "\tlist read 'starfail'",
        "\tlist write 'starfail'",
        "",
      ].join("\n"),
      mwan3: Deno.readTextFileSync(`${ROOT}test/fixtures/mwan3_starlink_cellular.uci`),
    },
    data: {
      "network.interface.wan.status.json": JSON.stringify(wan),
      "network.interface.wwan.status.json": JSON.stringify(wwan),
      "network.interface.dump.json": JSON.stringify({
        interface: [{ interface: "wan", ...wan }, wwan],
      }),
    },
  });
}

/** A companion's config: remote section, mwan3 on, no dish; probes to loopback only. */
function companionConfig(url: string, passwordFile: string): string {
  const member = (name: string) =>
    [
      `config member '${name}'`,
      "\toption device 'lo'",
      "\tlist probe_target '127.0.0.1'",
      "\toption probe_interval_s '1'",
      "",
    ].join("\n");
  return [
    "config starfail 'main'",
    "\toption poll_interval_ms '500'",
    "\toption use_mwan3 '1'",
    "\toption cooldown_s '0'",
    "\toption min_uptime_s '0'",
    "\toption fail_min_duration_s '0'",
    "\toption restore_min_duration_s '0'",
    "",
    "config starfail 'starlink'",
    "\toption enabled '0'",
    "",
    // The API for a companion without ubusd: a free loopback port (0), read from the log.
    "config starfail 'http'",
    "\toption enabled '1'",
    "\toption listen '127.0.0.1:0'",
    "",
    "config starfail 'remote'",
    `\toption url '${url}'`,
    "\toption username 'starfail'",
    `\toption password_file '${passwordFile}'`,
    "\toption timeout_ms '3000'",
    "\toption event_poll_ms '500'",
    "\toption rollback_s '5'",
    "",
    member("wan"),
    member("wwan"),
  ].join("\n");
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** mwan3 member metrics as the router's real uci reads them. */
async function metrics(r: RpcdRouter): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of ["wan_m1_w3", "wwan_m2_w2"]) {
    out[m] = Number((await r.uci("get", `mwan3.${m}.metric`)).trim());
  }
  return out;
}

function lowest(m: Record<string, number>): string {
  return Object.entries(m).sort((a, b) => a[1] - b[1])[0][0];
}

Deno.test({
  name:
    "remote daemon without ubusd: failover/restore --url change the router's mwan3 through rpcd; a router restart is survived",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(available, WHAT);
    const r = await startRouter();
    const dir = await Deno.makeTempDir({ prefix: `starfail-companion-${Deno.pid}-` });
    const starfail = (...args: string[]) =>
      runCommand(Deno.execPath(), ["run", "-A", `${ROOT}main.ts`, ...args], { timeoutMs: 30000 });
    let daemon: Deno.ChildProcess | null = null;
    let log = "";
    try {
      await Deno.writeTextFile(`${dir}/router.pass`, PASSWORD + "\n", { mode: 0o600 });
      await Deno.writeTextFile(`${dir}/starfail`, companionConfig(r.url, `${dir}/router.pass`));
      // `starfail daemon` on the companion, as a process of its own.
      daemon = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${ROOT}main.ts`,
          "daemon",
          "--config",
          `${dir}/starfail`,
          // No ubusd on the companion: nothing listens here.
          "--socket",
          `${dir}/no-ubusd.sock`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      daemon.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({
          write(chunk) {
            log += chunk;
          },
        }),
      ).catch(() => undefined);
      daemon.stderr.pipeTo(new WritableStream()).catch(() => undefined);
      let url = "";
      await until("the daemon's HTTP endpoint", () => {
        url = /HTTP endpoint listening.*?(http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1] ?? "";
        return url !== "";
      });
      const api = new StarfailHttpClient(url, { timeoutMs: 5000 });
      const call = async (
        method: string,
        args: Record<string, string | number> = {},
      ): Promise<JsonObject | null> => {
        try {
          return await api.call(method, args);
        } catch {
          return null;
        }
      };
      const status = () => call("status");
      await until("the daemon's API", async () => (await status()) !== null);
      const members = (await status())!.members as unknown as { name: string; iface: string }[];
      const byIface = Object.fromEntries(members.map((m) => [m.iface, m.name]));
      assert.deepEqual(
        Object.keys(byIface).sort(),
        ["wan", "wwan"],
        "members from the router's mwan3",
      );
      // Probes run on the router (rpcd file exec of /bin/ping -I lo) and come back measured.
      for (const member of Object.values(byIface)) {
        await until(`probe samples of ${member} from the router`, async () => {
          const m = await call("metrics", { member, limit: 50 });
          if (m === null) return false;
          const samples = m.samples as unknown as Record<string, unknown>[];
          return samples.some((o) => typeof o.latency_ms === "number" && o.loss_pct === 0);
        });
      }
      let initial = "";
      await until("the initial primary lowest in the router's mwan3", async () => {
        initial = String((await status())?.primary ?? "");
        return initial !== "" && lowest(await metrics(r)) === initial;
      });
      const other = initial === byIface.wan ? byIface.wwan : byIface.wan;

      // `starfail failover MEMBER --url http://127.0.0.1:PORT`: the CLI over the HTTP API.
      const fo = await starfail("failover", other, "--url", url);
      assert.equal(fo.code, 0, fo.stderr);
      await until(
        "the router's real uci shows the failover",
        async () => lowest(await metrics(r)) === other,
      );
      const after = await metrics(r);
      assert.ok(
        Object.values(after).filter((v) => v === after[other]).length === 1,
        `strictly lowest: ${JSON.stringify(after)}`,
      );
      // Confirmed: no rollback comes after rollback_s (5 s) has run out.
      await new Promise((res) => setTimeout(res, 6000));
      assert.equal(lowest(await metrics(r)), other);

      // Router restart mid-run: rpcd and uhttpd killed (every session gone), started again.
      await r.down();
      await new Promise((res) => setTimeout(res, 1500));
      await r.up();

      // The restarted rpcd knows no session: the restore below reaches the router only
      // because the daemon's next call got -32002 and logged in again.
      const rs = await starfail("restore", "--url", url);
      assert.equal(rs.code, 0, rs.stderr);
      await until(
        "the router's real uci shows the restored primary lowest",
        async () => lowest(await metrics(r)) === initial,
        30000,
      );
      assert.equal(await r.uci("changes", "mwan3"), "", "nothing left staged");
      await until("the log says so", () => /Logged in to the router again/.test(log), 5000);
    } catch (err) {
      console.error(log);
      throw err;
    } finally {
      if (daemon !== null) {
        daemon.kill("SIGTERM");
        await daemon.status;
      }
      await r.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "remote daemon: a wrong password stops the start with one line and exit 77",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(available, WHAT);
    const r = await startRouter();
    const dir = await Deno.makeTempDir({ prefix: `starfail-companion-${Deno.pid}-` });
    try {
      await Deno.writeTextFile(`${dir}/router.pass`, "not the password\n", { mode: 0o600 });
      await Deno.writeTextFile(`${dir}/starfail`, companionConfig(r.url, `${dir}/router.pass`));
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${ROOT}main.ts`,
          "daemon",
          "--config",
          `${dir}/starfail`,
          "--socket",
          `${dir}/none.sock`,
        ],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30000),
      }).output();
      const stderr = new TextDecoder().decode(out.stderr).trim();
      assert.equal(out.code, 77, stderr);
      assert.equal(stderr.split("\n").length, 1, stderr);
      assert.match(stderr, /refused the login of user 'starfail': wrong username or password/);
    } finally {
      await r.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
