import assert from "node:assert/strict";
import fc from "fast-check";
import { type EngineConfig, engineConfig } from "./config.ts";
import { applyCommand, createEngine, observe, tick } from "./engine.ts";
import { MAX_PROBES } from "./fields.ts";
import { replay } from "./replay.ts";
import { cooldownFor } from "./selection.ts";
import type { Trace } from "./trace.ts";
import type { MemberClass, MemberSpec, Observation } from "./types.ts";

const KINDS = [
  "good",
  "slow",
  "lossy",
  "outage",
  "linkdown",
  "silent",
  "obstructed",
  "thermal",
] as const;
type Kind = typeof KINDS[number];

const arbRuns = fc.array(
  fc.record({ kind: fc.constantFrom(...KINDS), len: fc.integer({ min: 1, max: 90 }) }),
  { minLength: 1, maxLength: 12 },
);

const CLASSES: MemberClass[] = ["starlink", "cellular", "wifi", "lan"];

const arbSpec = (i: number) =>
  fc.record({
    weight: fc.integer({ min: 1, max: 100 }),
    metered: fc.boolean(),
    cooldown_s: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    min_uptime_s: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  }).map((r): MemberSpec => {
    const spec: MemberSpec = {
      name: `m${i}`,
      class: CLASSES[i % 4],
      weight: r.weight,
      metered: r.metered,
    };
    if (r.cooldown_s !== undefined) spec.cooldown_s = r.cooldown_s;
    if (r.min_uptime_s !== undefined) spec.min_uptime_s = r.min_uptime_s;
    return spec;
  });

const arbTrace: fc.Arbitrary<Trace> = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.tuple(
    fc.tuple(...Array.from({ length: n }, (_, i) => arbSpec(i))),
    fc.tuple(...Array.from({ length: n }, () => arbRuns)),
    fc.integer({ min: 0, max: 1000 }),
  ).map(([specs, runs, seed]) => buildTrace(specs, runs, seed))
);

function fieldsFor(
  kind: Kind,
  cls: MemberClass,
  t: number,
  seed: number,
): Omit<Observation, "t" | "member"> | null {
  const wobble = ((t * 7919 + seed) % 17) - 8;
  const base = { latency_ms: 45 + wobble, loss_pct: 0, jitter_ms: 3 };
  const dish = cls === "starlink" ? { obstruction_pct: 1, currently_obstructed: false } : {};
  switch (kind) {
    case "good":
      return { ...base, ...dish };
    case "slow":
      return { ...base, latency_ms: 900 + wobble * 50, ...dish };
    case "lossy":
      return { ...base, loss_pct: (t + seed) % 3 === 0 ? 100 : 0, ...dish };
    case "outage":
      return cls === "starlink" ? { loss_pct: 100, outage_cause: "OBSTRUCTED" } : { loss_pct: 100 };
    case "linkdown":
      return { link_up: false };
    case "silent":
      return null;
    case "obstructed":
      return { ...base, ...dish, currently_obstructed: cls === "starlink" };
    case "thermal":
      return { ...base, ...dish, alerts: cls === "starlink" ? ["thermal_shutdown"] : [] };
  }
}

function buildTrace(
  specs: MemberSpec[],
  runs: { kind: Kind; len: number }[][],
  seed: number,
): Trace {
  const timelines = runs.map((rs) => rs.flatMap((r) => Array<Kind>(r.len).fill(r.kind)));
  const end = Math.max(...timelines.map((tl) => tl.length));
  const observations: Observation[] = [];
  for (let t = 0; t < end; t++) {
    specs.forEach((spec, i) => {
      const kind = timelines[i][t] ?? "good";
      const f = fieldsFor(kind, spec.class, t, seed);
      if (f !== null) observations.push({ t, member: spec.name, ...f });
    });
  }
  return { members: specs, observations };
}

const arbConfig: fc.Arbitrary<EngineConfig> = fc.record({
  poll_interval_ms: fc.integer({ min: 500, max: 3000 }),
  cooldown_s: fc.integer({ min: 0, max: 60 }),
  min_uptime_s: fc.integer({ min: 0, max: 60 }),
  fail_min_duration_s: fc.integer({ min: 0, max: 20 }),
  restore_min_duration_s: fc.integer({ min: 0, max: 40 }),
  switch_margin: fc.integer({ min: 1, max: 30 }),
  predictive: fc.boolean(),
  history_window_s: fc.integer({ min: 60, max: 600 }),
  max_samples_per_member: fc.integer({ min: 10, max: 200 }),
  max_events: fc.integer({ min: 10, max: 50 }),
}).map((p) => engineConfig(p));

