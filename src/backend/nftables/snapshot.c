/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/udata.h>

#include "backend/nftables/nft-private.h"
#include "backend/nftables/nft.h"
#include "util/autoptr.h"
#include "util/mutant.h"

/*
 * What the kernel holds in vmnet's tables: observed, snapshotted for a
 * rollback, and restored (nft.h).
 */

/* ------------------------------------------------------------------------ */
/* Observe, snapshot, restore */

struct _VmnetNftSnapshot {
        gint ref;
        NftObjs objs[N_TABLES];
        char *comment;
        char *digest;
};

VmnetNftSnapshot *vmnet_nft_snapshot_take(struct mnl_socket *nl, GError **error)
{
        VmnetNftSnapshot *snap = g_new0(VmnetNftSnapshot, 1);

        snap->ref = 1;
        if (!vmnet_nft_read_tables(nl, snap->objs, error)) {
                g_free(snap);
                return NULL;
        }
        snap->digest = vmnet_nft_tables_digest(snap->objs);
        /* the owner's comment: the inet table's, else the bridge table's */
        for (guint t = 0; t < N_TABLES && !snap->comment; t++)
                if (snap->objs[t].table)
                        snap->comment = vmnet_nft_table_comment(snap->objs[t].table);
        return snap;
}

VmnetNftSnapshot *vmnet_nft_snapshot_ref(VmnetNftSnapshot *snap)
{
        if (snap)
                g_atomic_int_inc(&snap->ref);
        return snap;
}

void vmnet_nft_snapshot_unref(VmnetNftSnapshot *snap)
{
        if (!snap || !g_atomic_int_dec_and_test(&snap->ref))
                return;
        vmnet_nft_tables_clear(snap->objs);
        g_free(snap->comment);
        g_free(snap->digest);
        g_free(snap);
}

gboolean vmnet_nft_snapshot_exists(const VmnetNftSnapshot *snap)
{
        return snap->objs[0].table != NULL || snap->objs[1].table != NULL;
}

const char *vmnet_nft_snapshot_comment(const VmnetNftSnapshot *snap)
{
        return snap->comment;
}

const char *vmnet_nft_snapshot_digest(const VmnetNftSnapshot *snap)
{
        return snap->digest;
}

guint vmnet_nft_snapshot_n_rules(const VmnetNftSnapshot *snap)
{
        return snap->objs[0].rules ? snap->objs[0].rules->len : 0;
}

int vmnet_nft_snapshot_n_bridge_rules(const VmnetNftSnapshot *snap)
{
        if (!snap->objs[1].table)
                return -1;
        return snap->objs[1].rules ? (int)snap->objs[1].rules->len : 0;
}

static int elem_copy_cb(struct nftnl_set_elem *e, void *data)
{
        static const guint16 attrs[] = { NFTNL_SET_ELEM_KEY, NFTNL_SET_ELEM_KEY_END,
                                         NFTNL_SET_ELEM_DATA, NFTNL_SET_ELEM_USERDATA };
        struct nftnl_set_elem *n = nftnl_set_elem_alloc();

        for (guint i = 0; i < G_N_ELEMENTS(attrs); i++) {
                guint32 len = 0;
                const void *d = nftnl_set_elem_get(e, attrs[i], &len);

                if (d && nftnl_set_elem_is_set(e, attrs[i]))
                        nftnl_set_elem_set(n, attrs[i], d, len);
        }
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
                nftnl_set_elem_set_str(n, NFTNL_SET_ELEM_CHAIN,
                                       nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
        else if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
                nftnl_set_elem_set_u32(n, NFTNL_SET_ELEM_VERDICT,
                                       nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
                nftnl_set_elem_set_u32(n, NFTNL_SET_ELEM_FLAGS,
                                       nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
                nftnl_set_elem_set_u64(n, NFTNL_SET_ELEM_TIMEOUT,
                                       nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_OBJREF))
                nftnl_set_elem_set_str(n, NFTNL_SET_ELEM_OBJREF,
                                       nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_OBJREF));
        nftnl_set_elem_add(data, n);
        return 0;
}

/*
 * libnftnl 1.2 exports no clone functions: copy a set's attributes by
 * building the message that would add it and parsing it back, and its
 * elements one attribute at a time (libnftnl cannot parse the element
 * lists it builds: it numbers the list entries, its parser wants
 * NFTA_LIST_ELEM). Per-element expressions (counters) are not copied:
 * vmnet never creates them.
 */
static struct nftnl_set *set_copy(struct nftnl_set *src, guint32 family)
{
        struct nftnl_set *dst = nftnl_set_alloc();
        g_autofree char *buf = g_malloc0(NLMSG_MAXSIZE);
        struct nlmsghdr *nlh;

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, family, 0, 0);
        nftnl_set_nlmsg_build_payload(nlh, src);
        nftnl_set_nlmsg_parse(nlh, dst);
        nftnl_set_elem_foreach(src, elem_copy_cb, dst);
        return dst;
}

