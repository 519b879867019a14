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
 * The canonical digest of vmnet's tables: the one text in which what the
 * kernel holds and what an IR asks for are written alike (nft.h).
 */

/* ------------------------------------------------------------------------ */
/* Canonical digest */

static guint32 reg_norm(guint32 reg)
{
        /* the kernel dumps registers the way nft_dump_register() prefers */
        if (reg >= NFT_REG32_00 && (reg - NFT_REG32_00) % 4 == 0)
                return NFT_REG_1 + (reg - NFT_REG32_00) / 4;
        return reg;
}

static guint32 expr_u32(const struct nftnl_expr *e, guint16 attr, guint32 dflt)
{
        return nftnl_expr_is_set(e, attr) ? nftnl_expr_get_u32(e, attr) : dflt;
}

static void expr_data_append(GString *out, const struct nftnl_expr *e, guint16 attr)
{
        guint32 len = 0;
        const void *d = nftnl_expr_get(e, attr, &len);

        if (d)
                vmnet_nft_hex_append(out, d, len);
        else
                g_string_append_c(out, '-');
}

/*
 * One expression, every attribute that matters and nothing else, with the
 * kernel's defaults filled in so that what vmnet builds and what the kernel
 * dumps back print the same (lookup flags 0, nat ranges implied by their
 * registers, max registers equal to min).
 */
static void expr_canon(GString *out, const struct nftnl_expr *e)
{
        const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
        char buf[4096];

        if (g_str_equal(name, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
                g_string_append_printf(out, "meta load %u => %u",
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY),
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG)));
        } else if (g_str_equal(name, "payload") && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
                g_string_append_printf(out, "payload load %u@%u+%u => %u",
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN),
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG)));
        } else if (g_str_equal(name, "cmp")) {
                g_string_append_printf(out, "cmp %u %u ", nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP),
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG)));
                expr_data_append(out, e, NFTNL_EXPR_CMP_DATA);
        } else if (g_str_equal(name, "bitwise") &&
                   expr_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL) == NFT_BITWISE_BOOL) {
                g_string_append_printf(out, "bitwise %u => %u len %u mask ",
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG)),
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG)),
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_LEN));
                expr_data_append(out, e, NFTNL_EXPR_BITWISE_MASK);
                g_string_append(out, " xor ");
                expr_data_append(out, e, NFTNL_EXPR_BITWISE_XOR);
        } else if (g_str_equal(name, "ct") && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
                g_string_append_printf(out, "ct load %u", nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY));
                if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR))
                        g_string_append_printf(out, " dir %u",
                                               nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR));
                g_string_append_printf(out, " => %u",
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG)));
        } else if (g_str_equal(name, "fib")) {
                g_string_append_printf(out, "fib flags 0x%x result %u => %u",
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS),
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT),
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_DREG)));
        } else if (g_str_equal(name, "lookup")) {
                g_string_append_printf(out, "lookup %u set %s",
                                       reg_norm(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG)),
                                       nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
                if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
                        g_string_append_printf(out, " => %u",
                                               reg_norm(nftnl_expr_get_u32(
                                                       e, NFTNL_EXPR_LOOKUP_DREG)));
                g_string_append_printf(out, " flags 0x%x",
                                       expr_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 0));
        } else if (g_str_equal(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
                g_string_append_printf(out, "verdict %d",
                                       (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
                if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
                        g_string_append_printf(out, " %s",
                                               nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
        } else if (g_str_equal(name, "nat")) {
                guint32 amin = expr_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, 0);
                guint32 pmin = expr_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, 0);
                guint32 flags = expr_u32(e, NFTNL_EXPR_NAT_FLAGS, 0);

                if (amin)
                        flags |= NF_NAT_RANGE_MAP_IPS;
                if (pmin)
                        flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
                g_string_append_printf(out, "nat %u family %u addr %u-%u proto %u-%u flags 0x%x",
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE),
                                       nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY),
                                       reg_norm(amin),
                                       reg_norm(expr_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, amin)),
                                       reg_norm(pmin),
                                       reg_norm(expr_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, pmin)),
                                       flags);
        } else if (g_str_equal(name, "counter")) {
                /* its packets and bytes change without the ruleset changing */
                g_string_append(out, "counter");
        } else if (g_str_equal(name, "masq")) {
                guint32 pmin = expr_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN, 0);

                g_string_append_printf(out, "masq flags 0x%x proto %u-%u",
                                       expr_u32(e, NFTNL_EXPR_MASQ_FLAGS, 0), reg_norm(pmin),
                                       reg_norm(expr_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MAX, pmin)));
        } else {
                /* Outside vmnet's vocabulary: libnftnl's own text is canonical enough. */
                nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
                g_string_append_printf(out, "%s %s", name, buf);
        }
}

