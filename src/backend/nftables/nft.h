/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * nftables through libnftnl + libmnl: the only code that changes the
 * kernel's ruleset, and only ever vmnet's two tables: `table inet vmnet`
 * and `table bridge vmnet` (the IR's bridge member, anti-spoofing per
 * guest port), always together: "the table" below means both.
 *
 * Every change is one netlink batch, i.e. one nftables transaction: the
 * kernel applies all of it or none of it, so no packet ever sees half a
 * table. Reading is done with dumps checked against the ruleset generation,
 * so a concurrent change makes the read retry instead of returning a mix.
 *
 * Errors are VMNET_ERROR_NFT and name the object the kernel refused
 * ("adding rule 3 of chain forward (ct state invalid drop): ...").
 */

#include <glib.h>
#include <libmnl/libmnl.h>

#include "backend/nftables/ir.h"
#include "util/error.h"

/*
 * A NETLINK_NETFILTER socket in the current network namespace, for callers
 * that have no VmnetApplyCtx (tests, read-only commands). Caller closes it
 * with mnl_socket_close() (g_autoptr(VmnetMnlSocket)).
 */
struct mnl_socket *vmnet_nft_socket_open(GError **error);

/*
 * Replaces table inet vmnet and table bridge vmnet by ir in one
 * transaction: add table (a no-op when it exists), delete table, for both,
 * then each table's chains, sets, elements, rules. A bridge table is only
 * added and deleted when ir has one or it exists (a kernel without the
 * bridge family then still works for plans without guest ports). Other
 * tables are never touched. absent: the caller saw neither table (its
 * snapshot), so the tables are created with NLM_F_EXCL and nothing is
 * deleted; a table that appeared since fails the transaction.
 */
gboolean vmnet_nft_replace(struct mnl_socket *nl, const VmnetNftIr *ir, gboolean absent,
                           GError **error);

/* Deletes table inet vmnet and table bridge vmnet; succeeds when they do not exist. */
gboolean vmnet_nft_delete_table(struct mnl_socket *nl, GError **error);

/*
 * What the kernel holds in vmnet's tables, read once, consistently.
 * exists: either table exists; comment: the inet table's, else the
 * bridge table's. The digest is a canonical text of both tables (comment, sets and their
 * elements, chains, rules as expressions; no handles, no counters). Two
 * tables have the same digest exactly when nft would list them the same
 * way, whether they were loaded with `nft -f` or through netlink.
 */
typedef struct {
        gboolean exists;
        char *comment; /* the table comment, NULL when none */
        char *digest;  /* "" when the table does not exist */
} VmnetNftObserved;

/* Caller frees with vmnet_nft_observed_free(). */
VmnetNftObserved *vmnet_nft_observe(struct mnl_socket *nl, GError **error);
void vmnet_nft_observed_free(VmnetNftObserved *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftObserved, vmnet_nft_observed_free)

/*
 * The digest vmnet_nft_observe() reports right after vmnet_nft_replace(ir):
 * computed offline, so the engine can tell without a state file whether
 * the kernel still holds exactly what the plan asks for. Caller frees.
 */
char *vmnet_nft_ir_digest(const VmnetNftIr *ir);

/* TRUE when the kernel's table is exactly ir (re-applying would change nothing). */
gboolean vmnet_nft_observed_matches(const VmnetNftObserved *o, const VmnetNftIr *ir);

/*
 * A snapshot of table inet vmnet (or of its absence) that can be put back
 * exactly: the rollback of a failed apply. Reference counted, because the
 * action that replaces the table and its inverse share one.
 */
typedef struct _VmnetNftSnapshot VmnetNftSnapshot;

/* Caller owns one reference. */
VmnetNftSnapshot *vmnet_nft_snapshot_take(struct mnl_socket *nl, GError **error);
VmnetNftSnapshot *vmnet_nft_snapshot_ref(VmnetNftSnapshot *snap);
void vmnet_nft_snapshot_unref(VmnetNftSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetNftSnapshot, vmnet_nft_snapshot_unref)
gboolean vmnet_nft_snapshot_exists(const VmnetNftSnapshot *snap);
/* What vmnet_nft_observe() reports, from a snapshot already taken (one dump, not two). Caller frees. */
VmnetNftObserved *vmnet_nft_observed_from_snapshot(const VmnetNftSnapshot *snap);
/* Borrowed; same format as VmnetNftObserved. */
const char *vmnet_nft_snapshot_comment(const VmnetNftSnapshot *snap);
const char *vmnet_nft_snapshot_digest(const VmnetNftSnapshot *snap);
/* Counts for descriptions: rules of table inet vmnet; of table bridge vmnet, -1 when it does not exist. */
guint vmnet_nft_snapshot_n_rules(const VmnetNftSnapshot *snap);
int vmnet_nft_snapshot_n_bridge_rules(const VmnetNftSnapshot *snap);

/*
 * Puts the table back as it was in snap, in one transaction: deletes
 * whatever table inet vmnet holds now and, when snap has a table,
 * re-creates it with its sets, elements, chains and rules.
 */
gboolean vmnet_nft_restore(struct mnl_socket *nl, const VmnetNftSnapshot *snap, GError **error);

/*
 * A base chain of ANOTHER table (never table inet vmnet) at a hook vmnet's
 * traffic goes through, that can drop packets: its policy is drop or it
 * has rules that drop/reject. In nftables a packet must be accepted by
 * every base chain at a hook, so such a chain can undo vmnet's accept
 * (Docker's "table ip filter chain FORWARD policy drop").
 */
typedef struct {
        char *family;      /* "ip", "ip6", "inet" */
        char *table;
        char *chain;
        const char *hook;  /* "prerouting", "input", "forward", "output", "postrouting" */
        int priority;
        gboolean policy_drop;
        guint drop_rules;  /* rules ending in drop or reject */
        const char *hint;  /* "docker", "libvirt", "firewalld" when the table looks like one, else NULL */
} VmnetNftForeignChain;

void vmnet_nft_foreign_chain_free(VmnetNftForeignChain *c);
/*
 * Read-only. Returns a GPtrArray of VmnetNftForeignChain* (caller unrefs),
 * in dump order. Chains at input are included: they decide whether guests
 * reach vmnet's DHCP and DNS on the host.
 */
GPtrArray *vmnet_nft_foreign_drops(struct mnl_socket *nl, GError **error);
/* "table ip filter chain FORWARD (hook forward, policy drop; docker?)". Caller frees. */
char *vmnet_nft_foreign_chain_describe(const VmnetNftForeignChain *c);
