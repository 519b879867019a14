/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The libvirt part of the diff: the plan's networks and guest interfaces
 * against what vmnet_libvirt_observe() read.
 *
 * Ownership, never guessed:
 *  - a libvirt network is vmnet's for a plan when its <metadata> has
 *    <vmnet:network plan=PLAN/> (urn:vmnet:libvirt:1). A plan network
 *    whose name is taken by a network without that mark, or with another
 *    plan's, is a VMNET_ERROR_CONFLICT naming it, and nothing changes;
 *    networks of other plans are otherwise left alone; this plan's
 *    networks that the plan no longer has are stopped and undefined.
 *  - a guest interface is vmnet's for a plan when its user alias is
 *    vmnet_render_iface_alias(PLAN, MAC). Interfaces vmnet did not attach
 *    are never touched; a plan interface whose MAC a foreign interface of
 *    the domain already has is a conflict.
 *
 * Order of the actions: networks (define / update / re-create, then
 * autostart and start), then each domain's interfaces (detach, update,
 * attach), then the removal of networks the plan dropped. A domain the
 * plan names that libvirt does not have fails the diff, so nothing runs.
 */

#include "backend/libvirt/libvirt.h"
#include "model/model.h"
#include "util/error.h"

/*
 * Appends the actions that make libvirt match plan (in execution order).
 * warnings (may be NULL) gets what vmnet leaves alone but the user should
 * know.
 */
gboolean vmnet_diff_libvirt(const VmnetPlan *plan, const VmnetLibvirtHost *host,
                            GPtrArray *actions, VmnetDiags *warnings, GError **error);

/* Appends the actions that remove every network and interface vmnet made for plan_name. */
gboolean vmnet_diff_libvirt_destroy(const char *plan_name, const VmnetLibvirtHost *host,
                                    GPtrArray *actions, VmnetDiags *warnings, GError **error);
