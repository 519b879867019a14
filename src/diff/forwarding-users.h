/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * IP forwarding is one switch per namespace, shared by everyone who routes:
 * vmnet turns it on for its networks, and puts back what it found only when
 * nothing else on the host needs it by then. Others that need it: a bridge
 * that is not vmnet's, up, with an address of the family (libvirt's virbr0,
 * docker0, lxcbr0: a gateway for guests or containers), an active libvirt
 * network that is not vmnet's with forward mode nat, route or open (IPv4),
 * and a route that is not vmnet's into a virtual link (veth, tun,
 * wireguard, vxlan, ...: a network behind this host).
 */

#include "backend/libvirt/libvirt.h"
#include "diff/links.h"
#include "observe/host.h"
#include "util/error.h"

/*
 * Why key (net.ipv4.ip_forward or net.ipv6.conf.all.forwarding) must stay
 * on for others than vmnet's plan plan_name, or NULL. vmnet's own links:
 * those with its alias, the plan's bridges (char*, may be NULL), the links
 * foreign records vmnet changed (may be NULL), and their ports. virt may
 * be NULL. Caller frees.
 */
char *vmnet_forwarding_needed_by(const char *key, const char *plan_name, const GPtrArray *bridges,
                                 const VmnetForeignState *foreign, const VmnetHost *host,
                                 const VmnetLibvirtHost *virt);

/*
 * Takes out of actions every sysctl action that would turn forwarding off
 * while others still need it, with a warning saying who.
 */
void vmnet_keep_needed_forwarding(const char *plan_name, const GPtrArray *bridges,
                                  const VmnetForeignState *foreign, const VmnetHost *host,
                                  const VmnetLibvirtHost *virt, GPtrArray *actions,
                                  VmnetDiags *warnings);
