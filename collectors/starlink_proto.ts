/**
 * Our own minimal description of the Starlink dish's local gRPC API: only the
 * messages and fields starfail reads, with field numbers taken from the dish's
 * own descriptor sets (see `docs/starlink.md`), written as a schema table for
 * the wire codec in `protowire.ts` (package `SpaceX.API.Device`, and
 * `SpaceX.API.Status.Status`). Each field line reads like its .proto line.
 *
 * Decoding never breaks on newer firmware: unknown fields are skipped, and an
 * enum value missing from this table decodes as its number.
 *
 * @module
 */

import {
  compileSchema,
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  type ProtoSchema,
  type ProtoSchemaSource,
  WireReader,
} from "./protowire.ts";

/**
 * The subset of `SpaceX.API.Device` that starfail uses: messages (field
 * number → .proto field line) and enums (value → name).
 */
export const STARLINK_SCHEMA_SOURCE: ProtoSchemaSource = {
  messages: {
    Status: {
      1: "int32 code",
      2: "string message",
    },
    Request: {
      1: "uint64 id",
      13: "string target_id",
      14: "uint64 epoch_id",
      1004: "oneof request GetStatusRequest get_status",
      1007: "oneof request GetHistoryRequest get_history",
      1008: "oneof request GetDeviceInfoRequest get_device_info",
      1017: "oneof request GetLocationRequest get_location",
      6000: "oneof request GetDiagnosticsRequest get_diagnostics",
    },
    GetStatusRequest: {},
    GetHistoryRequest: {},
    GetDeviceInfoRequest: {},
    GetDiagnosticsRequest: {},
    GetLocationRequest: {
      1: "PositionSource source",
    },
    Response: {
      1: "uint64 id",
      2: "Status status",
      3: "uint64 api_version",
      1004: "oneof response GetDeviceInfoResponse get_device_info",
      1017: "oneof response GetLocationResponse get_location",
      2004: "oneof response DishGetStatusResponse dish_get_status",
      2006: "oneof response DishGetHistoryResponse dish_get_history",
      6001: "oneof response DishGetDiagnosticsResponse dish_get_diagnostics",
    },
    DeviceInfo: {
      1: "string id",
      2: "string hardware_version",
      3: "string software_version",
      4: "string country_code",
      5: "int32 utc_offset_s",
      6: "bool software_partitions_equal",
      7: "bool is_dev",
      8: "int32 bootcount",
      9: "int32 anti_rollback_version",
      10: "bool is_hitl",
      11: "string manufactured_version",
      12: "int64 generation_number",
      13: "bool dish_cohoused",
      14: "int32 board_rev",
      15: "string build_id",
    },
    DeviceState: {
      1: "uint64 uptime_s",
    },
    GetDeviceInfoResponse: {
      1: "DeviceInfo device_info",
    },
    DishObstructionStats: {
      1: "float fraction_obstructed",
      2: "repeated float wedge_fraction_obstructed",
      3: "repeated float wedge_abs_fraction_obstructed",
      4: "float valid_s",
      5: "bool currently_obstructed",
      6: "float avg_prolonged_obstruction_duration_s",
      7: "float avg_prolonged_obstruction_interval_s",
      8: "bool avg_prolonged_obstruction_valid",
      9: "float time_obstructed",
      10: "uint32 patches_valid",
    },
    DishAlerts: {
      1: "bool motors_stuck",
      2: "bool thermal_shutdown",
      3: "bool thermal_throttle",
      4: "bool unexpected_location",
      5: "bool mast_not_near_vertical",
      6: "bool slow_ethernet_speeds",
      7: "bool roaming",
      8: "bool install_pending",
      9: "bool is_heating",
      10: "bool power_supply_thermal_throttle",
      11: "bool is_power_save_idle",
      12: "bool moving_while_not_mobile",
      14: "bool dbf_telem_stale",
      15: "bool moving_too_fast_for_policy",
      16: "bool low_motor_current",
      17: "bool lower_signal_than_predicted",
      18: "bool slow_ethernet_speeds_100",
      19: "bool obstruction_map_reset",
      20: "bool dish_water_detected",
      21: "bool router_water_detected",
      22: "bool upsu_router_port_slow",
      23: "bool no_ethernet_link",
    },
    DishOutage: {
      1: "DishOutage.Cause cause",
      2: "int64 start_timestamp_ns",
      3: "uint64 duration_ns",
      4: "bool did_switch",
    },
    DishGpsStats: {
      1: "bool gps_valid",
      2: "uint32 gps_sats",
      3: "bool no_sats_after_ttff",
      4: "bool inhibit_gps",
    },
    DishReadyStates: {
      1: "bool cady",
      2: "bool scp",
      3: "bool l1l2",
      4: "bool xphy",
      5: "bool aap",
      6: "bool rf",
    },
    SoftwareUpdateStats: {
      1: "SoftwareUpdateState software_update_state",
      2: "float software_update_progress",
      3: "bool update_requires_reboot",
      4: "int64 reboot_scheduled_utc_time",
    },
    DishConfig: {
      2: "LocationRequestMode location_request_mode",
    },
    DishGetStatusResponse: {
      1: "DeviceInfo device_info",
      2: "DeviceState device_state",
      1002: "float seconds_to_first_nonempty_slot",
      1003: "float pop_ping_drop_rate",
      1004: "DishObstructionStats obstruction_stats",
      1005: "DishAlerts alerts",
      1007: "float downlink_throughput_bps",
      1008: "float uplink_throughput_bps",
      1009: "float pop_ping_latency_ms",
      1010: "bool stow_requested",
      1011: "float boresight_azimuth_deg",
      1012: "float boresight_elevation_deg",
      1014: "DishOutage outage",
      1015: "DishGpsStats gps_stats",
      1016: "int32 eth_speed_mbps",
      1017: "UserMobilityClass mobility_class",
      1018: "bool is_snr_above_noise_floor",
      1019: "DishReadyStates ready_states",
      1020: "UserClassOfService class_of_service",
      1021: "SoftwareUpdateState software_update_state",
      1022: "bool is_snr_persistently_low",
      1024: "UtDisablementCode disablement_code",
      1025: "bool has_signed_cals",
      1026: "SoftwareUpdateStats software_update_stats",
      1029: "bool is_cell_disabled",
      1030: "bool swupdate_reboot_ready",
      1031: "int32 seconds_until_swupdate_reboot_possible",
      1033: "bool high_power_test_mode",
      1040: "repeated string connected_routers",
      1042: "bool is_moving_fast_persisted",
      1046: "float phy_rx_beam_snr_avg",
      1047: "float t_center",
      1052: "bool mac_flag",
      1055: "bool user_debug_mode_enabled",
      1056: "bool treat_as_metered",
      2000: "DishConfig config",
    },
    DishGetHistoryResponse: {
      1: "uint64 current",
      1001: "repeated float pop_ping_drop_rate",
      1002: "repeated float pop_ping_latency_ms",
      1003: "repeated float downlink_throughput_bps",
      1004: "repeated float uplink_throughput_bps",
      1009: "repeated DishOutage outages",
      1010: "repeated float power_in",
    },
    LLAPosition: {
      1: "double lat",
      2: "double lon",
      3: "double alt",
    },
    GetLocationResponse: {
      1: "LLAPosition lla",
      3: "PositionSource source",
      4: "double sigma_m",
      5: "double horizontal_speed_mps",
      6: "double vertical_speed_mps",
    },
    DishGetDiagnosticsResponse: {
      1: "string id",
      2: "string hardware_version",
      3: "string software_version",
      4: "int32 utc_offset_s",
      6: "UtDisablementCode disablement_code",
      8: "DishGetDiagnosticsResponse.Location location",
      9: "DishGetDiagnosticsResponse.AlignmentStats alignment_stats",
      10: "bool stowed",
      11: "repeated DishGetDiagnosticsResponse.TestResultCode hardware_self_test_codes",
      14: "bool overage_rate_limited",
    },
    "DishGetDiagnosticsResponse.Location": {
      1: "bool enabled",
      2: "double latitude",
      3: "double longitude",
      4: "double altitude_meters",
      5: "bool uncertainty_meters_valid",
      6: "double uncertainty_meters",
      7: "double gps_time_s",
    },
    "DishGetDiagnosticsResponse.AlignmentStats": {
      1: "float boresight_azimuth_deg",
      2: "float boresight_elevation_deg",
      3: "float desired_boresight_azimuth_deg",
      4: "float desired_boresight_elevation_deg",
    },
  },
  enums: {
    "DishOutage.Cause": {
      0: "UNKNOWN",
      1: "BOOTING",
      2: "STOWED",
      3: "THERMAL_SHUTDOWN",
      4: "NO_SCHEDULE",
      5: "NO_SATS",
      6: "OBSTRUCTED",
      7: "NO_DOWNLINK",
      8: "NO_PINGS",
      9: "ACTUATOR_ACTIVITY",
      10: "CABLE_TEST",
      11: "SLEEPING",
      12: "MOVING_WHILE_NOT_ALLOWED",
      13: "SKY_SEARCH",
      14: "INHIBIT_RF",
    },
    UserMobilityClass: { 0: "STATIONARY", 1: "NOMADIC", 2: "MOBILE" },
    UserClassOfService: {
      0: "UNKNOWN_USER_CLASS_OF_SERVICE",
      1: "CONSUMER",
      2: "BUSINESS",
      3: "BUSINESS_PLUS",
      4: "COMMERCIAL_AVIATION",
    },
    SoftwareUpdateState: {
      0: "SOFTWARE_UPDATE_STATE_UNKNOWN",
      1: "IDLE",
      2: "FETCHING",
      3: "PRE_CHECK",
      4: "WRITING",
      5: "POST_CHECK",
      6: "REBOOT_REQUIRED",
      7: "DISABLED",
      8: "FAULTED",
    },
    UtDisablementCode: {
      0: "UNKNOWN_STATE",
      1: "OKAY",
      10: "ROAM_RESTRICTED",
      11: "UNKNOWN_LOCATION",
      12: "ACCOUNT_DISABLED",
      13: "UNSUPPORTED_VERSION",
      14: "MOVING_TOO_FAST_FOR_POLICY",
      15: "UNDER_AVIATION_FLYOVER_LIMITS",
      16: "BLOCKED_AREA",
    },
    LocationRequestMode: { 0: "NONE", 1: "LOCAL" },
    PositionSource: {
      0: "AUTO",
      4: "GPS",
      6: "GNC_FUSED",
      7: "GNC_BAD_SAT",
      8: "GNC_GPS",
      9: "GNC_PNT",
      10: "GNC_STATIC",
    },
    "DishGetDiagnosticsResponse.TestResultCode": {
      0: "GENERAL",
      1: "BOOT_UP",
      2: "CPU_VOLTAGE",
      3: "DBF_AAP_CS",
      4: "DBF_NUM_FEMS",
      5: "DBF_READ_ERRORS",
      6: "DBF_T_DIE_0",
      7: "DBF_T_DIE_1",
      8: "DBF_T_DIE_0_VALID",
      9: "DBF_T_DIE_1_VALID",
      10: "ETH_PRIME",
      11: "EIRP",
      12: "FEM_CUT",
      13: "FUSE_AVS",
      14: "GPS",
      15: "IMU",
      16: "PHY",
      17: "SCP_ERROR",
      18: "TEMPERATURE",
      19: "VTSENS",
    },
  },
};

