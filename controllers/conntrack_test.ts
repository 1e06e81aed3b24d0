import assert from "node:assert/strict";
import { runCommand } from "../collectors/exec.ts";
import { applyFlushAction, CONNTRACK_FILE, flushAction, flushConntrack } from "./conntrack.ts";
import { emptyReport } from "./report.ts";

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

Deno.test("flushAction writes f to the flush file, CONNTRACK_FILE by default", () => {
  assert.deepEqual(flushAction().args, [CONNTRACK_FILE, "f"]);
  assert.equal(flushAction().cmd, "write");
  assert.deepEqual(flushAction("/tmp/x").args, ["/tmp/x", "f"]);
});

Deno.test("applyFlushAction records a flush, and the reason when it fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const report = emptyReport("route", "wan", false);
    await applyFlushAction(flushAction(`${dir}/nf_conntrack`), report, runCommand);
    assert.equal(report.conntrackFlushed, true);
    assert.deepEqual(report.errors, []);
    const failed = emptyReport("route", "wan", false);
    await applyFlushAction(
      flushAction(`${dir}/missing/nf_conntrack`),
      failed,
      () => Promise.resolve({ code: 1, stdout: "", stderr: "", timedOut: false }),
    );
    assert.equal(failed.conntrackFlushed, false);
    assert.match(failed.errors[0], /conntrack -F failed \(exit 1\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
