/**
 * The `starfail` object on OpenWrt's real ubusd, called through OpenWrt's
 * real `ubus` CLI (`ubus -S -s SOCK call starfail …`): every method, the
 * status codes of bad arguments, unknown members and unknown methods,
 * `config_get` as a table, and `ubus listen starfail.*` seeing a manual
 * failover and the dish's alerts begin and end. The daemon runs in this process with every address on loopback
 * (dish simulator on 127.0.0.1; probes through the `ping` double).
 *
 * @module
 */

import assert from "node:assert/strict";
import { MEMBERS } from "../../sim/router.ts";
import { haveOpenwrt, OPENWRT, requirePart, skipUnless } from "../require.ts";
import { pollUntil } from "../wait.ts";
import { startRealRouter } from "./router.ts";
import { ubusCli } from "./ubusd.ts";

const NEEDS = "OpenWrt's ubusd, ubus and uci built from ../shared/openwrt";

/** `ubus -S call starfail METHOD [ARGS]`: exit code and the one-line JSON reply. */
async function call(socket: string, method: string, args?: unknown) {
  const r = await ubusCli(socket, [
    "-S",
    "call",
    "starfail",
    method,
    ...(args === undefined ? [] : [JSON.stringify(args)]),
  ]);
  const text = r.stdout.trim();
  return { code: r.code, json: text === "" ? null : JSON.parse(text), stderr: r.stderr };
}

