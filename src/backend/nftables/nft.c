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

#include "backend/nftables/nft.h"
#include "util/autoptr.h"
#include "util/mutant.h"

/*
 * How each IR construct becomes expressions. The sequences are the ones
 * nft 1.0.6 emits for the text vmnet_nft_ir_to_text() writes (read in
 * nftables' src/netlink_linearize.c and checked with `nft --debug=netlink`):
 *
 *   iifname "x"            meta load iifname => reg 1; cmp eq reg 1 <16 bytes, NUL padded>
 *   meta nfproto ipv4      meta load nfproto => reg 1; cmp eq reg 1 0x02 (1 byte)
 *   ip saddr 10.0.0.0/24   payload load 3b @ network header + 12 => reg 1; cmp eq reg 1 0a0000
 *                          (byte-aligned prefixes load only the prefix bytes;
 *                          others load the whole address, then bitwise mask)
 *   ct state est,rel       ct load state => reg 1; bitwise reg 1 = (reg 1 & 0x6) ^ 0; cmp neq reg 1 0
 *   fib daddr type local   fib daddr type => reg 1; cmp eq reg 1 0x2 (RTN_LOCAL)
 *   a . b @set             each field loaded into consecutive 32-bit registers,
 *                          each rounded up to 4 bytes; lookup reg 1 set S [0x1 when !=]
 *   dnat ip to K map @M    K loaded as above; lookup reg 1 set M dreg 1;
 *                          nat dnat ip addr_min reg 1 proto_min reg <after the address>
 *   accept / drop          immediate reg 0 accept|drop
 *   masquerade             masq
 *   counter                counter (packets and bytes start at 0)
 *   comment "x"            rule userdata: NFTNL_UDATA_RULE_COMMENT, "x" with its NUL
 *   ether saddr / type     payload load 6b / 2b @ link header + 6 / + 12
 *   arp saddr ether / ip   payload load 6b / 4b @ network header + 8 / + 14
 *   th sport / icmpv6 type payload load 2b / 1b @ transport header + 0
 *
 * Register numbers follow nft's netlink_put_register(): a 32-bit register
 * offset that is a multiple of 4 is written as the legacy 128-bit register
 * (offset 0 -> NFT_REG_1), any other as NFT_REG32_00 + offset.
 *
 * Sets carry the same NFTA_SET_USERDATA nft writes (key/data byte order and,
 * for concatenations, an empty "typeof" description), so `nft list` prints
 * a table loaded by vmnet exactly like one loaded with `nft -f`.
 */

#define BATCH_PAGE_SIZE (128 * 1024)
#define NLMSG_MAXSIZE (UINT16_MAX + 4096)
#define RECV_BUF_SIZE (256 * 1024)
#define DUMP_RETRIES 8

/* nft's byte order tags in set userdata (enum byteorder in nftables' src/expression.h). */
#define BYTEORDER_INVALID 0
#define BYTEORDER_HOST 1
#define BYTEORDER_BIG 2
#define EXPR_CONCAT 13 /* nft's enum expr_types value for a concatenation */

/*
 * vmnet's tables, in the order every operation handles them: table inet
 * vmnet (the policy) and table bridge vmnet (anti-spoofing per guest port,
 * the inet IR's bridge member). Replacing, deleting and restoring them is
 * one transaction for both; reading them is one consistent dump of both.
 */
#define N_TABLES 2
static const guint32 table_family[N_TABLES] = { NFPROTO_INET, NFPROTO_BRIDGE };

static const char *family_name(guint32 family)
{
        switch (family) {
        case NFPROTO_INET:
                return "inet";
        case NFPROTO_IPV4:
                return "ip";
        case NFPROTO_IPV6:
                return "ip6";
        case NFPROTO_ARP:
                return "arp";
        case NFPROTO_BRIDGE:
                return "bridge";
        case NFPROTO_NETDEV:
                return "netdev";
        }
        return "unknown";
}

static const char *hook_name(guint32 hook)
{
        static const char *const names[] = { "prerouting", "input", "forward", "output",
                                             "postrouting" };

        return hook < G_N_ELEMENTS(names) ? names[hook] : "unknown";
}

/* Not printf per byte: digests of big tables hex every element (~25k instructions each). */
static void hex_append(GString *out, const void *data, guint32 len)
{
        static const char digits[] = "0123456789abcdef";
        const guint8 *p = data;

        for (guint32 i = 0; i < len; i++) {
                g_string_append_c(out, digits[p[i] >> 4]);
                g_string_append_c(out, digits[p[i] & 0xf]);
        }
}

/* ------------------------------------------------------------------------ */
/* Objects: the nftnl form of a table, built from an IR or read from the kernel */

typedef struct {
        guint32 family;            /* NFPROTO_INET or NFPROTO_BRIDGE */
        struct nftnl_table *table; /* NULL: no table */
        GPtrArray *chains;         /* struct nftnl_chain* */
        GPtrArray *sets;           /* struct nftnl_set*, elements attached */
        GPtrArray *rules;          /* struct nftnl_rule*, per chain in order */
        GPtrArray *rule_what;      /* char*, parallel to rules: how to name each in errors */
} NftObjs;

static void objs_clear(NftObjs *o)
{
        g_clear_pointer(&o->table, nftnl_table_free);
        g_clear_pointer(&o->chains, g_ptr_array_unref);
        g_clear_pointer(&o->sets, g_ptr_array_unref);
        g_clear_pointer(&o->rules, g_ptr_array_unref);
        g_clear_pointer(&o->rule_what, g_ptr_array_unref);
}

static void objs_init(NftObjs *o, guint32 family)
{
        o->family = family;
        o->table = NULL;
        o->chains = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_chain_free);
        o->sets = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_set_free);
        o->rules = g_ptr_array_new_with_free_func((GDestroyNotify)nftnl_rule_free);
        o->rule_what = g_ptr_array_new_with_free_func(g_free);
}

/* --- IR -> objects --- */

static guint32 reg_for_offset(guint offset32)
{
        if (offset32 % 4 == 0)
                return NFT_REG_1 + offset32 / 4;
        return NFT_REG32_00 + offset32;
}

static guint round4(guint len)
{
        return (len + 3) / 4 * 4;
}

static void add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
        nftnl_rule_add_expr(r, e);
}

