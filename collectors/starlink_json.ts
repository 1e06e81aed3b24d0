/**
 * Renders decoded dish messages the way grpcurl prints them (Go protojson):
 * lowerCamelCase names, 64-bit integers as strings, enums as names (numbers
 * when this build does not know the value), zero values omitted, float32 values
 * in their shortest round-tripping form, NaN/Infinity as strings. Users can put
 * `starfail dish status --json` next to grpcurl output and compare directly.
 *
 * @module
 */

import { type FieldInfo, isDefaultValue, type MessageInfo, messageOf } from "./protowire.ts";
import { type DishMessage, STARLINK_SCHEMA } from "./starlink_proto.ts";

/** A JSON value as produced by the renderer. */
export type JsonValue = string | number | boolean | null | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * The proto3 JSON name of a snake_case field name (`slow_ethernet_speeds_100`
 * → `slowEthernetSpeeds100`).
 */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Formats a float32 value with the fewest digits that read back as the same float32. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const target = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return target;
}

function renderNumber(value: number, kind: string): JsonValue {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return kind === "float" ? shortestFloat32(value) : value;
}

function renderScalar(field: FieldInfo, value: unknown): JsonValue {
  switch (field.kind) {
    case "enum":
      return STARLINK_SCHEMA.enums.get(field.ref)?.[value as number] ?? (value as number);
    case "message":
      return renderMessage(messageOf(STARLINK_SCHEMA, field.ref), value as DishMessage);
    case "int64":
    case "uint64":
      return String(value);
    case "float":
    case "double":
      return renderNumber(value as number, field.kind);
    case "bytes": {
      let text = "";
      for (const b of value as Uint8Array) text += String.fromCharCode(b);
      return btoa(text);
    }
    default:
      return value as JsonValue;
  }
}

function isDefault(field: FieldInfo, value: unknown): boolean {
  if (value == null) return true;
  return field.kind !== "message" && isDefaultValue(field, value);
}

/**
 * Renders a decoded message (snake_case fields, as `protowire.ts` decodes them)
 * as a grpcurl-style JSON object. Fields appear in field-number order.
 */
export function renderMessage(
  info: MessageInfo,
  message: DishMessage,
): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const field of info.fields) {
    const value = message[field.name];
    if (field.repeated) {
      const list = value as unknown[] | undefined;
      if (list == null || list.length === 0) continue;
      out[jsonName(field.name)] = list.map((item) => renderScalar(field, item));
      continue;
    }
    // A set oneof member is printed even when it holds a default value.
    const inOneof = field.oneof !== undefined;
    if (inOneof ? value == null : isDefault(field, value)) continue;
    out[jsonName(field.name)] = renderScalar(field, value);
  }
  return out;
}

/**
 * Renders a decoded `SpaceX.API.Device.Response` as grpcurl prints it.
 *
 * @example
 * ```ts
 * import { decodeResponse } from "./starlink_proto.ts";
 * const bytes = Deno.readFileSync("status.bin");
 * console.log(JSON.stringify(responseToJson(decodeResponse(bytes)), null, 2));
 * ```
 */
export function responseToJson(response: DishMessage): { [key: string]: JsonValue } {
  return renderMessage(messageOf(STARLINK_SCHEMA, "Response"), response);
}
