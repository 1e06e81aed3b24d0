/**
 * `starfail version`: the program's version and the runtime it runs on.
 *
 * @module
 */

import { type CommandSpec, EXIT, parseCommand } from "./args.ts";
import { VERSION } from "../version.ts";

/** How `starfail version` is called. */
export const spec: CommandSpec = {
  name: "version",
  summary: "Show starfail's version and the Deno runtime it runs on.",
  usage: "starfail version [--json]",
  examples: ["starfail version", "starfail version --json"],
  options: { json: { type: "boolean" } },
  optionHelp: { json: "print JSON" },
};

/** The facts `starfail version` prints. */
export function versionInfo(): { version: string; deno: string; v8: string; arch: string } {
  return {
    version: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    arch: `${Deno.build.arch}-${Deno.build.os}`,
  };
}

/** Runs `starfail version`. */
export function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return Promise.resolve(EXIT.OK);
  const info = versionInfo();
  if (parsed.values.json) console.log(JSON.stringify(info));
  else console.log(`starfail ${info.version} (deno ${info.deno}, ${info.arch})`);
  return Promise.resolve(EXIT.OK);
}
