import assert from "node:assert/strict";
import { runCommand } from "../collectors/exec.ts";
import {
  findDefaultRule,
  Mwan3Controller,
  planMetrics,
  policyMembers,
  resolveMember,
  strictPrimary,
} from "./mwan3.ts";
import type { PolicyMember } from "./mwan3.ts";
import { parseShownValue, parseUciShow } from "./uci_show.ts";
import { createFakeRouter } from "../sim/fakebin/fake_router.ts";
import { parseMwan3StatusText, parseMwan3UbusStatus } from "./mwan3_status.ts";

const FIXTURES = new URL("../test/fixtures/", import.meta.url);
const FAKEBIN = new URL("../sim/fakebin/", import.meta.url);

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(name, FIXTURES));
}

function stripComments(text: string): string {
  return text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
}

const members = (spec: Array<[string, number]>): PolicyMember[] =>
  spec.map(([member, metric]) => ({ member, iface: member, metric, weight: 1 }));

// ---- parsers ----

Deno.test("parseShownValue handles lists and escaped quotes", () => {
  assert.deepEqual(parseShownValue("'1.1.1.1' '8.8.8.8'"), ["1.1.1.1", "8.8.8.8"]);
  assert.deepEqual(parseShownValue("'it'\\''s'"), ["it's"]);
  assert.deepEqual(parseShownValue("''"), [""]);
});

Deno.test("parseUciShow reads the OpenWrt and RutOS layouts", () => {
  const up = parseUciShow(
    stripComments(
      fixture(
        "router_tools/uci_show_mwan3_starlink_plus_cellular_OPENWRT_UPSTREAM_layout__COMPOSED_example.txt",
      ),
    ),
    "mwan3",
  );
  assert.deepEqual(findDefaultRule(up), { rule: "default_rule_v4", policy: "starlink_cell" });
  assert.deepEqual(policyMembers(up, "starlink_cell"), [
    { member: "wan_m1_w3", iface: "wan", metric: 1, weight: 3 },
    { member: "wwan_m2_w2", iface: "wwan", metric: 2, weight: 2 },
  ]);
  const rut = parseUciShow(
    stripComments(
      fixture(
        "router_tools/rutos_uci_show_mwan3_wan_plus_mob1s1a1_mob1s2a1__COMPOSED_from_RutOS_7.20_generators.txt",
      ),
    ),
    "mwan3",
  );
  assert.deepEqual(findDefaultRule(rut), { rule: "default_rule", policy: "mwan_default" });
  assert.deepEqual(policyMembers(rut, "mwan_default").map((m) => [m.member, m.metric]), [
    ["wan_member_mwan", 1],
    ["mob1s1a1_member_mwan", 2],
    ["mob1s2a1_member_mwan", 3],
  ]);
  assert.equal(
    rut.sections.find((s) => s.name === "@condition[1]")?.options.get("interface")?.[0],
    "mob1s1a1",
  );
});

Deno.test("mwan3 status text: 19.07, 2.6 and line variants", () => {
  const s = parseMwan3StatusText(
    stripComments(
      fixture("router_tools/mwan3_status_text_19.07_mwan3-2.8__openwrt-packages_issue13145.txt"),
    ),
  );
  assert.deepEqual(s.interfaces.wan, {
    status: "online",
    online_s: 132,
    uptime_s: 3567,
    tracking: "active",
  });
  assert.equal(s.interfaces.wg1.status, "offline");
  assert.deepEqual(s.policies.ipv4.balanced, [{ iface: "wanb", percent: 47 }, {
    iface: "wan",
    percent: 52,
  }]);
  assert.deepEqual(s.policies.ipv4.wg1_only, []);
  assert.deepEqual(s.policies.ipv6.wan_only, []);
  const old = parseMwan3StatusText(
    fixture("router_tools/mwan3_status_text_mwan3-2.6__openwrt-packages_issue4882.txt"),
  );
  assert.deepEqual(old.interfaces.wan2, { status: "online", tracking: "active" });
  assert.deepEqual(old.policies.ipv4.wan_wan2, [{ iface: "wan", percent: 100 }]);
  const v = parseMwan3StatusText(
    fixture(
      "router_tools/mwan3_interfaces_text_line_variants__several_openwrt-packages_issues_and_DERIVED_2.12.txt",
    )
      .split("\n").filter((l) => !l.startsWith("#")).map((l) => l.replace(/\s+\[.*\]$/, "")).join(
        "\n",
      ),
  );
  assert.deepEqual(v.interfaces.cmcc_wan, {
    status: "online",
    online_s: 1597,
    uptime_s: 174765,
    tracking: "active",
  });
  assert.equal(v.interfaces.wg_fr.tracking, "not enabled");
  assert.deepEqual(v.interfaces.wan, { status: "error", tracking: "active" });
  assert.deepEqual(v.interfaces.if1, { status: "error" });
  assert.deepEqual(v.interfaces.tun0, { status: "online", tracking: "active" });
});