static void udata_append(GString *out, const char *label, const void *data, guint32 len)
{
        if (!data || len == 0)
                return;
        g_string_append_printf(out, " %s ", label);
        vmnet_nft_hex_append(out, data, len);
}

char *vmnet_nft_table_comment(const struct nftnl_table *t)
{
        guint32 len = 0;
        const guint8 *ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);

        /* TLV: type NFTNL_UDATA_TABLE_COMMENT, length, NUL-terminated text */
        for (guint32 off = 0; ud && off + 2 <= len;) {
                guint8 type = ud[off], l = ud[off + 1];

                if (off + 2 + l > len)
                        break;
                if (type == NFTNL_UDATA_TABLE_COMMENT && l > 0)
                        return g_strndup((const char *)ud + off + 2, l);
                off += 2 + l;
        }
        return NULL;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static int elem_canon_cb(struct nftnl_set_elem *e, void *data)
{
        GPtrArray *lines = data;
        GString *l = g_string_new("    elem ");
        guint32 len = 0;
        const void *d;

        d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
        if (d)
                vmnet_nft_hex_append(l, d, len);
        if ((d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len))) {
                g_string_append(l, "-");
                vmnet_nft_hex_append(l, d, len);
        }
        if ((d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len))) {
                g_string_append(l, " : ");
                vmnet_nft_hex_append(l, d, len);
        }
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
                g_string_append_printf(l, " : verdict %d",
                                       (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
                g_string_append_printf(l, " %s", nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
            nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS))
                g_string_append_printf(l, " flags 0x%x",
                                       nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
                g_string_append_printf(l, " timeout %" G_GUINT64_FORMAT,
                                       nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT));
        if ((d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len)))
                udata_append(l, "udata", d, len);
        g_ptr_array_add(lines, g_string_free(l, FALSE));
        return 0;
}

static gint cmp_set_name(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(nftnl_set_get_str(*(struct nftnl_set *const *)a, NFTNL_SET_NAME),
                         nftnl_set_get_str(*(struct nftnl_set *const *)b, NFTNL_SET_NAME));
}

static gint cmp_chain_name(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(nftnl_chain_get_str(*(struct nftnl_chain *const *)a, NFTNL_CHAIN_NAME),
                         nftnl_chain_get_str(*(struct nftnl_chain *const *)b, NFTNL_CHAIN_NAME));
}

static void rule_canon(GString *out, struct nftnl_rule *r)
{
        struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
        struct nftnl_expr *e;
        guint32 len = 0;
        const void *ud;

        g_string_append(out, "    rule");
        while ((e = nftnl_expr_iter_next(it))) {
                g_string_append(out, " [ ");
                expr_canon(out, e);
                g_string_append(out, " ]");
        }
        nftnl_expr_iter_destroy(it);
        ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
        udata_append(out, "udata", ud, len);
        g_string_append_c(out, '\n');
}

/*
 * Sets by name, elements sorted (the kernel's hash order is not stable),
 * chains by name, rules in their order. Counters, handles and use counts
 * are left out: they change without the ruleset changing.
 */
