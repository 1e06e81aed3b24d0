/**
 * A daemon whose two members both run on the loopback device: real `ping -I lo
 * 127.0.0.1` probes (no traffic leaves the host), the route controller in
 * dry-run (nothing is changed), mwan3 and the dish off. Used by the tests of
 * the outward channels (HTTP, MQTT, hook), which need a live daemon with real
 * samples but no router.
 *
 * @module
 */

import { type DaemonHandle, startDaemon } from "../daemon/daemon.ts";

/** The members: `wan` preferred (weight 100), `lte` (weight 50). */
export const LOOPBACK_MEMBERS = ["wan", "lte"] as const;

/** Config text for the loopback daemon, with `extra` lines appended (sections of the caller's). */
export function loopbackConfig(extra: string[] = []): string {
  const member = (name: string, weight: number) => [
    `config member '${name}'`,
    "\toption class 'lan'",
    "\toption device 'lo'",
    `\toption weight '${weight}'`,
    "\tlist probe_target '127.0.0.1'",
    "\toption probe_interval_s '1'",
  ];
  return [
    "config starfail 'main'",
    "\toption use_mwan3 '0'",
    "\toption dry_run '1'",
    "\toption poll_interval_ms '500'",
    "\toption min_uptime_s '0'",
    "config starfail 'starlink'",
    "\toption enabled '0'",
    ...member("wan", 100),
    ...member("lte", 50),
    ...extra,
    "",
  ].join("\n");
}

/** Starts the loopback daemon from `dir/starfail` on ubus `socket` (which may have no ubusd). */
export async function startLoopbackDaemon(
  dir: string,
  socket: string,
  extra: string[] = [],
  ubusWaitMs = 3000,
): Promise<DaemonHandle> {
  const configPath = `${dir}/starfail`;
  await Deno.writeTextFile(configPath, loopbackConfig(extra));
  return await startDaemon({ configPath, socket, dryRun: true, ubusWaitMs });
}
