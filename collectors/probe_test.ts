import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  buildDnsQuery,
  dnsProbe,
  isProbeDue,
  isValidInterfaceName,
  isValidTarget,
  MemberProber,
  parseDnsReply,
  parsePingOutput,
  pingTarget,
  probeRound,
  roundsToObservations,
  summarizeRound,
  tcpConnectProbe,
} from "./probe.ts";
import type { TargetResult } from "./probe.ts";

const FIXTURES = new URL("../test/fixtures/router_tools/", import.meta.url);

/** Reads a captured sample without its `#` comment header. */
function sample(name: string): string {
  const text = Deno.readTextFileSync(new URL(name, FIXTURES));
  return text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
}

Deno.test("busybox success: 3 replies, RTTs and flavor", () => {
  const p = parsePingOutput(sample("busybox_ping_success_3of3__local_netns_capture.txt"));
  assert.equal(p.flavor, "busybox");
  assert.equal(p.sent, 3);
  assert.equal(p.received, 3);
  assert.equal(p.loss_pct, 0);
  assert.deepEqual(p.rtts_ms, [0.286, 0.074, 0.075]);
  assert.equal(p.avg_ms, 0.145);
  assert.equal(p.error, undefined);
});

Deno.test("busybox -I iface success and -q summary-only output", () => {
  const p = parsePingOutput(sample("busybox_ping_-I_iface_success__local_netns_capture.txt"));
  assert.equal(p.received, 3);
  assert.deepEqual(p.rtts_ms, [0.016, 0.076, 0.076]);
  const q = parsePingOutput(sample("busybox_ping_-q_success__local_netns_capture.txt"));
  assert.equal(q.flavor, "busybox");
  assert.equal(q.received, 3);
  assert.deepEqual(q.rtts_ms, []);
  assert.equal(q.avg_ms, 0.078);
});

Deno.test("busybox 100% loss, deadline loss and host-unreachable all parse as plain loss", () => {
  for (
    const name of [
      "busybox_ping_-I_iface_100pct_loss__local_netns_capture.txt",
      "busybox_ping_100pct_loss_silent__local_netns_capture.txt",
      "busybox_ping_-w_deadline_100pct_loss__local_netns_capture.txt",
      "busybox_ping_icmp_host_unreachable_reply_shows_as_plain_loss__local_netns_capture.txt",
    ]
  ) {
    const p = parsePingOutput(sample(name));
    assert.equal(p.flavor, "busybox", name);
    assert.equal(p.sent, 3, name);
    assert.equal(p.received, 0, name);
    assert.equal(p.loss_pct, 100, name);
    assert.equal(p.avg_ms, undefined, name);
  }
});

Deno.test("busybox fatal errors: bad address, no route, unassigned source", () => {
  const bad = parsePingOutput(
    sample("busybox_ping_-I_nonexistent_iface_bad_address__local_netns_capture.txt"),
  );
  assert.equal(bad.flavor, "busybox");
  assert.equal(bad.sent, 0);
  assert.equal(bad.loss_pct, 100);
  assert.equal(bad.error, "ping: bad address 'wwan9'");
  const noRoute = parsePingOutput(
    sample("busybox_ping_no_route_sendto_error__local_netns_capture.txt"),
  );
  assert.equal(noRoute.error, "ping: sendto: Network is unreachable");
  assert.equal(noRoute.received, 0);
  const unassigned = parsePingOutput(
    sample("busybox_ping_-I_unassigned_ip_error__local_netns_capture.txt"),
  );
  assert.equal(unassigned.error, "ping: can't set multicast source interface");
});

Deno.test("iputils success with and without -I", () => {
  const p = parsePingOutput(sample("iputils_ping_success_3of3__local_netns_capture.txt"));
  assert.equal(p.flavor, "iputils");
  assert.deepEqual(p.rtts_ms, [0.048, 0.074, 0.051]);
  assert.equal(p.avg_ms, 0.057);
  const i = parsePingOutput(sample("iputils_ping_-I_iface_success__local_netns_capture.txt"));
  assert.equal(i.flavor, "iputils");
  assert.equal(i.received, 3);
});

