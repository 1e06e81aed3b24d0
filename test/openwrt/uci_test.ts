/**
 * The project's UCI files against OpenWrt's real `uci` (built from
 * ../shared/openwrt), both ways: what starfail writes (`config set`, the mwan3
 * controller's metric changes and commits) is read back by the real
 * `uci -c DIR show/export`, and what the real `uci` wrote (lists, anonymous
 * sections, quoting) is read by starfail's parser. The mwan3 controller runs
 * the real `uci` binary; only `mwan3` itself is the double (no mwan3 here).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runCommand } from "../../collectors/exec.ts";
import { loadConfig, parseUci, setOption } from "../../config/mod.ts";
import { Mwan3Controller } from "../../controllers/mwan3.ts";
import { parseUciShow } from "../../controllers/uci_show.ts";
import { createFakeRouter } from "../../sim/fakebin/fake_router.ts";
import { haveOpenwrt, OPENWRT, requirePart, skipUnless } from "../require.ts";

const NEEDS = "OpenWrt's uci built from ../shared/openwrt";
const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const FAKE_MWAN3 = new URL("../../sim/fakebin/mwan3", import.meta.url).pathname;

/** A temp uci config folder and save folder, and the real uci on them. */
async function uciDirs() {
  const dir = await Deno.makeTempDir({ prefix: `starfail_uci_${Deno.pid}_` });
  const conf = `${dir}/config`;
  const save = `${dir}/save`;
  await Deno.mkdir(conf);
  await Deno.mkdir(save);
  const uci = async (...args: string[]) => {
    const r = await runCommand(OPENWRT.uci, ["-c", conf, "-t", save, ...args], {
      timeoutMs: 5000,
    });
    assert.equal(r.code, 0, `uci ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  return { dir, conf, save, uci, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test({
  name:
    "real uci reads what `starfail config set` wrote: options, lists, anonymous members, quoting",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const u = await uciDirs();
    try {
      const path = `${u.conf}/starfail`;
      // A hand-written file with an anonymous member, then changes through setOption.
      await Deno.writeTextFile(
        path,
        `config starfail 'main'
\toption poll_interval_ms '1500'

config member
\toption iface 'wan'
\toption class 'starlink'
`,
      );
      await setOption(path, "main.cooldown_s", "45");
      await setOption(path, "main.log_level", "debug");
      await setOption(path, "notifications.webhook_url", "https://example.invalid/hook?a=1&b='x'");
      await setOption(path, "main.log_file", '/tmp/it\'s "quoted" $HOME `x` \\ end.log');
      await setOption(path, "member.lte.probe_target", "127.0.0.1 127.0.0.2");
      await setOption(path, "member.lte.class", "cellular");

      const shown = parseUciShow(await u.uci("show", "starfail"), "starfail");
      const opt = (section: string, name: string) =>
        shown.sections.find((s) => s.name === section)?.options.get(name);
      assert.deepEqual(opt("main", "cooldown_s"), ["45"]);
      assert.deepEqual(opt("main", "log_level"), ["debug"]);
      assert.deepEqual(opt("main", "poll_interval_ms"), ["1500"]);
      assert.deepEqual(opt("notifications", "webhook_url"), [
        "https://example.invalid/hook?a=1&b='x'",
      ]);
      assert.deepEqual(opt("main", "log_file"), [
        '/tmp/it\'s "quoted" $HOME `x` \\ end.log',
      ]);
      assert.deepEqual(opt("lte", "probe_target"), ["127.0.0.1", "127.0.0.2"]);
      assert.deepEqual(opt("lte", "class"), ["cellular"]);
      // The anonymous member is an anonymous section to uci too.
      const anon = await u.uci("show", "starfail");
      assert.match(anon, /^starfail\.@member\[0\]=member$/m);
      assert.match(anon, /^starfail\.@member\[0\]\.iface='wan'$/m);
      // Single values come back one by one through `uci get`, quotes and all.
      assert.equal(
        await u.uci("get", "starfail.main.log_file"),
        '/tmp/it\'s "quoted" $HOME `x` \\ end.log\n',
      );
      // uci's own export of the file loads to the same configuration.
      const exported = await u.uci("export", "starfail");
      const again = `${u.dir}/exported`;
      await Deno.writeTextFile(again, exported.replace(/^package starfail\n/, ""));
      const a = await loadConfig(path);
      const b = await loadConfig(again);
      assert.deepEqual(b.config, a.config);
    } finally {
      await u.cleanup();
    }
  },
});

Deno.test({
  name: "starfail's parser reads what the real uci wrote: lists, anonymous sections, quoting",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const u = await uciDirs();
    try {
      await Deno.writeTextFile(`${u.conf}/starfail`, "");
      await u.uci("set", "starfail.main=starfail");
      await u.uci("set", "starfail.main.log_level=warn");
      await u.uci("set", "starfail.main.cooldown_s=30");
      await u.uci("set", 'starfail.main.log_file=/tmp/it\'s a "test" \\ $x.log');
      const anon = (await u.uci("add", "starfail", "member")).trim();
      assert.match(anon, /^cfg[0-9a-f]{6}$/);
      await u.uci("set", `starfail.${anon}.iface=wan`);
      await u.uci("set", `starfail.${anon}.class=starlink`);
      await u.uci("set", "starfail.lte=member");
      await u.uci("set", "starfail.lte.class=cellular");
      await u.uci("add_list", "starfail.lte.probe_target=127.0.0.1");
      await u.uci("add_list", "starfail.lte.probe_target=127.0.0.2");
      await u.uci("commit", "starfail");

      const text = await Deno.readTextFile(`${u.conf}/starfail`);
      const parsed = parseUci(text);
      assert.deepEqual(parsed.errors, []);
      const sections = parsed.document.sections;
      const member = sections.find((s) => s.type === "member" && s.anonymous);
      assert.ok(member, `an anonymous member section in:\n${text}`);
      assert.deepEqual(
        member.options.map((o) => [o.name, o.value]),
        [["iface", "wan"], ["class", "starlink"]],
      );
      const lte = sections.find((s) => s.name === "lte")!;
      assert.deepEqual(lte.options.find((o) => o.name === "probe_target")?.value, [
        "127.0.0.1",
        "127.0.0.2",
      ]);
      const loaded = await loadConfig(`${u.conf}/starfail`);
      assert.equal(loaded.config.main.log_level, "warn");
      assert.equal(loaded.config.main.cooldown_s, 30);
      assert.equal(loaded.config.main.log_file, '/tmp/it\'s a "test" \\ $x.log');
      assert.deepEqual(
        loaded.config.members.map((m) => [m.class, m.iface ?? null]),
        [["starlink", "wan"], ["cellular", "lte"]],
      );
      assert.deepEqual(
        loaded.config.members.find((m) => m.name === "lte")?.probe_target,
        ["127.0.0.1", "127.0.0.2"],
      );
      // And `uci show`'s text, which the mwan3 controller parses, for the same file.
      const shown = parseUciShow(await u.uci("show", "starfail"), "starfail");
      const sec = (name: string) => shown.sections.find((s) => s.name === name);
      assert.deepEqual(sec("lte")?.options.get("probe_target"), [
        "127.0.0.1",
        "127.0.0.2",
      ]);
      assert.deepEqual(sec("main")?.options.get("log_file"), [
        '/tmp/it\'s a "test" \\ $x.log',
      ]);
    } finally {
      await u.cleanup();
    }
  },
});

Deno.test({
  name: "mwan3 controller on the real uci: metric changes committed, read back by uci show/export",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    for (
      const [fixture, primary, order, ifupIface] of [
        ["mwan3_starlink_cellular.uci", "wwan", ["wwan", "wan"], "wwan"],
        [
          "mwan3_rutos_wan_mob1s1a1_mob1s2a1.uci",
          "mob1s1a1",
          ["mob1s1a1", "wan", "mob1s2a1"],
          "mob1s1a1",
        ],
      ] as const
    ) {
      const u = await uciDirs();
      const fake = await createFakeRouter({
        mwan3Config: `${FIXTURES}${fixture}`,
        online: ["wan", "wwan", "mob1s1a1", "mob1s2a1"],
      });
      try {
        await Deno.copyFile(`${FIXTURES}${fixture}`, `${u.conf}/mwan3`);
        const ctl = new Mwan3Controller({
          uciCommand: OPENWRT.uci,
          uciArgs: ["-c", u.conf, "-t", u.save],
          mwan3Command: FAKE_MWAN3,
          env: {
            UCI_CONFDIR: u.conf,
            UCI_SAVEDIR: u.save,
            FAKE_MWAN3_STATE: fake.env.FAKE_MWAN3_STATE,
          },
        });
        const before = parseUciShow(await u.uci("show", "mwan3"), "mwan3");
        const r = await ctl.reconcile({ primary, order: [...order] });
        assert.deepEqual(r.errors, [], `${fixture}: ${r.errors.join("; ")}`);
        assert.equal(r.changed, true);
        assert.equal(r.verified, true, r.verification.join("; "));
        assert.ok(r.actions.some((a) => a.args.includes("commit")), "committed");
        assert.deepEqual(await fake.calls(), [["ifup", ifupIface]]);
        // The real uci sees the committed metrics and nothing left staged.
        assert.equal(await u.uci("changes", "mwan3"), "");
        const after = parseUciShow(await u.uci("show", "mwan3"), "mwan3");
        const metricOf = (pkg: typeof after, iface: string) =>
          pkg.sections.find((s) => s.type === "member" && s.options.get("interface")?.[0] === iface)
            ?.options.get("metric")?.[0];
        assert.equal(metricOf(after, primary), "1", `${fixture}: primary's member has metric 1`);
        for (const iface of order.slice(1)) {
          assert.ok(
            Number(metricOf(after, iface)) > 1,
            `${fixture}: ${iface} metric ${metricOf(after, iface)}`,
          );
        }
        // Everything else is untouched: same sections, same other options.
        assert.deepEqual(after.sections.map((x) => x.name), before.sections.map((x) => x.name));
        const exported = await u.uci("export", "mwan3");
        assert.match(exported, /^package mwan3$/m);
        assert.deepEqual(parseUci(exported.replace(/^package mwan3\n/, "")).errors, []);
        // The controller's own read-back (through the real uci) agrees.
        const back = await ctl.readBack();
        const primaryMember = after.sections.find((x) =>
          x.type === "member" && x.options.get("interface")?.[0] === primary
        )?.name;
        assert.equal(back.primaryMember, primaryMember);
        const again = await ctl.reconcile({ primary, order: [...order] });
        assert.equal(again.changed, false);
        assert.deepEqual(again.actions, []);
      } finally {
        await fake.cleanup();
        await u.cleanup();
      }
    }
  },
});
