/**
 * What the commands that talk to the running daemon share: finding the ubus
 * socket, calling the `starfail` object, the "daemon is not running" line
 * (exit 69), and plain-text tables.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import { CliError, EXIT, type ParsedCommand } from "./args.ts";
import type { JsonObject } from "../ubus/blob.ts";
import { resolveSocketPath, UbusClient } from "../ubus/client.ts";
import { Status, UbusError } from "../ubus/protocol.ts";
import { StarfailHttpClient } from "../ubus/http_api.ts";
import { type ActionResult, STARFAIL_OBJECT } from "../ubus/starfail_object.ts";

/** Flags every command that talks to the daemon accepts: ubus (`--socket`) or HTTP (`--url`). */
export const REMOTE_OPTIONS: ParseArgsOptionsConfig = {
  json: { type: "boolean" },
  socket: { type: "string" },
  url: { type: "string" },
  timeout: { type: "string" },
};

/** Help text of the shared flags. */
export const REMOTE_OPTION_HELP: Record<string, string> = {
  json: "print the raw JSON reply",
  socket:
    "ubus socket (default: $STARFAIL_UBUS_SOCKET, /var/run/ubus/ubus.sock, /var/run/ubus.sock)",
  url:
    "talk to the daemon's HTTP endpoint (e.g. http://127.0.0.1:9101) instead of ubus: a companion without ubusd, or another host",
  timeout: "seconds to wait for the daemon (default 5)",
};

/** The usage line's tail shared by every command that talks to the daemon. */
export const REMOTE_USAGE = "[--json] [--socket PATH | --url http://HOST:PORT] [--timeout S]";

function exitCodeOf(err: UbusError): number {
  // An unknown member (NOT_FOUND from the daemon) is bad input data: 65, as documented.
  return err.status === Status.INVALID_ARGUMENT || err.status === Status.NOT_FOUND
    ? EXIT.DATAERR
    : err.status === Status.TIMEOUT || err.status === Status.CONNECTION_FAILED
    ? EXIT.UNAVAILABLE
    : EXIT.FAIL;
}

async function callOverHttp(
  url: string,
  timeoutMs: number,
  method: string,
  args: Record<string, string | number | boolean>,
): Promise<JsonObject> {
  let client: StarfailHttpClient;
  try {
    client = new StarfailHttpClient(url, { timeoutMs });
  } catch (err) {
    throw new CliError(`--url: ${(err as Error).message}`, EXIT.USAGE);
  }
  try {
    return await client.call(method, args);
  } catch (err) {
    if (!(err instanceof UbusError)) throw err;
    if (err.status === Status.CONNECTION_FAILED || err.status === Status.TIMEOUT) {
      throw new CliError(
        `starfail daemon is not answering at ${url}: ${err.detail}`,
        EXIT.UNAVAILABLE,
      );
    }
    throw new CliError(`starfail ${method}: ${err.message}`, exitCodeOf(err));
  }
}

/** The socket: `--socket`, else `$STARFAIL_UBUS_SOCKET`, else the first default that exists. */
export function socketFrom(values: ParsedCommand["values"]): string {
  const flag = values.socket;
  if (typeof flag === "string" && flag !== "") return flag;
  const env = Deno.env.get("STARFAIL_UBUS_SOCKET");
  if (env) return env;
  return resolveSocketPath();
}

function timeoutFrom(values: ParsedCommand["values"]): number {
  const raw = values.timeout;
  if (raw === undefined) return 5000;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(n) || n <= 0 || n > 300) {
    throw new CliError(`--timeout '${String(raw)}': expected seconds from 0.1 to 300`, EXIT.USAGE);
  }
  return Math.round(n * 1000);
}

/**
 * Calls `method` on the `starfail` object. Throws {@linkcode CliError}: exit 69
 * with "starfail daemon is not running: …" when ubus or the object is
 * missing; exit 1 (or 65 for bad arguments) when the daemon refuses.
 */
