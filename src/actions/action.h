/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Actions are data. diff produces an ordered list of them; `vmnet plan`
 * prints them, `vmnet apply` executes them in order, tests compare them to
 * golden files, and rollback executes the inverses of the completed ones in
 * reverse order.
 *
 * Each kind of action (create link, set link attributes, add address, replace
 * the nft table, ...) is one VmnetActionType defined in one file under
 * src/actions/. The inverse of an action is computed from what the diff
 * observed before anything changed, so an undo never has to guess.
 */

#include <glib.h>

#include "util/error.h"

typedef enum {
        VMNET_IMPACT_SAFE,       /* live change, nothing loses connectivity */
        VMNET_IMPACT_RECREATE,   /* deletes and re-creates a link: its ports flap */
        VMNET_IMPACT_DISRUPTIVE, /* can cut connectivity (uplink enslaved, addresses moved, link deleted) */
} VmnetImpact;

const char *vmnet_impact_to_string(VmnetImpact impact);

typedef struct _VmnetAction VmnetAction;
typedef struct _VmnetApplyCtx VmnetApplyCtx;

typedef struct {
        const char *name; /* stable identifier used in JSON and golden files: "link-create" */
        /* One line for humans, e.g. "create bridge vm-lab (mtu 1500, stp off)". Caller frees. */
        char *(*describe)(const VmnetAction *a);
        /* The only place with side effects. */
        gboolean (*execute)(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error);
        /* The action undoing this one, or NULL when there is nothing to undo. */
        VmnetAction *(*invert)(const VmnetAction *a);
        void (*free_data)(gpointer data);
        /*
         * Optional, all three or none: a batch. The engine runs consecutive
         * actions whose types share batch_begin together: batch_begin for
         * each in order (the change started, not waited for), then
         * batch_finish for each (waiting for it), so that their waits
         * overlap (the dnsmasq starts of an apply, actions/dnsmasq.c).
         * *batch is NULL at the first begin; what a begin puts there is
         * shared by the batch and freed with batch_free after the last
         * finish. A begin or finish that fails has undone its own action's
         * part, as execute does; batch_finish is called once for every
         * action whose batch_begin succeeded, whatever failed meanwhile.
         * execute still runs a lone action, and every inverse.
         */
        gboolean (*batch_begin)(const VmnetAction *a, VmnetApplyCtx *ctx, gpointer *batch,
                                GError **error);
        gboolean (*batch_finish)(const VmnetAction *a, VmnetApplyCtx *ctx, gpointer batch,
                                 GError **error);
        GDestroyNotify batch_free;
} VmnetActionType;

struct _VmnetAction {
        const VmnetActionType *type;
        VmnetImpact impact;
        char *object; /* what it acts on, e.g. "link vm-lab", "table inet vmnet" */
        gpointer data; /* owned, freed with type->free_data */
};

/* Takes ownership of object and data. */
VmnetAction *vmnet_action_new(const VmnetActionType *type, VmnetImpact impact, char *object,
                              gpointer data);
void vmnet_action_free(VmnetAction *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetAction, vmnet_action_free)
char *vmnet_action_describe(const VmnetAction *a);

/* A GPtrArray of VmnetAction* that frees them. */
GPtrArray *vmnet_action_list_new(void);
