import assert from "node:assert/strict";
import { getLogger, type LogRecord, parseMessage, setLogSink } from "./logger.ts";

Deno.test("placeholders are filled from the properties; unknown ones and escaped braces stay text", () => {
  assert.deepEqual(parseMessage("plain", {}), ["plain"]);
  assert.deepEqual(parseMessage("Failover to {to} now", { to: "cell" }), [
    "Failover to ",
    "cell",
    " now",
  ]);
  assert.deepEqual(parseMessage("{a}{b}", { a: 1, b: 2 }), ["", 1, "", 2, ""]);
  assert.deepEqual(parseMessage("json {{x}} and {missing}", {}), ["json {x} and {missing}"]);
  assert.deepEqual(parseMessage("{toString}", {}), ["{toString}"]);
});

Deno.test("records reach the installed sink with category, level and properties; none without a sink", () => {
  const seen: LogRecord[] = [];
  const previous = setLogSink((r) => seen.push(r));
  try {
    const log = getLogger(["starfail", "t"]);
    log.info("Dish at {host}", { host: "192.168.100.1", port: 9200 });
    log.warn("careful");
    getLogger("other").error("boom");
    assert.deepEqual(seen.map((r) => [r.category.join("."), r.level, r.message.join("")]), [
      ["starfail.t", "info", "Dish at 192.168.100.1"],
      ["starfail.t", "warning", "careful"],
      ["other", "error", "boom"],
    ]);
    assert.deepEqual(seen[0].properties, { host: "192.168.100.1", port: 9200 });
    assert.equal(seen[0].rawMessage, "Dish at {host}");
    setLogSink(null);
    log.info("dropped");
    assert.equal(seen.length, 3);
  } finally {
    setLogSink(previous);
  }
});

Deno.test("a throwing sink never reaches the caller", () => {
  const previous = setLogSink(() => {
    throw new Error("disk full");
  });
  try {
    getLogger(["starfail"]).error("still fine");
  } finally {
    setLogSink(previous);
  }
});