/*
 * Copies of dumped objects made fit to be added again: no handles, no use
 * counts, new set ids (the rules find their sets by name).
 */
static void objs_for_restore(NftObjs *dst, const NftObjs *src)
{
        vmnet_nft_objs_init(dst, src->family);
        g_clear_pointer(&dst->rule_what, g_ptr_array_unref);
        if (!src->table)
                return;

        dst->table = nftnl_table_alloc();
        nftnl_table_set_str(dst->table, NFTNL_TABLE_NAME,
                            nftnl_table_get_str(src->table, NFTNL_TABLE_NAME));
        nftnl_table_set_u32(dst->table, NFTNL_TABLE_FAMILY, src->family);
        nftnl_table_set_u32(dst->table, NFTNL_TABLE_FLAGS,
                            nftnl_table_get_u32(src->table, NFTNL_TABLE_FLAGS));
        if (nftnl_table_is_set(src->table, NFTNL_TABLE_USERDATA)) {
                guint32 len = 0;
                const void *d = nftnl_table_get_data(src->table, NFTNL_TABLE_USERDATA, &len);

                nftnl_table_set_data(dst->table, NFTNL_TABLE_USERDATA, d, len);
        }

        for (guint i = 0; i < src->chains->len; i++) {
                struct nftnl_chain *c = g_ptr_array_index(src->chains, i);
                struct nftnl_chain *n = nftnl_chain_alloc();
                static const guint16 copy_str[] = { NFTNL_CHAIN_NAME, NFTNL_CHAIN_TABLE,
                                                    NFTNL_CHAIN_TYPE, NFTNL_CHAIN_DEV };
                static const guint16 copy_u32[] = { NFTNL_CHAIN_FAMILY, NFTNL_CHAIN_HOOKNUM,
                                                    NFTNL_CHAIN_POLICY };

                for (guint k = 0; k < G_N_ELEMENTS(copy_str); k++)
                        if (nftnl_chain_is_set(c, copy_str[k]))
                                nftnl_chain_set_str(n, copy_str[k],
                                                    nftnl_chain_get_str(c, copy_str[k]));
                for (guint k = 0; k < G_N_ELEMENTS(copy_u32); k++)
                        if (nftnl_chain_is_set(c, copy_u32[k]))
                                nftnl_chain_set_u32(n, copy_u32[k],
                                                    nftnl_chain_get_u32(c, copy_u32[k]));
                if (nftnl_chain_is_set(c, NFTNL_CHAIN_PRIO))
                        nftnl_chain_set_s32(n, NFTNL_CHAIN_PRIO,
                                            nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO));
                if (nftnl_chain_is_set(c, NFTNL_CHAIN_USERDATA)) {
                        guint32 len = 0;
                        const void *d = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);

                        nftnl_chain_set_data(n, NFTNL_CHAIN_USERDATA, d, len);
                }
                if (nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS) &&
                    (nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS) & ~NFT_CHAIN_BASE))
                        nftnl_chain_set_u32(n, NFTNL_CHAIN_FLAGS,
                                            nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS) &
                                                    ~NFT_CHAIN_BASE);
                g_ptr_array_add(dst->chains, n);
        }

        for (guint i = 0; i < src->sets->len; i++) {
                struct nftnl_set *s = set_copy(g_ptr_array_index(src->sets, i), src->family);

                nftnl_set_unset(s, NFTNL_SET_HANDLE);
                nftnl_set_set_u32(s, NFTNL_SET_ID, i + 1);
                g_ptr_array_add(dst->sets, s);
        }

        for (guint i = 0; i < src->rules->len; i++) {
                struct nftnl_rule *r = g_ptr_array_index(src->rules, i);
                struct nftnl_rule *n = nftnl_rule_alloc();
                char *buf = g_malloc0(NLMSG_MAXSIZE);
                struct nlmsghdr *nlh;

                /*
                 * libnftnl has no rule clone: round-trip it through a
                 * netlink message, then drop what must not be sent.
                 */
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, src->family, 0, 0);
                nftnl_rule_nlmsg_build_payload(nlh, r);
                nftnl_rule_nlmsg_parse(nlh, n);
                g_free(buf);
                nftnl_rule_unset(n, NFTNL_RULE_HANDLE);
                nftnl_rule_unset(n, NFTNL_RULE_POSITION);
                nftnl_rule_unset(n, NFTNL_RULE_ID);
                nftnl_rule_set_u32(n, NFTNL_RULE_FAMILY, src->family);
                g_ptr_array_add(dst->rules, n);
        }
}

