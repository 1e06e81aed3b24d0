/**
 * The `starfail` executable: `deno run main.ts …` or the compiled binary.
 *
 * @module
 */

import { main } from "./cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
