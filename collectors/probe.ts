/**
 * Interface-bound active probes: ICMP (system `ping -I DEVICE`), TCP connect
 * and DNS over UDP from the interface's source address. Every probe has a
 * deadline; names and targets are validated before anything runs, and no
 * shell is ever involved.
 *
 * `Deno.connect` has no bind-to-source option and `Deno.listenDatagram` needs
 * `--unstable-net`, so the TCP and DNS probes use `node:net` (`localAddress`)
 * and `node:dgram` (`bind({ address })`), which Deno supports without flags.
 * Both are imported when the first such probe runs: loading `node:net` costs
 * ~4 MiB of RSS, and the default (ICMP) probes never need them.
 *
 * @module
 */

import { getLogger } from "../telemetry/logger.ts";
import { isIP } from "../config/ip_address.ts";
import type { Observation } from "../engine/types.ts";
import { inReconfigWindow } from "../engine/reconfig.ts";
import { runCommand } from "./exec.ts";
import type { ExecResult, RunOptions } from "./exec.ts";

const log = getLogger(["starfail", "probe"]);

/** How a probe reaches its target. */
export type ProbeMethod = "icmp" | "tcp" | "dns";

/** Which ping implementation printed an output. */
export type PingFlavor = "busybox" | "iputils" | "unknown";

/** What one ping run printed, parsed. */
export interface PingParse {
  /** Which implementation printed it (by its output format). */
  flavor: PingFlavor;
  /** Packets sent (0 when ping failed before sending). */
  sent: number;
  /** Replies received. */
  received: number;
  /** Loss percent as printed by ping (busybox truncates), or computed. */
  loss_pct: number;
  /** Round-trip times of the replies, in the order they arrived. */
  rtts_ms: number[];
  /** Summary average RTT, when printed. */
  avg_ms?: number;
  /** ICMP error replies (iputils `+N errors`, `Destination Host Unreachable`). */
  errors: number;
  /** A fatal error line (`ping: …`) when ping could not probe at all. */
  error?: string;
}

/** Result for one target in one round. */
export interface TargetResult {
  /** The target (IP literal or hostname; for tcp, `host:port`). */
  target: string;
  /** Probe method used. */
  method: ProbeMethod;
  /** Probes sent. */
  sent: number;
  /** Answers received. */
  received: number;
  /** Round-trip times of the answers, in milliseconds. */
  rtts_ms: number[];
  /** Why the target did not answer (error text), when known. */
  error?: string;
  /** Not probed because enough targets had already answered (metered members). */
  skipped?: boolean;
}

/** One probe round of one member over all its targets. */
export interface ProbeRound {
  /** Clock time of the round start, seconds (same clock as `Observation.t`). */
  t: number;
  /** Wall-clock time of the round start, Unix seconds (when a wall clock was given). */
  sent_unix_s?: number;
  /** Member name. */
  member: string;
  /** At least `reliability` targets answered. */
  ok: boolean;
  /** Mean round-trip time over all answers, milliseconds. */
  latency_ms?: number;
  /** Lost probes over all probed targets, percent 0–100. */
  loss_pct: number;
  /** Mean absolute difference of consecutive RTTs, milliseconds (needs two answers). */
  jitter_ms?: number;
  /** Per-target details. */
  per_target: TargetResult[];
}

/** The command that runs `ping` (tests put `ip netns exec NS` in front). */
export interface PingCommand {
  /** Program to run, e.g. `ping` or `ip`. */
  cmd: string;
  /** Arguments placed before ping's own arguments, e.g. `["netns", "exec", "ns1", "ping"]`. */
  prefixArgs?: string[];
}

/** The subprocess runner; injectable for tests. */
export type Runner = (cmd: string, args: string[], opts: RunOptions) => Promise<ExecResult>;

const IFACE_RE = /^[A-Za-z0-9_.@-]{1,15}$/;
const HOSTNAME_RE =
  /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;

/**
 * True when `name` is a valid Linux interface name for probing
 * (`^[A-Za-z0-9_.@-]{1,15}$`).
 *
 * @example
 * ```ts
 * isValidInterfaceName("wwan0"); // true
 * isValidInterfaceName("eth0; reboot"); // false
 * ```
 */
