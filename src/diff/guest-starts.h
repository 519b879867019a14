/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Guests whose autostart failed because vmnet's bridge was missing. After
 * a reboot libvirtd starts the autostarted libvirt networks (vmnet's only
 * name a bridge: they start without it) and then the autostarted guests,
 * before anything has made vmnet's bridges again: a guest with an
 * interface on one fails to start ("Cannot get interface MTU on 'vm-lab':
 * No such device", libvirtd 9.0) and stays shut off with reason "failed".
 * apply makes the bridges, then starts the plan's such guests again; others'
 * guests are named with the command, never started by vmnet.
 *
 * One walk gives the verdict for the diff (apply, plan, status) and for
 * doctor (check-libvirt).
 */

#include "backend/libvirt/libvirt.h"
#include "model/model.h"

typedef struct {
        const VmnetLibvirtDomain *domain;
        const char *network; /* the libvirt network of its interface on vmnet's bridge, or NULL */
        const char *bridge;  /* vmnet's bridge that interface needs */
        gboolean planned;    /* a domain of the plan (vmnet starts it), else someone else's */
} VmnetGuestStart;

typedef void (*VmnetGuestStartFunc)(const VmnetGuestStart *s, gpointer data);

/*
 * Calls fn for every persistent, autostarted domain that is shut off
 * because its last start failed, with an interface (in its persistent
 * definition) on one of plan's libvirt networks or bridges.
 */
void vmnet_guest_starts_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                                VmnetGuestStartFunc fn, gpointer data);

/* Appends a start of each such domain of the plan; warnings gets the others. */
void vmnet_diff_guest_starts(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                             GPtrArray *actions, VmnetDiags *warnings);
