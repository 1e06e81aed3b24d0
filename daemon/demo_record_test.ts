import assert from "node:assert/strict";
import { runDemo } from "./demo.ts";

const main = new URL("../main.ts", import.meta.url).pathname;

Deno.test({
  name:
    "demo --record: `replay FILE --json` with no other argument makes the live run's changes of primary at the same times (±1 s)",
  // The story runs in real time (40 s); the daemon's timers and subprocesses outlive single awaits.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: `starfail_record_${Deno.pid}_` });
    try {
      const file = `${dir}/demo.jsonl`;
      const summary = await runDemo({ durationS: 40, recordPath: file });
      const live = summary.switches;
      // The story has a failover and a failback; a run without them would prove nothing.
      assert.ok(live.length >= 3, `live switches: ${JSON.stringify(live)}`);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-prompt", main, "replay", file, "--json"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      const changes = lines.filter((l) => l.summary === undefined) as {
        t: number;
        primary: string;
        from: string | null;
      }[];
      assert.deepEqual(
        changes.map((c) => [c.from, c.primary]),
        live.map((s) => [s.from, s.to]),
      );
      for (const [i, c] of changes.entries()) {
        const t = live[i].trace_t;
        assert.ok(t !== undefined, "a recording demo gives each switch its trace time");
        assert.ok(Math.abs(c.t - t) <= 1, `switch ${i}: replay t=${c.t}, live t=${t}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
