/**
 * Our own minimal description of the Starlink dish's local gRPC API: only the
 * messages and fields starfail reads, with field numbers taken from the dish's
 * own descriptor sets (see `docs/starlink.md`). The .proto source is embedded as
 * a string so `deno compile` needs no extra file; protobufjs parses it once.
 *
 * Decoding never breaks on newer firmware: protobufjs skips unknown fields, and
 * an enum value missing from this file decodes as its number.
 *
 * @module
 */

import protobuf from "protobufjs";

/** The .proto source (proto3) of the subset of `SpaceX.API.Device` that starfail uses. */
export const STARLINK_PROTO = `
syntax = "proto3";

package SpaceX.API.Status;

message Status {
  int32 code = 1;
  string message = 2;
}
`;

/** The `SpaceX.API.Device` part, parsed into the same root as {@link STARLINK_PROTO}. */
export const STARLINK_DEVICE_PROTO = `
syntax = "proto3";

package SpaceX.API.Device;

service Device {
  rpc Handle (Request) returns (Response);
}

message Request {
  uint64 id = 1;
  string target_id = 13;
  uint64 epoch_id = 14;
  oneof request {
    GetStatusRequest get_status = 1004;
    GetHistoryRequest get_history = 1007;
    GetDeviceInfoRequest get_device_info = 1008;
    GetLocationRequest get_location = 1017;
    GetDiagnosticsRequest get_diagnostics = 6000;
  }
}

message GetStatusRequest {}
message GetHistoryRequest {}
message GetDeviceInfoRequest {}
message GetDiagnosticsRequest {}
message GetLocationRequest {
  PositionSource source = 1;
}

message Response {
  uint64 id = 1;
  SpaceX.API.Status.Status status = 2;
  uint64 api_version = 3;
  oneof response {
    GetDeviceInfoResponse get_device_info = 1004;
    GetLocationResponse get_location = 1017;
    DishGetStatusResponse dish_get_status = 2004;
    DishGetHistoryResponse dish_get_history = 2006;
    DishGetDiagnosticsResponse dish_get_diagnostics = 6001;
  }
}

message DeviceInfo {
  string id = 1;
  string hardware_version = 2;
  string software_version = 3;
  string country_code = 4;
  int32 utc_offset_s = 5;
  bool software_partitions_equal = 6;
  bool is_dev = 7;
  int32 bootcount = 8;
  int32 anti_rollback_version = 9;
  bool is_hitl = 10;
  string manufactured_version = 11;
  int64 generation_number = 12;
  bool dish_cohoused = 13;
  int32 board_rev = 14;
  string build_id = 15;
}

message DeviceState {
  uint64 uptime_s = 1;
}

message GetDeviceInfoResponse {
  DeviceInfo device_info = 1;
}

message DishObstructionStats {
  float fraction_obstructed = 1;
  repeated float wedge_fraction_obstructed = 2;
  repeated float wedge_abs_fraction_obstructed = 3;
  float valid_s = 4;
  bool currently_obstructed = 5;
  float avg_prolonged_obstruction_duration_s = 6;
  float avg_prolonged_obstruction_interval_s = 7;
  bool avg_prolonged_obstruction_valid = 8;
  float time_obstructed = 9;
  uint32 patches_valid = 10;
}

message DishAlerts {
  bool motors_stuck = 1;
  bool thermal_shutdown = 2;
  bool thermal_throttle = 3;
  bool unexpected_location = 4;
  bool mast_not_near_vertical = 5;
  bool slow_ethernet_speeds = 6;
  bool roaming = 7;
  bool install_pending = 8;
  bool is_heating = 9;
  bool power_supply_thermal_throttle = 10;
  bool is_power_save_idle = 11;
  bool moving_while_not_mobile = 12;
  bool dbf_telem_stale = 14;
  bool moving_too_fast_for_policy = 15;
  bool low_motor_current = 16;
  bool lower_signal_than_predicted = 17;
  bool slow_ethernet_speeds_100 = 18;
  bool obstruction_map_reset = 19;
  bool dish_water_detected = 20;
  bool router_water_detected = 21;
  bool upsu_router_port_slow = 22;
  bool no_ethernet_link = 23;
}

message DishOutage {
  enum Cause {
    UNKNOWN = 0;
    BOOTING = 1;
    STOWED = 2;
    THERMAL_SHUTDOWN = 3;
    NO_SCHEDULE = 4;
    NO_SATS = 5;
    OBSTRUCTED = 6;
    NO_DOWNLINK = 7;
    NO_PINGS = 8;
    ACTUATOR_ACTIVITY = 9;
    CABLE_TEST = 10;
    SLEEPING = 11;
    MOVING_WHILE_NOT_ALLOWED = 12;
    SKY_SEARCH = 13;
    INHIBIT_RF = 14;
  }
  Cause cause = 1;
  int64 start_timestamp_ns = 2;
  uint64 duration_ns = 3;
  bool did_switch = 4;
}

message DishGpsStats {
  bool gps_valid = 1;
  uint32 gps_sats = 2;
  bool no_sats_after_ttff = 3;
  bool inhibit_gps = 4;
}

message DishReadyStates {
  bool cady = 1;
  bool scp = 2;
  bool l1l2 = 3;
  bool xphy = 4;
  bool aap = 5;
  bool rf = 6;
}

enum UserMobilityClass {
  STATIONARY = 0;
  NOMADIC = 1;
  MOBILE = 2;
}

enum UserClassOfService {
  UNKNOWN_USER_CLASS_OF_SERVICE = 0;
  CONSUMER = 1;
  BUSINESS = 2;
  BUSINESS_PLUS = 3;
  COMMERCIAL_AVIATION = 4;
}

enum SoftwareUpdateState {
  SOFTWARE_UPDATE_STATE_UNKNOWN = 0;
  IDLE = 1;
  FETCHING = 2;
  PRE_CHECK = 3;
  WRITING = 4;
  POST_CHECK = 5;
  REBOOT_REQUIRED = 6;
  DISABLED = 7;
  FAULTED = 8;
}

enum UtDisablementCode {
  UNKNOWN_STATE = 0;
  OKAY = 1;
  ROAM_RESTRICTED = 10;
  UNKNOWN_LOCATION = 11;
  ACCOUNT_DISABLED = 12;
  UNSUPPORTED_VERSION = 13;
  MOVING_TOO_FAST_FOR_POLICY = 14;
  UNDER_AVIATION_FLYOVER_LIMITS = 15;
  BLOCKED_AREA = 16;
}

message SoftwareUpdateStats {
  SoftwareUpdateState software_update_state = 1;
  float software_update_progress = 2;
  bool update_requires_reboot = 3;
  int64 reboot_scheduled_utc_time = 4;
}

enum LocationRequestMode {
  NONE = 0;
  LOCAL = 1;
}

message DishConfig {
  LocationRequestMode location_request_mode = 2;
}

message DishGetStatusResponse {
  DeviceInfo device_info = 1;
  DeviceState device_state = 2;
  float seconds_to_first_nonempty_slot = 1002;
  float pop_ping_drop_rate = 1003;
  DishObstructionStats obstruction_stats = 1004;
  DishAlerts alerts = 1005;
  float downlink_throughput_bps = 1007;
  float uplink_throughput_bps = 1008;
  float pop_ping_latency_ms = 1009;
  bool stow_requested = 1010;
  float boresight_azimuth_deg = 1011;
  float boresight_elevation_deg = 1012;
  DishOutage outage = 1014;
  DishGpsStats gps_stats = 1015;
  int32 eth_speed_mbps = 1016;
  UserMobilityClass mobility_class = 1017;
  bool is_snr_above_noise_floor = 1018;
  DishReadyStates ready_states = 1019;
  UserClassOfService class_of_service = 1020;
  SoftwareUpdateState software_update_state = 1021;
  bool is_snr_persistently_low = 1022;
  UtDisablementCode disablement_code = 1024;
  bool has_signed_cals = 1025;
  SoftwareUpdateStats software_update_stats = 1026;
  bool is_cell_disabled = 1029;
  bool swupdate_reboot_ready = 1030;
  int32 seconds_until_swupdate_reboot_possible = 1031;
  bool high_power_test_mode = 1033;
  repeated string connected_routers = 1040;
  bool is_moving_fast_persisted = 1042;
  float phy_rx_beam_snr_avg = 1046;
  float t_center = 1047;
  bool mac_flag = 1052;
  bool user_debug_mode_enabled = 1055;
  bool treat_as_metered = 1056;
  DishConfig config = 2000;
}

message DishGetHistoryResponse {
  uint64 current = 1;
  repeated float pop_ping_drop_rate = 1001;
  repeated float pop_ping_latency_ms = 1002;
  repeated float downlink_throughput_bps = 1003;
  repeated float uplink_throughput_bps = 1004;
  repeated DishOutage outages = 1009;
  repeated float power_in = 1010;
}

enum PositionSource {
  AUTO = 0;
  GPS = 4;
  GNC_FUSED = 6;
  GNC_BAD_SAT = 7;
  GNC_GPS = 8;
  GNC_PNT = 9;
  GNC_STATIC = 10;
}

message LLAPosition {
  double lat = 1;
  double lon = 2;
  double alt = 3;
}

message GetLocationResponse {
  LLAPosition lla = 1;
  PositionSource source = 3;
  double sigma_m = 4;
  double horizontal_speed_mps = 5;
  double vertical_speed_mps = 6;
}

message DishGetDiagnosticsResponse {
  enum TestResultCode {
    GENERAL = 0;
    BOOT_UP = 1;
    CPU_VOLTAGE = 2;
    DBF_AAP_CS = 3;
    DBF_NUM_FEMS = 4;
    DBF_READ_ERRORS = 5;
    DBF_T_DIE_0 = 6;
    DBF_T_DIE_1 = 7;
    DBF_T_DIE_0_VALID = 8;
    DBF_T_DIE_1_VALID = 9;
    ETH_PRIME = 10;
    EIRP = 11;
    FEM_CUT = 12;
    FUSE_AVS = 13;
    GPS = 14;
    IMU = 15;
    PHY = 16;
    SCP_ERROR = 17;
    TEMPERATURE = 18;
    VTSENS = 19;
  }
  message Location {
    bool enabled = 1;
    double latitude = 2;
    double longitude = 3;
    double altitude_meters = 4;
    bool uncertainty_meters_valid = 5;
    double uncertainty_meters = 6;
    double gps_time_s = 7;
  }
  message AlignmentStats {
    float boresight_azimuth_deg = 1;
    float boresight_elevation_deg = 2;
    float desired_boresight_azimuth_deg = 3;
    float desired_boresight_elevation_deg = 4;
  }
  string id = 1;
  string hardware_version = 2;
  string software_version = 3;
  int32 utc_offset_s = 4;
  UtDisablementCode disablement_code = 6;
  Location location = 8;
  AlignmentStats alignment_stats = 9;
  bool stowed = 10;
  repeated TestResultCode hardware_self_test_codes = 11;
  bool overage_rate_limited = 14;
}
`;

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

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  protobuf.parse(STARLINK_PROTO, root, { keepCase: true });
  protobuf.parse(STARLINK_DEVICE_PROTO, root, { keepCase: true });
  root.resolveAll();
  return root;
}