export async function callStarfail(
  values: ParsedCommand["values"],
  method: string,
  args: Record<string, string | number | boolean> = {},
): Promise<JsonObject> {
  const timeoutMs = timeoutFrom(values);
  if (typeof values.url === "string") {
    return await callOverHttp(values.url, timeoutMs, method, args);
  }
  const socket = socketFrom(values);
  let client: UbusClient;
  try {
    client = await UbusClient.connect({ socket, timeoutMs });
  } catch (err) {
    const why = err instanceof UbusError ? err.message : String(err);
    throw new CliError(
      `starfail daemon is not running: cannot reach ubus at ${socket} (${why})`,
      EXIT.UNAVAILABLE,
    );
  }
  try {
    let id: number;
    try {
      id = await client.lookupId(STARFAIL_OBJECT, { timeoutMs });
    } catch (err) {
      if (err instanceof UbusError && err.status === Status.NOT_FOUND) {
        throw new CliError(
          `starfail daemon is not running: no object '${STARFAIL_OBJECT}' on ${socket}`,
          EXIT.UNAVAILABLE,
        );
      }
      throw err;
    }
    return await client.invoke(id, method, args, { timeoutMs });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof UbusError) {
      throw new CliError(`starfail ${method}: ${err.message}`, exitCodeOf(err));
    }
    throw err;
  } finally {
    await client.close();
  }
}

/**
 * Runs a remote command body, printing a {@linkcode CliError} as its one line
 * on stderr and returning its code. Usage errors pass through to main.
 */
export async function runRemote(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CliError) {
      console.error(err.message);
      return err.code;
    }
    throw err;
  }
}

/**
 * The body every remote command shares: calls `method` with `args`, prints the
 * raw reply with `--json` or `render(reply)` otherwise, and returns
 * `exitFor(reply)` (0 by default). Errors come out as in {@linkcode runRemote}.
 */
export function callAndPrint<T>(
  values: ParsedCommand["values"],
  method: string,
  args: Record<string, string | number | boolean>,
  render: (reply: T) => string,
  exitFor: (reply: T) => number = () => EXIT.OK,
): Promise<number> {
  return runRemote(async () => {
    const reply = await callStarfail(values, method, args);
    const typed = reply as unknown as T;
    if (values.json) printJson(reply);
    else console.log(render(typed));
    return exitFor(typed);
  });
}

/** `failover`, `restore`, `recheck`: prints the reply's message; exit 0 when it succeeded, else 1. */
export function callAction(
  values: ParsedCommand["values"],
  method: string,
  args: Record<string, string | number | boolean> = {},
): Promise<number> {
  return callAndPrint<ActionResult>(
    values,
    method,
    args,
    (r) => r.message,
    (r) => r.ok ? EXIT.OK : EXIT.FAIL,
  );
}

/** Renders rows as a left-aligned text table with a header line. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length))
  );
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(headers), ...cells.map(line)].join("\n");
}

/** Formats a number with at most `digits` decimals, or "-" for null/undefined. */
export function num(v: unknown, digits = 1): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "-";
  return String(Math.round(v * 10 ** digits) / 10 ** digits);
}

/** Formats a duration in seconds as `1h02m`, `3m05s` or `12s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}

/** Formats unix seconds as local `HH:MM:SS` plus "(Ns ago)" relative to `now`. */
export function when(at: unknown, now: number = Date.now() / 1000): string {
  if (typeof at !== "number" || !Number.isFinite(at)) return "-";
  const d = new Date(at * 1000);
  const hms = [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  return `${hms} (${duration(now - at)} ago)`;
}

/** Formats unix seconds as local `HH:MM:SS`. */
export function clock(at: unknown): string {
  if (typeof at !== "number" || !Number.isFinite(at)) return "-";
  const d = new Date(at * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/** Prints `value` as JSON (two-space indent). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
