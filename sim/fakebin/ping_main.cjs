// Fake `ping` for the demo's simulated router: answers like iputils ping
// (`ping -n -c N -W T -I DEV TARGET`) from a per-device state file, so the
// real probe code runs unchanged on a machine without the demo's uplinks.
// State: $FAKE_NET_DIR/<DEV>.json = {"latency_ms": 45, "loss_pct": 0, "link": true}.
// A device without a state file does not exist (like a missing interface).
//
// The whole program as one function, so the same code runs as the `ping` executable
// (node) and in-process (sim/fakebin/inproc.ts: the demo under the compiled binary's
// permissions, which may not spawn it): `process`, `setTimeout` and `require` are given.
"use strict";

function main(process, setTimeout, require) {
  const fs = require("node:fs");
  const path = require("node:path");

  function fail(msg, code) {
    process.stderr.write(msg + "\n");
    process.exit(code);
  }

  const args = process.argv.slice(2);
  let count = 1;
  let wait = 10;
  let dev = null;
  let target = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-n" || a === "-q") continue;
    else if (a === "-c") count = Number(args[++i]);
    else if (a === "-W") wait = Number(args[++i]);
    else if (a === "-I") dev = args[++i];
    else if (a.startsWith("-")) fail(`ping: invalid option -- '${a.replace(/^-+/, "")}'`, 2);
    else target = a;
  }
  if (!target) fail("ping: usage error: Destination address required", 2);
  if (!Number.isInteger(count) || count < 1) fail(`ping: invalid argument: '${count}'`, 1);
  const dir = process.env.FAKE_NET_DIR;
  if (!dir) fail("ping: FAKE_NET_DIR is not set", 2);
  let state = null;
  if (dev !== null) {
    try {
      state = JSON.parse(fs.readFileSync(path.join(dir, `${dev}.json`), "utf8"));
    } catch {
      fail(`ping: SO_BINDTODEVICE ${dev}: No such device`, 2);
    }
  } else {
    state = { latency_ms: 20, loss_pct: 0, link: true };
  }
  if (state.link === false) fail("ping: connect: Network is unreachable", 2);

  const from = dev === null ? "" : ` from ${state.address ?? "10.0.0.2"} ${dev}`;
  const lines = [`PING ${target} (${target})${from}: 56(84) bytes of data.`];
  const rtts = [];
  for (let seq = 1; seq <= count; seq++) {
    if (Math.random() * 100 < (state.loss_pct ?? 0)) continue;
    const base = state.latency_ms ?? 20;
    const jitter = state.jitter_ms ?? base * 0.05;
    const rtt = Math.max(0.05, base + (Math.random() * 2 - 1) * jitter);
    if (rtt > wait * 1000) continue;
    rtts.push(rtt);
    lines.push(
      `64 bytes from ${target}: icmp_seq=${seq} ttl=57 time=${rtt.toFixed(rtt < 10 ? 3 : 1)} ms`,
    );
  }
  const received = rtts.length;
  const lossPct = Math.round(((count - received) / count) * 100);
  // A lost reply is only known lost when the wait runs out; keep the demo quick but honest in shape.
  const elapsed = received < count ? Math.min(wait, 1) * 1000 : Math.max(...rtts, 0);
  lines.push("", `--- ${target} ping statistics ---`);
  lines.push(
    `${count} packets transmitted, ${received} received, ${lossPct}% packet loss, time ${
      Math.round(elapsed)
    }ms`,
  );
  if (received > 0) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / received;
    const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / received);
    lines.push(
      `rtt min/avg/max/mdev = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)}/${
        mdev.toFixed(3)
      } ms`,
    );
  }
  setTimeout(() => {
    process.stdout.write(lines.join("\n") + "\n");
    process.exit(received > 0 ? 0 : 1);
  }, elapsed);
}

module.exports = { main };
