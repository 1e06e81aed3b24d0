/**
 * Loading, checking, printing and editing `/etc/config/starfail`.
 *
 * {@linkcode loadConfig} reads the UCI file, applies the schema and throws a
 * {@linkcode ConfigError} that lists every problem at once, one line each:
 *
 * ```
 * /etc/config/starfail:12: section 'main' option 'cooldown_s' = 'abc': expected an integer from 0 to 3600
 * ```
 *
 * Unknown sections and options are warnings in the same `file:line:` form;
 * the upstream (Go starfail) option names are accepted with a warning naming
 * the new name.
 *
 * @module
 */

import { FileLockTimeout, withFileLock } from "./file_lock.ts";
import * as v from "valibot";
import {
  editUciOption,
  exportUci,
  findOption,
  isValidUciName,
  parseUci,
  type UciDocument,
  UciEditError,
  type UciOption,
  type UciSection,
} from "./uci.ts";
import {
  ConfigSchema,
  LIST_OPTIONS,
  MEMBER_OPTIONS,
  SECTION_OPTIONS,
  type StarfailConfig,
} from "./schema.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { CONFIG_MAX_BYTES, FileReadError, ioReason, readTextFileBounded } from "../io/read_file.ts";
import { oneLine, quoteValue, showValue } from "../io/show_value.ts";

/** Where starfail looks for its configuration unless told otherwise. */
export const DEFAULT_CONFIG_PATH = "/etc/config/starfail";

/** The configuration path: `STARFAIL_CONFIG` if set, else {@linkcode DEFAULT_CONFIG_PATH}. */
export function configPathFromEnv(): string {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("STARFAIL_CONFIG");
  } catch {
    fromEnv = undefined;
  }
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : DEFAULT_CONFIG_PATH;
}

/** Most member sections a configuration may hold. */
export const MAX_MEMBERS = 32;

/** Most problems (and warnings) reported for one file; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 20;

/**
 * The configuration cannot be used; `problems` holds one line per problem.
 * `exitCode` is 78 (EX_CONFIG) for bad content and a missing file, 66 when the
 * path is not a readable regular file, 65 when it is above the size cap, 74
 * for an I/O error such as a symbolic link loop.
 */
export class ConfigError extends Error {
  /** Every problem, one printable line each, in `FILE:LINE: …` form. */
  readonly problems: string[];
  /** Exit code for the CLI: 78 (EX_CONFIG), or 66 (EX_NOINPUT) for a missing file. */
  readonly exitCode: number;
  /** Warnings found alongside (unknown options …), for `config validate` to show in file order. */
  readonly warnings: string[];
  /** Creates the error; the message is the problems joined by newlines. */
  constructor(problems: string[], exitCode = 78, warnings: string[] = []) {
    const lines = capProblems(problems.map((p) => oneLine(p)));
    super(lines.join("\n"));
    this.name = "ConfigError";
    this.problems = lines;
    this.exitCode = exitCode;
    this.warnings = warnings.map((w) => oneLine(w));
  }
}

/** Keeps the first {@linkcode MAX_REPORTED_PROBLEMS} lines and counts the rest. */
function capProblems(lines: string[]): string[] {
  if (lines.length <= MAX_REPORTED_PROBLEMS) return lines;
  const rest = lines.length - MAX_REPORTED_PROBLEMS + 1;
  return [...lines.slice(0, MAX_REPORTED_PROBLEMS - 1), `... and ${rest} more problems`];
}

