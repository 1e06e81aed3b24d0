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
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: opts.env,
      cwd: opts.cwd,
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${cmd}: command not found`, timedOut: false };
    }
    // A permission the build lacks is named as such (never a plain "cannot run").
    const message = sandboxMessage(err) ?? (err instanceof Error ? err.message : String(err));
    return { code: 126, stdout: "", stderr: `${cmd}: ${message}`, timedOut: false };
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
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(opts.stdin));
        await writer.close();
      } catch {
        // The program closed its input early; its exit status says the rest.
      }
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
