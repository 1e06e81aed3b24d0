/**
 * What may import what: product code never reaches `sim/` or `test/`, the
 * daemon's and `status`'s module graphs hold no simulator, and no file outside
 * `test/` imports from `test/`. The graphs come from `deno info --json`, the
 * same resolver `deno compile` uses; dynamic `import()` edges are not followed
 * for the "loaded at start" graphs (they load only when the demo or a bench runs).
 * The daemon (main.ts, cli/daemon.ts and the lazily loaded dish collector)
 * must not load the CommonJS gRPC stack either (issue 17).
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const DENO = Deno.execPath();

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
}

/** Every local module the entry loads before it runs (static imports only). */
async function staticGraph(entry: string): Promise<string[]> {
  return (await staticSpecifiers(entry))
    .filter((s) => s.startsWith(ROOT.href))
    .map((s) => s.slice(ROOT.href.length));
}

/**
 * Every specifier the entry loads before it runs (static imports only): local
 * files, npm packages as `node_modules/…` files, and `node:` built-ins.
 */
async function staticSpecifiers(entry: string): Promise<string[]> {
  const out = await new Deno.Command(DENO, {
    args: ["info", "--json", entry],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpec = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const spec = todo.pop()!;
    if (seen.has(spec)) continue;
    seen.add(spec);
    for (const dep of bySpec.get(spec)?.dependencies ?? []) {
      if (dep.isDynamic === true || dep.code === undefined) continue;
      todo.push(dep.code.specifier);
    }
  }
  return [...seen];
}

for (const entry of ["main.ts", "cli/daemon.ts", "cli/status.ts", "mod.ts"]) {
  Deno.test(`${entry} loads no simulator and no test code at start`, async () => {
    const graph = await staticGraph(entry);
    assert.ok(graph.length > 1, `deno info found no modules under ${entry}`);
    const bad = graph.filter((p) => p.startsWith("sim/") || p.startsWith("test/"));
    assert.deepEqual(bad, [], `${entry} statically imports ${bad.join(", ")}`);
  });
}

/**
 * What the dish transport must not load (issue 17): each CommonJS/node-compat
 * module costs the daemon ~10 MiB of RSS, and the dish is reached with Deno's
 * own fetch over HTTP/2.
 */
const DAEMON_FORBIDDEN: { name: string; matches: (specifier: string) => boolean }[] = [
  {
    name: "@grpc/grpc-js",
    matches: (s) => s.includes("/node_modules/@grpc/grpc-js/") || s.startsWith("npm:@grpc/grpc-js"),
  },
  { name: "node:http2", matches: (s) => s === "node:http2" },
  { name: "node:buffer", matches: (s) => s === "node:buffer" },
  {
    name: "protobufjs",
    matches: (s) => s.includes("/node_modules/protobufjs/") || s.startsWith("npm:protobufjs"),
  },
];

Deno.test("the daemon's graph (main.ts, cli/daemon.ts, the lazily loaded dish collector) holds no grpc-js, node:http2, node:buffer or protobufjs", async () => {
  const found = new Set<string>();
  for (const entry of ["main.ts", "cli/daemon.ts", "collectors/starlink.ts"]) {
    const specifiers = await staticSpecifiers(entry);
    assert.ok(specifiers.length > 1, `deno info found no modules under ${entry}`);
    for (const s of specifiers) {
      for (const f of DAEMON_FORBIDDEN) {
        if (f.matches(s)) found.add(`${entry} loads ${f.name} (${s})`);
      }
    }
  }
  assert.deepEqual([...found], []);
});

Deno.test("cli/demo.ts reaches sim/ only through a dynamic import", async () => {
  const graph = await staticGraph("cli/demo.ts");
  assert.deepEqual(graph.filter((p) => p.startsWith("sim/")), []);
  const demo = await Deno.readTextFile(new URL("daemon/demo.ts", ROOT));
  assert.match(demo, /await import\("\.\.\/sim\//);
});

/** Every .ts file of the project outside node_modules. */
async function* sourceFiles(dir: URL, rel = ""): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".") || e.name === "node_modules" || e.name === "dist") continue;
    const path = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory) yield* sourceFiles(new URL(`${e.name}/`, dir), path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

Deno.test("no file outside test/ imports from test/, and product code never imports sim/ statically", async () => {
  const offenders: string[] = [];
  const importRe =
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)|(?:^|\n)\s*import\s+"([^"]+)"/g;
  for await (const path of sourceFiles(ROOT)) {
    if (path.startsWith("test/")) continue;
    const text = await Deno.readTextFile(new URL(path, ROOT));
    const isTest = path.endsWith("_test.ts");
    const product = !isTest && !path.startsWith("sim/") && !path.startsWith("scripts/");
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith(".")) continue;
      const target = new URL(spec, new URL(path, ROOT)).href.slice(ROOT.href.length);
      if (target.startsWith("test/")) offenders.push(`${path} imports ${target}`);
      const dynamic = m[2] !== undefined;
      if (product && !dynamic && target.startsWith("sim/") && !m[0].includes("import type")) {
        offenders.push(`${path} statically imports ${target}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
