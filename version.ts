/**
 * The program's version, taken from package.json so there is one place to bump it.
 *
 * @module
 */

import pkg from "./package.json" with { type: "json" };

/** starfail's version, e.g. `0.1.0`. */
export const VERSION: string = pkg.version;
