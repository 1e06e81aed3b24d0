/**
 * Transport to the Starlink dish, `SpaceX.API.Device.Device/Handle`:
 *
 * - **gRPC-Web first** (the default): one HTTP/1.1 POST per call on its own
 *   TCP connection (`http1.ts`, `Deno.connect`) to the web port (9201).
 *   Firmware from 2026.06 serves the local API only there, older firmware
 *   serves it for the web app, and no HTTP client library is loaded for it.
 * - **gRPC** over Deno's own `fetch` (cleartext HTTP/2 with prior knowledge,
 *   h2c, on one reused `Deno.HttpClient`) when the web port refuses, or first
 *   with `prefer: "grpc"`; a refused gRPC port sends the client back to
 *   gRPC-Web. No grpc-js, `node:http2` or `node:buffer`: their
 *   CommonJS/node-compat loading alone cost the daemon ~15 MiB of RSS.
 *
 * Robustness rules (measured, see docs/starlink.md):
 * - every call carries a `grpc-timeout` and a local timer that aborts it;
 * - gRPC-Web closes its connection after every answer; for gRPC, after
 *   DEADLINE_EXCEEDED or UNAVAILABLE the HTTP client (and its connection) is
 *   closed and recreated on the next call, because a connection whose peer
 *   stopped answering without closing TCP (a hung dish) would otherwise carry
 *   every later call into the same silence;
 * - the client never runs two calls at once: a call made while another is in
 *   flight fails at once with `BUSY` instead of piling up;
 * - the dish is always on the local segment: both transports connect to it
 *   directly, whatever `http_proxy`/`HTTP_PROXY` say.
 *
 * `fetch` cannot read HTTP/2 trailers, where a gRPC server puts the status of
 * a call that sent a message. So a 200 `application/grpc` answer is a success
 * when it carries exactly one complete message; an error status comes in the
 * headers ("Trailers-Only", what servers send for an error before any
 * message); an answer with neither is reported as such.
 *
 * @module
 */

import { oneLine, quoteValue } from "../io/show_value.ts";
import { getLogger } from "../telemetry/logger.ts";
import { Http1Error, type Http1Response, postHttp1 } from "./http1.ts";
import { concatBytes } from "../ubus/blob.ts";
import {
  decodeResponse,
  type DishMessage,
  type DishRequestKind,
  encodeRequest,
  HANDLE_PATH,
  RESPONSE_FIELD,
} from "./starlink_proto.ts";

const log = getLogger(["starfail", "starlink"]);

/** gRPC status names by code (grpc-js `status` enum, inverted). */
export const GRPC_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

/** Which wire protocol carried a call. */
export type DishTransport = "grpc" | "grpc-web";

/** A failed dish call: the gRPC status code and name, and the transport that failed. */
export class DishCallError extends Error {
  /** gRPC status code (4 DEADLINE_EXCEEDED, 7 PERMISSION_DENIED, 14 UNAVAILABLE, …), or -1 for BUSY. */
  readonly code: number;
  /** Status name, e.g. `UNAVAILABLE`, or `BUSY` when another call was in flight. */
  readonly status: string;
  /** Transport that produced the error. */
  readonly transport: DishTransport;
  /** Creates a call error. */
  constructor(code: number, message: string, transport: DishTransport) {
    super(message);
    this.name = "DishCallError";
    this.code = code;
    this.status = code === -1 ? "BUSY" : (GRPC_STATUS_NAMES[code] ?? `STATUS_${code}`);
    this.transport = transport;
  }
}

/** Options of {@link StarlinkClient}. */
export interface StarlinkClientOptions {
  /** Dish address (default `192.168.100.1`). */
  host?: string;
  /** gRPC port (default 9200). */
  port?: number;
  /** gRPC-Web port used when `port` refuses connections (default 9201; 0 disables the fallback). */
  grpcWebPort?: number;
  /** Unix socket path instead of host:port for gRPC (used by tests; no gRPC-Web fallback). */
  socketPath?: string;
  /** Deadline of each call in milliseconds (default 2000). */
  timeoutMs?: number;
  /**
   * Transport to try first: `auto` or `grpc-web` (gRPC-Web over plain HTTP/1.1
   * on the web port, gRPC when that port refuses: firmware 2026.06+ serves only
   * gRPC-Web, and it is the lighter client) or `grpc` (gRPC over HTTP/2 first,
   * gRPC-Web when gRPC is refused).
   */
  prefer?: "auto" | "grpc-web" | "grpc";
}

