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
import {
  buildOptionsFromEnv,
  DISH_NET,
  ENV_NAMES,
  NOTIFY_NET,
  permissionFlags,
  READ_PATHS,
  RUN_TOOLS,
  V8_FLAGS,
  WRITE_PATHS,
} from "./permissions.ts";

export { DISH_NET, ENV_NAMES, NOTIFY_NET, permissionFlags, READ_PATHS, RUN_TOOLS, V8_FLAGS, WRITE_PATHS };

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
    ...permissionFlags({ extraNet: opts.extraNet ?? [], toolDirs: opts.toolDirs ?? [] }),
    `--v8-flags=${V8_FLAGS}`,
    "main.ts",
  ];
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
    const size = (await Deno.stat(`${opts.outDir}/starfail-${target}-linux`)).size;
    console.log(
      `compile ${target}: ${opts.outDir}/starfail-${target}-linux (${
        (size / 1048576).toFixed(1)
      } MiB)`,
    );
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
  const { extraNet, toolDirs } = buildOptionsFromEnv();
  await Deno.mkdir(values["out-dir"]!, { recursive: true });
  let failed = 0;
  for (const t of wanted) {
    failed += await compileOne(Deno.execPath(), t, {
      outDir: values["out-dir"]!,
      extraNet,
      toolDirs,
    });
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
