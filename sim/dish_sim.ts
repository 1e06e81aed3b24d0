/**
 * A Starlink dish simulator: a gRPC server implementing
 * `SpaceX.API.Device.Device/Handle` from the same .proto the collector uses,
 * plus the gRPC-Web (HTTP/1.1) endpoint of port 9201. A scenario (a pure
 * function of the simulated second) drives what it answers, so tests, the demo
 * and the benchmark exercise the production client byte for byte.
 *
 * Standalone:
 * `deno run -A sim/dish_sim.ts --listen 192.168.100.1:9200 --scenario obstructed`
 * prints one JSON line `{"grpc":"HOST:PORT","grpcWeb":"HOST:PORT"}` when ready
 * and serves until SIGINT/SIGTERM. With `--scenario-file PATH` it re-reads
 * PATH every second and switches to the scenario named there (end-to-end
 * tests change the dish's behaviour this way without restarting it).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import {
  decodeRequest,
  type DishRequestKind,
  encodeResponse,
  HANDLE_PATH,
  requestKindOf,
} from "../collectors/starlink_proto.ts";
import { frameMessage, parseGrpcWebBody } from "../collectors/starlink_client.ts";

/** What the simulated dish reports during one second. Every field is optional. */
export interface DishState {
  /** PoP ping latency in ms (default 30; -1 while booting). */
  latency_ms?: number;
  /** PoP ping drop rate 0..1 (default 0). */
  drop_rate?: number;
  /** Fraction of the sky obstructed 0..1 (default 0.001). */
  fraction_obstructed?: number;
  /** The dish is obstructed right now. */
  currently_obstructed?: boolean;
  /** Outage cause enum name or number; absent = link up. */
  outage_cause?: string | number;
  /** Active alert names (snake_case DishAlerts field names). */
  alerts?: string[];
  /** Seconds to the next scheduled slot (-1 unknown). */
  seconds_to_first_nonempty_slot?: number;
  /** A downloaded update waits for a reboot. */
  swupdate_reboot_ready?: boolean;
  /** SoftwareUpdateState enum name (default IDLE). */
  software_update_state?: string;
  /** GPS fix valid (default true). */
  gps_valid?: boolean;
  /** Boot counter: a change reboots the dish (history restarts at 0). */
  boot?: number;
  /** Firmware version string. */
  software_version?: string;
  /** `Response.api_version` (default 37). */
  api_version?: number;
  /** Requests that hang (never answered): every Nth request (1 = all). */
  hang_every?: number;
  /** Append fields unknown to our .proto (new firmware). */
  unknown_fields?: boolean;
  /** Owner allowed local location access (default false → PERMISSION_DENIED). */
  location_allowed?: boolean;
  /** DishGetStatusResponse fields to leave out (API drift). */
  omit?: string[];
}

/** A scenario: the dish's state at each simulated second. */
export type Scenario = (second: number) => DishState;

/** One step of a scripted scenario: from second `at` on, the dish is in `state`. */
export interface ScriptStep {
  /** First second of the step. */
  at: number;
  /** State during the step. */
  state: DishState;
}

/** Builds a scenario from a script of steps (sorted by `at`). */
export function scriptScenario(steps: ScriptStep[]): Scenario {
  const sorted = [...steps].sort((a, b) => a.at - b.at);
  return function scripted(second: number): DishState {
    let state: DishState = {};
    for (const step of sorted) {
      if (step.at <= second) state = step.state;
    }
    return state;
  };
}

const OUTAGE_CAUSES = [
  "BOOTING",
  "STOWED",
  "THERMAL_SHUTDOWN",
  "NO_SCHEDULE",
  "NO_SATS",
  "OBSTRUCTED",
  "NO_DOWNLINK",
  "NO_PINGS",
  "ACTUATOR_ACTIVITY",
  "CABLE_TEST",
  "SLEEPING",
  "SKY_SEARCH",
  "INHIBIT_RF",
];

function healthy(): DishState {
  return {};
}

function outageEvery(cause: string): Scenario {
  return function outage(second: number): DishState {
    const inOutage = second % 60 >= 40 && second % 60 < 50;
    return inOutage ? { outage_cause: cause, drop_rate: 1 } : {};
  };
}