/** A decoded dish answer. */
export interface DishAnswer {
  /** The whole decoded `Response`. */
  response: DishMessage;
  /** The oneof member answering the request (e.g. the `DishGetStatusResponse`), snake_case fields. */
  body: Record<string, unknown>;
  /** `Response.api_version` as a number (0 when absent). */
  apiVersion: number;
  /** Transport that carried the call. */
  transport: DishTransport;
  /** Size of the encoded response in bytes. */
  bytes: number;
  /** The encoded response (for wire-level checks such as unknown alert fields). */
  raw: Uint8Array;
}

const GRPC_STATUS_DEADLINE = 4;
const GRPC_STATUS_UNAVAILABLE = 14;
const GRPC_STATUS_INTERNAL = 13;
const GRPC_STATUS_UNKNOWN = 2;
const GRPC_STATUS_RESOURCE_EXHAUSTED = 8;

/** Largest answer read from the dish (grpc-js's default receive limit); a full history is ~15 KB. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * Whether an error means the peer actively refused the TCP connection (Deno's
 * fetch says `tcp connect error: Connection refused (os error 111)`, `Deno.connect`
 * `Connection refused (os error 111)`).
 */
export function isConnectionRefused(err: DishCallError): boolean {
  return err.code === GRPC_STATUS_UNAVAILABLE &&
    /connection refused|ECONNREFUSED/i.test(err.message);
}

function longToNumber(value: unknown): number {
  if (value == null) return 0;
  if (typeof value === "number") return value;
  return Number((value as { toString(): string }).toString());
}

/**
 * Builds the answer for `kind` from encoded `Response` bytes, or throws a
 * {@link DishCallError} when the bytes are not a Response or answer something else.
 */
export function answerFromBytes(
  kind: DishRequestKind,
  bytes: Uint8Array,
  transport: DishTransport,
): DishAnswer {
  let response: DishMessage;
  try {
    response = decodeResponse(bytes);
  } catch (err) {
    throw new DishCallError(
      GRPC_STATUS_INTERNAL,
      `The dish sent a response that is not valid protobuf: ${(err as Error).message}`,
      transport,
    );
  }
  const fields = response;
  const body = fields[RESPONSE_FIELD[kind]] as Record<string, unknown> | undefined;
  if (body == null) {
    throw new DishCallError(
      GRPC_STATUS_UNKNOWN,
      `The dish answered ${kind} without a ${
        RESPONSE_FIELD[kind]
      } field (is this a Starlink router instead of the dish?)`,
      transport,
    );
  }
  return {
    response,
    body,
    apiVersion: longToNumber(fields.api_version),
    transport,
    bytes: bytes.length,
    raw: bytes,
  };
}

/** Encodes one gRPC(-Web) length-prefixed data frame. */
export function frameMessage(message: Uint8Array, flags = 0): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(5 + message.length);
  frame[0] = flags;
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/** The frames of a gRPC-Web body: data messages and the parsed trailer block. */
export interface GrpcWebFrames {
  /** Data frames in order. */
  messages: Uint8Array[];
  /** Trailers (lower-case names), empty when the body carried none. */
  trailers: Record<string, string>;
}

/** Splits a gRPC-Web response body into data frames and trailers; throws on a truncated body. */
export function parseGrpcWebBody(body: Uint8Array): GrpcWebFrames {
  const messages: Uint8Array[] = [];
  const trailers: Record<string, string> = {};
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.length) {
    if (at + 5 > body.length) throw new Error("gRPC-Web body ends inside a frame header");
    const flags = body[at];
    const length = view.getUint32(at + 1);
    const end = at + 5 + length;
    if (end > body.length) throw new Error("gRPC-Web body ends inside a frame");
    const payload = body.subarray(at + 5, end);
    if ((flags & 0x80) !== 0) {
      for (const line of new TextDecoder().decode(payload).split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    } else {
      messages.push(payload);
    }
    at = end;
  }
  return { messages, trailers };
}

