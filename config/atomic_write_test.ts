import assert from "node:assert/strict";
import { writeFileAtomic } from "./atomic_write.ts";

Deno.test("writeFileAtomic creates and replaces a file, keeping its mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_atomic_" });
  try {
    const path = `${dir}/starfail`;
    await writeFileAtomic(path, "one\n");
    assert.equal(await Deno.readTextFile(path), "one\n");
    await Deno.chmod(path, 0o600);
    await writeFileAtomic(path, "two\n");
    assert.equal(await Deno.readTextFile(path), "two\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["starfail"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic failing leaves the target untouched and removes the temp file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_atomic_" });
  try {
    // The target is a non-empty directory: the rename fails after the temp file was written.
    const target = `${dir}/starfail`;
    await Deno.mkdir(target);
    await Deno.writeTextFile(`${target}/keep`, "x");
    await assert.rejects(() => writeFileAtomic(target, "new\n"));
    assert.equal(await Deno.readTextFile(`${target}/keep`), "x");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["starfail"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic into a missing directory fails without leaving anything", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_atomic_" });
  try {
    await assert.rejects(() => writeFileAtomic(`${dir}/nope/starfail`, "x"), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
