/**
 * Controllers make the router prefer the member the engine chose: through
 * mwan3 (`uci` + `mwan3`) or, without mwan3, through `ip route` metrics.
 * Both reconcile (smallest change), read back, verify and report drift.
 *
 * @example
 * ```ts
 * import { Mwan3Controller } from "./controllers/mod.ts";
 * const ctl = new Mwan3Controller({ dryRun: true });
 * const report = await ctl.reconcile({ primary: "wwan", order: ["wwan", "wan"] });
 * console.log(report.actions, report.verified, report.drift);
 * ```
 *
 * @module
 */

export type {
  Controller,
  ControllerAction,
  ControllerReport,
  DesiredState,
  Drift,
  Runner,
} from "./types.ts";
export {
  findDefaultRule,
  MWAN3_MAX_METRIC,
  Mwan3Controller,
  planMetrics,
  policyMembers,
  resolveMember,
  strictPrimary,
} from "./mwan3.ts";
export type {
  MetricChange,
  Mwan3ControllerOptions,
  Mwan3ReadBack,
  Mwan3Reload,
  PolicyMember,
} from "./mwan3.ts";
export { CONNTRACK_FILE, flushConntrack } from "./conntrack.ts";
export type { FlushOptions, FlushResult } from "./conntrack.ts";
export { parseDefaultRoutes, RouteController } from "./route.ts";
export type { DefaultRoute, RouteControllerOptions, RouteMember, RouteReadBack } from "./route.ts";
export { parseMwan3StatusText, parseMwan3UbusStatus } from "./mwan3_status.ts";
export type { Mwan3InterfaceStatus, Mwan3PolicyShare, Mwan3Status } from "./mwan3_status.ts";
export { optionValue, parseShownValue, parseUciShow } from "./uci_show.ts";
export type { ShownPackage, ShownSection } from "./uci_show.ts";
