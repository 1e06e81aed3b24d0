import assert from "node:assert/strict";
import * as v from "valibot";
import {
  ConfigSchema,
  DEFAULT_CONFIG,
  isHost,
  MEMBER_OPTIONS,
  memberWeight,
  parseUciBool,
  SECTION_OPTIONS,
} from "./schema.ts";

function issues(input: unknown): string[] {
  const result = v.safeParse(ConfigSchema, input);
  return (result.issues ?? []).map((i) =>
    `${(i.path ?? []).map((p) => String(p.key)).join(".")}: ${i.message}`
  );
}

Deno.test("defaults are those of docs/design.md", () => {
  const m = DEFAULT_CONFIG.main;
  assert.deepEqual(
    [m.enabled, m.poll_interval_ms, m.history_window_s, m.ewma_alpha, m.predictive],
    [true, 1500, 600, 0.2, true],
  );
  assert.deepEqual(
    [m.switch_margin, m.min_uptime_s, m.cooldown_s, m.fail_loss_pct, m.fail_latency_ms],
    [10, 20, 30, 5, 1200],
  );
  assert.deepEqual(
    [m.fail_min_duration_s, m.restore_loss_pct, m.restore_latency_ms, m.restore_min_duration_s],
    [10, 1, 800, 30],
  );
  assert.deepEqual(
    [m.hard_fail_probes, m.stale_after_s, m.use_mwan3, m.dry_run, m.conntrack_flush],
    [3, 10, true, false, false],
  );
  assert.deepEqual(
    [m.log_level, m.log_file, m.log_max_kb, m.retention_hours, m.max_ram_mb],
    ["info", "", 1024, 24, 16],
  );
  assert.deepEqual([m.max_samples_per_member, m.max_events, m.ubus_socket], [1000, 500, ""]);
  const s = DEFAULT_CONFIG.scoring;
  assert.deepEqual(
    [s.weight_latency, s.weight_loss, s.weight_jitter, s.weight_obstruction],
    [25, 30, 15, 20],
  );
  assert.deepEqual(
    [s.latency_ok_ms, s.latency_bad_ms, s.loss_ok_pct, s.loss_bad_pct],
    [50, 1500, 0, 10],
  );
  assert.deepEqual(
    [s.jitter_ok_ms, s.jitter_bad_ms, s.obstruction_ok_pct, s.obstruction_bad_pct],
    [5, 200, 0, 10],
  );
  assert.deepEqual(
    [s.blend_instant, s.blend_ewma, s.blend_window, s.metered_penalty, s.roaming_penalty],
    [0.3, 0.5, 0.2, 10, 15],
  );
  assert.deepEqual(DEFAULT_CONFIG.starlink, {
    enabled: true,
    host: "192.168.100.1",
    port: 9200,
    grpc_web_port: 9201,
    transport: "auto",
    timeout_ms: 2000,
    poll_interval_ms: 1000,
    history: true,
    location: false,
    diagnostics: false,
  });
  assert.deepEqual(DEFAULT_CONFIG.notifications, {
    enabled: false,
    rate_limit_s: 300,
    on_failover: true,
    on_failback: true,
    on_member_down: true,
    on_predictive: true,
    pushover_token: "",
    pushover_user: "",
    webhook_url: "",
    timeout_ms: 5000,
    on_member_up: true,
    on_all_down: true,
    on_dish_alert: true,
    on_api_drift: true,
    pushover_url: "https://api.pushover.net/1/messages.json",
    webhook_secret: "",
    webhook_retries: 3,
    digest_s: 60,
  });
  assert.deepEqual(DEFAULT_CONFIG.http, { enabled: false, listen: "127.0.0.1:9101" });
  assert.equal(DEFAULT_CONFIG.mqtt.topic, "starfail");
  assert.equal(DEFAULT_CONFIG.mqtt.discovery_prefix, "homeassistant");
  assert.equal(DEFAULT_CONFIG.mqtt.ha_discovery, true);
  assert.deepEqual(DEFAULT_CONFIG.hook, { path: "/etc/starfail/hook", timeout_s: 30 });
  assert.deepEqual(DEFAULT_CONFIG.members, []);
});

