/**
 * Tests that need a real part of the machine (root, network namespaces,
 * busybox, the OpenWrt programs, Mosquitto, promtool …) ask here first.
 *
 * - Outside CI a missing part skips the test and prints why, once.
 * - Under `CI=true` nothing is skipped: the test runs, and {@linkcode requirePart}
 *   fails it with one line naming the missing part and how `.ci/run` installs it.
 *
 * @module
 */

/** True when running under CI (`CI=true`), where a missing part is a failure. */
export const IN_CI = Deno.env.get("CI") === "true";

/** Where the OpenWrt programs are built by `scripts/test_tools.sh` (or `$STARFAIL_OPENWRT`). */
export const OPENWRT_PREFIX = Deno.env.get("STARFAIL_OPENWRT") ??
  new URL("../.openwrt", import.meta.url).pathname;

/** Whether an executable file exists at `path`. */
export function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The first `name` on `$PATH` (or common sbin folders), or null. */
export function which(name: string): string | null {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat([
    "/usr/sbin",
    "/sbin",
    "/usr/bin",
    "/bin",
  ]);
  for (const dir of dirs) {
    if (dir !== "" && isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/** Paths of the real OpenWrt programs, built from `../shared/openwrt`. */
export const OPENWRT = {
  prefix: OPENWRT_PREFIX,
  ubusd: `${OPENWRT_PREFIX}/sbin/ubusd`,
  ubus: `${OPENWRT_PREFIX}/bin/ubus`,
  uci: `${OPENWRT_PREFIX}/bin/uci`,
  rpcd: `${OPENWRT_PREFIX}/sbin/rpcd`,
  uhttpd: `${OPENWRT_PREFIX}/bin/uhttpd`,
  lib: `${OPENWRT_PREFIX}/lib`,
};

/** Whether every OpenWrt program is built. */
export function haveOpenwrt(): boolean {
  return [OPENWRT.ubusd, OPENWRT.ubus, OPENWRT.uci, OPENWRT.rpcd, OPENWRT.uhttpd].every(
    isExecutable,
  );
}

const HOW = "run `sudo scripts/test_tools.sh` (what .ci/run does)";
const told = new Set<string>();

/**
 * The `ignore` flag for a test that needs `what`: true (skip, saying why once)
 * only outside CI when the part is missing.
 */
export function skipUnless(available: boolean, what: string): boolean {
  if (available || IN_CI) return false;
  if (!told.has(what)) {
    told.add(what);
    console.warn(`skipping tests that need ${what}: not available here; ${HOW}`);
  }
  return true;
}

/** Fails the running test with one line when `what` is missing (reached only under CI). */
export function requirePart(available: boolean, what: string): void {
  if (!available) throw new Error(`this test needs ${what}, which is missing; ${HOW}`);
}

/** Whether this process is root on Linux (network namespaces, veth pairs, mount namespaces). */
export const IS_ROOT = Deno.build.os === "linux" && Deno.uid() === 0;
