/**
 * Every exit code in the README's table, each caused for real, with the CLI
 * run as users get it (the compiled binary's permissions and V8 flags,
 * `scripts/permissions.ts`) wherever a subprocess can show it. The table is
 * read from the README, so a code added there without a case here fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startBroker } from "../ubus/broker.ts";
import { UbusObjectServer } from "../ubus/object_server.ts";
import { STARFAIL_OBJECT, starfailMethods } from "../ubus/starfail_object.ts";
import { reportError } from "../cli/mod.ts";
import { EXIT } from "../cli/args.ts";
import { run as failover } from "../cli/failover.ts";
import { FakeStarfailBackend } from "./starfail_fake_backend.ts";
import { ROOT, scopedStarfail, scratchDir } from "./scoped_run.ts";

async function starfail(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const cmd = scopedStarfail(args);
  const o = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

/** The codes the README's "Exit codes:" paragraph lists. */
async function readmeCodes(): Promise<number[]> {
  const text = await Deno.readTextFile(`${ROOT}README.md`);
  const para = text.split("Exit codes:")[1].split("\n\n")[0];
  return [...para.matchAll(/(?:^|[;:])\s*(\d{1,3}) /g)].map((m) => Number(m[1]));
}

const tested = new Set<number>();

function expect(r: { code: number; err: string }, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, r.err);
  if (pattern) assert.match(r.err, pattern);
  // One line (two for usage errors), never a stack trace.
  assert.ok(r.err.trim().split("\n").length <= 2, r.err);
  assert.doesNotMatch(r.err, /^\s+at /m);
  tested.add(code);
}

Deno.test("exit codes: each README code, caused for real", async (t) => {
  const dir = await scratchDir("exit_");
  try {
    await t.step("0 ok", async () => expect(await starfail(["version"]), 0));
    await t.step("1 the thing asked for is not there (config get of an unset option)", async () => {
      const cfg = `${dir}/ok.uci`;
      await Deno.writeTextFile(cfg, "config starfail 'main'\n");
      expect(await starfail(["config", "get", "notifications.webhook_url", "--config", cfg]), 1);
    });
    await t.step("64 usage", async () => {
      const r = await starfail(["frobnicate"]);
      assert.equal(r.code, 64);
      tested.add(64);
    });
    await t.step("65 bad input data: a malformed trace", async () => {
      const trace = `${dir}/bad.jsonl`;
      await Deno.writeTextFile(trace, "not json\n");
      expect(await starfail(["replay", trace]), 65);
    });
    await t.step("65 an unknown member", async () => {
      const sock = `${dir}/ubus.sock`;
      const broker = await startBroker({ path: sock });
      const server = new UbusObjectServer({ socket: sock });
      await server.addObject(STARFAIL_OBJECT, starfailMethods(new FakeStarfailBackend()));
      await server.start();
      const err = console.error;
      const lines: string[] = [];
      console.error = (...a: unknown[]) => lines.push(a.join(" "));
      try {
        const code = await failover(["nosuch", "--socket", sock]).catch(reportError);
        expect({ code, err: lines.join("\n") }, 65, /unknown member 'nosuch'/);
      } finally {
        console.error = err;
        await server.stop();
        await broker.close();
      }
    });
    await t.step("66 missing config file", async () => {
      expect(
        await starfail(["config", "validate", "--config", `${dir}/nope.uci`]),
        66,
        /no such file/,
      );
      expect(await starfail(["daemon", "--config", `${dir}/nope.uci`]), 66, /no such file/);
    });
    await t.step({
      name: "69 the daemon is not running (default socket, in a private mount namespace)",
      ignore: Deno.uid() !== 0,
      fn: async () => {
        // The default socket path is the machine's: only inside a mount namespace of our own.
        const cmd = [
          "unshare",
          "-m",
          "--propagation",
          "private",
          "sh",
          "-c",
          'mkdir -p /run/ubus && mount -t tmpfs sf-exit /run/ubus && exec "$@"',
          "sh",
          ...scopedStarfail(["status", "--timeout", "1"]),
        ];
        const o = await new Deno.Command(cmd[0], {
          args: cmd.slice(1),
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        expect({ code: o.code, err: new TextDecoder().decode(o.stderr) }, 69, /not running/);
      },
    });
    await t.step("70 internal error", () => {
      const err = console.error;
      console.error = () => {};
      try {
        assert.equal(reportError(new TypeError("boom")), 70);
      } finally {
        console.error = err;
      }
      tested.add(70);
    });
    await t.step("74 I/O error: a trace that is a symbolic link loop", async () => {
      const loop = `${dir}/loop.trace`;
      await Deno.symlink(loop, loop);
      expect(await starfail(["replay", loop]), 74, /symbolic link loop/);
    });
    await t.step("77 the binary's sandbox denies it (named as such)", async () => {
      expect(
        await starfail(["config", "validate", "--config", "/etc/hostname"]),
        77,
        /sandbox denies read access to \/etc\/hostname; this build lacks --allow-read/,
      );
    });
    await t.step("78 bad configuration", async () => {
      const cfg = `${dir}/bad.uci`;
      await Deno.writeTextFile(cfg, "config starfail 'main'\n\toption cooldown_s 'abc'\n");
      expect(await starfail(["config", "validate", "--config", cfg]), 78, /cooldown_s/);
    });
    await t.step("the README lists exactly these codes, and all have a case here", async () => {
      assert.deepEqual(await readmeCodes(), [...tested].sort((a, b) => a - b));
      for (const c of tested) assert.ok(Object.values(EXIT).includes(c as never), `${c}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