Deno.test("member defaults: iface = name, weight by class, probe targets", () => {
  const config = v.parse(ConfigSchema, {
    members: [{ name: "wan", class: "starlink" }, { name: "lte" }, {
      name: "x",
      class: "lan",
      iface: "eth2",
    }],
  });
  const [wan, lte, x] = config.members;
  assert.equal(wan.iface, "wan");
  assert.equal(wan.weight, 100);
  assert.equal(lte.weight, undefined);
  assert.equal(memberWeight(lte, "cellular"), 80);
  assert.equal(memberWeight(lte, "wifi"), 60);
  assert.equal(x.iface, "eth2");
  assert.equal(x.weight, 40);
  assert.deepEqual(wan.probe_target, ["1.1.1.1", "8.8.8.8"]);
  assert.notEqual(wan.probe_target, lte.probe_target, "defaults must not share one array");
  assert.deepEqual(
    [wan.detect, wan.metered, wan.prefer_roaming, wan.probe_method],
    ["auto", false, false, "icmp"],
  );
  assert.deepEqual(
    [wan.probe_interval_s, wan.metered_probe_interval_s, wan.probe_reliability],
    [2, 30, 1],
  );
  assert.equal(wan.min_uptime_s, undefined);
});

Deno.test("booleans accept UCI's words", () => {
  for (const word of ["1", "true", "yes", "on", "enabled", "TRUE", " on "]) {
    assert.equal(parseUciBool(word), true, word);
  }
  for (const word of ["0", "false", "no", "off", "disabled", "Off"]) {
    assert.equal(parseUciBool(word), false, word);
  }
  assert.equal(parseUciBool("2"), undefined);
  assert.equal(parseUciBool("y"), undefined);
  const config = v.parse(ConfigSchema, { main: { predictive: "off", dry_run: "yes" } });
  assert.equal(config.main.predictive, false);
  assert.equal(config.main.dry_run, true);
  assert.deepEqual(issues({ main: { dry_run: "maybe" } }), [
    "main.dry_run: expected a boolean: 1/0, true/false, yes/no or on/off",
  ]);
});

Deno.test("numbers are parsed from strings and JSON numbers; ranges are inclusive", () => {
  const config = v.parse(ConfigSchema, {
    main: { cooldown_s: "0", history_window_s: 3600, ewma_alpha: ".5" },
  });
  assert.equal(config.main.cooldown_s, 0);
  assert.equal(config.main.history_window_s, 3600);
  assert.equal(config.main.ewma_alpha, 0.5);
  assert.deepEqual(issues({ main: { cooldown_s: "3601" } }), [
    "main.cooldown_s: expected an integer from 0 to 3600",
  ]);
  assert.deepEqual(issues({ main: { cooldown_s: "1.5" } }), [
    "main.cooldown_s: expected an integer from 0 to 3600",
  ]);
  assert.deepEqual(issues({ main: { ewma_alpha: "0" } }), [
    "main.ewma_alpha: expected a number from 0.01 to 1",
  ]);
  assert.deepEqual(issues({ main: { ewma_alpha: "1e-1" } }), [
    "main.ewma_alpha: expected a number from 0.01 to 1",
  ]);
});

Deno.test("a list given where one value is expected is reported", () => {
  assert.deepEqual(issues({ main: { cooldown_s: ["1", "2"] } }), [
    "main.cooldown_s: expected a single value, not a list",
  ]);
});

Deno.test("enums are checked", () => {
  assert.deepEqual(issues({ main: { log_level: "verbose" } }), [
    "main.log_level: expected one of trace, debug, info, warn, error",
  ]);
  assert.deepEqual(issues({ members: [{ name: "a", class: "satellite" }] }), [
    "members.0.class: expected one of auto, starlink, cellular, wifi, lan, other",
  ]);
  assert.deepEqual(issues({ members: [{ name: "a", probe_method: "http" }] }), [
    "members.0.probe_method: expected one of icmp, tcp, dns",
  ]);
});

Deno.test("text options: paths, URLs, hosts, probe targets", () => {
  assert.deepEqual(issues({ main: { log_file: "relative.log" } }), [
    "main.log_file: expected an absolute path, or empty for none",
  ]);
  assert.deepEqual(issues({ notifications: { webhook_url: "ftp://x" } }), [
    "notifications.webhook_url: expected an http:// or https:// URL, or empty",
  ]);
  assert.deepEqual(issues({ starlink: { host: "not a host" } }), [
    "starlink.host: expected an IP address or host name",
  ]);
  assert.deepEqual(issues({ members: [{ name: "a", probe_target: ["1.1.1.1", "bad host"] }] }), [
    "members.0.probe_target: 'bad host' is not an IP address or host name (optionally with :port)",
  ]);
  const config = v.parse(ConfigSchema, {
    members: [{ name: "a", probe_target: "1.1.1.1 dns.google [2606:4700::1111]:53" }],
  });
  assert.deepEqual(config.members[0].probe_target, [
    "1.1.1.1",
    "dns.google",
    "[2606:4700::1111]:53",
  ]);
  assert.ok(isHost("2001:db8::1"));
  assert.ok(!isHost("999.1.1.1"));
});

