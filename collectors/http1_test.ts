import assert from "node:assert/strict";
import { Http1Error, postHttp1 } from "./http1.ts";

const net = { sanitizeOps: false, sanitizeResources: false };
const enc = new TextEncoder();

/** A TCP server on 127.0.0.1 answering every connection with `answer` (then closing, or not). */
function serve(
  answer: (request: string) => Uint8Array[],
  opts: { keepOpen?: boolean; silent?: boolean } = {},
): { port: number; requests: string[]; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const open: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      open.push(conn);
      (async () => {
        const buf = new Uint8Array(65536);
        let text = "";
        while (!text.includes("\r\n\r\n") || text.length < requestLength(text)) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return;
          text += new TextDecoder("latin1").decode(buf.subarray(0, n));
        }
        requests.push(text);
        if (opts.silent) return;
        for (const part of answer(text)) {
          await conn.write(part).catch(() => {});
          await new Promise((r) => setTimeout(r, 5));
        }
        if (!opts.keepOpen) {
          try {
            conn.close();
          } catch {
            // The test closed it first.
          }
        }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    requests,
    close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
    },
  };
}

function requestLength(text: string): number {
  const head = text.indexOf("\r\n\r\n");
  const m = /content-length: (\d+)/i.exec(text.slice(0, head));
  return head + 4 + Number(m?.[1] ?? 0);
}

function post(port: number, extra: Partial<Parameters<typeof postHttp1>[0]> = {}) {
  return postHttp1({
    hostname: "127.0.0.1",
    port,
    path: "/x",
    headers: { "content-type": "application/grpc-web+proto" },
    body: new Uint8Array([0, 0, 0, 0, 3, 1, 2, 3]),
    timeoutMs: 1000,
    maxBytes: 4096,
    ...extra,
  });
}

Deno.test({
  name: "a POST is sent whole; Content-Length, chunked and read-to-close bodies are read",
  ...net,
  async fn() {
    const bodies: Record<string, Uint8Array[]> = {
      length: [
        enc.encode("HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nContent-Length: 5\r\n\r\nhe"),
        enc.encode("llo"),
      ],
      chunked: [
        enc.encode(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n3\r\nhel\r\n",
        ),
        enc.encode("2;ext=1\r\nlo\r\n0\r\nTrailer: t\r\n\r\n"),
      ],
      close: [enc.encode("HTTP/1.0 200 OK\r\n\r\nhel"), enc.encode("lo")],
    };
    for (const [name, parts] of Object.entries(bodies)) {
      const server = serve(() => parts, { keepOpen: name !== "close" });
      try {
        const res = await post(server.port);
        assert.equal(res.status, 200, name);
        assert.equal(new TextDecoder().decode(res.body), "hello", name);
        if (name === "chunked") assert.equal(res.headers.get("x-a"), "1, 2");
        const req = server.requests[0];
        assert.match(req, /^POST \/x HTTP\/1\.1\r\n/);
        assert.match(req, /\r\nhost: 127\.0\.0\.1:\d+\r\n/);
        assert.match(req, /\r\ncontent-length: 8\r\n/);
        assert.match(req, /\r\nconnection: close\r\n/);
        assert.deepEqual([...enc.encode(req.slice(-8))], [0, 0, 0, 0, 3, 1, 2, 3]);
      } finally {
        server.close();
      }
    }
  },
});

async function failure(p: Promise<unknown>): Promise<Http1Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Http1Error, String(err));
    assert.ok(!err.message.includes("\n"));
    return err;
  }
  throw new Error("no failure");
}

Deno.test({
  name: "failures are told by kind: deadline, connect, cut short, not HTTP, too large",
  ...net,
  async fn() {
    const silent = serve(() => [], { silent: true });
    const started = performance.now();
    const hung = await failure(post(silent.port, { timeoutMs: 200 }));
    assert.equal(hung.kind, "deadline");
    assert.ok(performance.now() - started < 800);
    silent.close();

    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closed.addr as Deno.NetAddr).port;
    closed.close();
    const refused = await failure(post(port));
    assert.equal(refused.kind, "connect");
    assert.match(refused.message, /connection refused/i);

    const cases: [Uint8Array[], string, RegExp][] = [
      [
        [enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")],
        "io",
        /before the whole/,
      ],
      [[enc.encode("HTTP/1.1 200 OK\r\nContent-")], "io", /inside the headers/],
      [[], "io", /without an answer/],
      [[enc.encode("SSH-2.0-OpenSSH\r\n\r\n")], "protocol", /not an HTTP\/1\.1 answer/],
      [
        [enc.encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")],
        "protocol",
        /bad chunk size/,
      ],
      [[enc.encode("HTTP/1.1 200 OK\r\n\r\n" + "x".repeat(5000))], "too-large", /larger than 4096/],
    ];
    for (const [parts, kind, pattern] of cases) {
      const server = serve(() => parts);
      try {
        const err = await failure(post(server.port));
        assert.equal(err.kind, kind, `${kind}: ${err.message}`);
        assert.match(err.message, pattern);
      } finally {
        server.close();
      }
    }
  },
});
