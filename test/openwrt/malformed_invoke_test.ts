/**
 * Raw malformed INVOKE frames through a REAL ubusd to an object this client
 * hosts (issue 18): each gets an INVALID_ARGUMENT reply within 1 s — the reply
 * carries the object id, so ubusd routes it instead of dropping it and leaving
 * the caller to its own 30 s timeout — and the object still answers after.
 */

import assert from "node:assert/strict";
import { UbusClient } from "../../ubus/client.ts";
import { MsgType, Status } from "../../ubus/protocol.ts";
import { haveOpenwrt, requirePart, skipUnless } from "../require.ts";
import { startUbusd } from "./ubusd.ts";
import { BAD_DATA, invokeFrame, RawClient } from "./raw_ubus.ts";

Deno.test({
  name: "malformed INVOKEs through a real ubusd get INVALID_ARGUMENT within 1 s",
  ignore: skipUnless(haveOpenwrt(), "OpenWrt's ubusd"),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(haveOpenwrt(), "OpenWrt's ubusd");
    const dir = await Deno.makeTempDir({ prefix: `starfail_malformed_${Deno.pid}_` });
    const ubusd = await startUbusd(`${dir}/ubus.sock`);
    const host = await UbusClient.connect({ socket: ubusd.socket });
    const raw = await RawClient.connect(ubusd.socket);
    try {
      const { id } = await host.addObject(
        "starfail_fuzz",
        { status: {} },
        () => Promise.resolve({ status: Status.OK, data: { ok: true } }),
      );
      let seq = 100;
      const times: number[] = [];
      for (const [name, data] of Object.entries(BAD_DATA)) {
        const mySeq = ++seq;
        const started = performance.now();
        await raw.send(invokeFrame(mySeq, id, data));
        let reply = await raw.next(1000);
        while (reply !== null && reply.type !== MsgType.STATUS) reply = await raw.next(1000);
        const ms = performance.now() - started;
        assert.ok(reply !== null, `${name}: no reply within 1 s`);
        assert.equal(reply.seq, mySeq, name);
        assert.equal(
          reply.attrs.status,
          Status.INVALID_ARGUMENT,
          `${name}: ${JSON.stringify(reply.attrs)}`,
        );
        assert.ok(ms < 1000, `${name}: ${ms} ms`);
        times.push(ms);
      }
      // The object still serves well-formed calls.
      const caller = await UbusClient.connect({ socket: ubusd.socket });
      try {
        assert.deepEqual(await caller.call("starfail_fuzz", "status", {}), { ok: true });
      } finally {
        await caller.close();
      }
      console.log(
        `malformed INVOKE replies: ${times.length} frames, slowest ${
          Math.max(...times).toFixed(1)
        } ms`,
      );
    } finally {
      raw.close();
      await host.close();
      await ubusd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