/** {@linkcode STARLINK_SCHEMA_SOURCE}, compiled for the codec. */
export const STARLINK_SCHEMA: ProtoSchema = compileSchema(STARLINK_SCHEMA_SOURCE);

/** A decoded dish message: snake_case field names, 64-bit integers as bigint, enums as numbers. */
export type DishMessage = DecodedMessage;

/** The value → name table of enum `name` of the schema (e.g. `DishOutage.Cause`). */
export function enumNames(name: string): Readonly<Record<number, string>> {
  const table = STARLINK_SCHEMA.enums.get(name);
  if (table === undefined) throw new Error(`no enum '${name}' in the Starlink schema`);
  return table;
}

/** The requests starfail sends, by their `Request` oneof field name. */
export type DishRequestKind =
  | "get_status"
  | "get_history"
  | "get_device_info"
  | "get_location"
  | "get_diagnostics";

/** Every request kind, in CLI order. */
export const DISH_REQUEST_KINDS: readonly DishRequestKind[] = [
  "get_status",
  "get_history",
  "get_device_info",
  "get_location",
  "get_diagnostics",
];

/** The `Response` oneof field that answers each request kind. */
export const RESPONSE_FIELD: Readonly<Record<DishRequestKind, string>> = {
  get_status: "dish_get_status",
  get_history: "dish_get_history",
  get_device_info: "get_device_info",
  get_location: "get_location",
  get_diagnostics: "dish_get_diagnostics",
};