static void expr_meta(struct nftnl_rule *r, guint32 key, guint32 dreg)
{
        struct nftnl_expr *e = nftnl_expr_alloc("meta");

        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
        add_expr(r, e);
}

static void expr_payload(struct nftnl_rule *r, guint32 base, guint32 offset, guint32 len,
                         guint32 dreg)
{
        struct nftnl_expr *e = nftnl_expr_alloc("payload");

        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        add_expr(r, e);
}

static void expr_cmp(struct nftnl_rule *r, guint32 op, guint32 sreg, const void *data,
                     guint32 len)
{
        struct nftnl_expr *e = nftnl_expr_alloc("cmp");

        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
        add_expr(r, e);
}

static void expr_bitwise(struct nftnl_rule *r, guint32 reg, const void *mask, guint32 len)
{
        struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
        guint8 zero[16] = { 0 };

        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
        add_expr(r, e);
}

/* Loads a selector (or only its first len bytes, for payloads) into dreg. */
static void load_selector(struct nftnl_rule *r, VmnetNftSelector sel, guint32 len, guint32 dreg)
{
        struct nftnl_expr *e;

        switch (sel) {
        case VMNET_NFT_SEL_IIFNAME:
                expr_meta(r, NFT_META_IIFNAME, dreg);
                return;
        case VMNET_NFT_SEL_OIFNAME:
                expr_meta(r, NFT_META_OIFNAME, dreg);
                return;
        case VMNET_NFT_SEL_NFPROTO:
                expr_meta(r, NFT_META_NFPROTO, dreg);
                return;
        case VMNET_NFT_SEL_L4PROTO:
                expr_meta(r, NFT_META_L4PROTO, dreg);
                return;
        case VMNET_NFT_SEL_TH_DPORT:
                expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, len, dreg);
                return;
        case VMNET_NFT_SEL_IP_SADDR:
                expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, len, dreg);
                return;
        case VMNET_NFT_SEL_IP_DADDR:
                expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, len, dreg);
                return;
        case VMNET_NFT_SEL_IP6_SADDR:
                expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, len, dreg);
                return;
        case VMNET_NFT_SEL_IP6_DADDR:
                expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, len, dreg);
                return;
        case VMNET_NFT_SEL_CT_STATE:
        case VMNET_NFT_SEL_CT_STATUS:
                e = nftnl_expr_alloc("ct");
                nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
                nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY,
                                   sel == VMNET_NFT_SEL_CT_STATE ? NFT_CT_STATE : NFT_CT_STATUS);
                add_expr(r, e);
                return;
        case VMNET_NFT_SEL_FIB_DADDR_TYPE:
                e = nftnl_expr_alloc("fib");
                nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, dreg);
                nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
                nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
                add_expr(r, e);
                return;
        case VMNET_NFT_SEL_ETHER_SADDR:
                expr_payload(r, NFT_PAYLOAD_LL_HEADER, 6, len, dreg);
                return;
        case VMNET_NFT_SEL_ETHER_TYPE:
                expr_payload(r, NFT_PAYLOAD_LL_HEADER, 12, len, dreg);
                return;
        case VMNET_NFT_SEL_ARP_SHA:
                expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, len, dreg);
                return;
        case VMNET_NFT_SEL_ARP_SPA:
                expr_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 14, len, dreg);
                return;
        case VMNET_NFT_SEL_TH_SPORT:
        case VMNET_NFT_SEL_ICMPV6_TYPE:
                expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, len, dreg);
                return;
        case VMNET_NFT_SEL_LAST:
                break;
        }
        g_assert_not_reached();
}

static guint selector_len(VmnetNftSelector sel)
{
        return vmnet_nft_datatype_len(vmnet_nft_selector_datatype(sel));
}

/* Loads a concatenation into consecutive registers from NFT_REG_1. */
static void load_concat(struct nftnl_rule *r, const VmnetNftSelector *sel, guint n)
{
        guint offset = 0;

        for (guint i = 0; i < n; i++) {
                guint len = selector_len(sel[i]);

                load_selector(r, sel[i], len, reg_for_offset(offset));
                offset += round4(len) / 4;
        }
}

static guint32 set_id_for(const VmnetNftIr *ir, const char *name)
{
        for (guint i = 0; i < ir->sets->len; i++) {
                VmnetNftSet *s = g_ptr_array_index(ir->sets, i);

                if (g_str_equal(s->name, name))
                        return i + 1;
        }
        return 0;
}

static void expr_lookup(struct nftnl_rule *r, const VmnetNftIr *ir, const char *set,
                        gboolean negate, gboolean map)
{
        struct nftnl_expr *e = nftnl_expr_alloc("lookup");
        guint32 id = set_id_for(ir, set);

        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
        if (map)
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
        nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
        if (id)
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
        if (negate)
                nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
        add_expr(r, e);
}

static void build_match(struct nftnl_rule *r, const VmnetNftIr *ir, const VmnetNftMatch *m)
{
        guint32 op = m->negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
        guint8 buf[16];

        switch (m->kind) {
        case VMNET_NFT_MATCH_CMP: {
                guint len = selector_len(m->sel[0]);

                load_selector(r, m->sel[0], len, NFT_REG_1);
                vmnet_nft_value_bytes(&m->value, buf);
                expr_cmp(r, op, NFT_REG_1, buf, len);
                return;
        }
        case VMNET_NFT_MATCH_PREFIX: {
                guint alen = vmnet_addr_len(&m->prefix.addr);
                guint plen = m->prefix.prefix;

                memcpy(buf, m->prefix.addr.bytes, alen);
                if (plen == alen * 8 || (plen > 0 && plen % 8 == 0)) {
                        /* nft shortens byte-aligned prefixes to a plain compare */
                        load_selector(r, m->sel[0], plen / 8, NFT_REG_1);
                        expr_cmp(r, op, NFT_REG_1, buf, plen / 8);
                } else {
                        guint8 mask[16] = { 0 };

                        for (guint i = 0; i < plen; i++)
                                mask[i / 8] |= 0x80 >> (i % 8);
                        load_selector(r, m->sel[0], alen, NFT_REG_1);
                        expr_bitwise(r, NFT_REG_1, mask, alen);
                        expr_cmp(r, op, NFT_REG_1, buf, alen);
                }
                return;
        }
        case VMNET_NFT_MATCH_FLAGS: {
                guint32 mask = m->mask, zero = 0;

                load_selector(r, m->sel[0], 4, NFT_REG_1);
                expr_bitwise(r, NFT_REG_1, &mask, 4);
                expr_cmp(r, NFT_CMP_NEQ, NFT_REG_1, &zero, 4);
                return;
        }
        case VMNET_NFT_MATCH_LOOKUP:
                load_concat(r, m->sel, m->n_sel);
                expr_lookup(r, ir, m->set, m->negate, FALSE);
                return;
        }
        g_assert_not_reached();
}

