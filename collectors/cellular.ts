/**
 * Cellular signal, technology, operator and roaming from whatever the router
 * offers, each detected at run time:
 *
 * - RutOS: ubus `gsm.modem0` (`get_signal_query`, `info`) or the `gsmctl`
 *   client (7.x multi-line `NAME: value`, legacy RUT9XX bare values);
 * - ModemManager: `mmcli -L -J`, `mmcli -m N -J`, `mmcli -m N --signal-get -J`
 *   (every leaf a string, `--` = unknown; `--signal-setup` is needed once);
 * - uqmi: `--get-signal-info` (an object, or an array with EN-DC) and
 *   `--get-serving-system`; QMI errors come as a bare JSON string on stdout.
 *
 * The formats are recorded in `collectors/testdata/` with their sources.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import type { Observation } from "../engine/types.ts";
import type { UbusCaller } from "../ubus/client.ts";
import { type ExecResult, runCommand, type RunOptions } from "./exec.ts";

const log = getLogger(["starfail", "collectors", "cellular"]);

/** Which tool a reading came from. */
export type CellularBackendName = "rutos-ubus" | "gsmctl" | "modemmanager" | "uqmi";

/** One cellular reading; each field only when the tool reported it. */
export interface CellularReading {
  /** The tool used. */
  backend: CellularBackendName;
  /** RSRP in dBm (LTE, or NR when there is no LTE anchor). */
  rsrp_dbm?: number;
  /** RSRQ in dB. */
  rsrq_db?: number;
  /** SINR/SNR in dB. */
  sinr_db?: number;
  /** RSSI in dBm. */
  rssi_dbm?: number;
  /** Access technology (`LTE`, `5G-NSA`, `lte`, `umts`, …) as the tool names it. */
  technology?: string;
  /** Operator name. */
  operator?: string;
  /** Registration text as the tool prints it. */
  registration?: string;
  /** Whether the modem is roaming. */
  roaming?: boolean;
}

/** Subprocess runner (default {@linkcode runCommand}). */
export type RunFn = (cmd: string, args: string[], opts: RunOptions) => Promise<ExecResult>;

