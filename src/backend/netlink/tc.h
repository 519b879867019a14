/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Port mirrors through tc (vmnet-plan(5) PORT MIRRORING), by libnl-route:
 * on the mirrored port, a clsact qdisc (or the ingress qdisc libvirt's
 * outbound policing already put there, for an ingress mirror) holds a u32
 * filter that matches every frame, at vmnet's priority (below),
 * whose one action is mirred egress mirror to the destination: the frame
 * goes on, a copy leaves through the destination link.
 *
 * u32 and not matchall: Debian's kernel has both, but kernels without
 * CONFIG_NET_CLS_MATCHALL exist (this project's build machine), and libnl
 * 3.7 speaks both.
 *
 * A u32 filter at those priorities is vmnet's (one plan per host or namespace):
 * observe reads every one, destroy removes every one.
 */

#include <glib.h>
#include <netlink/netlink.h>

#include "model/model.h"

/*
 * Ingress and egress filters need priorities of their own: the u32 filters
 * of one qdisc share their hash tables, and a dump of either hook lists
 * every u32 node of that priority, the other hook's too.
 */
#define VMNET_TC_MIRROR_PRIO 0x766d /* "vm": ingress; egress is the next one */
#define VMNET_TC_MIRROR_PRIO_OF(direction) \
        (VMNET_TC_MIRROR_PRIO + ((direction) == VMNET_MIRROR_INGRESS ? 0 : 1))

typedef struct {
        int ifindex;    /* the mirrored port */
        guint direction; /* VMNET_MIRROR_INGRESS or VMNET_MIRROR_EGRESS (one filter each) */
        int to_ifindex; /* mirred's destination; may be a link that is gone */
} VmnetTcMirror;

/*
 * Every vmnet mirror filter of the current namespace: one qdisc dump, then
 * the filters of each link with a clsact or ingress qdisc. *out (GArray of
 * VmnetTcMirror) is the caller's.
 */
gboolean vmnet_tc_mirrors_read(struct nl_sock *sk, GArray **out, GError **error);

/*
 * Mirrors one direction (VMNET_MIRROR_INGRESS or _EGRESS) of port to the
 * link to: adds clsact when the port has no ingress-slot qdisc, replaces a
 * vmnet filter already there.
 */
gboolean vmnet_tc_mirror_add(struct nl_sock *sk, const char *port, guint direction,
                             const char *to, GError **error);

/*
 * Removes vmnet's mirror filter of that direction from port (none there:
 * success), and the clsact qdisc when no filter is left on it.
 */
gboolean vmnet_tc_mirror_del(struct nl_sock *sk, const char *port, guint direction,
                             GError **error);
