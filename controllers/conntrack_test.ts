import assert from "node:assert/strict";
import { flushConntrack } from "./conntrack.ts";

Deno.test("flushConntrack writes f to the flush file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await flushConntrack({ file: `${dir}/nf_conntrack` });
    assert.deepEqual(r, { ok: true, method: "file" });
    assert.equal(await Deno.readTextFile(`${dir}/nf_conntrack`), "f");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flushConntrack falls back to conntrack -F, and explains when both fail", async () => {
  const calls: string[][] = [];
  const ok = await flushConntrack({
    file: "/nonexistent/dir/nf_conntrack",
    run: (cmd, args) => {
      calls.push([cmd, ...args]);
      return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
    },
  });
  assert.deepEqual(ok, { ok: true, method: "conntrack" });
  assert.deepEqual(calls, [["conntrack", "-F"]]);
  const missing = await flushConntrack({
    file: "/nonexistent/dir/nf_conntrack",
    run: () => Promise.resolve({ code: 127, stdout: "", stderr: "", timedOut: false }),
  });
  assert.equal(missing.ok, false);
  assert.match(
    missing.error ?? "",
    /writing \/nonexistent\/dir\/nf_conntrack failed .* and conntrack -F is not installed/,
  );
});
