/**
 * Running router tools as subprocesses: argument arrays only (never a shell),
 * and a deadline on every call.
 *
 * @module
 */

import { sandboxMessage } from "../config/sandbox.ts";

/** What a finished (or killed) subprocess left behind. */
export interface ExecResult {
  /** Exit code; 127 when the program was not found, 124 when the deadline killed it. */
  code: number;
  /** Everything the program wrote to standard output, decoded as UTF-8. */
  stdout: string;
  /** Everything the program wrote to standard error, decoded as UTF-8. */
  stderr: string;
  /** True when the deadline ran out and the program was killed. */
  timedOut: boolean;
}

/** Options for {@linkcode runCommand}. */
export interface RunOptions {
  /** Deadline in milliseconds; the program is killed (SIGKILL) when it runs out. */
  timeoutMs: number;
  /** Text written to the program's standard input (closed afterwards). */
  stdin?: string;
  /** Extra environment variables for the program. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/**
 * Runs `cmd` with `args` and collects its output, killing it when the
 * deadline runs out.
 *
 * Without `stdin` the program runs through `Deno.Command.output()`, which
 * collects its output natively: `spawn()` + `child.output()` goes through
 * web streams whose native buffers Deno does not give back, and at three
 * probes a second that grew the daemon by about 0.3 MiB a second (measured
 * by `scripts/bench_footprint.ts`; see README "Footprint"). On the deadline that
 * path sends SIGTERM (Deno's abort signal) and returns at once with code 124,
 * without waiting for the program.
 *
 * @example
 * ```ts
 * const r = await runCommand("uci", ["-q", "show", "mwan3"], { timeoutMs: 2000 });
 * if (r.code !== 0) console.error(r.stderr);
 * ```
 */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: RunOptions,
): Promise<ExecResult> {
  if (opts.stdin === undefined) return await runWithoutInput(cmd, args, opts);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: opts.env,
      cwd: opts.cwd,
    }).spawn();
  } catch (err) {
    return spawnFailure(cmd, err);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // The process already exited between the deadline and the kill.
    }
  }, opts.timeoutMs);
  try {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    } catch {
      // The program closed its input early; its exit status says the rest.
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: timedOut ? 124 : out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

function spawnFailure(cmd: string, err: unknown): ExecResult {
  if (err instanceof Deno.errors.NotFound) {
    return { code: 127, stdout: "", stderr: `${cmd}: command not found`, timedOut: false };
  }
  // A permission the build lacks is named as such (never a plain "cannot run").
  const message = sandboxMessage(err) ?? (err instanceof Error ? err.message : String(err));
  return { code: 126, stdout: "", stderr: `${cmd}: ${message}`, timedOut: false };
}

async function runWithoutInput(cmd: string, args: string[], opts: RunOptions): Promise<ExecResult> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<ExecResult>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve({
        code: 124,
        stdout: "",
        stderr: `${cmd}: killed after ${opts.timeoutMs} ms`,
        timedOut: true,
      });
    }, opts.timeoutMs);
  });
  const run = (async (): Promise<ExecResult> => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(cmd, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: opts.env,
        cwd: opts.cwd,
        signal: abort.signal,
      }).output();
    } catch (err) {
      if (abort.signal.aborted) return await deadline;
      return spawnFailure(cmd, err);
    }
    if (abort.signal.aborted) return await deadline;
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut: false,
    };
  })();
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
