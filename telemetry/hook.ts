/**
 * The owner's hook script, like mwan3's `/etc/mwan3.user`: an executable run
 * on every primary switch and member state change, with what happened in its
 * environment. It is run directly (never through a shell), one run at a time
 * (later events wait, at most {@linkcode HOOK_QUEUE_MAX} of them), killed at
 * its deadline, and what it prints is logged.
 *
 * Environment: `STARFAIL_EVENT` (`switch` or `member`), `STARFAIL_FROM`,
 * `STARFAIL_TO`, `STARFAIL_MEMBER`, `STARFAIL_REASON`, `STARFAIL_KIND` (the
 * switch's decision kind, `failover`, `failback`, `override`, …; empty for
 * member events) and `STARFAIL_TIME` (Unix seconds).
 *
 * @module
 */

import { getLogger } from "./logger.ts";
import { mayRun } from "../config/sandbox.ts";

const log = getLogger(["starfail", "hook"]);

/** Events waiting for the hook beyond this are dropped (oldest first). */
export const HOOK_QUEUE_MAX = 32;

/** Output kept per stream for the log, bytes. */
const OUTPUT_MAX = 4096;

/** One event for the hook. */
export interface HookEvent {
  /** `switch` (primary changed) or `member` (a member's state changed). */
  event: "switch" | "member";
  /** Old primary / old state ('' when none). */
  from: string;
  /** New primary / new state. */
  to: string;
  /** The new primary (switch) or the member whose state changed. */
  member: string;
  /** Why. */
  reason: string;
  /** Decision kind of a switch, '' for member events. */
  kind: string;
  /** Unix seconds. */
  at: number;
}

/** How one run ended. */
export interface HookRun {
  /** The event. */
  event: HookEvent;
  /** Exit code, null when it could not start or was killed. */
  code: number | null;
  /** Killed at the deadline. */
  timedOut: boolean;
  /** Standard output (first 4 KiB). */
  stdout: string;
  /** Standard error (first 4 KiB). */
  stderr: string;
  /** Why it did not run, when it did not. */
  error?: string;
}

/** The environment a hook run gets for `ev` (added to the daemon's own). */
export function hookEnv(ev: HookEvent): Record<string, string> {
  return {
    STARFAIL_EVENT: ev.event,
    STARFAIL_FROM: ev.from,
    STARFAIL_TO: ev.to,
    STARFAIL_MEMBER: ev.member,
    STARFAIL_REASON: ev.reason,
    STARFAIL_KIND: ev.kind,
    STARFAIL_TIME: String(Math.round(ev.at)),
  };
}

function clip(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, OUTPUT_MAX)).trimEnd();
  return bytes.length > OUTPUT_MAX ? `${text} … (${bytes.length} bytes in all)` : text;
}

/**
 * Runs the hook for each event, one at a time.
 *
 * @example
 * ```ts
 * const hook = new HookRunner("/etc/starfail/hook", 30);
 * hook.enqueue({ event: "switch", from: "wan", to: "lte", member: "lte", reason: "wan lost 40% of probes", kind: "failover", at: 1700000000 });
 * await hook.idle();
 * ```
 */
export class HookRunner {
  #path: string;
  #timeoutS: number;
  #queue: HookEvent[] = [];
  #running: Promise<void> | null = null;
  #missingLogged = false;
  #denied: boolean;
  /** Called after each run (tests, the event log). */
  onRun: ((run: HookRun) => void) | null = null;

  /**
   * A runner of `path` (empty: none) with a deadline of `timeoutS` seconds.
   * A path the sandbox does not let starfail read and run is never tried:
   * the startup check (`checkSandbox`) names it once, with the fix.
   */
  constructor(path: string, timeoutS: number) {
    this.#path = path;
    this.#timeoutS = timeoutS;
    this.#denied = path !== "" && !mayRun(path);
  }

  /** Whether the sandbox denies the hook (then events are not queued at all). */
  get denied(): boolean {
    return this.#denied;
  }

  /** Queues `ev`; the hook runs when the previous run has finished. */
  enqueue(ev: HookEvent): void {
    if (this.#path === "" || this.#denied) return;
    this.#queue.push(ev);
    if (this.#queue.length > HOOK_QUEUE_MAX) {
      const dropped = this.#queue.splice(0, this.#queue.length - HOOK_QUEUE_MAX);
      log.warn("Hook is slower than the events: oldest waiting events dropped", {
        dropped: dropped.length,
        path: this.#path,
      });
    }
    this.#running ??= this.#drain();
  }

  /** Resolves when no run is in progress and none is waiting. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      for (let ev = this.#queue.shift(); ev !== undefined; ev = this.#queue.shift()) {
        const run = await this.#runOne(ev);
        if (run !== null) this.onRun?.(run);
      }
    } finally {
      this.#running = null;
    }
  }

  async #runOne(ev: HookEvent): Promise<HookRun | null> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.#path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        if (!this.#missingLogged) log.debug("No hook script", { path: this.#path });
        this.#missingLogged = true;
        return null;
      }
      if (err instanceof Deno.errors.NotCapable) return this.#sandboxed();
      return this.#failed(ev, `cannot read ${this.#path}: ${(err as Error).message}`);
    }
    this.#missingLogged = false;
    if (!info.isFile || ((info.mode ?? 0) & 0o111) === 0) {
      return this.#failed(ev, `${this.#path} is not an executable file (chmod +x ${this.#path})`);
    }
    const started = Date.now();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.#path, {
        args: [],
        env: hookEnv(ev),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      const e = err as Error;
      if (e instanceof Deno.errors.NotCapable) return this.#sandboxed();
      return this.#failed(ev, `cannot run ${this.#path}: ${e.message}`);
    }
    let timedOut = false;
    let killed: (v: null) => void = () => {};
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      killed(null);
    }, this.#timeoutS * 1000);
    const output = child.output();
    let out: Deno.CommandOutput | null = await Promise.race([
      output,
      new Promise<null>((r) => killed = r),
    ]);
    clearTimeout(timer);
    if (out === null) {
      // Killed: a child it left behind may still hold the pipes open. Wait a little for
      // them, then carry on without its output rather than block the next run.
      out = await Promise.race([output, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
      output.catch(() => undefined);
    }
    const none = new Uint8Array();
    const run: HookRun = {
      event: ev,
      code: timedOut || out === null ? null : out.code,
      timedOut,
      stdout: clip(out?.stdout ?? none),
      stderr: clip(out?.stderr ?? none),
    };
    const fields = {
      path: this.#path,
      event: ev.event,
      member: ev.member,
      code: run.code,
      ms: Date.now() - started,
      ...(run.stdout !== "" ? { stdout: run.stdout } : {}),
      ...(run.stderr !== "" ? { stderr: run.stderr } : {}),
    };
    if (timedOut) log.warn(`Hook killed after ${this.#timeoutS} s (hook.timeout_s)`, fields);
    else if (run.code !== 0) log.warn("Hook failed", fields);
    else log.info("Hook ran", fields);
    return run;
  }

  /** A sandbox denial the query did not foresee: said once, then the hook is off. */
  #sandboxed(): null {
    this.#denied = true;
    this.#queue.length = 0;
    log.error(
      `the binary's sandbox denies reading or running the hook ${this.#path} (hook.path); ` +
        `the hook is off until starfail runs with a build that allows it`,
    );
    return null;
  }

  #failed(ev: HookEvent, error: string): HookRun {
    log.warn(error);
    return { event: ev, code: null, timedOut: false, stdout: "", stderr: "", error };
  }
}
