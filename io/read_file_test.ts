import assert from "node:assert/strict";
import { FileReadError, readTextFileBounded } from "./read_file.ts";

async function expectRefusal(path: string, kind: string, pattern: RegExp): Promise<void> {
  const started = Date.now();
  const err = await readTextFileBounded(path, { maxBytes: 1024, what: "config file" }).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof FileReadError, `expected FileReadError, got ${err}`);
  assert.equal(err.kind, kind);
  assert.match(err.message, pattern);
  assert.ok(!err.message.includes("\n"));
  assert.ok(Date.now() - started < 2000, "refusal took over 2 s");
}

Deno.test("readTextFileBounded reads a regular file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_read_" });
  try {
    await Deno.writeTextFile(`${dir}/ok`, "hello\n");
    assert.equal(await readTextFileBounded(`${dir}/ok`, { maxBytes: 6 }), "hello\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readTextFileBounded refuses FIFOs, devices, directories, loops and big files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_read_" });
  try {
    const mk = await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    assert.equal(mk.code, 0);
    await Deno.symlink(`${dir}/loop_b`, `${dir}/loop_a`);
    await Deno.symlink(`${dir}/loop_a`, `${dir}/loop_b`);
    await Deno.writeTextFile(`${dir}/big`, "x".repeat(1025));
    await expectRefusal(
      `${dir}/fifo`,
      "not_regular",
      /fifo: is a FIFO \(named pipe\), expected a config file$/,
    );
    await expectRefusal("/dev/zero", "not_regular", /^\/dev\/zero: is a character device/);
    await expectRefusal(dir, "not_regular", /is a directory/);
    await expectRefusal(`${dir}/loop_a`, "io", /loop_a: symbolic link loop/);
    await expectRefusal(`${dir}/big`, "too_large", /1025 bytes, above the limit of 1024 bytes/);
    await expectRefusal(`${dir}/none`, "missing", /none: no such config file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readTextFileBounded stops at the cap when stat says 0 bytes (procfs)", async () => {
  const err = await readTextFileBounded("/proc/self/maps", { maxBytes: 16 }).catch((e) => e);
  assert.ok(err instanceof FileReadError);
  assert.equal(err.kind, "too_large");
  assert.equal(err.exitCode, 65);
});
