import assert from "node:assert/strict";
import { aclGrants } from "./check.ts";
import { readPasswordFile, remoteNetHosts } from "./from_config.ts";
import { RemoteRouter, uciValuesToPackage } from "./remote.ts";
import { RemoteAuthError, RpcSession } from "./rpc_session.ts";
import { Status, UbusError } from "../ubus/protocol.ts";

Deno.test("remoteNetHosts: the router's host:port for the net permission, none when off", () => {
  assert.deepEqual(remoteNetHosts({ url: "" }), []);
  assert.deepEqual(remoteNetHosts({ url: "http://192.168.1.1/ubus" }), ["192.168.1.1:80"]);
  assert.deepEqual(remoteNetHosts({ url: "https://router.lan/ubus" }), ["router.lan:443"]);
  assert.deepEqual(remoteNetHosts({ url: "http://[fd00::1]:8080/ubus" }), ["[fd00::1]:8080"]);
});

Deno.test("readPasswordFile: first line; a world-readable file is warned about; missing is one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/p`, "s3cret\nignored\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/p`, 0o600);
    assert.deepEqual(await readPasswordFile(`${dir}/p`), { password: "s3cret", warning: null });
    await Deno.chmod(`${dir}/p`, 0o644);
    const { warning } = await readPasswordFile(`${dir}/p`);
    assert.match(warning ?? "", /readable by every user \(mode 644\); make it private: chmod 600/);
    await assert.rejects(
      readPasswordFile(`${dir}/none`),
      (e: unknown) => e instanceof RemoteAuthError && /does not exist/.test(e.message),
    );
    await Deno.writeTextFile(`${dir}/empty`, "\n");
    await assert.rejects(readPasswordFile(`${dir}/empty`), /is empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("uciValuesToPackage: rpcd's uci get reply in file order, lists kept", () => {
  const pkg = uciValuesToPackage("mwan3", {
    values: {
      default_rule_v4: {
        ".anonymous": false,
        ".type": "rule",
        ".name": "default_rule_v4",
        ".index": 2,
        dest_ip: "0.0.0.0/0",
        use_policy: "starlink_cell",
      },
      wan_m1_w3: { ".type": "member", ".name": "wan_m1_w3", ".index": 0, metric: "1" },
      starlink_cell: {
        ".type": "policy",
        ".name": "starlink_cell",
        ".index": 1,
        use_member: ["wan_m1_w3", "wwan_m2_w2"],
      },
    },
  });
  assert.deepEqual(pkg.sections.map((s) => [s.name, s.type]), [
    ["wan_m1_w3", "member"],
    ["starlink_cell", "policy"],
    ["default_rule_v4", "rule"],
  ]);
  assert.deepEqual(pkg.sections[1].options.get("use_member"), ["wan_m1_w3", "wwan_m2_w2"]);
  assert.equal(pkg.sections[0].options.has(".index"), false);
  assert.throws(() => uciValuesToPackage("mwan3", {}), /no values/);
});

Deno.test("aclGrants matches rpcd's glob patterns", () => {
  const acls = {
    ubus: { "network.interface.*": ["status"], uci: ["set", "apply"] },
    file: { "/bin/ping -n -c * -W * -I * *": ["exec"] },
  };
  assert.ok(aclGrants(acls, "ubus", "network.interface.wan", "status"));
  assert.ok(!aclGrants(acls, "ubus", "network.interface.wan", "up"));
  assert.ok(aclGrants(acls, "ubus", "uci", "apply"));
  assert.ok(!aclGrants(acls, "ubus", "uci", "confirm"));
  assert.ok(aclGrants(acls, "file", "/bin/ping -n -c 1 -W 1 -I wwan0 1.1.1.1", "exec"));
  assert.ok(!aclGrants(acls, "file", "/bin/sh -c id", "exec"));
});

Deno.test("a router that does not answer: CONNECTION_FAILED, then backoff without new connections", async () => {
  // A port nothing listens on (bound, then closed).
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  let now = 0;
  const session = new RpcSession({
    url: `http://127.0.0.1:${port}/ubus`,
    username: "u",
    password: "p",
    timeoutMs: 1000,
    nowMs: () => now,
  });
  const failed = (e: unknown) => e instanceof UbusError && e.status === Status.CONNECTION_FAILED;
  await assert.rejects(session.call("network.interface", "dump", {}), failed);
  assert.equal(session.away, true);
  await assert.rejects(session.call("network.interface", "dump", {}), /next try in 1 s/);
  now = 1500;
  assert.equal(session.away, false);
  await assert.rejects(session.call("network.interface", "dump", {}), /next try in 2 s/);
  // Tools outside the table are refused without a call.
  const router = new RemoteRouter({ session });
  const r = await router.exec("sh", ["-c", "id"], { timeoutMs: 1000 });
  assert.equal(r.code, 126);
  assert.match(r.stderr, /not run in remote mode/);
  await router.close();
});

Deno.test("a sandbox that denies the router's host stops the daemon with one line naming it (exit 77)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/pass`, "pw", { mode: 0o600 });
    // 192.0.2.1 is TEST-NET-1: never contacted (the permission check comes first).
    await Deno.writeTextFile(
      `${dir}/starfail`,
      `config starfail 'remote'\n\toption url 'http://192.0.2.1/ubus'\n\toption username 'starfail'\n\toption password_file '${dir}/pass'\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--deny-net=192.0.2.1",
        new URL("../main.ts", import.meta.url).pathname,
        "daemon",
        "--config",
        `${dir}/starfail`,
        "--socket",
        `${dir}/none.sock`,
      ],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(30000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 77, stderr);
    assert.equal(
      stderr,
      "the binary's sandbox denies net access to 192.0.2.1:80 (needed by remote.url); " +
        "rebuild with STARFAIL_EXTRA_NET=192.0.2.1:80 deno task compile (the binary cannot widen its own permissions)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
