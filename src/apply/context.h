/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What executing actions needs: sockets opened once per run, inside the
 * target network namespace (the CLI enters --netns before opening them).
 */

#include "actions/action.h"
#include "model/model.h"
#include "util/autoptr.h"

/* --unplug-timeout (vmnet(8)): the default and the largest value, in seconds. */
#define VMNET_UNPLUG_TIMEOUT_DEFAULT 30
#define VMNET_UNPLUG_TIMEOUT_MAX 3600

struct _VmnetApplyCtx {
        const VmnetPlan *plan;
        struct nl_sock *nl;      /* NETLINK_ROUTE (libnl), NULL until opened */
        struct mnl_socket *nft;  /* NETLINK_NETFILTER (libmnl), NULL until opened */
        virConnectPtr virt;      /* libvirt, NULL when not used */
        guint unplug_timeout;    /* seconds a replug waits for the guest's release; 0: the default */
        /*
         * VmnetUnplugRequest*: live unplugs the run's steps asked of a guest
         * that had not released the interface when the step returned, for
         * the run to record (VmnetUnplugs); NULL when none.
         */
        GPtrArray *unplugs;
};

typedef struct {
        char *domain;
        char *mac;
        guint id; /* the running domain's id */
} VmnetUnplugRequest;

/* Opens the netlink sockets in the current network namespace. */
gboolean vmnet_apply_ctx_open(VmnetApplyCtx *ctx, GError **error);
void vmnet_apply_ctx_close(VmnetApplyCtx *ctx);
/* Notes a pending unplug in ctx->unplugs. */
void vmnet_apply_ctx_note_unplug(VmnetApplyCtx *ctx, const char *domain, const char *mac,
                                 guint id);
