import assert from "node:assert/strict";
import { formatTrace, parseTrace, TraceError } from "./trace.ts";
import { readTraceFile, TraceFileError } from "./trace_file.ts";

const HEADER =
  '{"starfail_trace":1,"members":[{"name":"starlink","class":"starlink","weight":100},' +
  '{"name":"cell","class":"cellular","weight":80,"metered":true}]}';

function errorLine(text: string): { line: number; message: string } {
  try {
    parseTrace(text);
  } catch (err) {
    assert.ok(err instanceof TraceError);
    return { line: err.line, message: err.message };
  }
  throw new Error("expected a TraceError");
}

Deno.test("parses a header and observations, skipping blank lines", () => {
  const t = parseTrace(
    `${HEADER}\n{"t":0,"member":"starlink","latency_ms":41.2,"loss_pct":0}\n\n` +
      `{"t":1.5,"member":"cell","rsrp_dbm":-95,"roaming":false,"alerts":[]}\n`,
  );
  assert.equal(t.members.length, 2);
  assert.equal(t.members[1].metered, true);
  assert.deepEqual(t.observations[1], {
    t: 1.5,
    member: "cell",
    rsrp_dbm: -95,
    roaming: false,
    alerts: [],
  });
});

Deno.test("formatTrace and parseTrace round-trip", () => {
  const t = parseTrace(`${HEADER}\n{"t":0,"member":"starlink","outage_cause":"NO_SCHEDULE"}\n`);
  assert.deepEqual(parseTrace(formatTrace(t)), t);
});

Deno.test("bad input names the line and the problem", () => {
  assert.deepEqual(errorLine(""), {
    line: 1,
    message: "line 1: the trace is empty; expected a header line",
  });
  assert.match(errorLine('{"members":[]}').message, /^line 1: expected the header/);
  assert.match(
    errorLine('{"starfail_trace":1,"members":[{"name":"x","class":"satellite","weight":1}]}')
      .message,
    /^line 1: members\[0\]\.class 'satellite' must be one of starlink, cellular/,
  );
  assert.deepEqual(errorLine(`${HEADER}\n{"t":0,"member":"starlink"}\n{"t":1,`).line, 3);
  assert.match(
    errorLine(`${HEADER}\n{"t":1,"member":"dsl"}`).message,
    /^line 2: "member" 'dsl' is not in the header/,
  );
  assert.match(errorLine(`${HEADER}\n{"t":-1,"member":"cell"}`).message, /^line 2: "t" must be/);
  assert.match(
    errorLine(`${HEADER}\n{"t":5,"member":"cell"}\n{"t":4,"member":"cell"}`).message,
    /^line 3: "t" 4 is earlier than the previous line's 5/,
  );
  assert.match(
    errorLine(`${HEADER}\n{"t":1,"member":"cell","latency":3}`).message,
    /^line 2: unknown field 'latency'/,
  );
  assert.match(
    errorLine(`${HEADER}\n{"t":1,"member":"cell","loss_pct":101}`).message,
    /loss_pct" must be from 0 to 100/,
  );
  assert.match(
    errorLine(`${HEADER}\n{"t":1,"member":"cell","link_up":"yes"}`).message,
    /"link_up" must be true or false/,
  );
  assert.match(errorLine(`${HEADER}\n[1,2]`).message, /^line 2: expected a JSON object/);
  assert.match(
    errorLine(`${HEADER}\n{"t":1,"member":"cell","sent_unix_s":"12:00"}`).message,
    /^line 2: "sent_unix_s" must be a finite number/,
  );
});

Deno.test("readTraceFile reports a missing file and bad content with the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readTraceFile(`${dir}/none.jsonl`), (e: unknown) => {
      return e instanceof TraceFileError && e.kind === "missing" &&
        e.message.includes("none.jsonl");
    });
    await Deno.writeTextFile(`${dir}/bad.jsonl`, `${HEADER}\nnot json\n`);
    await assert.rejects(readTraceFile(`${dir}/bad.jsonl`), (e: unknown) => {
      return e instanceof TraceFileError && e.kind === "invalid" &&
        /bad\.jsonl: line 2: not valid JSON/.test(e.message);
    });
    await Deno.writeTextFile(`${dir}/ok.jsonl`, `${HEADER}\n{"t":0,"member":"cell"}\n`);
    assert.equal((await readTraceFile(`${dir}/ok.jsonl`)).observations.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
