/**
 * Builds the single-file `starfail` executables with `deno compile`, with the
 * narrowest permissions baked in. Every permission is listed (and justified)
 * in the README's "Permissions of the compiled binary" section; a test checks
 * this argument list against it.
 *
 * Usage: `deno task compile [--target x86_64|aarch64|all] [--out-dir dist]`
 *
 * `deno compile` needs the slim runtime "denort" for each target. It is
 * downloaded from dl.deno.land unless `DENORT_BIN` names a local copy (one
 * file serves one target, so pick `--target` with it).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { buildOptionsFromEnv, permissionFlags, RUNTIME_FLAGS, V8_FLAGS } from "./permissions.ts";

/** Targets we build, by short name. */
export const TARGETS = {
  x86_64: "x86_64-unknown-linux-gnu",
  aarch64: "aarch64-unknown-linux-gnu",
} as const;

/** A short target name. */
export type TargetName = keyof typeof TARGETS;

/** Options for {@linkcode compileArgs}. */
export interface CompileOptions {
  /** Output directory. */
  outDir: string;
  /** Extra `--allow-net` hosts (webhook hosts, TCP/DNS probe targets), `host:port`. */
  extraNet?: string[];
  /** Extra folders holding the router tools (`STARFAIL_TOOL_DIRS`). */
  toolDirs?: string[];
  /** Extra files or folders to read (`STARFAIL_EXTRA_READ`: password files elsewhere). */
  extraRead?: string[];
  /** Extra programs to run and read (`STARFAIL_EXTRA_RUN`: a hook script elsewhere). */
  extraRun?: string[];
}

/**
 * The exact `deno compile` argument list for one target.
 *
 * @example
 * ```ts
 * const args = compileArgs("aarch64", { outDir: "dist" });
 * // ["compile", "--no-prompt", "--target", "aarch64-unknown-linux-gnu", …, "main.ts"]
 * ```
 */
export function compileArgs(target: TargetName, opts: CompileOptions): string[] {
  return [
    "compile",
    // --v8-flags below also limit the compiling process itself, and a 32 MB heap is too small
    // for the type checker: the task type-checks first, in a normal process, then compiles.
    "--no-check",
    "--target",
    TARGETS[target],
    "--output",
    `${opts.outDir}/starfail-${target}-linux`,
    "--exclude",
    "node_modules/deno",
    "--exclude",
    "node_modules/@deno",
    "--exclude",
    "node_modules/.bin",
    "--exclude",
    "node_modules/fast-check",
    "--exclude",
    "node_modules/pure-rand",
    "--exclude",
    "node_modules/@types",
    "--exclude",
    "node_modules/undici-types",
    ...RUNTIME_FLAGS,
    ...permissionFlags({
      extraNet: opts.extraNet ?? [],
      toolDirs: opts.toolDirs ?? [],
      extraRead: opts.extraRead ?? [],
      extraRun: opts.extraRun ?? [],
    }),
    `--v8-flags=${V8_FLAGS}`,
    "main.ts",
  ];
}

/** ELF `e_machine` of each target. */
const ELF_MACHINE: Record<TargetName, number> = { x86_64: 0x3e, aarch64: 0xb7 };

/** Text only the full deno CLI carries (`deno run --help`); denort has no subcommands. */
const FULL_DENO_MARKER = "Run a JavaScript or TypeScript program";

/** Whether `needle` occurs in the file, read in chunks (the runtime is ~100 MB). */
async function fileContains(path: string, needles: string[]): Promise<boolean[]> {
  const enc = new TextEncoder();
  const pats = needles.map((n) => enc.encode(n));
  const found = needles.map(() => false);
  const overlap = Math.max(...pats.map((p) => p.length));
  using file = await Deno.open(path);
  const buf = new Uint8Array(1 << 20);
  let carry = new Uint8Array(0);
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    const chunk = new Uint8Array(carry.length + n);
    chunk.set(carry);
    chunk.set(buf.subarray(0, n), carry.length);
    pats.forEach((p, k) => {
      if (!found[k] && indexOf(chunk, p) >= 0) found[k] = true;
    });
    if (found.every((f) => f)) break;
    carry = chunk.slice(Math.max(0, chunk.length - overlap));
  }
  return found;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (
    let i = hay.indexOf(first);
    i >= 0 && i <= hay.length - needle.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/**
 * Checks that `path` is a denort (Deno's slim runtime) for `target` and Deno
 * `version`: an ELF executable for the target's machine, carrying the
 * version, and not the full deno CLI (which `deno compile` would wrap into a
 * 110 MB file that behaves like `deno`, not like starfail). Resolves to null
 * when it is, else one line saying what it is instead.
 */
export async function checkDenort(
  path: string,
  target: TargetName,
  version: string = Deno.version.deno,
): Promise<string | null> {
  const why = (what: string) =>
    `DENORT_BIN=${path} ${what}; fix: unzip denort-${TARGETS[target]}.zip of Deno ${version} ` +
    `and point DENORT_BIN at the denort inside`;
  let head: Uint8Array;
  try {
    using file = await Deno.open(path);
    head = new Uint8Array(20);
    const n = await file.read(head);
    if (n === null || n < 20) return why("is not an ELF executable (too short)");
  } catch (err) {
    return why(`cannot be read (${(err as Error).message.split("\n")[0]})`);
  }
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return why("is not an ELF executable");
  }
  const machine = head[18] | (head[19] << 8);
  if (machine !== ELF_MACHINE[target]) {
    const other = (Object.keys(ELF_MACHINE) as TargetName[]).find((t) =>
      ELF_MACHINE[t] === machine
    );
    return why(`is built for ${other ?? `ELF machine 0x${machine.toString(16)}`}, not ${target}`);
  }
  const [isFull, hasVersion] = await fileContains(path, [FULL_DENO_MARKER, version]);
  if (isFull) return why("is the full deno CLI, not denort");
  if (!hasVersion) return why(`is not Deno ${version}'s denort (the version string is missing)`);
  return null;
}

