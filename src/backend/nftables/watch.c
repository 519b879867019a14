/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "backend/nftables/ir.h"
#include "backend/nftables/watch.h"
#include "util/autoptr.h"
#include "util/error.h"

struct VmnetNftWatch {
        struct mnl_socket *nl;
};

VmnetNftWatch *vmnet_nft_watch_open(GError **error)
{
        g_autoptr(VmnetMnlSocket) nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
        VmnetNftWatch *w;

        if (!nl || mnl_socket_bind(nl, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
                int e = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "subscribing to nftables' events: %s", g_strerror(e));
                return NULL;
        }
        w = g_new0(VmnetNftWatch, 1);
        w->nl = g_steal_pointer(&nl);
        return w;
}

int vmnet_nft_watch_fd(const VmnetNftWatch *w)
{
        return mnl_socket_get_fd(w->nl);
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
        gboolean *gone = data;
        g_autoptr(VmnetNftnlTable) t = NULL;

        if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
            NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_DELTABLE)
                return MNL_CB_OK;
        t = nftnl_table_alloc();
        if (t && nftnl_table_nlmsg_parse(nlh, t) == 0 &&
            g_strcmp0(nftnl_table_get_str(t, NFTNL_TABLE_NAME), VMNET_NFT_TABLE) == 0)
                *gone = TRUE;
        return MNL_CB_OK;
}

gboolean vmnet_nft_watch_read(VmnetNftWatch *w, gboolean *gone, GError **error)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];

        for (;;) {
                ssize_t n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return TRUE;
                if (n < 0 && errno == ENOBUFS) {
                        *gone = TRUE;
                        continue;
                }
                if (n < 0) {
                        int e = errno;

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                    "reading nftables' events: %s", g_strerror(e));
                        return FALSE;
                }
                /* Notifications carry no sequence number or port of ours: 0, 0. */
                mnl_cb_run(buf, (size_t)n, 0, 0, on_event, gone);
        }
}

void vmnet_nft_watch_free(VmnetNftWatch *w)
{
        if (!w)
                return;
        mnl_socket_close(w->nl);
        g_free(w);
}
