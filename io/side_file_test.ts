import assert from "node:assert/strict";
import { SideFile, type SideFileProblem } from "./side_file.ts";

Deno.test("SideFile on a full disk (/dev/full) drops and counts lines, tells once, never throws", () => {
  const problems: SideFileProblem[] = [];
  const file = new SideFile("/dev/full", {
    mode: "append",
    what: "log file",
    onProblem: (p) => problems.push(p),
  });
  for (let i = 0; i < 100; i++) assert.equal(file.writeLine(`line ${i}`), false);
  file.close();
  assert.equal(problems.length, 2, JSON.stringify(problems));
  assert.equal(problems[0].kind, "write");
  assert.match(
    problems[0].message,
    /cannot write the log file \/dev\/full: No space left on device/,
  );
  assert.match(problems[1].message, /\/dev\/full: 100 lines were not written/);
  assert.equal(file.lost, 100);
});

Deno.test("SideFile on a path that cannot be created runs without it and says so once", () => {
  const problems: SideFileProblem[] = [];
  const file = new SideFile(`/proc/starfail_no_such_dir_${Deno.pid}/trace.jsonl`, {
    mode: "truncate",
    what: "trace (--record)",
    onProblem: (p) => problems.push(p),
  });
  assert.equal(file.healthy, false);
  for (let i = 0; i < 10; i++) assert.equal(file.writeLine("x"), false);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, "open");
  assert.match(problems[0].message, /cannot open the trace \(--record\) .*running without it/);
});

Deno.test("SideFile resumes after the retry delay and reports the lost lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_side_" });
  try {
    let now = 0;
    const problems: SideFileProblem[] = [];
    const path = `${dir}/missing_dir/log`;
    const file = new SideFile(path, {
      mode: "append",
      what: "log file",
      retryMs: 1000,
      now: () => now,
      onProblem: (p) => problems.push(p),
    });
    file.writeLine("lost 1");
    file.writeLine("lost 2");
    await Deno.mkdir(`${dir}/missing_dir`);
    now = 500;
    assert.equal(file.writeLine("lost 3"), false);
    now = 1500;
    assert.equal(file.writeLine("kept"), true);
    file.close();
    assert.equal(await Deno.readTextFile(path), "kept\n");
    assert.deepEqual(problems.map((p) => p.kind), ["open", "resumed"]);
    assert.match(problems[1].message, /writable again; 3 lines were lost/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
