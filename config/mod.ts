/**
 * starfail's configuration: the UCI reader/writer, the valibot schema of
 * `/etc/config/starfail`, and loading, checking and editing it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./mod.ts";
 * const { config, warnings } = await loadConfig("/etc/config/starfail");
 * console.log(config.main.cooldown_s, warnings.length);
 * ```
 *
 * @module
 */

export {
  anonymousSectionName,
  editUciOption,
  exportUci,
  type ExportUciOptions,
  findOption,
  findSection,
  isValidUciName,
  isValidUciType,
  parseUci,
  quoteUci,
  type UciDocument,
  UciEditError,
  type UciOption,
  type UciOptionEdit,
  type UciParseError,
  type UciParseResult,
  type UciSection,
  type UciStatement,
} from "./uci.ts";
export { writeFileAtomic, type WriteFileAtomicOptions } from "./atomic_write.ts";
export { type FileLockOptions, FileLockTimeout, withFileLock } from "./file_lock.ts";
export {
  ConfigSchema,
  DEFAULT_CONFIG,
  DEFAULT_PROBE_TARGETS,
  DEFAULT_WEIGHT_BY_CLASS,
  DETECT_MODES,
  type DetectedClass,
  type HookConfig,
  HookSchema,
  type HttpConfig,
  HttpSchema,
  isHost,
  LIST_OPTIONS,
  LOG_LEVELS,
  type MainConfig,
  MainSchema,
  MEMBER_CLASSES,
  MEMBER_OPTIONS,
  type MemberConfig,
  MemberSchema,
  memberWeight,
  type MqttConfig,
  MqttSchema,
  type NotificationsConfig,
  NotificationsSchema,
  parseUciBool,
  PROBE_METHODS,
  type RemoteConfig,
  RemoteSchema,
  type ScoringConfig,
  ScoringSchema,
  SECTION_OPTIONS,
  type StarfailConfig,
  type StarlinkConfig,
  StarlinkSchema,
} from "./schema.ts";
export {
  checkConfigText,
  configAsDocument,
  type ConfigCheck,
  ConfigError,
  ConfigKeyError,
  configPathFromEnv,
  configToJson,
  configToUci,
  DEFAULT_CONFIG_PATH,
  getOption,
  loadConfig,
  type LoadedConfig,
  parseConfigText,
  type ResolvedKey,
  resolveKey,
  setOption,
  type SetOptionResult,
  UPSTREAM_ALIASES,
} from "./load.ts";
export { checkSandbox, type NetNeed, netNeeds, sandboxMessage, socketDenials } from "./sandbox.ts";
