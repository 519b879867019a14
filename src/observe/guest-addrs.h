/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The addresses guests really use, from the sources beyond vmnet's own
 * records: the guest agent (vmnet_libvirt_guest_addresses()) and the
 * host's neighbour table (vmnet_nl_neighbours()), as VmnetGuestAddr for
 * vmnet_ipam_report(), which lists them with their source and audits them.
 */

#include <glib.h>
#include <libvirt/libvirt.h>
#include <netlink/netlink.h>

#include "ipam/ipam.h"
#include "model/model.h"

/*
 * The neighbour entries (VmnetNlNeighbour*) on the bridges of plan's
 * networks, appended to out as VmnetGuestAddr of source NEIGHBOUR: each on
 * the network of its bridge (of a bridge several networks share, the one
 * with a subnet holding the address, else the first).
 */
void vmnet_guest_addrs_from_neighbours(const VmnetPlan *plan, const GPtrArray *neigh,
                                       GPtrArray *out);

/*
 * Both sources: the agents of plan's running domains through virt (NULL:
 * none) and the neighbour table through sk, in the current namespace. A
 * source that cannot be read is a warning in warnings, not an error. The
 * array (VmnetGuestAddr*) is the caller's.
 */
GPtrArray *vmnet_guest_addrs_observe(const VmnetPlan *plan, struct nl_sock *sk, virConnectPtr virt,
                                     VmnetDiags *warnings);
