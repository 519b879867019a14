/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * nftables' change events, for `vmnet reapply --watch` (vmnet(8), SYSTEMD):
 * `nft flush ruleset`, `systemctl restart nftables` (whose ruleset starts
 * with "flush ruleset") or any deletion of vmnet's tables is seen as the
 * kernel's NFT_MSG_DELTABLE notification for table vmnet, in the network
 * namespace the socket was opened in.
 */

#include <glib.h>

typedef struct VmnetNftWatch VmnetNftWatch;

/* Subscribes to nftables' events in the current network namespace. Caller frees. */
VmnetNftWatch *vmnet_nft_watch_open(GError **error);
/* The descriptor to poll for input. */
int vmnet_nft_watch_fd(const VmnetNftWatch *w);
/*
 * Reads the events waiting (never blocks). *gone is set TRUE when one of
 * them deleted a table called vmnet (any family); it is left alone otherwise.
 * A lost event (the socket's buffer overran) counts as one: then anything
 * may have happened.
 */
gboolean vmnet_nft_watch_read(VmnetNftWatch *w, gboolean *gone, GError **error);
void vmnet_nft_watch_free(VmnetNftWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftWatch, vmnet_nft_watch_free)
