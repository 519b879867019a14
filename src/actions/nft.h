/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The action types of vmnet's nftables tables (src/actions/nft.c), over
 * the kernel side in src/backend/nftables/ (nft.h).
 */

#include "actions/action.h"
#include "backend/nftables/ir.h"
#include "backend/nftables/nft.h"

/*
 * "nft-replace": loads an IR (vmnet_nft_replace()). Its inverse puts back
 * the snapshot taken at diff time: nft-restore when the table existed,
 * nft-delete when it did not; without a snapshot there is no inverse.
 */
extern const VmnetActionType vmnet_action_type_nft_replace;
/* "nft-delete": deletes the table (destroy); its inverse restores the snapshot, if any. */
extern const VmnetActionType vmnet_action_type_nft_delete;
/* "nft-restore": puts a snapshot back exactly; its own inverse is not needed (NULL). */
extern const VmnetActionType vmnet_action_type_nft_restore;

/*
 * Constructors. replace takes ownership of ir; all take their own reference
 * on the snapshot (before may be NULL: then there is nothing to undo).
 * Impacts: replace and restore are SAFE (one atomic transaction, and
 * conntrack keeps existing NAT bindings), delete is DISRUPTIVE (guests
 * behind NAT lose the outside).
 */
VmnetAction *vmnet_action_nft_replace_new(VmnetNftIr *ir, VmnetNftSnapshot *before);
VmnetAction *vmnet_action_nft_delete_new(VmnetNftSnapshot *before);
VmnetAction *vmnet_action_nft_restore_new(VmnetNftSnapshot *snap);

/*
 * What an nft-replace action changes in the firewall, entry by entry
 * (backend/nftables/review.h: VmnetNftChange*, caller unrefs); NULL for any other
 * action.
 */
GPtrArray *vmnet_action_nft_changes(const VmnetAction *a);