static void expr_verdict(struct nftnl_rule *r, int verdict)
{
        struct nftnl_expr *e = nftnl_expr_alloc("immediate");

        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
        add_expr(r, e);
}

static void build_stmt(struct nftnl_rule *r, const VmnetNftIr *ir, const VmnetNftRule *rule)
{
        struct nftnl_expr *e;
        guint addr_len;

        if (rule->counter) {
                e = nftnl_expr_alloc("counter");
                nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, 0);
                nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, 0);
                add_expr(r, e);
        }
        switch (rule->stmt) {
        case VMNET_NFT_STMT_NONE:
                return;
        case VMNET_NFT_STMT_ACCEPT:
                expr_verdict(r, NF_ACCEPT);
                return;
        case VMNET_NFT_STMT_DROP:
                expr_verdict(r, NF_DROP);
                return;
        case VMNET_NFT_STMT_MASQUERADE:
                add_expr(r, nftnl_expr_alloc("masq"));
                return;
        case VMNET_NFT_STMT_DNAT_MAP:
                load_concat(r, rule->nat_key, rule->n_nat_key);
                expr_lookup(r, ir, rule->nat_map, FALSE, TRUE);
                /* the map's data is address . port: the port follows the address */
                addr_len = rule->nat_family == AF_INET6 ? 16 : 4;
                e = nftnl_expr_alloc("nat");
                nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
                nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY,
                                   rule->nat_family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
                nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
                nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg_for_offset(addr_len / 4));
                add_expr(r, e);
                return;
        case VMNET_NFT_STMT_REJECT_TCP_RESET:
        case VMNET_NFT_STMT_REJECT_ADMIN:
                /* as nft 1.0.6 encodes "reject with tcp reset" / "with icmpx admin-prohibited" */
                e = nftnl_expr_alloc("reject");
                if (rule->stmt == VMNET_NFT_STMT_REJECT_TCP_RESET) {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
                        nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
                } else {
                        nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
                        nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
                                          NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
                }
                add_expr(r, e);
                return;
        }
        g_assert_not_reached();
}

static gboolean types_byteorder_host(VmnetNftDatatype t)
{
        return t == VMNET_NFT_DT_IFNAME || t == VMNET_NFT_DT_INET_PROTO ||
               t == VMNET_NFT_DT_NFPROTO || t == VMNET_NFT_DT_FIB_ADDRTYPE ||
               t == VMNET_NFT_DT_CT_STATE || t == VMNET_NFT_DT_CT_STATUS;
}

static guint32 concat_type(const VmnetNftDatatype *t, guint n, guint *len)
{
        guint32 id = 0;

        *len = 0;
        for (guint i = 0; i < n; i++) {
                /* nft's concat_type_alloc(): 6 bits per field, first field highest */
                id = (id << 6) | vmnet_nft_datatype_id(t[i]);
                *len += round4(vmnet_nft_datatype_len(t[i]));
        }
        return id;
}

static void put_typeof_concat(struct nftnl_udata_buf *ud, guint8 type)
{
        struct nftnl_udata *nest = nftnl_udata_nest_start(ud, type);
        struct nftnl_udata *data;

        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_TYPEOF_EXPR, EXPR_CONCAT);
        data = nftnl_udata_nest_start(ud, NFTNL_UDATA_SET_TYPEOF_DATA);
        nftnl_udata_nest_end(ud, data);
        nftnl_udata_nest_end(ud, nest);
}

/* The userdata nft 1.0.6 attaches to a `type a [. b]` set or map. */
static void set_userdata(struct nftnl_set *s, const VmnetNftSet *set)
{
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
        gboolean key_concat = set->n_key > 1, data_concat = set->n_data > 1;

        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER,
                            key_concat ? BYTEORDER_INVALID
                            : types_byteorder_host(set->key[0]) ? BYTEORDER_HOST
                                                                : BYTEORDER_BIG);
        if (set->n_data)
                nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER,
                                    data_concat ? BYTEORDER_INVALID
                                    : types_byteorder_host(set->data[0]) ? BYTEORDER_HOST
                                                                         : BYTEORDER_BIG);
        if (key_concat)
                put_typeof_concat(ud, NFTNL_UDATA_SET_KEY_TYPEOF);
        if (data_concat)
                put_typeof_concat(ud, NFTNL_UDATA_SET_DATA_TYPEOF);
        if (set->n_data)
                nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATA_INTERVAL, 0);
        nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
                           nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
}

static void concat_bytes(const VmnetNftValue *v, const VmnetNftDatatype *t, guint n, guint8 *out,
                         guint *len)
{
        guint off = 0;

        for (guint i = 0; i < n; i++) {
                guint8 b[16];

                vmnet_nft_value_bytes(&v[i], b);
                memcpy(out + off, b, round4(vmnet_nft_datatype_len(t[i])));
                off += round4(vmnet_nft_datatype_len(t[i]));
        }
        *len = off;
}

/*
 * An interval set's element as the range [lo, hi] of its key: each address
 * field from its prefix's first to its last address, every other field
 * itself.
 */
static void range_bytes(const VmnetNftSet *set, const VmnetNftValue *v, guint8 *lo, guint8 *hi,
                        guint *len)
{
        guint off = 0;

        for (guint i = 0; i < set->n_key; i++) {
                guint flen = round4(vmnet_nft_datatype_len(set->key[i]));
                guint8 b[16];

                vmnet_nft_value_bytes(&v[i], b);
                memcpy(lo + off, b, flen);
                if (v[i].type == VMNET_NFT_DT_IPV4_ADDR || v[i].type == VMNET_NFT_DT_IPV6_ADDR) {
                        VmnetPrefix p = { .addr = v[i].addr, .prefix = v[i].prefix };
                        VmnetAddr last;

                        vmnet_prefix_last(&p, &last);
                        memcpy(hi + off, last.bytes, flen);
                } else {
                        memcpy(hi + off, b, flen);
                }
                off += flen;
        }
        *len = off;
}

