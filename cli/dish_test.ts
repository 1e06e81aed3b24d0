import assert from "node:assert/strict";
import { startDishSim } from "../sim/dish_sim.ts";
import { CliError, EXIT, UsageError } from "./args.ts";
import { parseDishAddress, run } from "./dish.ts";

const net = { sanitizeOps: false, sanitizeResources: false };

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const original = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    const code = await fn();
    return { code, out: lines.join("\n") };
  } finally {
    console.log = original;
  }
}

Deno.test("parseDishAddress accepts host, host:port and [v6]:port", () => {
  assert.deepEqual(parseDishAddress("192.168.100.1:9200"), { host: "192.168.100.1", port: 9200 });
  assert.deepEqual(parseDishAddress("dish.lan"), { host: "dish.lan", port: 9200 });
  assert.deepEqual(parseDishAddress("[fd00::1]:9300"), { host: "fd00::1", port: 9300 });
  assert.equal(parseDishAddress("host:99999"), undefined);
  assert.equal(parseDishAddress("a:b:c"), undefined);
});

Deno.test({
  name: "starfail dish status --json prints the grpcurl shape",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "obstructed", clock: () => 32 });
    try {
      const { code, out } = await capture(() =>
        run(["status", "--json", "--dish", `127.0.0.1:${sim.port}`, "--web-port", "0"])
      );
      assert.equal(code, EXIT.OK);
      const json = JSON.parse(out);
      assert.equal(json.apiVersion, "37");
      assert.equal(json.dishGetStatus.outage.cause, "OBSTRUCTED");
      assert.equal(json.dishGetStatus.deviceState.uptimeS, "32");
      assert.equal(json.dishGetStatus.obstructionStats.currentlyObstructed, true);
      assert.equal(json.dishGetStatus.obstructionStats.avgProlongedObstructionIntervalS, "NaN");
      assert.equal("stowRequested" in json.dishGetStatus, false, "false values are omitted");
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "starfail dish status prints a short human summary",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "thermal_throttle", clock: () => 3725 });
    try {
      const { code, out } = await capture(() =>
        run(["status", "--dish", `127.0.0.1:${sim.port}`, "--web-port", "0"])
      );
      assert.equal(code, EXIT.OK);
      assert.match(out, /^latency +\d+\.\d ms/m);
      assert.match(out, /^drop +0\.0 %/m);
      assert.match(out, /^outage +none/m);
      assert.match(out, /^alerts +is_heating, thermal_throttle/m);
      assert.match(out, /^uptime +1h 2m 5s/m);
      assert.match(out, /^firmware +2025\.06\.24\.mr58346/m);
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "starfail dish history summarises the ring and the last outages",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "outage_no_schedule", clock: () => 200 });
    try {
      const { code, out } = await capture(() =>
        run(["history", "--dish", `127.0.0.1:${sim.port}`, "--web-port", "0"])
      );
      assert.equal(code, EXIT.OK);
      assert.match(out, /^samples +200 s \(ring 900, current 200\)/m);
      assert.match(out, /^outages +3 in the dish's list/m);
      assert.match(out, /NO_SCHEDULE +10\.0 s/);
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "starfail dish location: PERMISSION_DENIED is one line with the hint",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "healthy", clock: () => 5 });
    try {
      await assert.rejects(
        run(["location", "--dish", `127.0.0.1:${sim.port}`, "--web-port", "0"]),
        (err: unknown) => {
          assert.ok(err instanceof CliError);
          assert.equal(err.code, EXIT.FAIL);
          assert.match(err.message, /Starlink app/);
          assert.equal(err.message.includes("\n"), false);
          return true;
        },
      );
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "starfail dish: a dish that does not answer exits UNAVAILABLE with one line",
  ...net,
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    await assert.rejects(
      run(["status", "--dish", `127.0.0.1:${port}`, "--web-port", "0", "--timeout", "1"]),
      (err: unknown) => {
        assert.ok(err instanceof CliError);
        assert.equal(err.code, EXIT.UNAVAILABLE);
        assert.match(err.message, /cannot connect to 127\.0\.0\.1:\d+/);
        return true;
      },
    );
  },
});

Deno.test("starfail dish: bad request names and addresses are usage errors", async () => {
  await assert.rejects(run(["bogus"]), UsageError);
  await assert.rejects(run(["status", "--dish", "a:b:c"]), UsageError);
  await assert.rejects(run(["status", "--timeout", "0"]), UsageError);
});

Deno.test({
  name: "starfail dish takes the dish address from the config when --dish is not given",
  ...net,
  async fn() {
    const sim = await startDishSim({ scenario: "healthy", clock: () => 10 });
    const cfg = await Deno.makeTempFile({ suffix: ".uci" });
    try {
      await Deno.writeTextFile(
        cfg,
        `config starfail 'starlink'\n\toption host '127.0.0.1'\n\toption port '${sim.port}'\n\toption grpc_web_port '${sim.grpcWebPort}'\n`,
      );
      const { code, out } = await capture(() => run(["status", "--json", "--config", cfg]));
      assert.equal(code, EXIT.OK);
      assert.equal(JSON.parse(out).apiVersion, "37");
      await Deno.writeTextFile(cfg, "config starfail 'starlink'\n\toption port 'x'\n");
      await assert.rejects(
        () => run(["status", "--config", cfg]),
        (e: Error) => e.name === "ConfigError",
      );
    } finally {
      await sim.close();
      await Deno.remove(cfg);
    }
  },
});
