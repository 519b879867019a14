/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Port mirror actions (mirror.c): one direction of one guest port mirrored
 * to a destination link through tc (backend/netlink/tc.h), or that mirror removed.
 * Ports and destinations are named, resolved at execution time.
 */

#include "actions/action.h"

extern const VmnetActionType vmnet_action_type_port_mirror_set;
extern const VmnetActionType vmnet_action_type_port_mirror_del;

/*
 * Mirrors direction (VMNET_MIRROR_INGRESS or _EGRESS) of port to to
 * (to NULL: removes the mirror). old_to is the destination it had before
 * (NULL: none), for the undo. port_desc and to_desc ("domain g1
 * interface 1", "host link mon0") only feed describe(). A port gone by
 * execution time is left alone (its filters went with it).
 */
VmnetAction *vmnet_action_port_mirror(const char *port, const char *port_desc, guint direction,
                                      const char *to, const char *to_desc, const char *old_to);
