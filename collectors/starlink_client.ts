/**
 * Transport to the Starlink dish: one reused @grpc/grpc-js channel to
 * `SpaceX.API.Device.Device/Handle`, with a gRPC-Web (HTTP/1.1) fallback for
 * dishes that refuse raw gRPC on 9200.
 *
 * Robustness rules (measured, see docs/starlink.md):
 * - every call carries a gRPC deadline and a local timer that cancels it;
 * - after DEADLINE_EXCEEDED or UNAVAILABLE the grpc-js client is closed and
 *   recreated on the next call, because a channel whose peer stopped answering
 *   without closing TCP (a hung dish) otherwise times out forever;
 * - the client never runs two calls at once: a call made while another is in
 *   flight fails at once with `BUSY` instead of piling up.
 *
 * @module
 */

import http2 from "node:http2";
import { oneLine, quoteValue } from "../io/show_value.ts";
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { getLogger } from "../telemetry/logger.ts";
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
   * Transport to try first: `auto` (gRPC, gRPC-Web when gRPC is refused) or
   * `grpc-web` (start on gRPC-Web; avoids node:http2 entirely while the web port answers).
   */
  prefer?: "auto" | "grpc-web";
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

function identity(bytes: Uint8Array): Uint8Array {
  return bytes;
}

function serializeBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

/** Whether an error means the peer actively refused the TCP connection. */
export function isConnectionRefused(err: DishCallError): boolean {
  return err.code === GRPC_STATUS_UNAVAILABLE && /refused|ECONNREFUSED/i.test(err.message);
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
 * grpc-js channel and recreates it after timeouts and transport errors.
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
  #grpc: grpc.Client | undefined;
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
    if (options.prefer === "grpc-web" && this.#webPort !== 0) this.#mode = "grpc-web";
  }

  /** The transport the next call will try first. */
  get transport(): DishTransport {
    return this.#mode;
  }

  /** How many grpc-js clients were created so far (1 + recreations after errors). */
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

  /** Closes the grpc-js channel; a later call opens a new one. */
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

  #client(): grpc.Client {
    if (this.#grpc == null) {
      const target = this.#socketPath
        ? `unix://${this.#socketPath}`
        : `${this.#host}:${this.#port}`;
      this.#grpc = new grpc.Client(target, grpc.credentials.createInsecure(), {
        "grpc.enable_retries": 0,
        "grpc.initial_reconnect_backoff_ms": 500,
        "grpc.max_reconnect_backoff_ms": 5000,
        "grpc.use_local_subchannel_pool": 1,
        "grpc.enable_channelz": 0,
        // The dish is on the local segment: never route it through http_proxy/grpc_proxy.
        "grpc.enable_http_proxy": 0,
      });
      this.#channelsCreated++;
    }
    return this.#grpc;
  }

  #dropGrpc(): void {
    if (this.#grpc != null) {
      this.#grpc.close();
      this.#grpc = undefined;
    }
  }

  #callGrpc(kind: DishRequestKind, request: Uint8Array): Promise<DishAnswer> {
    const client = this.#client();
    const timeoutMs = this.#timeoutMs;
    return new Promise<DishAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (err: DishCallError | null, bytes?: Uint8Array) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err != null) {
          if (err.code === GRPC_STATUS_DEADLINE || err.code === GRPC_STATUS_UNAVAILABLE) {
            this.#dropGrpc();
          }
          reject(err);
          return;
        }
        try {
          resolve(answerFromBytes(kind, bytes!, "grpc"));
        } catch (decodeErr) {
          reject(decodeErr);
        }
      };
      const deadline = Date.now() + timeoutMs;
      // What the dish said it answered with: an HTML error page or a proxy's answer
      // otherwise surfaces as grpc-js's "Received message larger than max".
      let contentType: string | undefined;
      const watchContentType: grpc.Interceptor = (options, nextCall) =>
        new grpc.InterceptingCall(nextCall(options), {
          start(metadata, _listener, next) {
            next(metadata, {
              onReceiveMetadata(md, nextMd) {
                const value = md.get("content-type")[0];
                if (value !== undefined) contentType = String(value);
                nextMd(md);
              },
            });
          },
        });
      const call = client.makeUnaryRequest<Uint8Array, Uint8Array>(
        HANDLE_PATH,
        serializeBuffer,
        identity,
        request,
        new grpc.Metadata(),
        { deadline, interceptors: [watchContentType] },
        (err: grpc.ServiceError | null, value?: Uint8Array) => {
          if (!err) return finish(null, value);
          if (contentType === undefined || isGrpcType(contentType) || this.#socketPath) {
            return finish(dishGrpcError(err, contentType));
          }
          // Not gRPC: grpc-js hides the HTTP status, so ask once more, within the deadline.
          httpStatusOf(this.#host, this.#port, Math.max(100, deadline - Date.now())).then(
            (status) => finish(dishGrpcError(err, contentType, status)),
          );
        },
      );
      // The grpc-js deadline should fire first; this local timer is the backstop.
      const timer = setTimeout(() => {
        call.cancel();
        finish(new DishCallError(GRPC_STATUS_DEADLINE, "Deadline exceeded (local timer)", "grpc"));
      }, timeoutMs + 250);
    });
  }

  async #callWeb(kind: DishRequestKind, request: Uint8Array): Promise<DishAnswer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    const url = `http://${formatHost(this.#host)}:${this.#webPort}${HANDLE_PATH}`;
    try {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/grpc-web+proto",
            "accept": "application/grpc-web+proto",
            "x-grpc-web": "1",
            "grpc-timeout": `${this.#timeoutMs}m`,
          },
          body: frameMessage(request),
          signal: controller.signal,
        });
      } catch (err) {
        if (controller.signal.aborted) {
          throw new DishCallError(GRPC_STATUS_DEADLINE, "Deadline exceeded (gRPC-Web)", "grpc-web");
        }
        throw new DishCallError(GRPC_STATUS_UNAVAILABLE, (err as Error).message, "grpc-web");
      }
      let body: Uint8Array;
      try {
        body = new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        const code = controller.signal.aborted ? GRPC_STATUS_DEADLINE : GRPC_STATUS_UNAVAILABLE;
        throw new DishCallError(code, (err as Error).message, "grpc-web");
      }
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
      const message = frames.trailers["grpc-message"] ?? res.headers.get("grpc-message") ?? "";
      if (statusText == null) {
        throw new DishCallError(
          GRPC_STATUS_INTERNAL,
          "gRPC-Web answer without grpc-status",
          "grpc-web",
        );
      }
      const code = Number(statusText);
      if (code !== 0) {
        throw new DishCallError(code, decodeURIComponent(message), "grpc-web");
      }
      if (frames.messages.length !== 1) {
        throw new DishCallError(
          GRPC_STATUS_INTERNAL,
          `gRPC-Web answer carried ${frames.messages.length} messages, expected 1`,
          "grpc-web",
        );
      }
      return answerFromBytes(kind, frames.messages[0], "grpc-web");
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A grpc-js failure as a {@linkcode DishCallError}. When the dish answered
 * something that is not gRPC (an HTML error page, a captive portal), grpc-js
 * reads its first bytes as a message length and reports RESOURCE_EXHAUSTED
 * ("Received message larger than max (1853121906 vs 4194304)"); that is said
 * as what it is instead.
 */