export function isValidInterfaceName(name: string): boolean {
  return IFACE_RE.test(name) && name !== "." && name !== "..";
}

/**
 * True when `target` is an IP literal or a syntactically valid hostname.
 * A leading `-` is never accepted (it would read as an option).
 *
 * @example
 * ```ts
 * isValidTarget("1.1.1.1"); // true
 * isValidTarget("-f"); // false
 * ```
 */
export function isValidTarget(target: string): boolean {
  if (isIP(target) !== 0) return true;
  return HOSTNAME_RE.test(target);
}

/**
 * Parses the output of BusyBox or iputils `ping` (stdout and stderr joined),
 * including 100 % loss, ICMP errors, no route and bad interface. Which tool
 * printed it is detected from the format (`seq=` vs `icmp_seq=`, `packets
 * received` vs `received`, `round-trip` vs `rtt`).
 *
 * @example
 * ```ts
 * const p = parsePingOutput("3 packets transmitted, 3 packets received, 0% packet loss\nround-trip min/avg/max = 0.074/0.145/0.286 ms");
 * p.flavor; // "busybox"
 * ```
 */
export function parsePingOutput(text: string): PingParse {
  const rtts: number[] = [];
  let flavor: PingFlavor = "unknown";
  let errorLine: string | undefined;
  for (const line of text.split("\n")) {
    const reply = /^\d+ bytes from [^:]+: (icmp_seq|seq)=\d+ .*time=([0-9.]+) ms/.exec(line);
    if (reply) {
      rtts.push(Number(reply[2]));
      flavor = reply[1] === "seq" ? "busybox" : "iputils";
      continue;
    }
    if (/^ping: /.test(line) && errorLine === undefined) errorLine = line.trim();
  }
  const summary =
    /(\d+) packets transmitted, (\d+)( packets)? received(?:, \+(\d+) errors)?, (\d+(?:\.\d+)?)% packet loss/
      .exec(text);
  if (summary) flavor = summary[3] ? "busybox" : "iputils";
  else if (/^PING .*: \d+ data bytes$/m.test(text)) flavor = "busybox";
  else if (/^PING .* bytes of data\.$/m.test(text) || /SO_BINDTODEVICE/.test(text)) {
    flavor = "iputils";
  } else if (/bad address|can't set multicast|sendto:/.test(text)) flavor = "busybox";
  const rtt = /(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = ([0-9.]+)\/([0-9.]+)\/([0-9.]+)/
    .exec(text);
  const sent = summary ? Number(summary[1]) : 0;
  const received = summary ? Number(summary[2]) : 0;
  const errorReplies = (text.match(/Destination (Host|Net) Unreachable/g) ?? []).length;
  const errors = summary?.[4] ? Number(summary[4]) : errorReplies;
  const result: PingParse = {
    flavor,
    sent,
    received,
    loss_pct: summary ? Number(summary[5]) : 100,
    rtts_ms: rtts,
    errors,
  };
  if (rtt) result.avg_ms = Number(rtt[2]);
  if (errorLine !== undefined) result.error = errorLine;
  else if (!summary) result.error = text.trim().split("\n").at(-1) ?? "no output";
  else if (received === 0 && errors > 0) result.error = "destination unreachable";
  return result;
}

/** Options for {@linkcode pingTarget}. */
export interface PingOptions {
  /** Device to bind to (`ping -I`). */
  device: string;
  /** Echo requests to send (`-c`). Default 1. */
  count?: number;
  /** Seconds to wait for a reply after the last request (`-W`). Default 2. */
  timeoutS?: number;
  /** How to run ping. Default `{ cmd: "ping" }`. */
  command?: PingCommand;
  /** Subprocess runner. Default {@linkcode runCommand}. */
  run?: Runner;
}

/**
 * Pings `target` through `device` with the system ping
 * (`ping -n -c COUNT -W TIMEOUT -I DEVICE TARGET`) under a deadline of
 * (count − 1) s + timeout + 2 s.
 *
 * @example
 * ```ts
 * const r = await pingTarget("1.1.1.1", { device: "wan0", count: 3 });
 * console.log(r.received, r.rtts_ms);
 * ```
 */
export async function pingTarget(target: string, opts: PingOptions): Promise<TargetResult> {
  const count = opts.count ?? 1;
  const timeoutS = opts.timeoutS ?? 2;
  const base: TargetResult = { target, method: "icmp", sent: 0, received: 0, rtts_ms: [] };
  if (!isValidInterfaceName(opts.device)) {
    return { ...base, error: `invalid interface name ${JSON.stringify(opts.device)}` };
  }
  if (!isValidTarget(target)) return { ...base, error: `invalid target ${JSON.stringify(target)}` };
  const command = opts.command ?? { cmd: "ping" };
  const args = [
    ...(command.prefixArgs ?? []),
    "-n",
    "-c",
    String(count),
    "-W",
    String(timeoutS),
    "-I",
    opts.device,
    target,
  ];
  const run = opts.run ?? runCommand;
  const res = await run(command.cmd, args, { timeoutMs: ((count - 1) + timeoutS + 2) * 1000 });
  if (res.timedOut) return { ...base, sent: count, error: "ping deadline exceeded" };
  const parsed = parsePingOutput(`${res.stdout}\n${res.stderr}`);
  const out: TargetResult = {
    ...base,
    sent: parsed.sent,
    received: parsed.received,
    rtts_ms: parsed.rtts_ms,
  };
  if (parsed.received > 0 && parsed.rtts_ms.length === 0 && parsed.avg_ms !== undefined) {
    out.rtts_ms = [parsed.avg_ms];
  }
  if (parsed.error !== undefined) out.error = parsed.error;
  else if (parsed.received === 0) out.error = "no reply";
  return out;
}

/** Options for {@linkcode tcpConnectProbe}. */
export interface TcpProbeOptions {
  /** Local source address to bind (the member's IPv4/IPv6 address). */
  sourceAddress?: string;
  /** Deadline in milliseconds. Default 2000. */
  timeoutMs?: number;
}

/**
 * Measures a TCP handshake to `host:port` from `sourceAddress`. A refused
 * connection (RST) still proves the path works, so it counts as an answer.
 *
 * @example
 * ```ts
 * const r = await tcpConnectProbe("1.1.1.1", 443, { sourceAddress: "100.64.0.2" });
 * ```
 */
export async function tcpConnectProbe(
  host: string,
  port: number,
  opts: TcpProbeOptions = {},
): Promise<TargetResult> {
  const target = `${host}:${port}`;
  const base: TargetResult = { target, method: "tcp", sent: 1, received: 0, rtts_ms: [] };
  if (!isValidTarget(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    return Promise.resolve({ ...base, sent: 0, error: `invalid target ${JSON.stringify(target)}` });
  }
  if (opts.sourceAddress !== undefined && isIP(opts.sourceAddress) === 0) {
    return Promise.resolve({
      ...base,
      sent: 0,
      error: `invalid source address ${JSON.stringify(opts.sourceAddress)}`,
    });
  }
  const timeoutMs = opts.timeoutMs ?? 2000;
  const net = await import("node:net");
  return new Promise((resolve) => {
    const started = performance.now();
    let done = false;
    const socket = net.connect({ host, port, localAddress: opts.sourceAddress });
    function finish(result: TargetResult): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    const timer = setTimeout(() => finish({ ...base, error: "tcp deadline exceeded" }), timeoutMs);
    socket.once("connect", () => {
      finish({ ...base, received: 1, rtts_ms: [performance.now() - started] });
    });
    socket.once("error", (err: Error & { code?: string }) => {
      if (err.code === "ECONNREFUSED") {
        finish({ ...base, received: 1, rtts_ms: [performance.now() - started] });
      } else {
        finish({ ...base, error: err.message });
      }
    });
  });
}

/**
 * Builds a DNS query message (RFC 1035) for `name`, type A, class IN, with
 * recursion desired.
 *
 * @example
 * ```ts
 * const q = buildDnsQuery(0x1234, "example.com");
 * q.length; // 29
 * ```
 */
export function buildDnsQuery(id: number, name: string): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".");
  const qname: number[] = [];
  for (const label of labels) {
    const bytes = new TextEncoder().encode(label);
    if (bytes.length < 1 || bytes.length > 63) {
      throw new RangeError(`DNS label ${JSON.stringify(label)} must be 1–63 bytes long`);
    }
    qname.push(bytes.length, ...bytes);
  }
  qname.push(0);
  const msg = new Uint8Array(12 + qname.length + 4);
  const view = new DataView(msg.buffer);
  view.setUint16(0, id & 0xffff);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // QDCOUNT
  msg.set(qname, 12);
  view.setUint16(12 + qname.length, 1); // QTYPE A
  view.setUint16(14 + qname.length, 1); // QCLASS IN
  return msg;
}

/** A parsed DNS reply header plus the A records it carried. */
export interface DnsReply {
  /** Message id. */
  id: number;
  /** Response code (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, …). */
  rcode: number;
  /** Number of answer records. */
  answers: number;
  /** IPv4 addresses from the A records in the answer section. */
  addresses: string[];
}

function skipName(buf: Uint8Array, offset: number): number {
  let i = offset;
  while (i < buf.length) {
    const len = buf[i];
    if (len === 0) return i + 1;
    if ((len & 0xc0) === 0xc0) return i + 2;
    i += len + 1;
  }
  throw new RangeError("DNS name runs past the end of the message");
}

/**
 * Parses a DNS reply; returns null when it is not a response (QR bit clear)
 * or is too short or malformed.
 *
 * @example
 * ```ts
 * const reply = parseDnsReply(bytes);
 * if (reply && reply.id === sentId) console.log(reply.rcode);
 * ```
 */
export function parseDnsReply(buf: Uint8Array): DnsReply | null {
  if (buf.length < 12) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = view.getUint16(2);
  if ((flags & 0x8000) === 0) return null;
  const qd = view.getUint16(4);
  const an = view.getUint16(6);
  const reply: DnsReply = {
    id: view.getUint16(0),
    rcode: flags & 0x0f,
    answers: an,
    addresses: [],
  };
  try {
    let off = 12;
    for (let i = 0; i < qd; i++) off = skipName(buf, off) + 4;
    for (let i = 0; i < an; i++) {
      off = skipName(buf, off);
      if (off + 10 > buf.length) return null;
      const type = view.getUint16(off);
      const rdlen = view.getUint16(off + 8);
      off += 10;
      if (off + rdlen > buf.length) return null;
      if (type === 1 && rdlen === 4) {
        reply.addresses.push(Array.from(buf.subarray(off, off + 4)).join("."));
      }
      off += rdlen;
    }
  } catch {
    return null;
  }
  return reply;
}

/** Options for {@linkcode dnsProbe}. */
export interface DnsProbeOptions {
  /** Local source address to bind. */
  sourceAddress?: string;
  /** Name to ask for. Default `www.google.com` (what mwan3's nslookup method asks). */
  queryName?: string;
  /** Server port. Default 53. */
  port?: number;
  /** Deadline in milliseconds. Default 2000. */
  timeoutMs?: number;
}

/**
 * Sends one A query to the resolver `server` over UDP from `sourceAddress`
 * and waits for the matching reply. Any well-formed reply with the same id
 * (even NXDOMAIN or SERVFAIL) proves the path, so it counts as an answer.
 *
 * @example
 * ```ts
 * const r = await dnsProbe("1.1.1.1", { sourceAddress: "100.64.0.2" });
 * ```
 */
export async function dnsProbe(
  server: string,
  opts: DnsProbeOptions = {},
): Promise<TargetResult> {
  const base: TargetResult = { target: server, method: "dns", sent: 1, received: 0, rtts_ms: [] };
  const family = isIP(server);
  if (family === 0) {
    return Promise.resolve({
      ...base,
      sent: 0,
      error: `DNS target ${JSON.stringify(server)} must be an IP address`,
    });
  }
  if (opts.sourceAddress !== undefined && isIP(opts.sourceAddress) !== family) {
    return Promise.resolve({
      ...base,
      sent: 0,
      error: `source address ${JSON.stringify(opts.sourceAddress)} is not the target's IP family`,
    });
  }
  const id = Math.floor(Math.random() * 0x10000);
  let query: Uint8Array;
  try {
    query = buildDnsQuery(id, opts.queryName ?? "www.google.com");
  } catch (err) {
    return Promise.resolve({ ...base, sent: 0, error: (err as Error).message });
  }
  const timeoutMs = opts.timeoutMs ?? 2000;
  const dgram = await import("node:dgram");
  return new Promise((resolve) => {
    const socket = dgram.createSocket(family === 6 ? "udp6" : "udp4");
    let done = false;
    let started = 0;
    function finish(result: TargetResult): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        // Already closed after an error.
      }
      resolve(result);
    }
    const timer = setTimeout(() => finish({ ...base, error: "dns deadline exceeded" }), timeoutMs);
    socket.on("error", (err: Error) => finish({ ...base, error: err.message }));
    socket.on("message", (msg: Uint8Array) => {
      const reply = parseDnsReply(new Uint8Array(msg));
      if (reply === null || reply.id !== id) return;
      finish({ ...base, received: 1, rtts_ms: [performance.now() - started] });
    });
    socket.bind({ address: opts.sourceAddress, port: 0 }, () => {
      started = performance.now();
      socket.send(query, opts.port ?? 53, server, (err: Error | null) => {
        if (err) finish({ ...base, error: err.message });
      });
    });
  });
}