/** A key given to {@linkcode getOption}/{@linkcode setOption} names no known option. */
export class ConfigKeyError extends Error {
  /** Creates the error with a one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigKeyError";
  }
}

/** A loaded configuration plus the warnings found while reading it. */
export interface LoadedConfig {
  /** The checked configuration, defaults applied. */
  config: StarfailConfig;
  /** Non-fatal findings (unknown options, upstream names), one line each. */
  warnings: string[];
}

/** An upstream option name and where its value goes now. */
interface Alias {
  section: string;
  option: string;
  /** Multiplier for a unit change (seconds → ms, minutes → s). */
  scale?: number;
}

/**
 * Upstream (Go starfail) names accepted as deprecated aliases, by the section
 * they appear in. Listed in docs/config.md.
 */
export const UPSTREAM_ALIASES: Readonly<Record<string, Readonly<Record<string, Alias>>>> = {
  main: {
    enable: { section: "main", option: "enabled" },
    fail_threshold_loss: { section: "main", option: "fail_loss_pct" },
    fail_threshold_latency: { section: "main", option: "fail_latency_ms" },
    restore_threshold_loss: { section: "main", option: "restore_loss_pct" },
    restore_threshold_latency: { section: "main", option: "restore_latency_ms" },
    dish_ip: { section: "starlink", option: "host" },
    starlink_api_host: { section: "starlink", option: "host" },
    dish_port: { section: "starlink", option: "port" },
    starlink_api_port: { section: "starlink", option: "port" },
    starlink_timeout_s: { section: "starlink", option: "timeout_ms", scale: 1000 },
    rate_limit_minutes: { section: "notifications", option: "rate_limit_s", scale: 60 },
  },
  starlink: {
    enable: { section: "starlink", option: "enabled" },
    dish_ip: { section: "starlink", option: "host" },
    starlink_api_host: { section: "starlink", option: "host" },
    dish_port: { section: "starlink", option: "port" },
    starlink_api_port: { section: "starlink", option: "port" },
    starlink_timeout_s: { section: "starlink", option: "timeout_ms", scale: 1000 },
  },
  notifications: {
    enable: { section: "notifications", option: "enabled" },
    rate_limit_minutes: { section: "notifications", option: "rate_limit_s", scale: 60 },
  },
};

/** Where a raw value came from, for messages. */
interface Origin {
  line: number;
  sectionLabel: string;
  option: string;
  raw: string | string[];
  /** Set when the value came through an upstream alias. */
  aliasOf?: string;
  converted?: string;
}

/** Options whose check also involves other options, for choosing a line to report. */
const RELATED: Readonly<Record<string, readonly string[]>> = {
  restore_loss_pct: ["fail_loss_pct"],
  restore_latency_ms: ["fail_latency_ms"],
  latency_bad_ms: ["latency_ok_ms"],
  loss_bad_pct: ["loss_ok_pct"],
  jitter_bad_ms: ["jitter_ok_ms"],
  obstruction_bad_pct: ["obstruction_ok_pct"],
  blend_window: ["blend_ewma", "blend_instant"],
  weight_obstruction: ["weight_jitter", "weight_loss", "weight_latency"],
  pushover_user: ["pushover_token"],
  probe_reliability: ["probe_target"],
};

function formatRaw(raw: string | string[]): string {
  if (!Array.isArray(raw)) return quoteValue(raw);
  const shown = raw.slice(0, 8).map((item) => quoteValue(item)).join(" ");
  return raw.length > 8 ? `${shown} ... (${raw.length} items)` : shown;
}

/** The result of checking config text without throwing. */
export interface ConfigCheck {
  /** The configuration when there were no problems. */
  config?: StarfailConfig;
  /** Fatal problems, one line each. */
  problems: string[];
  /** Warnings, one line each. */
  warnings: string[];
  /** The parsed UCI document (for key lookups). */
  document: UciDocument;
}

/**
 * Checks config text and returns problems and warnings instead of throwing.
 * `fileName` is used as the prefix of every line.
 */
export function checkConfigText(text: string, fileName: string): ConfigCheck {
  const check = checkConfigTextRaw(text, fileName);
  return {
    ...check,
    problems: capProblems(check.problems.map((p) => oneLine(p))),
    warnings: capProblems(check.warnings.map((w) => oneLine(w))),
  };
}

function checkConfigTextRaw(text: string, fileName: string): ConfigCheck {
  if (text.length > CONFIG_MAX_BYTES) {
    return {
      problems: [
        `${fileName}: the config text is ${text.length} characters, above the limit of ` +
        `${CONFIG_MAX_BYTES} bytes`,
      ],
      warnings: [],
      document: { sections: [] },
    };
  }
  const parsed = parseUci(text);
  const warnings: string[] = [];
  if (parsed.errors.length > 0) {
    return {
      problems: parsed.errors.map((e) => `${fileName}:${e.line}: ${e.message}`),
      warnings,
      document: parsed.document,
    };
  }
  const problems: string[] = [];
  const raw: Record<string, Record<string, unknown>> = {};
  const members: Record<string, unknown>[] = [];
  const origins = new Map<string, Origin>();
  const sectionLines = new Map<string, { line: number; label: string }>();
  const aliasUses: { section: UciSection; option: UciOption; alias: Alias }[] = [];
  let memberIndex = 0;

  for (const section of parsed.document.sections) {
    if (section.type === "starfail") {
      const known = SECTION_OPTIONS[section.name];
      if (section.anonymous || known === undefined) {
        const label = section.anonymous
          ? "anonymous 'starfail' section"
          : `section ${quoteValue(section.name)}`;
        warnings.push(
          `${fileName}:${section.line}: unknown ${label} (ignored); the sections are ` +
            `main, scoring, starlink, notifications, remote, http, mqtt, hook and member`,
        );
        continue;
      }
      raw[section.name] = {};
      sectionLines.set(section.name, { line: section.line, label: section.name });
      for (const option of section.options) {
        if (known.includes(option.name)) {
          raw[section.name][option.name] = option.value;
          origins.set(`${section.name}/${option.name}`, {
            line: option.line,
            sectionLabel: section.name,
            option: option.name,
            raw: option.value,
          });
          continue;
        }
        const alias = UPSTREAM_ALIASES[section.name]?.[option.name];
        if (alias !== undefined) {
          aliasUses.push({ section, option, alias });
          continue;
        }
        warnings.push(
          `${fileName}:${option.line}: section ${quoteValue(section.name)}: unknown option ` +
            `${quoteValue(option.name)} (ignored)${didYouMean(option.name, known)}`,
        );
      }
    } else if (section.type === "member") {
      const index = memberIndex++;
      const label = section.anonymous ? `@member[${index}]` : section.name;
      let name = section.name;
      if (section.anonymous) {
        const iface = findOption(section, "iface");
        if (iface === undefined || Array.isArray(iface.value)) {
          problems.push(
            `${fileName}:${section.line}: section ${
              quoteValue(label)
            }: an anonymous member section needs ` +
              `option 'iface' (or name the section: config member 'wan')`,
          );
          continue;
        }
        name = iface.value;
      }
      const pathKey = `members/${members.length}`;
      if (members.some((m) => m.name === name)) {
        problems.push(
          `${fileName}:${section.line}: section ${quoteValue(label)}: member ${
            quoteValue(name)
          } is described twice`,
        );
        continue;
      }
      const member: Record<string, unknown> = { name };
      sectionLines.set(pathKey, { line: section.line, label });
      for (const option of section.options) {
        if (!MEMBER_OPTIONS.includes(option.name)) {
          warnings.push(
            `${fileName}:${option.line}: section ${quoteValue(label)}: unknown option ` +
              `${quoteValue(option.name)} (ignored)${didYouMean(option.name, MEMBER_OPTIONS)}`,
          );
          continue;
        }
        member[option.name] = option.value;
        origins.set(`${pathKey}/${option.name}`, {
          line: option.line,
          sectionLabel: label,
          option: option.name,
          raw: option.value,
        });
      }
      members.push(member);
    } else {
      warnings.push(
        `${fileName}:${section.line}: unknown section type ${
          quoteValue(section.type)
        } (ignored); ` +
          `use 'starfail' or 'member'`,
      );
    }
  }

  for (const { section, option, alias } of aliasUses) {
    const target = `${alias.section}.${alias.option}`;
    raw[alias.section] ??= {};
    if (origins.has(`${alias.section}/${alias.option}`)) {
      warnings.push(
        `${fileName}:${option.line}: section ${quoteValue(section.name)} option ${
          quoteValue(option.name)
        } is the ` +
          `upstream name of ${target}, which is also set; ${quoteValue(option.name)} is ignored`,
      );
      continue;
    }
    let value: unknown = option.value;
    let converted: string | undefined;
    if (alias.scale !== undefined && typeof option.value === "string") {
      const n = Number(option.value.trim());
      if (option.value.trim() !== "" && Number.isFinite(n)) {
        converted = String(Math.round(n * alias.scale * 1000) / 1000);
        value = converted;
      }
    }
    raw[alias.section][alias.option] = value;
    origins.set(`${alias.section}/${alias.option}`, {
      line: option.line,
      sectionLabel: section.name,
      option: option.name,
      raw: option.value,
      aliasOf: target,
      converted,
    });
    const unit = alias.scale !== undefined
      ? ` (value converted: ${formatRaw(option.value)} → ` +
        `${converted !== undefined ? `'${converted}'` : "?"})`
      : "";
    warnings.push(
      `${fileName}:${option.line}: section ${quoteValue(section.name)} option ${
        quoteValue(option.name)
      } is the ` +
        `upstream name; use section ${quoteValue(alias.section)} option ${
          quoteValue(alias.option)
        } instead ` +
        `(accepted for now)${unit}`,
    );
  }

  if (members.length > MAX_MEMBERS) {
    problems.push(
      `${fileName}: ${members.length} member sections, above the limit of ${MAX_MEMBERS}; ` +
        `describe only the WAN interfaces starfail should choose between`,
    );
    return { problems, warnings, document: parsed.document };
  }
  const input = { ...raw, members };
  const result = v.safeParse(ConfigSchema, input);
  if (result.success && problems.length === 0) {
    return {
      config: result.output,
      problems,
      warnings: inFileOrder(warnings, fileName),
      document: parsed.document,
    };
  }
  for (const issue of result.issues ?? []) {
    problems.push(describeIssue(issue, fileName, origins, sectionLines));
  }
  return {
    problems: inFileOrder(problems, fileName),
    warnings: inFileOrder(warnings, fileName),
    document: parsed.document,
  };
}

/** Lines `FILE:LINE: …` sorted by LINE (stable; lines without one keep their place last). */
export function inFileOrder(lines: string[], fileName: string): string[] {
  const lineOf = (text: string) => {
    if (!text.startsWith(`${fileName}:`)) return Infinity;
    const m = /^(\d+):/.exec(text.slice(fileName.length + 1));
    return m === null ? Infinity : Number(m[1]);
  };
  return lines.map((text, i) => ({ text, i, line: lineOf(text) }))
    .sort((a, b) => a.line - b.line || a.i - b.i).map((x) => x.text);
}

/** `; did you mean 'fail_loss_pct'?` for a near miss of a known option, else "". */
export function didYouMean(name: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  return best !== null && bestD <= limit ? `; did you mean '${best}'?` : "";
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function describeIssue(
  issue: v.BaseIssue<unknown>,
  fileName: string,
  origins: Map<string, Origin>,
  sectionLines: Map<string, { line: number; label: string }>,
): string {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  const option = keys[keys.length - 1] ?? "";
  const sectionKey = keys.slice(0, -1).join("/");
  let origin = origins.get(`${sectionKey}/${option}`);
  if (origin === undefined) {
    for (const other of RELATED[option] ?? []) {
      origin = origins.get(`${sectionKey}/${other}`);
      if (origin !== undefined) break;
    }
  }
  if (origin !== undefined) {
    const via = origin.aliasOf !== undefined
      ? ` (upstream name of ${origin.aliasOf}${
        origin.converted !== undefined ? `, read as '${origin.converted}'` : ""
      })`
      : "";
    let message = issue.message;
    const originTarget = origin.aliasOf?.split(".")[1] ?? origin.option;
    if (originTarget !== option && message.startsWith("must")) {
      const value = (issue.input as Record<string, unknown> | undefined)?.[option];
      message = `${option} (default ${String(value)}) ${message}`;
    }
    return `${fileName}:${origin.line}: section ${quoteValue(origin.sectionLabel)} option ` +
      `${quoteValue(origin.option)} = ${formatRaw(origin.raw)}${via}: ${message}`;
  }
  const section = sectionLines.get(sectionKey);
  const where = section !== undefined ? `${fileName}:${section.line}` : fileName;
  const label = section?.label ?? keys[0] ?? "?";
  return `${where}: section ${quoteValue(label)} option ${
    quoteValue(option)
  } (default): ${issue.message}`;
}

/**
 * Parses and checks config text. Throws {@linkcode ConfigError} with every
 * problem; returns the configuration and the warnings otherwise.
 *
 * @example
 * ```ts
 * import { parseConfigText } from "./load.ts";
 * const { config } = parseConfigText("config starfail 'main'\n\toption cooldown_s '45'\n", "test");
 * // config.main.cooldown_s === 45
 * ```
 */
export function parseConfigText(text: string, fileName: string): LoadedConfig {
  const check = checkConfigText(text, fileName);
  if (check.config === undefined) throw new ConfigError(check.problems, 78, check.warnings);
  return { config: check.config, warnings: check.warnings };
}

/** Reads a text file; a missing file becomes a one-line {@linkcode ConfigError}. */
async function readConfigFile(path: string): Promise<string> {
  const text = await readConfigFileIfExists(path);
  if (text === null) {
    const shown = showValue(path, 200);
    throw new ConfigError([
      `${shown}: no such file; create it with 'starfail config show --defaults > ${shown}' ` +
      `or copy scripts/starfail.uci.example`,
    ], 66);
  }
  return text;
}

/**
 * Reads a config file (regular files only, at most {@linkcode CONFIG_MAX_BYTES}),
 * `null` when it does not exist; other failures become a one-line
 * {@linkcode ConfigError} whose `exitCode` says what went wrong (66, 65, 74).
 */
async function readConfigFileIfExists(path: string): Promise<string | null> {
  try {
    return await readTextFileBounded(path, { maxBytes: CONFIG_MAX_BYTES, what: "UCI file" });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    if (err.kind === "missing") return null;
    if (err.kind === "permission") {
      throw new ConfigError([`${err.message}; run as root or fix the file's mode`], err.exitCode);
    }
    throw new ConfigError([err.message], err.exitCode);
  }
}

/**
 * Loads and checks a configuration file.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load.ts";
 * const { config, warnings } = await loadConfig("/etc/config/starfail");
 * for (const w of warnings) console.warn(w);
 * ```
 */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  return parseConfigText(await readConfigFile(path), path);
}

function uciValue(value: unknown): string | string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "boolean") return value ? "1" : "0";
  if (Array.isArray(value)) return value.map(String);
  const text = String(value);
  return text === "" ? undefined : text;
}

