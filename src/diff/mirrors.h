/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Port mirrors (vmnet-plan(5) PORT MIRRORING): which guest ports the plan
 * mirrors, and where to, against the mirrors the host has (VmnetHost
 * mirrors, read from tc). A port is mirrored when it is here: the tap of
 * an interface of the plan (vmnet names it, "vmn" + MAC), or of a running
 * guest on a port group of the plan (libvirt's live definition). A
 * destination that is not here (the monitoring guest is not running) is
 * a mirror that waits: no filter, a warning, and the next apply or the
 * network hook installs it.
 */

#include "model/model.h"
#include "observe/host.h"
#include "backend/libvirt/libvirt.h"
#include "util/error.h"

typedef struct {
        char *port;       /* the mirrored tap */
        char *port_desc;  /* "domain g1 interface 1" */
        guint direction;  /* one bit: VMNET_MIRROR_INGRESS or _EGRESS */
        char *to;         /* the destination link */
        char *to_desc;    /* "domain mon interface 1", "host link", NULL */
        gboolean to_link; /* the destination is a host link (link=), not a guest's port */
        gboolean to_here; /* the destination exists */
        guint line;       /* of the <mirror> */
} VmnetWantedMirror;

/*
 * The mirrors plan wants on host, one per port and direction, in plan
 * order (the plan's interfaces, then libvirt's other running guests on
 * mirrored port groups; virt may be NULL). Caller frees (GPtrArray that
 * frees its VmnetWantedMirror*).
 */
GPtrArray *vmnet_mirrors_wanted(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                                const VmnetHost *host);

/*
 * The mirrors that concern one guest port that has just appeared as tap on
 * network (the network hook, src/cli/cmd-hook.c): its own (the plan's
 * interface of that MAC, else its port group's, portgroup NULL: the
 * default), and those of the plan's interfaces whose destination it is.
 * Caller frees, as vmnet_mirrors_wanted().
 */
GPtrArray *vmnet_mirrors_for_port(const VmnetPlan *plan, const VmnetHost *host,
                                  const char *network, const VmnetMac *mac,
                                  const char *portgroup, const char *tap);

/*
 * Appends the actions that make host's mirrors the plan's: each missing
 * or misdirected one set, each the plan does not want (or whose
 * destination is gone) removed; a mirror that waits is a warning.
 */
void vmnet_diff_mirrors(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                        const VmnetHost *host, GPtrArray *actions, VmnetDiags *warnings);

/* Appends the removal of every vmnet mirror on host. */
void vmnet_diff_mirrors_destroy(const VmnetHost *host, GPtrArray *actions);
