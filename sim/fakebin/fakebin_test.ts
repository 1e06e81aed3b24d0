import assert from "node:assert/strict";
import { runCommand } from "../../collectors/exec.ts";
import { parseMwan3StatusText } from "../../controllers/mwan3_status.ts";

const FAKEBIN = new URL("./", import.meta.url).pathname;
const FIXTURES = new URL("../../test/fixtures/", import.meta.url).pathname;

function withoutComments(text: string): string {
  return text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
}

async function sandbox(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "starfail_fakebin_" });
  await Deno.mkdir(`${dir}/config`);
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/config/${name}`, text);
  }
  const env = {
    UCI_CONFDIR: `${dir}/config`,
    UCI_SAVEDIR: `${dir}/save`,
    FAKE_MWAN3_STATE: `${dir}/state.json`,
  };
  const tool = (name: string) => (...args: string[]) =>
    runCommand(`${FAKEBIN}${name}`, args, { timeoutMs: 10000, env });
  return {
    dir,
    uci: tool("uci"),
    mwan3: tool("mwan3"),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("uci show prints the composed OpenWrt and RutOS samples byte for byte", async () => {
  for (
    const [config, sample] of [
      [
        `${FIXTURES}mwan3_starlink_cellular.uci`,
        "router_tools/uci_show_mwan3_starlink_plus_cellular_OPENWRT_UPSTREAM_layout__COMPOSED_example.txt",
      ],
      [
        `${FIXTURES}mwan3_rutos_wan_mob1s1a1_mob1s2a1.uci`,
        "router_tools/rutos_uci_show_mwan3_wan_plus_mob1s1a1_mob1s2a1__COMPOSED_from_RutOS_7.20_generators.txt",
      ],
    ]
  ) {
    const sb = await sandbox({ mwan3: await Deno.readTextFile(config) });
    try {
      const r = await sb.uci("show", "mwan3");
      assert.equal(r.code, 0, r.stderr);
      const expected = withoutComments(await Deno.readTextFile(`${FIXTURES}${sample}`)).trim() +
        "\n";
      assert.equal(r.stdout, expected, config);
    } finally {
      await sb.cleanup();
    }
  }
});

Deno.test("uci commit writes the real export format (default mwan3 config round-trips)", async () => {
  const original = await Deno.readTextFile(
    `${FIXTURES}router_tools/etc_config_mwan3_default_2.12.2__openwrt-packages_net_mwan3_files_etc_config_mwan3.uci`,
  );
  const sb = await sandbox({ mwan3: original });
  try {
    await sb.uci("set", "mwan3.globals.mmx_mask=0x3F00");
    const changes = await sb.uci("changes", "mwan3");
    assert.equal(changes.stdout, "mwan3.globals.mmx_mask='0x3F00'\n");
    assert.equal((await sb.uci("commit", "mwan3")).code, 0);
    const written = await Deno.readTextFile(`${sb.dir}/config/mwan3`);
    // uci drops comments; everything else is identical, starting with the blank line before each section.
    assert.equal(written, withoutComments(original).replace(/^\n*/, "\n").replace(/\n*$/, "\n\n"));
    assert.equal((await sb.uci("changes")).stdout, "");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("uci staged changes: visible in show/get before commit, absent from the file, revert drops them", async () => {
  const sb = await sandbox({ net: "config iface 'wan'\n\toption metric '1'\n" });
  try {
    await sb.uci("set", "net.wan.metric=5");
    await sb.uci("add_list", "net.wan.dns=1.1.1.1");
    await sb.uci("add_list", "net.wan.dns=9.9.9.9");
    assert.equal((await sb.uci("get", "net.wan.metric")).stdout, "5\n");
    assert.equal((await sb.uci("get", "net.wan.dns")).stdout, "1.1.1.1 9.9.9.9\n");
    assert.equal((await sb.uci("show", "net.wan.dns")).stdout, "net.wan.dns='1.1.1.1' '9.9.9.9'\n");
    assert.equal(
      await Deno.readTextFile(`${sb.dir}/config/net`),
      "config iface 'wan'\n\toption metric '1'\n",
    );
    assert.equal(
      (await sb.uci("changes", "net")).stdout,
      "net.wan.metric='5'\n+net.wan.dns='1.1.1.1'\n+net.wan.dns='9.9.9.9'\n",
    );
    await sb.uci("revert", "net");
    assert.equal((await sb.uci("get", "net.wan.metric")).stdout, "1\n");
    await sb.uci("delete", "net.wan.metric");
    await sb.uci("commit");
    assert.equal(await Deno.readTextFile(`${sb.dir}/config/net`), "\nconfig iface 'wan'\n\n");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("uci errors: Entry not found exits 1, -q silences it; type via get on a section", async () => {
  const sb = await sandbox({ net: "config iface 'wan'\n" });
  try {
    const missing = await sb.uci("get", "net.wan.nope");
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "uci: Entry not found\n");
    const quiet = await sb.uci("-q", "get", "net.wan.nope");
    assert.deepEqual([quiet.code, quiet.stderr], [1, ""]);
    assert.equal((await sb.uci("get", "net.wan")).stdout, "iface\n");
    assert.equal((await sb.uci("get", "nope.wan.x")).code, 1);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("uci syntax: quotes, escapes, comments, anonymous names, -X", async () => {
  const text = [
    "# comment",
    "config a",
    "\toption q 'it'\\''s'",
    '\toption d "x\\"y"',
    "\toption c 2#comment",
    "\toption cat 'con'\"cat\"x",
    "config zone",
    "config zone",
    "config zone 'named'",
    "config b",
    "config zone",
    "",
  ].join("\n");
  const sb = await sandbox({ p: text });
  try {
    assert.equal((await sb.uci("get", "p.@a[0].q")).stdout, "it's\n");
    assert.equal((await sb.uci("show", "p.@a[0].q")).stdout, "p.@a[0].q='it'\\''s'\n");
    assert.equal((await sb.uci("get", "p.@a[0].d")).stdout, 'x"y\n');
    assert.equal((await sb.uci("get", "p.@a[0].c")).stdout, "2\n");
    assert.equal((await sb.uci("get", "p.@a[0].cat")).stdout, "concatx\n");
    const x = await sb.uci("-X", "show", "p");
    assert.match(x.stdout, /^p\.cfg01b606=a$/m, "1st section of type a");
    assert.match(x.stdout, /^p\.cfg06dc81=zone$/m, "6th section, type zone");
    assert.equal((await sb.uci("get", "p.@zone[-1]")).stdout, "zone\n");
    assert.equal((await sb.uci("show", "p.@zone[2]")).stdout, "p.named=zone\n");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("fake mwan3 status matches the 2.12 text layout and policy rules", async () => {
  const sb = await sandbox({
    mwan3: await Deno.readTextFile(`${FIXTURES}mwan3_starlink_cellular.uci`),
  });
  try {
    await Deno.writeTextFile(
      `${sb.dir}/state.json`,
      JSON.stringify({
        interfaces: {
          wan: { status: "online", online_s: 132, uptime_s: 3567 },
          wwan: { status: "offline", tracking: "active" },
        },
        connected: { ipv4: ["100.64.0.0/10"], ipv6: [] },
      }),
    );
    const r = await sb.mwan3("status");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], "Interface status:");
    assert.equal(
      lines[1],
      " interface wan is online 00h:02m:12s, uptime 00h:59m:27s and tracking is active",
    );
    assert.equal(lines[2], " interface wwan is offline and tracking is active");
    assert.deepEqual(lines.slice(3, 7), [
      "",
      "Current ipv4 policies:",
      "starlink_cell:",
      " wan (100%)",
    ]);
    assert.ok(r.stdout.includes("Directly connected ipv4 networks:\n100.64.0.0/10\n"));
    const parsed = parseMwan3StatusText(r.stdout);
    assert.deepEqual(parsed.policies.ipv4.starlink_cell, [{ iface: "wan", percent: 100 }]);
    assert.deepEqual(parsed.policies.ipv6.starlink_cell, []);

    await sb.uci("set", "mwan3.wwan_m2_w2.metric=1");
    await sb.uci("commit", "mwan3");
    await sb.mwan3("ifup", "wwan");
    const state = JSON.parse(await Deno.readTextFile(`${sb.dir}/state.json`));
    state.interfaces.wwan.status = "online";
    await Deno.writeTextFile(`${sb.dir}/state.json`, JSON.stringify(state));
    const split = parseMwan3StatusText((await sb.mwan3("status")).stdout);
    assert.deepEqual(split.policies.ipv4.starlink_cell, [{ iface: "wwan", percent: 40 }, {
      iface: "wan",
      percent: 60,
    }]);
    await sb.mwan3("ifdown", "wan");
    const after = JSON.parse(await Deno.readTextFile(`${sb.dir}/state.json`));
    assert.deepEqual(after.calls, [["ifup", "wwan"], ["ifdown", "wan"]]);
    assert.equal(after.interfaces.wan.status, "offline");
    const failover = parseMwan3StatusText((await sb.mwan3("status")).stdout);
    assert.deepEqual(failover.policies.ipv4.starlink_cell, [{ iface: "wwan", percent: 100 }]);
    assert.equal(
      (await sb.mwan3("ifup")).stdout,
      "Expecting interface. Usage: mwan3 ifup <interface>\n",
    );
  } finally {
    await sb.cleanup();
  }
});
