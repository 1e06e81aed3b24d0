import assert from "node:assert/strict";
import { estimateBytes, RingBuffer, TelemetryStore } from "./store.ts";

const LIMITS = { max_samples_per_member: 5, max_events: 3, retention_hours: 1, max_ram_mb: 16 };

Deno.test("RingBuffer keeps the newest entries in order", () => {
  const r = new RingBuffer<number>(3);
  assert.equal(r.push(1), undefined);
  r.push(2);
  r.push(3);
  assert.equal(r.push(4), 1);
  assert.deepEqual(r.toArray(), [2, 3, 4]);
  assert.equal(r.shift(), 2);
  r.push(5);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.at(0), 3);
  assert.equal(r.at(3), undefined);
  assert.throws(() => new RingBuffer(0), /positive integer/);
});

Deno.test("samples per member are bounded and queryable by last N and since", () => {
  const s = new TelemetryStore(LIMITS);
  for (let t = 1; t <= 8; t++) s.addSample({ t, member: "wan", latency_ms: t * 10 });
  s.addSample({ t: 9, member: "lte", loss_pct: 0 });
  assert.deepEqual(s.samples("wan").map((x) => x.t), [4, 5, 6, 7, 8]);
  assert.deepEqual(s.samples("wan", { last: 2 }).map((x) => x.t), [7, 8]);
  assert.deepEqual(s.samples("wan", { since: 6 }).map((x) => x.t), [6, 7, 8]);
  assert.deepEqual(s.samples("wan", { since: 5, last: 1 }).map((x) => x.t), [8]);
  assert.deepEqual(s.samples("wan", { last: 0 }), []);
  assert.deepEqual(s.samples("nobody"), []);
  assert.deepEqual(s.members(), ["lte", "wan"]);
});

Deno.test("stored samples are copies: later mutation of the input does not leak in", () => {
  const s = new TelemetryStore(LIMITS);
  const obs = { t: 1, member: "wan", latency_ms: 10 };
  s.addSample(obs);
  obs.latency_ms = 999;
  assert.equal(s.samples("wan")[0].latency_ms, 10);
});

Deno.test("events are bounded, filterable by type", () => {
  const s = new TelemetryStore(LIMITS);
  s.addEvent({ t: 1, type: "failover", member: "lte", message: "a" });
  s.addEvent({ t: 2, type: "member_down", member: "wan", message: "b" });
  s.addEvent({ t: 3, type: "failback", member: "wan", message: "c" });
  s.addEvent({ t: 4, type: "failover", member: "lte", message: "d" });
  assert.deepEqual(s.events().map((e) => e.message), ["b", "c", "d"]);
  assert.deepEqual(s.events({ type: "failover" }).map((e) => e.message), ["d"]);
  assert.deepEqual(s.events({ last: 1 }).map((e) => e.message), ["d"]);
});

Deno.test("retention drops entries older than retention_hours relative to the newest time", () => {
  const s = new TelemetryStore({ ...LIMITS, max_samples_per_member: 100 });
  s.addSample({ t: 0, member: "wan" });
  s.addScore({ t: 10, member: "wan", score: 90 });
  s.addEvent({ t: 20, type: "failover", message: "x" });
  s.addSample({ t: 3600, member: "wan" });
  assert.deepEqual(s.samples("wan").map((x) => x.t), [0, 3600]);
  s.addSample({ t: 3625, member: "lte" });
  assert.deepEqual(s.samples("wan").map((x) => x.t), [3600]);
  assert.deepEqual(s.scores("wan"), []);
  assert.deepEqual(s.events(), []);
  assert.equal(s.info().evicted_for_age, 3);
});

Deno.test("byte estimate follows adds and evictions and respects max_ram_mb", () => {
  const s = new TelemetryStore({
    max_samples_per_member: 100000,
    max_events: 10,
    retention_hours: 168,
    max_ram_mb: 1,
  });
  const one = estimateBytes({ t: 1, member: "wan", latency_ms: 1, loss_pct: 0 });
  for (let t = 0; t < 20000; t++) s.addSample({ t, member: "wan", latency_ms: 1, loss_pct: 0 });
  const info = s.info();
  assert.ok(info.bytes_estimate <= info.bytes_limit);
  assert.ok(info.evicted_for_ram > 0);
  assert.equal(info.samples + info.evicted_for_ram, 20000);
  assert.equal(info.bytes_estimate, info.samples * one);
  assert.equal(s.samples("wan", { last: 1 })[0].t, 19999, "the newest data is kept");
});

Deno.test("RAM pressure evicts from the fullest buffer first", () => {
  const s = new TelemetryStore({
    max_samples_per_member: 100000,
    max_events: 10,
    retention_hours: 168,
    max_ram_mb: 1,
  });
  for (let t = 0; t < 10; t++) s.addSample({ t, member: "lte", loss_pct: 0 });
  for (let t = 0; t < 20000; t++) s.addSample({ t, member: "wan", latency_ms: 1 });
  assert.equal(s.samples("lte").length, 10);
});

Deno.test("estimateBytes grows with content", () => {
  assert.ok(estimateBytes({ a: "x".repeat(100) }) > estimateBytes({ a: "x" }));
  assert.ok(estimateBytes({ a: [1, 2, 3] }) > estimateBytes({ a: [] }));
  assert.equal(estimateBytes(undefined), 0);
});