/** Named scenarios for `--scenario`, the demo and the tests. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  healthy,
  /** Obstruction bursts: every 60 s, 8 s obstructed with total loss. */
  obstructed(second: number): DishState {
    const burst = second % 60 >= 30 && second % 60 < 38;
    return burst
      ? {
        fraction_obstructed: 0.08,
        currently_obstructed: true,
        outage_cause: "OBSTRUCTED",
        drop_rate: 1,
      }
      : { fraction_obstructed: 0.08, drop_rate: second % 60 === 29 ? 0.2 : 0 };
  },
  /** Booting: −1 latency and slot, total loss, outage BOOTING. */
  booting(): DishState {
    return {
      outage_cause: "BOOTING",
      latency_ms: -1,
      drop_rate: 1,
      seconds_to_first_nonempty_slot: -1,
      gps_valid: false,
    };
  },
  /** Reboots every 300 s; the first 20 s of each boot are BOOTING. */
  rebooting(second: number): DishState {
    const boot = Math.floor(second / 300);
    if (second % 300 < 20) {
      return { boot, outage_cause: "BOOTING", latency_ms: -1, drop_rate: 1, gps_valid: false };
    }
    return { boot };
  },
  thermal_throttle(): DishState {
    return { alerts: ["thermal_throttle", "is_heating"], latency_ms: 45 };
  },
  update_reboot(): DishState {
    return { swupdate_reboot_ready: true, software_update_state: "REBOOT_REQUIRED" };
  },
  /** One request in 20 never gets an answer (seen on real dishes ~5 % of the time). */
  hung(): DishState {
    return { hang_every: 20 };
  },
  /** Newer firmware: extra fields and enum values this build does not know. */
  unknown_fields(second: number): DishState {
    return {
      unknown_fields: true,
      api_version: 99,
      software_version: "2027.01.01.mr99999",
      outage_cause: second % 30 < 5 ? 15 : undefined,
      drop_rate: second % 30 < 5 ? 1 : 0,
    };
  },
  schedule_gap(): DishState {
    return { seconds_to_first_nonempty_slot: 12.5 };
  },
  /** A steady outage from the first second on: OBSTRUCTED, obstructed now, total loss. */
  outage_now(): DishState {
    return {
      outage_cause: "OBSTRUCTED",
      currently_obstructed: true,
      fraction_obstructed: 0.08,
      drop_rate: 1,
    };
  },
  ...Object.fromEntries(
    OUTAGE_CAUSES.map((cause) => [`outage_${cause.toLowerCase()}`, outageEvery(cause)]),
  ),
};

/** Options of {@link startDishSim}. */
export interface DishSimOptions {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** gRPC port (default 0 = any free port). */
  port?: number;
  /** Unix socket path for gRPC instead of a TCP port. */
  path?: string;
  /** gRPC-Web port (default 0 = any free port; -1 = no gRPC-Web endpoint). */
  grpcWebPort?: number;
  /** Named scenario or a scenario function (default healthy). */
  scenario?: string | Scenario;
  /** Do not serve raw gRPC: `port` is a closed port that refuses connections. */
  refuseGrpc?: boolean;
  /**
   * Simulated clock in seconds. Default: real seconds since start. Tests pass a
   * manual clock; the benchmark uses `advancePerStatus`.
   */
  clock?: () => number;
  /** Advance the simulated clock by this many seconds on each get_status (replaces `clock`). */
  advancePerStatus?: number;
  /** With `advancePerStatus`: the simulated second to start at (default 0). */
  startAt?: number;
  /** Unix time (s) at simulated second 0 (for GPS timestamps; default: now minus the clock). */
  epochUnixS?: number;
  /** Ring length of the history (default 900). */
  historyLength?: number;
}

/** A running simulator. */
export interface DishSim {
  /** Bound gRPC port (a refusing port with `refuseGrpc`; 0 with `path`). */
  port: number;
  /** Bound gRPC-Web port (0 when disabled). */
  grpcWebPort: number;
  /** Hostname the ports are bound to. */
  hostname: string;
  /** Replaces the scenario from the current second on (earlier history stays). */
  setScenario(scenario: string | Scenario): void;
  /** Requests handled so far by kind (including hung ones). */
  readonly requests: Record<string, number>;
  /** The simulated second now. */
  now(): number;
  /** Samples written since the current boot (`DishGetHistoryResponse.current`). */
  current(): number;
  /** History values of absolute second `s` (as written in the ring). */
  sampleAt(second: number): { drop: number; latency: number };
  /** Stops both servers; hung requests are dropped. */
  close(): Promise<void>;
}