static struct nftnl_set_elem *elem_new(const guint8 *key, guint len, guint32 flags)
{
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();

        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
        if (flags)
                nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
        return e;
}

typedef struct {
        guint8 lo[16], hi[16];
} Range;

static gint cmp_range(gconstpointer a, gconstpointer b)
{
        return memcmp(((const Range *)a)->lo, ((const Range *)b)->lo, 16);
}

/*
 * The elements of an interval set, as nft 1.0.6 sends them (its
 * src/segtree.c and netlink.c). A concatenation (the kernel's pipapo set):
 * one element per range, its first key and NFTA_SET_ELEM_KEY_END. A single
 * field (the rbtree set): the ranges in order, each as its first key and,
 * flagged as an interval end, the key after its last (none after the top
 * of the address space: the start says "open" in its userdata), after an
 * end at zero when the first range does not start there.
 */
static void add_interval_elems(struct nftnl_set *s, const VmnetNftSet *set)
{
        guint n = vmnet_nft_set_n_elements(set);
        g_autoptr(GArray) ranges = NULL;
        guint8 zero[16] = { 0 };
        guint len = 0;

        if (set->n_key > 1) {
                for (guint i = 0; i < n; i++) {
                        guint8 lo[VMNET_NFT_MAX_CONCAT * 16], hi[VMNET_NFT_MAX_CONCAT * 16];
                        struct nftnl_set_elem *e;

                        range_bytes(set, vmnet_nft_set_element(set, i), lo, hi, &len);
                        e = elem_new(lo, len, 0);
                        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, hi, len);
                        nftnl_set_elem_add(s, e);
                }
                return;
        }
        ranges = g_array_sized_new(FALSE, TRUE, sizeof(Range), n);
        for (guint i = 0; i < n; i++) {
                Range r;

                memset(&r, 0, sizeof(r));

                range_bytes(set, vmnet_nft_set_element(set, i), r.lo, r.hi, &len);
                g_array_append_val(ranges, r);
        }
        g_array_sort(ranges, cmp_range);
        for (guint i = 0; i < ranges->len; i++) {
                Range *r = &g_array_index(ranges, Range, i);
                gboolean open = TRUE;
                struct nftnl_set_elem *start;

                if (i == 0 && memcmp(r->lo, zero, len) != 0)
                        nftnl_set_elem_add(s, elem_new(zero, len, NFT_SET_ELEM_INTERVAL_END));
                start = elem_new(r->lo, len, 0);
                /* hi + 1, big endian; open when it wraps */
                for (int b = (int)len - 1; b >= 0 && open; b--)
                        open = ++r->hi[b] == 0;
                if (open) {
                        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

                        nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS,
                                            NFTNL_SET_ELEM_F_INTERVAL_OPEN);
                        nftnl_set_elem_set(start, NFTNL_SET_ELEM_USERDATA,
                                           nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
                        nftnl_udata_buf_free(ud);
                }
                nftnl_set_elem_add(s, start);
                if (!open)
                        nftnl_set_elem_add(s, elem_new(r->hi, len, NFT_SET_ELEM_INTERVAL_END));
        }
}

static struct nftnl_set *build_set(const VmnetNftIr *ir, const VmnetNftSet *set, guint32 id)
{
        guint32 family = vmnet_nft_family_nfproto(ir->family);
        struct nftnl_set *s = nftnl_set_alloc();
        guint klen, dlen = 0;
        guint32 ktype = concat_type(set->key, set->n_key, &klen);

        nftnl_set_set_str(s, NFTNL_SET_TABLE, VMNET_NFT_TABLE);
        nftnl_set_set_str(s, NFTNL_SET_NAME, set->name);
        nftnl_set_set_u32(s, NFTNL_SET_FAMILY, family);
        nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
                          (set->n_data ? NFT_SET_MAP : 0) |
                                  (set->interval ? NFT_SET_INTERVAL : 0) |
                                  (set->interval && set->n_key > 1 ? NFT_SET_CONCAT : 0));
        nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ktype);
        nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
        if (set->n_data) {
                guint32 dtype = concat_type(set->data, set->n_data, &dlen);

                nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, dtype);
                nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, dlen);
        }
        if (set->interval && set->n_key > 1) {
                /* the field lengths the kernel's pipapo set needs */
                guint8 field_len[VMNET_NFT_MAX_CONCAT];

                for (guint i = 0; i < set->n_key; i++)
                        field_len[i] = (guint8)vmnet_nft_datatype_len(set->key[i]);
                nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, field_len, set->n_key);
        }
        nftnl_set_set_u32(s, NFTNL_SET_ID, id);
        set_userdata(s, set);
        if (set->interval) {
                add_interval_elems(s, set);
                return s;
        }

        for (guint i = 0; i < vmnet_nft_set_n_elements(set); i++) {
                const VmnetNftValue *v = vmnet_nft_set_element(set, i);
                struct nftnl_set_elem *e;

                if (VMNET_MUTANT_IS(NO_FORWARD) && set->n_data)
                        break;
                e = nftnl_set_elem_alloc();
                guint8 buf[VMNET_NFT_MAX_CONCAT * 16];
                guint len;

                concat_bytes(v, set->key, set->n_key, buf, &len);
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, buf, len);
                if (set->n_data) {
                        concat_bytes(v + set->n_key, set->data, set->n_data, buf, &len);
                        nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, buf, len);
                }
                nftnl_set_elem_add(s, e);
        }
        return s;
}

/* The rule comment as nft writes it: one TLV, the text with its NUL. */
static void rule_comment(struct nftnl_rule *r, const char *comment)
{
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

        nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment);
        nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                            nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
}

