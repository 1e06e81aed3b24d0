/**
 * Starting OpenWrt's real `ubusd` (built from `../shared/openwrt` by
 * `scripts/test_tools.sh`) on a private socket, and calling the real `ubus`
 * CLI against it, each with a deadline.
 *
 * @module
 */

import { OPENWRT } from "../require.ts";

/** A running ubusd on a socket of its own. */
export interface RealUbusd {
  /** The socket path. */
  socket: string;
  /** The ubusd process. */
  process: Deno.ChildProcess;
  /** Kills ubusd (SIGKILL) and waits for it; the socket file is removed. */
  stop(): Promise<void>;
}

/** What the `ubus` CLI printed. */
export interface UbusCliResult {
  /** Exit code (the ubus status code on failure; 124 when the deadline killed it). */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Starts `ubusd -s SOCKET` and waits until the socket accepts connections (5 s deadline). */
export async function startUbusd(socket: string): Promise<RealUbusd> {
  try {
    await Deno.remove(socket);
  } catch {
    // No stale socket.
  }
  const process = new Deno.Command(OPENWRT.ubusd, {
    args: ["-s", socket],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const conn = await Deno.connect({ transport: "unix", path: socket });
      conn.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        try {
          process.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        throw new Error(`ubusd did not open ${socket} within 5 s: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  let stopped = false;
  return {
    socket,
    process,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await process.status;
      try {
        await Deno.remove(socket);
      } catch {
        // ubusd removed it.
      }
    },
  };
}

/** Runs the real `ubus -s SOCKET ARGS…` with a deadline (default 5 s). */
export async function ubusCli(
  socket: string,
  args: string[],
  opts: { timeoutMs?: number } = {},
): Promise<UbusCliResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const child = new Deno.Command(OPENWRT.ubus, {
    args: ["-s", socket, "-t", String(Math.max(1, Math.ceil(timeoutMs / 1000))), ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, timeoutMs + 1000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: killed ? 124 : out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
