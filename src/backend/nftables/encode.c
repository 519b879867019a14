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
 * The IR as libnftnl objects (vmnet_nft_objs_from_ir()): what vmnet_nft_replace()
 * sends and what vmnet_nft_ir_digest() digests.
 */

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

/* nft's byte order tags in set userdata (enum byteorder in nftables' src/expression.h). */
#define BYTEORDER_INVALID 0
#define BYTEORDER_HOST 1
#define BYTEORDER_BIG 2
#define EXPR_CONCAT 13 /* nft's enum expr_types value for a concatenation */

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
void vmnet_nft_objs_from_ir(NftObjs *o, const VmnetNftIr *ir)
{
        guint32 family = vmnet_nft_family_nfproto(ir->family);

        vmnet_nft_objs_init(o, family);

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
