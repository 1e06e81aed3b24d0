/**
 * The one seam to the router: a {@linkcode Router} is ubus calls and
 * events, uci with apply-and-confirm, and router tools run from argument
 * arrays. `LocalRouter` runs on the router itself; `RemoteRouter` drives a
 * router from a companion host over uhttpd's `/ubus` JSON-RPC with an rpcd
 * session. Collectors and controllers take a `Router` and never know which.
 *
 * @example
 * ```ts
 * import { openRemoteRouter } from "./router/mod.ts";
 * const router = await openRemoteRouter(config.remote, console.warn);
 * await router.session.login(); // RemoteAuthError on a wrong password
 * const wan = await router.call("network.interface.wan", "status", {});
 * ```
 *
 * @module
 */

export type { ApplyOptions, Router, RouterUci, ToolOptions, ToolResult, UciStep } from "./types.ts";
export { LocalRouter, LocalUci } from "./local.ts";
export type { LocalRouterOptions, LocalUciOptions, ToolRunner } from "./local.ts";
export {
  DEFAULT_EVENT_POLL_MS,
  REMOTE_TOOLS,
  RemoteRouter,
  RemoteUci,
  uciValuesToPackage,
} from "./remote.ts";
export type { RemoteRouterOptions } from "./remote.ts";
export { ANONYMOUS_SID, RemoteAuthError, RPC_ERROR, RpcSession } from "./rpc_session.ts";
export type { RpcSessionOptions, SessionAcls } from "./rpc_session.ts";
export {
  checkRemotePermission,
  openRemoteRouter,
  readPasswordFile,
  remoteNetHosts,
  RemotePermissionError,
} from "./from_config.ts";
export type { PasswordRead } from "./from_config.ts";
export { aclGrants, checkRouter, formatCheck } from "./check.ts";
export type { CheckItem } from "./check.ts";
export { optionValue, parseShownValue, parseUciShow } from "./uci_show.ts";
export type { ShownPackage, ShownSection } from "./uci_show.ts";
