/**
 * The entry point under exactly the permissions and V8 flags the compiled
 * binary gets (`scripts/permissions.ts`, as `deno task scoped` runs it): the
 * everyday commands, `demo` and `replay` must work with them, and the dish
 * must answer over both transports (gRPC over fetch's HTTP/2, gRPC-Web) with
 * nothing but `--allow-net` for its host:port.
 */
import assert from "node:assert/strict";
import {
  type PermissionOptions,
  RUNTIME_FLAGS,
  scopedRunArgs,
  V8_FLAGS,
} from "../scripts/permissions.ts";
import { startDishSim } from "../sim/dish_sim.ts";

const root = new URL("..", import.meta.url).pathname;

async function starfail(
  args: string[],
  build: PermissionOptions = {},
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...scopedRunArgs(`${root}main.ts`, build), ...args],
    ...(signal !== undefined ? { signal } : {}),
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  const stderr = d.decode(out.stderr);
  // Tools are allowed by absolute path, so Deno resolves nothing and notes nothing.
  assert.doesNotMatch(stderr, /Failed to resolve/);
  return { code: out.code, stdout: d.decode(out.stdout), stderr };
}

Deno.test("with the binary's permissions: version, help and every command's --help work", async () => {
  const v = await starfail(["version"]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^starfail \d+\.\d+\.\d+/);
  const help = await starfail(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /starfail daemon/);
  for (const cmd of ["daemon", "status", "dish", "config", "replay", "demo", "failover"]) {
    const r = await starfail([cmd, "--help"]);
    assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`);
    assert.match(r.stdout, /Usage:\s+starfail /, cmd);
  }
});

Deno.test({
  name:
    "with the binary's permissions: dish status over gRPC-Web (TCP) and over gRPC (HTTP/2 fetch)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    for (const web of [true, false]) {
      const sim = await startDishSim({ scenario: "thermal_throttle", clock: () => 30 });
      try {
        const r = await starfail([
          "dish",
          "status",
          "--dish",
          `127.0.0.1:${sim.port}`,
          "--web-port",
          web ? String(sim.grpcWebPort) : "0",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /alerts\s+is_heating, thermal_throttle/);
        assert.match(r.stdout, web ? /transport\s+grpc-web \(/ : /transport\s+grpc \(/);
        assert.doesNotMatch(r.stderr, /sandbox denies|NotCapable|Requires \w+ access/);
        assert.equal(sim.requests.get_status, 1, `web ${web}`);
      } finally {
        await sim.close();
      }
    }
  },
});

Deno.test(
  "with the binary's permissions: config validate and config set work in /tmp/starfail",
  {
    ignore: Deno.uid() !== 0 && !isWritable("/tmp"),
  },
  async () => {
    await Deno.mkdir("/tmp/starfail", { recursive: true });
    const good = await Deno.makeTempFile({ dir: "/tmp/starfail", suffix: ".uci" });
    const bad = await Deno.makeTempFile({ dir: "/tmp/starfail", suffix: ".uci" });
    try {
      await Deno.writeTextFile(good, "config starfail 'main'\n\toption cooldown_s '45'\n");
      await Deno.writeTextFile(bad, "config starfail 'main'\n\toption cooldown_s 'abc'\n");
      const ok = await starfail(["config", "validate", "--config", good]);
      assert.equal(ok.code, 0, ok.stderr);
      const no = await starfail(["config", "validate", "--config", bad]);
      assert.equal(no.code, 78);
      assert.match(
        no.stderr,
        /:2: section 'main' option 'cooldown_s' = 'abc': expected an integer/,
      );
      // config set: locked read-modify-write, temp file, fsync, rename, all within the grants.
      const set = await starfail(["config", "set", "main.cooldown_s", "60", "--config", good]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(await Deno.readTextFile(good), /option cooldown_s '60'/);
      const outside = await starfail(["config", "validate", "--config", "/etc/hostname"]);
      assert.notEqual(outside.code, 0);
      assert.equal(outside.stderr.trim().split("\n").length, 1, outside.stderr);
    } finally {
      await Deno.remove(good);
      await Deno.remove(bad);
    }
  },
);

function isWritable(dir: string): boolean {
  try {
    Deno.makeTempFileSync({ dir });
    return true;
  } catch {
    return false;
  }
}

/** Folders and sockets the demo may leave in /tmp/starfail (none, after it ends). */
/**
 * What demo `pid` left in /tmp/starfail: its folder (`demo_PID_…`), and any demo ubus socket
 * (fixed names, shared by concurrent demos: compared with what was there before).
 */
function demoLeftovers(pid?: number): string[] {
  try {
    return [...Deno.readDirSync("/tmp/starfail")].map((e) => e.name)
      .filter((n) =>
        (pid === undefined ? n.startsWith("demo_") : n.startsWith(`demo_${pid}_`)) ||
        n.startsWith("demo-ubus-")
      );
  } catch {
    return [];
  }
}

Deno.test("with the binary's permissions: demo --duration 30 fails over and back, leaves nothing", async () => {
  const before = new Set(demoLeftovers());
  const proc = new Deno.Command(Deno.execPath(), {
    args: [...scopedRunArgs(`${root}main.ts`), "demo", "--duration", "30", "--json", "--no-color"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const out = await proc.output();
  const d = new TextDecoder();
  const r = { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  assert.doesNotMatch(r.stderr, /Failed to resolve/);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!).summary;
  const moves = summary.switches.filter((s: { from: string | null }) => s.from !== null);
  assert.ok(moves.length >= 2, JSON.stringify(summary.switches));
  assert.equal(moves[0].from, "wan_m1_w3");
  assert.equal(moves.at(-1).to, "wan_m1_w3");
  assert.match(moves.at(-1).reason, /^(fast )?failback/);
  assert.doesNotMatch(r.stdout + r.stderr, /sandbox denies|NotCapable|Requires \w+ access/);
  assert.deepEqual(demoLeftovers(proc.pid).filter((n) => !before.has(n)), []);
});

Deno.test("with the binary's permissions: Ctrl-C and SIGTERM during demo clean up (exit 130/143)", async () => {
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const before = new Set(demoLeftovers());
    const proc = new Deno.Command(Deno.execPath(), {
      args: [...scopedRunArgs(`${root}main.ts`), "demo", "--duration", "60", "--json"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("Primary chosen")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    assert.ok(
      demoLeftovers(proc.pid).some((n) => n.startsWith(`demo_${proc.pid}_`)),
      "the demo made no folder to clean",
    );
    proc.kill(sig);
    const st = await proc.status;
    await reader.cancel();
    await proc.stderr.cancel();
    assert.equal(st.code, code, `${sig}`);
    assert.deepEqual(
      demoLeftovers(proc.pid).filter((n) => !before.has(n)),
      [],
      `${sig} left files`,
    );
  }
});

Deno.test("with the binary's permissions: replay of a trace in /tmp/starfail", async () => {
  await Deno.mkdir("/tmp/starfail", { recursive: true });
  const trace = await Deno.makeTempFile({ dir: "/tmp/starfail", suffix: ".jsonl" });
  try {
    const lines = [
      JSON.stringify({
        starfail_trace: 1,
        members: [
          { name: "sat", class: "starlink", weight: 100 },
          { name: "cell", class: "cellular", weight: 80 },
        ],
      }),
    ];
    for (let t = 0; t < 120; t++) {
      const out = t >= 30 && t < 50;
      lines.push(JSON.stringify({ t, member: "sat", loss_pct: out ? 100 : 0, latency_ms: 40 }));
      lines.push(JSON.stringify({ t, member: "cell", loss_pct: 0, latency_ms: 60 }));
    }
    await Deno.writeTextFile(trace, lines.join("\n") + "\n");
    const r = await starfail(["replay", trace]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cell/);
  } finally {
    await Deno.remove(trace);
  }
});

Deno.test("with the binary's permissions: a dish address the build lacks is a sandbox denial, exit 77", async () => {
  // 10.255.255.1 is not in the binary's --allow-net: Deno refuses before any packet is sent.
  const r = await starfail(["dish", "status", "--dish", "10.255.255.1:9200", "--timeout", "2"]);
  assert.equal(r.code, 77, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /the binary's sandbox denies net access to 10\.255\.255\.1:920[01]/);
  assert.match(lines[0], /STARFAIL_EXTRA_NET=10\.255\.255\.1:920[01]/);
  assert.doesNotMatch(lines[0], /check the cable/);
});

Deno.test("the scoped run carries the V8 flags and the runtime flags", () => {
  assert.ok(scopedRunArgs("main.ts").includes(`--v8-flags=${V8_FLAGS}`));
  for (const flag of RUNTIME_FLAGS) assert.ok(scopedRunArgs("main.ts").includes(flag), flag);
});

Deno.test("with the binary's permissions: a webhook host the build lacks is one line with the fix", async () => {
  await Deno.mkdir("/tmp/starfail", { recursive: true });
  const cfg = await Deno.makeTempFile({ dir: "/tmp/starfail", suffix: ".uci" });
  try {
    await Deno.writeTextFile(
      cfg,
      "config starfail 'notifications'\n\toption webhook_url 'https://hooks.example.net/x'\n",
    );
    const r = await starfail(["config", "validate", "--config", cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr.trim(),
      "warning: the binary's sandbox denies net access to hooks.example.net:443 (needed by " +
        "notifications.webhook_url); rebuild with STARFAIL_EXTRA_NET=hooks.example.net:443 deno " +
        "task compile (the binary cannot widen its own permissions)",
    );
  } finally {
    await Deno.remove(cfg);
  }
});

/** A config with every channel pointing where the default build does not reach. */
function channelsConfig(remote: boolean): string {
  return [
    "config starfail 'main'",
    "\toption poll_interval_ms '500'",
    "config starfail 'starlink'",
    "\toption enabled '0'",
    "config starfail 'mqtt'",
    "\toption enabled '1'",
    "\toption url 'mqtt://broker.example.net:1883'",
    "\toption password_file '/root/starfail-test-mqtt.pass'",
    "config starfail 'http'",
    "\toption enabled '1'",
    "\toption listen '0.0.0.0:9101'",
    "config starfail 'hook'",
    "\toption path '/opt/starfail-test/hook'",
    ...(remote
      ? [
        "config starfail 'remote'",
        // TEST-NET-1: never contacted (the permission check comes first).
        "\toption url 'http://192.0.2.1/ubus'",
        "\toption username 'starfail'",
        "\toption password_file '/root/starfail-test-router.pass'",
      ]
      : []),
    "config member 'lo'",
    "\toption device 'lo'",
    "\tlist probe_target '127.0.0.1'",
    "",
  ].join("\n");
}

const DENIED = {
  "mqtt.url": "the binary's sandbox denies net access to broker.example.net:1883 (needed by " +
    "mqtt.url); rebuild with STARFAIL_EXTRA_NET=broker.example.net:1883 deno task compile " +
    "(the binary cannot widen its own permissions)",
  "http.listen": "the binary's sandbox denies net access to 0.0.0.0:9101 (needed by " +
    "http.listen); rebuild with STARFAIL_EXTRA_NET=0.0.0.0:9101 deno task compile (the binary " +
    "cannot widen its own permissions)",
  "remote.url": "the binary's sandbox denies net access to 192.0.2.1:80 (needed by remote.url); " +
    "rebuild with STARFAIL_EXTRA_NET=192.0.2.1:80 deno task compile (the binary cannot widen " +
    "its own permissions)",
  "hook.path": "the binary's sandbox denies read and run of /opt/starfail-test/hook (hook.path); " +
    "move it to /etc/starfail/hook or rebuild with STARFAIL_EXTRA_RUN=/opt/starfail-test/hook " +
    "deno task compile (the binary cannot widen its own permissions)",
  "mqtt.password_file": "the binary's sandbox denies read of /root/starfail-test-mqtt.pass " +
    "(mqtt.password_file); move it to /etc/starfail/ or rebuild with " +
    "STARFAIL_EXTRA_READ=/root/starfail-test-mqtt.pass deno task compile (the binary cannot " +
    "widen its own permissions)",
  "remote.password_file": "the binary's sandbox denies read of /root/starfail-test-router.pass " +
    "(remote.password_file); move it to /etc/starfail/ or rebuild with " +
    "STARFAIL_EXTRA_READ=/root/starfail-test-router.pass deno task compile (the binary cannot " +
    "widen its own permissions)",
};

/** The build options that allow everything {@linkcode channelsConfig} names. */
const ALLOW_ALL: PermissionOptions = {
  extraNet: ["broker.example.net:1883", "0.0.0.0:9101", "192.0.2.1:80"],
  extraRun: ["/opt/starfail-test/hook"],
  extraRead: ["/root/starfail-test-mqtt.pass", "/root/starfail-test-router.pass"],
};

Deno.test("with the binary's permissions: MQTT, HTTP, hook, remote and password files the build lacks are one line each in config validate; the build options allow them", async () => {
  await Deno.mkdir("/tmp/starfail", { recursive: true });
  const cfg = await Deno.makeTempFile({ dir: "/tmp/starfail", suffix: ".uci" });
  try {
    await Deno.writeTextFile(cfg, channelsConfig(true));
    const r = await starfail(["config", "validate", "--config", cfg]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split("\n").filter((l) => /sandbox/.test(l));
    assert.deepEqual(
      lines.sort(),
      [
        DENIED["mqtt.url"],
        DENIED["http.listen"],
        DENIED["remote.url"],
        DENIED["hook.path"],
        DENIED["mqtt.password_file"],
        DENIED["remote.password_file"],
      ].map((l) => `warning: ${l}`).sort(),
    );
    const allowed = await starfail(["config", "validate", "--config", cfg], ALLOW_ALL);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.doesNotMatch(allowed.stderr, /sandbox/);
  } finally {
    await Deno.remove(cfg);
  }
});

Deno.test("with the binary's permissions: the daemon names each denied channel once at start (no per-event lines); remote mode's denial exits 77", async () => {
  await Deno.mkdir("/tmp/starfail", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "/tmp/starfail", prefix: "channels_" });
  try {
    // Local mode: MQTT, HTTP and the hook denied; the daemon runs ~4 s (member events, a
    // primary chosen: each would run the hook) and every denial is one line, said once.
    await Deno.writeTextFile(`${dir}/local.uci`, channelsConfig(false));
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 4000);
    const local = await starfail(
      ["daemon", "--dry-run", "--config", `${dir}/local.uci`, "--socket", `${dir}/none.sock`],
      {},
      ac.signal,
    ).finally(() => clearTimeout(timer));
    const all = local.stdout + local.stderr;
    assert.match(all, /Primary chosen/, "the daemon ran long enough to switch (hook event)");
    const said = all.split("\n").filter((l) => /sandbox denies/.test(l));
    const expected = [
      DENIED["mqtt.url"],
      DENIED["http.listen"],
      DENIED["hook.path"],
      DENIED["mqtt.password_file"],
    ];
    // The socket under /tmp/starfail is outside the build's ubus sockets: its own line.
    const socketLines = said.filter((l) => /of the ubus socket/.test(l));
    assert.equal(socketLines.length, 1, all);
    for (const line of expected) {
      assert.equal(said.filter((l) => l.includes(line)).length, 1, `once: ${line}\n${all}`);
    }
    assert.equal(said.length, expected.length + 1, all);
    assert.doesNotMatch(all, /Requires \w+ access|NotCapable|cannot read \/opt/);
    assert.match(all, /MQTT is off: this build does not allow/);
    assert.match(all, /HTTP endpoint is off: this build does not allow/);

    // Remote mode: the router's host and password file stop the start, one line, exit 77.
    await Deno.writeTextFile(`${dir}/remote.uci`, channelsConfig(true));
    const remote = await starfail(
      [
        "daemon",
        "--dry-run",
        "--config",
        `${dir}/remote.uci`,
        "--socket",
        `${dir}/none.sock`,
      ],
      {},
      AbortSignal.timeout(30000),
    );
    assert.equal(remote.code, 77, remote.stderr);
    assert.equal(
      remote.stderr.trim(),
      `${DENIED["remote.url"]}; ${DENIED["remote.password_file"]}`,
    );
    assert.doesNotMatch(remote.stdout, /needed by remote\.url|remote\.password_file\)/);
    assert.equal(remote.stdout.split("\n").filter((l) => /sandbox denies/.test(l)).length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
