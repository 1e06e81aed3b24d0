/**
 * The entry point under exactly the permissions the compiled binary gets
 * (`scripts/compile.ts`): the everyday commands must work with them, and
 * grpc-js must import (it reads environment variables at import time).
 */
import assert from "node:assert/strict";
import { permissionFlags } from "../scripts/compile.ts";

const root = new URL("..", import.meta.url).pathname;

async function starfail(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissionFlags(), `${root}main.ts`, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  // Deno notes tools missing from this machine's PATH ("Info Failed to resolve 'uci' for
  // allow-run"); on a router they exist. Those notes are not starfail's output.
  const stderr = d.decode(out.stderr).split("\n").filter((l) => !/^Info Failed to resolve/.test(l))
    .join("\n");
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
