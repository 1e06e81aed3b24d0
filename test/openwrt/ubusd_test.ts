import assert from "node:assert/strict";
import { haveOpenwrt, requirePart, skipUnless } from "../require.ts";
import { startUbusd, ubusCli } from "./ubusd.ts";
import { UbusClient } from "../../ubus/client.ts";

const NEEDS = "OpenWrt's ubusd and ubus built from ../shared/openwrt";

Deno.test({
  name: "real ubusd: the real ubus CLI and our client both talk to it",
  ignore: skipUnless(haveOpenwrt(), NEEDS),
  async fn() {
    requirePart(haveOpenwrt(), NEEDS);
    const dir = await Deno.makeTempDir({ prefix: "starfail_ubusd_" });
    const ubusd = await startUbusd(`${dir}/ubus.sock`);
    try {
      const list = await ubusCli(ubusd.socket, ["list"]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, "", "a fresh ubusd lists no objects");
      const missing = await ubusCli(ubusd.socket, ["call", "nosuch", "status"]);
      assert.equal(missing.code, 4, "UBUS_STATUS_NOT_FOUND");
      assert.match(missing.stderr, /Not found/);
      const client = await UbusClient.connect({ socket: ubusd.socket, timeoutMs: 2000 });
      try {
        assert.deepEqual(await client.lookup(), []);
      } finally {
        await client.close();
      }
    } finally {
      await ubusd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
