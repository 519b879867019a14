#!/bin/sh
# Installs the Debian 12 packages vmnet needs to build and test, only those
# that are missing. Run as root. Idempotent and quiet when nothing is missing.
# `deps.sh --list` prints the list instead (tests/check-deps.sh checks that
# every command the tests and scripts use comes from one of these packages or
# from an Essential or priority-required one).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Build: toolchain, autotools, the libraries vmnet links (each a hard requirement;
# libsystemd-dev: sd-bus, for dnsmasq as systemd units).
# make, gcc and pkgconf are named although build-essential and pkg-config
# bring them: they own the commands the build runs (tests/check-deps.sh).
# Test: check, valgrind, clang (libFuzzer), the tools tests use to read state
# independently (iproute2, nftables, jq, libvirt's virt-xml-validate), man, strace
# (which kills an apply at a chosen netlink message), ansible-core with the
# interpreter and standard library its ansible.cfg and the test's JSON callback
# use (python3-minimal owns /usr/bin/python3, libpython3.11-stdlib json),
# python3-jsonschema (tests/lib/jschema.py: the --json documents against schemas/json/),
# procps (sysctl, in the namespace snapshots), kmod (modprobe, the benchmark) and
# graphviz (dot: t-observe renders `status --format dot`, make topology-picture)
# also when VMNET_NO_VM=1 leaves out deps-vm.txt.
# Package: debhelper (dh, with dh-autoreconf and dpkg-dev's dpkg-buildpackage
# named for the commands they own), libdpkg-perl (its Dpkg::Deps reads the
# control fields), lintian and systemd (systemd-analyze verify of the unit),
# for tests/deb/run.sh.
pkgs="build-essential make gcc autoconf automake libtool pkg-config pkgconf
libglib2.0-dev libjson-glib-dev libxml2-dev libxml2-utils libvirt-dev libnl-3-dev libnl-route-3-dev
libnftnl-dev libmnl-dev libsystemd-dev check
valgrind clang libclang-rt-14-dev iproute2 nftables jq libvirt-clients libvirt-daemon
man-db groff-base util-linux ansible-core python3-minimal libpython3.11-stdlib python3-jsonschema
dnsmasq-base busybox-static strace procps kmod graphviz
debhelper dh-autoreconf dpkg-dev libdpkg-perl lintian systemd"
# --list: print every package this script can install (the VM's included),
# one a line, and exit: tests/check-deps.sh reads the list from here.
if [ "${1:-}" = --list ]; then
        # shellcheck disable=SC2086
        printf '%s\n' $pkgs $(grep -v '^#' "$here/deps-vm.txt")
        exit 0
fi
if [ -f "$here/deps-vm.txt" ] && [ "${VMNET_NO_VM:-0}" != 1 ]; then
        pkgs="$pkgs $(grep -v '^#' "$here/deps-vm.txt" | tr '\n' ' ')"
fi
missing=
for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
                missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "vmnet: installing missing packages:$missing"
if [ "$(id -u)" != 0 ]; then
        echo "vmnet: run as root (apt-get install needs it)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