/** What a member's probing needs to know. */
export interface ProbeMemberSpec {
  /** Member name. */
  member: string;
  /** L3 device to bind ICMP probes to (e.g. `wwan0`). */
  device: string;
  /** Source address for TCP/DNS probes (the device's address). */
  sourceAddress?: string;
  /** Probe method. Default icmp. */
  method?: ProbeMethod;
  /** Targets: IP literals or hostnames (for tcp optionally `host:port`, default port 443). */
  targets: string[];
  /** Targets that must answer for the round to pass. Default 1. */
  reliability?: number;
  /** Probes per ICMP target. Default 1. */
  count?: number;
  /** Per-probe timeout, milliseconds. Default 2000. */
  timeoutMs?: number;
  /** Metered member: targets are tried one by one and probing stops once `reliability` answered. */
  metered?: boolean;
  /**
   * Starlink member: a round due inside one of the dish's 15 s
   * reconfiguration windows waits until the window has passed (needs
   * `wallMs`), so no round is spent measuring the reconfiguration.
   */
  avoidReconfig?: boolean;
}

/** Options for {@linkcode probeRound}. */
export interface ProbeRoundOptions {
  /** Clock time for the round, seconds. */
  t: number;
  /**
   * Wall clock, milliseconds since the Unix epoch: read as the round starts
   * to stamp `sent_unix_s` (the engine's Starlink reconfiguration guard).
   */
  wallMs?: () => number;
  /** How to run ping. */
  pingCommand?: PingCommand;
  /** Subprocess runner. */
  run?: Runner;
}

