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
 * Base chains of other tables that can drop what vmnet accepts (nft.h,
 * vmnet_nft_foreign_drops(); read-only, for vmnet doctor).
 */

/* ------------------------------------------------------------------------ */
/* Other tables that can drop what vmnet accepts */

void vmnet_nft_foreign_chain_free(VmnetNftForeignChain *c)
{
        if (!c)
                return;
        g_free(c->family);
        g_free(c->table);
        g_free(c->chain);
        g_free(c);
}

static gboolean rule_drops(struct nftnl_rule *r)
{
        struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
        struct nftnl_expr *e;
        gboolean drops = FALSE;

        while ((e = nftnl_expr_iter_next(it))) {
                const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

                if (g_str_equal(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) &&
                    (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_DROP)
                        drops = TRUE;
                else if (g_str_equal(name, "reject"))
                        drops = TRUE;
                else if (g_str_equal(name, "target") &&
                         (g_strcmp0(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "REJECT") == 0 ||
                          g_strcmp0(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "DROP") == 0))
                        drops = TRUE;
        }
        nftnl_expr_iter_destroy(it);
        return drops;
}

static const char *table_hint(GPtrArray *chains, guint32 family, const char *table)
{
        if (g_str_has_prefix(table, "firewalld"))
                return "firewalld";
        for (guint i = 0; i < chains->len; i++) {
                struct nftnl_chain *c = g_ptr_array_index(chains, i);
                const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);

                if (nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) != family ||
                    g_strcmp0(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), table) != 0)
                        continue;
                if (g_str_has_prefix(name, "DOCKER"))
                        return "docker";
                if (g_str_has_prefix(name, "LIBVIRT_"))
                        return "libvirt";
        }
        return NULL;
}

GPtrArray *vmnet_nft_foreign_drops(struct mnl_socket *nl, GError **error)
{
        g_autofree char *buf = g_malloc0(MNL_SOCKET_BUFFER_SIZE);
        g_autoptr(GPtrArray) chains = g_ptr_array_new_with_free_func(
                (GDestroyNotify)nftnl_chain_free);
        g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func(
                (GDestroyNotify)nftnl_rule_free);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(
                (GDestroyNotify)vmnet_nft_foreign_chain_free);
        struct nlmsghdr *nlh;
        ListCb l;
        int ret = -EINTR;

        vmnet_nft_drain(nl);
        for (int attempt = 0; attempt < DUMP_RETRIES && ret == -EINTR; attempt++) {
                g_ptr_array_set_size(chains, 0);
                g_ptr_array_set_size(rules, 0);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP,
                                            vmnet_nft_next_seq());
                l = (ListCb){ chains, FALSE, NFPROTO_UNSPEC };
                ret = vmnet_nft_talk(nl, nlh, vmnet_nft_chain_cb, &l);
                if (ret < 0)
                        continue;
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_UNSPEC, NLM_F_DUMP,
                                            vmnet_nft_next_seq());
                l = (ListCb){ rules, FALSE, NFPROTO_UNSPEC };
                ret = vmnet_nft_talk(nl, nlh, vmnet_nft_rule_cb, &l);
        }
        if (ret < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "listing the other tables' chains: %s", g_strerror(-ret));
                return NULL;
        }

        for (guint i = 0; i < chains->len; i++) {
                struct nftnl_chain *c = g_ptr_array_index(chains, i);
                guint32 family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
                const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
                const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
                VmnetNftForeignChain *fc;
                guint drops = 0;
                gboolean policy_drop;

                if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
                        continue; /* not a base chain: only reached by a jump */
                if (family != NFPROTO_INET && family != NFPROTO_IPV4 && family != NFPROTO_IPV6)
                        continue;
                if (family == NFPROTO_INET && g_strcmp0(table, VMNET_NFT_TABLE) == 0)
                        continue;
                for (guint j = 0; j < rules->len; j++) {
                        struct nftnl_rule *r = g_ptr_array_index(rules, j);

                        if (nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == family &&
                            g_strcmp0(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), table) == 0 &&
                            g_strcmp0(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), name) == 0 &&
                            rule_drops(r))
                                drops++;
                }
                policy_drop = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
                              nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
                if (!policy_drop && drops == 0)
                        continue;
                fc = g_new0(VmnetNftForeignChain, 1);
                fc->family = g_strdup(vmnet_nft_nfproto_name(family));
                fc->table = g_strdup(table);
                fc->chain = g_strdup(name);
                fc->hook = vmnet_nft_hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM));
                fc->priority = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
                fc->policy_drop = policy_drop;
                fc->drop_rules = drops;
                fc->hint = table_hint(chains, family, table);
                g_ptr_array_add(out, fc);
        }
        return g_steal_pointer(&out);
}

char *vmnet_nft_foreign_chain_describe(const VmnetNftForeignChain *c)
{
        GString *s = g_string_new(NULL);

        g_string_append_printf(s, "table %s %s chain %s (hook %s, priority %d", c->family,
                               c->table, c->chain, c->hook, c->priority);
        if (c->policy_drop)
                g_string_append(s, ", policy drop");
        if (c->drop_rules)
                g_string_append_printf(s, ", %u rule%s that drop%s", c->drop_rules,
                                       c->drop_rules == 1 ? "" : "s",
                                       c->drop_rules == 1 ? "s" : "");
        if (c->hint)
                g_string_append_printf(s, "; %s?", c->hint);
        g_string_append_c(s, ')');
        return g_string_free(s, FALSE);
}
