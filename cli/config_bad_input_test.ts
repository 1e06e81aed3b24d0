/**
 * `starfail config validate` on hostile files (issue 18): each run ends within
 * 5 s with a documented exit code other than 70 (internal error) and at most
 * three printable lines under 2 KB in all.
 */

import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Outcome {
  code: number;
  output: string;
  ms: number;
}

async function validate(path: string): Promise<Outcome> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", MAIN, "config", "validate", "--config", path],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  const out = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: out.code,
    output: decoder.decode(out.stdout) + decoder.decode(out.stderr),
    ms: performance.now() - started,
  };
}

function assertTidy(name: string, out: Outcome, code: number): void {
  assert.ok(out.ms < 5000, `${name}: took ${Math.round(out.ms)} ms`);
  assert.equal(out.code, code, `${name}: exit ${out.code}: ${out.output.slice(0, 300)}`);
  const lines = out.output.split("\n").filter((l) => l !== "");
  assert.ok(lines.length >= 1 && lines.length <= 3, `${name}: ${lines.length} lines`);
  assert.ok(new TextEncoder().encode(out.output).length < 2048, `${name}: output over 2 KB`);
  // deno-lint-ignore no-control-regex -- no control byte may reach the terminal
  assert.doesNotMatch(out.output.replaceAll("\n", ""), /[\u0000-\u001f\u007f-\u009f]/);
}

Deno.test("config validate refuses a FIFO, /dev/zero, a symlink loop; escapes and caps values", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_badcfg_" });
  try {
    const mk = await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    assert.equal(mk.code, 0);
    await Deno.symlink(`${dir}/loop_b`, `${dir}/loop_a`);
    await Deno.symlink(`${dir}/loop_a`, `${dir}/loop_b`);
    await Deno.writeTextFile(
      `${dir}/control`,
      "config starfail 'main'\n\toption cooldown_s 'a\u0001\u001b[31mb\u0000c\n\td'\n",
    );
    await Deno.writeTextFile(
      `${dir}/value_3mb`,
      `config starfail 'main'\n\toption cooldown_s '${"x".repeat(3_000_000)}'\n`,
    );
    await Deno.writeTextFile(
      `${dir}/value_200kb`,
      `config member '${"m".repeat(200_000)}'\n\toption class 'lan'\n`,
    );

    const fifo = await validate(`${dir}/fifo`);
    assertTidy("fifo", fifo, 66);
    assert.match(fifo.output, /fifo: is a FIFO \(named pipe\), expected a UCI file/);

    const zero = await validate("/dev/zero");
    assertTidy("/dev/zero", zero, 66);
    assert.match(zero.output, /^\/dev\/zero: is a character device/);

    const loop = await validate(`${dir}/loop_a`);
    assertTidy("symlink loop", loop, 74);
    assert.match(loop.output, /loop_a: symbolic link loop/);

    const control = await validate(`${dir}/control`);
    assertTidy("control bytes", control, 78);
    assert.match(control.output, /control:2: .*'a\\x01\\x1b\[31mb\\x00c\\n\\td'/);

    const big = await validate(`${dir}/value_3mb`);
    assertTidy("3 MB value", big, 65);
    assert.match(big.output, /value_3mb: the UCI file is 3000045 bytes, above the limit of 262144/);

    const name = await validate(`${dir}/value_200kb`);
    assertTidy("200 KB name", name, 78);
    assert.match(name.output, /\.\.\. \(200000 bytes\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
