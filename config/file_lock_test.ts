import assert from "node:assert/strict";
import { FileLockTimeout, withFileLock } from "./file_lock.ts";
import { loadConfig, setOption } from "./load.ts";
import { writeFileAtomic } from "./atomic_write.ts";

Deno.test("concurrent config set calls each keep their change (read-modify-write under flock)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_lock_test_" });
  try {
    const path = `${dir}/starfail`;
    await Deno.writeTextFile(path, "config starfail 'main'\n");
    const edits: [string, string][] = [
      ["main.switch_margin", "12"],
      ["main.min_uptime_s", "25"],
      ["main.cooldown_s", "45"],
      ["main.fail_min_duration_s", "8"],
      ["main.restore_min_duration_s", "40"],
      ["main.history_window_s", "900"],
      ["member.wan.class", "starlink"],
      ["member.lte.class", "cellular"],
    ];
    await Promise.all(edits.map(([key, value]) => setOption(path, key, value)));
    const { config } = await loadConfig(path);
    assert.equal(config.main.switch_margin, 12);
    assert.equal(config.main.min_uptime_s, 25);
    assert.equal(config.main.cooldown_s, 45);
    assert.equal(config.main.fail_min_duration_s, 8);
    assert.equal(config.main.restore_min_duration_s, 40);
    assert.equal(config.main.history_window_s, 900);
    assert.deepEqual(config.members.map((m) => [m.name, m.class]).sort(), [
      ["lte", "cellular"],
      ["wan", "starlink"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withFileLock waits for a holder of the same flock uci takes, and gives up at its deadline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_lock_test_" });
  const path = `${dir}/starfail`;
  await Deno.writeTextFile(path, "x\n");
  // Another writer (as `uci commit` does) holds LOCK_EX on the file.
  const other = await Deno.open(path, { read: true, write: true });
  await other.lock(true);
  try {
    await assert.rejects(
      withFileLock(path, () => Promise.resolve("ran"), { timeoutMs: 150 }),
      (err: unknown) =>
        err instanceof FileLockTimeout && /still locked by another writer/.test(err.message),
    );
    const order: string[] = [];
    const waiting = withFileLock(path, () => {
      order.push("locked");
      return Promise.resolve();
    }, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    order.push("released");
    await other.unlock();
    await waiting;
    assert.deepEqual(order, ["released", "locked"]);
  } finally {
    other.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withFileLock re-locks when the file was replaced by rename while it waited", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_lock_test_" });
  const path = `${dir}/starfail`;
  await Deno.writeTextFile(path, "old\n");
  const holder = await Deno.open(path, { read: true });
  await holder.lock(true);
  try {
    let seen = "";
    const waiting = withFileLock(path, async () => {
      seen = await Deno.readTextFile(path);
    });
    await new Promise((r) => setTimeout(r, 50));
    // The holder replaces the file (as our atomic write does) and lets go of the old inode.
    await writeFileAtomic(path, "new\n");
    await holder.unlock();
    await waiting;
    assert.equal(seen, "new\n");
  } finally {
    holder.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withFileLock runs on a missing file without locking it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_lock_test_" });
  try {
    const path = `${dir}/starfail`;
    const result = await withFileLock(path, async () => {
      await Deno.writeTextFile(path, "created\n");
      return 7;
    });
    assert.equal(result, 7);
    assert.equal(await Deno.readTextFile(path), "created\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