function finite(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && v !== "--") {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

function setIf<K extends keyof CellularReading>(
  r: CellularReading,
  k: K,
  v: CellularReading[K],
): void {
  if (v !== undefined) r[k] = v;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: output is not JSON: ${text.trim().slice(0, 80)}`);
  }
}

// ---------------------------------------------------------------------------
// ModemManager

/** Parses `mmcli -L -J` into modem indexes (`/org/freedesktop/ModemManager1/Modem/0` → "0"). */
export function parseMmcliList(text: string): string[] {
  const j = obj(parseJson(text, "mmcli -L -J"));
  const list = Array.isArray(j["modem-list"]) ? j["modem-list"] : [];
  return list
    .map((p) => /\/Modem\/(\d+)$/.exec(String(p))?.[1])
    .filter((x): x is string => x !== undefined);
}

/** Parses `mmcli -m N -J`: technology, operator, registration and roaming. */
export function parseMmcliModem(text: string): Omit<CellularReading, "backend"> {
  const modem = obj(obj(parseJson(text, "mmcli -m -J")).modem);
  const generic = obj(modem.generic);
  const gpp = obj(modem["3gpp"]);
  const r: CellularReading = { backend: "modemmanager" };
  const techs = Array.isArray(generic["access-technologies"])
    ? (generic["access-technologies"] as unknown[]).map(String).filter((t) => t !== "--")
    : [];
  if (techs.length > 0) r.technology = techs.join(",");
  const op = gpp["operator-name"];
  if (typeof op === "string" && op !== "--") r.operator = op;
  const reg = gpp["registration-state"];
  if (typeof reg === "string" && reg !== "--") {
    r.registration = reg;
    r.roaming = reg.startsWith("roaming");
  }
  const { backend: _b, ...rest } = r;
  return rest;
}

/**
 * Parses `mmcli -m N --signal-get -J`. LTE values win (the anchor of an NSA
 * connection); 5G fills in when LTE has none (SA). All `--` → nothing.
 */
export function parseMmcliSignal(text: string): Omit<CellularReading, "backend"> {
  const sig = obj(obj(obj(parseJson(text, "mmcli --signal-get -J")).modem).signal);
  const lte = obj(sig.lte);
  const nr = obj(sig["5g"]);
  const umts = obj(sig.umts);
  const gsm = obj(sig.gsm);
  const r: CellularReading = { backend: "modemmanager" };
  setIf(r, "rsrp_dbm", finite(lte.rsrp) ?? finite(nr.rsrp));
  setIf(r, "rsrq_db", finite(lte.rsrq) ?? finite(nr.rsrq));
  setIf(r, "sinr_db", finite(lte.snr) ?? finite(nr.snr));
  setIf(
    r,
    "rssi_dbm",
    finite(lte.rssi) ?? finite(nr.rssi) ?? finite(umts.rssi) ?? finite(gsm.rssi),
  );
  const { backend: _b, ...rest } = r;
  return rest;
}

// ---------------------------------------------------------------------------
// uqmi

/**
 * Parses `uqmi --get-signal-info`: an object, or an array `[lte, 5gnr]` with
 * EN-DC. A bare JSON string (QMI error) throws.
 */
export function parseUqmiSignal(text: string): Omit<CellularReading, "backend"> {
  const j = parseJson(text, "uqmi --get-signal-info");
  if (typeof j === "string") throw new Error(`uqmi --get-signal-info: ${j}`);
  const parts = (Array.isArray(j) ? j : [j]).map(obj);
  const lte = parts.find((p) => p.type === "lte") ?? {};
  const nr = parts.find((p) => p.type === "5gnr") ?? {};
  const other = parts.find((p) => p.type !== "lte" && p.type !== "5gnr") ?? {};
  const r: CellularReading = { backend: "uqmi" };
  setIf(r, "rsrp_dbm", finite(lte.rsrp) ?? finite(nr.rsrp));
  setIf(r, "rsrq_db", finite(lte.rsrq) ?? finite(nr.rsrq));
  setIf(r, "sinr_db", finite(lte.snr) ?? finite(nr.snr));
  setIf(r, "rssi_dbm", finite(lte.rssi) ?? finite(other.rssi) ?? finite(other.signal));
  const types = parts.map((p) => p.type).filter((t): t is string => typeof t === "string");
  if (types.length > 0) r.technology = types.join(",");
  const { backend: _b, ...rest } = r;
  return rest;
}

/** Parses `uqmi --get-serving-system`: registration, operator, roaming (absent when the TLV is). */
export function parseUqmiServing(text: string): Omit<CellularReading, "backend"> {
  const j = parseJson(text, "uqmi --get-serving-system");
  if (typeof j === "string") throw new Error(`uqmi --get-serving-system: ${j}`);
  const s = obj(j);
  const r: CellularReading = { backend: "uqmi" };
  if (typeof s.registration === "string") r.registration = s.registration;
  if (typeof s.plmn_description === "string") r.operator = s.plmn_description;
  if (typeof s.roaming === "boolean") r.roaming = s.roaming;
  const { backend: _b, ...rest } = r;
  return rest;
}

// ---------------------------------------------------------------------------
// RutOS

/** Parses `ubus call gsm.modem0 get_signal_query` (`{net_mode, rssi, rsrp, sinr, rsrq}`). */
export function parseGsmSignalQuery(json: unknown): Omit<CellularReading, "backend"> {
  const j = obj(json);
  const r: CellularReading = { backend: "rutos-ubus" };
  setIf(r, "rsrp_dbm", finite(j.rsrp));
  setIf(r, "rsrq_db", finite(j.rsrq));
  setIf(r, "sinr_db", finite(j.sinr));
  setIf(r, "rssi_dbm", finite(j.rssi));
  if (typeof j.net_mode === "string") r.technology = j.net_mode;
  const { backend: _b, ...rest } = r;
  return rest;
}

/** Whether a RutOS registration text means roaming (`Roaming`, `SMS only, roaming`, `registered (roaming)`). */
export function rutosRoaming(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === "" || t === "unknown") return undefined;
  return t.includes("roaming");
}

/** Parses `gsmctl --info` / `ubus call gsm.modem0 info` (the `cache` section). */
export function parseGsmInfo(json: unknown): Omit<CellularReading, "backend"> {
  const cache = obj(obj(json).cache);
  const r: CellularReading = { backend: "rutos-ubus" };
  setIf(r, "rsrp_dbm", finite(cache.rsrp_value));
  setIf(r, "rsrq_db", finite(cache.rsrq_value));
  setIf(r, "sinr_db", finite(cache.sinr_value));
  setIf(r, "rssi_dbm", finite(cache.rssi_value));
  if (typeof cache.net_mode_str === "string") r.technology = cache.net_mode_str;
  const op = cache.operator ?? cache.provider_name;
  if (typeof op === "string") r.operator = op;
  if (typeof cache.reg_stat_str === "string") {
    r.registration = cache.reg_stat_str;
    setIf(r, "roaming", rutosRoaming(cache.reg_stat_str));
  }
  const { backend: _b, ...rest } = r;
  return rest;
}

/**
 * Parses `gsmctl -q`. RutOS 7.x prints `RSSI: -44` lines (only the metrics of
 * the current RAT); legacy RUT9XX prints a bare RSSI. `legacy` tells which.
 */
export function parseGsmctlSignal(
  text: string,
): Omit<CellularReading, "backend"> & { legacy: boolean } {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length === 1 && /^-?\d+(\.\d+)?$/.test(lines[0])) {
    return { rssi_dbm: Number(lines[0]), legacy: true };
  }
  const out: Omit<CellularReading, "backend"> & { legacy: boolean } = { legacy: false };
  for (const line of lines) {
    const m = /^([A-Z]+):\s*(-?\d+(?:\.\d+)?)$/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (m[1] === "RSSI") out.rssi_dbm = v;
    else if (m[1] === "RSRP") out.rsrp_dbm = v;
    else if (m[1] === "RSRQ") out.rsrq_db = v;
    else if (m[1] === "SINR") out.sinr_db = v;
  }
  return out;
}

/** Parses a legacy single-value `gsmctl` reply; `service mode not supported` → undefined. */
export function parseGsmctlValue(text: string): number | undefined {
  return finite(text.trim());
}

// ---------------------------------------------------------------------------
// Sources

/** Options shared by the cellular sources. */
export interface CellularOptions {
  /** ubus access (for RutOS `gsm.modemN`). */
  ubus?: UbusCaller;
  /** Subprocess runner (default {@linkcode runCommand}). */
  run?: RunFn;
  /** Deadline per call (default 3000 ms). */
  timeoutMs?: number;
  /** QMI control device for uqmi (default: the first of {@linkcode QMI_DEVICES} uqmi answers on). */
  qmiDevice?: string;
  /** RutOS modem object (default `gsm.modem0`). */
  gsmObject?: string;
  /** ModemManager modem index (default: first from `mmcli -L -J`). */
  modemIndex?: string;
  /** Seconds between ModemManager signal refreshes set with `--signal-setup` (default 10). */
  signalRefreshS?: number;
}

/** A detected cellular tool that can be read repeatedly. */
export interface CellularSource {
  /** Which tool. */
  readonly backend: CellularBackendName;
  /** Reads signal, technology, operator and roaming. */
  read(): Promise<CellularReading>;
}

async function must(run: RunFn, cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.timedOut) throw new Error(`${cmd} ${args.join(" ")}: no answer within ${timeoutMs} ms`);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`,
    );
  }
  return r.stdout;
}

