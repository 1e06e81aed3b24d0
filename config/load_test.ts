import assert from "node:assert/strict";
import {
  checkConfigText,
  ConfigError,
  ConfigKeyError,
  configToJson,
  configToUci,
  didYouMean,
  getOption,
  inFileOrder,
  loadConfig,
  parseConfigText,
  resolveKey,
  setOption,
} from "./load.ts";
import { DEFAULT_CONFIG } from "./schema.ts";
import { parseUci } from "./uci.ts";

const EXAMPLE = new URL("../scripts/starfail.uci.example", import.meta.url);

function problemsOf(text: string, file = "/etc/config/starfail"): string[] {
  try {
    parseConfigText(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

async function tempFile(text: string | null): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "starfail_cfg_" });
  const path = `${dir}/starfail`;
  if (text !== null) await Deno.writeTextFile(path, text);
  return { dir, path };
}

Deno.test("an empty file gives the defaults and no warnings", () => {
  const { config, warnings } = parseConfigText("", "f");
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.deepEqual(warnings, []);
});

Deno.test("values from the file override defaults", () => {
  const { config } = parseConfigText(
    "config starfail 'main'\n\toption cooldown_s '45'\n\toption predictive 'no'\n" +
      "config member 'wan'\n\toption class 'starlink'\n\tlist probe_target '9.9.9.9'\n",
    "f",
  );
  assert.equal(config.main.cooldown_s, 45);
  assert.equal(config.main.predictive, false);
  assert.equal(config.members[0].name, "wan");
  assert.equal(config.members[0].weight, 100);
  assert.deepEqual(config.members[0].probe_target, ["9.9.9.9"]);
});

Deno.test("a bad value is reported as FILE:LINE: section … option … = …: expected …", () => {
  assert.deepEqual(problemsOf("config starfail 'main'\n\toption cooldown_s 'abc'\n"), [
    "/etc/config/starfail:2: section 'main' option 'cooldown_s' = 'abc': expected an integer from 0 to 3600",
  ]);
});

Deno.test("all problems are reported at once, in file order per section", () => {
  const text = [
    "config starfail 'main'",
    "\toption cooldown_s 'abc'",
    "\toption log_level 'loud'",
    "\toption restore_loss_pct '9'",
    "config starfail 'scoring'",
    "\toption blend_instant '0.9'",
    "config member 'lte'",
    "\toption weight '0'",
    "\tlist probe_target '1.1.1.1'",
    "\tlist probe_target 'no such host!'",
  ].join("\n");
  assert.deepEqual(problemsOf(text, "f"), [
    "f:2: section 'main' option 'cooldown_s' = 'abc': expected an integer from 0 to 3600",
    "f:3: section 'main' option 'log_level' = 'loud': expected one of trace, debug, info, warn, error",
    "f:4: section 'main' option 'restore_loss_pct' = '9': must not be above fail_loss_pct (5): a member must be better to come back than to stay",
    "f:6: section 'scoring' option 'blend_instant' = '0.9': blend_instant + blend_ewma + blend_window must sum to 1 (they sum to 1.6)",
    "f:8: section 'lte' option 'weight' = '0': expected an integer from 1 to 100",
    "f:9: section 'lte' option 'probe_target' = '1.1.1.1' 'no such host!': 'no such host!' is not an IP address or host name (optionally with :port)",
  ]);
});

Deno.test("a cross-field problem points at the option that is set and names the default", () => {
  assert.deepEqual(
    problemsOf("config starfail 'scoring'\n\toption latency_ok_ms '2000'\n", "f"),
    [
      "f:2: section 'scoring' option 'latency_ok_ms' = '2000': latency_bad_ms (default 1500) must be above latency_ok_ms (2000)",
    ],
  );
});

Deno.test("UCI syntax errors are problems with their lines, all of them", () => {
  assert.deepEqual(problemsOf("config starfail main extra\noption x\nconfig t 'a-b'\n", "f"), [
    "f:1: too many arguments",
    "f:3: invalid character in name field 'a-b'",
  ]);
});