const GPS_EPOCH_UNIX_S = 315964800;
const GPS_LEAP_S = 18;

function resolveScenario(scenario: string | Scenario | undefined): Scenario {
  if (scenario == null) return healthy;
  if (typeof scenario === "function") return scenario;
  const found = SCENARIOS[scenario];
  if (found == null) {
    throw new Error(
      `Unknown dish scenario "${scenario}"; expected one of ${Object.keys(SCENARIOS).join(", ")}`,
    );
  }
  return found;
}

/** Base latency of second `s` in a state: the state's value plus a small deterministic wiggle. */
function latencyOf(state: DishState, second: number): number {
  const base = state.latency_ms ?? 30;
  return base < 0 ? base : base + (second % 7) * 0.5;
}

interface Outage {
  cause: string | number;
  startS: number;
  endS: number;
}

/** Encodes a protobuf varint. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Bytes of fields no build of starfail knows: a varint, a string, and an extra alert bit. */
const UNKNOWN_STATUS_FIELDS = new Uint8Array([
  ...varint((1999 << 3) | 0),
  ...varint(7),
  ...varint((1060 << 3) | 2),
  3,
  0x6e,
  0x65,
  0x77,
  // A second DishAlerts (1005) occurrence carrying unknown alert field 30 = true; protobuf merges it.
  ...varint((1005 << 3) | 2),
  3,
  ...varint((30 << 3) | 0),
  1,
]);

function gpsNs(unixS: number): string {
  const ms = BigInt(Math.round((unixS - GPS_EPOCH_UNIX_S + GPS_LEAP_S) * 1000));
  return (ms * 1_000_000n).toString();
}

/**
 * Starts a simulated dish.
 *
 * @example
 * ```ts
 * const sim = await startDishSim({ scenario: "obstructed" });
 * // point a StarlinkClient at 127.0.0.1:sim.port …
 * await sim.close();
 * ```
 */