/**
 * Builds the UCI document of a configuration: every option with its
 * effective value (booleans as `1`/`0`; empty text and unset member
 * overrides are left out).
 */
export function configAsDocument(config: StarfailConfig): UciDocument {
  const sections: UciSection[] = [];
  for (
    const name of [
      "main",
      "scoring",
      "starlink",
      "notifications",
      "remote",
      "http",
      "mqtt",
      "hook",
    ] as const
  ) {
    const options: UciOption[] = [];
    for (const [key, value] of Object.entries(config[name])) {
      const text = uciValue(value);
      if (text !== undefined) options.push({ name: key, value: text, line: 0 });
    }
    sections.push({ type: "starfail", name, anonymous: false, line: 0, options });
  }
  for (const member of config.members) {
    const options: UciOption[] = [];
    for (const [key, value] of Object.entries(member)) {
      if (key === "name") continue;
      const text = uciValue(value);
      if (text !== undefined) options.push({ name: key, value: text, line: 0 });
    }
    // A name that is not a valid UCI section name (an anonymous section's iface such as
    // `wan-b`) is written as an anonymous section; its `iface` option names it again.
    const anonymous = !isValidUciName(member.name);
    sections.push({ type: "member", name: member.name, anonymous, line: 0, options });
  }
  return { sections };
}

