/**
 * `starfail remote check`: logs in to the router of the config's `remote`
 * section and reports, item by item, what remote mode needs and what the
 * router allows or misses. (`cli/remote.ts` is something else: the shared
 * plumbing of the commands that talk to the running daemon over ubus.)
 *
 * @module
 */

import { configPathFromEnv, loadConfig } from "../config/mod.ts";
import { checkRouter, formatCheck } from "../router/check.ts";
import { openRemoteRouter, RemotePermissionError } from "../router/from_config.ts";
import { RemoteAuthError } from "../router/rpc_session.ts";
import { CliError, type CommandSpec, EXIT, parseCommand, UsageError } from "./args.ts";

/** How `starfail remote check` is called. */
export const spec: CommandSpec = {
  name: "remote check",
  summary:
    "Log in to the router of the config's remote section and report what remote mode may do there.",
  usage: "starfail remote check [--config PATH] [--json]",
  examples: [
    "starfail remote check",
    "starfail remote check --config /etc/starfail/companion --json",
  ],
  options: { config: { type: "string", short: "c" }, json: { type: "boolean" } },
  optionHelp: {
    config: "UCI config file (default /etc/config/starfail, or $STARFAIL_CONFIG)",
    json: "print the items as JSON",
  },
  minPositionals: 1,
  maxPositionals: 1,
};

/**
 * Runs `starfail remote check`. Exit 0 when everything needed is there, 1
 * when something is missing, 77 when the login is refused, 69 when the
 * router does not answer, 78 when the config has no remote section.
 */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(spec, argv);
  if (parsed === null) return EXIT.OK;
  if (parsed.positionals[0] !== "check") {
    throw new UsageError(
      `starfail remote: unknown subcommand '${parsed.positionals[0]}'; expected check`,
      spec.usage,
    );
  }
  const path = typeof parsed.values.config === "string"
    ? parsed.values.config
    : configPathFromEnv();
  const { config } = await loadConfig(path);
  if (config.remote.url === "") {
    throw new CliError(
      `${path}: no remote router configured; set remote.url, remote.username and remote.password_file (docs/remote.md)`,
      EXIT.CONFIG,
    );
  }
  const warnings: string[] = [];
  let router;
  try {
    router = await openRemoteRouter(config.remote, (w) => warnings.push(w));
    await router.session.login();
  } catch (err) {
    await router?.close();
    if (err instanceof RemoteAuthError || err instanceof RemotePermissionError) {
      throw new CliError(err.message, EXIT.NOPERM);
    }
    throw new CliError(
      `cannot reach the router: ${err instanceof Error ? err.message : String(err)}`,
      EXIT.UNAVAILABLE,
    );
  }
  try {
    const items = await checkRouter(router);
    const head = {
      what: `login ${config.remote.username}@${config.remote.url}`,
      result: "ok" as const,
      detail: "session granted",
    };
    const all = [
      ...warnings.map((w) => ({ what: "password file", result: "warn" as const, detail: w })),
      head,
      ...items,
    ];
    if (parsed.values.json) console.log(JSON.stringify({ items: all }, null, 2));
    else console.log(formatCheck(all));
    return all.some((i) => i.result === "missing") ? EXIT.FAIL : EXIT.OK;
  } finally {
    await router.close();
  }
}
