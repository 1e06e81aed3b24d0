import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema } from "../config/schema.ts";
import { channelHosts } from "./net_hosts.ts";

Deno.test("channel hosts: only what is configured and on, with default ports", () => {
  assert.deepEqual(channelHosts(v.parse(ConfigSchema, {})), []);
  const cfg = v.parse(ConfigSchema, {
    notifications: {
      enabled: "1",
      pushover_token: "t",
      pushover_user: "u",
      webhook_url: "https://hooks.example.org/x",
    },
    mqtt: { enabled: "1", url: "mqtts://[fd00::5]" },
    http: { enabled: "1" },
  });
  assert.deepEqual(channelHosts(cfg), [
    { channel: "pushover", host: "api.pushover.net:443", use: "connect" },
    { channel: "webhook", host: "hooks.example.org:443", use: "connect" },
    { channel: "mqtt", host: "[fd00::5]:8883", use: "connect" },
    { channel: "http", host: "127.0.0.1:9101", use: "listen" },
  ]);
});
