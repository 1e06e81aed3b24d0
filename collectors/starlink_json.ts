/**
 * Renders decoded dish messages the way grpcurl prints them (Go protojson):
 * lowerCamelCase names, 64-bit integers as strings, enums as names (numbers
 * when this build does not know the value), zero values omitted, float32 values
 * in their shortest round-tripping form, NaN/Infinity as strings. Users can put
 * `starfail dish status --json` next to grpcurl output and compare directly.
 *
 * @module
 */

import protobuf from "protobufjs";
import { ResponseType } from "./starlink_proto.ts";

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

const LONG_TYPES = new Set(["int64", "uint64", "sint64", "fixed64", "sfixed64"]);

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

function longToString(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return value;
  return (value as { toString(): string }).toString();
}

function isZeroLong(value: unknown): boolean {
  if (typeof value === "number") return value === 0;
  if (typeof value === "string") return value === "0";
  const long = value as { low?: number; high?: number } | null;
  return long != null && long.low === 0 && long.high === 0;
}

function renderNumber(value: number, type: string): JsonValue {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return type === "float" ? shortestFloat32(value) : value;
}

function renderScalar(field: protobuf.Field, value: unknown): JsonValue {
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.resolvedType.valuesById[value as number];
    return name ?? (value as number);
  }
  if (field.resolvedType instanceof protobuf.Type) {
    return renderMessage(field.resolvedType, value as Record<string, unknown>);
  }
  if (LONG_TYPES.has(field.type)) return longToString(value);
  if (field.type === "float" || field.type === "double") {
    return renderNumber(value as number, field.type);
  }
  if (field.type === "bytes") {
    const bytes = value as Uint8Array;
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  }
  return value as JsonValue;
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (value == null) return true;
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (LONG_TYPES.has(field.type)) return isZeroLong(value);
  if (typeof value === "number") return value === 0 && !Object.is(value, -0);
  if (typeof value === "boolean") return value === false;
  if (typeof value === "string") return value === "";
  if (value instanceof Uint8Array) return value.length === 0;
  return false;
}

/**
 * Renders a decoded message (snake_case fields, as decoded by protobufjs) as a
 * grpcurl-style JSON object. Fields appear in declaration (field number) order.
 */
export function renderMessage(
  type: protobuf.Type,
  message: Record<string, unknown>,
): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (field.repeated) {
      const list = value as unknown[] | undefined;
      if (list == null || list.length === 0) continue;
      out[jsonName(field.name)] = list.map((item) => renderScalar(field, item));
      continue;
    }
    // A set oneof member is printed even when it holds a default value.
    const inOneof = field.partOf != null;
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
export function responseToJson(response: protobuf.Message): { [key: string]: JsonValue } {
  return renderMessage(ResponseType, response as unknown as Record<string, unknown>);
}
