import assert from "node:assert/strict";
import { engineConfig } from "../engine/mod.ts";
import type { Observation } from "../engine/types.ts";
import { VirtualClock } from "./clock.ts";
import {
  type Applier,
  type ApplyOutcome,
  type DaemonEvent,
  orderFor,
  Runtime,
  type RuntimeOptions,
  type Source,
  type TelemetrySink,
} from "./runtime.ts";

function recordingApplier(
  fail = false,
): Applier & { calls: { primary: string; order: string[] }[] } {
  const calls: { primary: string; order: string[] }[] = [];
  return {
    mode: "test",
    calls,
    apply(desired): Promise<ApplyOutcome> {
      calls.push(desired);
      if (fail) return Promise.reject(new Error("uci commit failed"));
      return Promise.resolve({
        changed: true,
        verified: true,
        actions: [`primary=${desired.primary}`],
        drift: [],
      });
    },
  };
}

function sink(): TelemetrySink & { events: DaemonEvent[]; samples: number } {
  const s = {
    events: [] as DaemonEvent[],
    samples: 0,
    sample() {
      s.samples++;
    },
    score() {},
    event(ev: DaemonEvent) {
      s.events.push(ev);
    },
  };
  return s;
}

/** A source that reports whatever `fn` says for the current time. */
function scripted(name: string, fn: (t: number) => Observation[]): Source {
  return { name, intervalMs: 1000, collect: (now) => Promise.resolve(fn(now)) };
}

const members = [
  { name: "starlink", class: "starlink" as const, weight: 100 },
  { name: "cell", class: "cellular" as const, weight: 80 },
];
const cfg = engineConfig({ poll_interval_ms: 1000, min_uptime_s: 5, cooldown_s: 10 });

/** A runtime on `clock` with the test config and members, a recording applier, a sink and no sources, unless `o` says otherwise. */
function runtime(clock: VirtualClock, o: Partial<RuntimeOptions> = {}): Runtime {
  return new Runtime({
    clock,
    engine: cfg,
    members,
    applier: recordingApplier(),
    telemetry: sink(),
    sources: [],
    ...o,
  });
}

async function runFor(rt: Runtime, clock: VirtualClock, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    clock.advance(1);
    await rt.runAllSources();
    rt.step();
    await rt.settled();
  }
}

Deno.test("a dish-reported outage moves the primary within one tick and the controller applies it", async () => {
  const clock = new VirtualClock();
  const applier = recordingApplier();
  const tel = sink();
  let outage = false;
  const rt = runtime(clock, {
    applier,
    telemetry: tel,
    sources: [
      scripted("starlink", (t) => [{
        t,
        member: "starlink",
        link_up: true,
        latency_ms: 40,
        loss_pct: 0,
        obstruction_pct: 0,
        ...(outage ? { outage_cause: "OBSTRUCTED", currently_obstructed: true } : {}),
      }]),
      scripted("cell", (t) => [{ t, member: "cell", link_up: true, latency_ms: 60, loss_pct: 0 }]),
    ],
  });
  await runFor(rt, clock, 60);
  assert.equal(rt.state.primary, "starlink");
  assert.equal(applier.calls.at(-1)?.primary, "starlink");
  outage = true;
  await runFor(rt, clock, 1);
  assert.equal(rt.state.primary, "cell", rt.state.primary_reason);
  assert.deepEqual(applier.calls.at(-1), { primary: "cell", order: ["cell", "starlink"] });
  assert.ok(tel.events.some((e) => e.type === "switch" && e.to === "cell"));
  assert.ok(tel.events.some((e) => e.type === "apply" && e.to === "cell"));
  assert.ok(tel.samples >= 120);
  assert.equal(rt.controller().applied, "cell");
});

Deno.test("a late observation is ingested and recorded no earlier than the last one (sorted --record traces)", () => {
  const clock = new VirtualClock();
  const recorded: Observation[] = [];
  const rt = runtime(clock, {
    record: (o) => recorded.push(o),
  });
  clock.advance(5);
  // A link reading at 4.8 s reaches the engine in this tick ...
  rt.ingest([{ t: 4.8, member: "cell", link_up: true }]);
  rt.step();
  // ... and a slow probe started at 4.2 s reports only in the next one; a
  // reading stamped in the future is pulled back to the tick's time.
  clock.advance(1);
  rt.ingest([
    { t: 4.2, member: "starlink", latency_ms: 40, loss_pct: 0 },
    { t: 9, member: "cell", latency_ms: 60, loss_pct: 0 },
  ]);
  rt.step();
  assert.deepEqual(recorded.map((o) => [o.member, o.t]), [
    ["cell", 4.8],
    ["starlink", 4.8],
    ["cell", 6],
  ]);
  const starlink = rt.state.members.find((m) => m.spec.name === "starlink")!;
  assert.equal(starlink.fields.latency_ms?.t, 4.8, "the engine saw the same time as the trace");
});

Deno.test("a hung collector never delays a tick; its turns are skipped, not piled up", async () => {
  const clock = new VirtualClock();
  let started = 0;
  const hung: Source = {
    name: "hung",
    intervalMs: 1000,
    collect() {
      started++;
      return new Promise(() => {});
    },
  };
  const rt = runtime(clock, {
    sources: [
      hung,
      scripted("cell", (t) => [{ t, member: "cell", link_up: true, latency_ms: 50, loss_pct: 0 }]),
    ],
  });
  for (let i = 0; i < 30; i++) {
    clock.advance(1);
    void rt.runSource(hung);
    await rt.runSource({
      name: "cell",
      intervalMs: 1000,
      collect: (t) =>
        Promise.resolve([{ t, member: "cell", link_up: true, latency_ms: 50, loss_pct: 0 }]),
    });
    rt.step();
    await rt.settled();
  }
  assert.equal(started, 1);
  const h = rt.health().find((x) => x.name === "hung")!;
  assert.equal(h.skipped, 29);
  assert.equal(rt.state.ticks, 30);
  assert.equal(rt.state.primary, "cell", "the member with data is chosen; starlink has none");
});

