import assert from "node:assert/strict";
import fc from "fast-check";
import net from "node:net";
import { isIP, isIPv4, isIPv6 } from "./ip_address.ts";

const CASES = [
  "0.0.0.0",
  "255.255.255.255",
  "256.1.1.1",
  "01.2.3.4",
  "1.2.3",
  "1.2.3.4.5",
  "1.2.3.4 ",
  "",
  "::",
  "::1",
  "1::",
  "fe80::1%eth0",
  "fe80::1%",
  "fe80::1%eth 0",
  "::ffff:192.0.2.1",
  "::ffff:192.0.2.256",
  "1:2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7::",
  "1:2:3:4:5:6::7:8",
  "1::2::3",
  "12345::",
  "1:2:3:4:5:6:1.2.3.4",
  "1:2:3:4:5:6:7:1.2.3.4",
  ":1:2:3:4:5:6:7",
  "1:2:3:4:5:6:7:",
  "g::1",
  "[::1]",
  "2001:db8::",
  "::1.2.3.4",
  "1.2.3.4::",
  "a:b:c:d:e:f:0:1",
];

Deno.test("isIP agrees with node:net on crafted addresses", () => {
  for (const text of CASES) {
    assert.equal(isIP(text), net.isIP(text), JSON.stringify(text));
    assert.equal(isIPv4(text), net.isIPv4(text), JSON.stringify(text));
    assert.equal(isIPv6(text), net.isIPv6(text), JSON.stringify(text));
  }
});

Deno.test("isIP agrees with node:net on random addresses and near-addresses", () => {
  const group = fc.stringMatching(/^[0-9a-fA-F]{0,5}$/);
  const v6 = fc.array(group, { minLength: 1, maxLength: 10 }).map((g) => g.join(":"));
  const v4 = fc.array(fc.nat({ max: 300 }), { minLength: 3, maxLength: 5 }).map((n) => n.join("."));
  const mixed = fc.tuple(v6, v4).map(([a, b]) => `${a}:${b}`);
  const zoned = fc.tuple(v6, fc.stringMatching(/^[a-z0-9.:%-]{0,4}$/)).map(([a, z]) => `${a}%${z}`);
  fc.assert(
    fc.property(fc.oneof(v6, v4, mixed, zoned, fc.string({ maxLength: 12 })), (text) => {
      assert.equal(isIP(text), net.isIP(text), JSON.stringify(text));
    }),
    { numRuns: 5000, seed: 17 },
  );
});
