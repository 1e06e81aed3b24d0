/**
 * A real Mosquitto broker for tests: its own config file and password file
 * in a temp dir, a free loopback port, started and stopped by the test
 * (Debian's `mosquitto` and `mosquitto-clients`, installed by
 * `scripts/test_tools.sh`). `mosquitto_sub` reads what was published.
 *
 * @module
 */

import { isExecutable, which } from "./require.ts";

/** The programs, null when missing. */
export const MOSQUITTO = {
  broker: which("mosquitto") ??
    (isExecutable("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : null),
  sub: which("mosquitto_sub"),
  passwd: which("mosquitto_passwd"),
};

/** Whether the broker and the clients are here. */
export function haveMosquitto(): boolean {
  return MOSQUITTO.broker !== null && MOSQUITTO.sub !== null && MOSQUITTO.passwd !== null;
}

/** A running broker. */
export interface Broker {
  /** Loopback port. */
  port: number;
  /** `mqtt://127.0.0.1:port`. */
  url: string;
  /** The user and password it accepts. */
  user: string;
  /** Password of {@linkcode user}. */
  password: string;
  /** Stops it (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts mosquitto in `dir` with one user (no anonymous access, no persistence). */
export async function startMosquitto(
  dir: string,
  user = "starfail",
  password = "pw-ok",
): Promise<Broker> {
  const port = freePort();
  const pwFile = `${dir}/mosquitto.passwd`;
  const made = await new Deno.Command(MOSQUITTO.passwd!, {
    args: ["-b", "-c", pwFile, user, password],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(10000),
  }).output();
  if (made.code !== 0) {
    throw new Error(`mosquitto_passwd: ${new TextDecoder().decode(made.stderr)}`);
  }
  const conf = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous false",
      `password_file ${pwFile}`,
      "persistence false",
      "user root",
      `log_dest file ${dir}/mosquitto.log`,
      "",
    ].join("\n"),
  );
  let child: Deno.ChildProcess | null = null;
  const start = async () => {
    child = new Deno.Command(MOSQUITTO.broker!, {
      args: ["-c", conf],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitPort(port, 5000);
  };
  const stop = async () => {
    const c = child as Deno.ChildProcess | null;
    if (c === null) return;
    child = null;
    try {
      c.kill("SIGTERM");
    } catch {
      // Gone.
    }
    const timer = setTimeout(() => {
      try {
        c.kill("SIGKILL");
      } catch {
        // Gone.
      }
    }, 2000);
    await c.status;
    clearTimeout(timer);
  };
  await start();
  return { port, url: `mqtt://127.0.0.1:${port}`, user, password, stop, restart: start };
}

/** One message as `mosquitto_sub -F '%r|%t|%p'` printed it. */
export interface SubMessage {
  /** Retained. */
  retained: boolean;
  /** Topic. */
  topic: string;
  /** Payload. */
  payload: string;
}

function parseLine(line: string): SubMessage {
  const [r, topic, ...rest] = line.split("|");
  return { retained: r === "1", topic, payload: rest.join("|") };
}

/** Everything the broker hands a new subscriber to `topics` within `seconds` (retained messages first). */
export async function collect(b: Broker, topics: string[], seconds: number): Promise<SubMessage[]> {
  const out = await new Deno.Command(MOSQUITTO.sub!, {
    args: [
      "-h",
      "127.0.0.1",
      "-p",
      String(b.port),
      "-u",
      b.user,
      "-P",
      b.password,
      ...topics.flatMap((t) => ["-t", t]),
      "-F",
      "%r|%t|%p",
      "-W",
      String(seconds),
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((seconds + 5) * 1000),
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map(parseLine);
}

/** A long-running `mosquitto_sub`: messages as they come, with the time each arrived. */
export interface Subscription {
  /** Messages so far. */
  messages: (SubMessage & { at: number })[];
  /** Stops the subscriber. */
  close(): Promise<void>;
}

/** Starts `mosquitto_sub` on `topics` and resolves once it is subscribed (it printed a probe message). */
export async function subscribe(b: Broker, topics: string[]): Promise<Subscription> {
  const child = new Deno.Command(MOSQUITTO.sub!, {
    args: [
      "-h",
      "127.0.0.1",
      "-p",
      String(b.port),
      "-u",
      b.user,
      "-P",
      b.password,
      ...topics.flatMap((t) => ["-t", t]),
      "-F",
      "%r|%t|%p",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const messages: Subscription["messages"] = [];
  const reading = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        messages.push({ ...parseLine(buf.slice(0, i)), at: Date.now() });
        buf = buf.slice(i + 1);
      }
    }
  })();
  // Give the subscription time to reach the broker (mosquitto_sub has no "subscribed" signal).
  await new Promise((r) => setTimeout(r, 500));
  return {
    messages,
    async close() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Gone.
      }
      await child.status;
      await reading.catch(() => undefined);
    },
  };
}
