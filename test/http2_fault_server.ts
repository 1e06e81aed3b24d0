/**
 * A misbehaving "dish" for fault tests, run as a CHILD PROCESS: a plain
 * `node:http2` server that answers each request with the next fault of a list
 * (an HTTP 500 page, a 200 with a wrong content-type, gRPC garbage, a reset
 * stream, or nothing at all), or with a gRPC error followed by a GOAWAY that
 * closes the connection (`goaway`). Started by {@linkcode startFaultServer}; prints
 * `port N`, then one `session` line per HTTP/2 connection and one
 * `request MODE` line per request.
 *
 * Why a child: Deno 2.9.6's nghttp2 can abort the whole process when a GOAWAY
 * reaches a session that still holds closed streams (denoland/deno#36788), and
 * a reset stream plus closing both ends in one process is exactly that. The
 * test process must never be the one that crashes, so the server lives apart
 * and is ended with SIGKILL (no GOAWAY is ever sent to the client under test).
 *
 * @module
 */

import http2 from "node:http2";
import type { AddressInfo } from "node:net";

/** The faults, in the order a list names them. */
export type FaultMode = "http500" | "html200" | "garbage" | "reset" | "hang";

/**
 * What the server can do per request: a fault, or `goaway` (a Trailers-Only
 * gRPC NOT_FOUND "goaway test", then GOAWAY and close of the connection).
 */
export type ServerMode = FaultMode | "goaway";

/** A running fault server (child process). */
export interface FaultServer {
  /** The loopback port it listens on. */
  port: number;
  /** Requests it has seen so far. */
  requests(): number;
  /** HTTP/2 connections (sessions) it has accepted so far. */
  sessions(): number;
  /** Ends it with SIGKILL and waits for the process. */
  kill(): Promise<void>;
}

/** Starts the fault server in a child Deno process; `modes` cycle per request. */
export async function startFaultServer(modes: ServerMode[]): Promise<FaultServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--no-prompt",
      new URL(import.meta.url).pathname,
      modes.join(","),
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let requests = 0;
  let sessions = 0;
  let port = 0;
  const deadline = Date.now() + 15000;
  while (port === 0) {
    if (Date.now() > deadline) throw new Error("the fault server did not start within 15 s");
    const { value, done } = await lines.read();
    if (done) throw new Error("the fault server exited before listening");
    buffered += value;
    const m = /^port (\d+)$/m.exec(buffered);
    if (m) port = Number(m[1]);
  }
  requests += (buffered.match(/^request /gm) ?? []).length;
  sessions += (buffered.match(/^session$/gm) ?? []).length;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await lines.read().catch(() => ({ value: "", done: true }));
      if (done) return;
      requests += (value.match(/^request /gm) ?? []).length;
      sessions += (value.match(/^session$/gm) ?? []).length;
    }
  })();
  return {
    port,
    requests: () => requests,
    sessions: () => sessions,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
      await pump;
    },
  };
}

if (import.meta.main) {
  const modes = (Deno.args[0] ?? "hang").split(",") as ServerMode[];
  let n = 0;
  const server = http2.createServer();
  server.on("session", () => console.log("session"));
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.on("error", () => {});
    const mode = modes[n++ % modes.length];
    console.log(`request ${mode}`);
    if (mode === "http500") {
      stream.respond({ ":status": 500, "content-type": "text/html" });
      stream.end("<html><body>Internal Server Error</body></html>");
    } else if (mode === "html200") {
      stream.respond({ ":status": 200, "content-type": "text/html; charset=utf-8" });
      stream.end("<html><body>captive portal</body></html>");
    } else if (mode === "garbage") {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.end(new Uint8Array([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]));
    } else if (mode === "reset") {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    } else if (mode === "goaway") {
      stream.respond({
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": "5",
        "grpc-message": "goaway test",
      }, { endStream: true });
      const session = stream.session;
      session?.goaway(http2.constants.NGHTTP2_NO_ERROR);
      session?.close();
    }
    // hang: never answer; the client's deadline ends it.
  });
  server.listen(0, "127.0.0.1", () => {
    console.log(`port ${(server.address() as AddressInfo).port}`);
  });
}
