import assert from "node:assert/strict";
import { followScenarioFile, SCENARIOS, scriptScenario, startDishSim } from "./dish_sim.ts";
import { StarlinkClient } from "../collectors/starlink_client.ts";

const net = { sanitizeOps: false, sanitizeResources: false };

Deno.test("every outage cause has a scenario, and scripts switch state at their step", () => {
  for (
    const cause of ["booting", "no_schedule", "obstructed", "no_downlink", "no_pings", "sky_search"]
  ) {
    assert.ok(SCENARIOS[`outage_${cause}`], `outage_${cause}`);
  }
  const script = scriptScenario([{ at: 0, state: {} }, { at: 10, state: { drop_rate: 1 } }]);
  assert.deepEqual(script(9), {});
  assert.deepEqual(script(10), { drop_rate: 1 });
});

Deno.test({
  name: "history ring: the latency of a fully dropped second repeats the previous one",
  ...net,
  async fn() {
    const sim = await startDishSim({
      scenario: scriptScenario([{ at: 0, state: {} }, { at: 5, state: { drop_rate: 1 } }]),
      clock: () => 8,
      grpcWebPort: -1,
    });
    try {
      assert.deepEqual(sim.sampleAt(6), { drop: 1, latency: sim.sampleAt(4).latency });
      assert.equal(sim.current(), 8);
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "standalone: --listen and --refuse-grpc serve gRPC-Web only, and SIGTERM stops it",
  ...net,
  async fn() {
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-prompt",
        new URL("./dish_sim.ts", import.meta.url).pathname,
        "--listen",
        "127.0.0.1:0",
        "--web-port",
        "0",
        "--scenario",
        "thermal_throttle",
        "--refuse-grpc",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    reader.releaseLock();
    const ready = JSON.parse(text.split("\n")[0]) as { grpc: string; grpcWeb: string };
    const [host, port] = ready.grpc.split(":");
    const client = new StarlinkClient({
      host,
      port: Number(port),
      grpcWebPort: Number(ready.grpcWeb.split(":")[1]),
      timeoutMs: 2000,
    });
    try {
      const answer = await client.call("get_status");
      assert.equal(answer.transport, "grpc-web");
      assert.equal((answer.body.alerts as Record<string, boolean>).thermal_throttle, true);
    } finally {
      client.close();
      proc.kill("SIGTERM");
      const status = await proc.status;
      await proc.stdout.cancel().catch(() => undefined);
      assert.equal(status.code, 0);
    }
  },
});

Deno.test({
  name:
    "scenario file: a new name switches the running simulator; empty, missing or unknown keep it",
  ...net,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dish_sim_test" });
    const file = `${dir}/scenario`;
    let second = 3;
    const sim = await startDishSim({ clock: () => second, grpcWebPort: -1 });
    const client = new StarlinkClient({ host: "127.0.0.1", port: sim.port, timeoutMs: 2000 });
    const errors: unknown[] = [];
    const realError = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(" "));
    try {
      const follower = followScenarioFile(file, sim, "healthy");
      const cause = async () => {
        const outage = (await client.call("get_status")).body.outage as { cause?: number } | null;
        return outage?.cause ?? "none";
      };
      assert.equal(await follower.poll(), "healthy", "missing file");
      assert.equal(await cause(), "none");

      await Deno.writeTextFile(file, "outage_now\n");
      assert.equal(await follower.poll(), "outage_now");
      assert.equal(await cause(), 6, "outage cause OBSTRUCTED (enum value 6)");

      await Deno.writeTextFile(file, "");
      assert.equal(await follower.poll(), "outage_now", "empty file");
      await Deno.writeTextFile(file, "no_such_scenario");
      assert.equal(await follower.poll(), "outage_now", "unknown name");
      assert.equal(await follower.poll(), "outage_now");
      assert.equal(errors.length, 1, "an unknown name is reported once");
      assert.match(String(errors[0]), /unknown scenario "no_such_scenario"/);

      second = 4;
      await Deno.writeTextFile(file, "healthy");
      assert.equal(await follower.poll(), "healthy");
      assert.equal(await cause(), "none");
    } finally {
      console.error = realError;
      client.close();
      await sim.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
