/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "apply/context.h"
#include "backend/netlink/netlink.h"

gboolean vmnet_apply_ctx_open(VmnetApplyCtx *ctx, GError **error)
{
        g_autoptr(VmnetNlSock) nl = NULL;
        g_autoptr(VmnetMnlSocket) nft = NULL;

        if (!ctx->nl && !(nl = vmnet_nl_open(error)))
                return FALSE;
        if (!ctx->nft) {
                nft = mnl_socket_open(NETLINK_NETFILTER);
                if (!nft || mnl_socket_bind(nft, 0, MNL_SOCKET_AUTOPID) < 0) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                                    "opening a netfilter netlink socket: %s", g_strerror(errno));
                        return FALSE;
                }
        }
        if (nl)
                ctx->nl = g_steal_pointer(&nl);
        if (nft)
                ctx->nft = g_steal_pointer(&nft);
        return TRUE;
}

void vmnet_apply_ctx_close(VmnetApplyCtx *ctx)
{
        if (!ctx)
                return;
        g_clear_pointer(&ctx->nl, nl_socket_free);
        g_clear_pointer(&ctx->nft, mnl_socket_close);
        g_clear_pointer(&ctx->unplugs, g_ptr_array_unref);
        /* ctx->virt belongs to whoever connected it (the libvirt backend). */
}

static void unplug_request_free(gpointer p)
{
        VmnetUnplugRequest *r = p;

        g_free(r->domain);
        g_free(r->mac);
        g_free(r);
}

void vmnet_apply_ctx_note_unplug(VmnetApplyCtx *ctx, const char *domain, const char *mac,
                                 guint id)
{
        VmnetUnplugRequest *r = g_new0(VmnetUnplugRequest, 1);

        if (!ctx->unplugs)
                ctx->unplugs = g_ptr_array_new_with_free_func(unplug_request_free);
        r->domain = g_strdup(domain);
        r->mac = g_strdup(mac);
        r->id = id;
        g_ptr_array_add(ctx->unplugs, r);
}
