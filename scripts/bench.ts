/**
 * `deno task bench` / `npm run bench`: every benchmark, each in its own
 * process with the V8 flags the compiled binary uses, so one does not
 * disturb another's memory figures. Prints each report in turn.
 *
 * - `bench_engine.ts`: failover quality against mwan3, dpinger and the legacy
 *   script on seeded scenarios; engine throughput on a 24 h trace.
 * - `bench_daemon.ts`: the daemon loop for a simulated week (RSS, CPU per tick).
 * - `bench_starlink.ts`: 100,000 dish polls against the simulator (RSS, CPU per poll).
 * - `bench_footprint.ts`: the daemon as shipped (binary's flags, every collector busy) vs a
 *   sleeping Deno; growth per simulated day; cold start of `status`; peak RSS of a 24 h replay.
 *
 * Usage: deno run -A scripts/bench.ts [--quick]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { V8_FLAGS } from "./permissions.ts";

const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
const quick = values.quick === true;
const here = new URL(".", import.meta.url).pathname;

const runs: { name: string; script: string; args: string[]; v8: string }[] = [
  { name: "engine", script: "bench_engine.ts", args: quick ? ["--quick"] : [], v8: "" },
  {
    name: "daemon",
    script: "bench_daemon.ts",
    args: ["--days", quick ? "1" : "7"],
    v8: `--expose-gc,${V8_FLAGS}`,
  },
  {
    name: "starlink",
    script: "bench_starlink.ts",
    args: ["--polls", quick ? "5000" : "100000", "--variants", "web,h2c,grpcjs,http2"],
    v8: "",
  },
  // The shipped daemon's RSS vs a sleeping Deno, cold start, replay; its own process per part.
  { name: "footprint", script: "bench_footprint.ts", args: quick ? ["--quick"] : [], v8: "" },
];

let failed = 0;
for (const r of runs) {
  console.log(`\n# ${r.name} (${r.script} ${r.args.join(" ")})\n`);
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-prompt",
      ...(r.v8 ? [`--v8-flags=${r.v8}`] : []),
      `${here}${r.script}`,
      ...r.args,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const s = ((performance.now() - started) / 1000).toFixed(0);
  if (out.code !== 0) {
    failed++;
    console.error(`bench: ${r.script} failed (exit ${out.code}) after ${s} s`);
  } else console.log(`\n(${r.script}: ${s} s)`);
}
Deno.exit(failed === 0 ? 0 : 1);