function splitHostPort(target: string, defaultPort: number): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(target);
  if (bracket) return { host: bracket[1], port: Number(bracket[2]) };
  const plain = /^([^:]+):(\d+)$/.exec(target);
  if (plain) return { host: plain[1], port: Number(plain[2]) };
  return { host: target, port: defaultPort };
}

function probeOne(
  spec: ProbeMemberSpec,
  target: string,
  opts: ProbeRoundOptions,
): Promise<TargetResult> {
  const timeoutMs = spec.timeoutMs ?? 2000;
  switch (spec.method ?? "icmp") {
    case "tcp": {
      const { host, port } = splitHostPort(target, 443);
      return tcpConnectProbe(host, port, { sourceAddress: spec.sourceAddress, timeoutMs });
    }
    case "dns":
      return dnsProbe(target, { sourceAddress: spec.sourceAddress, timeoutMs });
    default:
      return pingTarget(target, {
        device: spec.device,
        count: spec.count ?? 1,
        timeoutS: Math.max(1, Math.ceil(timeoutMs / 1000)),
        command: opts.pingCommand,
        run: opts.run,
      });
  }
}

/**
 * Mean absolute difference of consecutive values; undefined for fewer than two.
 *
 * @example
 * ```ts
 * meanAbsDiff([10, 14, 12]); // 3
 * ```
 */
