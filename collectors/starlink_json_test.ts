import assert from "node:assert/strict";
import {
  jsonName,
  type JsonValue,
  renderMessage,
  responseToJson,
  shortestFloat32,
} from "./starlink_json.ts";
import { decodeMessage, type FieldInfo, type MessageInfo, messageOf } from "./protowire.ts";
import { decodeResponse, encodeResponse, STARLINK_SCHEMA } from "./starlink_proto.ts";

const ResponseType = messageOf(STARLINK_SCHEMA, "Response");

const REF = new URL("./testdata/starlink/", import.meta.url);

/** Which JSON sample each bin/*.bin was encoded from. */
const BIN_TO_SAMPLE: Record<string, string> = {
  "nuwins_status.bin": "get_status__NUWiNS_starlink-measurement__rev4_prod1_2024-05.json",
  "nuwins_boot.bin": "get_status__NUWiNS_starlink-measurement__BOOTING_rev4_prod1_2024-05-27.json",
  "nuwins_history.bin": "get_history__NUWiNS_starlink-measurement__rev4_prod1_2024-05.json",
  "leoviz_status.bin": "get_status__clarkzjw_LEOViz__rev3_proto2_2025.04.08.cr53207.json",
};

function isDefaultJson(field: FieldInfo, value: unknown): boolean {
  if (value === null) return true;
  if (field.kind === "message") return false;
  if (field.kind === "enum") {
    return value === 0 || STARLINK_SCHEMA.enums.get(field.ref)?.[0] === value;
  }
  return value === 0 || value === false || value === "" || value === "0";
}

/**
 * Reduces a grpcurl sample to what our renderer prints for the fields our
 * .proto models: unknown (unmodeled) keys, nulls and zero values dropped,
 * floats in float32 shortest form.
 */
function normalize(
  type: MessageInfo,
  sample: Record<string, unknown>,
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(sample)) {
    const field = type.fields.find((f) => jsonName(f.name) === key);
    if (field === undefined) continue;
    if (field.repeated) {
      const list = value as unknown[];
      if (list.length === 0) continue;
      out[key] = list.map((item) => normalizeValue(field, item));
      continue;
    }
    if (field.oneof === undefined && isDefaultJson(field, value)) continue;
    out[key] = normalizeValue(field, value);
  }
  return out;
}

function normalizeValue(field: FieldInfo, value: unknown): JsonValue {
  if (field.kind === "message") {
    return normalize(messageOf(STARLINK_SCHEMA, field.ref), value as Record<string, unknown>);
  }
  if (field.kind === "float" && typeof value === "number") return shortestFloat32(value);
  return value as JsonValue;
}

Deno.test("every reference bin decodes to its grpcurl JSON sample (modelled fields)", () => {
  const bins = [...Deno.readDirSync(new URL("bin/", REF))].map((e) => e.name).sort();
  assert.ok(bins.length >= 4, "the reference bin/ folder holds the captures");
  for (const bin of bins) {
    const sampleName = BIN_TO_SAMPLE[bin];
    assert.ok(sampleName, `${bin} has a matching JSON sample in the table`);
    const bytes = Deno.readFileSync(new URL(`bin/${bin}`, REF));
    const ours = responseToJson(decodeResponse(bytes));
    const sample = JSON.parse(Deno.readTextFileSync(new URL(`samples/${sampleName}`, REF)));
    const expected = normalize(ResponseType, sample);
    assert.deepEqual(ours, expected, `${bin} vs ${sampleName}`);
  }
});

Deno.test("the NUWiNS status capture shows the fields the collector maps", () => {
  const bytes = Deno.readFileSync(new URL("bin/nuwins_status.bin", REF));
  const json = responseToJson(decodeResponse(bytes));
  const status = json.dishGetStatus as Record<string, JsonValue>;
  assert.equal(json.apiVersion, "17");
  assert.equal(status.popPingLatencyMs, 26.808062);
  assert.deepEqual(status.alerts, { roaming: true, isHeating: true });
  assert.equal(
    (status.obstructionStats as Record<string, JsonValue>).fractionObstructed,
    0.13378248,
  );
  assert.equal((status.deviceState as Record<string, JsonValue>).uptimeS, "6328");
});

Deno.test("the BOOTING capture keeps -1 sentinels, NaN and the outage", () => {
  const bytes = Deno.readFileSync(new URL("bin/nuwins_boot.bin", REF));
  const status = responseToJson(decodeResponse(bytes)).dishGetStatus as Record<string, JsonValue>;
  assert.equal(status.popPingLatencyMs, -1);
  assert.equal(status.secondsToFirstNonemptySlot, -1);
  assert.deepEqual(status.outage, { cause: "BOOTING", startTimestampNs: "-1" });
  assert.equal(
    (status.obstructionStats as Record<string, JsonValue>).avgProlongedObstructionIntervalS,
    "NaN",
  );
});

Deno.test("jsonName follows the proto3 lowerCamelCase rule", () => {
  assert.equal(jsonName("slow_ethernet_speeds_100"), "slowEthernetSpeeds100");
  assert.equal(jsonName("l1l2"), "l1l2");
  assert.equal(jsonName("pop_ping_drop_rate"), "popPingDropRate");
});

Deno.test("shortestFloat32 prints the fewest digits that read back as the same float32", () => {
  assert.equal(shortestFloat32(Math.fround(26.808062)), 26.808062);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(Math.fround(2.565063e-6)), 2.565063e-6);
  assert.equal(shortestFloat32(0), 0);
});

Deno.test("an enum value unknown to this build renders as its number", () => {
  const outage = messageOf(STARLINK_SCHEMA, "DishOutage");
  const message = decodeMessage(STARLINK_SCHEMA, "DishOutage", new Uint8Array([0x08, 0x0f])); // cause = 15
  assert.deepEqual(renderMessage(outage, message), { cause: 15 });
});

Deno.test("64-bit integers render as strings and zero values are omitted", () => {
  const bytes = encodeResponse({
    dish_get_history: {
      outages: [{ start_timestamp_ns: "1399245304801994822", duration_ns: "0" }],
    },
  });
  const history = responseToJson(decodeResponse(bytes)).dishGetHistory as Record<string, JsonValue>;
  assert.deepEqual(history.outages, [{ startTimestampNs: "1399245304801994822" }]);
});
