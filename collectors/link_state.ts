/**
 * The kernel's link state of every network device, from `ip -o link show`.
 *
 * Why not `/sys/class/net/DEV/operstate`: Deno 2.9 grants `/sys` (like
 * `/proc` and `/dev`) only with `--allow-all`, whatever `--allow-read` says
 * (denoland/deno#27564), so the permission-scoped binary cannot read sysfs.
 * `ip` asks the kernel over netlink for the same operstate and flags, and one
 * run answers for every device; {@linkcode LinkStateReader} shares one run
 * among all members within its cache time.
 *
 * @module
 */

import type { ExecResult, RunOptions } from "./exec.ts";

/** Runs a tool (the daemon's runner). */
export type LinkRunFn = (cmd: string, args: string[], opts: RunOptions) => Promise<ExecResult>;

/** One device's link state. */
export interface LinkState {
  /** Whether the link passes traffic (operstate up, unknown or dormant; or flags UP and LOWER_UP). */
  up: boolean;
  /** iproute2's operstate in lower case (`up`, `down`, `unknown`, …), or null (busybox prints none). */
  operstate: string | null;
}

/**
 * Parses `ip -o link show` as iproute2 and busybox print it:
 * `2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 … state UP mode …`.
 *
 * @example
 * ```ts
 * parseIpLink("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT").get("lo");
 * // { up: true, operstate: "unknown" }
 * ```
 */
export function parseIpLink(text: string): Map<string, LinkState> {
  const out = new Map<string, LinkState>();
  for (const line of text.split("\n")) {
    const m = /^\d+:\s+([^:\s]+?)(?:@[^:\s]+)?:\s+<([^>]*)>(.*)$/.exec(line);
    if (m === null) continue;
    const [, name, flagText, rest] = m;
    const flags = new Set(flagText.split(","));
    const state = /\bstate\s+([A-Z]+)/.exec(rest)?.[1]?.toLowerCase() ?? null;
    const up = state !== null
      ? state === "up" || state === "unknown" || state === "dormant"
      : flags.has("UP") && flags.has("LOWER_UP");
    out.set(name, { up, operstate: state });
  }
  return out;
}

/** Reads every device's link state with one `ip -o link show`, shared within `cacheMs`. */
export class LinkStateReader {
  #run: LinkRunFn;
  #cacheMs: number;
  #timeoutMs: number;
  #at = -Infinity;
  #last: Map<string, LinkState> | null = null;
  #pending: Promise<Map<string, LinkState>> | null = null;

  /** Creates a reader; `cacheMs` should be below the fastest link poll (default 300 ms). */
  constructor(run: LinkRunFn, opts: { cacheMs?: number; timeoutMs?: number } = {}) {
    this.#run = run;
    this.#cacheMs = opts.cacheMs ?? 300;
    this.#timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** Every device's state; throws when `ip` fails (the message names it). */
  async read(): Promise<Map<string, LinkState>> {
    const now = performance.now();
    if (this.#last !== null && now - this.#at < this.#cacheMs) return this.#last;
    this.#pending ??= (async () => {
      try {
        const r = await this.#run("ip", ["-o", "link", "show"], { timeoutMs: this.#timeoutMs });
        if (r.code !== 0) {
          throw new Error(
            `ip -o link show failed (exit ${r.code}): ${r.stderr.trim().split("\n")[0]}`,
          );
        }
        this.#last = parseIpLink(r.stdout);
        this.#at = performance.now();
        return this.#last;
      } finally {
        this.#pending = null;
      }
    })();
    return await this.#pending;
  }

  /** One device's state, or null when the kernel has no such device. */
  async device(name: string): Promise<LinkState | null> {
    return (await this.read()).get(name) ?? null;
  }
}