export function meanAbsDiff(values: number[]): number | undefined {
  if (values.length < 2) return undefined;
  let sum = 0;
  for (let i = 1; i < values.length; i++) sum += Math.abs(values[i] - values[i - 1]);
  return sum / (values.length - 1);
}

/**
 * Summarises per-target results into a round: `ok` when at least
 * `reliability` targets answered, loss over all probes sent, mean latency
 * and jitter over all RTTs.
 *
 * @example
 * ```ts
 * const round = summarizeRound("wan", 12, 1, results);
 * ```
 */
export function summarizeRound(
  member: string,
  t: number,
  reliability: number,
  perTarget: TargetResult[],
): ProbeRound {
  let sent = 0;
  let received = 0;
  let answered = 0;
  const rtts: number[] = [];
  for (const r of perTarget) {
    if (r.skipped) continue;
    sent += r.sent;
    received += r.received;
    if (r.received > 0) answered++;
    rtts.push(...r.rtts_ms);
  }
  const round: ProbeRound = {
    t,
    member,
    ok: answered >= reliability,
    loss_pct: sent === 0 ? 100 : ((sent - received) / sent) * 100,
    per_target: perTarget,
  };
  if (rtts.length > 0) round.latency_ms = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  const jitter = meanAbsDiff(rtts);
  if (jitter !== undefined) round.jitter_ms = jitter;
  return round;
}