/** The gRPC method path of the dish's unary call. */
export const HANDLE_PATH = "/SpaceX.API.Device.Device/Handle";

/** Value of `GetLocationRequest.source` asking for the GPS position. */
export const POSITION_SOURCE_GPS = 4;

/**
 * Encodes the request bytes for one request kind.
 *
 * @example
 * ```ts
 * encodeRequest("get_status"); // Uint8Array [0xa2, 0x3e, 0x00]
 * ```
 */
export function encodeRequest(kind: DishRequestKind): Uint8Array<ArrayBuffer> {
  const body: DishMessage = {};
  body[kind] = kind === "get_location" ? { source: POSITION_SOURCE_GPS } : {};
  return encodeMessage(STARLINK_SCHEMA, "Request", body);
}

/** Decodes `Request` bytes (used by the dish simulator). */
export function decodeRequest(bytes: Uint8Array): DishMessage {
  return decodeMessage(STARLINK_SCHEMA, "Request", bytes);
}

/** Which request kind a decoded `Request` carries, or undefined for one we do not model. */
export function requestKindOf(request: DishMessage): DishRequestKind | undefined {
  for (const kind of DISH_REQUEST_KINDS) {
    if (request[kind] != null) return kind;
  }
  return undefined;
}

/** Decodes `Response` bytes; throws on malformed protobuf, never on unknown fields or enum values. */
export function decodeResponse(bytes: Uint8Array): DishMessage {
  return decodeMessage(STARLINK_SCHEMA, "Response", bytes);
}

