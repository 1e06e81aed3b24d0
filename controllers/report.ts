/**
 * What both controllers do with a {@linkcode ControllerReport}: start an
 * empty one, read back into it, and describe its actions in a log line.
 *
 * @module
 */

import type { Controller, ControllerAction, ControllerReport } from "./types.ts";

/**
 * A report of a reconcile that has not done anything yet.
 *
 * @example
 * ```ts
 * const report = emptyReport("route", "wan", false);
 * report.errors.push("member wan has no route-mode device");
 * ```
 */
export function emptyReport(
  mode: ControllerReport["mode"],
  primary: string,
  dryRun: boolean,
): ControllerReport {
  return {
    mode,
    dryRun,
    primary,
    changed: false,
    previousPrimary: null,
    actions: [],
    verified: false,
    verification: [],
    drift: [],
    errors: [],
    conntrackFlushed: false,
  };
}

/**
 * Reads the controller's state back; on failure adds the error to
 * `report.errors` (after `prefix`) and returns null.
 *
 * @example
 * ```ts
 * const after = await readBackInto(ctl, report, "read-back failed: ");
 * if (after === null) return;
 * ```
 */
export async function readBackInto<R>(
  controller: Controller<R>,
  report: ControllerReport,
  prefix = "",
): Promise<R | null> {
  try {
    return await controller.readBack();
  } catch (err) {
    report.errors.push(`${prefix}${(err as Error).message}`);
    return null;
  }
}

/**
 * The actions as command lines, for a log line.
 *
 * @example
 * ```ts
 * actionLines([{ cmd: "uci", args: ["commit", "mwan3"], why: "persist" }]); // ["uci commit mwan3"]
 * ```
 */
export function actionLines(actions: ControllerAction[]): string[] {
  return actions.map((a) => [a.cmd, ...a.args].join(" "));
}