/** The parsed protobufjs root holding every type above (field names kept snake_case). */
export const starlinkRoot: protobuf.Root = buildRoot();

/** `SpaceX.API.Device.Request`. */
export const RequestType: protobuf.Type = starlinkRoot.lookupType("SpaceX.API.Device.Request");
/** `SpaceX.API.Device.Response`. */
export const ResponseType: protobuf.Type = starlinkRoot.lookupType("SpaceX.API.Device.Response");

/**
 * Encodes the request bytes for one request kind.
 *
 * @example
 * ```ts
 * encodeRequest("get_status"); // Uint8Array [0xe2, 0x3e, 0x00]
 * ```
 */
export function encodeRequest(kind: DishRequestKind): Uint8Array {
  const body: Record<string, unknown> = {};
  body[kind] = kind === "get_location" ? { source: POSITION_SOURCE_GPS } : {};
  return RequestType.encode(RequestType.create(body)).finish();
}

/** Decodes `Request` bytes (used by the dish simulator). */
export function decodeRequest(bytes: Uint8Array): protobuf.Message {
  return RequestType.decode(bytes);
}

/** Which request kind a decoded `Request` carries, or undefined for one we do not model. */
export function requestKindOf(request: protobuf.Message): DishRequestKind | undefined {
  const fields = request as unknown as Record<string, unknown>;
  for (const kind of DISH_REQUEST_KINDS) {
    if (fields[kind] != null) return kind;
  }
  return undefined;
}

