/**
 * The Starlink collector: polls the dish's status every `poll_interval_ms`,
 * catches up on the per-second history ring, maps both to engine
 * `Observation`s, and reports API drift, reachability and permission events.
 *
 * Two ways to drive it:
 * - pull: `collect(now)` (the daemon runtime's `Source` shape: `name`,
 *   `intervalMs`, `collect`, `close`) returns the status observation; the
 *   scheduler skips a turn while the previous one is busy, and every call has a
 *   deadline, so a hung dish never blocks a tick;
 * - push: `start()` runs a self-scheduling loop (the next round starts only
 *   after the previous one finished) and publishes to `onObservation`.
 * Either way, `onHistory`, `onOutage` and `onEvent` receive the history
 * catch-up, outages and events, and `health()` / `snapshot()` can be read at
 * any time. Tests and the benchmark drive `pollOnce()` with an injected clock.
 *
 * An unreachable dish yields no observation at all: the engine then sees the
 * member's dish fields go stale. Values are never invented.
 *
 * The mapping and history logic are pure functions (`mapStatus`,
 * `takeHistory`, `gpsNsToUnixMs`, `detectDrift`), tested without a dish.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { Observation } from "../engine/types.ts";
import { type DishAnswer, DishCallError, StarlinkClient } from "./starlink_client.ts";
import { enumNames, unknownAlertFields } from "./starlink_proto.ts";

const log = getLogger(["starfail", "starlink"]);

/** The newest `Response.api_version` this build was tested against. */
export const TESTED_API_VERSION = 37;

/** Seconds between the Unix epoch and the GPS epoch (1980-01-06). */
export const GPS_EPOCH_UNIX_S = 315964800;
/** GPS−UTC leap seconds (constant since 2017). */
export const GPS_LEAP_SECONDS = 18;

/** After PERMISSION_DENIED, ask for the location again only this often (the owner may allow it later). */
const LOCATION_RETRY_S = 600;

/** Status fields the collector relies on; a response without one of them is API drift. */
export const REQUIRED_STATUS_FIELDS: readonly string[] = [
  "device_info",
  "device_state",
  "obstruction_stats",
  "alerts",
];

/** A collector event for the daemon's event log. */
export interface DishEvent {
  /** Engine clock seconds. */
  t: number;
  /** Event kind. */
  kind:
    | "api_changed"
    | "unreachable"
    | "reachable"
    | "transport"
    | "permission_denied"
    | "reboot"
    | "history_gap";
  /** One sentence for people. */
  message: string;
  /** Machine-readable details. */
  data: Record<string, unknown>;
}

/** A completed or ongoing outage from the dish history, with Unix timestamps. */
export interface DishOutageRecord {
  /** Outage cause enum name (`CAUSE_<n>` for values this build does not know). */
  cause: string;
  /** Start as Unix milliseconds (converted from GPS nanoseconds). */
  start_unix_ms: number;
  /** Duration in seconds. */
  duration_s: number;
  /** The dish switched satellites to end it. */
  did_switch: boolean;
  /**
   * Found in the first history read (of this collector, or of the collectors
   * sharing its `history_state`): it happened before anyone was watching.
   */
  backlog: boolean;
}

/** What the dish said beyond the engine fields (for ubus/CLI status). */
export interface DishSnapshot {
  /** Engine clock seconds of the last successful status. */
  t: number;
  /** Firmware (`device_info.software_version`). */
  software_version?: string;
  /** Hardware revision. */
  hardware_version?: string;
  /** `Response.api_version`. */
  api_version: number;
  /** Seconds since the dish booted. */
  uptime_s?: number;
  /** Dish boot counter. */
  bootcount?: number;
  /** GPS fix valid. */
  gps_valid: boolean;
  /** Satellites used by GPS. */
  gps_sats: number;
  /** Software update state name. */
  software_update_state?: string;
  /** Seconds until the dish may reboot for an update (-1 = not scheduled). */
  seconds_until_swupdate_reboot_possible?: number;
  /** Downlink throughput (bit/s). */
  downlink_bps?: number;
  /** Uplink throughput (bit/s). */
  uplink_bps?: number;
  /** Transport that answered. */
  transport: string;
  /** Latest GetLocation answer (when `location` is enabled and allowed). */
  location?: { lat: number; lon: number; alt: number; sigma_m?: number; source?: string };
  /** Latest diagnostics summary (when `diagnostics` is enabled). */
  diagnostics?: Record<string, unknown>;
}

