import assert from "node:assert/strict";
import {
  combinePrimary,
  MWAN3_DEFAULTS,
  MWAN3_TUNED,
  type OnlineTimeline,
  simulateDpinger,
  simulateLegacy,
  simulateMwan3,
} from "./baselines.ts";
import { computeMetrics } from "./metrics.ts";
import { buildWorld, type ScenarioSpec, type World } from "./scenarios.ts";

function world(shape: ScenarioSpec["shape"], duration = 1200): World {
  return buildWorld({ name: "t", description: "test", duration_s: duration, shape }, 5);
}

function firstChange(tl: OnlineTimeline, to: boolean, after: number): number | null {
  const c = tl.find(([t, v]) => t >= after && v === to);
  return c === undefined ? null : c[0];
}

function blackhole(from: number, to: number): ScenarioSpec["shape"] {
  return (w) => {
    const m = w.members[0];
    for (let i = from; i < to; i++) m.blackhole[i] = 1;
  };
}

Deno.test("mwan3 defaults need 5 failed rounds: 40–130 s to go offline, ~40–50 s+ to come back", () => {
  const w = world(blackhole(200, 600));
  const tl = simulateMwan3(w.members[0], w.duration_s, MWAN3_DEFAULTS, 1);
  const off = firstChange(tl, false, 0)!;
  assert.ok(off - 200 >= 40 && off - 200 <= 130, `offline after ${off - 200} s`);
  const on = firstChange(tl, true, 600)!;
  assert.ok(on - 600 >= 40 && on - 600 <= 60, `online after ${on - 600} s`);
});

Deno.test("mwan3 tuned detects a blackhole within a few seconds", () => {
  const w = world(blackhole(200, 600));
  const tl = simulateMwan3(w.members[0], w.duration_s, MWAN3_TUNED, 1);
  const off = firstChange(tl, false, 0)!;
  assert.ok(off - 200 >= 2 && off - 200 <= 12, `offline after ${off - 200} s`);
});

Deno.test("mwan3 acts on netifd ifdown at once and comes back online on ifup", () => {
  const w = world((wd) => {
    const m = wd.members[0];
    for (let i = 300; i < 360; i++) m.link[i] = 0;
  });
  const tl = simulateMwan3(w.members[0], w.duration_s, MWAN3_DEFAULTS, 1);
  assert.equal(firstChange(tl, false, 0), 300);
  assert.equal(firstChange(tl, true, 300), 360);
});

Deno.test("dpinger raises the alarm after ~13–15 s of total loss and clears after the window + hold", () => {
  const w = world(blackhole(200, 400));
  const tl = simulateDpinger(w.members[0], w.duration_s, 1);
  const off = firstChange(tl, false, 0)!;
  assert.ok(off - 200 >= 12 && off - 200 <= 16, `down after ${off - 200} s`);
  const on = firstChange(tl, true, 400)!;
  assert.ok(on - 400 >= 45 && on - 400 <= 65, `up after ${on - 400} s`);
});

Deno.test("the legacy script demotes Starlink above 3 % obstruction and never promotes it while it stays", () => {
  const w = world((wd) => wd.members[0].obstruction.fill(4, 300));
  const tl = simulateLegacy(w.members[0], w.duration_s, 1);
  const off = firstChange(tl, false, 0)!;
  assert.ok(off >= 300 && off <= 360);
  assert.equal(firstChange(tl, true, off), null);
});

Deno.test("the legacy script promotes again after 5 good checks", () => {
  const w = world((wd) => wd.members[0].obstruction.fill(4, 300, 400), 1800);
  const tl = simulateLegacy(w.members[0], w.duration_s, 1);
  const off = firstChange(tl, false, 0)!;
  const on = firstChange(tl, true, off)!;
  assert.ok(on - 400 >= 240 && on - 400 <= 300, `promoted ${on - 400} s after`);
});

Deno.test("combinePrimary picks the first online member in order", () => {
  const online = new Map<string, OnlineTimeline>([
    ["a", [[0, true], [10, false], [20, true]]],
    ["b", [[0, true], [15, false]]],
  ]);
  assert.deepEqual(combinePrimary(["a", "b"], online), [[0, "a"], [10, "b"], [15, null], [
    20,
    "a",
  ]]);
});

Deno.test("metrics: impact counts only time on an unusable primary while another member is usable", () => {
  const w = world(blackhole(100, 200), 400);
  // Primary stays on member 0 throughout: 100 s of impact, one missed episode.
  const stay = computeMetrics(w, [[0, w.members[0].spec.name]]);
  assert.equal(stay.impact_s, 100);
  assert.equal(stay.switches, 0);
  assert.deepEqual(stay.detection_s, [100]);
  assert.equal(stay.missed, 1);
  // Leaves after 2 s, returns 30 s after recovery.
  const a = w.members[0].spec.name;
  const b = w.members[1].spec.name;
  const moved = computeMetrics(w, [[0, a], [102, b], [230, a]]);
  assert.equal(moved.impact_s, 2);
  assert.equal(moved.switches, 2);
  assert.deepEqual(moved.detection_s, [2]);
  assert.deepEqual(moved.failback_s, [30]);
});