/**
 * The effective configuration as UCI text (what `starfail config show`
 * prints); loading it back gives the same configuration.
 */
export function configToUci(config: StarfailConfig): string {
  return "# starfail configuration (effective values, defaults applied)\n" +
    exportUci(configAsDocument(config)).replace(/\n\n$/, "\n");
}

/** The effective configuration as pretty-printed JSON. */
export function configToJson(config: StarfailConfig): string {
  return JSON.stringify(config, null, 2);
}

/** A key resolved against a file. */
export interface ResolvedKey {
  /** `main`, `scoring`, `starlink`, `notifications`, `remote` or `member`. */
  kind: string;
  /** UCI section name in the file (generated name for an anonymous member). */
  section: string;
  /** UCI section type. */
  sectionType: string;
  /** Option name (the current name, never an upstream alias). */
  option: string;
  /** Member name, for member keys. */
  member?: string;
  /** The key in canonical form, e.g. `main.cooldown_s` or `member.wan.weight`. */
  canonical: string;
}

/**
 * Resolves `main.cooldown_s`, `member.wan.weight`, `@member[0].weight`
 * (negative indexes count from the end) or `wan.weight` (a member section
 * name) against a parsed file. A leading `starfail.` is allowed. Upstream
 * option names resolve to their new names.
 */