/**
 * A client for the dish's `Handle` method. Reuse one instance; it keeps one
 * HTTP/2 client (one connection) and recreates it after timeouts and
 * transport errors.
 *
 * @example
 * ```ts
 * const client = new StarlinkClient({ host: "192.168.100.1", timeoutMs: 2000 });
 * const status = await client.call("get_status");
 * console.log(status.body.pop_ping_latency_ms);
 * client.close();
 * ```
 */
export class StarlinkClient {
  readonly #host: string;
  readonly #port: number;
  readonly #webPort: number;
  readonly #socketPath: string | undefined;
  readonly #timeoutMs: number;
  #h2: Deno.HttpClient | undefined;
  #mode: DishTransport = "grpc";
  #busy = false;
  #channelsCreated = 0;

  /** Creates a client; no connection is made until the first call. */
  constructor(options: StarlinkClientOptions = {}) {
    this.#host = options.host ?? "192.168.100.1";
    this.#port = options.port ?? 9200;
    this.#webPort = options.socketPath ? 0 : (options.grpcWebPort ?? 9201);
    this.#socketPath = options.socketPath;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#mode = options.prefer === "grpc" || this.#webPort === 0 ? "grpc" : "grpc-web";
  }

  /** The transport the next call will try first. */
  get transport(): DishTransport {
    return this.#mode;
  }

  /**
   * How many HTTP/2 clients for gRPC were created so far (1 + recreations
   * after timeouts and transport errors; the gRPC-Web client is not counted).
   */
  get channelsCreated(): number {
    return this.#channelsCreated;
  }

  /** Human-readable target, e.g. `192.168.100.1:9200`. */
  get target(): string {
    return this.#socketPath ? `unix:${this.#socketPath}` : `${this.#host}:${this.#port}`;
  }

  /**
   * Sends one request and decodes the answer. Throws {@link DishCallError} on
   * any failure (timeout, refused, gRPC error status, malformed answer).
   */
  async call(kind: DishRequestKind): Promise<DishAnswer> {
    if (this.#busy) {
      throw new DishCallError(-1, "Another dish call is still in flight", this.#mode);
    }
    this.#busy = true;
    try {
      return await this.#callWithFallback(kind);
    } finally {
      this.#busy = false;
    }
  }

  /** Closes the HTTP clients (and their connections); a later call opens new ones. */
  close(): void {
    this.#dropGrpc();
  }

  async #callWithFallback(kind: DishRequestKind): Promise<DishAnswer> {
    const request = encodeRequest(kind);
    if (this.#mode === "grpc-web") {
      try {
        return await this.#callWeb(kind, request);
      } catch (err) {
        if (!(err instanceof DishCallError) || !isConnectionRefused(err)) throw err;
        log.info("Dish refuses gRPC-Web; trying gRPC again", { port: this.#webPort });
        this.#mode = "grpc";
        return await this.#callGrpc(kind, request);
      }
    }
    try {
      return await this.#callGrpc(kind, request);
    } catch (err) {
      if (!(err instanceof DishCallError) || !isConnectionRefused(err) || this.#webPort === 0) {
        throw err;
      }
      const answer = await this.#callWeb(kind, request);
      this.#mode = "grpc-web";
      log.warn("Dish refuses gRPC on {port}; using gRPC-Web on {webPort}", {
        host: this.#host,
        port: this.#port,
        webPort: this.#webPort,
      });
      return answer;
    }
  }

  /** The HTTP/2 (h2c, prior knowledge) client, connected straight to the dish: no proxy. */
  #grpcClient(): Deno.HttpClient {
    if (this.#h2 == null) {
      this.#h2 = Deno.createHttpClient({
        http1: false,
        http2: true,
        proxy: this.#socketPath
          ? { transport: "unix", path: this.#socketPath }
          : { transport: "tcp", hostname: this.#host, port: this.#port },
      });
      this.#channelsCreated++;
    }
    return this.#h2;
  }

  #dropGrpc(): void {
    if (this.#h2 != null) {
      this.#h2.close();
      this.#h2 = undefined;
    }
  }

