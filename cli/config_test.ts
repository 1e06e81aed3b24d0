import assert from "node:assert/strict";
import { run } from "./config.ts";
import { COMMANDS, reportError } from "./mod.ts";

const MAIN = new URL("../main.ts", import.meta.url);
const EXAMPLE = new URL("../scripts/starfail.uci.example", import.meta.url).pathname;

/** True once main.ts dispatches `config` (the lead wires it); then tests run it as a subprocess. */
const DISPATCHED = COMMANDS.some((c) => c.name === "config" && c.load !== null);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `starfail config …`: as a subprocess of main.ts when wired, else through run(). */
async function invoke(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  if (DISPATCHED) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", MAIN.pathname, "config", ...args],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }
  const saved = { log: console.log, error: console.error };
  const savedEnv = Object.keys(env).map((k) => [k, Deno.env.get(k)] as const);
  let stdout = "";
  let stderr = "";
  console.log = (...parts: unknown[]) => void (stdout += parts.join(" ") + "\n");
  console.error = (...parts: unknown[]) => void (stderr += parts.join(" ") + "\n");
  for (const [k, val] of Object.entries(env)) Deno.env.set(k, val);
  try {
    let code: number;
    try {
      code = await run(args);
    } catch (err) {
      code = reportError(err);
    }
    return { code, stdout, stderr };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    for (const [k, val] of savedEnv) {
      if (val === undefined) Deno.env.delete(k);
      else Deno.env.set(k, val);
    }
  }
}

async function withFile<T>(text: string | null, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "starfail_cli_" });
  const path = `${dir}/starfail`;
  if (text !== null) await Deno.writeTextFile(path, text);
  try {
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config validate: ok file prints PATH: ok and exits 0", async () => {
  const out = await invoke(["validate", "--config", EXAMPLE]);
  assert.equal(out.code, 0);
  assert.equal(out.stdout, `${EXAMPLE}: ok\n`);
  assert.equal(out.stderr, "");
});

Deno.test("config validate: prints every problem and warning in file order and exits 78", async () => {
  await withFile(
    "config starfail 'main'\n\toption cooldown_s 'abc'\n\toption bogus 1\n\toption log_level x\n",
    async (path) => {
      const out = await invoke(["validate", "--config", path]);
      assert.equal(out.code, 78);
      assert.equal(
        out.stderr,
        `${path}:2: section 'main' option 'cooldown_s' = 'abc': expected an integer from 0 to 3600\n` +
          `warning: ${path}:3: section 'main': unknown option 'bogus' (ignored)\n` +
          `${path}:4: section 'main' option 'log_level' = 'x': expected one of trace, debug, info, warn, error\n`,
      );
      assert.equal(out.stdout, "");
    },
  );
});

Deno.test("config validate: warnings go to stderr and the file is still ok", async () => {
  await withFile("config starfail 'main'\n\toption dish_ip '10.0.0.1'\n", async (path) => {
    const out = await invoke(["validate", "--config", path]);
    assert.equal(out.code, 0);
    assert.match(
      out.stderr,
      /^warning: .*:2: section 'main' option 'dish_ip' is the upstream name/,
    );
    assert.equal(out.stdout, `${path}: ok\n`);
  });
});

Deno.test("config validate: a missing file is one line with the fix, exit 66", async () => {
  await withFile(null, async (path) => {
    const out = await invoke(["validate", "--config", path]);
    assert.equal(out.code, 66);
    assert.equal(
      out.stderr,
      `${path}: no such file; create it with 'starfail config show --defaults > ${path}' ` +
        `or copy scripts/starfail.uci.example\n`,
    );
  });
});

Deno.test("config validate: STARFAIL_CONFIG sets the default path", async () => {
  const out = await invoke(["validate"], { STARFAIL_CONFIG: EXAMPLE });
  assert.equal(out.code, 0);
  assert.equal(out.stdout, `${EXAMPLE}: ok\n`);
});

Deno.test("config show --defaults prints a file that validates cleanly", async () => {
  const shown = await invoke(["show", "--defaults", "--config", "/nonexistent/x"]);
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /config starfail 'main'\n\toption enabled '1'\n/);
  await withFile(shown.stdout, async (path) => {
    const out = await invoke(["validate", "--config", path]);
    assert.equal(out.code, 0);
    assert.equal(out.stderr, "");
  });
});

Deno.test("config show --json prints the effective config", async () => {
  const out = await invoke(["show", "--json", "--config", EXAMPLE]);
  assert.equal(out.code, 0);
  const config = JSON.parse(out.stdout);
  assert.equal(config.main.cooldown_s, 30);
  assert.equal(config.members[1].name, "mob1s1a1");
  assert.equal(config.members[1].metered, true);
});

Deno.test("config get prints one value; lists space-separated; unset exits 1", async () => {
  const a = await invoke(["get", "main.switch_margin", "--config", EXAMPLE]);
  assert.deepEqual([a.code, a.stdout], [0, "10\n"]);
  const b = await invoke(["get", "member.wan.probe_target", "--config", EXAMPLE]);
  assert.deepEqual([b.code, b.stdout], [0, "1.1.1.1 8.8.8.8\n"]);
  const c = await invoke(["get", "@member[3].min_uptime_s", "--config", EXAMPLE]);
  assert.deepEqual([c.code, c.stdout], [0, "60\n"]);
  const d = await invoke(["get", "member.wan.cooldown_s", "--config", EXAMPLE]);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /member\.wan\.cooldown_s is not set/);
});

Deno.test("config get with an unknown key is a usage error (64)", async () => {
  const out = await invoke(["get", "main.nope", "--config", EXAMPLE]);
  assert.equal(out.code, 64);
  assert.match(out.stderr, /unknown option 'nope' in section 'main'/);
});

Deno.test("config set writes one option and keeps the rest of the file", async () => {
  const original = Deno.readTextFileSync(EXAMPLE);
  await withFile(original, async (path) => {
    const out = await invoke(["set", "main.cooldown_s", "45", "--config", path]);
    assert.equal(out.code, 0);
    assert.equal(out.stdout, `${path}: main.cooldown_s = '45'\n`);
    assert.equal(
      await Deno.readTextFile(path),
      original.replace("option cooldown_s '30'", "option cooldown_s '45'"),
    );
  });
});

Deno.test("config set refuses a bad value with the one-line form, file untouched", async () => {
  const original = Deno.readTextFileSync(EXAMPLE);
  await withFile(original, async (path) => {
    const out = await invoke(["set", "scoring.blend_ewma", "0.9", "--config", path]);
    assert.equal(out.code, 78);
    assert.match(
      out.stderr,
      /^.*starfail:\d+: section 'scoring' option 'blend_ewma' = '0\.9': blend_instant \+ blend_ewma \+ blend_window must sum to 1 \(they sum to 1\.4\)\n$/,
    );
    assert.equal(await Deno.readTextFile(path), original);
  });
});

Deno.test("config: help, unknown action, missing arguments", async () => {
  const help = await invoke(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /starfail config set KEY VALUE/);
  const setHelp = await invoke(["set", "--help"]);
  assert.equal(setHelp.code, 0);
  assert.match(setHelp.stdout, /Examples:\n {2}starfail config set main\.cooldown_s 45/);
  const bad = await invoke(["frobnicate"]);
  assert.equal(bad.code, 64);
  const missing = await invoke(["set", "main.cooldown_s"]);
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /missing argument/);
});
