import assert from "node:assert/strict";
import { actionLines, emptyReport, readBackInto } from "./report.ts";

Deno.test("emptyReport has nothing done, nothing verified, for the given mode and primary", () => {
  assert.deepEqual(emptyReport("route", "wan", true), {
    mode: "route",
    dryRun: true,
    primary: "wan",
    changed: false,
    previousPrimary: null,
    actions: [],
    verified: false,
    verification: [],
    drift: [],
    errors: [],
    conntrackFlushed: false,
  });
});

Deno.test("readBackInto returns the read-back, or null with the error in the report", async () => {
  const report = emptyReport("mwan3", "wan", false);
  const good = { readBack: () => Promise.resolve(7), reconcile: () => Promise.resolve(report) };
  assert.equal(await readBackInto(good, report), 7);
  assert.deepEqual(report.errors, []);
  const bad = {
    readBack: () => Promise.reject(new Error("uci show mwan3 failed")),
    reconcile: () => Promise.resolve(report),
  };
  assert.equal(await readBackInto(bad, report, "read-back failed: "), null);
  assert.deepEqual(report.errors, ["read-back failed: uci show mwan3 failed"]);
});

Deno.test("actionLines joins each command with its arguments", () => {
  assert.deepEqual(
    actionLines([
      { cmd: "uci", args: ["set", "mwan3.wan_m1.metric=2"], why: "x" },
      { cmd: "mwan3", args: ["restart"], why: "y" },
    ]),
    ["uci set mwan3.wan_m1.metric=2", "mwan3 restart"],
  );
});