Deno.test("iputils loss, unreachable errors and fatal errors", () => {
  const silent = parsePingOutput(
    sample("iputils_ping_100pct_loss_silent__local_netns_capture.txt"),
  );
  assert.equal(silent.loss_pct, 100);
  assert.equal(silent.errors, 0);
  for (
    const name of [
      "iputils_ping_dest_host_unreachable_from_router__local_netns_capture.txt",
      "iputils_ping_dest_host_unreachable_local_arp_fail__local_netns_capture.txt",
    ]
  ) {
    const p = parsePingOutput(sample(name));
    assert.equal(p.flavor, "iputils");
    assert.equal(p.errors, 3, name);
    assert.equal(p.received, 0);
    assert.equal(p.error, "destination unreachable");
  }
  const noDev = parsePingOutput(
    sample("iputils_ping_-I_nonexistent_iface__local_netns_capture.txt"),
  );
  assert.equal(noDev.flavor, "iputils");
  assert.equal(noDev.error, "ping: SO_BINDTODEVICE wwan9: No such device");
  const noRoute = parsePingOutput(
    sample("iputils_ping_no_route_connect_error__local_netns_capture.txt"),
  );
  assert.equal(noRoute.error, "ping: connect: Network is unreachable");
});

Deno.test("real-device excerpts: truncated busybox percent and iputils 100% loss", () => {
  const text = sample("busybox_and_iputils_ping_real_device_excerpts__github_issues.txt");
  const long = parsePingOutput(text.split("\n\n")[1]);
  assert.equal(long.sent, 5320);
  assert.equal(long.received, 5313);
  assert.equal(long.loss_pct, 0);
  assert.equal(long.avg_ms, 39.503);
});

Deno.test("interface names and targets are validated", () => {
  assert.ok(isValidInterfaceName("wwan0"));
  assert.ok(isValidInterfaceName("pppoe-wan"));
  assert.ok(isValidInterfaceName("br-lan.10"));
  assert.ok(!isValidInterfaceName("eth0 ; reboot"));
  assert.ok(!isValidInterfaceName("a-very-long-interface"));
  assert.ok(!isValidInterfaceName(""));
  assert.ok(isValidTarget("1.1.1.1"));
  assert.ok(isValidTarget("2606:4700:4700::1111"));
  assert.ok(isValidTarget("one.one.one.one"));
  assert.ok(!isValidTarget("-f"));
  assert.ok(!isValidTarget("1.1.1.1; rm"));
  assert.ok(!isValidTarget(""));
});

Deno.test("pingTarget refuses bad input without running anything", async () => {
  let ran = false;
  const run = () => {
    ran = true;
    return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
  };
  const r1 = await pingTarget("1.1.1.1", { device: "eth0;x", run });
  assert.match(r1.error ?? "", /invalid interface name/);
  const r2 = await pingTarget("--help", { device: "eth0", run });
  assert.match(r2.error ?? "", /invalid target/);
  assert.equal(ran, false);
});

Deno.test("pingTarget passes ping its arguments in order and a deadline", async () => {
  let seen: { cmd: string; args: string[]; timeoutMs: number } | undefined;
  const r = await pingTarget("10.99.0.2", {
    device: "wan0",
    count: 3,
    timeoutS: 1,
    run: (cmd, args, opts) => {
      seen = { cmd, args, timeoutMs: opts.timeoutMs };
      return Promise.resolve({
        code: 0,
        stdout: sample("busybox_ping_-I_iface_success__local_netns_capture.txt"),
        stderr: "",
        timedOut: false,
      });
    },
  });
  assert.deepEqual(seen, {
    cmd: "ping",
    args: ["-n", "-c", "3", "-W", "1", "-I", "wan0", "10.99.0.2"],
    timeoutMs: 5000,
  });
  assert.equal(r.received, 3);
});

Deno.test("summarizeRound: reliability, loss and jitter", () => {
  const results: TargetResult[] = [
    { target: "a", method: "icmp", sent: 2, received: 2, rtts_ms: [10, 14] },
    { target: "b", method: "icmp", sent: 2, received: 0, rtts_ms: [], error: "no reply" },
  ];
  const r1 = summarizeRound("wan", 5, 1, results);
  assert.equal(r1.ok, true);
  assert.equal(r1.loss_pct, 50);
  assert.equal(r1.latency_ms, 12);
  assert.equal(r1.jitter_ms, 4);
  const r2 = summarizeRound("wan", 5, 2, results);
  assert.equal(r2.ok, false);
  const none = summarizeRound("wan", 5, 1, []);
  assert.equal(none.loss_pct, 100);
  assert.equal(none.ok, false);
});