export async function startDishSim(options: DishSimOptions = {}): Promise<DishSim> {
  const hostname = options.hostname ?? "127.0.0.1";
  const historyLength = options.historyLength ?? 900;
  let scenario = resolveScenario(options.scenario);
  const started = performance.now();
  let virtualS = options.startAt ?? 0;
  const clock = options.advancePerStatus != null
    ? () => virtualS
    : (options.clock ?? (() => (performance.now() - started) / 1000));
  // Simulated "now" is the real wall-clock time, so GPS timestamps look current.
  const epochUnixS = options.epochUnixS ?? Math.floor(Date.now() / 1000 - clock());

  // Time-ordered state: boots and outages are found by scanning each second once.
  let scannedTo = -1;
  let lastBoot: number | undefined;
  let bootStartS = 0;
  let bootcount = 40;
  let openOutage: Outage | undefined;
  const outages: Outage[] = [];
  const stateCache = new Map<number, DishState>();
  const requests: Record<string, number> = {};
  let requestCount = 0;
  const hung = new Set<() => void>();

  function stateAt(second: number): DishState {
    let state = stateCache.get(second);
    if (state === undefined) {
      state = scenario(second);
      stateCache.set(second, state);
      if (stateCache.size > historyLength * 3) {
        const oldest = stateCache.keys().next().value!;
        stateCache.delete(oldest);
      }
    }
    return state;
  }

  function advance(): number {
    const now = Math.floor(clock());
    for (let s = scannedTo + 1; s <= now; s++) {
      const state = stateAt(s);
      const boot = state.boot ?? 0;
      if (lastBoot !== undefined && boot !== lastBoot) {
        bootStartS = s;
        bootcount++;
      }
      lastBoot = boot;
      const cause = state.outage_cause;
      if (openOutage && openOutage.cause !== cause) {
        openOutage.endS = s;
        outages.push(openOutage);
        if (outages.length > 200) outages.shift();
        openOutage = undefined;
      }
      if (cause !== undefined && openOutage === undefined) {
        openOutage = { cause, startS: s, endS: s };
      }
    }
    scannedTo = Math.max(scannedTo, now);
    return now;
  }

  /** Drop and latency written for absolute second `s` (latency repeats the last one when drop = 1). */
  function sampleAt(second: number): { drop: number; latency: number } {
    const state = stateAt(second);
    const drop = state.drop_rate ?? 0;
    if (drop < 1) return { drop, latency: latencyOf(state, second) };
    for (let back = second - 1; back >= Math.max(0, second - historyLength); back--) {
      const prev = stateAt(back);
      if ((prev.drop_rate ?? 0) < 1) return { drop, latency: latencyOf(prev, back) };
    }
    return { drop, latency: 0 };
  }

  function statusBody(now: number, state: DishState): Record<string, unknown> {
    const alerts: Record<string, boolean> = {};
    for (const name of state.alerts ?? []) alerts[name] = true;
    const body: Record<string, unknown> = {
      device_info: {
        id: "ut01000000-00000000-5151a7ed",
        hardware_version: "rev4_prod1",
        software_version: state.software_version ?? "2025.06.24.mr58346",
        country_code: "US",
        bootcount,
        generation_number: "1750000000",
      },
      device_state: { uptime_s: String(now - bootStartS) },
      seconds_to_first_nonempty_slot: state.seconds_to_first_nonempty_slot ?? 0,
      pop_ping_drop_rate: state.drop_rate ?? 0,
      obstruction_stats: {
        fraction_obstructed: state.fraction_obstructed ?? 0.001,
        valid_s: 3600,
        currently_obstructed: state.currently_obstructed ?? false,
        avg_prolonged_obstruction_interval_s: NaN,
        time_obstructed: (state.fraction_obstructed ?? 0.001) / 2,
        patches_valid: 4000,
      },
      alerts,
      downlink_throughput_bps: 150000,
      uplink_throughput_bps: 40000,
      pop_ping_latency_ms: sampleAt(now).latency,
      gps_stats: {
        gps_valid: state.gps_valid ?? true,
        gps_sats: state.gps_valid === false ? 2 : 14,
      },
      eth_speed_mbps: 1000,
      mobility_class: "MOBILE",
      is_snr_above_noise_floor: true,
      ready_states: { cady: true, scp: true, l1l2: true, xphy: true, aap: true, rf: true },
      class_of_service: "CONSUMER",
      software_update_state: state.software_update_state ?? "IDLE",
      disablement_code: "OKAY",
      swupdate_reboot_ready: state.swupdate_reboot_ready ?? false,
      seconds_until_swupdate_reboot_possible: state.swupdate_reboot_ready ? 0 : -1,
    };
    if (state.latency_ms != null && state.latency_ms < 0) {
      body.pop_ping_latency_ms = state.latency_ms;
    }
    if (state.outage_cause !== undefined) {
      const open = openOutage;
      const booting = state.outage_cause === "BOOTING";
      body.outage = {
        cause: state.outage_cause,
        start_timestamp_ns: booting ? "-1" : gpsNs(epochUnixS + (open?.startS ?? now)),
        duration_ns: booting ? "0" : String((now - (open?.startS ?? now)) * 1e9),
      };
    }
    for (const name of state.omit ?? []) delete body[name];
    return body;
  }

  function historyBody(now: number): Record<string, unknown> {
    const current = now - bootStartS;
    const drop = new Array<number>(historyLength).fill(0);
    const latency = new Array<number>(historyLength).fill(0);
    const first = Math.max(0, current - historyLength);
    for (let k = first; k < current; k++) {
      const sample = sampleAt(bootStartS + k);
      drop[k % historyLength] = sample.drop;
      latency[k % historyLength] = sample.latency;
    }
    return {
      current: String(current),
      pop_ping_drop_rate: drop,
      pop_ping_latency_ms: latency,
      downlink_throughput_bps: new Array<number>(historyLength).fill(150000),
      uplink_throughput_bps: new Array<number>(historyLength).fill(40000),
      outages: outages.map((o) => ({
        cause: o.cause,
        start_timestamp_ns: gpsNs(epochUnixS + o.startS),
        duration_ns: String((o.endS - o.startS) * 1e9),
      })),
    };
  }

  /** Answers one request: the encoded Response, a gRPC error, or null for a hung request. */
  function handle(
    requestBytes: Uint8Array,
  ): { bytes?: Uint8Array; code?: number; message?: string } | null {
    let kind: DishRequestKind | undefined;
    try {
      kind = requestKindOf(decodeRequest(requestBytes));
    } catch {
      return { code: grpc.status.INVALID_ARGUMENT, message: "malformed request" };
    }
    requests[kind ?? "other"] = (requests[kind ?? "other"] ?? 0) + 1;
    requestCount++;
    if (kind === "get_status" && options.advancePerStatus != null) {
      virtualS += options.advancePerStatus;
    }
    const now = advance();
    const state = stateAt(now);
    if (state.hang_every != null && requestCount % state.hang_every === 0) return null;
    const apiVersion = String(state.api_version ?? 37);
    switch (kind) {
      case "get_status": {
        const head = encodeResponse({ api_version: apiVersion });
        const status = encodeResponse({ dish_get_status: statusBody(now, state) });
        if (!state.unknown_fields) return { bytes: concat(head, status) };
        // Re-frame the status oneof with the unknown fields appended inside it.
        const inner = encodeResponseField(status);
        const extended = concat(inner, UNKNOWN_STATUS_FIELDS);
        return {
          bytes: concat(
            head,
            new Uint8Array([...varint((2004 << 3) | 2), ...varint(extended.length)]),
            extended,
          ),
        };
      }
      case "get_history":
        return {
          bytes: encodeResponse({ api_version: apiVersion, dish_get_history: historyBody(now) }),
        };
      case "get_device_info":
        return {
          bytes: encodeResponse({
            api_version: apiVersion,
            get_device_info: { device_info: statusBody(now, state).device_info },
          }),
        };
      case "get_location":
        if (!state.location_allowed) {
          return {
            code: grpc.status.PERMISSION_DENIED,
            message: "GetLocation requests are not enabled on this device",
          };
        }
        return {
          bytes: encodeResponse({
            api_version: apiVersion,
            get_location: {
              lla: { lat: 47.6062, lon: -122.3321, alt: 56.2 },
              source: "GPS",
              sigma_m: 4.5,
              horizontal_speed_mps: 0.1,
            },
          }),
        };
      case "get_diagnostics":
        return {
          bytes: encodeResponse({
            api_version: apiVersion,
            dish_get_diagnostics: {
              id: "ut01000000-00000000-5151a7ed",
              hardware_version: "rev4_prod1",
              software_version: state.software_version ?? "2025.06.24.mr58346",
              disablement_code: "OKAY",
              location: { enabled: state.location_allowed ?? false },
              alignment_stats: { boresight_azimuth_deg: 12.5, boresight_elevation_deg: 70 },
            },
          }),
        };
      default:
        return { code: grpc.status.UNIMPLEMENTED, message: "Unimplemented request" };
    }
  }

  // --- raw gRPC server -------------------------------------------------------
  let grpcServer: grpc.Server | undefined;
  let port = 0;
  if (options.refuseGrpc) {
    // Reserve then release a port: nothing listens there, so connects are refused.
    const probe = Deno.listen({ hostname, port: options.port ?? 0 });
    port = (probe.addr as Deno.NetAddr).port;
    probe.close();
  } else {
    grpcServer = new grpc.Server();
    grpcServer.addService(
      {
        Handle: {
          path: HANDLE_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: toBuffer,
          requestDeserialize: (v: Buffer) => new Uint8Array(v),
          responseSerialize: toBuffer,
          responseDeserialize: (v: Buffer) => new Uint8Array(v),
        },
      },
      {
        Handle(
          call: grpc.ServerUnaryCall<Uint8Array, Uint8Array>,
          callback: grpc.sendUnaryData<Uint8Array>,
        ) {
          const answer = handle(call.request);
          if (answer === null) {
            const drop = () => hung.delete(drop);
            hung.add(drop);
            return;
          }
          if (answer.bytes) callback(null, answer.bytes);
          else callback({ code: answer.code, details: answer.message } as grpc.ServiceError, null);
        },
      },
    );
    const target = options.path
      ? `unix://${options.path}`
      : `${formatHost(hostname)}:${options.port ?? 0}`;
    port = await new Promise<number>((resolve, reject) => {
      grpcServer!.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(err);
        else resolve(bound);
      });
    });
  }

  // --- gRPC-Web server ---------------------------------------------------------
  let webServer: Deno.HttpServer | undefined;
  let grpcWebPort = 0;
  const hungWeb = new Set<(r: Response) => void>();
  if ((options.grpcWebPort ?? 0) >= 0 && !options.path) {
    const ready = Promise.withResolvers<number>();
    webServer = Deno.serve(
      {
        hostname,
        port: options.grpcWebPort ?? 0,
        onListen: (addr) => ready.resolve((addr as Deno.NetAddr).port),
      },
      async (req) => {
        const url = new URL(req.url);
        if (req.method !== "POST" || url.pathname !== HANDLE_PATH) {
          return new Response("not found", { status: 404 });
        }
        const frames = parseGrpcWebBody(new Uint8Array(await req.arrayBuffer()));
        const answer = handle(frames.messages[0] ?? new Uint8Array());
        const headers = { "content-type": "application/grpc-web+proto" };
        if (answer === null) {
          const wait = Promise.withResolvers<Response>();
          hungWeb.add(wait.resolve);
          return await wait.promise;
        }
        if (!answer.bytes) {
          return new Response(null, {
            status: 200,
            headers: {
              ...headers,
              "grpc-status": String(answer.code),
              "grpc-message": encodeURIComponent(answer.message ?? ""),
            },
          });
        }
        const trailer = new TextEncoder().encode("grpc-status:0\r\ngrpc-message:\r\n");
        return new Response(concat(frameMessage(answer.bytes), frameMessage(trailer, 0x80)), {
          status: 200,
          headers,
        });
      },
    );
    grpcWebPort = await ready.promise;
  }

  return {
    port,
    grpcWebPort,
    hostname,
    requests,
    setScenario(next: string | Scenario) {
      advance();
      scenario = resolveScenario(next);
      const now = Math.floor(clock());
      // The current second takes the new state at once; earlier seconds keep theirs.
      for (const key of [...stateCache.keys()]) {
        if (key >= now) stateCache.delete(key);
      }
    },
    now: () => advance(),
    current: () => advance() - bootStartS,
    sampleAt,
    async close() {
      for (const resolve of hungWeb) resolve(new Response(null, { status: 503 }));
      hungWeb.clear();
      hung.clear();
      if (grpcServer) grpcServer.forceShutdown();
      if (webServer) await webServer.shutdown();
    },
  };
}

