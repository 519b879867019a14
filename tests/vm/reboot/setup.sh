#!/bin/bash
# tests/vm/reboot/setup.sh: run by vm-run --setup on each boot of the reboot
# test, as root before systemd starts (see run-reboot).  Installs vmnet as
# `make install` puts it on a host (the tree run-reboot staged with
# DESTDIR) and enables its unit, libvirtd and nftables as an administrator
# would; adds the stand-in for the host's NICs.
set -euo pipefail
: "${VMNET_REBOOT_DIR:?}"
inst=$VMNET_REBOOT_DIR/inst
# --keep-directory-symlink: the guest's /lib is a link to usr/lib.
tar -C "$inst" -cf - . | tar -C / --keep-directory-symlink -xf -
unit=/lib/systemd/system/vmnet.service
[[ -f $unit ]] || { echo "setup: make install put no $unit"; exit 1; }
case ${VMNET_REBOOT_FAULT:-} in
"") ;;
unit-after-libvirtd)
        # Broken on purpose: vmnet.service after libvirtd instead of before it.
        sed -i -e '/^Before=/d' -e 's/^After=network.target nftables.service$/& libvirtd.service libvirt-guests.service/' "$unit"
        grep -q '^After=.*libvirtd.service' "$unit" || { echo "setup: the fault was not applied"; exit 1; }
        ;;
*) echo "setup: unknown VMNET_REBOOT_FAULT '$VMNET_REBOOT_FAULT'"; exit 1 ;;
esac
# The test guest's firmware (tests/vm/lib.sh), which libvirtd's autostart
# needs before the test runs: /var/lib/libvirt is the boot's own tmpfs.
(. "${0%/*}/../lib.sh" && _vm_halt_bios) || { echo "setup: cannot write the test firmware"; exit 1; }
# The host's NICs: up0 with the host's address, as ifupdown or networkd
# would bring them up before network.target; up1 a trunk.
cat >/etc/systemd/system/vmnet-vm-uplinks.service <<'UNIT'
[Unit]
Description=reboot test: the host's NICs up0 (192.0.2.10/24) and up1 (dummy links)
Before=network.target
Wants=network.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip link add up0 type dummy
ExecStart=/sbin/ip link add up1 type dummy
ExecStart=/sbin/ip addr add 192.0.2.10/24 dev up0
ExecStart=/sbin/ip link set up0 up
ExecStart=/sbin/ip link set up1 up
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable vmnet.service libvirtd.service nftables.service vmnet-vm-uplinks.service 2>&1
echo "setup: vmnet $(/usr/sbin/vmnet --version | head -n 1) installed; enabled: $(systemctl is-enabled vmnet.service libvirtd.service nftables.service | tr '\n' ' ')"
