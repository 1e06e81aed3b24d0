/**
 * `deno task scoped <subcommand> …`: runs `main.ts` under exactly the
 * permissions, V8 flags and runtime flags `deno task compile` bakes into the
 * executable, without `deno run`'s update check (which the binary lacks)
 * (`scripts/permissions.ts`), so what is tested here is what users run.
 * Build options (`STARFAIL_EXTRA_NET`, `STARFAIL_TOOL_DIRS`) apply as they do
 * to compile. SIGTERM, SIGINT and SIGHUP are passed on to starfail.
 *
 * @module
 */

import { buildOptionsFromEnv, SCOPED_RUN_ENV, scopedRunArgs } from "./permissions.ts";

if (import.meta.main) {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
  const child = new Deno.Command(Deno.execPath(), {
    args: [...scopedRunArgs(main, buildOptionsFromEnv()), ...args],
    env: { ...SCOPED_RUN_ENV },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    Deno.addSignalListener(sig, () => {
      try {
        child.kill(sig);
      } catch {
        // Already gone.
      }
    });
  }
  const status = await child.status;
  Deno.exit(status.signal !== null ? 128 + (status.signal === "SIGTERM" ? 15 : 2) : status.code);
}