function dishGrpcError(
  err: grpc.ServiceError,
  contentType: string | undefined,
  httpStatus?: number,
): DishCallError {
  if (contentType !== undefined && !isGrpcType(contentType)) {
    const detail = err.code === GRPC_STATUS_RESOURCE_EXHAUSTED
      ? "not a gRPC answer"
      : (err.details || err.message);
    const http = httpStatus !== undefined ? `HTTP ${httpStatus} with ` : "";
    return new DishCallError(
      httpStatus !== undefined && httpStatus >= 500
        ? GRPC_STATUS_UNAVAILABLE
        : GRPC_STATUS_INTERNAL,
      oneLine(`the dish answered ${http}content-type ${quoteValue(contentType)}: ${detail}`, 200),
      "grpc",
    );
  }
  return new DishCallError(err.code, oneLine(err.details || err.message, 200), "grpc");
}

function isGrpcType(contentType: string): boolean {
  return /^application\/grpc/i.test(contentType);
}

/** The HTTP status the dish answers a gRPC POST with, or undefined (error, deadline). */
function httpStatusOf(host: string, port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let session: http2.ClientHttp2Session | undefined;
    const done = (status: number | undefined) => {
      clearTimeout(timer);
      try {
        session?.destroy();
      } catch {
        // already gone
      }
      resolve(status);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    try {
      session = http2.connect(`http://${formatHost(host)}:${port}`);
      session.on("error", () => done(undefined));
      const req = session.request({
        ":method": "POST",
        ":path": HANDLE_PATH,
        "content-type": "application/grpc",
        te: "trailers",
      });
      req.on("response", (headers) => done(Number(headers[":status"])));
      req.on("error", () => done(undefined));
      req.end(frameMessage(new Uint8Array(0)));
    } catch {
      done(undefined);
    }
  });
}

function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