/** Collector health for `starfail status` and ubus. */
export interface StarlinkHealth {
  /** The last status call succeeded. */
  reachable: boolean;
  /** Consecutive failed rounds. */
  consecutive_failures: number;
  /** Last error (`STATUS: message`), empty when none. */
  last_error: string;
  /** Transport the client uses now. */
  transport: string;
  /** Successful status polls. */
  polls_ok: number;
  /** Failed status polls. */
  polls_failed: number;
  /** History seconds delivered. */
  history_samples: number;
  /** History seconds lost (dish unreachable longer than its ring, or across a reboot). */
  history_gaps: number;
  /** HTTP/2 clients created for gRPC (1 + recreations after timeouts and transport errors). */
  channels_created: number;
}

/** Options of {@link StarlinkCollector}. Names follow the UCI `starlink` section. */
export interface StarlinkCollectorOptions {
  /** Engine member name the observations are for. */
  member: string;
  /** Dish address (default 192.168.100.1). */
  host?: string;
  /** gRPC port (default 9200). */
  port?: number;
  /** gRPC-Web fallback port (default 9201, 0 disables). */
  grpc_web_port?: number;
  /** Unix socket for gRPC (tests). */
  socket_path?: string;
  /** Deadline of each call (default 2000 ms). */
  timeout_ms?: number;
  /** Transport to try first (`auto` = gRPC-Web with gRPC fallback; see StarlinkClientOptions.prefer). */
  prefer?: "auto" | "grpc-web" | "grpc";
  /** Status poll interval (default 1000 ms). */
  poll_interval_ms?: number;
  /** Read the history ring (default true). */
  history?: boolean;
  /** How often to read the history ring (default 10000 ms; must stay below 900 s). */
  history_interval_ms?: number;
  /** Ask for the GPS location (default false; needs the owner's permission in the app). */
  location?: boolean;
  /** Ask for diagnostics (default false). */
  diagnostics?: boolean;
  /** How often to read location/diagnostics (default 60000 ms). */
  slow_interval_ms?: number;
  /** Longest wait between rounds while the dish is unreachable (default 10000 ms). */
  max_backoff_ms?: number;
  /** Engine clock in seconds (default monotonic `performance.now()/1000`). */
  clock?: () => number;
  /** A client to use instead of creating one (tests). */
  client?: StarlinkClient;
  /**
   * Shared by collectors that replace one another (a config reload): `read`
   * turns true once any of them has read the dish's history, and only outages
   * found before that are marked `backlog`. Default: this collector's own.
   */
  history_state?: DishHistoryState;
}

/** Everything one polling round produced. */
export interface DishPollResult {
  /** The status observation, absent when the dish did not answer. */
  observation?: Observation;
  /** One observation per new history second (`latency_ms` omitted for seconds with total loss). */
  history: Observation[];
  /** Outages first seen in this round. */
  outages: DishOutageRecord[];
  /** Events raised in this round. */
  events: DishEvent[];
}

// ---------------------------------------------------------------------------
// Pure core
// ---------------------------------------------------------------------------

function num(value: unknown): number | undefined {
  if (value == null) return undefined;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return Number((value as { toString(): string }).toString());
}

/**
 * Converts a GPS-epoch nanosecond timestamp (as decoded: Long, bigint, string
 * or number) to Unix milliseconds. Returns undefined for unknown (≤ 0) values.
 *
 * @example
 * ```ts
 * gpsNsToUnixMs("1399245304801994822"); // 1715210086801 (2024-05-08T23:14:46.801Z)
 * ```
 */
export function gpsNsToUnixMs(value: unknown): number | undefined {
  if (value == null) return undefined;
  const ns = BigInt((value as { toString(): string }).toString());
  if (ns <= 0n) return undefined;
  const ms = ns / 1_000_000n;
  return Number(ms) + (GPS_EPOCH_UNIX_S - GPS_LEAP_SECONDS) * 1000;
}

/**
 * The name of a decoded enum value (enums decode as numbers); a
 * value this build does not know becomes `<prefix><n>`, e.g. `CAUSE_15`.
 */
