import assert from "node:assert/strict";
import { getLogger, type LogRecord } from "./logger.ts";
import {
  formatConsoleLine,
  formatJsonLine,
  isLevelName,
  logEnabled,
  setupLogging,
  wantColor,
} from "./log.ts";

function record(
  level: LogRecord["level"],
  msg: string,
  properties: Record<string, unknown>,
): LogRecord {
  return {
    category: ["starfail", "engine"],
    level,
    message: [msg],
    rawMessage: msg,
    timestamp: Date.UTC(2026, 0, 2, 15, 4, 5, 123),
    properties,
  };
}

Deno.test("console line matches the reference monitor format", () => {
  const line = formatConsoleLine(
    record("info", "Failover triggered", { from: "starlink", to: "cellular", reason: "low_score" }),
    { color: false, timeZone: "utc" },
  );
  assert.equal(
    line,
    "[15:04:05.123] INFO  Failover triggered from=starlink to=cellular reason=low_score",
  );
});

Deno.test("console line quotes values with spaces and renders warn as WARN", () => {
  const line = formatConsoleLine(
    record("warning", "Score low", { why: "loss 12 %", score: 65.2 }),
    {
      color: false,
      timeZone: "utc",
    },
  );
  assert.equal(line, '[15:04:05.123] WARN  Score low why="loss 12 %" score=65.2');
});

Deno.test("coloured console line wraps the level in ANSI codes", () => {
  const line = formatConsoleLine(record("error", "x", {}), { color: true, timeZone: "utc" });
  assert.ok(line.endsWith("\x1b[31mERROR\x1b[0m x"), JSON.stringify(line));
});

Deno.test("JSON line has ts, level, msg and fields", () => {
  const obj = JSON.parse(formatJsonLine(record("debug", "Scores", { score: 85.2 })));
  assert.deepEqual(obj, {
    ts: "2026-01-02T15:04:05.123Z",
    level: "debug",
    category: "starfail.engine",
    msg: "Scores",
    fields: { score: 85.2 },
  });
});

Deno.test("colour is off for NO_COLOR and pipes, forced by flags", () => {
  assert.equal(wantColor("auto", true, {}), true);
  assert.equal(wantColor("auto", false, {}), false);
  assert.equal(wantColor("auto", true, { noColor: "1" }), false);
  assert.equal(wantColor(false, true, {}), false);
  assert.equal(wantColor(true, false, { noColor: "1" }), true);
});

Deno.test("level names", () => {
  assert.ok(isLevelName("warn"));
  assert.ok(!isLevelName("warning"));
});

Deno.test("file sink appends, filters by level, rotates past the cap and reopens", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/starfail.log`;
  const logs = await setupLogging({
    level: "info",
    console: "none",
    file: path,
    fileMaxBytes: 300,
    json: true,
  });
  const log = getLogger(["starfail", "test"]);
  log.debug("hidden");
  log.info("first", { n: 1 });
  logs.setLevel("debug");
  log.debug("now shown");
  let lines = (await Deno.readTextFile(path)).trim().split("\n");
  assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["first", "now shown"]);
  for (let i = 0; i < 5; i++) log.info("padding line for rotation", { i });
  const rotated = await Deno.readTextFile(`${path}.1`);
  assert.ok(rotated.length > 0);
  assert.ok((await Deno.stat(path)).size <= 300);
  // logrotate moves the file away; after reopen the daemon writes a new one.
  await Deno.rename(path, `${path}.moved`);
  logs.reopen();
  log.info("after reopen");
  lines = (await Deno.readTextFile(path)).trim().split("\n");
  assert.equal(JSON.parse(lines[0]).msg, "after reopen");
  await logs.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("logEnabled follows the running set-up and is off without one", async () => {
  assert.equal(logEnabled("error"), false);
  const logs = await setupLogging({ level: "info", console: "none" });
  assert.equal(logEnabled("debug"), false);
  assert.equal(logEnabled("warn"), true);
  logs.setLevel("trace");
  assert.equal(logEnabled("trace"), true);
  await logs.close();
  assert.equal(logEnabled("error"), false);
});