static char *objs_digest(const NftObjs *o)
{
        GString *out = g_string_new(NULL);
        g_autoptr(GPtrArray) sets = NULL;
        g_autoptr(GPtrArray) chains = NULL;
        guint32 len = 0;
        const void *ud;

        if (!o->table)
                return g_string_free(out, FALSE);

        ud = nftnl_table_get_data(o->table, NFTNL_TABLE_USERDATA, &len);
        g_string_append_printf(
                out, "table %s %s flags 0x%x",
                vmnet_nft_nfproto_name(nftnl_table_get_u32(o->table, NFTNL_TABLE_FAMILY)),
                nftnl_table_get_str(o->table, NFTNL_TABLE_NAME),
                nftnl_table_get_u32(o->table, NFTNL_TABLE_FLAGS));
        udata_append(out, "udata", ud, len);
        /*
         * The kernel's use count is chains + sets + stateful objects +
         * flowtables: anything in the table that vmnet does not dump (a named
         * counter someone added) still changes the digest.
         */
        if (nftnl_table_is_set(o->table, NFTNL_TABLE_USE))
                g_string_append_printf(out, " use %u",
                                       nftnl_table_get_u32(o->table, NFTNL_TABLE_USE));
        else
                g_string_append_printf(out, " use %u", o->chains->len + o->sets->len);
        g_string_append_c(out, '\n');

        /* copies of the pointers only: the copy must not free the objects */
        sets = g_ptr_array_copy(o->sets, NULL, NULL);
        g_ptr_array_set_free_func(sets, NULL);
        g_ptr_array_sort(sets, cmp_set_name);
        for (guint i = 0; i < sets->len; i++) {
                struct nftnl_set *s = g_ptr_array_index(sets, i);
                g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

                g_string_append_printf(out, "  set %s flags 0x%x key %u/%u",
                                       nftnl_set_get_str(s, NFTNL_SET_NAME),
                                       nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
                                       nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
                                       nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
                if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE))
                        g_string_append_printf(out, " data %u/%u",
                                               nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE),
                                               nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN));
                if (nftnl_set_is_set(s, NFTNL_SET_OBJ_TYPE))
                        g_string_append_printf(out, " obj %u",
                                               nftnl_set_get_u32(s, NFTNL_SET_OBJ_TYPE));
                if (nftnl_set_is_set(s, NFTNL_SET_POLICY))
                        g_string_append_printf(out, " policy %u",
                                               nftnl_set_get_u32(s, NFTNL_SET_POLICY));
                if (nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE))
                        g_string_append_printf(out, " size %u",
                                               nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE));
                if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
                        g_string_append_printf(out, " timeout %" G_GUINT64_FORMAT,
                                               nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
                ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
                udata_append(out, "udata", ud, len);
                g_string_append_c(out, '\n');
                nftnl_set_elem_foreach(s, elem_canon_cb, lines);
                g_ptr_array_sort(lines, cmp_str);
                for (guint j = 0; j < lines->len; j++)
                        g_string_append_printf(out, "%s\n", (char *)g_ptr_array_index(lines, j));
        }

        chains = g_ptr_array_copy(o->chains, NULL, NULL);
        g_ptr_array_set_free_func(chains, NULL);
        g_ptr_array_sort(chains, cmp_chain_name);
        for (guint i = 0; i < chains->len; i++) {
                struct nftnl_chain *c = g_ptr_array_index(chains, i);
                const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);

                g_string_append_printf(out, "  chain %s", name);
                if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
                        g_string_append_printf(
                                out, " type %s hook %s prio %d policy %u",
                                nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
                                vmnet_nft_hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)),
                                nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
                                nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
                                        ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
                                        : NF_ACCEPT);
                ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
                udata_append(out, "udata", ud, len);
                g_string_append_c(out, '\n');
                for (guint j = 0; j < o->rules->len; j++) {
                        struct nftnl_rule *r = g_ptr_array_index(o->rules, j);

                        if (g_strcmp0(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), name) == 0)
                                rule_canon(out, r);
                }
        }
        return g_string_free(out, FALSE);
}

/* Both tables' digests, one after the other ("" for a table that does not exist). */
char *vmnet_nft_tables_digest(const NftObjs *o)
{
        GString *out = g_string_new(NULL);

        for (guint t = 0; t < N_TABLES; t++) {
                g_autofree char *d = objs_digest(&o[t]);

                g_string_append(out, d);
        }
        return g_string_free(out, FALSE);
}

/* Objects for both tables of ir: bridge table absent (no table) when ir has none. */
void vmnet_nft_tables_from_ir(NftObjs *o, const VmnetNftIr *ir)
{
        vmnet_nft_objs_from_ir(&o[0], ir);
        if (ir->bridge)
                vmnet_nft_objs_from_ir(&o[1], ir->bridge);
        else
                vmnet_nft_objs_init(&o[1], vmnet_nft_table_family[1]);
}

void vmnet_nft_tables_clear(NftObjs *o)
{
        for (guint t = 0; t < N_TABLES; t++)
                vmnet_nft_objs_clear(&o[t]);
}

char *vmnet_nft_ir_digest(const VmnetNftIr *ir)
{
        NftObjs o[N_TABLES];
        char *digest;

        vmnet_nft_tables_from_ir(o, ir);
        digest = vmnet_nft_tables_digest(o);
        vmnet_nft_tables_clear(o);
        return digest;
}
