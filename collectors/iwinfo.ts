/**
 * Wi-Fi link quality from `ubus call iwinfo info {"device": …}` (rpcd-mod-iwinfo),
 * with the `iwinfo <dev> info` text as a fallback when the ubus object is
 * missing. `noise: 0` means unknown; in STA mode with no association the
 * signal, quality and bitrate keys are left out (text: `unknown`).
 *
 * @module
 */

import type { Observation } from "../engine/types.ts";
import type { UbusCaller } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import { type ExecResult, runCommand, type RunOptions } from "./exec.ts";

/** Wi-Fi facts a member's score uses. */
export interface WifiInfo {
  /** Signal in dBm; absent when not associated. */
  signal_dbm?: number;
  /** Noise floor in dBm; absent when unknown. */
  noise_dbm?: number;
  /** Bit rate in kbit/s. */
  bitrate_kbps?: number;
  /** Link quality (0..quality_max). */
  quality?: number;
  /** Maximum quality (70). */
  quality_max?: number;
  /** SSID. */
  ssid?: string;
  /** BSSID. */
  bssid?: string;
  /** `Master`, `Client`, `Mesh Point`, … */
  mode?: string;
  /** Channel. */
  channel?: number;
  /** Frequency in MHz. */
  frequency_mhz?: number;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * Parses the JSON of `ubus call iwinfo info`.
 *
 * @example
 * ```ts
 * parseIwinfoInfo({ signal: -76, noise: -87, bitrate: 195100, quality: 34, quality_max: 70 });
 * // { signal_dbm: -76, noise_dbm: -87, bitrate_kbps: 195100, quality: 34, quality_max: 70 }
 * ```
 */
export function parseIwinfoInfo(json: unknown): WifiInfo {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error("iwinfo info reply is not a JSON object");
  }
  const j = json as Record<string, unknown>;
  const info: WifiInfo = {};
  const signal = num(j.signal);
  if (signal !== undefined && signal !== 0) info.signal_dbm = signal;
  const noise = num(j.noise);
  if (noise !== undefined && noise !== 0) info.noise_dbm = noise;
  const bitrate = num(j.bitrate);
  if (bitrate !== undefined) info.bitrate_kbps = bitrate;
  const quality = num(j.quality);
  if (quality !== undefined) info.quality = quality;
  const qmax = num(j.quality_max);
  if (qmax !== undefined) info.quality_max = qmax;
  if (typeof j.ssid === "string") info.ssid = j.ssid;
  if (typeof j.bssid === "string") info.bssid = j.bssid;
  if (typeof j.mode === "string") info.mode = j.mode;
  const channel = num(j.channel);
  if (channel !== undefined) info.channel = channel;
  const freq = num(j.frequency);
  if (freq !== undefined) info.frequency_mhz = freq;
  return info;
}

/**
 * Parses `iwinfo <dev> info` text (the first device block). `unknown`
 * values are left out.
 */
export function parseIwinfoText(text: string): WifiInfo {
  const info: WifiInfo = {};
  const lines = text.split("\n").filter((l) => !l.startsWith("#"));
  const body = lines.join("\n");
  const essid = /ESSID: (?:"(.*)"|unknown)/.exec(body);
  if (essid?.[1] !== undefined) info.ssid = essid[1];
  const ap = /Access Point: ([0-9A-Fa-f:]{17})/.exec(body);
  if (ap) info.bssid = ap[1];
  const mode = /Mode: (.+?)\s{2,}Channel: (\d+) \(([\d.]+) GHz\)/.exec(body);
  if (mode) {
    info.mode = mode[1];
    info.channel = Number(mode[2]);
    info.frequency_mhz = Math.round(Number(mode[3]) * 1000);
  }
  const quality = /Link Quality: (\d+)\/(\d+)/.exec(body);
  if (quality) {
    info.quality = Number(quality[1]);
    info.quality_max = Number(quality[2]);
  }
  const signal = /Signal: (-?\d+) dBm/.exec(body);
  if (signal) info.signal_dbm = Number(signal[1]);
  const noise = /Noise: (-?\d+) dBm/.exec(body);
  if (noise && Number(noise[1]) !== 0) info.noise_dbm = Number(noise[1]);
  const rate = /Bit Rate: ([\d.]+) MBit\/s/.exec(body);
  if (rate) info.bitrate_kbps = Math.round(Number(rate[1]) * 1000);
  return info;
}

/** Options for {@linkcode fetchIwinfo}. */
export interface IwinfoOptions {
  /** Deadline per call (default 2000 ms). */
  timeoutMs?: number;
  /** Subprocess runner for the text fallback (default {@linkcode runCommand}). */
  run?: (cmd: string, args: string[], opts: RunOptions) => Promise<ExecResult>;
}

/**
 * Reads Wi-Fi info for `device` over ubus; when the `iwinfo` object is not
 * on the bus (rpcd-mod-iwinfo missing), runs `iwinfo <device> info`.
 * Rejects when the device is unknown to both.
 */
export async function fetchIwinfo(
  ubus: UbusCaller,
  device: string,
  opts: IwinfoOptions = {},
): Promise<WifiInfo> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  try {
    return parseIwinfoInfo(await ubus.call("iwinfo", "info", { device }, { timeoutMs }));
  } catch (err) {
    if (!(err instanceof UbusError && err.status === Status.NOT_FOUND)) throw err;
    const run = opts.run ?? runCommand;
    const r = await run("iwinfo", [device, "info"], { timeoutMs });
    if (r.code !== 0 || !/ESSID/.test(r.stdout)) {
      throw new Error(
        `iwinfo has no device '${device}' (${(r.stderr || r.stdout).trim() || `exit ${r.code}`})`,
      );
    }
    return parseIwinfoText(r.stdout);
  }
}

/** Turns Wi-Fi info into an observation (signal and noise, when known). */
export function wifiObservation(member: string, info: WifiInfo, t: number): Observation {
  const obs: Observation = { t, member };
  if (info.signal_dbm !== undefined) obs.signal_dbm = info.signal_dbm;
  if (info.noise_dbm !== undefined) obs.noise_dbm = info.noise_dbm;
  return obs;
}
