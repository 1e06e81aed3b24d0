/**
 * `starfail config validate|show|get|set`: check, print or edit
 * `/etc/config/starfail` (or `--config PATH`, or `$STARFAIL_CONFIG`).
 *
 * @module
 */

import { type CommandSpec, EXIT, parseCommand, UsageError } from "./args.ts";
import { checkSandbox } from "../config/sandbox.ts";
import { inFileOrder } from "../config/load.ts";
import {
  ConfigError,
  ConfigKeyError,
  configPathFromEnv,
  configToJson,
  configToUci,
  DEFAULT_CONFIG,
  getOption,
  loadConfig,
  setOption,
} from "../config/mod.ts";
import { quoteValue } from "../io/show_value.ts";

const CONFIG_FLAG = { config: { type: "string", short: "c" } } as const;
const CONFIG_HELP = { config: "config file (default $STARFAIL_CONFIG or /etc/config/starfail)" };

const VALIDATE: CommandSpec = {
  name: "config validate",
  summary: "Check the configuration file and list every problem (exit 78 if there is one).",
  usage: "starfail config validate [--config PATH]",
  examples: [
    "starfail config validate",
    "starfail config validate --config /tmp/starfail.new && cp /tmp/starfail.new /etc/config/starfail",
  ],
  options: { ...CONFIG_FLAG },
  optionHelp: { ...CONFIG_HELP },
};

const SHOW: CommandSpec = {
  name: "config show",
  summary: "Print the effective configuration, every default filled in.",
  usage: "starfail config show [--config PATH] [--json] [--defaults]",
  examples: [
    "starfail config show",
    "starfail config show --json",
    "starfail config show --defaults > /etc/config/starfail",
  ],
  options: { ...CONFIG_FLAG, json: { type: "boolean" }, defaults: { type: "boolean" } },
  optionHelp: {
    ...CONFIG_HELP,
    json: "print JSON instead of UCI text",
    defaults: "print the built-in defaults and ignore the file",
  },
};

const GET: CommandSpec = {
  name: "config get",
  summary: "Print one option's effective value (lists: items separated by spaces).",
  usage: "starfail config get KEY [--config PATH]",
  examples: [
    "starfail config get main.cooldown_s",
    "starfail config get member.wan.probe_target",
    "starfail config get @member[0].weight",
  ],
  options: { ...CONFIG_FLAG },
  optionHelp: { ...CONFIG_HELP },
  minPositionals: 1,
  maxPositionals: 1,
};

const SET: CommandSpec = {
  name: "config set",
  summary: "Change one option in the file, keeping comments and layout; " +
    "refuses a value that would make the configuration invalid. An empty VALUE removes the option.",
  usage: "starfail config set KEY VALUE [--config PATH]",
  examples: [
    "starfail config set main.cooldown_s 45",
    "starfail config set member.lte.class cellular",
    "starfail config set member.wan.probe_target '1.1.1.1 9.9.9.9'",
    "starfail config set main.dry_run ''",
  ],
  options: { ...CONFIG_FLAG },
  optionHelp: { ...CONFIG_HELP },
  minPositionals: 2,
  maxPositionals: 2,
};

const ACTIONS: Record<string, CommandSpec> = {
  validate: VALIDATE,
  show: SHOW,
  get: GET,
  set: SET,
};

const USAGE = "starfail config validate|show|get|set …";

function overviewHelp(): string {
  const lines = [
    "Check, show or edit the starfail configuration (UCI file /etc/config/starfail).",
    "",
    "Usage:",
    ...Object.values(ACTIONS).map((spec) => `  ${spec.usage}`),
    "",
    "Keys: main.OPTION, scoring.OPTION, starlink.OPTION, notifications.OPTION,",
    "      member.NAME.OPTION or @member[N].OPTION. Every option: docs/config.md.",
    "",
    "Examples:",
    ...Object.values(ACTIONS).map((spec) => `  ${spec.examples[0]}`),
    "",
    "Run `starfail config ACTION --help` for an action's flags.",
  ];
  return lines.join("\n");
}

