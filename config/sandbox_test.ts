import assert from "node:assert/strict";
import { parseConfigText } from "./load.ts";
import {
  checkSandbox,
  fileNeeds,
  mqttHost,
  netNeeds,
  remoteNetNeeds,
  sandboxMessage,
  urlHost,
} from "./sandbox.ts";

Deno.test("netNeeds: dish, Pushover, webhook and TCP/DNS probe targets, in config order", () => {
  const { config } = parseConfigText(
    `config starfail 'starlink'
\toption host '192.168.100.1'
config starfail 'notifications'
\toption enabled '1'
\toption pushover_token 'abc'
\toption pushover_user 'def'
\toption webhook_url 'https://hooks.example.net:8443/x'
config member 'wan'
\toption probe_method 'tcp'
\tlist probe_target '1.1.1.1'
\tlist probe_target '[2606:4700::1111]:80'
config member 'lte'
\toption probe_method 'dns'
\tlist probe_target '8.8.8.8'
config member 'wifi'
\tlist probe_target '9.9.9.9'
`,
    "f",
  );
  assert.deepEqual(netNeeds(config), [
    { host: "192.168.100.1:9200", option: "starlink.port" },
    { host: "192.168.100.1:9201", option: "starlink.grpc_web_port" },
    { host: "api.pushover.net:443", option: "notifications.pushover_token" },
    { host: "hooks.example.net:8443", option: "notifications.webhook_url" },
    { host: "1.1.1.1:443", option: "wan.probe_target" },
    { host: "[2606:4700::1111]:80", option: "wan.probe_target" },
    { host: "8.8.8.8:53", option: "lte.probe_target" },
  ]);
  assert.equal(urlHost("http://x.example/"), "x.example:80");
  assert.equal(urlHost("ftp://x"), null);
  // Under -A (this test) everything is granted: nothing to report.
  assert.deepEqual(checkSandbox(config, "/var/run/ubus/ubus.sock"), []);
});

Deno.test("netNeeds: the MQTT broker, the HTTP listen address and the remote router join the one list", () => {
  const { config } = parseConfigText(
    `config starfail 'starlink'
\toption enabled '0'
config starfail 'notifications'
\toption enabled '1'
\toption pushover_token 't'
\toption pushover_user 'u'
\toption pushover_url 'http://127.0.0.1:8099/1/messages.json'
\toption webhook_url 'https://hooks.example.org/x'
config starfail 'mqtt'
\toption enabled '1'
\toption url 'mqtts://[fd00::5]'
\toption password_file '/etc/starfail/mqtt.pass'
config starfail 'http'
\toption enabled '1'
\toption listen '0.0.0.0:9101'
config starfail 'remote'
\toption url 'https://router.lan/ubus'
\toption username 'starfail'
\toption password_file '/root/router.pass'
config starfail 'hook'
\toption path '/opt/hooks/starfail'
`,
    "f",
  );
  assert.deepEqual(netNeeds(config), [
    { host: "127.0.0.1:8099", option: "notifications.pushover_url" },
    { host: "hooks.example.org:443", option: "notifications.webhook_url" },
    { host: "[fd00::5]:8883", option: "mqtt.url" },
    { host: "0.0.0.0:9101", option: "http.listen" },
    { host: "router.lan:443", option: "remote.url" },
  ]);
  assert.deepEqual(fileNeeds(config), [
    { path: "/opt/hooks/starfail", option: "hook.path", run: true },
    { path: "/etc/starfail/mqtt.pass", option: "mqtt.password_file", run: false },
    { path: "/root/router.pass", option: "remote.password_file", run: false },
  ]);
  assert.deepEqual(remoteNetNeeds(config.remote), [{
    host: "router.lan:443",
    option: "remote.url",
  }]);
  assert.equal(mqttHost("mqtt://broker.lan"), "broker.lan:1883");
  assert.equal(mqttHost("http://broker.lan"), null);
  // Off channels need nothing: notifications, MQTT, HTTP and remote are off by default.
  const { config: plain } = parseConfigText(
    "config starfail 'starlink'\n\toption enabled '0'\n",
    "f",
  );
  assert.deepEqual(netNeeds(plain), []);
  assert.deepEqual(fileNeeds(plain), [
    { path: "/etc/starfail/hook", option: "hook.path", run: true },
  ]);
});

Deno.test("sandboxMessage names the denial and the missing flag, one line", () => {
  const read = new Deno.errors.NotCapable(
    'Requires read access to "/etc/hostname", run again with the --allow-read flag',
  );
  assert.equal(
    sandboxMessage(read),
    "the binary's sandbox denies read access to /etc/hostname; this build lacks --allow-read=/etc/hostname",
  );
  const net = new Deno.errors.NotCapable('Requires net access to "h.example:443"');
  assert.match(
    sandboxMessage(net)!,
    /lacks --allow-net=h\.example:443; rebuild with STARFAIL_EXTRA_NET=h\.example:443/,
  );
  const sys = new Deno.errors.NotCapable('Requires all access to "/sys/devices/virtual/net/lo"');
  assert.match(
    sandboxMessage(sys)!,
    /--allow-all \(Deno grants \/sys, \/proc and \/dev only with it\)/,
  );
  assert.equal(sandboxMessage(new Error("x")), null);
});
