/**
 * starfail's public API: what another program would embed.
 *
 * - The decision engine: pure functions over plain data with time as an input
 *   (`createEngine`, `observe`, `tick`, `explain`, `snapshot`, trace replay).
 * - The configuration: the UCI reader/writer and the one valibot schema of
 *   `/etc/config/starfail` (`loadConfig`, `parseConfigText`, `ConfigSchema`).
 * - The ubus client: the native wire protocol (`UbusClient`, blobmsg codec)
 *   and the `starfail` object's argument schemas and result types.
 *
 * @example
 * ```ts
 * import { createEngine, engineConfig, observe, tick } from "./mod.ts";
 * const cfg = engineConfig({ poll_interval_ms: 1000 });
 * let s = createEngine([{ name: "starlink", class: "starlink", weight: 100 }], cfg, 0);
 * s = observe(s, { t: 0.5, member: "starlink", link_up: true, latency_ms: 40, loss_pct: 0 });
 * const { decision } = tick(s, 1, cfg);
 * ```
 *
 * @module
 */

export * from "./engine/mod.ts";
export {
  ConfigError,
  ConfigSchema,
  configToJson,
  configToUci,
  DEFAULT_CONFIG,
  exportUci,
  type ExportUciOptions,
  loadConfig,
  type LoadedConfig,
  parseConfigText,
  parseUci,
  type StarfailConfig,
  type UciDocument,
  type UciParseResult,
} from "./config/mod.ts";
export {
  type BlobmsgInput,
  decodeBlobmsgTable,
  encodeBlobmsgTable,
  type InvokeReply,
  type JsonObject,
  type JsonValue,
  type RequestOptions,
  UbusClient,
  UbusError,
  type UbusObjectInfo,
} from "./ubus/mod.ts";
export type { ObjectHandler } from "./ubus/client.ts";
export * from "./ubus/starfail_object.ts";
export { VERSION } from "./version.ts";
