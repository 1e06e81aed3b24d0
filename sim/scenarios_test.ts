import assert from "node:assert/strict";
import { quantile } from "./metrics.ts";
import {
  buildWorld,
  DEFAULT_COLLECTORS,
  lognormal,
  OUTAGE_CAUSES,
  rng,
  SCENARIOS,
  usableAt,
  withoutReconfigSpikes,
  WORLD_EPOCH_UNIX_S,
  worldToTrace,
} from "./scenarios.ts";
import { inReconfigWindow } from "../engine/reconfig.ts";
import type { Observation } from "../engine/types.ts";
import { formatTrace, parseTrace } from "../engine/trace.ts";

Deno.test("the same seed builds the same world and trace; another seed differs", () => {
  const spec = SCENARIOS.find((s) => s.name === "obstructions")!;
  const a = formatTrace(worldToTrace(buildWorld(spec, 1), 1));
  const b = formatTrace(worldToTrace(buildWorld(spec, 1), 1));
  const c = formatTrace(worldToTrace(buildWorld(spec, 2), 2));
  assert.equal(a, b);
  assert.notEqual(a, c);
});

Deno.test("obstruction outage durations follow the measured p50 ≈ 3.3 s, p90 ≈ 14 s", () => {
  const r = rng(7);
  const d = Array.from({ length: 20000 }, () => lognormal(r, 3.3, 14, 60));
  const p50 = quantile(d, 0.5)!;
  const p90 = quantile(d, 0.9)!;
  assert.ok(Math.abs(p50 - 3.3) < 0.2, `p50 ${p50}`);
  assert.ok(Math.abs(p90 - 14) < 1, `p90 ${p90}`);
});

Deno.test("every scenario yields a valid trace whose dish reports match the ground truth", () => {
  for (const spec of SCENARIOS) {
    const w = buildWorld(spec, 11);
    const trace = worldToTrace(w, 11);
    const parsed = parseTrace(formatTrace(trace));
    assert.equal(parsed.observations.length, trace.observations.length, spec.name);
    const sl = w.members.find((m) => m.spec.class === "starlink")!;
    for (const o of trace.observations) {
      if (o.member !== sl.spec.name || o.obstruction_pct === undefined) continue;
      const i = Math.floor(o.t);
      assert.equal(o.outage_cause ?? "", OUTAGE_CAUSES[sl.outage[i]], `${spec.name} t=${o.t}`);
      if (o.outage_cause !== undefined) assert.equal(usableAt(sl, i), false);
    }
  }
});

Deno.test("the healthy scenario is usable throughout for every member", () => {
  const w = buildWorld(SCENARIOS.find((s) => s.name === "healthy")!, 3);
  for (const m of w.members) {
    for (let i = 0; i < w.duration_s; i++) assert.ok(usableAt(m, i), `${m.spec.name} at ${i}`);
  }
});

Deno.test("probe rounds carry the send time; Starlink loses pings in the windows it names", () => {
  const spec = SCENARIOS.find((s) => s.name === "healthy")!;
  const world = buildWorld(spec, 3);
  const lossRate = (skew: number) => {
    const tally = { in: [0, 0], out: [0, 0] };
    const opts = { ...DEFAULT_COLLECTORS, clock_skew_s: skew, avoid_reconfig: false };
    for (const o of worldToTrace(world, 3, opts).observations) {
      if (o.member !== "starlink" || o.loss_pct === undefined) continue;
      assert.ok(o.sent_unix_s !== undefined && o.sent_unix_s >= WORLD_EPOCH_UNIX_S + skew);
      assert.ok(o.t - (o.sent_unix_s - WORLD_EPOCH_UNIX_S - skew) <= 2.0011, String(o.t));
      const k = inReconfigWindow(o.sent_unix_s) ? tally.in : tally.out;
      k[0] += o.loss_pct > 0 ? 1 : 0;
      k[1]++;
    }
    return { in: tally.in[0] / tally.in[1], out: tally.out[0] / tally.out[1] };
  };
  const exact = lossRate(0);
  assert.ok(exact.in > 0.3 && exact.out < 0.02, JSON.stringify(exact));
  // A clock 5 s off puts the named windows where the dish is quiet.
  const off = lossRate(5);
  assert.ok(off.in < 0.05, JSON.stringify(off));
});

Deno.test("Starlink rounds due in a window wait for the next prober run; others do not", () => {
  const world = buildWorld(SCENARIOS.find((s) => s.name === "healthy")!, 3);
  const sentIn = (opts: Partial<typeof DEFAULT_COLLECTORS>) => {
    const n = new Map<string, number>();
    const trace = worldToTrace(world, 3, { ...DEFAULT_COLLECTORS, ...opts });
    for (const o of trace.observations) {
      if (o.sent_unix_s === undefined) continue;
      // Where the dish really is: the router's clock minus its skew.
      const trueUnix = o.sent_unix_s - (opts.clock_skew_s ?? 0);
      if (inReconfigWindow(trueUnix)) n.set(o.member, (n.get(o.member) ?? 0) + 1);
    }
    return n;
  };
  assert.equal(sentIn({}).get("starlink"), undefined);
  // Wi-Fi probes at x.74 s, which meets the windows' opening edge (x.70).
  assert.ok((sentIn({}).get("wifi") ?? 0) > 50);
  assert.ok((sentIn({ avoid_reconfig: false }).get("starlink") ?? 0) > 50);
  // A router clock 5 s off dodges the wrong moments.
  assert.ok((sentIn({ clock_skew_s: 5 }).get("starlink") ?? 0) > 50);
});

Deno.test("the world without spikes differs only in Starlink rounds sent in a window", () => {
  const world = buildWorld(SCENARIOS.find((s) => s.name === "obstructions")!, 5);
  // A lost ping delays its round's report, so compare in send order.
  const bySend = (obs: Observation[]) =>
    obs.toSorted((x, y) =>
      x.member.localeCompare(y.member) || (x.sent_unix_s ?? x.t) - (y.sent_unix_s ?? y.t) ||
      x.t - y.t
    );
  const traces = (opts: Partial<typeof DEFAULT_COLLECTORS>) =>
    [world, withoutReconfigSpikes(world)].map((w) =>
      bySend(worldToTrace(w, 5, { ...DEFAULT_COLLECTORS, ...opts }).observations)
    );
  const [a, b] = traces({ avoid_reconfig: false });
  assert.equal(a.length, b.length);
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    if (JSON.stringify(a[i]) === JSON.stringify(b[i])) continue;
    differ++;
    assert.equal(a[i].member, "starlink");
    assert.ok(inReconfigWindow(a[i].sent_unix_s!), JSON.stringify(a[i]));
  }
  assert.ok(differ > 100, `${differ} rounds differ`);
  // Rounds that wait out the windows see no difference at all.
  const [c, d] = traces({});
  assert.deepEqual(c, d);
});
