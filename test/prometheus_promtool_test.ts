import assert from "node:assert/strict";
import { prometheusText } from "../telemetry/prometheus.ts";
import { LiveState } from "../telemetry/live.ts";
import type { MemberStatus, StatusResult } from "../ubus/starfail_object.ts";
import { requirePart, skipUnless, which } from "./require.ts";

const PROMTOOL = which("promtool");

function member(name: string, primary: boolean): MemberStatus {
  return {
    name,
    class: "starlink",
    iface: name,
    weight: 100,
    state: "up",
    since: 0,
    reason: "probes answer",
    eligible: true,
    primary,
    score: {
      instant: 90,
      ewma: 88.5,
      window: 87,
      final: 88,
      explanation: [],
      penalties: { metered: 0, roaming: 0 },
      member_weight: 1,
    },
    metrics: { at: 1, latency_ms: 42, loss_pct: 5 },
    risks: [],
  };
}

Deno.test({
  name: "prometheus: the dish families and odd label values pass the real promtool",
  ignore: skipUnless(PROMTOOL !== null, "promtool (Debian package prometheus)"),
  async fn() {
    requirePart(PROMTOOL !== null, "promtool");
    const live = new LiveState();
    live.sample({
      t: 1,
      member: 'wan "sl"\\x',
      currently_obstructed: true,
      obstruction_pct: 1.5,
      alerts: ["thermal_throttle", "motors_stuck"],
      swupdate_reboot_ready: true,
    });
    live.countSwitch("hard");
    live.countSend("pushover", true);
    const status: StatusResult = {
      version: "0.1.0",
      uptime_s: 5,
      primary: "wan",
      primary_since: 0,
      why: "best",
      override: null,
      cooldown_left_s: 0,
      ride_through: null,
      dry_run: true,
      members: [member('wan "sl"\\x', true), member("lte\nx", false)],
      decisions: [],
      collectors: [{
        name: "starlink",
        member: null,
        ok: false,
        last_ok: null,
        last_error: "x",
        failures: 2,
      }],
    };
    const text = prometheusText({
      status,
      switches: live.switches(),
      dish: live.dish,
      sends: live.sends(),
    });
    const child = new Deno.Command(PROMTOOL!, {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10000),
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    const r = await child.output();
    const dec = new TextDecoder();
    assert.equal(r.code, 0, dec.decode(r.stdout) + dec.decode(r.stderr));
    assert.match(text, /^starfail_member_latency_seconds\{member="wan \\"sl\\"\\\\x"\} 0\.042$/m);
    assert.match(text, /^starfail_member_loss_ratio\{member="lte\\nx"\} 0\.05$/m);
    assert.match(text, /^starfail_dish_state\{member="wan \\"sl\\"\\\\x",state="obstructed"\} 1$/m);
    assert.match(text, /^starfail_dish_obstruction_ratio\{member="[^}]*"\} 0\.015$/m);
    assert.match(text, /^starfail_dish_update_pending\{[^}]*\} 1$/m);
    assert.match(text, /^starfail_dish_alert\{member="[^}]*",alert="motors_stuck"\} 1$/m);
    assert.match(text, /^starfail_switches_total\{kind="hard"\} 1$/m);
  },
});