gboolean vmnet_nft_restore(struct mnl_socket *nl, const VmnetNftSnapshot *snap, GError **error)
{
        Batch b;
        NftObjs o[N_TABLES];
        gboolean ok;

        for (guint t = 0; t < N_TABLES; t++)
                objs_for_restore(&o[t], &snap->objs[t]);
        vmnet_nft_batch_init(&b);
        vmnet_nft_batch_drop_table(&b, NFPROTO_INET);
        if (o[1].table || vmnet_nft_table_exists(nl, NFPROTO_BRIDGE))
                vmnet_nft_batch_drop_table(&b, NFPROTO_BRIDGE);
        if (o[0].table)
                vmnet_nft_batch_objs(&b, &o[0], 0);
        if (o[1].table)
                vmnet_nft_batch_objs(&b, &o[1], 0);
        ok = vmnet_nft_batch_send(nl, &b, "restoring table inet " VMNET_NFT_TABLE, error);
        vmnet_nft_batch_clear(&b);
        vmnet_nft_tables_clear(o);
        return ok;
}

VmnetNftObserved *vmnet_nft_observed_from_snapshot(const VmnetNftSnapshot *snap)
{
        VmnetNftObserved *o = g_new0(VmnetNftObserved, 1);

        o->exists = vmnet_nft_snapshot_exists(snap);
        o->comment = g_strdup(snap->comment);
        o->digest = g_strdup(snap->digest);
        return o;
}

VmnetNftObserved *vmnet_nft_observe(struct mnl_socket *nl, GError **error)
{
        g_autoptr(VmnetNftSnapshot) snap = vmnet_nft_snapshot_take(nl, error);

        return snap ? vmnet_nft_observed_from_snapshot(snap) : NULL;
}

void vmnet_nft_observed_free(VmnetNftObserved *o)
{
        if (!o)
                return;
        g_free(o->comment);
        g_free(o->digest);
        g_free(o);
}

gboolean vmnet_nft_observed_matches(const VmnetNftObserved *o, const VmnetNftIr *ir)
{
        g_autofree char *want = vmnet_nft_ir_digest(ir);

        return o->exists && g_strcmp0(o->digest, want) == 0;
}
