/**
 * The `uci show` parser moved to `router/uci_show.ts`, under the router seam
 * that both uci implementations (the local `uci` program and rpcd's `uci`
 * object) share; this module keeps the old import path working.
 *
 * @module
 */

export { optionValue, parseShownValue, parseUciShow } from "../router/uci_show.ts";
export type { ShownPackage, ShownSection } from "../router/uci_show.ts";
