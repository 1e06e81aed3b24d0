/**
 * Telemetry: bounded in-memory samples, scores and events, and
 * notifications (Pushover, webhook).
 *
 * @example
 * ```ts
 * import { Notifier, TelemetryStore } from "./telemetry/mod.ts";
 * const store = new TelemetryStore({ max_samples_per_member: 1000, max_events: 500, retention_hours: 24, max_ram_mb: 16 });
 * store.addEvent({ t: 10, type: "failover", member: "lte", message: "wan lost 40% of probes" });
 * ```
 *
 * @module
 */

export { estimateBytes, RingBuffer, TelemetryStore } from "./store.ts";
export type { Query, ScoreSample, StoredEvent, StoreInfo, StoreLimits } from "./store.ts";
export { Notifier, PUSHOVER_URL } from "./notify.ts";
export type {
  Notification,
  NotificationType,
  NotifierOptions,
  NotifyConfig,
  NotifyResult,
} from "./notify.ts";
export {
  formatConsoleLine,
  formatJsonLine,
  isLevelName,
  type LevelName,
  LEVELS,
  logEnabled,
  type LoggingOptions,
  type LogHandle,
  setupLogging,
  wantColor,
} from "./log.ts";
