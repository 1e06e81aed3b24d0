import assert from "node:assert/strict";
import { engineConfig } from "../engine/mod.ts";
import { TelemetryStore } from "../telemetry/store.ts";
import { eligibleText } from "../cli/status.ts";
import { DaemonBackend } from "./backend.ts";
import { VirtualClock } from "./clock.ts";
import { Runtime } from "./runtime.ts";
import { humanizeTimes, localClock, wallTime } from "./wall_time.ts";

function backend(): { b: DaemonBackend; rt: Runtime; clock: VirtualClock } {
  const clock = new VirtualClock(0, Date.UTC(2026, 0, 1, 12, 0, 0));
  const store = new TelemetryStore({
    max_samples_per_member: 100,
    max_events: 100,
    retention_hours: 1,
    max_ram_mb: 8,
  });
  const rt = new Runtime({
    clock,
    engine: engineConfig({ poll_interval_ms: 1000, min_uptime_s: 0, cooldown_s: 0 }),
    members: [
      { name: "sat", class: "starlink", weight: 100 },
      { name: "cell", class: "cellular", weight: 80 },
    ],
    applier: {
      mode: "none",
      apply: () => Promise.resolve({ changed: false, verified: true, actions: [], drift: [] }),
    },
    telemetry: { sample: () => {}, score: () => {}, event: () => {} },
    sources: [],
  });
  const b = new DaemonBackend({
    runtime: rt,
    store,
    ifaces: () => ({}),
    collectorMember: () => null,
    config: () => ({}),
    dryRun: () => false,
    logLevel: () => "info",
    setLogLevel: () => {},
    recheck: () => Promise.resolve(),
    socket: "/x",
    configFile: "/y",
    ramLimitMb: () => 64,
  });
  return { b, rt, clock };
}

Deno.test("wall time: local HH:MM:SS and seconds from now, never the engine's t=", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000;
  assert.equal(wallTime(now + 600, now), `${localClock(now + 600)} (in 600 s)`);
  assert.equal(wallTime(now - 5, now), `${localClock(now - 5)} (5 s ago)`);
  assert.equal(
    humanizeTimes("manual override to cell until t=700", 100, now),
    `manual override to cell until ${localClock(now + 600)} (in 600 s)`,
  );
});

Deno.test("failover names the end in wall time; restore clears the override in status at once", () => {
  const { b, rt, clock } = backend();
  for (let i = 0; i < 5; i++) {
    clock.advance(1);
    rt.ingest([
      { t: clock.now(), member: "sat", latency_ms: 40, loss_pct: 0 },
      { t: clock.now(), member: "cell", latency_ms: 60, loss_pct: 0 },
    ]);
    rt.step();
  }
  const r = b.failover("cell", 600);
  assert.ok(r.ok, r.message);
  assert.match(r.message, /^cell is primary by manual override until \d\d:\d\d:\d\d \(in 600 s\)$/);
  const during = b.status();
  assert.equal(during.override?.member, "cell");
  assert.doesNotMatch(JSON.stringify(during), /t=\d/);
  b.restore();
  const after = b.status();
  assert.equal(after.override, null);
  assert.doesNotMatch(after.why, /manual override to/);
});

Deno.test("members with no sample yet: 'waiting for first sample', not 'no'", () => {
  const { b } = backend();
  const m = b.status().members[0];
  assert.equal(m.eligible, false);
  assert.equal(eligibleText(m), "waiting for first sample");
  assert.equal(eligibleText({ ...m, state: "down" }), "no");
  assert.equal(eligibleText({ ...m, eligible: true }), "yes");
});