/* One table of ir (not its bridge member). */
static void objs_from_ir(NftObjs *o, const VmnetNftIr *ir)
{
        guint32 family = vmnet_nft_family_nfproto(ir->family);

        objs_init(o, family);

        o->table = nftnl_table_alloc();
        nftnl_table_set_str(o->table, NFTNL_TABLE_NAME, VMNET_NFT_TABLE);
        nftnl_table_set_u32(o->table, NFTNL_TABLE_FAMILY, family);
        nftnl_table_set_u32(o->table, NFTNL_TABLE_FLAGS, 0);
        if (ir->comment) {
                struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

                nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT, ir->comment);
                nftnl_table_set_data(o->table, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
                                     nftnl_udata_buf_len(ud));
                nftnl_udata_buf_free(ud);
        }

        for (guint i = 0; i < ir->chains->len; i++) {
                VmnetNftChain *c = g_ptr_array_index(ir->chains, i);
                struct nftnl_chain *nc = nftnl_chain_alloc();

                nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, VMNET_NFT_TABLE);
                nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, c->name);
                nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, family);
                nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE,
                                    c->type == VMNET_NFT_CHAIN_NAT ? "nat" : "filter");
                nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, c->hook);
                nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, c->priority);
                nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY, c->policy_drop ? NF_DROP : NF_ACCEPT);
                g_ptr_array_add(o->chains, nc);
        }

        for (guint i = 0; i < ir->sets->len; i++)
                g_ptr_array_add(o->sets, build_set(ir, g_ptr_array_index(ir->sets, i), i + 1));

        for (guint i = 0; i < ir->chains->len; i++) {
                VmnetNftChain *c = g_ptr_array_index(ir->chains, i);

                for (guint j = 0; j < c->rules->len; j++) {
                        VmnetNftRule *rule = g_ptr_array_index(c->rules, j);
                        struct nftnl_rule *r = nftnl_rule_alloc();
                        g_autofree char *text = vmnet_nft_rule_to_text(rule);

                        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
                        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VMNET_NFT_TABLE);
                        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, c->name);
                        for (guint k = 0; k < rule->matches->len; k++)
                                build_match(r, ir, &g_array_index(rule->matches, VmnetNftMatch, k));
                        build_stmt(r, ir, rule);
                        if (rule->comment)
                                rule_comment(r, rule->comment);
                        g_ptr_array_add(o->rules, r);
                        g_ptr_array_add(o->rule_what,
                                        g_strdup_printf("rule %u of chain %s%s (%s)", j + 1,
                                                        c->name,
                                                        ir->family == VMNET_NFT_FAMILY_BRIDGE
                                                                ? " of table bridge " VMNET_NFT_TABLE
                                                                : "",
                                                        text));
                }
        }
}

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
                hex_append(out, d, len);
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
        hex_append(out, data, len);
}

static char *table_comment(const struct nftnl_table *t)
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
                hex_append(l, d, len);
        if ((d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len))) {
                g_string_append(l, "-");
                hex_append(l, d, len);
        }
        if ((d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len))) {
                g_string_append(l, " : ");
                hex_append(l, d, len);
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
        g_string_append_printf(out, "table %s %s flags 0x%x",
                               family_name(nftnl_table_get_u32(o->table, NFTNL_TABLE_FAMILY)),
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
                        g_string_append_printf(out, " type %s hook %s prio %d policy %u",
                                               nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
                                               hook_name(nftnl_chain_get_u32(c,
                                                                             NFTNL_CHAIN_HOOKNUM)),
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
static char *tables_digest(const NftObjs *o)
{
        GString *out = g_string_new(NULL);

        for (guint t = 0; t < N_TABLES; t++) {
                g_autofree char *d = objs_digest(&o[t]);

                g_string_append(out, d);
        }
        return g_string_free(out, FALSE);
}

/* Objects for both tables of ir: bridge table absent (no table) when ir has none. */
static void tables_from_ir(NftObjs *o, const VmnetNftIr *ir)
{
        objs_from_ir(&o[0], ir);
        if (ir->bridge)
                objs_from_ir(&o[1], ir->bridge);
        else
                objs_init(&o[1], table_family[1]);
}

static void tables_clear(NftObjs *o)
{
        for (guint t = 0; t < N_TABLES; t++)
                objs_clear(&o[t]);
}

char *vmnet_nft_ir_digest(const VmnetNftIr *ir)
{
        NftObjs o[N_TABLES];
        char *digest;

        tables_from_ir(o, ir);
        digest = tables_digest(o);
        tables_clear(o);
        return digest;
}

/* ------------------------------------------------------------------------ */
/* Talking to the kernel */

struct mnl_socket *vmnet_nft_socket_open(GError **error)
{
        g_autoptr(VmnetMnlSocket) nl = mnl_socket_open(NETLINK_NETFILTER);

        if (!nl) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "opening a NETLINK_NETFILTER socket: %s", g_strerror(errno));
                return NULL;
        }
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "binding the NETLINK_NETFILTER socket: %s", g_strerror(errno));
                return NULL;
        }
        return g_steal_pointer(&nl);
}

static guint32 next_seq(void)
{
        static guint32 seq;

        /* Unique per process and unlikely to repeat a previous run's. */
        if (seq == 0)
                seq = (guint32)g_get_real_time();
        return ++seq;
}

/* Throws away replies nobody waits for (so a dump never reads a stale ack). */
static void drain(struct mnl_socket *nl)
{
        char buf[8192];

        while (recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
}

/*
 * Sends one request and runs cb on each reply message until the dump or the
 * ack ends. Returns 0, or a negative errno (-EINTR: the ruleset changed
 * during the dump, start over).
 */
static int talk(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, gpointer data)
{
        g_autofree char *buf = g_malloc(RECV_BUF_SIZE);
        guint32 portid = mnl_socket_get_portid(nl);
        guint32 seq = req->nlmsg_seq;
        int ret;

        if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
                return -errno;
        do {
                ret = mnl_socket_recvfrom(nl, buf, RECV_BUF_SIZE);
                if (ret < 0)
                        return -errno;
                ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
        } while (ret > 0);
        if (ret < 0) {
                int err = errno;

                drain(nl);
                return -err;
        }
        return 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nftnl_gen *gen = nftnl_gen_alloc();

        if (nftnl_gen_nlmsg_parse(nlh, gen) == 0)
                *(guint32 *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
        nftnl_gen_free(gen);
        return MNL_CB_OK;
}

static int get_genid(struct mnl_socket *nl, guint32 *genid)
{
        g_autofree char *buf = g_malloc0(MNL_SOCKET_BUFFER_SIZE);
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
                                                     next_seq());

        return talk(nl, nlh, gen_cb, genid);
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nftnl_table **out = data;
        struct nftnl_table *t = nftnl_table_alloc();

        if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
                nftnl_table_free(t);
                return MNL_CB_ERROR;
        }
        if (*out)
                nftnl_table_free(*out);
        *out = t;
        return MNL_CB_OK;
}