/**
 * Encodes a `Response` from a plain object with snake_case field names (used by
 * the simulator). Enum fields take names or numbers, 64-bit fields strings,
 * numbers or bigints.
 */
export function encodeResponse(value: DishMessage): Uint8Array<ArrayBuffer> {
  return encodeMessage(STARLINK_SCHEMA, "Response", value);
}

/** Field numbers of `DishAlerts` this build knows. */
const KNOWN_ALERT_FIELDS: ReadonlySet<number> = new Set(
  Object.keys(STARLINK_SCHEMA_SOURCE.messages.DishAlerts).map(Number),
);

/**
 * Field numbers of `DishAlerts` flags that are set in an encoded `Response`
 * but unknown to this build (alerts added by newer firmware). The decoder
 * skips unknown fields, so this walks the wire format directly.
 */
export function unknownAlertFields(responseBytes: Uint8Array): number[] {
  const found: number[] = [];
  const inside = (r: WireReader, no: number, fn: (sub: WireReader) => void) => {
    while (!r.done) {
      const tag = r.uint32();
      if (tag >>> 3 === no && (tag & 7) === 2) {
        const n = r.length();
        fn(new WireReader(r.bytes, r.pos, r.pos + n));
        r.pos += n;
      } else {
        r.skip(tag & 7, tag >>> 3);
      }
    }
  };
  try {
    inside(new WireReader(responseBytes), 2004, (status) =>
      inside(status, 1005, (alerts) => {
        while (!alerts.done) {
          const tag = alerts.uint32();
          const field = tag >>> 3;
          if ((tag & 7) === 0) {
            const [lo, hi] = alerts.varint64();
            if (
              (lo !== 0 || hi !== 0) && !KNOWN_ALERT_FIELDS.has(field) && !found.includes(field)
            ) {
              found.push(field);
            }
          } else {
            alerts.skip(tag & 7, field);
          }
        }
      }));
  } catch {
    // Malformed bytes were already rejected by the decoder; report what was found.
  }
  return found.sort((a, b) => a - b);
}