Deno.test("unknown sections and options are warnings in file:line form", () => {
  const { warnings } = parseConfigText(
    [
      "config starfail 'main'",
      "\toption bogus '1'",
      "config starfail 'recovery'",
      "config interface 'wanif'",
      "config member 'wan'",
      "\toption colour 'red'",
      "config starfail",
    ].join("\n"),
    "f",
  );
  assert.deepEqual(warnings, [
    "f:2: section 'main': unknown option 'bogus' (ignored)",
    "f:3: unknown section 'recovery' (ignored); the sections are main, scoring, starlink, notifications, remote, http, mqtt, hook and member",
    "f:4: unknown section type 'interface' (ignored); use 'starfail' or 'member'",
    "f:6: section 'wan': unknown option 'colour' (ignored)",
    "f:7: unknown anonymous 'starfail' section (ignored); the sections are main, scoring, starlink, notifications, remote, http, mqtt, hook and member",
  ]);
});

Deno.test("upstream names are accepted with a warning naming the new name", () => {
  const { config, warnings } = parseConfigText(
    [
      "config starfail 'main'",
      "\toption fail_threshold_loss '7'",
      "\toption fail_threshold_latency '1500'",
      "\toption restore_threshold_loss '2'",
      "\toption restore_threshold_latency '900'",
      "\toption starlink_api_host '192.168.100.2'",
      "\toption starlink_timeout_s '3'",
      "config starfail 'starlink'",
      "\toption dish_port '9300'",
      "config starfail 'notifications'",
      "\toption rate_limit_minutes '5'",
    ].join("\n"),
    "f",
  );
  assert.equal(config.main.fail_loss_pct, 7);
  assert.equal(config.main.fail_latency_ms, 1500);
  assert.equal(config.main.restore_loss_pct, 2);
  assert.equal(config.main.restore_latency_ms, 900);
  assert.equal(config.starlink.host, "192.168.100.2");
  assert.equal(config.starlink.timeout_ms, 3000);
  assert.equal(config.starlink.port, 9300);
  assert.equal(config.notifications.rate_limit_s, 300);
  assert.equal(warnings.length, 8);
  assert.equal(
    warnings[0],
    "f:2: section 'main' option 'fail_threshold_loss' is the upstream name; use section 'main' option 'fail_loss_pct' instead (accepted for now)",
  );
  assert.match(warnings[5], /^f:7: .*'starlink_timeout_s'.*'timeout_ms'.*'3' → '3000'/);
});

Deno.test("the new name wins over an upstream name, with a warning", () => {
  const { config, warnings } = parseConfigText(
    "config starfail 'starlink'\n\toption dish_ip '10.0.0.1'\n\toption host '10.0.0.2'\n",
    "f",
  );
  assert.equal(config.starlink.host, "10.0.0.2");
  assert.deepEqual(warnings, [
    "f:2: section 'starlink' option 'dish_ip' is the upstream name of starlink.host, which is also set; 'dish_ip' is ignored",
  ]);
});

Deno.test("a bad value under an upstream name is reported under that name", () => {
  assert.deepEqual(problemsOf("config starfail 'main'\n\toption starlink_timeout_s '600'\n", "f"), [
    "f:2: section 'main' option 'starlink_timeout_s' = '600' (upstream name of starlink.timeout_ms, read as '600000'): expected an integer from 100 to 60000",
  ]);
});

Deno.test("an anonymous member whose iface is no UCI name shows as an anonymous section", () => {
  const { config } = parseConfigText("config member\n\toption iface 'wan-b'\n", "f");
  const shown = configToUci(config);
  assert.match(shown, /\nconfig member\n\toption iface 'wan-b'\n/);
  assert.deepEqual(parseConfigText(shown, "shown").config, config);
});

Deno.test("a cross-field problem found through an upstream name names both options", () => {
  assert.deepEqual(
    problemsOf("config starfail 'main'\n\toption fail_threshold_latency '500'\n", "f"),
    [
      "f:2: section 'main' option 'fail_threshold_latency' = '500' (upstream name of main.fail_latency_ms): restore_latency_ms (default 800) must not be above fail_latency_ms (500): a member must be better to come back than to stay",
    ],
  );
});

Deno.test("anonymous member sections are named by iface and labelled @member[N]", () => {
  const { config } = parseConfigText("config member\n\toption iface 'wwan'\n", "f");
  assert.equal(config.members[0].name, "wwan");
  assert.deepEqual(problemsOf("config member 'a'\nconfig member\n\toption weight '5'\n", "f"), [
    "f:2: section '@member[1]': an anonymous member section needs option 'iface' (or name the section: config member 'wan')",
  ]);
  assert.deepEqual(problemsOf("config member\n\toption iface 'x'\n\toption weight 'w'\n", "f"), [
    "f:3: section '@member[0]' option 'weight' = 'w': expected an integer from 1 to 100",
  ]);
});