typedef struct {
        GPtrArray *out;
        gboolean only_vmnet; /* keep only table FAMILY vmnet's objects */
        guint32 family;
} ListCb;

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
        ListCb *l = data;
        struct nftnl_set *s = nftnl_set_alloc();

        if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
                nftnl_set_free(s);
                return MNL_CB_ERROR;
        }
        if (nftnl_set_get_u32(s, NFTNL_SET_FAMILY) == l->family &&
            g_strcmp0(nftnl_set_get_str(s, NFTNL_SET_TABLE), VMNET_NFT_TABLE) == 0)
                g_ptr_array_add(l->out, s);
        else
                nftnl_set_free(s);
        return MNL_CB_OK;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
        return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
        ListCb *l = data;
        struct nftnl_chain *c = nftnl_chain_alloc();

        if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
                nftnl_chain_free(c);
                return MNL_CB_ERROR;
        }
        if (!l->only_vmnet || (nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) == l->family &&
                               g_strcmp0(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
                                         VMNET_NFT_TABLE) == 0))
                g_ptr_array_add(l->out, c);
        else
                nftnl_chain_free(c);
        return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
        ListCb *l = data;
        struct nftnl_rule *r = nftnl_rule_alloc();

        if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
                nftnl_rule_free(r);
                return MNL_CB_ERROR;
        }
        if (!l->only_vmnet || (nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == l->family &&
                               g_strcmp0(nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
                                         VMNET_NFT_TABLE) == 0))
                g_ptr_array_add(l->out, r);
        else
                nftnl_rule_free(r);
        return MNL_CB_OK;
}

/*
 * One attempt at reading table FAMILY vmnet; -EINTR when it changed
 * meanwhile. A family the kernel does not support (no bridge family in
 * nf_tables) holds no table.
 */
static int read_table_once(struct mnl_socket *nl, NftObjs *o, guint32 family)
{
        g_autofree char *buf = g_malloc0(MNL_SOCKET_BUFFER_SIZE);
        struct nlmsghdr *nlh;
        ListCb l;
        int ret;

        objs_init(o, family);

        {
                g_autoptr(VmnetNftnlTable) t = nftnl_table_alloc();

                nftnl_table_set_str(t, NFTNL_TABLE_NAME, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK,
                                            next_seq());
                nftnl_table_nlmsg_build_payload(nlh, t);
                ret = talk(nl, nlh, table_cb, &o->table);
                if (ret == -ENOENT || ret == -EAFNOSUPPORT) {
                        g_clear_pointer(&o->table, nftnl_table_free);
                        return 0;
                }
                if (ret < 0)
                        return ret;
        }

        {
                g_autoptr(VmnetNftnlChain) c = nftnl_chain_alloc();

                nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP,
                                            next_seq());
                nftnl_chain_nlmsg_build_payload(nlh, c);
                l = (ListCb){ o->chains, TRUE, family };
                if ((ret = talk(nl, nlh, chain_cb, &l)) < 0)
                        return ret;
        }

        {
                g_autoptr(VmnetNftnlSet) s = nftnl_set_alloc();

                nftnl_set_set_str(s, NFTNL_SET_TABLE, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, family, NLM_F_DUMP,
                                            next_seq());
                nftnl_set_nlmsg_build_payload(nlh, s);
                l = (ListCb){ o->sets, TRUE, family };
                if ((ret = talk(nl, nlh, set_cb, &l)) < 0)
                        return ret;
        }

        for (guint i = 0; i < o->sets->len; i++) {
                struct nftnl_set *s = g_ptr_array_index(o->sets, i);

                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP,
                                            next_seq());
                nftnl_set_elems_nlmsg_build_payload(nlh, s);
                if ((ret = talk(nl, nlh, elems_cb, s)) < 0)
                        return ret;
        }

        {
                g_autoptr(VmnetNftnlRule) r = nftnl_rule_alloc();

                nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VMNET_NFT_TABLE);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP,
                                            next_seq());
                nftnl_rule_nlmsg_build_payload(nlh, r);
                l = (ListCb){ o->rules, TRUE, family };
                if ((ret = talk(nl, nlh, rule_cb, &l)) < 0)
                        return ret;
        }
        return 0;
}

/* Reads both of vmnet's tables consistently: retried when the generation moved. */
static gboolean read_tables(struct mnl_socket *nl, NftObjs *o, GError **error)
{
        int ret = 0;

        drain(nl);
        for (int attempt = 0; attempt < DUMP_RETRIES; attempt++) {
                guint32 gen_before = 0, gen_after = 0;

                if ((ret = get_genid(nl, &gen_before)) < 0)
                        break;
                ret = read_table_once(nl, &o[0], table_family[0]);
                if (ret == 0)
                        ret = read_table_once(nl, &o[1], table_family[1]);
                else
                        objs_init(&o[1], table_family[1]);
                if (ret == 0 && (ret = get_genid(nl, &gen_after)) == 0 &&
                    gen_before == gen_after)
                        return TRUE;
                tables_clear(o);
                if (ret != 0 && ret != -EINTR)
                        break;
                ret = -EINTR;
        }
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT, "reading table inet %s: %s",
                    VMNET_NFT_TABLE,
                    ret == -EINTR ? "the ruleset kept changing while it was read"
                                  : g_strerror(-ret));
        return FALSE;
}

/* --- batches --- */

typedef struct {
        struct nftnl_batch *batch;
        guint32 family; /* of the messages batch_msg() starts */
        guint32 first_seq;
        guint32 seq;
        GPtrArray *what; /* char*: what message first_seq + i does, for errors */
} Batch;

static void batch_init(Batch *b)
{
        b->batch = nftnl_batch_alloc(BATCH_PAGE_SIZE, NLMSG_MAXSIZE);
        b->family = NFPROTO_INET;
        b->seq = next_seq();
        b->first_seq = b->seq;
        b->what = g_ptr_array_new_with_free_func(g_free);
        nftnl_batch_begin(nftnl_batch_buffer(b->batch), b->seq++);
        g_ptr_array_add(b->what, g_strdup("starting the transaction"));
        nftnl_batch_update(b->batch);
}

