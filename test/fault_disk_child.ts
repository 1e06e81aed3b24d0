/**
 * Child of test/fault_disk_test.ts, run inside `unshare -m` where DIR/ro is a
 * read-only tmpfs and DIR/small a 192 KiB tmpfs: runs the daemon on the
 * simulated router twice — once with --record/--log-file on the read-only
 * mount, once on the small one while a filler fills it — and prints one JSON
 * line of what it saw: ticks, `ubus call starfail status` answers, the trace.
 */

import { getLogger } from "../telemetry/logger.ts";
import { startDishSim } from "../sim/dish_sim.ts";
import { simRouterConfig, startSimRouter } from "../sim/router.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { setupLogging } from "../telemetry/log.ts";
import { UbusClient } from "../ubus/client.ts";
import { pollUntil } from "./wait.ts";

const dir = Deno.args[0];
const result: Record<string, unknown> = {};

async function phase(name: string, dataDir: string, fill: boolean, ms: number): Promise<void> {
  const work = await Deno.makeTempDir({ dir, prefix: `${name}_` });
  const router = await startSimRouter({ dir: work });
  const dish = await startDishSim({ hostname: "127.0.0.1", scenario: "healthy" });
  const cfgPath = `${work}/starfail`;
  await Deno.writeTextFile(cfgPath, simRouterConfig(dish.port, dish.grpcWebPort));
  const logs = await setupLogging({ level: "info", console: "stderr", file: `${dataDir}/log` });
  const handle = await startDaemon({
    configPath: cfgPath,
    socket: router.socket,
    run: router.run,
    recordPath: `${dataDir}/trace.jsonl`,
  });
  const client = await UbusClient.connect({ socket: router.socket });
  const out: Record<string, unknown> = {};
  try {
    await pollUntil(() => handle.runtime.state.ticks >= 3, 20_000, 100);
    out.ticksBefore = handle.runtime.state.ticks;
    if (fill) {
      // Fill the file system to the last byte.
      const filler = await Deno.open(`${dataDir}/filler`, { write: true, create: true });
      const block = new Uint8Array(4096);
      try {
        for (;;) await filler.write(block);
      } catch (err) {
        out.fillError = (err as Error).name;
      }
      filler.close();
      getLogger(["starfail", "test"]).info("Disk filled; logging goes on " + "x".repeat(200));
    }
    const t0 = performance.now();
    let ok = 0;
    let failed = 0;
    while (performance.now() - t0 < ms) {
      try {
        const status = await client.call("starfail", "status", {}, { timeoutMs: 1000 });
        if (typeof status.uptime_s === "number") ok++;
      } catch {
        failed++;
      }
      getLogger(["starfail", "test"]).info("status asked", { ok, failed, pad: "p".repeat(300) });
      await new Promise((r) => setTimeout(r, 200));
    }
    out.statusOk = ok;
    out.statusFailed = failed;
    out.ticksAfter = handle.runtime.state.ticks;
  } finally {
    await client.close();
    await handle.stop();
    await logs.close();
    await dish.close();
    await router.stop();
  }
  try {
    const lines = (await Deno.readTextFile(`${dataDir}/trace.jsonl`)).split("\n");
    out.traceLines = lines.filter((l) => l !== "").length;
    out.traceBroken = lines.filter((l) => {
      if (l === "") return false;
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    }).length;
    out.traceEndsWithNewline = lines.at(-1) === "";
  } catch (err) {
    out.traceError = (err as Error).name;
  }
  result[name] = out;
}

await phase("readonly", `${dir}/ro`, false, 3000);
await phase("full", `${dir}/small`, true, 10_000);
console.log(JSON.stringify(result));
