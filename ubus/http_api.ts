/**
 * The `starfail` method table over HTTP: `/api/<method>` answers with the
 * same JSON as the ubus object, because it runs the same table through the
 * same {@linkcode dispatchCall}. Read methods are GET (arguments in the query
 * string), actions are POST (arguments as a JSON body). Errors carry the ubus
 * status: `{"error": "...", "status": 4}` with an HTTP code that says the same.
 *
 * {@linkcode StarfailHttpClient} is the other end: a caller gets the reply
 * object or a {@linkcode UbusError} with the daemon's status, exactly as over
 * ubus, so a command can switch between the two by a flag.
 *
 * @module
 */

import type { JsonObject } from "./blob.ts";
import { dispatchCall, type UbusMethodTable } from "./object_server.ts";
import { Status, UbusError } from "./protocol.ts";

/** Methods that change something: POST only. Every other method is a read: GET (POST is accepted too). */
export const ACTION_METHODS: ReadonlySet<string> = new Set([
  "failover",
  "restore",
  "recheck",
  "setlog",
  "notify_test",
]);

/** Largest request body `/api/` reads, bytes. */
export const MAX_API_BODY = 64 * 1024;

/** The HTTP code that says what a ubus status says. */
export function httpStatusOf(status: number): number {
  switch (status) {
    case Status.OK:
      return 200;
    case Status.INVALID_ARGUMENT:
    case Status.INVALID_COMMAND:
    case Status.PARSE_ERROR:
      return 400;
    case Status.PERMISSION_DENIED:
      return 403;
    case Status.METHOD_NOT_FOUND:
    case Status.NOT_FOUND:
      return 404;
    case Status.TIMEOUT:
      return 504;
    case Status.NOT_SUPPORTED:
      return 501;
    case Status.CONNECTION_FAILED:
      return 503;
    default:
      return 500;
  }
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function errorReply(status: number, error: string, headers?: Record<string, string>): Response {
  return json({ error, status }, httpStatusOf(status), headers);
}

/** Query values as the schema wants them: integers as numbers, `true`/`false` as booleans. */
function argsFromQuery(params: URLSearchParams): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of params) {
    if (/^-?\d{1,15}$/.test(value)) out[key] = Number(value);
    else if (value === "true" || value === "false") out[key] = value === "true";
    else out[key] = value;
  }
  return out;
}

async function argsFromBody(req: Request): Promise<JsonObject | string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_API_BODY) return `request body is over ${MAX_API_BODY} bytes`;
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length > MAX_API_BODY) return `request body is over ${MAX_API_BODY} bytes`;
  const text = new TextDecoder().decode(bytes).trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'request body is not JSON; send an object such as {"member":"lte"}';
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return "request body must be a JSON object";
  }
  return parsed as JsonObject;
}

/**
 * Answers one `/api/<method>` request from `table`. `path` is the part after
 * `/api/`. Never throws.
 *
 * @example
 * ```ts
 * const table = starfailMethods(backend);
 * Deno.serve((req) => apiResponse(table, req, new URL(req.url).pathname.slice(5)));
 * ```
 */
export async function apiResponse(
  table: UbusMethodTable,
  req: Request,
  method: string,
): Promise<Response> {
  if (!Object.hasOwn(table, method)) {
    return errorReply(
      Status.METHOD_NOT_FOUND,
      `unknown method '${method}'; known: ${Object.keys(table).join(", ")}`,
    );
  }
  const action = ACTION_METHODS.has(method);
  let args: JsonObject;
  if (req.method === "POST") {
    const body = await argsFromBody(req);
    if (typeof body === "string") return errorReply(Status.INVALID_ARGUMENT, body);
    args = body;
  } else if (req.method === "GET" && !action) {
    args = argsFromQuery(new URL(req.url).searchParams);
  } else {
    const allowed = action ? "POST" : "GET, POST";
    await req.body?.cancel();
    return new Response(
      JSON.stringify({
        error: `${method} takes ${allowed}, not ${req.method}`,
        status: Status.NOT_SUPPORTED,
      }) + "\n",
      { status: 405, headers: { "content-type": "application/json", allow: allowed } },
    );
  }
  const reply = await dispatchCall(table, method, args, { user: "http" });
  if (reply.status === Status.OK) return json(reply.data ?? {}, 200);
  const error = typeof reply.data?.error === "string" ? reply.data.error : "failed";
  return errorReply(reply.status, error);
}

/** Options for {@linkcode StarfailHttpClient}. */
export interface HttpClientOptions {
  /** Deadline of one request, ms (default 5000). */
  timeoutMs?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

/**
 * Calls the daemon's `/api/<method>`. Replies come back as the same objects
 * as over ubus; refusals as {@linkcode UbusError} with the daemon's status;
 * an unreachable daemon as `UbusError(CONNECTION_FAILED)` and no answer in
 * time as `UbusError(TIMEOUT)`.
 *
 * @example
 * ```ts
 * const api = new StarfailHttpClient("http://127.0.0.1:9101");
 * const status = await api.call("status");
 * await api.call("failover", { member: "lte" });
 * ```
 */
export class StarfailHttpClient {
  /** The base URL, without a trailing slash. */
  readonly baseUrl: string;
  #timeoutMs: number;
  #fetch: typeof fetch;

  /** A client of the daemon at `baseUrl` (`http://host:port`). Throws TypeError for a URL that is not http(s). */
  constructor(baseUrl: string, opts: HttpClientOptions = {}) {
    const url = new URL(baseUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`'${baseUrl}' is not an http:// or https:// URL`);
    }
    this.baseUrl = url.href.replace(/\/+$/, "");
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** Calls `method` with `args`: GET for reads, POST for actions. */
  async call(
    method: string,
    args: Record<string, string | number | boolean> = {},
  ): Promise<JsonObject> {
    const action = ACTION_METHODS.has(method);
    let url = `${this.baseUrl}/api/${encodeURIComponent(method)}`;
    const init: RequestInit = { signal: AbortSignal.timeout(this.#timeoutMs) };
    if (action) {
      init.method = "POST";
      init.headers = { "content-type": "application/json" };
      init.body = JSON.stringify(args);
    } else {
      const query = new URLSearchParams(
        Object.entries(args).map(([k, v]) => [k, String(v)]),
      ).toString();
      if (query !== "") url += `?${query}`;
    }
    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (err) {
      const e = err as Error;
      if (e.name === "TimeoutError") {
        throw new UbusError(
          Status.TIMEOUT,
          `no answer from ${this.baseUrl} within ${this.#timeoutMs} ms`,
        );
      }
      if (e.name === "NotCapable" || e instanceof Deno.errors.NotCapable) {
        throw new UbusError(
          Status.PERMISSION_DENIED,
          `the sandbox denies network access to ${new URL(this.baseUrl).host} (${e.message})`,
        );
      }
      throw new UbusError(Status.CONNECTION_FAILED, `cannot reach ${this.baseUrl}: ${e.message}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new UbusError(
        Status.UNKNOWN_ERROR,
        `${this.baseUrl} answered HTTP ${res.status} without JSON (is it starfail's endpoint?)`,
      );
    }
    if (res.ok && body !== null && typeof body === "object" && !Array.isArray(body)) {
      return body as JsonObject;
    }
    const obj = (body ?? {}) as { error?: unknown; status?: unknown };
    const status = typeof obj.status === "number" ? obj.status : Status.UNKNOWN_ERROR;
    const error = typeof obj.error === "string" ? obj.error : `HTTP ${res.status}`;
    throw new UbusError(status, error);
  }
}