static void batch_clear(Batch *b)
{
        g_clear_pointer(&b->batch, nftnl_batch_free);
        g_clear_pointer(&b->what, g_ptr_array_unref);
}

/* Starts a message; the caller fills the payload, then calls nftnl_batch_update(). */
static struct nlmsghdr *batch_msg(Batch *b, guint16 type, guint16 flags, char *what)
{
        /*
         * libmnl leaves attribute padding unwritten: zero the room a message
         * may take (a page always has NLMSG_MAXSIZE left), so no stale heap
         * bytes go to the kernel.
         */
        memset(nftnl_batch_buffer(b->batch), 0, NLMSG_MAXSIZE);
        g_ptr_array_add(b->what, what);
        return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type, b->family,
                                     flags | NLM_F_ACK, b->seq++);
}

static void batch_table(Batch *b, struct nftnl_table *t, guint16 type, guint16 flags, char *what)
{
        struct nlmsghdr *nlh = batch_msg(b, type, flags, what);

        nftnl_table_nlmsg_build_payload(nlh, t);
        nftnl_batch_update(b->batch);
}

/*
 * add table (no-op when present) + delete table: whatever was there is
 * gone after commit.
 */
static void batch_drop_table(Batch *b, guint32 family)
{
        g_autoptr(VmnetNftnlTable) t = nftnl_table_alloc();
        const char *fam = family_name(family);

        b->family = family;
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, VMNET_NFT_TABLE);
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
        nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
        batch_table(b, t, NFT_MSG_NEWTABLE, NLM_F_CREATE,
                    g_strdup_printf("adding table %s " VMNET_NFT_TABLE, fam));
        batch_table(b, t, NFT_MSG_DELTABLE, 0,
                    g_strdup_printf("deleting table %s " VMNET_NFT_TABLE, fam));
}

static void batch_objs(Batch *b, const NftObjs *o, guint16 table_flags)
{
        struct nlmsghdr *nlh;

        b->family = o->family;
        batch_table(b, o->table, NFT_MSG_NEWTABLE, NLM_F_CREATE | table_flags,
                    g_strdup_printf("creating table %s " VMNET_NFT_TABLE,
                                    family_name(o->family)));

        /* Same order as nft -f (chains, sets, rules), so even the handles match. */
        for (guint i = 0; i < o->chains->len; i++) {
                struct nftnl_chain *c = g_ptr_array_index(o->chains, i);

                nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE,
                                g_strdup_printf("adding chain %s",
                                                nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)));
                nftnl_chain_nlmsg_build_payload(nlh, c);
                nftnl_batch_update(b->batch);
        }

        for (guint i = 0; i < o->sets->len; i++) {
                struct nftnl_set *s = g_ptr_array_index(o->sets, i);
                const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
                struct nftnl_set_elems_iter *it;
                gboolean empty;
                int more;

                nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE,
                                g_strdup_printf("adding set %s", name));
                nftnl_set_nlmsg_build_payload(nlh, s);
                nftnl_batch_update(b->batch);

                it = nftnl_set_elems_iter_create(s);
                empty = nftnl_set_elems_iter_cur(it) == NULL;
                nftnl_set_elems_iter_destroy(it);
                if (empty)
                        continue;
                /* One attribute holds at most 64 KiB of elements: split big sets. */
                it = nftnl_set_elems_iter_create(s);
                do {
                        nlh = batch_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE,
                                        g_strdup_printf("adding elements to set %s", name));
                        more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
                        nftnl_batch_update(b->batch);
                } while (more > 0);
                nftnl_set_elems_iter_destroy(it);
        }

        for (guint i = 0; i < o->rules->len; i++) {
                struct nftnl_rule *r = g_ptr_array_index(o->rules, i);
                const char *what = o->rule_what ? g_ptr_array_index(o->rule_what, i) : NULL;

                nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                                what ? g_strdup_printf("adding %s", what)
                                     : g_strdup_printf("adding a rule to chain %s",
                                                       nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)));
                nftnl_rule_nlmsg_build_payload(nlh, r);
                nftnl_batch_update(b->batch);
        }
}

static void grow_buffer(int fd, int opt_force, int opt, int want)
{
        int cur = 0;
        socklen_t len = sizeof(cur);

        if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 && cur >= want)
                return;
        /* FORCE ignores wmem_max/rmem_max but needs CAP_NET_ADMIN, which nft needs anyway. */
        if (setsockopt(fd, SOL_SOCKET, opt_force, &want, sizeof(want)) < 0)
                setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
}

/*
 * Sends the whole batch in one sendmsg(). nfnetlink processes a batch
 * synchronously inside sendmsg(), so when it returns every ack and error is
 * already queued on the socket: read them without blocking.
 */