Deno.test("a failing collector is reported in health and the daemon carries on", async () => {
  const clock = new VirtualClock();
  const rt = runtime(clock, {
    sources: [{
      name: "broken",
      intervalMs: 1000,
      collect: () => Promise.reject(new Error("dish unreachable")),
    }],
  });
  await runFor(rt, clock, 3);
  const h = rt.health()[0];
  assert.equal(h.ok, false);
  assert.equal(h.failures, 3);
  assert.equal(h.last_error, "dish unreachable");
  assert.equal(rt.state.ticks, 3);
});

Deno.test("a failed apply is one event and is retried with back-off", async () => {
  const clock = new VirtualClock();
  const applier = recordingApplier(true);
  const tel = sink();
  const rt = runtime(clock, {
    applier,
    telemetry: tel,
    sources: [
      scripted("cell", (t) => [{ t, member: "cell", link_up: true, latency_ms: 50, loss_pct: 0 }]),
    ],
  });
  await runFor(rt, clock, 40);
  const failures = tel.events.filter((e) => e.type === "apply_failed");
  assert.equal(failures.length, 1, "the same failure is reported once");
  assert.match(failures[0].reason, /uci commit failed/);
  // Back-off 2, 4, 8, 16 s after the first try: a handful of attempts, not one per tick.
  assert.ok(
    applier.calls.length >= 3 && applier.calls.length <= 6,
    `${applier.calls.length} attempts`,
  );
  assert.equal(rt.controller().applied, null);
});

Deno.test("manual failover and restore pass through to the engine with events", async () => {
  const clock = new VirtualClock();
  const tel = sink();
  const good = (name: string) =>
    scripted(name, (t) => [{ t, member: name, link_up: true, latency_ms: 40, loss_pct: 0 }]);
  const rt = runtime(clock, {
    telemetry: tel,
    sources: [good("starlink"), good("cell")],
  });
  await runFor(rt, clock, 30);
  assert.equal(rt.state.primary, "starlink");
  rt.command({ type: "failover", member: "cell" });
  await runFor(rt, clock, 1);
  assert.equal(rt.state.primary, "cell");
  rt.command({ type: "restore" });
  assert.ok(tel.events.filter((e) => e.type === "override").length === 2);
  assert.throws(() => rt.command({ type: "failover", member: "nope" }), /no such member/);
});

Deno.test("reload keeps history of members that stay and drops removed ones", async () => {
  const clock = new VirtualClock();
  const rt = runtime(clock, {
    sources: [
      scripted("cell", (t) => [{ t, member: "cell", link_up: true, latency_ms: 50, loss_pct: 0 }]),
    ],
  });
  await runFor(rt, clock, 10);
  const before = rt.state.members.find((m) => m.spec.name === "cell")!;
  rt.reload(engineConfig({ ...cfg, switch_margin: 20 }), [{
    name: "cell",
    class: "cellular",
    weight: 70,
  }]);
  const after = rt.state.members.find((m) => m.spec.name === "cell")!;
  assert.equal(rt.state.members.length, 1);
  assert.equal(after.spec.weight, 70);
  assert.deepEqual(after.window, before.window);
  assert.equal(rt.engineConfig.switch_margin, 20);
});

Deno.test("order puts the primary first, then members by score", () => {
  const clock = new VirtualClock();
  const rt = runtime(clock);
  assert.deepEqual(orderFor(rt.state), ["cell", "starlink"]);
});

Deno.test("a collector failing the same way every tick is logged once, then 'recovered' with the count", async () => {
  const { setLogSink } = await import("../telemetry/logger.ts");
  const records: { msg: string; props: Record<string, unknown> }[] = [];
  const previous = setLogSink((r) => {
    if (r.level !== "trace" && r.level !== "debug") {
      records.push({ msg: String(r.message.join("")), props: r.properties });
    }
  });
  try {
    const clock = new VirtualClock();
    let n = 0;
    const rt = runtime(clock, {
      sources: [{
        name: "dish",
        intervalMs: 1000,
        collect: () => {
          n++;
          if (n <= 20) {
            // The numbers change from run to run (a deadline's elapsed time), the failure does not.
            return Promise.reject(new Error(`DEADLINE_EXCEEDED after ${2000 + n} ms`));
          }
          return Promise.resolve([]);
        },
      }],
    });
    await runFor(rt, clock, 25);
    const failed = records.filter((r) => r.msg === "Collector failed");
    const recovered = records.filter((r) => r.msg === "Collector recovered");
    assert.equal(failed.length, 1, JSON.stringify(records.map((r) => r.msg)));
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0].props.failed_times, 20);
  } finally {
    setLogSink(previous);
  }
});

Deno.test("a collector the sandbox denies is reported as a sandbox denial, not as a failure to reach", async () => {
  const clock = new VirtualClock();
  const rt = runtime(clock, {
    sources: [{
      name: "dish",
      intervalMs: 1000,
      collect: () =>
        Promise.reject(new Deno.errors.NotCapable('Requires net access to "10.1.1.1:9200"')),
    }],
  });
  await runFor(rt, clock, 2);
  const h = rt.health().find((x) => x.name === "dish");
  assert.match(h?.last_error ?? "", /^the binary's sandbox denies net access to 10\.1\.1\.1:9200;/);
});