Deno.test("roundsToObservations carries jitter across single-RTT rounds", () => {
  const mk = (t: number, rtt: number | null) =>
    summarizeRound("wan", t, 1, [
      rtt === null
        ? { target: "a", method: "icmp", sent: 1, received: 0, rtts_ms: [] }
        : { target: "a", method: "icmp", sent: 1, received: 1, rtts_ms: [rtt] },
    ]);
  const obs = roundsToObservations([mk(1, 20), mk(2, 30), mk(3, null), mk(4, 26)]);
  assert.deepEqual(obs[0], { t: 1, member: "wan", loss_pct: 0, latency_ms: 20 });
  assert.equal(obs[1].jitter_ms, 10);
  assert.deepEqual(obs[2], { t: 3, member: "wan", loss_pct: 100 });
  assert.equal(obs[3].jitter_ms, undefined);
});

Deno.test("isProbeDue rate-limits metered members", () => {
  const s = { probe_interval_s: 2, metered_probe_interval_s: 30 };
  assert.equal(isProbeDue(undefined, 0, s), true);
  assert.equal(isProbeDue(10, 12, s), true);
  assert.equal(isProbeDue(10, 11, s), false);
  assert.equal(isProbeDue(10, 12, { ...s, metered: true }), false);
  assert.equal(isProbeDue(10, 40, { ...s, metered: true }), true);
});

Deno.test("metered round stops once reliability is met", async () => {
  const calls: string[] = [];
  const round = await probeRound(
    { member: "lte", device: "wwan0", targets: ["1.1.1.1", "8.8.8.8", "9.9.9.9"], metered: true },
    {
      t: 1,
      run: (_cmd, args) => {
        calls.push(args.at(-1) ?? "");
        return Promise.resolve({
          code: 0,
          stdout: sample("busybox_ping_-I_iface_success__local_netns_capture.txt"),
          stderr: "",
          timedOut: false,
        });
      },
    },
  );
  assert.deepEqual(calls, ["1.1.1.1"]);
  assert.equal(round.ok, true);
  assert.deepEqual(round.per_target.map((r) => r.skipped ?? false), [false, true, true]);
  assert.equal(round.loss_pct, 0);
});

Deno.test("MemberProber probes only when due", async () => {
  let n = 0;
  const prober = new MemberProber(
    { member: "wan", device: "eth1", targets: ["1.1.1.1"] },
    { probe_interval_s: 2, metered_probe_interval_s: 30 },
    {
      run: () => {
        n++;
        return Promise.resolve({
          code: 0,
          stdout: sample("busybox_ping_success_3of3__local_netns_capture.txt"),
          stderr: "",
          timedOut: false,
        });
      },
    },
  );
  assert.ok(await prober.maybeProbe(0));
  assert.equal(await prober.maybeProbe(1), null);
  const second = await prober.maybeProbe(2);
  assert.ok(second);
  assert.equal(n, 2);
  assert.equal(second.observation.jitter_ms !== undefined, true);
});

Deno.test("a round is stamped with the wall clock read as it starts, not as it ends", async () => {
  let wall = 1_764_028_811_900;
  const prober = new MemberProber(
    { member: "starlink", device: "eth1", targets: ["1.1.1.1"] },
    { probe_interval_s: 2, metered_probe_interval_s: 30 },
    {
      wallMs: () => wall,
      run: () => {
        wall += 1000;
        return Promise.resolve({
          code: 0,
          stdout: sample("busybox_ping_success_3of3__local_netns_capture.txt"),
          stderr: "",
          timedOut: false,
        });
      },
    },
  );
  const r = await prober.maybeProbe(5);
  assert.ok(r);
  assert.equal(r.round.sent_unix_s, 1_764_028_811.9);
  assert.equal(r.observation.sent_unix_s, 1_764_028_811.9);
  assert.equal(r.observation.t, 5);
  const bare = new MemberProber(
    { member: "wan", device: "eth1", targets: ["1.1.1.1"] },
    { probe_interval_s: 2, metered_probe_interval_s: 30 },
    {
      run: () =>
        Promise.resolve({
          code: 0,
          stdout: sample("busybox_ping_success_3of3__local_netns_capture.txt"),
          stderr: "",
          timedOut: false,
        }),
    },
  );
  assert.equal((await bare.maybeProbe(0))?.observation.sent_unix_s, undefined);
});

