import assert from "node:assert/strict";
import type { CommandSpec } from "./args.ts";
import { COMMANDS } from "./mod.ts";
import { callStarfail, REMOTE_OPTIONS } from "./remote.ts";

/** The commands that talk to the running daemon (the rest read files, the dish or the router). */
const DAEMON_COMMANDS = [
  "status",
  "members",
  "metrics",
  "history",
  "events",
  "failover",
  "restore",
  "recheck",
  "notify",
];

Deno.test("every command that talks to the daemon takes --url, says so in its usage and help", async () => {
  for (const name of DAEMON_COMMANDS) {
    const entry = COMMANDS.find((c) => c.name === name);
    assert.ok(entry?.load, name);
    const mod = await entry.load() as unknown as { spec: CommandSpec };
    assert.deepEqual(mod.spec.options.url, { type: "string" }, name);
    assert.match(mod.spec.usage, /--url http:\/\/HOST:PORT/, name);
    assert.match(mod.spec.optionHelp?.url ?? "", /HTTP endpoint/, name);
  }
  assert.deepEqual(REMOTE_OPTIONS.url, { type: "string" });
});

Deno.test("--url: a daemon that does not answer is exit 69 with one line naming the URL", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const url = `http://127.0.0.1:${port}`;
  await assert.rejects(
    () => callStarfail({ url, timeout: "2" }, "failover", { member: "wan" }),
    (err: Error & { code?: number }) => {
      assert.equal(err.code, 69);
      assert.match(err.message, new RegExp(`starfail daemon is not answering at ${url}`));
      return true;
    },
  );
});
