import assert from "node:assert/strict";
import { quantile } from "./metrics.ts";
import {
  buildWorld,
  inReconfigWindow,
  lognormal,
  OUTAGE_CAUSES,
  rng,
  SCENARIOS,
  usableAt,
  worldToTrace,
} from "./scenarios.ts";
import { formatTrace, parseTrace } from "./trace.ts";

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

Deno.test("reconfiguration windows sit at :12, :27, :42, :57 (−300/+200 ms)", () => {
  for (const t of [12, 11.75, 12.15, 27, 42.1, 56.8, 72, 3600 + 57]) {
    assert.ok(inReconfigWindow(t), String(t));
  }
  for (const t of [0, 11.6, 12.25, 20, 30, 59]) assert.ok(!inReconfigWindow(t), String(t));
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
