/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What vmnet does not own but that uses its libvirt networks or bridges:
 * guests whose interfaces vmnet did not attach (domains not in the plan, or
 * interfaces their owners added), and libvirt networks of someone else that
 * declare one of vmnet's bridges. plan, apply and doctor name them; destroy,
 * which would pull the network or the bridge from under them, refuses
 * unless forced, and says what would break.
 */

#include "backend/libvirt/libvirt.h"
#include "model/model.h"
#include "util/error.h"

typedef enum {
        VMNET_FOREIGN_USER_GUEST,   /* a guest interface vmnet did not attach */
        VMNET_FOREIGN_USER_NETWORK, /* a libvirt network vmnet did not define */
} VmnetForeignUserKind;

typedef struct {
        VmnetForeignUserKind kind;
        const char *bridge;   /* vmnet's bridge it uses */
        const char *network;  /* GUEST: the libvirt network of the interface (NULL: a type='bridge'
                               * interface); NETWORK: the foreign network */
        gboolean vmnet_network; /* GUEST: network is one of vmnet's */
        const char *domain;   /* GUEST */
        const VmnetLibvirtIface *iface; /* GUEST: as the running definition has it, else the
                                         * persistent one */
        gboolean running;     /* GUEST: in the running definition; NETWORK: active */
        gboolean persistent;  /* GUEST: in the persistent definition; NETWORK: persistent */
} VmnetForeignUser;

/* One line saying who uses what ("domain web9 (interface 52:54:..., running and persistent) is on
 * libvirt network 'lab' (bridge vm-lab)"). Caller frees. */
char *vmnet_foreign_user_describe(const VmnetForeignUser *u);

/* What destroy would break for u ("network 'lab' is removed: ..."). Caller frees. */
char *vmnet_foreign_user_breaks(const VmnetForeignUser *u);

/*
 * The foreign users of vmnet's objects of plan_name: the libvirt networks
 * vmnet defined for it (owner metadata) and the bridges named in bridges
 * (char*, may be NULL) and those networks'. Returns a GArray of
 * VmnetForeignUser borrowing from virt. Caller frees.
 */
GArray *vmnet_foreign_users(const char *plan_name, const GPtrArray *bridges,
                            const VmnetLibvirtHost *virt);

/* The plan's bridges (char*, borrowed from plan). Caller frees the array. */
GPtrArray *vmnet_plan_bridges(const VmnetPlan *plan);