Deno.test("the example file validates without warnings", async () => {
  const { config, warnings } = await loadConfig(EXAMPLE.pathname);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.members.map((m) => [m.name, m.class]), [
    ["wan", "starlink"],
    ["mob1s1a1", "cellular"],
    ["mob1s2a1", "cellular"],
    ["wwan", "wifi"],
    ["wan2", "lan"],
  ]);
});

Deno.test("effective config as UCI text loads back to the same config, without warnings", () => {
  const { config } = parseConfigText(Deno.readTextFileSync(EXAMPLE), "example");
  for (const c of [config, DEFAULT_CONFIG]) {
    const again = parseConfigText(configToUci(c), "shown");
    assert.deepEqual(again.config, c);
    assert.deepEqual(again.warnings, []);
  }
  assert.deepEqual(JSON.parse(configToJson(config)), JSON.parse(JSON.stringify(config)));
});

Deno.test("a missing file is one line naming the path and how to create it", async () => {
  const { dir, path } = await tempFile(null);
  try {
    await assert.rejects(() => loadConfig(path), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        `${path}: no such file; create it with 'starfail config show --defaults > ${path}' or copy scripts/starfail.uci.example`,
      ]);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys: section.option, member.NAME.option, @member[N].option, NAME.option", () => {
  const doc = parseUci(
    "config member 'wan'\nconfig member\n\toption iface 'wwan'\nconfig member 'lte'\n",
  ).document;
  assert.equal(resolveKey(doc, "main.cooldown_s").canonical, "main.cooldown_s");
  assert.equal(resolveKey(doc, "starfail.main.cooldown_s").canonical, "main.cooldown_s");
  assert.equal(resolveKey(doc, "member.wan.weight").section, "wan");
  assert.equal(resolveKey(doc, "@member[1].weight").canonical, "member.wwan.weight");
  assert.equal(resolveKey(doc, "@member[1].weight").section, doc.sections[1].name);
  assert.equal(resolveKey(doc, "@member[-1].weight").canonical, "member.lte.weight");
  assert.equal(resolveKey(doc, "lte.class").canonical, "member.lte.class");
  assert.equal(resolveKey(doc, "member.new1.class").section, "new1");
  assert.equal(resolveKey(doc, "main.fail_threshold_loss").canonical, "main.fail_loss_pct");
  assert.equal(resolveKey(doc, "starlink.dish_ip").canonical, "starlink.host");
  assert.throws(() => resolveKey(doc, "main.nope"), ConfigKeyError);
  assert.throws(() => resolveKey(doc, "member.wan.nope"), ConfigKeyError);
  assert.throws(() => resolveKey(doc, "@member[3].weight"), ConfigKeyError);
  assert.throws(() => resolveKey(doc, "ghost.weight"), ConfigKeyError);
  assert.throws(() => resolveKey(doc, "cooldown_s"), ConfigKeyError);
  assert.throws(() => resolveKey(doc, "member.main.class"), /name of a starfail section/);
  const clash = parseUci("config member 'scoring'\n").document;
  assert.throws(() => resolveKey(clash, "scoring.weight_loss"), /is a 'member' section/);
});

