import assert from "node:assert/strict";
import { addedSwitches } from "./metrics.ts";

Deno.test("addedSwitches counts the switches one run has beyond another", () => {
  const calm: [number, string][] = [[0, "sl"], [100, "cell"], [400, "sl"]];
  // The same switches, the failback 120 s later: nothing added.
  assert.equal(addedSwitches([[0, "sl"], [100, "cell"], [520, "sl"]], calm), 0);
  // A false failover and its failback before the real outage: two added.
  assert.equal(
    addedSwitches([[0, "sl"], [30, "cell"], [80, "sl"], [100, "cell"], [400, "sl"]], calm),
    2,
  );
  // Fewer switches than the other run: none added.
  assert.equal(addedSwitches([[0, "sl"]], calm), 0);
  // A switch to another member is not the same switch.
  assert.equal(addedSwitches([[0, "sl"], [100, "wifi"], [400, "sl"]], calm), 2);
  assert.equal(addedSwitches([[0, "sl"]], [[0, "sl"]]), 0);
});