/** RutOS `gsm.modemN` over ubus. */
export class RutosUbusSource implements CellularSource {
  readonly backend = "rutos-ubus" as const;
  #ubus: UbusCaller;
  #object: string;
  #timeoutMs: number;
  /** Creates a source reading `object` (e.g. `gsm.modem0`). */
  constructor(ubus: UbusCaller, object: string, timeoutMs: number) {
    this.#ubus = ubus;
    this.#object = object;
    this.#timeoutMs = timeoutMs;
  }
  /** Reads `get_signal_query` and the `info` cache (for operator and roaming). */
  async read(): Promise<CellularReading> {
    const opts = { timeoutMs: this.#timeoutMs };
    const signal = parseGsmSignalQuery(
      await this.#ubus.call(this.#object, "get_signal_query", {}, opts),
    );
    let info: Omit<CellularReading, "backend"> = {};
    try {
      info = parseGsmInfo(await this.#ubus.call(this.#object, "info", {}, opts));
    } catch (err) {
      log.debug("gsm info failed", { object: this.#object, error: String(err) });
    }
    return { ...info, ...signal, backend: this.backend };
  }
}

/** RutOS `gsmctl` (7.x or legacy). */
export class GsmctlSource implements CellularSource {
  readonly backend = "gsmctl" as const;
  #run: RunFn;
  #timeoutMs: number;
  /** Creates a source running `gsmctl`. */
  constructor(run: RunFn, timeoutMs: number) {
    this.#run = run;
    this.#timeoutMs = timeoutMs;
  }
  /** Runs `gsmctl -q`, `-t`, `-g`, `-o` (plus `-W`/`-Z` on legacy firmware). */
  async read(): Promise<CellularReading> {
    const t = this.#timeoutMs;
    const { legacy, ...signal } = parseGsmctlSignal(await must(this.#run, "gsmctl", ["-q"], t));
    const r: CellularReading = { ...signal, backend: this.backend };
    if (legacy) {
      setIf(r, "rsrp_dbm", parseGsmctlValue(await must(this.#run, "gsmctl", ["-W"], t)));
      setIf(r, "sinr_db", parseGsmctlValue(await must(this.#run, "gsmctl", ["-Z"], t)));
    }
    const tech = await this.#run("gsmctl", ["-t"], { timeoutMs: t });
    if (tech.code === 0 && tech.stdout.trim()) r.technology = tech.stdout.trim();
    const reg = await this.#run("gsmctl", ["-g"], { timeoutMs: t });
    if (reg.code === 0 && reg.stdout.trim()) {
      r.registration = reg.stdout.trim();
      setIf(r, "roaming", rutosRoaming(r.registration));
    }
    const op = await this.#run("gsmctl", ["-o"], { timeoutMs: t });
    if (op.code === 0 && op.stdout.trim()) r.operator = op.stdout.trim();
    return r;
  }
}

/** ModemManager through `mmcli`. */
export class ModemManagerSource implements CellularSource {
  readonly backend = "modemmanager" as const;
  #run: RunFn;
  #index: string;
  #timeoutMs: number;
  #refreshS: number;
  #setupDone = false;
  /** Creates a source for modem `index`. */
  constructor(run: RunFn, index: string, timeoutMs: number, refreshS = 10) {
    this.#run = run;
    this.#index = index;
    this.#timeoutMs = timeoutMs;
    this.#refreshS = refreshS;
  }
  /** Runs `mmcli -m N -J` and `--signal-get -J` (setting up signal polling once). */
  async read(): Promise<CellularReading> {
    const t = this.#timeoutMs;
    if (!this.#setupDone) {
      const r = await this.#run("mmcli", ["-m", this.#index, `--signal-setup=${this.#refreshS}`], {
        timeoutMs: t,
      });
      this.#setupDone = r.code === 0;
      if (r.code !== 0) log.debug("mmcli --signal-setup failed", { stderr: r.stderr.trim() });
    }
    const modem = parseMmcliModem(await must(this.#run, "mmcli", ["-m", this.#index, "-J"], t));
    const signal = parseMmcliSignal(
      await must(this.#run, "mmcli", ["-m", this.#index, "--signal-get", "-J"], t),
    );
    return { ...modem, ...signal, backend: this.backend };
  }
}

/** uqmi on a QMI control device. */
export class UqmiSource implements CellularSource {
  readonly backend = "uqmi" as const;
  #run: RunFn;
  #device: string;
  #timeoutMs: number;
  /** Creates a source for `device` (e.g. `/dev/cdc-wdm0`). */
  constructor(run: RunFn, device: string, timeoutMs: number) {
    this.#run = run;
    this.#device = device;
    this.#timeoutMs = timeoutMs;
  }
  /** Runs `uqmi -s -d DEV --get-signal-info` and `--get-serving-system`. */
  async read(): Promise<CellularReading> {
    const t = this.#timeoutMs;
    const signal = parseUqmiSignal(
      await must(this.#run, "uqmi", ["-s", "-d", this.#device, "--get-signal-info"], t),
    );
    let serving: Omit<CellularReading, "backend"> = {};
    try {
      serving = parseUqmiServing(
        await must(this.#run, "uqmi", ["-s", "-d", this.#device, "--get-serving-system"], t),
      );
    } catch (err) {
      log.debug("uqmi serving system failed", { error: String(err) });
    }
    return { ...serving, ...signal, backend: this.backend };
  }
}

/**
 * QMI control devices tried in order when none is configured. starfail never
 * lists `/dev` itself (Deno grants `/dev` only with `--allow-all`): uqmi opens
 * the device, outside the sandbox, and a missing one fails at once.
 */
export const QMI_DEVICES = ["/dev/cdc-wdm0", "/dev/cdc-wdm1", "/dev/cdc-wdm2", "/dev/cdc-wdm3"];

/**
 * Finds the cellular tool this router offers, in order: RutOS ubus
 * `gsm.modem0`, `gsmctl`, ModemManager (`mmcli -L -J` lists a modem), uqmi
 * (a QMI device answers `--get-signal-info`). Resolves `null` when none.
 */
export async function detectCellular(opts: CellularOptions = {}): Promise<CellularSource | null> {
  const run = opts.run ?? runCommand;
  const timeoutMs = opts.timeoutMs ?? 3000;
  if (opts.ubus) {
    const object = opts.gsmObject ?? "gsm.modem0";
    try {
      await opts.ubus.call(object, "get_signal_query", {}, { timeoutMs });
      return new RutosUbusSource(opts.ubus, object, timeoutMs);
    } catch {
      // not RutOS, or no modem
    }
  }
  const gsm = await run("gsmctl", ["-q"], { timeoutMs });
  if (gsm.code === 0 && gsm.stdout.trim() !== "") return new GsmctlSource(run, timeoutMs);
  const mm = await run("mmcli", ["-L", "-J"], { timeoutMs });
  if (mm.code === 0) {
    try {
      const modems = parseMmcliList(mm.stdout);
      const index = opts.modemIndex ?? modems[0];
      if (index !== undefined) {
        return new ModemManagerSource(run, index, timeoutMs, opts.signalRefreshS);
      }
    } catch (err) {
      log.debug("mmcli -L -J unreadable", { error: String(err) });
    }
  }
  for (const device of opts.qmiDevice !== undefined ? [opts.qmiDevice] : QMI_DEVICES) {
    const q = await run("uqmi", ["-s", "-d", device, "--get-signal-info"], { timeoutMs });
    if (q.code === 127) break; // uqmi is not installed
    const out = q.stdout.trim();
    if (q.code === 0 && (out.startsWith("{") || out.startsWith("["))) {
      return new UqmiSource(run, device, timeoutMs);
    }
  }
  return null;
}

/** Turns a reading into an observation (RSRP, RSRQ, SINR, roaming when known). */
export function cellularObservation(member: string, r: CellularReading, t: number): Observation {
  const obs: Observation = { t, member };
  if (r.rsrp_dbm !== undefined) obs.rsrp_dbm = r.rsrp_dbm;
  if (r.rsrq_db !== undefined) obs.rsrq_db = r.rsrq_db;
  if (r.sinr_db !== undefined) obs.sinr_db = r.sinr_db;
  if (r.roaming !== undefined) obs.roaming = r.roaming;
  return obs;
}
