import assert from "node:assert/strict";
import * as v from "valibot";
import { dispatchCall, REPLY_ERROR_MAX_CHARS, ubusMethod } from "./object_server.ts";
import { Status, UbusError } from "./protocol.ts";
import { quoteValue } from "../io/show_value.ts";

const TABLE = {
  metrics: ubusMethod(
    v.object({ member: v.pipe(v.string(), v.regex(/^[a-z]+$/)), limit: v.optional(v.number()) }),
    (a) => {
      throw new UbusError(Status.NOT_FOUND, `unknown member ${quoteValue(a.member)}`);
    },
  ),
};

Deno.test("a 100 KB argument never comes back whole in an error reply", async () => {
  const huge = "x".repeat(100_000);
  for (
    const [method, data] of [
      ["metrics", { member: huge + "\n\u0000" }],
      ["metrics", { member: huge }],
      [huge, {}],
    ] as const
  ) {
    const reply = await dispatchCall(TABLE, method, data);
    const error = String(reply.data?.error);
    assert.ok(error.length <= REPLY_ERROR_MAX_CHARS + 30, `${error.length} chars`);
    // deno-lint-ignore no-control-regex -- no control byte may go back to the caller
    assert.doesNotMatch(error, /[\u0000-\u001f]/);
    assert.match(error, /\(1000\d\d bytes\)/);
  }
});
