import assert from "node:assert/strict";
import { type HookEvent, type HookRun, HookRunner } from "./hook.ts";

const EV: HookEvent = {
  event: "switch",
  from: "wan",
  to: "lte",
  member: "lte",
  reason: 'wan lost 40% of probes; $(touch /tmp/pwned) `id` "quoted"',
  kind: "failover",
  at: 1700000000,
};

async function script(dir: string, body: string, mode = 0o755): Promise<string> {
  const path = `${dir}/hook`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`, { mode });
  await Deno.chmod(path, mode);
  return path;
}

Deno.test("hook: runs directly with the variables; shell syntax in a reason stays text", async () => {
  const dir = await Deno.makeTempDir({ prefix: `starfail_hook_${Deno.pid}_` });
  try {
    const path = await script(
      dir,
      `printf '%s' "$STARFAIL_REASON" > ${dir}/reason; echo out; echo err >&2`,
    );
    const runs: HookRun[] = [];
    const hook = new HookRunner(path, 5);
    hook.onRun = (r) => runs.push(r);
    hook.enqueue(EV);
    await hook.idle();
    assert.equal(await Deno.readTextFile(`${dir}/reason`), EV.reason);
    assert.deepEqual(
      runs.map((r) => [r.code, r.timedOut, r.stdout, r.stderr]),
      [[0, false, "out", "err"]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hook: one run at a time, in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: `starfail_hook_${Deno.pid}_` });
  try {
    // Each run notes start and end; overlapping runs would interleave the lines.
    const path = await script(
      dir,
      `echo "start $STARFAIL_TO" >> ${dir}/log; sleep 0.1; echo "end $STARFAIL_TO" >> ${dir}/log`,
    );
    const hook = new HookRunner(path, 5);
    for (const to of ["a", "b", "c"]) hook.enqueue({ ...EV, to });
    await hook.idle();
    assert.equal(
      await Deno.readTextFile(`${dir}/log`),
      "start a\nend a\nstart b\nend b\nstart c\nend c\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hook: killed at its deadline; a file that is not executable is named", async () => {
  const dir = await Deno.makeTempDir({ prefix: `starfail_hook_${Deno.pid}_` });
  try {
    // Not exec'd: the killed shell leaves a sleep behind that holds the output pipes.
    const path = await script(dir, "sleep 4; echo never");
    const runs: HookRun[] = [];
    const hook = new HookRunner(path, 1);
    hook.onRun = (r) => runs.push(r);
    const t0 = Date.now();
    hook.enqueue(EV);
    await hook.idle();
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(runs[0].timedOut, true);
    assert.equal(runs[0].code, null);
    await Deno.chmod(path, 0o644);
    hook.enqueue(EV);
    await hook.idle();
    assert.equal(runs[1].error, `${path} is not an executable file (chmod +x ${path})`);
    // No file: nothing runs, nothing is reported.
    const none = new HookRunner(`${dir}/absent`, 1);
    none.onRun = (r) => runs.push(r);
    none.enqueue(EV);
    await none.idle();
    assert.equal(runs.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
