import assert from "node:assert/strict";
import { runCommand } from "./exec.ts";

Deno.test("runCommand collects output and exit code, with and without stdin", async () => {
  const r = await runCommand("sh", ["-c", "echo out; echo err >&2; exit 3"], { timeoutMs: 5000 });
  assert.deepEqual(r, { code: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
  const c = await runCommand("cat", [], { timeoutMs: 5000, stdin: "in" });
  assert.deepEqual(c, { code: 0, stdout: "in", stderr: "", timedOut: false });
  const e = await runCommand("sh", ["-c", 'printf %s "$X"'], { timeoutMs: 5000, env: { X: "y" } });
  assert.equal(e.stdout, "y");
});

Deno.test("runCommand: a missing program is 127", async () => {
  const r = await runCommand("starfail-no-such-tool", [], { timeoutMs: 5000 });
  assert.equal(r.code, 127);
  assert.match(r.stderr, /command not found/);
});

Deno.test("runCommand returns at its deadline with 124, even from a program that ignores SIGTERM", async () => {
  for (const stdin of [undefined, "x"]) {
    const t0 = performance.now();
    // The trap keeps the shell alive on SIGTERM; the loop's sleeps are short so it dies soon after.
    const r = await runCommand(
      "sh",
      ["-c", "trap '' TERM; i=0; while [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done"],
      { timeoutMs: 300, stdin },
    );
    const ms = performance.now() - t0;
    assert.equal(r.code, 124, JSON.stringify(r));
    assert.equal(r.timedOut, true);
    assert.ok(ms < 2500, `returned after ${ms} ms`);
  }
});