Deno.test("mwan3 ubus status JSON: 2.11 and RutOS", () => {
  const s = parseMwan3UbusStatus(
    JSON.parse(
      fixture(
        "router_tools/ubus_mwan3_status_2.11_with_wan_starlink__FUjr-homeassistant-openwrt-ubus_example_data_mwan3_status.json",
      ),
    ),
  );
  assert.deepEqual(s.interfaces.wan_starlink, {
    status: "disabled",
    tracking: "paused",
    online_s: 0,
    uptime_s: 0,
  });
  assert.deepEqual(s.policies.ipv4.wt_split, [{ iface: "wan_tether", percent: 1 }, {
    iface: "wan",
    percent: 99,
  }]);
  const r = parseMwan3UbusStatus(
    JSON.parse(
      fixture(
        "router_tools/rutos_ubus_mwan3_status__DERIVED_from_RutOS_7.20_usr_libexec_rpcd_mwan3.json",
      ),
    ),
  );
  assert.equal(r.interfaces.mob1s1a1.status, "standby");
  assert.deepEqual(r.policies.ipv4.mwan_default, [{ iface: "wan", percent: 100 }]);
  assert.deepEqual(parseMwan3UbusStatus(null), {
    interfaces: {},
    policies: { ipv4: {}, ipv6: {} },
  });
});

// ---- planning ----

Deno.test("planMetrics: already lowest changes nothing", () => {
  assert.deepEqual(planMetrics(members([["a", 1], ["b", 2]]), "a"), []);
});

Deno.test("planMetrics: room below the others moves only the primary", () => {
  assert.deepEqual(planMetrics(members([["a", 3], ["b", 5], ["c", 4]]), "b"), [{
    member: "b",
    from: 5,
    to: 2,
  }]);
});

Deno.test("planMetrics: no room shifts only the contiguous run from 1, keeping ties", () => {
  assert.deepEqual(planMetrics(members([["a", 1], ["b", 1], ["c", 2], ["d", 5], ["e", 3]]), "e"), [
    { member: "e", from: 3, to: 1 },
    { member: "a", from: 1, to: 2 },
    { member: "b", from: 1, to: 2 },
    { member: "c", from: 2, to: 3 },
  ]);
});

Deno.test("planMetrics: a tie with the primary is broken", () => {
  const changes = planMetrics(members([["a", 1], ["b", 1]]), "b");
  assert.deepEqual(changes, [{ member: "a", from: 1, to: 2 }]);
  assert.throws(() => planMetrics(members([["a", 1]]), "zz"), /not in the policy/);
});

Deno.test("planMetrics result always makes the primary strictly lowest and keeps the others' order", () => {
  const cases: Array<Array<[string, number]>> = [
    [["a", 1], ["b", 1], ["c", 1]],
    [["a", 2], ["b", 1], ["c", 3]],
    [["a", 7], ["b", 7], ["c", 1]],
    [["a", 1], ["b", 2], ["c", 3], ["d", 4]],
  ];
  for (const c of cases) {
    for (const [primary] of c) {
      const ms = members(c);
      const changes = planMetrics(ms, primary);
      const after = ms.map((m) => ({
        ...m,
        metric: changes.find((x) => x.member === m.member)?.to ?? m.metric,
      }));
      assert.equal(strictPrimary(after), primary);
      const others = (list: PolicyMember[]) => list.filter((m) => m.member !== primary);
      const b = others(ms);
      const a = others(after);
      for (let i = 0; i < b.length; i++) {
        for (let j = 0; j < b.length; j++) {
          assert.equal(Math.sign(b[i].metric - b[j].metric), Math.sign(a[i].metric - a[j].metric));
        }
      }
    }
  }
});

Deno.test("resolveMember accepts member or interface names", () => {
  const ms: PolicyMember[] = [{ member: "wwan_m2_w2", iface: "wwan", metric: 2, weight: 2 }];
  assert.equal(resolveMember(ms, "wwan_m2_w2"), "wwan_m2_w2");
  assert.equal(resolveMember(ms, "wwan"), "wwan_m2_w2");
  assert.equal(resolveMember(ms, "lte"), null);
});

// ---- against the fake uci and mwan3 on temp config dirs ----

interface Sandbox {
  dir: string;
  env: Record<string, string>;
  uci(...args: string[]): Promise<string>;
  state(): { calls?: string[][] };
}

