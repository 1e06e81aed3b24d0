/**
 * THE one definition of the permissions, V8 flags and runtime flags `starfail`
 * runs with.
 * `scripts/compile.ts` bakes them into the executable, `deno task scoped`
 * (`scripts/scoped.ts`) runs `main.ts` under exactly the same flags, the other
 * deno tasks take their V8 flags from here, and the procd init script runs
 * the compiled binary (whose flags are baked in; `openwrt_files_test.ts`
 * checks the script passes no flags of its own). The README's "Permissions of
 * the compiled binary" table lists each with its reason; a test keeps the
 * two equal.
 *
 * Deno 2.9 facts this rests on (tested on this machine, see the README):
 * - a unix socket needs read AND write on its path AND `net` on `unix:PATH`
 *   (exact path, no directory prefix), for connect and for listen;
 * - `/sys`, `/proc` and `/dev` (except null, zero, tty and the like) need
 *   `--allow-all` whatever `--allow-read` says (denoland/deno#27564), so the
 *   link state comes from `ip -o link` and the modem device from netifd/uqmi;
 * - `--allow-run` with a bare name resolves it on PATH at start-up and prints
 *   "Failed to resolve" for each missing one; absolute paths are not resolved
 *   (no noise) and a bare-name spawn is allowed when PATH finds one of them.
 *
 * @module
 */

import { DEMO_DIR, DEMO_SOCKETS } from "../daemon/demo.ts";
import { DEFAULT_HOOK_PATH, STARFAIL_ETC } from "../config/sandbox.ts";

/**
 * V8 flags for a router: a small committed heap (`--max-old-space-size=32`,
 * `--max-semi-space-size=1`, always as a pair; see the toolchain notes), and
 * no optimizing compilers (`--no-opt`: TurboFan, `--no-maglev`): the daemon's
 * work is I/O and small per-tick loops that never repaid them. Without them
 * the daemon measured 57.1 MiB instead of 64.4 MiB after 3 minutes (the
 * compilers' code pages and their output) and used less CPU (0.87 s against
 * 0.99 s over those 3 minutes); see the README's footprint section.
 */
export const V8_FLAGS = "--max-old-space-size=32,--max-semi-space-size=1,--no-opt,--no-maglev";

/**
 * Runtime flags baked in beside the permissions and V8 flags. `--no-code-cache`:
 * V8's code cache (a SQLite store of compiled code) cost the daemon ~1.8 MiB of
 * RSS at 60 s for no gain in a process that starts once (measured in the
 * README's footprint section).
 */
export const RUNTIME_FLAGS: readonly string[] = ["--no-code-cache"];

/**
 * Environment for `deno run` standing in for the binary: the full `deno` CLI
 * checks for a newer release in the background (~2 MiB of RSS measured, and a
 * request to dl.deno.land); the compiled binary never does.
 */
export const SCOPED_RUN_ENV: Readonly<Record<string, string>> = { DENO_NO_UPDATE_CHECK: "1" };

/** The dish's gRPC and gRPC-Web endpoints (Starlink's fixed local address). */
export const DISH_NET = ["192.168.100.1:9200", "192.168.100.1:9201"];

/** Notification services starfail can post to without a build option. */
export const NOTIFY_NET = ["api.pushover.net:443"];

/** Loopback, any port: the demo's dish simulator and local test doubles. */
export const LOOPBACK_NET = ["127.0.0.1"];

/** The ubus sockets (current and historic path). */
export const UBUS_SOCKETS = ["/var/run/ubus/ubus.sock", "/var/run/ubus.sock"];

/** Scratch folder: test configs, recorded traces, the demo's temporary folders. */
export const SCRATCH_DIR = DEMO_DIR;

/** The demo's ubus sockets (a fixed set: `net` on unix sockets takes exact paths). */
export { DEMO_SOCKETS };

/** Router tools starfail runs, and nothing else. */
export const RUN_TOOLS = [
  "ping",
  "ip",
  "uci",
  "mwan3",
  "iwinfo",
  "mmcli",
  "uqmi",
  "gsmctl",
  "conntrack",
];

/**
 * Files starfail runs besides the tools: the owner's hook script at its
 * default path (optional; a missing one is silent).
 */
export const RUN_FILES = [DEFAULT_HOOK_PATH];

/**
 * starfail's own folder: the hook script and the password files
 * (`mqtt.password_file`, `remote.password_file`) live here by default.
 */
export const ETC_DIR = STARFAIL_ETC;

/** `--allow-sys`: the host name only (the MQTT/Home Assistant device id `starfail_<hostname>`). */
export const SYS_NAMES = ["hostname"];

/** Where OpenWrt and RutOS (and Debian) keep those tools; each tool is allowed in each. */
export const TOOL_DIRS = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Files and sockets starfail reads. */
export const READ_PATHS = [
  "/etc/config/starfail",
  ETC_DIR,
  ...UBUS_SOCKETS,
  SCRATCH_DIR,
];

