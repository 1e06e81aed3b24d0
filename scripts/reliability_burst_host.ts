/**
 * Child of scripts/reliability.ts: hosts a `starfail`-like object (a status
 * reply of five members) on the ubus socket given as the first argument and
 * prints `ready`, then a JSON line of its memory each time it reads a line on
 * stdin (after a forced GC when run with --expose-gc).
 *
 * @module
 */

import * as v from "valibot";
import { ubusMethod, UbusObjectServer } from "../ubus/object_server.ts";

const server = new UbusObjectServer({ socket: Deno.args[0] });
const status = {
  version: "reliability",
  members: Array.from({ length: 5 }, (_, i) => ({
    name: `m${i}`,
    state: "up",
    score: 90,
    latency_ms: 30,
  })),
};
await server.addObject("starfail", { status: ubusMethod(v.object({}), () => status) });
await server.start();
await server.waitConnected(5000);
console.log("ready");
const decoder = new TextDecoder();
for await (const chunk of Deno.stdin.readable) {
  for (const _ of decoder.decode(chunk).split("\n").slice(1)) {
    (globalThis as { gc?: () => void }).gc?.();
    const m = Deno.memoryUsage();
    console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed }));
  }
}
await server.stop();
