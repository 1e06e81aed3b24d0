import assert from "node:assert/strict";
import { checkDenort, compileArgs, explainFailure } from "./compile.ts";
import {
  DISH_NET,
  ENV_NAMES,
  NOTIFY_NET,
  READ_PATHS,
  RUN_FILES,
  RUN_TOOLS,
  runAllowList,
  RUNTIME_FLAGS,
  SYS_NAMES,
  TOOL_DIRS,
  V8_FLAGS,
  WRITE_PATHS,
} from "./permissions.ts";

const root = new URL("..", import.meta.url);

/** The README's permission table, as flag → values (backquoted items of the value column). */
async function readmePermissions(): Promise<Map<string, string[]>> {
  const text = await Deno.readTextFile(new URL("README.md", root));
  const section = text.split("### Permissions of the compiled binary")[1].split("\n## ")[0];
  const table = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const m = /^\| `(--[a-z0-9-]+)` \| (.*?) \| .* \|$/.exec(line);
    if (!m) continue;
    const values = [...m[2].matchAll(/`([^`]+)`/g)].map((x) => x[1]);
    table.set(m[1], [...(table.get(m[1]) ?? []), ...values]);
  }
  return table;
}

function flagValues(args: string[], flag: string): string[] {
  const a = args.find((x) => x.startsWith(`${flag}=`));
  assert.ok(a, `${flag} missing from the compile command`);
  return a.slice(flag.length + 1).split(",");
}

Deno.test("compile command passes exactly the permissions the README documents", async () => {
  const args = compileArgs("aarch64", { outDir: "dist" });
  const doc = await readmePermissions();
  assert.deepEqual(flagValues(args, "--allow-net"), doc.get("--allow-net"));
  // The run list is documented as tools × folders, then the hook's default path.
  assert.deepEqual(doc.get("--allow-run"), [...RUN_TOOLS, ...TOOL_DIRS, ...RUN_FILES]);
  assert.deepEqual(flagValues(args, "--allow-run"), [...runAllowList(), ...RUN_FILES]);
  assert.ok(flagValues(args, "--allow-run").every((p) => p.startsWith("/")), "bare tool names");
  assert.deepEqual(flagValues(args, "--allow-read"), doc.get("--allow-read"));
  assert.deepEqual(flagValues(args, "--allow-write"), doc.get("--allow-write"));
  assert.deepEqual(flagValues(args, "--allow-env"), doc.get("--allow-env"));
  assert.deepEqual(flagValues(args, "--allow-sys"), doc.get("--allow-sys"));
  assert.deepEqual(SYS_NAMES, ["hostname"]);
  assert.deepEqual([V8_FLAGS], doc.get("--v8-flags"));
  for (const flag of RUNTIME_FLAGS) {
    assert.ok(args.includes(flag), `${flag} missing from the compile command`);
    assert.ok(doc.has(flag), `${flag} missing from the README's table`);
  }
  const excludes = args.flatMap((a, i) => (a === "--exclude" ? [args[i + 1]] : []));
  assert.deepEqual(excludes, doc.get("--exclude"));
});

Deno.test("compile command is narrow: no blanket permission, no prompt, right target and output", () => {
  const args = compileArgs("x86_64", { outDir: "out", extraNet: ["hooks.example.net:443"] });
  assert.equal(args[0], "compile");
  assert.ok(args.includes("--no-prompt"));
  assert.ok(!args.some((a) => a === "-A" || a === "--allow-all"));
  for (
    const flag of ["--allow-net", "--allow-run", "--allow-read", "--allow-write", "--allow-env"]
  ) {
    assert.ok(!args.includes(flag), `${flag} without a list grants everything`);
  }
  // The host name only (the MQTT device id), no other system information, no FFI.
  assert.deepEqual(args.filter((a) => a.startsWith("--allow-sys")), ["--allow-sys=hostname"]);
  assert.ok(!args.some((a) => a.startsWith("--allow-ffi")));
  assert.deepEqual(args.slice(args.indexOf("--target"), args.indexOf("--target") + 2), [
    "--target",
    "x86_64-unknown-linux-gnu",
  ]);
  assert.equal(args[args.indexOf("--output") + 1], "out/starfail-x86_64-linux");
  const net = flagValues(args, "--allow-net");
  assert.deepEqual(net.slice(0, DISH_NET.length + NOTIFY_NET.length), [...DISH_NET, ...NOTIFY_NET]);
  assert.equal(net.at(-1), "hooks.example.net:443");
  assert.equal(args.at(-1), "main.ts");
  assert.ok(RUN_TOOLS.length > 0 && READ_PATHS.length > 0 && WRITE_PATHS.length > 0);
  // The demo's dish simulator (grpc-js) needs it; the daemon's dish transport does not.
  assert.ok(ENV_NAMES.includes("GRPC_NODE_VERBOSITY"));
});

Deno.test("an unreachable runtime download is explained in one line with the fix", () => {
  const stderr =
    "error: Writing deno compile executable to temporary file\nCaused by:\n    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): dns error";
  const line = explainFailure(stderr, "x86_64");
  assert.ok(line !== null);
  assert.ok(!line.includes("\n"));
  assert.match(line, /DENORT_BIN/);
  assert.match(line, /denort-x86_64-unknown-linux-gnu\.zip/);
  assert.equal(explainFailure("error: Module not found", "x86_64"), null);
});

Deno.test("the compile task fails with one clear line where denort cannot be downloaded", {
  // Only meaningful where dl.deno.land is unreachable, as on the machines this is built on.
  ignore: Deno.env.get("DENORT_BIN") !== undefined,
}, async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "scripts/compile.ts",
      "--target",
      "x86_64",
      "--out-dir",
      await Deno.makeTempDir(),
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { DENO_DIR: await Deno.makeTempDir() },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code === 0) return; // the host was reachable: compile worked, nothing to explain
  assert.equal(out.code, 1);
  const lines = stderr.split("\n").filter((l) => l.startsWith("compile "));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /DENORT_BIN/);
});

Deno.test("DENORT_BIN: a fake file, the plain deno CLI and a wrong-architecture ELF are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "starfail_denort_" });
  try {
    const fake = `${dir}/denort`;
    await Deno.writeTextFile(fake, "#!/bin/sh\necho I am not denort\n");
    assert.match(
      (await checkDenort(fake, "x86_64"))!,
      /is not an ELF executable; fix: unzip denort-x86_64/,
    );
    // A real ELF header for x86-64 (e_machine 0x3e at offset 18), checked for aarch64.
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    elf[18] = 0x3e;
    await Deno.writeFile(`${dir}/x86`, elf);
    assert.match((await checkDenort(`${dir}/x86`, "aarch64"))!, /is built for x86_64, not aarch64/);
    assert.match((await checkDenort(`${dir}/x86`, "x86_64"))!, /version string is missing/);
    assert.match((await checkDenort(`${dir}/missing`, "x86_64"))!, /cannot be read/);
    // The plain deno binary this repository runs on.
    const deno = Deno.execPath();
    const target = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
    assert.match((await checkDenort(deno, target))!, /is the full deno CLI, not denort/);
    // And the task says so in one line, before building anything.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/compile.ts", "--target", target, "--out-dir", dir],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      env: { DENORT_BIN: deno, NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 1, stderr);
    assert.match(
      stderr.split("\n")[0],
      /^compile \w+: DENORT_BIN=.* is the full deno CLI, not denort/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["denort", "x86"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