/**
 * Runs the built binary the way a user first would — `version`, `config
 * validate`, `demo --duration 30` — and returns one line per failure.
 */
export async function smokeTest(binary: string): Promise<string[]> {
  const problems: string[] = [];
  const run = async (args: string[], timeoutMs: number) => {
    const child = new Deno.Command(binary, {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const out = await child.output();
    clearTimeout(timer);
    const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
    if (out.code !== 0) problems.push(`${binary} ${args.join(" ")}: exit ${out.code} ${err}`);
    return new TextDecoder().decode(out.stdout);
  };
  const version = await run(["version"], 30_000);
  if (!/^starfail /.test(version)) {
    problems.push(`${binary} version printed ${JSON.stringify(version.slice(0, 80))}`);
  }
  await Deno.mkdir("/tmp/starfail", { recursive: true });
  const cfg = await Deno.makeTempFile({ dir: "/tmp/starfail", suffix: ".uci" });
  try {
    await Deno.copyFile("scripts/starfail.uci.example", cfg);
    await run(["config", "validate", "--config", cfg], 30_000);
  } finally {
    await Deno.remove(cfg);
  }
  const demo = await run(["demo", "--duration", "30", "--json"], 90_000);
  if (!/"reason":"failback/.test(demo)) problems.push(`${binary} demo: no failback in the summary`);
  return problems;
}

/**
 * Explains a failed `deno compile` in one line, or returns null when the
 * failure is not one we recognise.
 */
export function explainFailure(stderr: string, target: TargetName): string | null {
  if (/dl\.deno\.land|error sending request|denort/i.test(stderr)) {
    const zip = `denort-${TARGETS[target]}.zip`;
    return `compile ${target}: deno compile could not get its runtime (${zip} from dl.deno.land ` +
      `is unreachable from this machine); fix: set DENORT_BIN=/path/to/denort for ${
        TARGETS[target]
      } ` +
      `(unzipped from ${zip} of Deno ${Deno.version.deno}) and pass --target ${target}, or put the ` +
      `zip at $DENO_DIR/dl/release/v${Deno.version.deno}/${zip}`;
  }
  return null;
}

async function compileOne(deno: string, target: TargetName, opts: CompileOptions): Promise<number> {
  const check = await new Deno.Command(deno, {
    args: ["check", "main.ts"],
    stdout: "null",
    stderr: "inherit",
  })
    .output();
  if (check.code !== 0) {
    console.error(`compile ${target}: type check of main.ts failed (see above); nothing was built`);
    return 1;
  }
  const args = compileArgs(target, opts);
  const out = await new Deno.Command(deno, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code === 0) {
    const binary = `${opts.outDir}/starfail-${target}-linux`;
    const size = (await Deno.stat(binary)).size;
    console.log(`compile ${target}: ${binary} (${(size / 1048576).toFixed(1)} MiB)`);
    // Smoke test where the binary can run here (same architecture as this machine).
    if (Deno.build.arch === target) {
      const problems = await smokeTest(binary.startsWith("/") ? binary : `./${binary}`);
      for (const p of problems) console.error(`compile ${target}: smoke test: ${p}`);
      if (problems.length > 0) return 1;
      console.log(
        `compile ${target}: smoke test passed (version, config validate, demo --duration 30)`,
      );
    }
    return 0;
  }
  const why = explainFailure(stderr, target);
  if (why !== null) console.error(why);
  else {
    const line = stderr.split("\n").find((l) => /error/i.test(l)) ?? stderr.trim().split("\n")[0];
    console.error(`compile ${target}: deno compile failed: ${line?.trim() ?? `exit ${out.code}`}`);
  }
  return 1;
}

/** Reads the task's flags; a bad flag is one line and exit 64, never a stack trace. */
function flags(args: string[]): { target: string; "out-dir": string } {
  try {
    const { values } = parseArgs({
      // `deno task compile -- --target x` passes the `--` on; it separates nothing here.
      args: args.filter((a) => a !== "--"),
      options: {
        target: { type: "string", default: "all" },
        "out-dir": { type: "string", default: "dist" },
      },
    });
    return { target: values.target!, "out-dir": values["out-dir"]! };
  } catch (err) {
    console.error(
      `compile: ${
        (err as Error).message.split("\n")[0]
      } (usage: compile [--target x86_64|aarch64|all] [--out-dir DIR])`,
    );
    Deno.exit(64);
  }
}

if (import.meta.main) {
  const values = flags(Deno.args);
  const wanted = values.target === "all"
    ? (Object.keys(TARGETS) as TargetName[])
    : [values.target as TargetName];
  if (wanted.some((t) => !(t in TARGETS))) {
    console.error(`compile: --target '${values.target}': expected x86_64, aarch64 or all`);
    Deno.exit(64);
  }
  if (Deno.env.get("DENORT_BIN") && wanted.length > 1) {
    console.error(
      "compile: DENORT_BIN names one runtime for one target; pass --target x86_64 or --target aarch64",
    );
    Deno.exit(64);
  }
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    const bad = await checkDenort(denort, wanted[0]);
    if (bad !== null) {
      console.error(`compile ${wanted[0]}: ${bad}`);
      Deno.exit(1);
    }
  }
  const build = buildOptionsFromEnv();
  await Deno.mkdir(values["out-dir"]!, { recursive: true });
  let failed = 0;
  for (const t of wanted) {
    failed += await compileOne(Deno.execPath(), t, {
      outDir: values["out-dir"]!,
      ...build,
    });
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
