/**
 * The remote router from `config starfail 'remote'`: the password file is
 * read (and a world-readable one warned about), the session built, and the
 * net hosts the section needs listed for the permission-scoped binary.
 *
 * @module
 */

import type { RemoteConfig } from "../config/schema.ts";
import { denialsOf, remoteFileNeeds, remoteNetNeeds } from "../config/sandbox.ts";
import { RemoteRouter } from "./remote.ts";
import { RemoteAuthError, RpcSession } from "./rpc_session.ts";

/**
 * The `host:port` entries remote mode must reach (Deno's `--allow-net`
 * form); empty when remote mode is off. The hosts come from
 * `remoteNetNeeds` in config/sandbox.ts, part of the one list `netNeeds`.
 *
 * @example
 * ```ts
 * remoteNetHosts({ url: "http://192.168.1.1/ubus" } as RemoteConfig); // ["192.168.1.1:80"]
 * ```
 */
export function remoteNetHosts(remote: Pick<RemoteConfig, "url">): string[] {
  return remoteNetNeeds({ ...remote, password_file: "" } as RemoteConfig).map((n) => n.host);
}

/** The sandbox (Deno's permissions) does not let starfail reach the router. */
export class RemotePermissionError extends Error {
  /** Creates the one-line error. */
  constructor(message: string) {
    super(message);
    this.name = "RemotePermissionError";
  }
}

/**
 * Checks with `Deno.permissions.query` that the router's host may be reached
 * and its password file read; throws {@linkcode RemotePermissionError} with
 * the same line(s) `checkSandbox` gives (a permission the sandbox denies is
 * named as such, never "not reachable"; the CLI exits 77).
 */
export function checkRemotePermission(remote: RemoteConfig): Promise<void> {
  const denied = denialsOf(remoteNetNeeds(remote), remoteFileNeeds(remote));
  if (denied.length > 0) {
    return Promise.reject(new RemotePermissionError(denied.map((d) => d.line).join("; ")));
  }
  return Promise.resolve();
}

/** What {@linkcode readPasswordFile} found. */
export interface PasswordRead {
  /** The password (first line, without the line end). */
  password: string;
  /** A warning when other users may read the file, else null. */
  warning: string | null;
}

/**
 * Reads the password file: its first line is the password. Throws one-line
 * errors naming the file and the fix; warns when the file is readable by
 * every user.
 */
export async function readPasswordFile(path: string): Promise<PasswordRead> {
  let text: string;
  let mode: number | null = null;
  try {
    mode = (await Deno.stat(path)).mode;
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new RemoteAuthError(
        `remote.password_file ${path} does not exist; write the rpcd login's password there (chmod 600)`,
      );
    }
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new RemoteAuthError(
        `remote.password_file ${path} cannot be read: ${
          err instanceof Deno.errors.NotCapable
            ? "the sandbox does not allow reading it"
            : "permission denied"
        }`,
      );
    }
    throw err;
  }
  const password = text.split(/\r?\n/)[0];
  if (password === "") {
    throw new RemoteAuthError(
      `remote.password_file ${path} is empty; its first line must be the password`,
    );
  }
  const warning = mode !== null && (mode & 0o004) !== 0
    ? `remote.password_file ${path} is readable by every user (mode ${
      (mode & 0o777).toString(8)
    }); make it private: chmod 600 ${path}`
    : null;
  return { password, warning };
}

/**
 * Builds the remote router of a `remote` section (not logged in yet; call
 * `router.session.login()` to check the credentials at startup). Throws
 * {@linkcode RemotePermissionError} when the sandbox denies the router's
 * host, `RemoteAuthError` when the password file is missing or empty.
 */
export async function openRemoteRouter(
  remote: RemoteConfig,
  onWarning: (line: string) => void,
): Promise<RemoteRouter> {
  await checkRemotePermission(remote);
  const { password, warning } = await readPasswordFile(remote.password_file);
  if (warning !== null) onWarning(warning);
  const session = new RpcSession({
    url: remote.url,
    username: remote.username,
    password,
    timeoutMs: remote.timeout_ms,
  });
  return new RemoteRouter({ session, eventPollMs: remote.event_poll_ms });
}
