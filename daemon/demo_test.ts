import assert from "node:assert/strict";
import { runDemo } from "./demo.ts";

const main = new URL("../main.ts", import.meta.url).pathname;

Deno.test({
  name:
    "demo: predictive failover to cellular before the outage, failback after it, CLI answers meanwhile",
  // The story runs in real time (60 s, the default: failback comes at about 40 s); the daemon's timers and subprocesses outlive single awaits.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    let status: Record<string, unknown> | null = null;
    let queried: Promise<void> = Promise.resolve();
    const summary = await runDemo({
      durationS: 60,
      onReady: ({ socket }) => {
        queried = (async () => {
          await new Promise((r) => setTimeout(r, 4000));
          const out = await new Deno.Command(Deno.execPath(), {
            args: ["run", "-A", "--no-prompt", main, "status", "--json", "--socket", socket],
            stdout: "piped",
            stderr: "piped",
          }).output();
          assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
          status = JSON.parse(new TextDecoder().decode(out.stdout));
        })();
      },
    });
    await queried;
    assert.ok(status !== null);
    const st = status as { primary: string; members: { name: string; class: string }[] };
    assert.equal(st.primary, "wan_m1_w3");
    assert.deepEqual(st.members.map((m) => m.class), ["starlink", "cellular", "wifi"]);

    const [initial, away, back] = summary.switches;
    assert.equal(initial.to, "wan_m1_w3");
    assert.equal(away.to, "wwan_m2_w2");
    assert.match(away.reason, /^predictive /);
    assert.ok(
      away.at_s < summary.loss_at_s,
      `left at ${away.at_s} s, loss at ${summary.loss_at_s} s`,
    );
    assert.ok(back !== undefined, "failed back to Starlink");
    assert.equal(back.to, "wan_m1_w3");
    assert.ok(back.at_s > summary.clear_at_s);
    assert.equal(summary.switches.length, 3, "no flapping");
    assert.deepEqual(summary.mwan3_calls, ["ifup wwan", "ifup wan"]);
    // The dish's history records the outage once it is over, with its cause.
    assert.equal(summary.dish_outages.length, 1, summary.dish_outages.join("; "));
    assert.match(summary.dish_outages[0], /^dish outage OBSTRUCTED: \d+\.\d s from /);
    assert.equal(summary.metrics["wan_m1_w3"], "1");
  },
});