/** Files and sockets starfail writes (the config through a temp file beside it, and the log). */
export const WRITE_PATHS = [
  "/etc/config/starfail",
  "/etc/config/.starfail.tmp",
  ...UBUS_SOCKETS,
  "/var/log/starfail.log",
  "/var/log/starfail.log.1",
  SCRATCH_DIR,
];

/**
 * Environment variables read: ours, NO_COLOR, and those @grpc/grpc-js reads at
 * import. The daemon's dish transport is Deno's fetch (no environment variable
 * through the permission system; proxies are bypassed), but `starfail demo`
 * runs the dish simulator (`sim/dish_sim.ts`, a grpc-js server) in-process,
 * and grpc-js's import fails without these.
 */
export const ENV_NAMES = [
  "STARFAIL_CONFIG",
  "STARFAIL_UBUS_SOCKET",
  "STARFAIL_DEBUG",
  "NO_COLOR",
  "GRPC_TRACE",
  "GRPC_VERBOSITY",
  "GRPC_NODE_TRACE",
  "GRPC_NODE_VERBOSITY",
  "GRPC_NODE_USE_ALTERNATIVE_RESOLVER",
  "GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION",
  "GRPC_SSL_CIPHER_SUITES",
  "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
  "GRPC_NODE_DEBUG_SEND_ERROR_DETAILS",
  "grpc_proxy",
  "no_grpc_proxy",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/** Build options: what a user adds at build time (the binary cannot widen itself later). */
export interface PermissionOptions {
  /** Extra `--allow-net` hosts, `host:port` (webhook hosts, TCP/DNS probe targets). */
  extraNet?: string[];
  /** Extra folders holding the tools (besides {@linkcode TOOL_DIRS}). */
  toolDirs?: string[];
  /** Extra files or folders to read (password files outside {@linkcode ETC_DIR}). */
  extraRead?: string[];
  /** Extra programs to run, read too (a hook script outside {@linkcode ETC_DIR}). */
  extraRun?: string[];
}

/**
 * The build options from the environment (read by `deno task compile` and
 * `deno task scoped` alike): `STARFAIL_EXTRA_NET=host:port,…`,
 * `STARFAIL_TOOL_DIRS=/dir:/dir2`, `STARFAIL_EXTRA_READ=/path:/path2`
 * (password files elsewhere than /etc/starfail) and
 * `STARFAIL_EXTRA_RUN=/path:/path2` (a hook script elsewhere than
 * /etc/starfail/hook; run and read).
 */
export function buildOptionsFromEnv(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Required<PermissionOptions> {
  const split = (s: string | undefined, sep: string) =>
    (s ?? "").split(sep).map((x) => x.trim()).filter((x) => x !== "");
  return {
    extraNet: split(get("STARFAIL_EXTRA_NET"), ","),
    toolDirs: split(get("STARFAIL_TOOL_DIRS"), ":"),
    extraRead: split(get("STARFAIL_EXTRA_READ"), ":"),
    extraRun: split(get("STARFAIL_EXTRA_RUN"), ":"),
  };
}

/** Every tool in every tool folder, as absolute paths (never resolved, so never "Failed to resolve"). */
export function runAllowList(toolDirs: string[] = []): string[] {
  const dirs = [...new Set([...TOOL_DIRS, ...toolDirs])];
  return RUN_TOOLS.flatMap((tool) => dirs.map((d) => `${d.replace(/\/+$/, "")}/${tool}`));
}

/**
 * The permission flags baked into the binary; `deno run` with exactly these
 * (plus {@linkcode V8_FLAGS}) behaves like the compiled binary as far as
 * permissions go — `deno task scoped` and the tests use them.
 */
export function permissionFlags(opts: PermissionOptions = {}): string[] {
  const net = [
    ...DISH_NET,
    ...NOTIFY_NET,
    ...LOOPBACK_NET,
    ...UBUS_SOCKETS.map((s) => `unix:${s}`),
    ...DEMO_SOCKETS.map((s) => `unix:${s}`),
    ...(opts.extraNet ?? []),
  ];
  const extraRun = opts.extraRun ?? [];
  const read = [...READ_PATHS, ...(opts.extraRead ?? []), ...extraRun];
  return [
    "--no-prompt",
    `--allow-net=${net.join(",")}`,
    `--allow-run=${[...runAllowList(opts.toolDirs), ...RUN_FILES, ...extraRun].join(",")}`,
    `--allow-read=${[...new Set(read)].join(",")}`,
    `--allow-write=${WRITE_PATHS.join(",")}`,
    `--allow-env=${ENV_NAMES.join(",")}`,
    `--allow-sys=${SYS_NAMES.join(",")}`,
  ];
}

/**
 * `deno run` arguments for `main.ts` exactly as the compiled binary runs it
 * (run them with {@linkcode SCOPED_RUN_ENV} in the environment).
 */
export function scopedRunArgs(mainPath: string, opts: PermissionOptions = {}): string[] {
  return ["run", ...RUNTIME_FLAGS, ...permissionFlags(opts), `--v8-flags=${V8_FLAGS}`, mainPath];
}