Deno.test("cross-field: blend weights must sum to 1", () => {
  assert.deepEqual(issues({ scoring: { blend_instant: "0.5" } }), [
    "scoring.blend_window: blend_instant + blend_ewma + blend_window must sum to 1 (they sum to 1.2)",
  ]);
  assert.deepEqual(
    issues({ scoring: { blend_instant: "0.5", blend_ewma: "0.3", blend_window: "0.2" } }),
    [],
  );
  assert.deepEqual(
    issues({ scoring: { blend_instant: "0.3334", blend_ewma: "0.3333", blend_window: "0.3333" } }),
    [],
  );
});

Deno.test("cross-field: ok thresholds below bad thresholds", () => {
  assert.deepEqual(issues({ scoring: { latency_ok_ms: "1500" } }), [
    "scoring.latency_bad_ms: must be above latency_ok_ms (1500)",
  ]);
  assert.deepEqual(issues({ scoring: { loss_bad_pct: "0" } }), [
    "scoring.loss_bad_pct: must be above loss_ok_pct (0)",
  ]);
  assert.deepEqual(issues({ scoring: { jitter_ok_ms: "300" } }), [
    "scoring.jitter_bad_ms: must be above jitter_ok_ms (300)",
  ]);
  assert.deepEqual(issues({ scoring: { obstruction_ok_pct: "20" } }), [
    "scoring.obstruction_bad_pct: must be above obstruction_ok_pct (20)",
  ]);
});

Deno.test("cross-field: restore thresholds no worse than fail thresholds", () => {
  assert.deepEqual(issues({ main: { restore_loss_pct: "6" } }), [
    "main.restore_loss_pct: must not be above fail_loss_pct (5): a member must be better to come back than to stay",
  ]);
  assert.deepEqual(issues({ main: { restore_latency_ms: "1201" } }), [
    "main.restore_latency_ms: must not be above fail_latency_ms (1200): a member must be better to come back than to stay",
  ]);
  assert.deepEqual(issues({ main: { restore_latency_ms: "1200", restore_loss_pct: "5" } }), []);
});

Deno.test("cross-field: weights, pushover keys, probe reliability", () => {
  assert.equal(
    issues({
      scoring: { weight_latency: 0, weight_loss: 0, weight_jitter: 0, weight_obstruction: 0 },
    }).length,
    1,
  );
  assert.deepEqual(issues({ notifications: { pushover_token: "abc" } }), [
    "notifications.pushover_user: pushover_token and pushover_user must be set together",
  ]);
  assert.deepEqual(issues({ members: [{ name: "a", probe_reliability: "3" }] }), [
    "members.0.probe_reliability: must not be above the number of probe targets (2)",
  ]);
});

Deno.test("every problem is reported at once, cross-field ones included", () => {
  const found = issues({
    main: { cooldown_s: "abc", min_uptime_s: "-1", restore_loss_pct: "50" },
    scoring: { blend_ewma: "x", latency_ok_ms: "5000" },
    members: [{ name: "a", weight: "0" }],
  });
  assert.deepEqual(found, [
    "main.min_uptime_s: expected an integer from 0 to 3600",
    "main.cooldown_s: expected an integer from 0 to 3600",
    "main.restore_loss_pct: must not be above fail_loss_pct (5): a member must be better to come back than to stay",
    "scoring.blend_ewma: expected a number from 0 to 1",
    "scoring.latency_bad_ms: must be above latency_ok_ms (5000)",
    "members.0.weight: expected an integer from 1 to 100",
  ]);
});

Deno.test("option name tables match the design's sections", () => {
  assert.equal(SECTION_OPTIONS.main.length, 31);
  assert.equal(SECTION_OPTIONS.scoring.length, 17);
  assert.equal(SECTION_OPTIONS.starlink.length, 10);
  assert.equal(SECTION_OPTIONS.notifications.length, 18);
  assert.equal(SECTION_OPTIONS.http.length, 2);
  assert.equal(SECTION_OPTIONS.mqtt.length, 11);
  assert.equal(SECTION_OPTIONS.hook.length, 2);
  assert.deepEqual(MEMBER_OPTIONS, [
    "iface",
    "device",
    "class",
    "weight",
    "detect",
    "metered",
    "prefer_roaming",
    "min_uptime_s",
    "cooldown_s",
    "probe_target",
    "probe_method",
    "probe_interval_s",
    "metered_probe_interval_s",
    "probe_reliability",
  ]);
});
