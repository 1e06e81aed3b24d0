/**
 * Fault tests (issue 18): `--record` and `--log-file` on a read-only file
 * system and on one that fills up mid-run. The daemon must keep ticking and
 * answering `ubus call starfail status`, say what it lost, and leave a trace
 * of whole lines. The mounts live in a private mount namespace (`unshare -m`),
 * so nothing outside this test sees them.
 */

import assert from "node:assert/strict";
import { IS_ROOT, requirePart, skipUnless, which } from "./require.ts";

const CHILD = new URL("./fault_disk_child.ts", import.meta.url).pathname;
const HAVE = IS_ROOT && which("unshare") !== null && which("mount") !== null;

Deno.test({
  name: "--record/--log-file on a read-only and on a full disk: the daemon keeps serving status",
  ignore: skipUnless(HAVE, "root with unshare and mount (a private mount namespace)"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(HAVE, "root with unshare and mount");
    const dir = await Deno.makeTempDir({ prefix: `starfail_fault_disk_${Deno.pid}_` });
    try {
      await Deno.mkdir(`${dir}/ro`);
      await Deno.mkdir(`${dir}/small`);
      const script = `set -e; mount --make-rprivate /; ` +
        `mount -t tmpfs -o ro,size=64k starfail_ro "$1/ro"; ` +
        `mount -t tmpfs -o size=192k starfail_small "$1/small"; ` +
        `exec "$2" run -A --no-prompt "$3" "$1"`;
      const out = await new Deno.Command("unshare", {
        args: ["-m", "sh", "-c", script, "sh", dir, Deno.execPath(), CHILD],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr.slice(-2000));
      const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
      const ro = result.readonly;
      const full = result.full;

      // Read-only: started without the files, said so once each, kept serving.
      assert.match(
        stderr,
        /cannot open the trace \(--record\) .*\/ro\/trace\.jsonl: Read-only file system; running without it/,
      );
      assert.match(
        stderr,
        /cannot open the log file .*\/ro\/log: Read-only file system; running without it/,
      );
      assert.equal(stderr.match(/cannot open the log file/g)?.length, 1, "told once");
      assert.ok(ro.ticksAfter > ro.ticksBefore, JSON.stringify(ro));
      assert.ok(ro.statusOk >= 5 && ro.statusFailed === 0, JSON.stringify(ro));
      assert.equal(ro.traceError, "NotFound");

      // Full disk: warned once per file, lines counted, status answered throughout.
      assert.equal(full.fillError, "Error", JSON.stringify(full));
      assert.match(stderr, /cannot write the trace \(--record\) .*No space left on device/);
      assert.match(
        stderr,
        /cannot write the log file .*No space left on device; lines are dropped/,
      );
      assert.match(
        stderr,
        /the log file .*\/small\/log: \d+ lines were not written \(No space left on device\)/,
      );
      assert.ok(full.ticksAfter > full.ticksBefore + 2, JSON.stringify(full));
      assert.ok(full.statusOk >= 10 && full.statusFailed === 0, JSON.stringify(full));
      assert.ok(full.traceLines >= 1, JSON.stringify(full));
      assert.equal(full.traceBroken, 0, "a half-written line was left in the trace");
      assert.equal(full.traceEndsWithNewline, true);
      console.log(`fault disk: ${JSON.stringify(result)}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "config set on a read-only and on a full file system: exit 74 naming the path, file intact",
  ignore: skipUnless(HAVE, "root with unshare and mount (a private mount namespace)"),
  async fn() {
    requirePart(HAVE, "root with unshare and mount");
    const dir = await Deno.makeTempDir({ prefix: `starfail_fault_set_${Deno.pid}_` });
    const main = new URL("../main.ts", import.meta.url).pathname;
    const original = "config starfail 'main'\n\toption cooldown_s '30'\n";
    try {
      await Deno.mkdir(`${dir}/ro`);
      await Deno.mkdir(`${dir}/full`);
      // Read-only: write the file, remount read-only. Full: fill the rest with a filler.
      const script = `mount --make-rprivate / || exit 90; ` +
        `mount -t tmpfs -o size=64k starfail_ro "$1/ro"; printf '%s' "$4" > "$1/ro/starfail"; ` +
        `mount -o remount,ro "$1/ro"; ` +
        `mount -t tmpfs -o size=64k starfail_full "$1/full"; printf '%s' "$4" > "$1/full/starfail"; ` +
        `dd if=/dev/zero of="$1/full/filler" bs=4k 2>/dev/null; ` +
        `"$2" run -A --no-prompt "$3" config set main.cooldown_s 45 --config "$1/ro/starfail"; ` +
        `echo "rc=$?"; ` +
        `"$2" run -A --no-prompt "$3" config set main.cooldown_s 45 --config "$1/full/starfail"; ` +
        `echo "rc=$?"; cat "$1/ro/starfail" "$1/full/starfail"`;
      const out = await new Deno.Command("unshare", {
        args: [
          "-m",
          "sh",
          "-c",
          script,
          "sh",
          dir,
          Deno.execPath(),
          main,
          original,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      const codes = [...stdout.matchAll(/rc=(\d+)/g)].map((m) => Number(m[1]));
      assert.deepEqual(codes, [74, 74], stdout + stderr);
      const lines = stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 2, stderr);
      assert.match(
        lines[0],
        /\/ro\/starfail: cannot (write|lock) the config.*Read-only file system/,
      );
      assert.match(
        lines[1],
        /\/full\/starfail: cannot (write|lock) the config.*No space left on device/,
      );
      // Both originals are whole.
      assert.ok(stdout.endsWith(original + original), stdout);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