/**
 * Runs one probe round for a member: all targets in parallel, or for metered
 * members one after another until `reliability` answered (the rest are
 * marked skipped, as mwan3track does). Invalid device names or targets give
 * a failed round with the reason, never a subprocess.
 *
 * @example
 * ```ts
 * const round = await probeRound(
 *   { member: "wan", device: "eth1", targets: ["1.1.1.1", "8.8.8.8"], reliability: 1 },
 *   { t: performance.now() / 1000 },
 * );
 * ```
 */
export async function probeRound(
  spec: ProbeMemberSpec,
  opts: ProbeRoundOptions,
): Promise<ProbeRound> {
  const reliability = Math.max(1, spec.reliability ?? 1);
  const sentMs = opts.wallMs?.();
  let results: TargetResult[];
  if (spec.metered) {
    results = [];
    let answered = 0;
    for (const target of spec.targets) {
      if (answered >= reliability) {
        results.push({
          target,
          method: spec.method ?? "icmp",
          sent: 0,
          received: 0,
          rtts_ms: [],
          skipped: true,
        });
        continue;
      }
      const r = await probeOne(spec, target, opts);
      if (r.received > 0) answered++;
      results.push(r);
    }
  } else {
    results = await Promise.all(spec.targets.map((target) => probeOne(spec, target, opts)));
  }
  const round = summarizeRound(spec.member, opts.t, reliability, results);
  if (sentMs !== undefined && Number.isFinite(sentMs)) round.sent_unix_s = sentMs / 1000;
  if (!round.ok) {
    log.debug("Probe round failed", {
      member: spec.member,
      errors: results.filter((r) => r.error).map((r) => `${r.target}: ${r.error}`),
    });
  }
  return round;
}

/**
 * Turns one probe round into an engine observation (latency, loss, jitter,
 * and the send time when the round has one).
 * When the round carried fewer than two RTTs, `previous` (the member's prior
 * round) supplies the last RTT so jitter still follows consecutive probes.
 *
 * @example
 * ```ts
 * const obs = roundToObservation(round, lastRound);
 * ```
 */
