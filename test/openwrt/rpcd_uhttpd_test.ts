/**
 * The `starfail` object reached the way LuCI and remote tools reach it:
 * OpenWrt's real rpcd and uhttpd (with its ubus plugin) on the test's own
 * ubusd, `starfail` methods called through uhttpd's `/ubus` JSON-RPC with the
 * unauthenticated session (an ACL for the `unauthenticated` group grants the
 * `starfail` object). rpcd runs in a private mount namespace (`unshare -m`):
 * its compiled-in ACL folder (PREFIX/share/rpcd/acl.d), `/etc/config` and
 * `/var/run` are temp folders there, so nothing of the host changes. uhttpd
 * listens on a free loopback port.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MEMBERS } from "../../sim/router.ts";
import { haveOpenwrt, IS_ROOT, OPENWRT, requirePart, skipUnless } from "../require.ts";
import { pollUntil } from "../wait.ts";
import { startRealRouter } from "./router.ts";

const NEEDS =
  "root (for unshare -m) and OpenWrt's ubusd, rpcd, uhttpd built from ../shared/openwrt";
const HAVE = haveOpenwrt() && IS_ROOT;
/** uhttpd's session id for requests without a login (UH_UBUS_DEFAULT_SID). */
const NO_SESSION = "00000000000000000000000000000000";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts rpcd in a private mount namespace with the given ACL files; returns the process. */
async function startRpcd(
  dir: string,
  socket: string,
  acls: Record<string, unknown>,
): Promise<Deno.ChildProcess> {
  const share = `${dir}/share`;
  await Deno.mkdir(`${share}/rpcd/acl.d`, { recursive: true });
  for (const [name, acl] of Object.entries(acls)) {
    await Deno.writeTextFile(`${share}/rpcd/acl.d/${name}.json`, JSON.stringify(acl));
  }
  for (const d of ["etc_upper", "etc_work", "etc_config", "run"]) await Deno.mkdir(`${dir}/${d}`);
  // /etc/config does not exist on a desktop: an overlay of /etc (upper layer in the temp
  // dir) lets it be created in the namespace, then the temp config folder is bound there.
  const script = [
    "set -e",
    `mount --bind "${share}" "${OPENWRT.prefix}/share"`,
    `mount -t overlay overlay -o lowerdir=/etc,upperdir="${dir}/etc_upper",workdir="${dir}/etc_work" /etc`,
    "mkdir -p /etc/config",
    `mount --bind "${dir}/etc_config" /etc/config`,
    `mount --bind "${dir}/run" /var/run`,
    `exec "${OPENWRT.rpcd}" -s "${socket}"`,
  ].join("\n");
  return new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", "sh", "-c", script],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** One JSON-RPC request to uhttpd's /ubus. */
async function jsonRpc(port: number, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/ubus`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.jsonrpc, "2.0");
  return body.result ?? body.error;
}

Deno.test({
  name: "rpcd + uhttpd: starfail methods through /ubus JSON-RPC with the unauthenticated session",
  ignore: skipUnless(HAVE, NEEDS),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    requirePart(HAVE, NEEDS);
    const router = await startRealRouter();
    const daemon = await router.startDaemon();
    const dir = `${router.dir}/rpcd`;
    await Deno.mkdir(dir);
    let rpcd: Deno.ChildProcess | null = null;
    let uhttpd: Deno.ChildProcess | null = null;
    try {
      rpcd = await startRpcd(dir, router.socket, {
        "starfail-test": {
          unauthenticated: {
            description: "starfail integration test: the starfail object without a login",
            read: { ubus: { starfail: ["*"] } },
          },
        },
      });
      // rpcd is up when its session object is on the bus.
      const { UbusClient } = await import("../../ubus/client.ts");
      const client = await UbusClient.connect({ socket: router.socket, timeoutMs: 2000 });
      try {
        assert.ok(
          await pollUntil(
            () => client.lookup("session").then((o) => o.length === 1, () => false),
            5000,
            50,
          ),
          "rpcd registered 'session'",
        );
      } finally {
        await client.close();
      }
      const port = freePort();
      const www = `${dir}/www`;
      await Deno.mkdir(www);
      uhttpd = new Deno.Command(OPENWRT.uhttpd, {
        args: ["-f", "-p", `127.0.0.1:${port}`, "-h", www, "-u", "/ubus", "-U", router.socket],
        env: { LD_LIBRARY_PATH: OPENWRT.lib },
        stdout: "null",
        stderr: "null",
      }).spawn();
      assert.ok(
        await pollUntil(
          async () => {
            try {
              const c = await Deno.connect({ hostname: "127.0.0.1", port });
              c.close();
              return true;
            } catch {
              return false;
            }
          },
          5000,
          50,
        ),
        "uhttpd listening",
      );
      assert.ok(
        await pollUntil(
          async () => {
            const r = await jsonRpc(port, "call", [NO_SESSION, "starfail", "status", {}]);
            return Array.isArray(r) && r[0] === 0 &&
              (r[1] as { primary?: string }).primary === MEMBERS.starlink;
          },
          15_000,
          200,
        ),
        "status through /ubus says Starlink is primary",
      );
      const members = await jsonRpc(port, "call", [NO_SESSION, "starfail", "members", {}]);
      assert.equal((members as unknown[])[0], 0);
      assert.equal(
        (members as [number, { members: unknown[] }])[1].members.length,
        3,
      );
      const cfg = await jsonRpc(port, "call", [NO_SESSION, "starfail", "config_get", {}]);
      assert.equal(
        (cfg as [number, { config: { main: { enabled: boolean } } }])[1].config.main.enabled,
        true,
      );
      // ubus status codes come through as the first result element.
      assert.deepEqual(
        (await jsonRpc(port, "call", [NO_SESSION, "starfail", "metrics", {
          member: "lte9",
        }]) as unknown[])[0],
        4,
      );
      assert.deepEqual(
        (await jsonRpc(port, "call", [NO_SESSION, "starfail", "setlog", {
          level: "loud",
        }]) as unknown[])[0],
        2,
      );
      // The ACL is what opens it: an object the unauthenticated group lacks is refused.
      const denied = await jsonRpc(port, "call", [
        NO_SESSION,
        "network.interface.wan",
        "status",
        {},
      ]);
      assert.equal((denied as { code: number }).code, -32002, JSON.stringify(denied));
      // `list` shows the starfail signature to the session.
      const listed = await jsonRpc(port, "list", [NO_SESSION, "starfail"]);
      assert.ok(
        Object.hasOwn((listed as Record<string, unknown>).starfail as object, "failover"),
        JSON.stringify(listed),
      );
    } finally {
      for (const p of [uhttpd, rpcd]) {
        if (p === null) continue;
        try {
          p.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        await p.status;
      }
      await rpcd?.stderr.cancel().catch(() => undefined);
      await daemon.stop();
      await router.stop();
    }
  },
});
