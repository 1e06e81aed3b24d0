/**
 * Telemetry: bounded in-memory samples, scores and events; the outward
 * channels — notifications (Pushover, webhook), MQTT with Home Assistant
 * discovery, the hook script, the Prometheus page — and the hosts they need.
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
export {
  Notifier,
  PUSHOVER_LIMITS,
  PUSHOVER_PRIORITY,
  PUSHOVER_URL,
  SIGNATURE_HEADER,
  signBody,
} from "./notify.ts";
export type {
  ChannelResult,
  Notification,
  NotificationType,
  NotifierOptions,
  NotifyConfig,
  NotifyResult,
} from "./notify.ts";
export { DISH_STATES, type DishChange, type DishView, LiveState } from "./live.ts";
export {
  escapeLabel,
  MEMBER_STATES,
  type MetricsInput,
  PROMETHEUS_CONTENT_TYPE,
  prometheusText,
} from "./prometheus.ts";
export {
  describeMqttError,
  type DiscoveryIdentity,
  discoveryMessages,
  type MqttEvent,
  type MqttMessage,
  MqttPublisher,
  type MqttPublisherOptions,
  type MqttStateInput,
  type MqttStatus,
  stateMessages,
  topicSafe,
} from "./mqtt.ts";
export { HOOK_QUEUE_MAX, hookEnv, type HookEvent, type HookRun, HookRunner } from "./hook.ts";
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
