import assert from "node:assert/strict";
import { LiveState } from "./live.ts";

Deno.test("live: dish state, alerts raised and cleared, an update waiting for a reboot", () => {
  const live = new LiveState();
  const dish = () => live.dish;
  assert.deepEqual(live.sample({ t: 1, member: "wan", latency_ms: 30 }), [], "not a dish reading");
  assert.equal(live.dish, null);
  assert.deepEqual(
    live.sample({ t: 2, member: "wan", currently_obstructed: false, alerts: [], outage_cause: "" }),
    [],
  );
  assert.equal(dish()?.state, "online");
  assert.deepEqual(
    live.sample({ t: 3, member: "wan", alerts: ["thermal_throttle"], swupdate_reboot_ready: true }),
    [
      { kind: "alert", what: "thermal_throttle" },
      { kind: "update_pending", what: "swupdate_reboot_ready" },
    ],
  );
  assert.deepEqual(
    live.sample({ t: 4, member: "wan", alerts: [], outage_cause: "NO_SCHEDULE" }),
    [{ kind: "alert_cleared", what: "thermal_throttle" }],
  );
  assert.equal(dish()?.state, "no_schedule");
  assert.equal(dish()?.update_pending, true, "kept until the dish says otherwise");
  live.sample({ t: 5, member: "wan", outage_cause: "SOMETHING_NEW" });
  assert.equal(dish()?.state, "other");
});

Deno.test("live: switch and send counters", () => {
  const live = new LiveState();
  live.countSwitch("hard");
  live.countSwitch("failback");
  live.countSwitch("hard");
  live.countSend("webhook", true);
  live.countSend("webhook", false);
  assert.deepEqual(live.switches(), { failback: 1, hard: 2 });
  assert.deepEqual(live.sends(), { webhook: { ok: 1, failed: 1 } });
});