  async #callGrpc(kind: DishRequestKind, request: Uint8Array): Promise<DishAnswer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const message = await this.#exchangeGrpc(request, controller.signal);
      return answerFromBytes(kind, message, "grpc");
    } catch (err) {
      if (
        err instanceof DishCallError &&
        (err.code === GRPC_STATUS_DEADLINE || err.code === GRPC_STATUS_UNAVAILABLE)
      ) {
        this.#dropGrpc();
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One gRPC exchange over fetch: the single response message, or a {@linkcode DishCallError}. */
  async #exchangeGrpc(request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const url = this.#socketPath
      ? `http://localhost${HANDLE_PATH}`
      : `http://${formatHost(this.#host)}:${this.#port}${HANDLE_PATH}`;
    const fail = (code: number, message: string) =>
      new DishCallError(code, oneLine(message, 200), "grpc");
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        ...withClient(this.#grpcClient()),
        headers: {
          "content-type": "application/grpc",
          "te": "trailers",
          "grpc-timeout": `${this.#timeoutMs}m`,
        },
        body: frameMessage(request),
        signal,
      });
    } catch (err) {
      throw signal.aborted
        ? fail(GRPC_STATUS_DEADLINE, `Deadline exceeded after ${this.#timeoutMs} ms (gRPC)`)
        : fail(GRPC_STATUS_UNAVAILABLE, `${this.target}: ${fetchFailure(err)}`);
    }
    const type = res.headers.get("content-type");
    const headerStatus = res.headers.get("grpc-status");
    if (headerStatus !== null && type !== null && isGrpcType(type)) {
      // Trailers-Only: the status came in the headers, with no message.
      await res.body?.cancel().catch(() => {});
      const code = /^\d+$/.test(headerStatus) ? Number(headerStatus) : GRPC_STATUS_UNKNOWN;
      const message = grpcMessage(res.headers.get("grpc-message"));
      if (code !== 0) throw fail(code, message || `gRPC status ${headerStatus} without a message`);
      throw fail(GRPC_STATUS_INTERNAL, "the dish ended the call with status OK but no message");
    }
    if (res.status !== 200 || type === null || !isGrpcType(type)) {
      await res.body?.cancel().catch(() => {});
      const what = type === null
        ? "without a content-type"
        : `with content-type ${quoteValue(type)}`;
      throw fail(
        res.status >= 500 ? GRPC_STATUS_UNAVAILABLE : GRPC_STATUS_INTERNAL,
        `the dish answered HTTP ${res.status} ${what}: not a gRPC answer`,
      );
    }
    let body: Uint8Array;
    try {
      body = await readBounded(res, MAX_ANSWER_BYTES);
    } catch (err) {
      if (signal.aborted) {
        throw fail(GRPC_STATUS_DEADLINE, `Deadline exceeded after ${this.#timeoutMs} ms (gRPC)`);
      }
      if (err instanceof DishCallError) throw err;
      throw fail(GRPC_STATUS_UNAVAILABLE, `${this.target}: ${fetchFailure(err)}`);
    }
    let messages: Uint8Array[];
    try {
      messages = parseGrpcBody(body);
    } catch (err) {
      throw fail(GRPC_STATUS_INTERNAL, (err as Error).message);
    }
    if (messages.length === 0) {
      throw fail(
        GRPC_STATUS_UNKNOWN,
        "the dish ended the call without a message; its grpc-status was only in the HTTP/2 " +
          "trailers, which this client cannot read",
      );
    }
    if (messages.length !== 1) {
      throw fail(
        GRPC_STATUS_INTERNAL,
        `gRPC answer carried ${messages.length} messages, expected 1`,
      );
    }
    return messages[0];
  }

  async #callWeb(kind: DishRequestKind, request: Uint8Array): Promise<DishAnswer> {
    let res: Http1Response;
    try {
      res = await postHttp1({
        hostname: this.#host,
        port: this.#webPort,
        path: HANDLE_PATH,
        headers: {
          "content-type": "application/grpc-web+proto",
          "accept": "application/grpc-web+proto",
          "x-grpc-web": "1",
          "grpc-timeout": `${this.#timeoutMs}m`,
        },
        body: frameMessage(request),
        timeoutMs: this.#timeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
      });
    } catch (err) {
      const e = err as Http1Error;
      const where = `${this.#host}:${this.#webPort}`;
      switch (e.kind) {
        case "deadline":
          throw new DishCallError(
            GRPC_STATUS_DEADLINE,
            `Deadline exceeded after ${this.#timeoutMs} ms (gRPC-Web)`,
            "grpc-web",
          );
        case "too-large":
          throw new DishCallError(
            GRPC_STATUS_RESOURCE_EXHAUSTED,
            oneLine(`${where}: ${e.message}`, 200),
            "grpc-web",
          );
        case "protocol":
          throw new DishCallError(
            GRPC_STATUS_INTERNAL,
            oneLine(`${where}: ${e.message}`, 200),
            "grpc-web",
          );
        default:
          throw new DishCallError(
            GRPC_STATUS_UNAVAILABLE,
            oneLine(`${where}: ${e.message ?? String(err)}`, 200),
            "grpc-web",
          );
      }
    }
    const body = res.body;
    const headerStatus = res.headers.get("grpc-status");
    const type = res.headers.get("content-type") ?? "";
    if (res.status !== 200) {
      throw new DishCallError(
        GRPC_STATUS_UNAVAILABLE,
        `gRPC-Web answered HTTP ${res.status}` +
          (type !== "" ? ` (content-type ${quoteValue(type)})` : ""),
        "grpc-web",
      );
    }
    if (type !== "" && !/^application\/grpc-web/i.test(type)) {
      throw new DishCallError(
        GRPC_STATUS_INTERNAL,
        `the dish answered content-type ${quoteValue(type)}, not gRPC-Web (HTTP 200)`,
        "grpc-web",
      );
    }
    let frames: GrpcWebFrames;
    try {
      frames = parseGrpcWebBody(body);
    } catch (err) {
      throw new DishCallError(GRPC_STATUS_INTERNAL, (err as Error).message, "grpc-web");
    }
    const statusText = frames.trailers["grpc-status"] ?? headerStatus;
    const message = frames.trailers["grpc-message"] ?? res.headers.get("grpc-message");
    if (statusText == null) {
      throw new DishCallError(
        GRPC_STATUS_INTERNAL,
        "gRPC-Web answer without grpc-status",
        "grpc-web",
      );
    }
    const code = Number(statusText);
    if (code !== 0) {
      throw new DishCallError(code, oneLine(grpcMessage(message), 200), "grpc-web");
    }
    if (frames.messages.length !== 1) {
      throw new DishCallError(
        GRPC_STATUS_INTERNAL,
        `gRPC-Web answer carried ${frames.messages.length} messages, expected 1`,
        "grpc-web",
      );
    }
    return answerFromBytes(kind, frames.messages[0], "grpc-web");
  }
}