/** Decodes `Response` bytes; throws on malformed protobuf, never on unknown fields or enum values. */
export function decodeResponse(bytes: Uint8Array): protobuf.Message {
  return ResponseType.decode(bytes);
}

/**
 * Encodes a `Response` from a plain object with snake_case field names (used by
 * the simulator). Enum fields take names or numbers, 64-bit fields strings.
 */
export function encodeResponse(value: Record<string, unknown>): Uint8Array {
  return ResponseType.encode(ResponseType.fromObject(value)).finish();
}

/** Field numbers of `DishAlerts` this build knows. */
const KNOWN_ALERT_FIELDS: ReadonlySet<number> = new Set(
  starlinkRoot.lookupType("SpaceX.API.Device.DishAlerts").fieldsArray.map((f) => f.id),
);

/**
 * Field numbers of `DishAlerts` flags that are set in an encoded `Response`
 * but unknown to this build (alerts added by newer firmware). protobufjs drops
 * unknown fields while decoding, so this walks the wire format directly.
 */
export function unknownAlertFields(responseBytes: Uint8Array): number[] {
  const found: number[] = [];
  try {
    const reader = protobuf.Reader.create(responseBytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 2004 && (tag & 7) === 2) {
        const statusEnd = reader.uint32() + reader.pos;
        while (reader.pos < statusEnd) {
          const statusTag = reader.uint32();
          if (statusTag >>> 3 === 1005 && (statusTag & 7) === 2) {
            const alertsEnd = reader.uint32() + reader.pos;
            while (reader.pos < alertsEnd) {
              const alertTag = reader.uint32();
              const field = alertTag >>> 3;
              if ((alertTag & 7) === 0) {
                const set = reader.uint32() !== 0;
                if (set && !KNOWN_ALERT_FIELDS.has(field) && !found.includes(field)) {
                  found.push(field);
                }
              } else {
                reader.skipType(alertTag & 7);
              }
            }
          } else {
            reader.skipType(statusTag & 7);
          }
        }
      } else {
        reader.skipType(tag & 7);
      }
    }
  } catch {
    // Malformed bytes were already rejected by the decoder; report what was found.
  }
  return found.sort((a, b) => a - b);
}