function configPath(values: Record<string, unknown>): string {
  const flag = values.config;
  return typeof flag === "string" && flag !== "" ? flag : configPathFromEnv();
}

function printProblems(problems: string[], code: number = EXIT.CONFIG): number {
  for (const problem of problems) console.error(problem);
  return code;
}

function printWarnings(warnings: string[]): void {
  for (const warning of warnings) console.error(`warning: ${warning}`);
}

/**
 * Runs `starfail config …` with the arguments after `config`; resolves to
 * the exit code (0, or 78 when the configuration has problems).
 *
 * @example
 * ```ts
 * import { run } from "./config.ts";
 * const code = await run(["validate", "--config", "/etc/config/starfail"]);
 * ```
 */
export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === "--help" || action === "-h" || action === "help") {
    console.log(overviewHelp());
    return action === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const spec = ACTIONS[action];
  if (spec === undefined) {
    throw new UsageError(
      `starfail config: unknown action '${action}' (expected validate, show, get or set)`,
      USAGE,
    );
  }
  const parsed = parseCommand(spec, rest);
  if (parsed === null) return EXIT.OK;
  const path = configPath(parsed.values);
  try {
    switch (action) {
      case "validate":
        return await validate(path);
      case "show":
        return await show(path, parsed.values.json === true, parsed.values.defaults === true);
      case "get":
        return await get(path, parsed.positionals[0]);
      default:
        return await set(path, parsed.positionals[0], parsed.positionals[1]);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      // Problems and warnings together, in file order.
      const warned = new Set(err.warnings);
      const lines = inFileOrder([...err.problems, ...err.warnings], path);
      return printProblems(lines.map((l) => (warned.has(l) ? `warning: ${l}` : l)), err.exitCode);
    }
    if (err instanceof ConfigKeyError) {
      throw new UsageError(`starfail config ${action}: ${err.message}`, spec.usage);
    }
    throw err;
  }
}

async function validate(path: string): Promise<number> {
  const { config, warnings } = await loadConfig(path);
  printWarnings(warnings);
  // Hosts this binary's sandbox cannot reach (a compiled binary cannot widen itself).
  printWarnings(checkSandbox(config, config.main.ubus_socket || undefined));
  console.log(`${path}: ok`);
  return EXIT.OK;
}

async function show(path: string, json: boolean, defaults: boolean): Promise<number> {
  let config = DEFAULT_CONFIG;
  if (!defaults) {
    const loaded = await loadConfig(path);
    printWarnings(loaded.warnings);
    config = loaded.config;
  }
  console.log(json ? configToJson(config) : configToUci(config).trimEnd());
  return EXIT.OK;
}

async function get(path: string, key: string): Promise<number> {
  const { value, key: resolved } = await getOption(path, key);
  if (value === undefined) {
    console.error(
      `starfail config get: ${resolved.canonical} is not set` +
        (resolved.option === "weight"
          ? " (the weight follows the member's detected class)"
          : resolved.kind === "member"
          ? " (the value of section 'main' applies)"
          : ""),
    );
    return EXIT.FAIL;
  }
  console.log(Array.isArray(value) ? value.join(" ") : value);
  return EXIT.OK;
}

async function set(path: string, key: string, value: string): Promise<number> {
  const result = await setOption(path, key, value);
  printWarnings(result.warnings);
  const shown = value.trim() === "" ? "removed (default applies)" : `= ${quoteValue(value)}`;
  console.log(
    `${path}: ${result.key.canonical} ${shown}${result.changed ? "" : " (no change)"}`,
  );
  if (result.problems.length > 0) {
    console.error(`${path} still has problems that were there before:`);
    return printProblems(result.problems);
  }
  return EXIT.OK;
}
