import assert from "node:assert/strict";
import { runCommand } from "../../collectors/exec.ts";
import { STARFAIL_ARGS } from "../../ubus/starfail_object.ts";

const DIR = new URL("./", import.meta.url).pathname;
const READ_METHODS = ["status", "members", "metrics", "history", "events", "config_get", "info"];
const WRITE_METHODS = ["failover", "restore", "recheck", "setlog", "notify_test"];

async function sh(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runCommand("sh", ["-c", script], { timeoutMs: 10000, env });
}

Deno.test("init script and hotplug script parse with sh -n (and busybox ash when present)", async () => {
  for (const file of ["starfail.init", "99-starfail"]) {
    const r = await runCommand("sh", ["-n", `${DIR}${file}`], { timeoutMs: 5000 });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    const bb = await runCommand("busybox", ["sh", "-n", `${DIR}${file}`], { timeoutMs: 5000 });
    if (bb.code !== 127) assert.equal(bb.code, 0, `${file} (busybox): ${bb.stderr}`);
  }
});

Deno.test("init script: procd service with respawn, env on tmpfs, TZ from /etc/TZ, SIGHUP reload", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "starfail_init_" });
  try {
    // Stand-ins for /etc/rc.common and procd's shell API that record every call.
    const stubs = `
      config_load() { echo "config_load $*"; }
      config_get_bool() { eval "$1=1"; }
      procd_open_instance() { echo "open $*"; }
      procd_set_param() { echo "param $*"; }
      procd_close_instance() { echo "close"; }
      procd_send_signal() { echo "signal $*"; }
      procd_add_reload_trigger() { echo "trigger $*"; }
    `;
    const r = await sh(
      `${stubs}\n. "${DIR}starfail.init"\necho "START=$START USE_PROCD=$USE_PROCD"\nstart_service\nreload_service\nservice_triggers`,
      {
        STARFAIL_RUNDIR: tmp,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines[0], "START=90 USE_PROCD=1");
    assert.ok(lines.includes("config_load starfail"));
    assert.ok(lines.includes("param command /usr/bin/starfail daemon"));
    const env = lines.find((l) => l.startsWith("param env "));
    assert.ok(env, "env is set");
    assert.match(env, /TZ=\S+/);
    assert.ok(env.includes(`HOME=${tmp}/home`));
    assert.ok(env.includes(`DENO_DIR=${tmp}/deno_dir`));
    assert.ok(lines.some((l) => l.startsWith("param respawn")));
    assert.ok(lines.includes("signal starfail starfail HUP"));
    assert.ok(lines.includes("trigger starfail"));
    assert.ok((await Deno.stat(`${tmp}/deno_dir`)).isDirectory);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("init script exports the TZ string from /etc/TZ", async () => {
  const text = await Deno.readTextFile(`${DIR}starfail.init`);
  assert.match(text, /\[ -s \/etc\/TZ \] && tz="\$\(cat \/etc\/TZ\)"/);
});

Deno.test("hotplug calls starfail recheck only for ifup/ifdown with a sane interface name", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "starfail_hotplug_" });
  try {
    const marker = `${tmp}/called`;
    await Deno.writeTextFile(`${tmp}/starfail`, `#!/bin/sh\necho "$*" >> "${marker}"\n`);
    await Deno.writeTextFile(`${tmp}/logger`, `#!/bin/sh\necho "$*" >> "${tmp}/log"\n`);
    await Deno.chmod(`${tmp}/starfail`, 0o755);
    await Deno.chmod(`${tmp}/logger`, 0o755);
    const run = (action: string, iface: string) =>
      runCommand("sh", [`${DIR}99-starfail`], {
        timeoutMs: 5000,
        env: {
          ACTION: action,
          INTERFACE: iface,
          STARFAIL: `${tmp}/starfail`,
          PATH: `${tmp}:/usr/bin:/bin`,
        },
      });
    for (const [action, iface] of [["ifupdate", "wan"], ["ifup", "wan;reboot"], ["ifdown", ""]]) {
      const r = await run(action, iface);
      assert.equal(r.code, 0);
    }
    await assert.rejects(Deno.stat(marker), "nothing was called for ignored events");
    const ok = await run("ifdown", "wwan");
    assert.equal(ok.code, 0);
    // The call runs in the background so hotplug never waits; wait for it here.
    for (let i = 0; i < 100; i++) {
      try {
        if ((await Deno.readTextFile(marker)).length > 0) break;
      } catch {
        // not written yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await Deno.readTextFile(marker), "recheck\n");
    assert.match(await Deno.readTextFile(`${tmp}/log`), /hotplug ifdown wwan: recheck/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("rpcd ACL: read group has only read methods, write group adds the write methods, all methods covered", async () => {
  const acl = JSON.parse(await Deno.readTextFile(`${DIR}starfail.json`));
  assert.deepEqual(Object.keys(acl).sort(), ["starfail-read", "starfail-write"]);
  const read = acl["starfail-read"];
  assert.deepEqual(read.read.ubus.starfail.slice().sort(), READ_METHODS.slice().sort());
  assert.equal(read.write, undefined);
  const write = acl["starfail-write"];
  assert.deepEqual(write.write.ubus.starfail.slice().sort(), WRITE_METHODS.slice().sort());
  assert.deepEqual(write.read.ubus.starfail.slice().sort(), READ_METHODS.slice().sort());
  assert.deepEqual(write.write.uci, ["starfail"]);
  assert.deepEqual(
    [...READ_METHODS, ...WRITE_METHODS].sort(),
    Object.keys(STARFAIL_ARGS).sort(),
    "every ubus method of the starfail object is in exactly one ACL list",
  );
});

Deno.test("init script: the binary's flags are baked in (one definition), stop fits term_timeout", async () => {
  const init = await Deno.readTextFile(`${DIR}starfail.init`);
  // Permissions and V8 flags come only from scripts/permissions.ts via deno compile.
  assert.doesNotMatch(init, /--allow-|--v8-flags|-A\b/);
  const term = Number(/procd_set_param term_timeout (\d+)/.exec(init)?.[1]);
  // cli/daemon.ts: the safety exit fires after 8 s; a clean stop takes well under 1 s.
  assert.ok(term > 8, `term_timeout ${term} s must exceed the daemon's 8 s safety exit`);
  // No LD_* in the service environment: Deno refuses to spawn tools with it unless
  // --allow-run is unrestricted.
  assert.doesNotMatch(init, /LD_LIBRARY_PATH|LD_PRELOAD/);
});

Deno.test("deno tasks and npm scripts that run main.ts go through scripts/scoped.ts (the one definition)", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)))
    .tasks as Record<string, string>;
  for (const [name, cmd] of Object.entries(tasks)) {
    if (/main\.ts/.test(cmd)) assert.fail(`task ${name} runs main.ts directly: ${cmd}`);
  }
  assert.match(tasks.scoped, /scripts\/scoped\.ts$/);
  const scripts = JSON.parse(
    await Deno.readTextFile(new URL("../../package.json", import.meta.url)),
  )
    .scripts as Record<string, string>;
  for (const [name, cmd] of Object.entries(scripts)) {
    if (/main\.ts/.test(cmd)) assert.fail(`npm script ${name} runs main.ts directly: ${cmd}`);
  }
  assert.match(tasks.demo, /scripts\/scoped\.ts demo$/);
});