export function resolveKey(doc: UciDocument, key: string): ResolvedKey {
  const bare = key.startsWith("starfail.") ? key.slice("starfail.".length) : key;
  const indexed = /^@member\[(-?\d+)\]\.([A-Za-z0-9_]+)$/.exec(bare);
  const parts = bare.split(".");
  const memberSections = doc.sections.filter((s) => s.type === "member");
  if (indexed !== null) {
    const i = Number(indexed[1]);
    const section = memberSections[i < 0 ? memberSections.length + i : i];
    if (section === undefined) {
      throw new ConfigKeyError(
        `no member section ${indexed[0].split(".")[0]} (the file has ${memberSections.length})`,
      );
    }
    const name = memberName(section);
    return memberKey(section.name, name, indexed[2]);
  }
  if (parts.length === 2 && SECTION_OPTIONS[parts[0]] !== undefined) {
    const [sectionName, option] = parts;
    const clash = doc.sections.find((s) => s.name === sectionName && s.type !== "starfail");
    if (clash !== undefined) {
      throw new ConfigKeyError(
        `section ${quoteValue(sectionName)} in the file is a ${
          quoteValue(clash.type)
        } section, not ` +
          `'starfail'; fix line ${clash.line} first`,
      );
    }
    if (SECTION_OPTIONS[sectionName].includes(option)) {
      return {
        kind: sectionName,
        section: sectionName,
        sectionType: "starfail",
        option,
        canonical: `${sectionName}.${option}`,
      };
    }
    const alias = UPSTREAM_ALIASES[sectionName]?.[option];
    if (alias !== undefined) {
      return {
        kind: alias.section,
        section: alias.section,
        sectionType: "starfail",
        option: alias.option,
        canonical: `${alias.section}.${alias.option}`,
      };
    }
    throw new ConfigKeyError(
      `unknown option ${quoteValue(option)} in section ${quoteValue(sectionName)}; ` +
        `'starfail config show' lists every option`,
    );
  }
  let name: string | undefined;
  let option: string | undefined;
  if (parts.length === 3 && parts[0] === "member") [, name, option] = parts;
  else if (parts.length === 2) [name, option] = parts;
  if (name === undefined || option === undefined || !/^[A-Za-z0-9_.@-]+$/.test(name)) {
    throw new ConfigKeyError(
      `bad key ${quoteValue(key)}: expected SECTION.OPTION (e.g. main.cooldown_s), ` +
        `member.NAME.OPTION or @member[N].OPTION`,
    );
  }
  const byName = memberSections.find((s) => !s.anonymous && s.name === name) ??
    memberSections.find((s) => s.anonymous && memberName(s) === name);
  if (byName === undefined && parts.length === 2) {
    throw new ConfigKeyError(
      `unknown section ${quoteValue(name)} in key ${
        quoteValue(key)
      }; use member.${name}.${option} to add a member`,
    );
  }
  if (byName === undefined && !isValidUciName(name)) {
    throw new ConfigKeyError(`bad member name ${quoteValue(name)}: use letters, digits and _`);
  }
  if (SECTION_OPTIONS[name] !== undefined) {
    throw new ConfigKeyError(
      `${quoteValue(name)} is the name of a starfail section; choose another member name`,
    );
  }
  return memberKey(byName?.name ?? name, name, option);
}

