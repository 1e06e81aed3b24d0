/**
 * The daemon: the runtime loop that joins collectors → engine → controller →
 * telemetry/ubus, member discovery, the ubus backend and the demo.
 *
 * @module
 */

export {
  type DaemonHandle,
  type DaemonOptions,
  dropPathMetrics,
  linkSource,
  startDaemon,
  storeSink,
  type ToolRunner,
} from "./daemon.ts";
export {
  type Applier,
  type ApplyOutcome,
  type Clock,
  type DaemonEvent,
  orderFor,
  realClock,
  Runtime,
  type RuntimeOptions,
  type Source,
  type SourceHealth,
  type TelemetrySink,
} from "./runtime.ts";
export { VirtualClock } from "./clock.ts";
export {
  AlertTracker,
  type EventSender,
  publishEvent,
  type StarfailUbusEvent,
  ubusEventFor,
  UPDATE_REBOOT_ALERT,
} from "./ubus_events.ts";
export {
  CLASS_WEIGHTS,
  classify,
  type DiscoveredMember,
  type InterfaceFacts,
  isCgnat,
  type MemberOverride,
  resolveMembers,
} from "./discovery.ts";
export { type BackendDeps, DaemonBackend, STATE_NAMES, stateCode } from "./backend.ts";
export {
  type DemoOptions,
  type DemoSummary,
  type DemoSwitch,
  formatSummary,
  runDemo,
  storyTimes,
} from "./demo.ts";
export {
  handleRequest,
  type HealthInput,
  type HealthReport,
  healthReport,
  type HttpEndpoint,
  type HttpEndpointOptions,
  parseListen,
  startHttpEndpoint,
} from "./http_endpoint.ts";
export { nodeId, notificationFor, Outbound, type OutboundDeps } from "./outbound.ts";
