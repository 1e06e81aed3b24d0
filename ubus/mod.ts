/**
 * ubus for starfail: the blob/blobmsg codec, the wire protocol, a client, an
 * object server with schema-checked method tables, an in-process broker, and
 * the `starfail` object.
 *
 * @example
 * ```ts
 * import { UbusClient } from "./mod.ts";
 * const ubus = await UbusClient.connect();
 * console.log(await ubus.call("network.interface.wan", "status"));
 * await ubus.close();
 * ```
 *
 * @module
 */

export {
  BlobError,
  type BlobmsgInput,
  type BlobmsgNode,
  BlobmsgType,
  BlobmsgTyped,
  decodeBlobmsgFields,
  decodeBlobmsgTable,
  encodeBlobmsgField,
  encodeBlobmsgNode,
  encodeBlobmsgTable,
  type JsonObject,
  type JsonValue,
  MAX_BLOB_LEN,
} from "./blob.ts";
export {
  Attr,
  decodeMessage,
  encodeMessage,
  FrameReader,
  MalformedMessageError,
  MsgType,
  Status,
  statusText,
  UbusError,
  type UbusMessage,
} from "./protocol.ts";
export {
  DEFAULT_SOCKETS,
  type IncomingInvoke,
  type InvokeReply,
  type RequestOptions,
  resolveSocketPath,
  type UbusCaller,
  UbusClient,
  type UbusEventSource,
  type UbusObjectInfo,
} from "./client.ts";
export {
  dispatchCall,
  type ObjectServerOptions,
  type RegistrationState,
  signatureOf,
  type UbusCallContext,
  type UbusMethod,
  ubusMethod,
  type UbusMethodTable,
  UbusObjectServer,
} from "./object_server.ts";
export { type Broker, type BrokerOptions, startBroker } from "./broker.ts";
export * from "./starfail_object.ts";
export {
  ACTION_METHODS,
  apiResponse,
  type HttpClientOptions,
  httpStatusOf,
  MAX_API_BODY,
  StarfailHttpClient,
} from "./http_api.ts";
