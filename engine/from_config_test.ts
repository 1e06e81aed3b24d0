import assert from "node:assert/strict";
import { DEFAULT_CONFIG, parseConfigText } from "../config/mod.ts";
import { DEFAULT_ENGINE_CONFIG } from "./config.ts";
import { applyMemberConfig, engineConfigFromConfig } from "./from_config.ts";

Deno.test("the config defaults map to the engine defaults", () => {
  assert.deepEqual(engineConfigFromConfig(DEFAULT_CONFIG), DEFAULT_ENGINE_CONFIG);
});

Deno.test("main and scoring options reach the engine under the same names", () => {
  const { config } = parseConfigText(
    "config starfail 'main'\n\toption cooldown_s '45'\n\toption predictive '0'\n" +
      "\toption reconfig_guard '0'\n" +
      "config starfail 'scoring'\n\toption weight_loss '40'\n",
    "test",
  );
  const e = engineConfigFromConfig(config);
  assert.equal(e.cooldown_s, 45);
  assert.equal(e.predictive, false);
  assert.equal(e.reconfig_guard, false);
  assert.equal(e.weight_loss, 40);
});

Deno.test("member sections override trace members by name", () => {
  const { config } = parseConfigText(
    "config member 'cell'\n\toption class 'cellular'\n\toption metered '1'\n\toption cooldown_s '90'\n",
    "test",
  );
  const out = applyMemberConfig([
    { name: "cell", class: "cellular", weight: 50 },
    { name: "sl", class: "starlink", weight: 100 },
  ], config);
  assert.deepEqual(out[0], {
    name: "cell",
    class: "cellular",
    weight: 80,
    metered: true,
    prefer_roaming: false,
    cooldown_s: 90,
  });
  assert.deepEqual(out[1], { name: "sl", class: "starlink", weight: 100 });
});