Deno.test("a Starlink prober waits out a reconfiguration window; others probe in it", async () => {
  let wall = Date.UTC(2025, 10, 25, 0, 0, 12, 100); // 100 ms after the :12 boundary
  const runs: string[] = [];
  const make = (member: string, avoidReconfig: boolean) =>
    new MemberProber(
      { member, device: "eth1", targets: ["1.1.1.1"], avoidReconfig },
      { probe_interval_s: 2, metered_probe_interval_s: 30 },
      {
        wallMs: () => wall,
        run: () => {
          runs.push(member);
          return Promise.resolve({
            code: 0,
            stdout: sample("busybox_ping_success_3of3__local_netns_capture.txt"),
            stderr: "",
            timedOut: false,
          });
        },
      },
    );
  const starlink = make("starlink", true);
  const cell = make("cell", false);
  assert.equal(await starlink.maybeProbe(10), null);
  assert.ok(await cell.maybeProbe(10));
  wall += 1000; // the daemon's next prober run: 1.1 s after the boundary
  const r = await starlink.maybeProbe(11);
  assert.ok(r);
  assert.equal(r.round.sent_unix_s, Date.UTC(2025, 10, 25, 0, 0, 13, 100) / 1000);
  assert.deepEqual(runs, ["cell", "starlink"]);
});

Deno.test("DNS query bytes and reply parsing", () => {
  const q = buildDnsQuery(0xbeef, "example.com");
  assert.deepEqual(
    Array.from(q),
    [
      0xbe,
      0xef,
      1,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      7,
      ...new TextEncoder().encode("example"),
      3,
      99,
      111,
      109,
      0,
      0,
      1,
      0,
      1,
    ],
  );
  assert.equal(parseDnsReply(q), null, "a query is not a reply");
  const reply = new Uint8Array([
    ...q.subarray(0, 2),
    0x81,
    0x80,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    0,
    ...q.subarray(12),
    0xc0,
    12,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    4,
    93,
    184,
    216,
    34,
  ]);
  assert.deepEqual(parseDnsReply(reply), {
    id: 0xbeef,
    rcode: 0,
    answers: 1,
    addresses: ["93.184.216.34"],
  });
  assert.equal(parseDnsReply(reply.subarray(0, reply.length - 2)), null);
  assert.throws(() => buildDnsQuery(1, "a..b"), /1–63 bytes/);
});

Deno.test("dnsProbe gets an answer from a loopback resolver, bound to a source address", async () => {
  const server = dgram.createSocket("udp4");
  let seenFrom = "";
  server.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    seenFrom = rinfo.address;
    const reply = new Uint8Array(msg);
    reply[2] = 0x81;
    reply[3] = 0x83; // NXDOMAIN still proves the path
    server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) =>
    server.bind({ address: "127.0.0.1", port: 0 }, () => resolve())
  );
  const port = server.address().port;
  try {
    const r = await dnsProbe("127.0.0.1", { port, sourceAddress: "127.0.0.2", timeoutMs: 2000 });
    assert.equal(r.received, 1);
    assert.equal(r.rtts_ms.length, 1);
    assert.equal(seenFrom, "127.0.0.2");
  } finally {
    server.close();
  }
});

Deno.test("dnsProbe times out against a silent server", async () => {
  const server = dgram.createSocket("udp4");
  await new Promise<void>((resolve) =>
    server.bind({ address: "127.0.0.1", port: 0 }, () => resolve())
  );
  try {
    const r = await dnsProbe("127.0.0.1", { port: server.address().port, timeoutMs: 200 });
    assert.equal(r.received, 0);
    assert.equal(r.error, "dns deadline exceeded");
  } finally {
    server.close();
  }
});

Deno.test("tcpConnectProbe connects from the source address; refused counts as answered", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = (async () => {
    const conn = await listener.accept();
    const remote = (conn.remoteAddr as Deno.NetAddr).hostname;
    conn.close();
    return remote;
  })();
  try {
    const r = await tcpConnectProbe("127.0.0.1", port, { sourceAddress: "127.0.0.3" });
    assert.equal(r.received, 1);
    assert.equal(await accepted, "127.0.0.3");
  } finally {
    listener.close();
  }
  const refused = await tcpConnectProbe("127.0.0.1", port, { timeoutMs: 1000 });
  assert.equal(refused.received, 1);
  const bad = await tcpConnectProbe("127.0.0.1", 0);
  assert.match(bad.error ?? "", /invalid target/);
});