export function enumName(
  value: unknown,
  names: Readonly<Record<number, string>>,
  unknownPrefix: string,
): string {
  if (typeof value === "string") return value;
  const n = num(value) ?? 0;
  return names[n] ?? `${unknownPrefix}${n}`;
}

/** Outage cause names by value, from the embedded proto. */
export const OUTAGE_CAUSES: Readonly<Record<number, string>> = enumNames("DishOutage.Cause");

/** SoftwareUpdateState names by value, from the embedded proto. */
const SOFTWARE_UPDATE_STATES: Readonly<Record<number, string>> = enumNames("SoftwareUpdateState");

/** UtDisablementCode names by value, from the embedded proto. */
const DISABLEMENT_CODES: Readonly<Record<number, string>> = enumNames("UtDisablementCode");

function finite(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * Maps a decoded `DishGetStatusResponse` (snake_case fields) to an engine
 * observation. Absent proto3 scalars mean zero; sentinel values (−1 latency or
 * slot while booting, 0 latency from the Nov-2024 firmware bug, NaN) are left
 * out rather than passed on; latency is left out when the drop rate is 1
 * (the dish repeats a stale value then). `outage_cause` is `""` while the link
 * is up (the engine reads an empty string as "none"). Alert flags unknown to
 * this build (see `unknownAlertFields`) appear as `alert_<field number>`.
 */
export function mapStatus(
  status: Record<string, unknown>,
  at: { t: number; member: string; unknownAlertFields?: number[]; wall_ms?: number },
): Observation {
  const obs: Observation = { t: at.t, member: at.member };
  const drop = finite(status.pop_ping_drop_rate) ?? 0;
  obs.loss_pct = Math.min(100, Math.max(0, drop * 100));
  const latency = finite(status.pop_ping_latency_ms);
  if (latency !== undefined && latency > 0 && drop < 1) obs.latency_ms = latency;
  const obstruction = status.obstruction_stats as Record<string, unknown> | undefined;
  if (obstruction != null) {
    const fraction = finite(obstruction.fraction_obstructed) ?? 0;
    obs.obstruction_pct = Math.min(100, Math.max(0, fraction * 100));
    obs.currently_obstructed = obstruction.currently_obstructed === true;
  }
  const outage = status.outage as Record<string, unknown> | undefined;
  obs.outage_cause = outage != null ? enumName(outage.cause, OUTAGE_CAUSES, "CAUSE_") : "";
  const alerts = status.alerts as Record<string, unknown> | undefined;
  if (alerts != null) {
    obs.alerts = Object.keys(alerts).filter((name) => alerts[name] === true);
    // Alerts newer than this build are passed on by field number, never dropped.
    for (const field of at.unknownAlertFields ?? []) obs.alerts.push(`alert_${field}`);
    obs.alerts.sort();
  }
  const slot = finite(status.seconds_to_first_nonempty_slot) ?? 0;
  if (slot >= 0) obs.seconds_to_first_nonempty_slot = slot;
  obs.swupdate_reboot_ready = status.swupdate_reboot_ready === true;
  // When the update reboot is scheduled (software_update_stats.reboot_scheduled_utc_time):
  // the engine leaves just before it rather than at the flag (docs/engine.md).
  const stats = status.software_update_stats as Record<string, unknown> | undefined;
  const when = finite(stats?.reboot_scheduled_utc_time);
  if (obs.swupdate_reboot_ready && when !== undefined && when > 0 && at.wall_ms !== undefined) {
    obs.swupdate_reboot_in_s = Math.max(0, unixSeconds(when) - at.wall_ms / 1000);
  }
  return obs;
}

/**
 * A Unix time of unknown unit as seconds. The proto names the field a UTC
 * time without a unit and no capture shows one set, so the magnitude decides:
 * nanoseconds (> 1e14), milliseconds (> 1e11) or seconds.
 */
function unixSeconds(v: number): number {
  return v > 1e14 ? v / 1e9 : v > 1e11 ? v / 1e3 : v;
}

/**
 * History state shared by the collectors of one dish across config reloads:
 * whether the history was read (outages found later are not backlog) and the
 * cursor, so a rebuilt collector neither repeats nor skips a second.
 */
export interface DishHistoryState {
  /** A history answer has been read. */
  read: boolean;
  /** Where the last read stopped. */
  cursor?: HistoryCursor;
}

/** Where the history reader stands: the dish's sample counter at the last read, per boot. */
export interface HistoryCursor {
  /** `current` at the last read. */
  current: number;
  /** Boot identity at the last read (changes when the dish reboots). */
  boot: number;
}

/** The new seconds of one history read. */
export interface HistoryTake {
  /** Cursor to keep for the next read. */
  cursor: HistoryCursor;
  /** New samples, oldest first: absolute sample index since boot, drop rate 0..1, latency (undefined when unusable). */
  samples: { index: number; age_s: number; drop: number; latency?: number }[];
  /** Seconds that fell out of the ring before they could be read. */
  lost: number;
}

/**
 * Takes the seconds written since `cursor` from a decoded
 * `DishGetHistoryResponse`. The ring length comes from the arrays; sample k
 * (counted since boot) sits at position k % length. When `current` went
 * backwards or `boot` changed, the dish rebooted and every sample of the new
 * boot is new. Each second is returned exactly once across calls.
 */
export function takeHistory(
  cursor: HistoryCursor | undefined,
  history: Record<string, unknown>,
  boot: number,
): HistoryTake {
  const drops = (history.pop_ping_drop_rate as number[] | undefined) ?? [];
  const latencies = (history.pop_ping_latency_ms as number[] | undefined) ?? [];
  const length = drops.length;
  const current = num(history.current) ?? 0;
  const next: HistoryCursor = { current, boot };
  if (length === 0) return { cursor: next, samples: [], lost: 0 };
  const rebooted = cursor !== undefined && (boot !== cursor.boot || current < cursor.current);
  let from = cursor === undefined || rebooted ? 0 : cursor.current;
  const oldestAvailable = Math.max(0, current - length);
  let lost = 0;
  if (from < oldestAvailable) {
    // The first read only catches up on what the ring holds; that is not a loss.
    if (cursor !== undefined) lost = oldestAvailable - from;
    from = oldestAvailable;
  }
  const samples: HistoryTake["samples"] = [];
  for (let k = from; k < current; k++) {
    const at = k % length;
    const drop = finite(drops[at]) ?? 0;
    const raw = finite(latencies[at]);
    const latency = drop < 1 && raw !== undefined && raw > 0 ? raw : undefined;
    samples.push({ index: k, age_s: current - 1 - k, drop, latency });
  }
  return { cursor: next, samples, lost };
}

/**
 * Decides whether a status answer shows API drift: fields we rely on missing,
 * an `api_version` newer than tested, or a firmware/api_version different from
 * the previous answer. Returns the reasons (empty = no drift).
 */
export function detectDrift(
  status: Record<string, unknown>,
  apiVersion: number,
  previous: { software_version?: string; api_version?: number } | undefined,
  unknownAlerts: number[] = [],
): string[] {
  const reasons: string[] = [];
  const missing = REQUIRED_STATUS_FIELDS.filter((name) => status[name] == null);
  const info = status.device_info as Record<string, unknown> | undefined;
  if (info != null && !info.software_version) missing.push("device_info.software_version");
  if (missing.length > 0) reasons.push(`response lacks ${missing.join(", ")}`);
  if (apiVersion > TESTED_API_VERSION) {
    reasons.push(
      `api_version ${apiVersion} is newer than the newest tested (${TESTED_API_VERSION})`,
    );
  }
  const firmware = info?.software_version as string | undefined;
  if (previous !== undefined) {
    if (firmware && previous.software_version && firmware !== previous.software_version) {
      reasons.push(`firmware changed from ${previous.software_version} to ${firmware}`);
    }
    if (previous.api_version !== undefined && apiVersion !== previous.api_version) {
      reasons.push(`api_version changed from ${previous.api_version} to ${apiVersion}`);
    }
  }
  const outage = status.outage as Record<string, unknown> | undefined;
  if (outage != null && OUTAGE_CAUSES[num(outage.cause) ?? 0] === undefined) {
    reasons.push(`unknown outage cause ${num(outage.cause)}`);
  }
  if (unknownAlerts.length > 0) {
    reasons.push(`unknown alert fields ${unknownAlerts.join(", ")} set`);
  }
  return reasons;
}

// ---------------------------------------------------------------------------
// Imperative shell
// ---------------------------------------------------------------------------

type Listener<T> = (value: T) => void;

/**
 * Polls one Starlink dish and publishes observations for one engine member.
 *
 * @example
 * ```ts
 * const dish = new StarlinkCollector({ member: "starlink", host: "192.168.100.1" });
 * dish.onObservation((obs) => engineInput.push(obs));
 * dish.onEvent((ev) => events.add(ev));
 * dish.start();
 * // … later
 * await dish.stop();
 * ```
 */
export class StarlinkCollector {
  readonly #member: string;
  readonly #client: StarlinkClient;
  readonly #ownsClient: boolean;
  readonly #pollMs: number;
  readonly #historyEnabled: boolean;
  readonly #historyMs: number;
  readonly #location: boolean;
  readonly #diagnostics: boolean;
  readonly #slowMs: number;
  readonly #maxBackoffMs: number;
  readonly #clock: () => number;
  readonly #observationListeners: Listener<Observation>[] = [];
  readonly #historyListeners: Listener<Observation[]>[] = [];
  readonly #outageListeners: Listener<DishOutageRecord[]>[] = [];
  readonly #eventListeners: Listener<DishEvent>[] = [];

  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #round: Promise<DishPollResult> | undefined;
  #failures = 0;
  #retryAt = 0;
  #unreachableSince: number | undefined;
  #lastError = "";
  #lastTransport = "";
  #pollsOk = 0;
  #pollsFailed = 0;
  #historySamples = 0;
  #historyGaps = 0;
  #historyDueAt = -Infinity;
  #slowDueAt = -Infinity;
  #boot = 0;
  #lastUptime: number | undefined;
  #lastBootcount: number | undefined;
  #lastOutageStartNs = 0n;
  /** A history answer has been read (the next outages are no longer backlog). */
  #historyState: DishHistoryState;
  #previous: { software_version?: string; api_version?: number } | undefined;
  readonly #announcedFirmware = new Set<string>();
  #locationDenied = false;
  #locationRetryAt = 0;
  #snapshot: DishSnapshot | undefined;

  /** Creates a collector; nothing happens until `start()` or `pollOnce()`. */
  constructor(options: StarlinkCollectorOptions) {
    this.#member = options.member;
    this.#ownsClient = options.client == null;
    this.#client = options.client ?? new StarlinkClient({
      host: options.host,
      port: options.port,
      grpcWebPort: options.grpc_web_port,
      socketPath: options.socket_path,
      timeoutMs: options.timeout_ms,
      prefer: options.prefer,
    });
    this.#pollMs = options.poll_interval_ms ?? 1000;
    this.#historyEnabled = options.history ?? true;
    this.#historyMs = Math.min(options.history_interval_ms ?? 10_000, 600_000);
    this.#location = options.location ?? false;
    this.#diagnostics = options.diagnostics ?? false;
    this.#slowMs = options.slow_interval_ms ?? 60_000;
    this.#maxBackoffMs = options.max_backoff_ms ?? 10_000;
    this.#clock = options.clock ?? (() => performance.now() / 1000);
    this.#historyState = options.history_state ?? { read: false };
  }

  /** Subscribes to status observations (one per successful round). */
  onObservation(listener: Listener<Observation>): void {
    this.#observationListeners.push(listener);
  }

  /** Subscribes to history catch-up: per-second observations, oldest first, each second once. */
  onHistory(listener: Listener<Observation[]>): void {
    this.#historyListeners.push(listener);
  }

  /** Subscribes to outages first seen in the dish history. */
  onOutage(listener: Listener<DishOutageRecord[]>): void {
    this.#outageListeners.push(listener);
  }

  /** Subscribes to collector events (API drift, reachability, permissions, reboots). */
  onEvent(listener: Listener<DishEvent>): void {
    this.#eventListeners.push(listener);
  }

  /** Collector health counters. */
  health(): StarlinkHealth {
    return {
      reachable: this.#failures === 0 && this.#pollsOk > 0,
      consecutive_failures: this.#failures,
      last_error: this.#lastError,
      transport: this.#lastTransport || this.#client.transport,
      polls_ok: this.#pollsOk,
      polls_failed: this.#pollsFailed,
      history_samples: this.#historySamples,
      history_gaps: this.#historyGaps,
      channels_created: this.#client.channelsCreated,
    };
  }

  /** What the dish said beyond the engine fields, from the last successful round. */
  snapshot(): DishSnapshot | undefined {
    return this.#snapshot;
  }

  /** Starts polling; the first round runs at once. Calling it twice does nothing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /**
   * Stops polling, waits at most 200 ms for a round in flight (a dish that does
   * not answer would otherwise hold a clean stop for the whole call deadline)
   * and closes the channel.
   */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#round) {
      let wait: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#round.catch(() => undefined),
        new Promise<void>((r) => (wait = setTimeout(r, 200))),
      ]);
      clearTimeout(wait);
    }
    if (this.#ownsClient) this.#client.close();
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      const started = performance.now();
      await this.pollOnce();
      const spent = performance.now() - started;
      this.#schedule(this.#nextDelayMs(spent));
    }, delayMs);
  }

  #nextDelayMs(spentMs: number): number {
    if (this.#failures === 0) return Math.max(0, this.#pollMs - spentMs);
    const backoff = this.#pollMs * 2 ** Math.min(this.#failures - 1, 10);
    return Math.min(this.#maxBackoffMs, backoff);
  }

  /** Collector name for the daemon's health table. */
  get name(): string {
    return "starlink";
  }

  /** Status poll interval in milliseconds (for a scheduler calling {@link collect}). */
  get intervalMs(): number {
    return this.#pollMs;
  }

  /**
   * Pull API for the daemon's scheduler (`daemon/runtime.ts` `Source`): runs one
   * round stamped with `now` and returns the status observation. While the dish
   * is unreachable it throws the last error (so collector health shows it) and,
   * during the back-off, does so without calling the dish. History, outages and
   * events still go to the `on…` listeners.
   */
  async collect(now: number): Promise<Observation[]> {
    if (this.#failures > 0 && now < this.#retryAt) {
      throw new Error(
        `Dish unreachable (${this.#lastError}); next try in ${(this.#retryAt - now).toFixed(0)} s`,
      );
    }
    const result = await this.pollOnce(now);
    if (result.observation === undefined) {
      this.#retryAt = now + this.#nextDelayMs(0) / 1000;
      throw new Error(`Dish unreachable (${this.#lastError})`);
    }
    return [result.observation];
  }

  /** Same as {@link stop}: for schedulers that close their sources. */
  close(): Promise<void> {
    return this.stop();
  }

  /**
   * Runs one round: status, then history and location/diagnostics when due.
   * `now` (engine seconds) defaults to the collector's clock. Never throws;
   * never runs two rounds at once (a second caller gets the round in flight).
   */
  pollOnce(now?: number): Promise<DishPollResult> {
    if (this.#round) return this.#round;
    this.#round = this.#poll(now ?? this.#clock()).finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #poll(t: number): Promise<DishPollResult> {
    const result: DishPollResult = { history: [], outages: [], events: [] };
    let status: DishAnswer;
    try {
      status = await this.#client.call("get_status");
    } catch (err) {
      this.#onFailure(t, err, result);
      this.#publish(result);
      return result;
    }
    this.#onStatus(t, status, result);
    if (this.#historyEnabled && t >= this.#historyDueAt) {
      await this.#readHistory(t, result);
    }
    if ((this.#location || this.#diagnostics) && t >= this.#slowDueAt) {
      this.#slowDueAt = t + this.#slowMs / 1000;
      if (this.#location) await this.#readLocation(t, result);
      if (this.#diagnostics) await this.#readDiagnostics();
    }
    this.#publish(result);
    return result;
  }

  #event(result: DishPollResult, event: DishEvent): void {
    result.events.push(event);
  }

  #onFailure(t: number, err: unknown, result: DishPollResult): void {
    const callErr = err instanceof DishCallError
      ? err
      : new DishCallError(2, (err as Error)?.message ?? String(err), this.#client.transport);
    this.#failures++;
    this.#pollsFailed++;
    this.#lastError = `${callErr.status}: ${callErr.message}`;
    if (this.#failures === 1) {
      this.#unreachableSince = t;
      log.warn("Dish unreachable: {status}", {
        target: this.#client.target,
        status: callErr.status,
        error: callErr.message,
      });
      this.#event(result, {
        t,
        kind: "unreachable",
        message:
          `Dish at ${this.#client.target} unreachable (${callErr.status}); no dish data until it answers`,
        data: { status: callErr.status, error: callErr.message, target: this.#client.target },
      });
    }
  }

  #onStatus(t: number, answer: DishAnswer, result: DishPollResult): void {
    const status = answer.body;
    if (this.#failures > 0) {
      const downS = this.#unreachableSince !== undefined ? t - this.#unreachableSince : 0;
      log.info("Dish reachable again", { target: this.#client.target, down_s: downS });
      this.#event(result, {
        t,
        kind: "reachable",
        message: `Dish reachable again after ${downS.toFixed(1)} s`,
        data: { down_s: downS, failures: this.#failures },
      });
      // Catch up on the history written while we could not reach the dish.
      this.#historyDueAt = -Infinity;
    }
    this.#failures = 0;
    this.#unreachableSince = undefined;
    this.#lastError = "";
    this.#pollsOk++;
    if (answer.transport !== this.#lastTransport && this.#lastTransport !== "") {
      this.#event(result, {
        t,
        kind: "transport",
        message: `Dish now answers over ${answer.transport}`,
        data: { transport: answer.transport },
      });
    }
    this.#lastTransport = answer.transport;

    const info = (status.device_info ?? {}) as Record<string, unknown>;
    const state = (status.device_state ?? {}) as Record<string, unknown>;
    const uptime = num(state.uptime_s);
    const bootcount = num(info.bootcount);
    const rebooted =
      (uptime !== undefined && this.#lastUptime !== undefined && uptime < this.#lastUptime) ||
      (bootcount !== undefined && this.#lastBootcount !== undefined &&
        bootcount !== this.#lastBootcount);
    if (rebooted) {
      this.#boot++;
      log.info("Dish rebooted", { uptime_s: uptime, bootcount });
      this.#event(result, {
        t,
        kind: "reboot",
        message: `Dish rebooted (uptime ${uptime ?? "?"} s)`,
        data: { uptime_s: uptime, bootcount },
      });
      this.#historyDueAt = -Infinity;
    }
    if (uptime !== undefined) this.#lastUptime = uptime;
    if (bootcount !== undefined) this.#lastBootcount = bootcount;

    const unknownAlerts = unknownAlertFields(answer.raw);
    const drift = detectDrift(status, answer.apiVersion, this.#previous, unknownAlerts);
    const firmware = (info.software_version as string | undefined) || "unknown firmware";
    if (drift.length > 0 && !this.#announcedFirmware.has(firmware)) {
      this.#announcedFirmware.add(firmware);
      const message = `dish API changed: ${
        drift.join("; ")
      } (firmware ${firmware}, api_version ${answer.apiVersion})`;
      log.warn("Dish API changed: {reasons}", {
        reasons: drift.join("; "),
        firmware,
        api_version: answer.apiVersion,
      });
      this.#event(result, {
        t,
        kind: "api_changed",
        message,
        data: { reasons: drift, firmware, api_version: answer.apiVersion },
      });
    }
    this.#previous = {
      software_version: info.software_version as string | undefined,
      api_version: answer.apiVersion,
    };

    result.observation = mapStatus(status, {
      t,
      member: this.#member,
      unknownAlertFields: unknownAlerts,
      wall_ms: Date.now(),
    });
    const gps = (status.gps_stats ?? {}) as Record<string, unknown>;
    const swState = status.software_update_state;
    this.#snapshot = {
      ...this.#snapshot,
      t,
      software_version: info.software_version as string | undefined,
      hardware_version: info.hardware_version as string | undefined,
      api_version: answer.apiVersion,
      uptime_s: uptime,
      bootcount,
      gps_valid: gps.gps_valid === true,
      gps_sats: num(gps.gps_sats) ?? 0,
      software_update_state: enumName(swState, SOFTWARE_UPDATE_STATES, "STATE_"),
      seconds_until_swupdate_reboot_possible: num(status.seconds_until_swupdate_reboot_possible),
      downlink_bps: finite(status.downlink_throughput_bps),
      uplink_bps: finite(status.uplink_throughput_bps),
      transport: answer.transport,
    };
  }

  async #readHistory(t: number, result: DishPollResult): Promise<void> {
    let answer: DishAnswer;
    try {
      answer = await this.#client.call("get_history");
    } catch (err) {
      // The next round retries; the cursor is untouched, so nothing is lost or repeated.
      log.debug("Dish history read failed", { error: (err as Error).message });
      return;
    }
    this.#historyDueAt = t + this.#historyMs / 1000;
    const backlog = !this.#historyState.read;
    this.#historyState.read = true;
    const take = takeHistory(this.#historyState.cursor, answer.body, this.#boot);
    this.#historyState.cursor = take.cursor;
    if (take.lost > 0) {
      this.#historyGaps += take.lost;
      this.#event(result, {
        t,
        kind: "history_gap",
        message: `${take.lost} s of dish history were overwritten before they could be read`,
        data: { lost_s: take.lost },
      });
    }
    for (const sample of take.samples) {
      const obs: Observation = {
        t: t - sample.age_s,
        member: this.#member,
        pop_drop_pct: Math.min(100, Math.max(0, sample.drop * 100)),
      };
      if (sample.latency !== undefined) obs.pop_latency_ms = sample.latency;
      result.history.push(obs);
    }
    this.#historySamples += take.samples.length;
    const outages = (answer.body.outages as Record<string, unknown>[] | undefined) ?? [];
    let newest = this.#lastOutageStartNs;
    for (const outage of outages) {
      const startRaw = outage.start_timestamp_ns;
      if (startRaw == null) continue;
      const startNs = BigInt((startRaw as { toString(): string }).toString());
      if (startNs <= this.#lastOutageStartNs) continue;
      const startMs = gpsNsToUnixMs(startNs);
      if (startMs === undefined) continue;
      if (startNs > newest) newest = startNs;
      result.outages.push({
        cause: enumName(outage.cause, OUTAGE_CAUSES, "CAUSE_"),
        start_unix_ms: startMs,
        duration_s: (num(outage.duration_ns) ?? 0) / 1e9,
        did_switch: outage.did_switch === true,
        backlog,
      });
    }
    this.#lastOutageStartNs = newest;
  }

  async #readLocation(t: number, result: DishPollResult): Promise<void> {
    if (this.#locationDenied && t < this.#locationRetryAt) return;
    try {
      const answer = await this.#client.call("get_location");
      const lla = (answer.body.lla ?? {}) as Record<string, unknown>;
      this.#locationDenied = false;
      this.#snapshot = this.#snapshot && {
        ...this.#snapshot,
        location: {
          lat: num(lla.lat) ?? 0,
          lon: num(lla.lon) ?? 0,
          alt: num(lla.alt) ?? 0,
          sigma_m: num(answer.body.sigma_m),
          source: String(answer.body.source ?? ""),
        },
      };
    } catch (err) {
      if (err instanceof DishCallError && err.status === "PERMISSION_DENIED") {
        if (!this.#locationDenied) {
          const hint =
            "allow local access to the location in the Starlink app (Settings → Advanced → Debug data → allow access on local network) or set starlink.location=0";
          log.info("Dish refuses location requests; {hint}", { hint });
          this.#event(result, {
            t,
            kind: "permission_denied",
            message: `Dish refuses GetLocation: ${hint}`,
            data: { request: "get_location", hint },
          });
        }
        this.#locationDenied = true;
        this.#locationRetryAt = t + LOCATION_RETRY_S;
        return;
      }
      log.debug("Dish location read failed", { error: (err as Error).message });
    }
  }

  async #readDiagnostics(): Promise<void> {
    try {
      const answer = await this.#client.call("get_diagnostics");
      const body = answer.body;
      const location = (body.location ?? {}) as Record<string, unknown>;
      const alignment = (body.alignment_stats ?? {}) as Record<string, unknown>;
      this.#snapshot = this.#snapshot && {
        ...this.#snapshot,
        diagnostics: {
          disablement_code: enumName(body.disablement_code, DISABLEMENT_CODES, "CODE_"),
          stowed: body.stowed === true,
          location_enabled: location.enabled === true,
          boresight_azimuth_deg: finite(alignment.boresight_azimuth_deg),
          boresight_elevation_deg: finite(alignment.boresight_elevation_deg),
          hardware_self_test_codes: body.hardware_self_test_codes ?? [],
        },
      };
    } catch (err) {
      log.debug("Dish diagnostics read failed", { error: (err as Error).message });
    }
  }

  #publish(result: DishPollResult): void {
    for (const event of result.events) {
      for (const listener of this.#eventListeners) listener(event);
    }
    if (result.observation) {
      for (const listener of this.#observationListeners) listener(result.observation);
    }
    if (result.history.length > 0) {
      for (const listener of this.#historyListeners) listener(result.history);
    }
    if (result.outages.length > 0) {
      for (const listener of this.#outageListeners) listener(result.outages);
    }
  }
}