/**
 * Why a fetch failed, in one line. Deno's fetch throws `TypeError: fetch
 * failed` and keeps the reason in `cause` (`error sending request for url
 * (URL): client error (Connect): tcp connect error: Connection refused (os
 * error 111)`); the URL part is dropped, the caller names the target.
 */
function fetchFailure(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && cause.message !== "") text = cause.message;
  return text.replace(/^error sending request for url \([^)]*\): /, "");
}

/** A `grpc-message` header value, percent-decoded as the gRPC spec says (raw when malformed). */
function grpcMessage(value: string | null | undefined): string {
  if (value == null) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The response body, at most `limit` bytes (RESOURCE_EXHAUSTED beyond, naming the limit). */
async function readBounded(res: Response, limit: number): Promise<Uint8Array> {
  if (res.body == null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new DishCallError(
        GRPC_STATUS_RESOURCE_EXHAUSTED,
        `the dish's answer exceeds ${limit} bytes (a status answer is ~200 bytes, a history ~15 KB)`,
        "grpc",
      );
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks);
}

/** The messages of a gRPC (HTTP/2) body; throws on a truncated body or a compressed message. */
function parseGrpcBody(body: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.length) {
    if (at + 5 > body.length) throw new Error("the dish's gRPC answer ends inside a frame header");
    const flags = body[at];
    const end = at + 5 + view.getUint32(at + 1);
    if (end > body.length) throw new Error("the dish's gRPC answer ends inside a message");
    if (flags !== 0) {
      throw new Error(`the dish sent a message with flags ${flags} (compressed?); none was asked`);
    }
    messages.push(body.subarray(at + 5, end));
    at = end;
  }
  return messages;
}

/**
 * `fetch`'s Deno-only `client` option as an init fragment (the project's
 * `dom` lib types `fetch` without it).
 */
function withClient(client: Deno.HttpClient): RequestInit {
  return { client } as RequestInit;
}

function isGrpcType(contentType: string): boolean {
  return /^application\/grpc(?:$|[+;])/i.test(contentType);
}

function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
