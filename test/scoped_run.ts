/**
 * Helpers for tests that run starfail as users get it: `main.ts` under exactly
 * the compiled binary's permissions and V8 flags (`scripts/permissions.ts`),
 * against the real ubusd at the DEFAULT socket path. That path is shared by
 * the whole machine, so ubusd and starfail run inside a private mount
 * namespace (`unshare -m`) with a tmpfs over `/run/ubus`: nothing outside the
 * namespace sees the socket. (`/run/ubus` is created empty on the host if
 * missing, as the mount point.)
 *
 * @module
 */

import { scopedRunArgs } from "../scripts/permissions.ts";
import { OPENWRT } from "./require.ts";

/** The repository root. */
export const ROOT = new URL("../", import.meta.url).pathname;
/** The scratch folder the binary may read and write (configs for scoped runs go here). */
export const SCRATCH = "/tmp/starfail";

/** `deno run …main.ts` argv exactly as the compiled binary runs (permissions + V8 flags). */
export function scopedStarfail(args: string[]): string[] {
  return [Deno.execPath(), ...scopedRunArgs(`${ROOT}main.ts`), ...args];
}

/** A private scratch folder under {@linkcode SCRATCH}, for configs and traces. */
export async function scratchDir(prefix: string): Promise<string> {
  await Deno.mkdir(SCRATCH, { recursive: true });
  return await Deno.makeTempDir({ dir: SCRATCH, prefix });
}

const SCRIPT = `set -e
eval "$SF_SETUP"
mkdir -p /run/ubus
mount -t tmpfs -o size=1m,mode=0755 starfail-test /run/ubus
LD_LIBRARY_PATH="$SF_LIB" "$SF_UBUSD" -s /var/run/ubus/ubus.sock </dev/null >/dev/null 2>&1 &
echo "ubusd-pid $!"
i=0
while [ ! -S /var/run/ubus/ubus.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
exec "$@"`;

/**
 * argv that runs `inner` (exec'd, so it keeps the pid) in a private mount
 * namespace (and, with `netns`, a new network namespace where `setup` — shell
 * commands — runs first) where the real ubusd listens on
 * `/var/run/ubus/ubus.sock`. The first output line is `ubusd-pid N`: kill N
 * when done ({@linkcode killUbusd}).
 */
export function withPrivateUbus(
  inner: string[],
  opts: { netns?: boolean; setup?: string } = {},
): { args: string[]; env: Record<string, string> } {
  return {
    args: [
      "unshare",
      "-m",
      ...(opts.netns ? ["-n"] : []),
      "--propagation",
      "private",
      "sh",
      "-c",
      SCRIPT,
      "sh",
      ...inner,
    ],
    env: { SF_LIB: OPENWRT.lib, SF_UBUSD: OPENWRT.ubusd, SF_SETUP: opts.setup ?? "" },
  };
}

/** `ubus call OBJECT METHOD` with the real CLI inside the mount namespace of process `pid`. */
export async function ubusCallIn(
  pid: number,
  object: string,
  method: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("nsenter", {
    args: ["-t", String(pid), "-m", "--", OPENWRT.ubus, "-t", "3", "call", object, method],
    env: { LD_LIBRARY_PATH: OPENWRT.lib },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** Kills the ubusd whose pid `withPrivateUbus` printed first in `output`. */
export function killUbusd(output: string): void {
  const m = /^ubusd-pid (\d+)$/m.exec(output);
  if (m === null) return;
  try {
    Deno.kill(Number(m[1]), "SIGTERM");
  } catch {
    // Already gone.
  }
}