const RUNS = { numRuns: 60, seed: 4242 };

Deno.test("property: replay is deterministic", () => {
  fc.assert(
    fc.property(arbTrace, arbConfig, (trace, cfg) => {
      const a = replay(trace, cfg);
      const b = replay(trace, cfg);
      assert.equal(JSON.stringify(a), JSON.stringify(b));
    }),
    RUNS,
  );
});

Deno.test("property: no discretionary switch inside the cooldown; never to a down member", () => {
  fc.assert(
    fc.property(arbTrace, arbConfig, (trace, cfg) => {
      let lastSwitch: number | null = null;
      let prevPrimary: string | null = null;
      let prevState = createEngine(trace.members, cfg, 0);
      replay(trace, cfg, {
        onTick: (s) => {
          if (s.primary !== prevPrimary) {
            const d = s.decisions.at(-1)!;
            const to = s.members.find((m) => m.spec.name === s.primary)!;
            assert.notEqual(to.state, "down", `switched to down member: ${d.reason}`);
            assert.notEqual(to.state, "unknown");
            const fast = d.reason.startsWith("fast failback");
            if (fast) {
              // A fast failback skips the cooldown, but only to a member fast-restored just now.
              assert.ok(to.fast_until != null && d.t < to.fast_until, d.reason);
            } else if (
              ["score", "failback", "predictive"].includes(d.kind) && lastSwitch !== null
            ) {
              const from = prevState.members.find((m) => m.spec.name === prevPrimary);
              assert.ok(
                d.t - lastSwitch >= cooldownFor(from, cfg),
                `${d.kind} switch ${d.t - lastSwitch} s after the previous one`,
              );
            }
            if (prevPrimary !== null) lastSwitch = d.t;
            prevPrimary = s.primary;
          }
          prevState = s;
        },
      });
    }),
    RUNS,
  );
});

Deno.test("property: a manual override is respected until it expires", () => {
  fc.assert(
    fc.property(
      arbTrace,
      arbConfig,
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 1, max: 300 }),
      (trace, cfg, which, at, dur) => {
        const target = trace.members[which % trace.members.length].name;
        const step = cfg.poll_interval_ms / 1000;
        let s = createEngine(trace.members, cfg, 0);
        let i = 0;
        let applied = false;
        const obs = trace.observations;
        const end = obs.at(-1)!.t;
        for (let k = 0; k * step <= end; k++) {
          const t = k * step;
          while (i < obs.length && obs[i].t <= t) s = observe(s, obs[i++]);
          if (!applied && t >= at) {
            s = applyCommand(s, { type: "failover", member: target, until_t: at + dur }, t);
            applied = true;
          }
          s = tick(s, t, cfg).state;
          if (applied && t < at + dur) assert.equal(s.primary, target);
          if (t >= at + dur) assert.equal(s.override, null);
        }
      },
    ),
    RUNS,
  );
});

Deno.test("property: state size is bounded however long the trace", () => {
  fc.assert(
    fc.property(arbTrace, arbConfig, fc.integer({ min: 3, max: 8 }), (trace, cfg, repeat) => {
      // Repeat the trace end to end to make it long.
      const span = trace.observations.at(-1)!.t + 1;
      const observations: Observation[] = [];
      for (let r = 0; r < repeat; r++) {
        for (const o of trace.observations) observations.push({ ...o, t: o.t + r * span });
      }
      const step = cfg.poll_interval_ms / 1000;
      const { state } = replay({ members: trace.members, observations }, cfg);
      assert.ok(state.events.length <= cfg.max_events);
      assert.ok(state.decisions.length <= cfg.max_events);
      for (const m of state.members) {
        assert.ok(m.probes.length <= MAX_PROBES);
        assert.ok(m.trend.length <= Math.min(240, 60 / step + 1));
        assert.ok(
          m.window.length <= Math.min(cfg.max_samples_per_member, cfg.history_window_s / step + 1),
        );
        assert.ok(Object.keys(m.rule_fired).length <= 10);
        assert.ok(Object.keys(m.fields).length <= 16);
      }
    }),
    { numRuns: 25, seed: 77 },
  );
});
