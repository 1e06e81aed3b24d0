import assert from "node:assert/strict";
import { byteLength, escapeText, oneLine, quoteValue, showValue } from "./show_value.ts";

Deno.test("showValue escapes control bytes, NUL, DEL, C1, separators and backslashes", () => {
  assert.equal(
    showValue("a\u0000b\nc\td\re\u007f\u0085\u2028\u202e\\"),
    "a\\x00b\\nc\\td\\re\\x7f\\x85\\u2028\\u202e\\\\",
  );
  assert.equal(showValue("plain text é ✓"), "plain text é ✓");
});

Deno.test("showValue escapes a lone surrogate but keeps a pair", () => {
  assert.equal(escapeText("x\ud800y"), "x\\ud800y");
  assert.equal(escapeText("😀"), "😀");
});

Deno.test("showValue cuts a 3 MB value to a short line with its byte count", () => {
  const shown = showValue("x".repeat(3_000_000));
  assert.ok(shown.length < 100, shown);
  assert.match(shown, /\.\.\. \(3000000 bytes\)$/);
});

Deno.test("showValue never leaves half an escape at the cut", () => {
  for (let i = 0; i < 10; i++) {
    const shown = showValue("a".repeat(i) + "\u0001".repeat(40), 20);
    assert.doesNotMatch(shown.replace(/\.\.\. \(\d+ bytes\)$/, ""), /\\(x[0-9a-f]?)?$/);
  }
});

Deno.test("quoteValue and oneLine are printable single lines", () => {
  assert.equal(quoteValue("a\nb"), "'a\\nb'");
  const line = oneLine("e\n".repeat(10_000));
  assert.ok(!line.includes("\n") && line.length < 600);
  assert.equal(byteLength("é"), 2);
  assert.equal(oneLine("value 'a\\x00b'\n"), "value 'a\\x00b'\\n");
});