Deno.test("getOption returns effective values in UCI form", async () => {
  const { dir, path } = await tempFile(
    "config starfail 'main'\n\toption predictive 'off'\nconfig member 'wan'\n",
  );
  try {
    assert.equal((await getOption(path, "main.predictive")).value, "0");
    assert.equal((await getOption(path, "main.cooldown_s")).value, "30");
    assert.deepEqual((await getOption(path, "member.wan.probe_target")).value, [
      "1.1.1.1",
      "8.8.8.8",
    ]);
    assert.equal((await getOption(path, "member.wan.weight")).value, undefined);
    await assert.rejects(() => getOption(path, "member.ghost.weight"), ConfigKeyError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setOption edits one line in place and keeps everything else", async () => {
  const original = "# mine\nconfig starfail 'main'\n\toption cooldown_s '30' # s\n\n" +
    "config member 'wan'\n\toption class 'starlink'\n";
  const { dir, path } = await tempFile(original);
  try {
    const result = await setOption(path, "main.cooldown_s", "45");
    assert.equal(result.changed, true);
    assert.equal(
      await Deno.readTextFile(path),
      original.replace("cooldown_s '30'", "cooldown_s '45'"),
    );
    await setOption(path, "member.wan.probe_target", "9.9.9.9, 1.0.0.1");
    await setOption(path, "member.lte.class", "cellular");
    const { config } = await loadConfig(path);
    assert.deepEqual(config.members[0].probe_target, ["9.9.9.9", "1.0.0.1"]);
    assert.equal(config.members[1].name, "lte");
    await setOption(path, "main.cooldown_s", "");
    assert.equal((await loadConfig(path)).config.main.cooldown_s, 30);
    assert.ok((await Deno.readTextFile(path)).startsWith("# mine\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setOption with a bad value fails in the one-line form and leaves the file intact", async () => {
  const original = "config starfail 'main'\n\toption cooldown_s '30'\n";
  const { dir, path } = await tempFile(original);
  try {
    await assert.rejects(() => setOption(path, "main.cooldown_s", "abc"), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        `${path}:2: section 'main' option 'cooldown_s' = 'abc': expected an integer from 0 to 3600`,
      ]);
      return true;
    });
    await assert.rejects(() => setOption(path, "scoring.blend_ewma", "0.9"), ConfigError);
    assert.equal(await Deno.readTextFile(path), original);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["starfail"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setOption replaces an upstream-named option by the new name", async () => {
  const { dir, path } = await tempFile(
    "config starfail 'main'\n\toption fail_threshold_loss '7'\n\toption dish_ip '10.1.1.1'\n",
  );
  try {
    const result = await setOption(path, "main.fail_loss_pct", "8");
    assert.equal(result.key.canonical, "main.fail_loss_pct");
    await setOption(path, "starlink.host", "10.2.2.2");
    assert.equal(
      await Deno.readTextFile(path),
      "config starfail 'main'\n\toption fail_loss_pct '8'\n\n" +
        "config starfail 'starlink'\n\toption host '10.2.2.2'\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setOption creates a missing file", async () => {
  const { dir, path } = await tempFile(null);
  try {
    await setOption(path, "main.dry_run", "1");
    assert.equal(await Deno.readTextFile(path), "config starfail 'main'\n\toption dry_run '1'\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setOption can fix one problem in a file that has others elsewhere", async () => {
  const { dir, path } = await tempFile(
    "config starfail 'main'\n\toption cooldown_s 'x'\n\toption min_uptime_s 'y'\n",
  );
  try {
    const result = await setOption(path, "main.cooldown_s", "5");
    assert.equal(result.problems.length, 1);
    const check = checkConfigText(await Deno.readTextFile(path), path);
    assert.deepEqual(check.problems, [
      `${path}:3: section 'main' option 'min_uptime_s' = 'y': expected an integer from 0 to 3600`,
    ]);
    await assert.rejects(() => setOption(path, "main.cooldown_s", "z"), ConfigError);
    assert.match(await Deno.readTextFile(path), /cooldown_s '5'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unknown options: 'did you mean' for a near miss, nothing for a far one", () => {
  assert.equal(
    didYouMean("fail_los_pct", ["fail_loss_pct", "cooldown_s"]),
    "; did you mean 'fail_loss_pct'?",
  );
  assert.equal(didYouMean("wieght", ["weight", "class"]), "; did you mean 'weight'?");
  assert.equal(didYouMean("colour", ["weight", "class"]), "");
  const { warnings } = parseConfigText(
    "config starfail 'main'\n\toption fail_los_pct '5'\n",
    "f",
  );
  assert.deepEqual(warnings, [
    "f:2: section 'main': unknown option 'fail_los_pct' (ignored); did you mean 'fail_loss_pct'?",
  ]);
});

Deno.test("problems and warnings come in file order", () => {
  const text = "config starfail 'scoring'\n\toption weight_loss 'abc'\n" +
    "config starfail 'main'\n\toption cooldown_s 'x'\n\toption bogus '1'\n\toption min_uptime_s 'q'\n";
  try {
    parseConfigText(text, "f");
    assert.fail("no error");
  } catch (err) {
    const e = err as ConfigError;
    const lines = (s: string) => Number(/^f:(\d+):/.exec(s)![1]);
    const nums = e.problems.map(lines);
    assert.deepEqual(nums, [...nums].sort((a, b) => a - b));
    assert.deepEqual(e.warnings.map(lines), [5]);
    assert.deepEqual(inFileOrder(["f:9: x", "f:2: y", "other"], "f"), [
      "f:2: y",
      "f:9: x",
      "other",
    ]);
  }
});
