/**
 * One HTTP/1.1 POST over a plain TCP connection (`Deno.connect`), read to its
 * end: what the dish's gRPC-Web port needs and nothing more. `fetch` would do
 * the same job, but its HTTP client cost the daemon 2–5 MiB of RSS under Deno
 * (measured in `docs/starlink.md`), a third of what the whole dish collector
 * may cost on a router.
 *
 * Every call has a deadline covering connect, write and read; the answer is
 * bounded in size; the connection is closed after each answer
 * (`Connection: close`), so a hung peer never holds anything past its call.
 * Bodies come with `Content-Length`, chunked, or until the peer closes.
 *
 * @module
 */

import { concatBytes } from "../ubus/blob.ts";

/** Why an HTTP/1.1 exchange failed. */
export type Http1FailureKind = "deadline" | "connect" | "io" | "protocol" | "too-large";

/** A failed exchange; `message` is one line. */
export class Http1Error extends Error {
  /** What failed. */
  readonly kind: Http1FailureKind;

  /** An error of `kind`. */
  constructor(kind: Http1FailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "Http1Error";
    this.kind = kind;
  }
}

/** One POST. */
export interface Http1Request {
  /** Host name or IP literal to connect to. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Request path, e.g. `/SpaceX.API.Device.Device/Handle`. */
  path: string;
  /** Extra request headers (lower-case names; Host, Content-Length and Connection are set here). */
  headers: Record<string, string>;
  /** The request body. */
  body: Uint8Array;
  /** Deadline of the whole exchange in milliseconds. */
  timeoutMs: number;
  /** Largest answer read (headers and body), in bytes. */
  maxBytes: number;
}

/** An answer. */
export interface Http1Response {
  /** The HTTP status code. */
  status: number;
  /** Header values by lower-case name (repeated headers joined with ", "). */
  headers: Map<string, string>;
  /** The body, de-chunked. */
  body: Uint8Array;
}

const CRLF2 = [13, 10, 13, 10];

function indexOfSeq(bytes: Uint8Array, seq: number[], from = 0): number {
  outer: for (let i = from; i <= bytes.length - seq.length; i++) {
    for (let j = 0; j < seq.length; j++) if (bytes[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

function hostHeader(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Parses the status line and headers (latin-1). */
function parseHead(text: string): { status: number; headers: Map<string, string> } {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (m === null) {
    throw new Http1Error(
      "protocol",
      `not an HTTP/1.1 answer: ${JSON.stringify(lines[0].slice(0, 60))}`,
    );
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new Http1Error(
        "protocol",
        `malformed header line ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { status: Number(m[1]), headers };
}

/** De-chunks a complete chunked body; returns null while more bytes are needed. */
function dechunk(bytes: Uint8Array): Uint8Array | null {
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    const eol = indexOfSeq(bytes, [13, 10], pos);
    if (eol === -1) return null;
    const sizeText = new TextDecoder("latin1").decode(bytes.subarray(pos, eol)).split(";")[0]
      .trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) {
      throw new Http1Error("protocol", `bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    }
    const size = parseInt(sizeText, 16);
    pos = eol + 2;
    if (size === 0) {
      // Trailer section (ignored) ends with an empty line.
      return indexOfSeq(bytes, [13, 10], pos) === -1 ? null : concatBytes(parts);
    }
    if (bytes.length < pos + size + 2) return null;
    parts.push(bytes.subarray(pos, pos + size));
    pos += size + 2;
  }
}

/**
 * Sends one POST and reads the whole answer. Throws {@linkcode Http1Error}:
 * `deadline` past `timeoutMs`, `connect` when no connection was made (the
 * underlying error's message kept, e.g. "Connection refused" or a sandbox
 * denial), `io` when it broke mid-way, `protocol` for an answer that is not
 * HTTP/1.1, `too-large` past `maxBytes`.
 *
 * @example
 * ```ts
 * const res = await postHttp1({
 *   hostname: "192.168.100.1", port: 9201, path: "/SpaceX.API.Device.Device/Handle",
 *   headers: { "content-type": "application/grpc-web+proto" }, body, timeoutMs: 2000,
 *   maxBytes: 4 << 20,
 * });
 * ```
 */
export async function postHttp1(req: Http1Request): Promise<Http1Response> {
  let conn: Deno.TcpConn | undefined;
  let timedOut = false;
  const deadline = new AbortController();
  const close = () => {
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    conn = undefined;
  };
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
    close();
  }, req.timeoutMs);
  const deadlineError = () => new Http1Error("deadline", `no answer within ${req.timeoutMs} ms`);
  try {
    let c: Deno.TcpConn;
    try {
      c = await Deno.connect({
        hostname: req.hostname,
        port: req.port,
        transport: "tcp",
        signal: deadline.signal,
      });
    } catch (err) {
      if (timedOut) throw deadlineError();
      throw new Http1Error("connect", (err as Error).message, { cause: err });
    }
    if (timedOut) {
      c.close();
      throw deadlineError();
    }
    conn = c;
    try {
      return await exchange(c, req);
    } catch (err) {
      if (timedOut) throw deadlineError();
      if (err instanceof Http1Error) throw err;
      throw new Http1Error("io", (err as Error).message, { cause: err });
    }
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** Writes the request and reads the answer on an open connection. */
async function exchange(conn: Deno.TcpConn, req: Http1Request): Promise<Http1Response> {
  const head = [
    `POST ${req.path} HTTP/1.1`,
    `host: ${hostHeader(req.hostname, req.port)}`,
    ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`),
    `content-length: ${req.body.length}`,
    "connection: close",
    "",
    "",
  ].join("\r\n");
  const out = concatBytes([new TextEncoder().encode(head), req.body]);
  for (let off = 0; off < out.length;) off += await conn.write(out.subarray(off));
  let data = new Uint8Array(Math.min(16384, req.maxBytes + 1));
  let len = 0;
  let bodyStart = -1;
  let parsed: { status: number; headers: Map<string, string> } | undefined;
  for (;;) {
    if (len > req.maxBytes) {
      throw new Http1Error("too-large", `answer larger than ${req.maxBytes} bytes`);
    }
    if (len === data.length) {
      const grown = new Uint8Array(Math.min(data.length * 2, req.maxBytes + 1));
      grown.set(data);
      data = grown;
    }
    const n = await conn.read(data.subarray(len));
    if (n === null) break;
    len += n;
    const bytes = data.subarray(0, len);
    if (parsed === undefined) {
      const end = indexOfSeq(bytes, CRLF2);
      if (end === -1) continue;
      parsed = parseHead(new TextDecoder("latin1").decode(bytes.subarray(0, end)));
      bodyStart = end + 4;
    }
    const body = bytes.subarray(bodyStart);
    const length = parsed.headers.get("content-length");
    if (parsed.headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      const whole = dechunk(body);
      if (whole !== null) return { ...parsed, body: whole.slice() };
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) {
        throw new Http1Error("protocol", `bad content-length ${JSON.stringify(length)}`);
      }
      if (body.length >= Number(length)) {
        return { ...parsed, body: body.slice(0, Number(length)) };
      }
    }
  }
  // The peer closed: a read-to-close body is complete; anything else was cut short.
  if (parsed === undefined) {
    throw new Http1Error(
      "io",
      len === 0 ? "connection closed without an answer" : "connection closed inside the headers",
    );
  }
  const h = parsed.headers;
  if (h.get("transfer-encoding") !== undefined || h.get("content-length") !== undefined) {
    throw new Http1Error("io", "connection closed before the whole answer arrived");
  }
  return { ...parsed, body: data.slice(bodyStart, len) };
}
