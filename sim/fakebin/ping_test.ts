import assert from "node:assert/strict";
import { runCommand } from "../../collectors/exec.ts";
import { parsePingOutput, pingTarget } from "../../collectors/probe.ts";

const fake = new URL("./ping", import.meta.url).pathname;

async function withState<T>(
  state: Record<string, unknown> | null,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir();
  if (state !== null) await Deno.writeTextFile(`${dir}/wwan0.json`, JSON.stringify(state));
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function runFake(dir: string, args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(fake, {
    args,
    env: { FAKE_NET_DIR: dir },
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const d = new TextDecoder();
  return { code: out.code, text: d.decode(out.stdout) + d.decode(out.stderr) };
}

Deno.test("fake ping answers in the iputils format the real parser reads", async () => {
  await withState({ latency_ms: 45, loss_pct: 0, jitter_ms: 0 }, async (dir) => {
    const r = await runFake(dir, ["-n", "-c", "3", "-W", "1", "-I", "wwan0", "192.0.2.1"]);
    assert.equal(r.code, 0);
    const p = parsePingOutput(r.text);
    assert.equal(p.flavor, "iputils");
    assert.equal(p.sent, 3);
    assert.equal(p.received, 3);
    assert.equal(p.rtts_ms.length, 3);
    assert.ok(p.rtts_ms.every((x) => Math.abs(x - 45) < 0.01));
  });
});

Deno.test("fake ping: total loss, missing device and link down look like the real tool", async () => {
  await withState({ latency_ms: 45, loss_pct: 100 }, async (dir) => {
    const lost = parsePingOutput(
      (await runFake(dir, ["-c", "2", "-W", "1", "-I", "wwan0", "192.0.2.1"])).text,
    );
    assert.equal(lost.received, 0);
    assert.equal(lost.sent, 2);
    const missing = await runFake(dir, ["-c", "1", "-I", "eth9", "192.0.2.1"]);
    assert.equal(missing.code, 2);
    assert.match(missing.text, /No such device/);
  });
  await withState({ link: false }, async (dir) => {
    const down = await runFake(dir, ["-c", "1", "-I", "wwan0", "192.0.2.1"]);
    assert.notEqual(down.code, 0);
    assert.match(down.text, /Network is unreachable/);
  });
});

Deno.test("the production probe runs the fake ping unchanged", async () => {
  await withState({ latency_ms: 30, loss_pct: 0, jitter_ms: 0 }, async (dir) => {
    const r = await pingTarget("192.0.2.1", {
      device: "wwan0",
      count: 2,
      timeoutS: 1,
      command: { cmd: fake },
      run: (cmd, args, opts) => runCommand(cmd, args, { ...opts, env: { FAKE_NET_DIR: dir } }),
    });
    assert.equal(r.received, 2);
    assert.ok(r.rtts_ms.every((x) => Math.abs(x - 30) < 0.01), JSON.stringify(r));
  });
});
