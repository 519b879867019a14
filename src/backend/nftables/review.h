/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The firewall as a person reviews it: vmnet's nftables tables as a list of
 * entries (each set element, rule, chain and set), each named by what it is
 * for (a port forward, a masquerade, an isolation or a policy entry), and
 * the difference of two such lists: what `vmnet plan`, `apply --diff` and
 * the Ansible module show instead of a checksum.
 *
 * Both sides are read from the canonical digest (backend/nftables/nft.h:
 * vmnet_nft_observe(), vmnet_nft_ir_digest()), the one form in which what the
 * kernel holds and what a plan asks for are written alike. Entries are
 * compared by their canonical line, so a change shows exactly when
 * re-applying would change the kernel, whatever the chain layout. Elements
 * are decoded from their bytes by the set's key and data types; a rule's
 * text is the nft text of the desired IR's rule with that canonical line,
 * so a rule that only the kernel has (a removed rule, a hand edit) is
 * shown by its expressions.
 */

#include <glib.h>

#include "backend/nftables/ir.h"

typedef struct {
        gboolean added;   /* FALSE: removed */
        const char *kind; /* static: "forward", "masquerade", "isolation", "policy", "routing",
                           * "antispoof", "rule", "chain", "set", "table" */
        char *text;       /* "forward @fwd4: tcp . 8080 : 10.88.1.10 . 80" */
} VmnetNftChange;

void vmnet_nft_change_free(VmnetNftChange *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftChange, vmnet_nft_change_free)

/*
 * The entries of a digest ("" = no table), as sorted text lines ("forward
 * @fwd4: tcp . 8080 : 10.88.1.10 . 80"), rule texts taken from ir (may be
 * NULL). Caller unrefs the GPtrArray of char*.
 */
GPtrArray *vmnet_nft_review_entries(const char *digest, const VmnetNftIr *ir);

/*
 * What changes from the before digest to the after digest: the removed
 * entries, then the added ones, each sorted by kind and text. ir is the
 * desired IR (the after side; may be NULL), for the rules' text. Caller
 * unrefs the GPtrArray of VmnetNftChange*.
 */
GPtrArray *vmnet_nft_review_diff(const char *before, const char *after, const VmnetNftIr *ir);