static gboolean batch_send(struct mnl_socket *nl, Batch *b, const char *doing, GError **error)
{
        int fd = mnl_socket_get_fd(nl);
        int iovlen, one = 1;
        struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
        struct msghdr msg = { 0 };
        g_autofree struct iovec *iov = NULL;
        g_autofree char *buf = g_malloc(RECV_BUF_SIZE);
        guint32 n_msgs, acks = 0, err_seq = 0;
        int first_err = 0;
        g_autofree char *ext_msg = NULL;
        gsize total = 0;
        ssize_t ret;

        nftnl_batch_end(nftnl_batch_buffer(b->batch), b->seq++);
        nftnl_batch_update(b->batch);
        n_msgs = b->seq - b->first_seq - 2; /* all but begin and end carry NLM_F_ACK */

        iovlen = nftnl_batch_iovec_len(b->batch);
        iov = g_new0(struct iovec, iovlen);
        nftnl_batch_iovec(b->batch, iov, iovlen);
        for (int i = 0; i < iovlen; i++)
                total += iov[i].iov_len;

        setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        grow_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, (int)MIN(total + 4096, G_MAXINT / 2));
        /* one ack per message, each a small skb whose truesize the kernel charges in full */
        grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF,
                    (int)MIN((gsize)n_msgs * 2048 + 65536, G_MAXINT / 2));
        drain(nl);

        msg.msg_name = &snl;
        msg.msg_namelen = sizeof(snl);
        msg.msg_iov = iov;
        msg.msg_iovlen = iovlen;
        if (sendmsg(fd, &msg, 0) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT, "%s: sending the batch: %s",
                            doing, g_strerror(errno));
                return FALSE;
        }

        while ((ret = recv(fd, buf, RECV_BUF_SIZE, MSG_DONTWAIT)) > 0) {
                struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
                int len = (int)ret;

                for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                        struct nlmsgerr *err;

                        if (nlh->nlmsg_type != NLMSG_ERROR)
                                continue;
                        err = mnl_nlmsg_get_payload(nlh);
                        if (err->error == 0) {
                                acks++;
                                continue;
                        }
                        /* keep the first failure in batch order: later ones often follow from it */
                        if (first_err == 0 || nlh->nlmsg_seq < err_seq) {
                                struct nlattr *attr;
                                gsize off = sizeof(*err);

                                first_err = err->error;
                                err_seq = nlh->nlmsg_seq;
                                g_clear_pointer(&ext_msg, g_free);
                                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                                        off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
                                if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
                                        mnl_attr_for_each_payload((void *)((char *)err + off),
                                                                  nlh->nlmsg_len -
                                                                          MNL_NLMSG_HDRLEN - off)
                                        {
                                                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
                                                        ext_msg = g_strdup(
                                                                mnl_attr_get_str(attr));
                                        }
                        }
                }
        }
        if (ret < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "%s: reading the kernel's answer: %s (the transaction may or may "
                            "not have been committed)",
                            doing, g_strerror(errno));
                return FALSE;
        }
        if (first_err) {
                guint idx = err_seq - b->first_seq;
                const char *what = idx < b->what->len ? g_ptr_array_index(b->what, idx)
                                                      : "the transaction";

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT, "%s: %s: %s%s%s%s; nothing was changed",
                            doing, what, g_strerror(-first_err), ext_msg ? " (kernel: " : "",
                            ext_msg ? ext_msg : "", ext_msg ? ")" : "");
                return FALSE;
        }
        if (acks != n_msgs) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NFT,
                            "%s: the kernel acknowledged %u of %u messages", doing, acks, n_msgs);
                return FALSE;
        }
        return TRUE;
}

/*
 * Whether table FAMILY vmnet exists now. Only asked where a transaction
 * would otherwise add and delete a bridge table just in case: on a kernel
 * without the bridge family that would fail the whole transaction.
 */
static gboolean table_exists(struct mnl_socket *nl, guint32 family)
{
        NftObjs o;
        gboolean exists;

        drain(nl);
        read_table_once(nl, &o, family);
        exists = o.table != NULL;
        objs_clear(&o);
        return exists;
}

gboolean vmnet_nft_replace(struct mnl_socket *nl, const VmnetNftIr *ir, gboolean absent,
                           GError **error)
{
        Batch b;
        NftObjs o[N_TABLES];
        gboolean ok, drop_bridge;

        drop_bridge = !absent && (ir->bridge || table_exists(nl, NFPROTO_BRIDGE));
        tables_from_ir(o, ir);
        batch_init(&b);
        /*
         * A transaction that deletes a table makes the kernel wait for an
         * RCU grace period when the socket is closed (~10 ms measured, most
         * of an apply of a small plan), so a table known to be absent is
         * created exclusively instead: one that appeared since then fails
         * the transaction (EEXIST) rather than being merged into.
         */
        /* the order of vmnet_nft_ir_to_text()'s script, so even the handles match */
        if (!absent)
                batch_drop_table(&b, NFPROTO_INET);
        if (drop_bridge)
                batch_drop_table(&b, NFPROTO_BRIDGE);
        batch_objs(&b, &o[0], absent ? NLM_F_EXCL : 0);
        if (o[1].table)
                batch_objs(&b, &o[1], absent ? NLM_F_EXCL : 0);
        ok = batch_send(nl, &b, "replacing table inet " VMNET_NFT_TABLE, error);
        batch_clear(&b);
        tables_clear(o);
        return ok;
}

gboolean vmnet_nft_delete_table(struct mnl_socket *nl, GError **error)
{
        Batch b;
        gboolean ok;

        batch_init(&b);
        batch_drop_table(&b, NFPROTO_INET);
        if (table_exists(nl, NFPROTO_BRIDGE))
                batch_drop_table(&b, NFPROTO_BRIDGE);
        ok = batch_send(nl, &b, "deleting table inet " VMNET_NFT_TABLE, error);
        batch_clear(&b);
        return ok;
}

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
        if (!read_tables(nl, snap->objs, error)) {
                g_free(snap);
                return NULL;
        }
        snap->digest = tables_digest(snap->objs);
        /* the owner's comment: the inet table's, else the bridge table's */
        for (guint t = 0; t < N_TABLES && !snap->comment; t++)
                if (snap->objs[t].table)
                        snap->comment = table_comment(snap->objs[t].table);
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
        tables_clear(snap->objs);
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
        objs_init(dst, src->family);
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
        batch_init(&b);
        batch_drop_table(&b, NFPROTO_INET);
        if (o[1].table || table_exists(nl, NFPROTO_BRIDGE))
                batch_drop_table(&b, NFPROTO_BRIDGE);
        if (o[0].table)
                batch_objs(&b, &o[0], 0);
        if (o[1].table)
                batch_objs(&b, &o[1], 0);
        ok = batch_send(nl, &b, "restoring table inet " VMNET_NFT_TABLE, error);
        batch_clear(&b);
        tables_clear(o);
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

        drain(nl);
        for (int attempt = 0; attempt < DUMP_RETRIES && ret == -EINTR; attempt++) {
                g_ptr_array_set_size(chains, 0);
                g_ptr_array_set_size(rules, 0);
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP,
                                            next_seq());
                l = (ListCb){ chains, FALSE, NFPROTO_UNSPEC };
                ret = talk(nl, nlh, chain_cb, &l);
                if (ret < 0)
                        continue;
                nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_UNSPEC, NLM_F_DUMP,
                                            next_seq());
                l = (ListCb){ rules, FALSE, NFPROTO_UNSPEC };
                ret = talk(nl, nlh, rule_cb, &l);
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
                fc->family = g_strdup(family_name(family));
                fc->table = g_strdup(table);
                fc->chain = g_strdup(name);
                fc->hook = hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM));
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
