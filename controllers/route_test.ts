import assert from "node:assert/strict";
import { parseDefaultRoutes, RouteController } from "./route.ts";

Deno.test("parseDefaultRoutes reads via, dev, metric and proto; point-to-point has no via", () => {
  assert.deepEqual(
    parseDefaultRoutes(
      "default via 100.64.0.1 dev eth1 proto static metric 10 \ndefault dev wwan0 proto static scope link metric 20 \n\n",
    ),
    [
      { via: "100.64.0.1", dev: "eth1", metric: 10, proto: "static" },
      { dev: "wwan0", metric: 20, proto: "static" },
    ],
  );
  assert.deepEqual(parseDefaultRoutes("default via 10.0.0.1 dev eth0\n"), [{
    via: "10.0.0.1",
    dev: "eth0",
    metric: 0,
  }]);
});

Deno.test("constructor rejects bad device names and gateways", () => {
  assert.throws(
    () => new RouteController({ members: [{ name: "x", device: "eth0;ls" }] }),
    /not a valid interface name/,
  );
  assert.throws(
    () => new RouteController({ members: [{ name: "x", device: "eth0", gateway: "gw" }] }),
    /not an IPv4 address/,
  );
});

Deno.test("unknown primary is an error without any command", async () => {
  let ran = false;
  const ctl = new RouteController({
    members: [{ name: "wan", device: "eth1" }],
    run: () => {
      ran = true;
      return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
    },
  });
  const r = await ctl.reconcile({ primary: "lte", order: [] });
  assert.match(r.errors[0], /member lte has no route-mode device/);
  assert.equal(ran, false);
});

// ---- real `ip` in a throwaway network namespace (root only) ----