async function sandbox(configFixture: string, online: string[]): Promise<Sandbox> {
  const router = await createFakeRouter({
    mwan3Config: new URL(configFixture, FIXTURES).pathname,
    online,
  });
  return {
    dir: router.dir,
    env: router.env,
    async uci(...args: string[]) {
      const r = await runCommand(router.uciCommand, args, { timeoutMs: 10000, env: router.env });
      return r.stdout;
    },
    state() {
      return JSON.parse(Deno.readTextFileSync(router.env.FAKE_MWAN3_STATE));
    },
  };
}

function controller(
  sb: Sandbox,
  extra: Partial<ConstructorParameters<typeof Mwan3Controller>[0]> = {},
) {
  return new Mwan3Controller({
    uciCommand: new URL("uci", FAKEBIN).pathname,
    mwan3Command: new URL("mwan3", FAKEBIN).pathname,
    env: sb.env,
    conntrackFile: `${sb.dir}/nf_conntrack`,
    ...extra,
  });
}

Deno.test("failover to cellular: two metric changes, commit, ifup reload, verified", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    const before = await Deno.readTextFile(`${sb.dir}/config/mwan3`);
    const ctl = controller(sb, { conntrackFlush: true });
    const r = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.deepEqual(r.errors, []);
    assert.equal(r.changed, true);
    assert.equal(r.previousPrimary, "wan_m1_w3");
    assert.deepEqual(r.actions.map((a) => [a.cmd.split("/").at(-1), ...a.args]), [
      ["uci", "set", "mwan3.wwan_m2_w2.metric=1"],
      ["uci", "set", "mwan3.wan_m1_w3.metric=2"],
      ["uci", "commit", "mwan3"],
      ["mwan3", "ifup", "wwan"],
      ["write", `${sb.dir}/nf_conntrack`, "f"],
    ]);
    assert.equal(r.verified, true, r.verification.join("; "));
    assert.equal(r.conntrackFlushed, true);
    assert.equal(await Deno.readTextFile(`${sb.dir}/nf_conntrack`), "f");
    assert.equal(await sb.uci("get", "mwan3.wwan_m2_w2.metric"), "1\n");
    assert.equal(await sb.uci("get", "mwan3.wan_m1_w3.metric"), "2\n");
    assert.equal(await sb.uci("changes", "mwan3"), "", "everything committed");
    assert.deepEqual(sb.state().calls, [["ifup", "wwan"]]);
    const after = await Deno.readTextFile(`${sb.dir}/config/mwan3`);
    assert.notEqual(after, before);
    assert.match(
      after,
      /config member 'wwan_m2_w2'\n\toption interface 'wwan'\n\toption metric '1'/,
    );
    // Running again changes nothing.
    const again = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.equal(again.changed, false);
    assert.deepEqual(again.actions, []);
    assert.equal(again.verified, true);
    assert.deepEqual(sb.state().calls, [["ifup", "wwan"]]);
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("dry run changes nothing at all and reports the plan", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    const before = await Deno.readTextFile(`${sb.dir}/config/mwan3`);
    const r = await controller(sb, { dryRun: true, conntrackFlush: true }).reconcile({
      primary: "wwan",
      order: ["wwan", "wan"],
    });
    assert.equal(r.dryRun, true);
    assert.equal(r.changed, true);
    assert.equal(r.verified, false);
    assert.equal(r.actions.length, 5);
    assert.equal(await Deno.readTextFile(`${sb.dir}/config/mwan3`), before);
    assert.equal(await sb.uci("changes"), "");
    assert.equal(sb.state().calls, undefined);
    await assert.rejects(Deno.stat(`${sb.dir}/nf_conntrack`));
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("RutOS layout: mwan_default via default_rule, restart reload, cascaded metrics", async () => {
  const sb = await sandbox("mwan3_rutos_wan_mob1s1a1_mob1s2a1.uci", ["wan", "mob1s1a1"]);
  try {
    const ctl = controller(sb, { reload: "restart" });
    const r = await ctl.reconcile({ primary: "mob1s1a1", order: ["mob1s1a1", "wan", "mob1s2a1"] });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.actions.filter((a) => a.args.includes("set")).map((a) => a.args.at(-1)),
      ["mwan3.mob1s1a1_member_mwan.metric=1", "mwan3.wan_member_mwan.metric=2"],
    );
    assert.deepEqual(sb.state().calls, [["restart"]]);
    assert.equal(r.verified, true, r.verification.join("; "));
    const back = await ctl.readBack();
    assert.equal(back.primaryMember, "mob1s1a1_member_mwan");
    assert.deepEqual(back.activeInterfaces, ["mob1s1a1"]);
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("drift: a metric edited by hand is reported, not silently overwritten", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    const ctl = controller(sb);
    await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    await sb.uci("set", "mwan3.wan_m1_w3.metric=7");
    await sb.uci("commit", "mwan3");
    const r = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.deepEqual(r.drift, [{ member: "wan_m1_w3", expected: 2, found: 7, field: "metric" }]);
    assert.equal(r.changed, false, "wwan is still lowest, so the user's value stays");
    assert.equal(await sb.uci("get", "mwan3.wan_m1_w3.metric"), "7\n");
    const r2 = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.deepEqual(r2.drift, [], "the adopted value is the new baseline");
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("someone else's staged changes are never committed", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    await sb.uci("set", "mwan3.wan.interval=99");
    const r = await controller(sb).reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.equal(r.changed, false);
    assert.match(r.errors[0], /uncommitted uci changes/);
    assert.equal(await sb.uci("get", "mwan3.wwan_m2_w2.metric"), "2\n");
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("primary offline in mwan3: config is right, verification says why traffic stays", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan"]);
  try {
    const r = await controller(sb).reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.equal(r.changed, true);
    assert.ok(
      r.verification.some((v) => /wwan as unknown; mwan3 routes wan/.test(v)),
      r.verification.join("; "),
    );
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("unknown member and missing uci give one-sentence errors", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan"]);
  try {
    const r = await controller(sb).reconcile({ primary: "wifi", order: [] });
    assert.match(
      r.errors[0],
      /member wifi is not in mwan3 policy starlink_cell \(members: wan_m1_w3, wwan_m2_w2\)/,
    );
    const missing = await new Mwan3Controller({ uciCommand: "/nonexistent/uci" }).reconcile({
      primary: "wan",
      order: [],
    });
    assert.match(missing.errors[0], /uci show mwan3 failed \(exit 127/);
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("injected ubus reader is used for read-back", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    const ctl = controller(sb, {
      ubusStatus: () =>
        Promise.resolve({
          interfaces: { wan: { status: "online" }, wwan: { status: "online" } },
          policies: { ipv4: { starlink_cell: [{ interface: "wan", percent: 100 }] } },
        }),
    });
    const back = await ctl.readBack();
    assert.deepEqual(back.activeInterfaces, ["wan"]);
    assert.equal(back.primaryMember, "wan_m1_w3");
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("a failing uci set reverts our staged changes and reports the failure", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    const real = new URL("uci", FAKEBIN).pathname;
    let sets = 0;
    const ctl = controller(sb, {
      run: (cmd, args, opts) => {
        if (args.includes("set") && ++sets === 2) {
          return Promise.resolve({
            code: 1,
            stdout: "",
            stderr: "uci: I/O error",
            timedOut: false,
          });
        }
        return runCommand(cmd === "uci" ? real : cmd, args, opts);
      },
    });
    const r = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.match(r.errors[0], /set mwan3\.wan_m1_w3\.metric=2 failed \(exit 1: uci: I\/O error\)/);
    assert.equal(r.verified, false);
    assert.equal(await sb.uci("changes", "mwan3"), "", "nothing left staged");
    assert.equal(await sb.uci("get", "mwan3.wwan_m2_w2.metric"), "2\n");
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});

Deno.test("restore puts the metrics found at start back, commits, reloads and says so", async () => {
  const sb = await sandbox("mwan3_starlink_cellular.uci", ["wan", "wwan"]);
  try {
    const ctl = controller(sb);
    assert.deepEqual(await ctl.restore(), [], "nothing changed yet: nothing to restore");
    const r = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.deepEqual(r.errors, []);
    assert.equal(await sb.uci("get", "mwan3.wwan_m2_w2.metric"), "1\n");
    const lines = await ctl.restore();
    assert.deepEqual(lines, [
      "restored mwan3.wan_m1_w3.metric 2 → 1",
      "restored mwan3.wwan_m2_w2.metric 1 → 2",
    ]);
    assert.equal(await sb.uci("get", "mwan3.wan_m1_w3.metric"), "1\n");
    assert.equal(await sb.uci("get", "mwan3.wwan_m2_w2.metric"), "2\n");
    assert.equal(await sb.uci("changes", "mwan3"), "", "everything committed");
    assert.deepEqual(sb.state().calls, [["ifup", "wwan"], ["ifup", "wan"]]);
    // A dry-run controller never changed anything, so it never restores anything.
    const dry = controller(sb, { dryRun: true });
    await dry.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
    assert.deepEqual(await dry.restore(), []);
  } finally {
    await Deno.remove(sb.dir, { recursive: true });
  }
});
