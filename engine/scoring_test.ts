import assert from "node:assert/strict";
import { engineConfig } from "./config.ts";
import { createEngine, explain, observe, tick } from "./engine.ts";
import { subScore } from "./scoring.ts";
import type { EngineState } from "./state.ts";
import type { MemberSpec, Observation } from "./types.ts";

const cfg = engineConfig();

function run(spec: MemberSpec, obs: Omit<Observation, "t" | "member">): EngineState {
  let s = createEngine([spec], cfg, 0);
  s = observe(s, { t: 0, member: spec.name, ...obs });
  return tick(s, 0, cfg).state;
}

Deno.test("subScore is linear between ok and bad, in both directions", () => {
  assert.equal(subScore(50, 50, 1500), 100);
  assert.equal(subScore(10, 50, 1500), 100);
  assert.equal(subScore(775, 50, 1500), 50);
  assert.equal(subScore(5000, 50, 1500), 0);
  assert.equal(subScore(-80, -90, -120), 100);
  assert.equal(subScore(-105, -90, -120), 50);
  assert.equal(subScore(-130, -90, -120), 0);
});

Deno.test("a perfect link scores 100 and its terms have no penalty", () => {
  const s = run({ name: "sl", class: "starlink", weight: 100 }, {
    latency_ms: 30,
    loss_pct: 0,
    jitter_ms: 2,
    obstruction_pct: 0,
  });
  const e = explain(s, "sl", cfg);
  assert.ok(e);
  assert.equal(e.instant, 100);
  assert.equal(e.final, 100);
  assert.deepEqual(e.terms.map((t) => t.metric), ["latency", "loss", "jitter", "obstruction"]);
  assert.ok(e.terms.every((t) => t.penalty === 0));
});

Deno.test("weights are shares: half-bad loss costs 30/90 × 50 points on Starlink", () => {
  const s = run({ name: "sl", class: "starlink", weight: 100 }, {
    latency_ms: 30,
    loss_pct: 5,
    jitter_ms: 2,
    obstruction_pct: 0,
  });
  const e = explain(s, "sl", cfg)!;
  const loss = e.terms.find((t) => t.metric === "loss")!;
  assert.equal(loss.sub_score, 50);
  assert.equal(loss.penalty, Math.round((30 / 90) * 50 * 100) / 100);
  assert.equal(e.instant, Math.round((100 - loss.penalty) * 100) / 100);
});

Deno.test("missing latency counts as bad; missing jitter drops out", () => {
  const s = run({ name: "lan", class: "lan", weight: 100 }, { loss_pct: 0 });
  const e = explain(s, "lan", cfg)!;
  const lat = e.terms.find((t) => t.metric === "latency")!;
  const jit = e.terms.find((t) => t.metric === "jitter")!;
  assert.equal(lat.value, null);
  assert.equal(lat.sub_score, 0);
  assert.equal(lat.penalty, Math.round((25 / 55) * 100 * 100) / 100);
  assert.equal(jit.penalty, 0);
  assert.match(jit.note, /left out/);
  assert.ok(e.instant < 60);
});

Deno.test("member weight scales and metered/roaming penalties subtract", () => {
  const s = run({ name: "cell", class: "cellular", weight: 80, metered: true }, {
    latency_ms: 30,
    loss_pct: 0,
    jitter_ms: 1,
    rsrp_dbm: -80,
    sinr_db: 20,
    roaming: true,
  });
  const e = explain(s, "cell", cfg)!;
  assert.equal(e.instant, 100);
  assert.equal(e.member_weight, 0.8);
  assert.equal(e.metered_penalty, 10);
  assert.equal(e.roaming_penalty, 15);
  assert.equal(e.final, 100 * 0.8 - 10 - 15);
});

Deno.test("prefer_roaming removes the roaming penalty", () => {
  const s = run({ name: "cell", class: "cellular", weight: 80, prefer_roaming: true }, {
    latency_ms: 30,
    loss_pct: 0,
    roaming: true,
  });
  assert.equal(explain(s, "cell", cfg)!.roaming_penalty, 0);
});

Deno.test("cellular signal terms use RSRP and SINR curves", () => {
  const s = run({ name: "cell", class: "cellular", weight: 100 }, {
    latency_ms: 30,
    loss_pct: 0,
    jitter_ms: 1,
    rsrp_dbm: -105,
    sinr_db: 0,
  });
  const e = explain(s, "cell", cfg)!;
  assert.equal(e.terms.find((t) => t.metric === "rsrp")!.sub_score, 50);
  assert.equal(e.terms.find((t) => t.metric === "sinr")!.sub_score, 0);
});

Deno.test("EWMA, window and blend follow the configured shares", () => {
  let s = createEngine([{ name: "lan", class: "lan", weight: 100 }], cfg, 0);
  s = observe(s, { t: 0, member: "lan", latency_ms: 10, loss_pct: 0, jitter_ms: 0 });
  s = tick(s, 0, cfg).state;
  s = observe(s, { t: 1, member: "lan", latency_ms: 775, loss_pct: 0, jitter_ms: 0 });
  s = tick(s, 1, cfg).state;
  const e = explain(s, "lan", cfg)!;
  // instant: latency sub 50 → penalty 25/70 × 50.
  const instant = 100 - Math.round((25 / 70) * 50 * 100) / 100;
  assert.equal(e.instant, Math.round(instant * 100) / 100);
  assert.equal(e.ewma, Math.round((0.2 * instant + 0.8 * 100) * 100) / 100);
  assert.equal(e.window_samples, 2);
  assert.equal(e.window_avg, Math.round(((instant + 100) / 2) * 100) / 100);
  const blend = 0.3 * instant + 0.5 * (0.2 * instant + 0.8 * 100) + 0.2 * ((instant + 100) / 2);
  assert.equal(e.blend, Math.round(blend * 100) / 100);
});

Deno.test("explain returns null for an unknown member", () => {
  const s = createEngine([], cfg, 0);
  assert.equal(explain(s, "nope", cfg), null);
});