export function roundToObservation(round: ProbeRound, previous?: ProbeRound): Observation {
  const obs: Observation = { t: round.t, member: round.member, loss_pct: round.loss_pct };
  if (round.sent_unix_s !== undefined) obs.sent_unix_s = round.sent_unix_s;
  if (round.latency_ms !== undefined) obs.latency_ms = round.latency_ms;
  if (round.jitter_ms !== undefined) obs.jitter_ms = round.jitter_ms;
  else if (previous !== undefined) {
    const prevRtts = previous.per_target.flatMap((r) => r.rtts_ms);
    const curRtts = round.per_target.flatMap((r) => r.rtts_ms);
    const jitter = meanAbsDiff([...prevRtts.slice(-1), ...curRtts]);
    if (jitter !== undefined) obs.jitter_ms = jitter;
  }
  return obs;
}

/**
 * Turns a member's rounds (oldest first) into observations, one per round.
 *
 * @example
 * ```ts
 * const observations = roundsToObservations(rounds);
 * ```
 */
export function roundsToObservations(rounds: ProbeRound[]): Observation[] {
  return rounds.map((round, i) => roundToObservation(round, i > 0 ? rounds[i - 1] : undefined));
}

/** Per-member probe timing from the member config. */
export interface ProbeSchedule {
  /** Seconds between rounds (`probe_interval_s`). */
  probe_interval_s: number;
  /** Seconds between rounds on a metered member (`metered_probe_interval_s`). */
  metered_probe_interval_s: number;
  /** Whether the member is metered. */
  metered?: boolean;
}

/**
 * True when a member is due for its next probe round at `now` (seconds),
 * given the time of its last round (undefined = never probed). Metered
 * members use the longer `metered_probe_interval_s`.
 *
 * @example
 * ```ts
 * isProbeDue(undefined, 5, { probe_interval_s: 2, metered_probe_interval_s: 30 }); // true
 * ```
 */
export function isProbeDue(
  lastT: number | undefined,
  now: number,
  schedule: ProbeSchedule,
): boolean {
  if (lastT === undefined) return true;
  const interval = schedule.metered
    ? Math.max(schedule.probe_interval_s, schedule.metered_probe_interval_s)
    : schedule.probe_interval_s;
  return now - lastT >= interval;
}

/**
 * Holds the probe state of one member: runs a round when it is due and keeps
 * the previous round for jitter.
 *
 * @example
 * ```ts
 * const prober = new MemberProber(spec, { probe_interval_s: 2, metered_probe_interval_s: 30 });
 * const obs = await prober.maybeProbe(now); // Observation or null when not due
 * ```
 */
export class MemberProber {
  #spec: ProbeMemberSpec;
  #schedule: ProbeSchedule;
  #opts: Omit<ProbeRoundOptions, "t">;
  #last: ProbeRound | undefined;
  #running = false;

  /** Creates a prober for one member. */
  constructor(
    spec: ProbeMemberSpec,
    schedule: ProbeSchedule,
    opts: Omit<ProbeRoundOptions, "t"> = {},
  ) {
    this.#spec = spec;
    this.#schedule = { ...schedule, metered: schedule.metered ?? spec.metered };
    this.#opts = opts;
  }

  /** The last completed round, if any. */
  get lastRound(): ProbeRound | undefined {
    return this.#last;
  }

  /**
   * Runs a round if one is due at `now`, none is still running and (for a
   * member with `avoidReconfig`) the wall clock is outside the dish's
   * reconfiguration windows; returns the round and its observation, or null
   * when nothing ran.
   */
  async maybeProbe(now: number): Promise<{ round: ProbeRound; observation: Observation } | null> {
    if (this.#running || !isProbeDue(this.#last?.t, now, this.#schedule)) return null;
    const wallMs = this.#opts.wallMs?.();
    if (this.#spec.avoidReconfig && wallMs !== undefined && inReconfigWindow(wallMs / 1000)) {
      return null;
    }
    this.#running = true;
    try {
      // The round is stamped with the wall time just checked against the windows.
      const stamp = wallMs === undefined ? {} : { wallMs: () => wallMs };
      const round = await probeRound(this.#spec, { ...this.#opts, ...stamp, t: now });
      const observation = roundToObservation(round, this.#last);
      this.#last = round;
      return { round, observation };
    } finally {
      this.#running = false;
    }
  }
}