function memberName(section: UciSection): string {
  if (!section.anonymous) return section.name;
  const iface = findOption(section, "iface");
  return iface !== undefined && !Array.isArray(iface.value) ? iface.value : section.name;
}

function memberKey(section: string, member: string, option: string): ResolvedKey {
  if (!MEMBER_OPTIONS.includes(option)) {
    throw new ConfigKeyError(
      `unknown member option ${quoteValue(option)}; the options are ${MEMBER_OPTIONS.join(", ")}`,
    );
  }
  return {
    kind: "member",
    section,
    sectionType: "member",
    option,
    member,
    canonical: `member.${member}.${option}`,
  };
}

/**
 * The effective value of one option, in UCI form (booleans `1`/`0`, lists as
 * arrays); `undefined` when it is unset and has no fixed default (member
 * overrides, a weight that follows the detected class).
 */
export async function getOption(
  path: string,
  key: string,
): Promise<{ value: string | string[] | undefined; key: ResolvedKey }> {
  const text = await readConfigFile(path);
  const check = checkConfigText(text, path);
  if (check.config === undefined) throw new ConfigError(check.problems);
  const resolved = resolveKey(check.document, key);
  return { value: effectiveValue(check.config, resolved), key: resolved };
}

function effectiveValue(
  config: StarfailConfig,
  key: ResolvedKey,
): string | string[] | undefined {
  if (key.kind === "member") {
    const member = config.members.find((m) => m.name === key.member);
    if (member === undefined) {
      throw new ConfigKeyError(`no member section ${quoteValue(key.member ?? "")} in the file`);
    }
    return uciValue((member as Record<string, unknown>)[key.option]);
  }
  const section = config[key.kind as "main"] as Record<string, unknown>;
  return uciValue(section[key.option]);
}