/** Follows a scenario file; see {@linkcode followScenarioFile}. */
export interface ScenarioFileFollower {
  /** Reads the file now and applies a changed name; resolves to the scenario in force. */
  poll(): Promise<string>;
}

/**
 * Lets another process change a running simulator's scenario: the file holds
 * one scenario name; {@linkcode ScenarioFileFollower.poll} reads it and calls
 * `setScenario` when the name changed. A missing or empty file, or an unknown
 * name (reported once on stderr), keeps the scenario in force. Writers should
 * replace the file atomically (temp file + rename).
 *
 * @example
 * ```ts
 * const follower = followScenarioFile("/tmp/scenario", sim, "healthy");
 * setInterval(() => void follower.poll(), 1000);
 * ```
 */
export function followScenarioFile(
  path: string,
  sim: Pick<DishSim, "setScenario">,
  initial: string,
): ScenarioFileFollower {
  let current = initial;
  let rejected = "";
  return {
    async poll() {
      let name: string;
      try {
        name = (await Deno.readTextFile(path)).trim();
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return current;
        throw err;
      }
      if (name === "" || name === current) return current;
      if (SCENARIOS[name] === undefined) {
        if (name !== rejected) {
          console.error(
            `dish_sim: ${path}: unknown scenario "${name}"; keeping "${current}" (expected one of ${
              Object.keys(SCENARIOS).join(", ")
            })`,
          );
        }
        rejected = name;
        return current;
      }
      sim.setScenario(name);
      current = name;
      rejected = "";
      return current;
    },
  };
}

