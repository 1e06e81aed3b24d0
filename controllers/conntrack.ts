/**
 * Flushing the connection-tracking table after a switch, so established
 * flows re-establish on the new primary instead of staying pinned to the
 * old one by their conntrack mark.
 *
 * @module
 */

import { runCommand } from "../collectors/exec.ts";
import type { ControllerAction, ControllerReport, Runner } from "./types.ts";

/** Default flush file: OpenWrt's kernel flushes the table when `f` is written to it (mwan3 does this). */
export const CONNTRACK_FILE = "/proc/net/nf_conntrack";

/** Options for {@linkcode flushConntrack}. */
export interface FlushOptions {
  /** The flush file. Default {@linkcode CONNTRACK_FILE}. */
  file?: string;
  /** Runner for the `conntrack -F` fallback. */
  run?: Runner;
  /** Deadline for the fallback, ms. Default 5000. */
  timeoutMs?: number;
}

/** How the flush went. */
export interface FlushResult {
  /** True when the table was flushed. */
  ok: boolean;
  /** `file` (wrote `f`) or `conntrack` (ran `conntrack -F`). */
  method?: "file" | "conntrack";
  /** Why it failed, as one sentence. */
  error?: string;
}

/**
 * Writes `f` to the conntrack file as mwan3's `flush_conntrack` does; on
 * kernels without that OpenWrt patch (the write fails) falls back to
 * `conntrack -F` from conntrack-tools.
 *
 * @example
 * ```ts
 * const r = await flushConntrack();
 * if (!r.ok) console.warn(r.error);
 * ```
 */
export async function flushConntrack(opts: FlushOptions = {}): Promise<FlushResult> {
  const file = opts.file ?? CONNTRACK_FILE;
  let fileError: string;
  try {
    await Deno.writeTextFile(file, "f");
    return { ok: true, method: "file" };
  } catch (err) {
    fileError = (err as Error).message;
  }
  const run = opts.run ?? runCommand;
  const r = await run("conntrack", ["-F"], { timeoutMs: opts.timeoutMs ?? 5000 });
  if (r.code === 0) return { ok: true, method: "conntrack" };
  return {
    ok: false,
    error: `could not flush conntrack: writing ${file} failed (${fileError}) and conntrack -F ${
      r.code === 127 ? "is not installed" : `failed (exit ${r.code})`
    }`,
  };
}

/**
 * The action that flushes conntrack after a switch: a write of `f` to
 * `file` (`cmd: "write"`), carried out by {@linkcode applyFlushAction}.
 *
 * @example
 * ```ts
 * report.actions.push(flushAction("/proc/net/nf_conntrack"));
 * ```
 */
export function flushAction(file: string = CONNTRACK_FILE): ControllerAction {
  return {
    cmd: "write",
    args: [file, "f"],
    why: "flush conntrack so established flows move to the new primary",
  };
}

/**
 * Carries out a {@linkcode flushAction} and records in `report` whether the
 * table was flushed, or why not.
 *
 * @example
 * ```ts
 * if (action.cmd === "write") await applyFlushAction(action, report, runCommand);
 * ```
 */
export async function applyFlushAction(
  action: ControllerAction,
  report: ControllerReport,
  run: Runner,
): Promise<void> {
  const flushed = await flushConntrack({ file: action.args[0], run });
  report.conntrackFlushed = flushed.ok;
  if (flushed.error !== undefined) report.errors.push(flushed.error);
}