/** What {@linkcode setOption} did. */
export interface SetOptionResult {
  /** The key in canonical form. */
  key: ResolvedKey;
  /** Warnings of the file after the change. */
  warnings: string[];
  /**
   * Problems the file still has after the change (they were there before;
   * a change that adds a problem is refused instead).
   */
  problems: string[];
  /** False when the file already held exactly this text. */
  changed: boolean;
}

/**
 * Sets one option in the file (creating the file or the member section when
 * needed) after checking the whole result against the schema. An empty value
 * removes the option (back to its default). List options take items
 * separated by spaces or commas. When the change would add a problem it
 * throws {@linkcode ConfigError} in the usual one-line form and leaves the
 * file as it was (problems that were already there elsewhere do not block a
 * fix); the file is replaced atomically.
 *
 * @example
 * ```ts
 * import { setOption } from "./load.ts";
 * await setOption("/etc/config/starfail", "main.cooldown_s", "45");
 * ```
 */
export async function setOption(
  path: string,
  key: string,
  value: string,
): Promise<SetOptionResult> {
  try {
    return await withFileLock(path, () => setOptionLocked(path, key, value));
  } catch (err) {
    if (err instanceof FileLockTimeout) throw new ConfigError([err.message]);
    if (err instanceof Deno.errors.NotCapable) throw err;
    if (typeof (err as { code?: unknown }).code === "string") {
      // The lock file could not be made (read-only, full or missing directory).
      throw new ConfigError(
        [`${showValue(path, 200)}: cannot lock the config for writing: ${ioReason(err)}`],
        74,
      );
    }
    throw err;
  }
}

async function setOptionLocked(
  path: string,
  key: string,
  value: string,
): Promise<SetOptionResult> {
  const text = (await readConfigFileIfExists(path)) ?? "";
  const parsed = parseUci(text);
  if (parsed.errors.length > 0) {
    throw new ConfigError(parsed.errors.map((e) => `${path}:${e.line}: ${e.message}`));
  }
  const resolved = resolveKey(parsed.document, key);
  const trimmed = value.trim();
  const newValue: string | string[] | null = trimmed === ""
    ? null
    : LIST_OPTIONS.has(resolved.option)
    ? trimmed.split(/[\s,]+/).filter((s) => s !== "")
    : value;
  let newText: string;
  try {
    newText = editUciOption(text, {
      section: resolved.section,
      sectionType: resolved.sectionType,
      option: resolved.option,
      value: newValue,
    });
    newText = removeAliasesOf(newText, resolved);
  } catch (err) {
    if (err instanceof UciEditError) throw new ConfigError([`${path}: ${err.message}`]);
    throw err;
  }
  const before = checkConfigText(text, path);
  const after = checkConfigText(newText, path);
  const old = new Set(before.problems.map(stripLocation));
  const fresh = after.problems.filter((p) => !old.has(stripLocation(p)));
  if (fresh.length > 0) throw new ConfigError(fresh);
  if (newText !== text) {
    try {
      await writeFileAtomic(path, newText);
    } catch (err) {
      // Read-only or full file system: the original is untouched (the write is atomic).
      throw new ConfigError(
        [`${showValue(path, 200)}: cannot write the config: ${ioReason(err)}; nothing was changed`],
        74,
      );
    }
  }
  return {
    key: resolved,
    warnings: after.warnings,
    problems: after.problems,
    changed: newText !== text,
  };
}

/** Removes upstream-named options that would set the same thing as `key`. */
function removeAliasesOf(text: string, key: ResolvedKey): string {
  if (key.kind === "member") return text;
  let out = text;
  for (const [section, aliases] of Object.entries(UPSTREAM_ALIASES)) {
    for (const [option, alias] of Object.entries(aliases)) {
      if (alias.section === key.section && alias.option === key.option) {
        out = editUciOption(out, { section, sectionType: "starfail", option, value: null });
      }
    }
  }
  return out;
}

function stripLocation(problem: string): string {
  return problem.replace(/^.*?:\d+: /, "");
}
