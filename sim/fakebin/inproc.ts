/**
 * The fake `uci`, `mwan3` and `ping` run in-process: the same program text
 * as the executables (`*_main.cjs`), given a `process` whose output is
 * captured and whose `exit` ends the run. The demo uses this, so it needs no
 * `node`, spawns nothing and runs under the compiled binary's permissions
 * (which allow only the real router tools). The modules are static imports:
 * `deno compile` embeds them, and nothing is read from disk at run time.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import type { ExecResult, RunOptions } from "../../collectors/exec.ts";
import core from "./uci_core.cjs";
import uciMain from "./uci_main.cjs";
import mwan3Main from "./mwan3_main.cjs";
import pingMain from "./ping_main.cjs";

type Main = {
  main(
    process: unknown,
    setTimeout: (cb: () => void, ms: number) => unknown,
    require: (id: string) => unknown,
  ): void;
};

const TOOLS: Record<string, Main> = {
  uci: uciMain as Main,
  mwan3: mwan3Main as Main,
  ping: pingMain as Main,
};

/** The tools {@linkcode runFakeTool} knows. */
export const FAKE_TOOLS: readonly string[] = Object.keys(TOOLS);

class Exit {
  constructor(readonly code: number) {}
}

function fakeRequire(id: string): unknown {
  if (id === "./uci_core.cjs") return core;
  if (id === "node:fs") return fs;
  if (id === "node:path") return path;
  throw new Error(`fake tool requires ${id}, which the in-process runner does not provide`);
}

/**
 * Runs fake tool `tool` with `args` in-process; resolves like `runCommand`
 * (exit code, captured stdout and stderr; killed at the deadline).
 *
 * @example
 * ```ts
 * const r = await runFakeTool("uci", ["-q", "show", "mwan3"], { timeoutMs: 2000, env: { UCI_CONFDIR: "/tmp/x" } });
 * ```
 */
export function runFakeTool(tool: string, args: string[], opts: RunOptions): Promise<ExecResult> {
  const mod = TOOLS[tool];
  if (mod === undefined) {
    return Promise.resolve({
      code: 127,
      stdout: "",
      stderr: `${tool}: command not found`,
      timedOut: false,
    });
  }
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let done = false;
    let pending = 0;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const finish = (code: number, timedOut = false) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      resolve({ code, stdout, stderr, timedOut });
    };
    const guard = (fn: () => void) => {
      try {
        fn();
        if (pending === 0) finish(0);
      } catch (err) {
        if (err instanceof Exit) finish(err.code);
        else {
          stderr += `${tool}: ${err instanceof Error ? err.message : String(err)}\n`;
          finish(1);
        }
      }
    };
    const proc = {
      argv: ["node", tool, ...args],
      env: { ...(opts.env ?? {}) },
      pid: Deno.pid,
      stdout: { write: (s: string) => ((stdout += s), true) },
      stderr: { write: (s: string) => ((stderr += s), true) },
      exit: (code = 0) => {
        throw new Exit(code);
      },
    };
    const fakeSetTimeout = (cb: () => void, ms: number) => {
      pending++;
      const t = setTimeout(() => {
        pending--;
        guard(cb);
      }, ms);
      timers.push(t);
      return t;
    };
    timers.push(setTimeout(() => finish(137, true), opts.timeoutMs));
    guard(() => mod.main(proc, fakeSetTimeout, fakeRequire));
  });
}
