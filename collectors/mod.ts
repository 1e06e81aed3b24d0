/**
 * Collectors turn the outside world into engine `Observation`s.
 *
 * @module
 */

export { runCommand } from "./exec.ts";
export type { ExecResult, RunOptions } from "./exec.ts";
export {
  buildDnsQuery,
  dnsProbe,
  isProbeDue,
  isValidInterfaceName,
  isValidTarget,
  meanAbsDiff,
  MemberProber,
  parseDnsReply,
  parsePingOutput,
  pingTarget,
  probeRound,
  roundsToObservations,
  roundToObservation,
  summarizeRound,
  tcpConnectProbe,
} from "./probe.ts";
export type {
  DnsProbeOptions,
  DnsReply,
  PingCommand,
  PingFlavor,
  PingOptions,
  PingParse,
  ProbeMemberSpec,
  ProbeMethod,
  ProbeRound,
  ProbeRoundOptions,
  ProbeSchedule,
  Runner,
  TargetResult,
  TcpProbeOptions,
} from "./probe.ts";

// ubus-backed collectors: netifd, iwinfo, cellular, mwan3 (ubus part).
export {
  fetchInterfaceStatus,
  interfaceObservation,
  NetifdCollector,
  parseInterfaceEvent,
  parseInterfaceStatus,
} from "./netifd.ts";
export type {
  FetchOptions,
  InterfaceEvent,
  InterfaceRoute,
  InterfaceStatus,
  NetifdCollectorOptions,
  NetifdMember,
} from "./netifd.ts";
export { fetchIwinfo, parseIwinfoInfo, parseIwinfoText, wifiObservation } from "./iwinfo.ts";
export type { IwinfoOptions, WifiInfo } from "./iwinfo.ts";
export {
  cellularObservation,
  detectCellular,
  GsmctlSource,
  ModemManagerSource,
  parseGsmctlSignal,
  parseGsmctlValue,
  parseGsmInfo,
  parseGsmSignalQuery,
  parseMmcliList,
  parseMmcliModem,
  parseMmcliSignal,
  parseUqmiServing,
  parseUqmiSignal,
  rutosRoaming,
  RutosUbusSource,
  UqmiSource,
} from "./cellular.ts";
export type {
  CellularBackendName,
  CellularOptions,
  CellularReading,
  CellularSource,
  RunFn,
} from "./cellular.ts";
export { fetchMwan3Runtime, mwan3Usable, parseMwan3Runtime, policyShares } from "./mwan3_status.ts";
export type { Mwan3Interface, Mwan3Runtime, Mwan3Share, Mwan3TrackIp } from "./mwan3_status.ts";

// Starlink dish: gRPC/gRPC-Web client, collector, grpcurl-style JSON.
export {
  detectDrift,
  enumName,
  gpsNsToUnixMs,
  mapStatus,
  OUTAGE_CAUSES,
  StarlinkCollector,
  takeHistory,
  TESTED_API_VERSION,
} from "./starlink.ts";
export type {
  DishEvent,
  DishHistoryState,
  DishOutageRecord,
  DishPollResult,
  DishSnapshot,
  HistoryCursor,
  HistoryTake,
  StarlinkCollectorOptions,
  StarlinkHealth,
} from "./starlink.ts";
export { DishCallError, StarlinkClient } from "./starlink_client.ts";
export type { DishAnswer, DishTransport, StarlinkClientOptions } from "./starlink_client.ts";
export { responseToJson } from "./starlink_json.ts";
export type { JsonValue } from "./starlink_json.ts";
export { DISH_REQUEST_KINDS, STARLINK_SCHEMA_SOURCE } from "./starlink_proto.ts";
export type { DishMessage } from "./starlink_proto.ts";
export { compileSchema, decodeMessage, encodeMessage } from "./protowire.ts";
export type { ProtoSchema, ProtoSchemaSource } from "./protowire.ts";
export type { DishRequestKind } from "./starlink_proto.ts";
