#!/usr/bin/env bash
# Everything the test suite uses beyond Node and npm, on a Debian machine, as root:
#  - Debian packages: iproute2, iptables, iputils-ping and busybox (network-namespace and
#    probe tests), mosquitto and mosquitto-clients (MQTT tests), prometheus (promtool), and
#    what ../shared/openwrt/build.sh needs (cmake, pkg-config, build-essential, json-c, crypt),
#    openssl and util-linux (remote-mode tests: rpcd login hashes, unshare/nsenter);
#  - OpenWrt's own ubusd, ubus, uci, rpcd and uhttpd, built from the pinned sources in
#    ../shared/openwrt (or $STARFAIL_OPENWRT_SRC) into .openwrt/ (or $STARFAIL_OPENWRT);
#    a second run reuses what is built.
# Usage: sudo scripts/test_tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(iproute2 iptables iputils-ping busybox mosquitto mosquitto-clients prometheus
  cmake pkg-config build-essential libjson-c-dev libcrypt-dev ca-certificates openssl util-linux)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test_tools.sh: missing Debian packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "test_tools.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services that packages would start (mosquitto, prometheus) are not wanted: tests start
  # their own on temporary ports.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
fi

src=${STARFAIL_OPENWRT_SRC:-$(pwd)/../shared/openwrt}
prefix=${STARFAIL_OPENWRT:-$(pwd)/.openwrt}
if [ ! -f "$src/build.sh" ]; then
  echo "test_tools.sh: no OpenWrt sources at $src (set STARFAIL_OPENWRT_SRC to the folder holding build.sh)" >&2
  exit 1
fi
bash "$src/build.sh" "$prefix"