/** The payload of the single oneof field in an encoded `Response { dish_get_status }`. */
function encodeResponseField(encoded: Uint8Array): Uint8Array {
  // Layout: tag(2004, LEN) varint length, payload. Skip the tag varint, read the length.
  let at = 0;
  while (encoded[at] & 0x80) at++;
  at++;
  let length = 0;
  let shift = 1;
  while (true) {
    const b = encoded[at++];
    length += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) break;
    shift *= 128;
  }
  return encoded.subarray(at, at + length);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function splitHostPort(value: string): { hostname: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value);
  if (!match) throw new Error(`--listen wants HOST:PORT, got "${value}"`);
  return { hostname: match[1], port: Number(match[2]) };
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: "string", default: "127.0.0.1:9200" },
      "web-port": { type: "string" },
      socket: { type: "string" },
      scenario: { type: "string", default: "healthy" },
      "scenario-file": { type: "string" },
      "refuse-grpc": { type: "boolean", default: false },
      "advance-per-status": { type: "string" },
      "start-at": { type: "string" },
      supervise: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.supervise) return await supervise(args.filter((a) => a !== "--supervise"));
  if (values.help) {
    console.log(
      "Usage: deno run -A sim/dish_sim.ts [--listen HOST:PORT] [--web-port N] [--socket PATH]\n" +
        "         [--scenario NAME] [--refuse-grpc] [--advance-per-status S] [--start-at S]\n" +
        "         [--scenario-file PATH]   switch to the scenario named in PATH (read every second)\n" +
        "         [--supervise]   restart the simulator if it dies (use with a fixed port)\n" +
        `Scenarios: ${Object.keys(SCENARIOS).join(", ")}`,
    );
    return 0;
  }
  const { hostname, port } = splitHostPort(values.listen!);
  const sim = await startDishSim({
    hostname,
    port,
    path: values.socket,
    grpcWebPort: values["web-port"] != null
      ? Number(values["web-port"])
      : port === 0
      ? 0
      : port + 1,
    scenario: values.scenario,
    refuseGrpc: values["refuse-grpc"],
    advancePerStatus: values["advance-per-status"] != null
      ? Number(values["advance-per-status"])
      : undefined,
    startAt: values["start-at"] != null ? Number(values["start-at"]) : undefined,
  });
  const scenarioFile = values["scenario-file"];
  let follow: ReturnType<typeof setInterval> | undefined;
  if (scenarioFile !== undefined) {
    const follower = followScenarioFile(scenarioFile, sim, values.scenario!);
    await follower.poll();
    follow = setInterval(() => {
      follower.poll().catch((err) => console.error(`dish_sim: ${scenarioFile}: ${err}`));
    }, 1000);
  }
  console.log(JSON.stringify({
    grpc: values.socket ? `unix:${values.socket}` : `${formatHost(hostname)}:${sim.port}`,
    grpcWeb: sim.grpcWebPort ? `${formatHost(hostname)}:${sim.grpcWebPort}` : null,
    scenario: values.scenario,
    refuseGrpc: values["refuse-grpc"],
  }));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stop.resolve());
  Deno.addSignalListener("SIGTERM", () => stop.resolve());
  await stop.promise;
  clearInterval(follow);
  await sim.close();
  return 0;
}

/**
 * Runs the simulator as a child process and restarts it when it dies
 * abnormally. Deno 2.9.6's node:http2 server can abort inside nghttp2 when a
 * client that made thousands of calls disconnects (denoland/deno#36788); to
 * the collector a restart looks like a dish reboot, which it must handle anyway.
 */
async function supervise(args: string[]): Promise<number> {
  let stopping = false;
  let child: Deno.ChildProcess | undefined;
  const stop = () => {
    stopping = true;
    try {
      child?.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let first = true;
  while (!stopping) {
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", new URL(import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream());
    for await (const chunk of lines) {
      if (first) await Deno.stdout.write(new TextEncoder().encode(chunk));
      first = false;
    }
    const status = await child.status;
    if (stopping || status.success) return 0;
    console.error(`dish_sim: simulator exited (code ${status.code}); restarting`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