Deno.test({
  name:
    "real ubus CLI: every starfail method, status codes, config_get table, events on `ubus listen`",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const router = await startRealRouter();
    const daemon = await router.startDaemon();
    let listener: Deno.ChildProcess | null = null;
    try {
      const sock = router.socket;
      // One object, with the signature docs/api.md shows.
      const list = await ubusCli(sock, ["-v", "list", "starfail"]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^'starfail' @[0-9a-f]{8}\n/);
      assert.match(list.stdout, /"failover":\{"member":"String","expires_s":"Integer"\}/);
      assert.match(list.stdout, /"setlog":\{"level":"String"\}/);

      assert.ok(
        await pollUntil(
          async () => (await call(sock, "status")).json?.primary === MEMBERS.starlink,
          15_000,
          200,
        ),
        "on Starlink",
      );
      const status = await call(sock, "status");
      assert.equal(status.code, 0);
      assert.equal(status.json.primary, MEMBERS.starlink);

      const members = await call(sock, "members");
      assert.equal(members.code, 0);
      assert.deepEqual(
        (members.json.members as { name: string }[]).map((m) => m.name).sort(),
        [MEMBERS.cellular, MEMBERS.starlink, MEMBERS.wifi].sort(),
      );
      const metrics = await call(sock, "metrics", { member: MEMBERS.starlink, limit: 3 });
      assert.equal(metrics.code, 0, metrics.stderr);
      assert.ok(Array.isArray(metrics.json.samples));
      const history = await call(sock, "history", { member: MEMBERS.starlink, since_s: 60 });
      assert.equal(history.code, 0, history.stderr);
      const events = await call(sock, "events", { limit: 5 });
      assert.equal(events.code, 0);
      assert.ok(Array.isArray(events.json.events));
      const recheck = await call(sock, "recheck");
      assert.equal(recheck.code, 0);
      assert.equal(recheck.json.ok, true);
      const info = await call(sock, "info");
      assert.equal(info.code, 0);
      assert.equal(typeof info.json.version, "string");
      const setlog = await call(sock, "setlog", { level: "debug" });
      assert.equal(setlog.code, 0);
      assert.equal(setlog.json.ok, true);

      // config_get is a table: a script can pick an option out of it.
      const cfg = await call(sock, "config_get");
      assert.equal(cfg.code, 0);
      assert.equal(cfg.json.config.main.enabled, true);
      assert.equal(cfg.json.config.main.poll_interval_ms, 1000);
      assert.equal(cfg.json.config.starlink.host, "127.0.0.1");

      // Status codes, with -S (without it the CLI exits -status for a failed method).
      const badArg = await call(sock, "setlog", { level: "loud" });
      assert.equal(badArg.code, 2, "INVALID_ARGUMENT");
      assert.match(badArg.json.error, /level must be one of/);
      const wrongType = await call(sock, "metrics", { member: 7 });
      assert.equal(wrongType.code, 2, "INVALID_ARGUMENT for a number where a string belongs");
      const unknownMember = await call(sock, "metrics", { member: "lte9" });
      assert.equal(unknownMember.code, 4, "NOT_FOUND");
      assert.match(unknownMember.json.error, /unknown member 'lte9'/);
      const unknownFailover = await call(sock, "failover", { member: "lte9" });
      assert.equal(unknownFailover.code, 4);
      const unknownMethod = await call(sock, "reboot");
      assert.equal(unknownMethod.code, 3, "METHOD_NOT_FOUND");
      assert.match(unknownMethod.json.error, /unknown method 'reboot'/);
      // Without -S and with stderr not a terminal, ubus exits 256 − status (cli.c returns -err).
      const plain = await ubusCli(sock, ["call", "starfail", "metrics", '{"member":"lte9"}']);
      assert.equal(plain.code, 252);
      assert.match(plain.stderr, /Command failed: ubus call starfail metrics .*\(Not found\)/);

      // `ubus listen starfail.*` (the real CLI) sees a manual failover and the restore.
      listener = new Deno.Command(OPENWRT.ubus, {
        args: ["-s", sock, "listen", "starfail.*"],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const lines: string[] = [];
      const reading = (async () => {
        const dec = new TextDecoder();
        let buf = "";
        for await (const chunk of listener!.stdout) {
          buf += dec.decode(chunk);
          const parts = buf.split("\n");
          buf = parts.pop()!;
          lines.push(...parts.filter((l) => l.trim() !== ""));
        }
      })();
      // The listener is registered once the CLI is up; an event it misses would fail below.
      await pollUntil(
        async () => {
          await ubusCli(sock, ["send", "starfail.probe", "{}"]);
          return lines.some((l) => l.includes("starfail.probe"));
        },
        5000,
        100,
      );
      const fo = await call(sock, "failover", { member: MEMBERS.cellular });
      assert.equal(fo.code, 0, fo.stderr);
      assert.equal(fo.json.ok, true, fo.json.message);
      const sawSwitch = await pollUntil(
        () =>
          lines.some((l) => {
            const ev = JSON.parse(l)["starfail.switch"];
            return ev?.to === MEMBERS.cellular && ev.manual === true && ev.kind === "override";
          }),
        3000,
      );
      assert.ok(
        sawSwitch,
        `no manual starfail.switch seen; ubus listen printed:\n${lines.join("\n")}`,
      );
      const sw = lines.map((l) => JSON.parse(l)["starfail.switch"]).find((e) => e?.manual);
      assert.equal(sw.from, MEMBERS.starlink);
      assert.equal(typeof sw.reason, "string");
      assert.equal(typeof sw.time, "number");
      // The mwan3 controller committed the new metrics through the real uci (`uci get`
      // also shows staged changes, hence nothing left in `uci changes`).
      assert.ok(
        await pollUntil(
          async () =>
            (await router.uci(["get", `mwan3.${MEMBERS.cellular}.metric`])).stdout === "1\n" &&
            (await router.uci(["changes", "mwan3"])).stdout === "",
          15_000,
          100,
        ),
        "cellular's mwan3 metric is committed as 1 in the real uci's view",
      );
      const committed = await Deno.readTextFile(`${router.confDir}/mwan3`);
      assert.match(
        committed,
        new RegExp(`config member '${MEMBERS.cellular}'[^]*?option metric '1'`),
      );
      const restore = await call(sock, "restore");
      assert.equal(restore.code, 0);
      // restore hands the choice back to the engine (a switch follows only if it decides one).
      assert.equal(restore.json.ok, true);
      // The dish raises an alert and a pending update reboot, then clears both: starfail.alert
      // says when each began and ended.
      const alertSeen = (alert: string, active: boolean) =>
        lines.some((l) => {
          const ev = JSON.parse(l)["starfail.alert"];
          return ev?.alert === alert && ev.active === active && ev.member === MEMBERS.starlink;
        });
      router.dish.setScenario(() => ({
        alerts: ["thermal_throttle"],
        swupdate_reboot_ready: true,
        latency_ms: 40,
      }));
      assert.ok(
        await pollUntil(
          () => alertSeen("thermal_throttle", true) && alertSeen("update_reboot", true),
          8000,
        ),
        `no starfail.alert starts:\n${lines.join("\n")}`,
      );
      router.dish.setScenario("healthy");
      assert.ok(
        await pollUntil(
          () => alertSeen("thermal_throttle", false) && alertSeen("update_reboot", false),
          8000,
        ),
        `no starfail.alert ends:\n${lines.join("\n")}`,
      );
      const alertEv = lines.map((l) => JSON.parse(l)["starfail.alert"]).find((e) => e);
      assert.equal(typeof alertEv.message, "string");
      assert.ok(["dish_alert", "update_reboot"].includes(alertEv.kind));
      listener.kill("SIGTERM");
      await reading.catch(() => undefined);
      await listener.status;
      listener = null;
    } finally {
      if (listener !== null) {
        listener.kill("SIGKILL");
        await listener.status;
      }
      await daemon.stop();
      await router.stop();
    }
  },
});
