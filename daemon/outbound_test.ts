import assert from "node:assert/strict";
import { notificationFor } from "./outbound.ts";
import type { DaemonEvent } from "./runtime.ts";

function ev(e: Partial<DaemonEvent> & Pick<DaemonEvent, "type">): DaemonEvent {
  return { t: 10, wall_ms: 0, member: null, from: null, to: null, reason: "why", ...e };
}

Deno.test("notifications: which events are notified, as which kind", () => {
  const kind = (e: DaemonEvent, k?: string) => notificationFor(e, k)?.type ?? null;
  const sw = ev({ type: "switch", member: "lte", from: "wan", to: "lte" });
  assert.equal(kind(sw, "hard"), "failover");
  assert.equal(kind(sw, "override"), "failover");
  assert.equal(kind(sw, "failback"), "failback");
  assert.equal(kind(sw, "predictive"), "predictive");
  assert.equal(kind(ev({ type: "switch", to: "wan" }), "initial"), null, "the first choice");
  assert.equal(
    kind(ev({ type: "member_state", member: "wan", from: "up", to: "down" })),
    "member_down",
  );
  assert.equal(
    kind(ev({ type: "member_state", member: "wan", from: "recovering", to: "up" })),
    "member_up",
  );
  assert.equal(kind(ev({ type: "member_state", member: "wan", from: "unknown", to: "up" })), null);
  assert.equal(kind(ev({ type: "dish_alert", to: "thermal_throttle" })), "dish_alert");
  assert.equal(
    kind(ev({ type: "dish_alert", from: "thermal_throttle", to: null })),
    null,
    "cleared",
  );
  assert.equal(kind(ev({ type: "dish_api" })), "api_drift");
  assert.equal(
    notificationFor(ev({ type: "dish_alert", to: "reboot" }), undefined)?.title,
    "starfail: the dish rebooted",
  );
  assert.equal(kind(ev({ type: "drift" })), null);
  const n = notificationFor(sw, "hard")!;
  assert.equal(n.title, "starfail: failover wan → lte");
  assert.deepEqual(n.data, { from: "wan", to: "lte", kind: "hard" });
  assert.equal(
    notificationFor(ev({ type: "dish_alert", to: "update_pending" }), undefined)!.title,
    "starfail: dish update downloaded, it reboots to install it",
  );
});
