/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "backend/nftables/ir-private.h"
#include "backend/nftables/ir.h"
#include "util/mutant.h"

/* --- the vocabulary --- */

typedef struct {
        const char *name; /* nft's datatype name */
        guint32 id;       /* nft's enum datatypes value (src/datatype.h) */
        guint len;        /* bytes */
} DatatypeInfo;

static const DatatypeInfo datatypes[] = {
        [VMNET_NFT_DT_IFNAME] = { "ifname", 41, 16 },
        [VMNET_NFT_DT_IPV4_ADDR] = { "ipv4_addr", 7, 4 },
        [VMNET_NFT_DT_IPV6_ADDR] = { "ipv6_addr", 8, 16 },
        [VMNET_NFT_DT_INET_PROTO] = { "inet_proto", 12, 1 },
        [VMNET_NFT_DT_INET_SERVICE] = { "inet_service", 13, 2 },
        [VMNET_NFT_DT_NFPROTO] = { "nf_proto", 2, 1 },
        [VMNET_NFT_DT_FIB_ADDRTYPE] = { "fib_addrtype", 38, 4 },
        [VMNET_NFT_DT_CT_STATE] = { "ct_state", 26, 4 },
        [VMNET_NFT_DT_CT_STATUS] = { "ct_status", 28, 4 },
        [VMNET_NFT_DT_ETHER_ADDR] = { "ether_addr", 9, 6 },
        [VMNET_NFT_DT_ETHER_TYPE] = { "ether_type", 10, 2 },
        [VMNET_NFT_DT_ICMPV6_TYPE] = { "icmpv6_type", 29, 1 },
};

const char *vmnet_nft_family_name(VmnetNftFamily f)
{
        return f == VMNET_NFT_FAMILY_BRIDGE ? "bridge" : "inet";
}

guint32 vmnet_nft_family_nfproto(VmnetNftFamily f)
{
        return f == VMNET_NFT_FAMILY_BRIDGE ? 7 /* NFPROTO_BRIDGE */ : 1 /* NFPROTO_INET */;
}

guint vmnet_nft_datatype_len(VmnetNftDatatype type)
{
        return datatypes[type].len;
}

guint32 vmnet_nft_datatype_id(VmnetNftDatatype type)
{
        return datatypes[type].id;
}

const char *vmnet_nft_datatype_name(VmnetNftDatatype type)
{
        return datatypes[type].name;
}

static const struct {
        const char *text;
        VmnetNftDatatype type;
} selectors[VMNET_NFT_SEL_LAST] = {
        [VMNET_NFT_SEL_IIFNAME] = { "iifname", VMNET_NFT_DT_IFNAME },
        [VMNET_NFT_SEL_OIFNAME] = { "oifname", VMNET_NFT_DT_IFNAME },
        [VMNET_NFT_SEL_NFPROTO] = { "meta nfproto", VMNET_NFT_DT_NFPROTO },
        [VMNET_NFT_SEL_L4PROTO] = { "meta l4proto", VMNET_NFT_DT_INET_PROTO },
        [VMNET_NFT_SEL_TH_DPORT] = { "th dport", VMNET_NFT_DT_INET_SERVICE },
        [VMNET_NFT_SEL_IP_SADDR] = { "ip saddr", VMNET_NFT_DT_IPV4_ADDR },
        [VMNET_NFT_SEL_IP_DADDR] = { "ip daddr", VMNET_NFT_DT_IPV4_ADDR },
        [VMNET_NFT_SEL_IP6_SADDR] = { "ip6 saddr", VMNET_NFT_DT_IPV6_ADDR },
        [VMNET_NFT_SEL_IP6_DADDR] = { "ip6 daddr", VMNET_NFT_DT_IPV6_ADDR },
        [VMNET_NFT_SEL_CT_STATE] = { "ct state", VMNET_NFT_DT_CT_STATE },
        [VMNET_NFT_SEL_CT_STATUS] = { "ct status", VMNET_NFT_DT_CT_STATUS },
        [VMNET_NFT_SEL_FIB_DADDR_TYPE] = { "fib daddr type", VMNET_NFT_DT_FIB_ADDRTYPE },
        [VMNET_NFT_SEL_ETHER_SADDR] = { "ether saddr", VMNET_NFT_DT_ETHER_ADDR },
        [VMNET_NFT_SEL_ETHER_TYPE] = { "ether type", VMNET_NFT_DT_ETHER_TYPE },
        [VMNET_NFT_SEL_ARP_SHA] = { "arp saddr ether", VMNET_NFT_DT_ETHER_ADDR },
        [VMNET_NFT_SEL_ARP_SPA] = { "arp saddr ip", VMNET_NFT_DT_IPV4_ADDR },
        [VMNET_NFT_SEL_TH_SPORT] = { "th sport", VMNET_NFT_DT_INET_SERVICE },
        [VMNET_NFT_SEL_ICMPV6_TYPE] = { "icmpv6 type", VMNET_NFT_DT_ICMPV6_TYPE },
};

VmnetNftDatatype vmnet_nft_selector_datatype(VmnetNftSelector sel)
{
        return selectors[sel].type;
}

const char *vmnet_nft_selector_text(VmnetNftSelector sel)
{
        return selectors[sel].text;
}

void vmnet_nft_value_bytes(const VmnetNftValue *v, guint8 *buf)
{
        guint16 port;
        guint32 u32;

        memset(buf, 0, 16);
        switch (v->type) {
        case VMNET_NFT_DT_IFNAME:
                memcpy(buf, v->ifname, VMNET_IFNAMSIZ);
                break;
        case VMNET_NFT_DT_IPV4_ADDR:
                memcpy(buf, v->addr.bytes, 4);
                break;
        case VMNET_NFT_DT_IPV6_ADDR:
                memcpy(buf, v->addr.bytes, 16);
                break;
        case VMNET_NFT_DT_INET_PROTO:
        case VMNET_NFT_DT_NFPROTO:
        case VMNET_NFT_DT_ICMPV6_TYPE:
                buf[0] = (guint8)v->num;
                break;
        case VMNET_NFT_DT_ETHER_ADDR:
                memcpy(buf, v->mac.b, 6);
                break;
        case VMNET_NFT_DT_INET_SERVICE:
        case VMNET_NFT_DT_ETHER_TYPE:
                port = htons((guint16)v->num);
                memcpy(buf, &port, 2);
                break;
        case VMNET_NFT_DT_FIB_ADDRTYPE:
        case VMNET_NFT_DT_CT_STATE:
        case VMNET_NFT_DT_CT_STATUS:
                /* host byte order, as the kernel stores these */
                u32 = v->num;
                memcpy(buf, &u32, 4);
                break;
        }
}

VmnetNftValue vmnet_nft_value_ifname(const char *ifname)
{
        VmnetNftValue v = { .type = VMNET_NFT_DT_IFNAME };

        g_strlcpy(v.ifname, ifname, sizeof(v.ifname));
        return v;
}

VmnetNftValue vmnet_nft_value_addr(const VmnetAddr *addr)
{
        VmnetNftValue v = {
                .type = addr->family == AF_INET6 ? VMNET_NFT_DT_IPV6_ADDR : VMNET_NFT_DT_IPV4_ADDR,
                .addr = *addr,
                .prefix = vmnet_addr_len(addr) * 8,
        };

        return v;
}

VmnetNftValue vmnet_nft_value_prefix(const VmnetPrefix *prefix)
{
        VmnetNftValue v = vmnet_nft_value_addr(&prefix->addr);

        v.prefix = prefix->prefix;
        return v;
}

VmnetNftValue vmnet_nft_value_proto(guint8 proto)
{
        VmnetNftValue v = { .type = VMNET_NFT_DT_INET_PROTO, .num = proto };

        return v;
}

VmnetNftValue vmnet_nft_value_port(guint16 port)
{
        VmnetNftValue v = { .type = VMNET_NFT_DT_INET_SERVICE, .num = port };

        return v;
}

VmnetNftValue vmnet_nft_value_mac(const VmnetMac *mac)
{
        VmnetNftValue v = { .type = VMNET_NFT_DT_ETHER_ADDR, .mac = *mac };

        return v;
}

VmnetNftValue vmnet_nft_value_ether_type(guint16 type)
{
        VmnetNftValue v = { .type = VMNET_NFT_DT_ETHER_TYPE, .num = type };

        return v;
}

VmnetNftValue vmnet_nft_value_icmpv6_type(guint8 type)
{
        VmnetNftValue v = { .type = VMNET_NFT_DT_ICMPV6_TYPE, .num = type };

        return v;
}

/* --- the containers --- */

static void match_clear(gpointer p)
{
        VmnetNftMatch *m = p;

        g_free(m->set);
}

static void rule_free(gpointer p)
{
        VmnetNftRule *r = p;

        g_array_unref(r->matches);
        g_free(r->nat_map);
        g_free(r->comment);
        g_free(r);
}

static void chain_free(gpointer p)
{
        VmnetNftChain *c = p;

        g_free(c->name);
        g_ptr_array_unref(c->rules);
        g_free(c);
}

static void set_free(gpointer p)
{
        VmnetNftSet *s = p;

        g_free(s->name);
        g_array_unref(s->elements);
        g_hash_table_unref(s->keys);
        g_free(s);
}

VmnetNftIr *vmnet_nft_ir_new(const char *comment)
{
        return vmnet_nft_ir_new_family(VMNET_NFT_FAMILY_INET, comment);
}

VmnetNftIr *vmnet_nft_ir_new_family(VmnetNftFamily family, const char *comment)
{
        VmnetNftIr *ir = g_new0(VmnetNftIr, 1);

        ir->family = family;
        ir->comment = g_strdup(comment);
        ir->sets = g_ptr_array_new_with_free_func(set_free);
        ir->chains = g_ptr_array_new_with_free_func(chain_free);
        return ir;
}

void vmnet_nft_ir_free(VmnetNftIr *ir)
{
        if (!ir)
                return;
        g_free(ir->comment);
        g_ptr_array_unref(ir->sets);
        g_ptr_array_unref(ir->chains);
        vmnet_nft_ir_free(ir->bridge);
        g_free(ir);
}

VmnetNftSet *vmnet_nft_ir_add_set(VmnetNftIr *ir, const char *name, const VmnetNftDatatype *key,
                                  guint n_key, const VmnetNftDatatype *data, guint n_data)
{
        VmnetNftSet *s = g_new0(VmnetNftSet, 1);

        g_assert(n_key >= 1 && n_key <= VMNET_NFT_MAX_CONCAT && n_data <= VMNET_NFT_MAX_CONCAT);
        s->name = g_strdup(name);
        memcpy(s->key, key, n_key * sizeof(*key));
        s->n_key = n_key;
        if (n_data)
                memcpy(s->data, data, n_data * sizeof(*data));
        s->n_data = n_data;
        s->elements = g_array_new(FALSE, TRUE, sizeof(VmnetNftValue));
        s->keys = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                        (GDestroyNotify)g_bytes_unref, NULL);
        g_ptr_array_add(ir->sets, s);
        return s;
}

VmnetNftSet *vmnet_nft_ir_add_interval_set(VmnetNftIr *ir, const char *name,
                                           const VmnetNftDatatype *key, guint n_key)
{
        VmnetNftSet *s = vmnet_nft_ir_add_set(ir, name, key, n_key, NULL, 0);

        s->interval = TRUE;
        return s;
}

VmnetNftSet *vmnet_nft_ir_find_set(const VmnetNftIr *ir, const char *name)
{
        for (guint i = 0; i < ir->sets->len; i++) {
                VmnetNftSet *s = g_ptr_array_index(ir->sets, i);

                if (g_str_equal(s->name, name))
                        return s;
        }
        return NULL;
}

guint vmnet_nft_set_n_elements(const VmnetNftSet *set)
{
        return set->elements->len / (set->n_key + set->n_data);
}

const VmnetNftValue *vmnet_nft_set_element(const VmnetNftSet *set, guint i)
{
        return &g_array_index(set->elements, VmnetNftValue, i * (set->n_key + set->n_data));
}

/* An interval set's key is a range: the prefix lengths are part of it. */
static GBytes *key_bytes(const VmnetNftSet *set, const VmnetNftValue *v)
{
        guint8 buf[VMNET_NFT_MAX_CONCAT * 17];

        for (guint k = 0; k < set->n_key; k++) {
                vmnet_nft_value_bytes(&v[k], buf + 17 * k);
                buf[17 * k + 16] = set->interval ? (guint8)v[k].prefix : 0;
        }
        return g_bytes_new(buf, 17 * set->n_key);
}

gboolean vmnet_nft_set_add_element(VmnetNftSet *set, const VmnetNftValue *values)
{
        GBytes *key = key_bytes(set, values);

        /* The kernel refuses a second element with the same key in one batch. */
        if (g_hash_table_contains(set->keys, key)) {
                g_bytes_unref(key);
                return FALSE;
        }
        g_hash_table_add(set->keys, key);
        g_array_append_vals(set->elements, values, set->n_key + set->n_data);
        return TRUE;
}

VmnetNftChain *vmnet_nft_ir_add_chain(VmnetNftIr *ir, const char *name, VmnetNftChainType type,
                                      VmnetNftHook hook, int priority, gboolean policy_drop)
{
        VmnetNftChain *c = g_new0(VmnetNftChain, 1);

        c->name = g_strdup(name);
        c->type = type;
        c->hook = hook;
        c->priority = priority;
        c->policy_drop = policy_drop;
        c->rules = g_ptr_array_new_with_free_func(rule_free);
        g_ptr_array_add(ir->chains, c);
        return c;
}

VmnetNftChain *vmnet_nft_ir_find_chain(const VmnetNftIr *ir, const char *name)
{
        for (guint i = 0; i < ir->chains->len; i++) {
                VmnetNftChain *c = g_ptr_array_index(ir->chains, i);

                if (g_str_equal(c->name, name))
                        return c;
        }
        return NULL;
}

VmnetNftRule *vmnet_nft_chain_add_rule(VmnetNftChain *chain)
{
        VmnetNftRule *r = g_new0(VmnetNftRule, 1);

        r->matches = g_array_new(FALSE, TRUE, sizeof(VmnetNftMatch));
        g_array_set_clear_func(r->matches, match_clear);
        g_ptr_array_add(chain->rules, r);
        return r;
}

void vmnet_nft_rule_match_cmp(VmnetNftRule *rule, VmnetNftSelector sel, gboolean negate,
                              const VmnetNftValue *value)
{
        VmnetNftMatch m = {
                .kind = VMNET_NFT_MATCH_CMP, .negate = negate, .sel = { sel }, .n_sel = 1,
                .value = *value,
        };

        g_assert(value->type == vmnet_nft_selector_datatype(sel));
        g_array_append_val(rule->matches, m);
}

void vmnet_nft_rule_match_ifname(VmnetNftRule *rule, VmnetNftSelector sel, gboolean negate,
                                 const char *ifname)
{
        VmnetNftValue v = vmnet_nft_value_ifname(ifname);

        vmnet_nft_rule_match_cmp(rule, sel, negate, &v);
}

void vmnet_nft_rule_match_nfproto(VmnetNftRule *rule, int family)
{
        VmnetNftValue v = {
                .type = VMNET_NFT_DT_NFPROTO,
                .num = family == AF_INET6 ? 10 /* NFPROTO_IPV6 */ : 2 /* NFPROTO_IPV4 */,
        };

        vmnet_nft_rule_match_cmp(rule, VMNET_NFT_SEL_NFPROTO, FALSE, &v);
}

void vmnet_nft_rule_match_prefix(VmnetNftRule *rule, VmnetNftSelector sel, gboolean negate,
                                 const VmnetPrefix *prefix)
{
        VmnetNftMatch m = {
                .kind = VMNET_NFT_MATCH_PREFIX, .negate = negate, .sel = { sel }, .n_sel = 1,
                .prefix = *prefix,
        };

        g_assert(vmnet_nft_selector_datatype(sel) ==
                 (prefix->addr.family == AF_INET6 ? VMNET_NFT_DT_IPV6_ADDR : VMNET_NFT_DT_IPV4_ADDR));
        g_array_append_val(rule->matches, m);
}

void vmnet_nft_rule_match_flags(VmnetNftRule *rule, VmnetNftSelector sel, guint32 mask)
{
        VmnetNftMatch m = {
                .kind = VMNET_NFT_MATCH_FLAGS, .sel = { sel }, .n_sel = 1, .mask = mask,
        };

        g_assert(sel == VMNET_NFT_SEL_CT_STATE || sel == VMNET_NFT_SEL_CT_STATUS);
        g_array_append_val(rule->matches, m);
}

void vmnet_nft_rule_match_lookup(VmnetNftRule *rule, const VmnetNftSelector *sel, guint n_sel,
                                 gboolean negate, const char *set)
{
        VmnetNftMatch m = {
                .kind = VMNET_NFT_MATCH_LOOKUP, .negate = negate, .n_sel = n_sel,
                .set = g_strdup(set),
        };

        g_assert(n_sel >= 1 && n_sel <= VMNET_NFT_MAX_CONCAT);
        memcpy(m.sel, sel, n_sel * sizeof(*sel));
        g_array_append_val(rule->matches, m);
}

void vmnet_nft_rule_set_verdict(VmnetNftRule *rule, VmnetNftStmtKind stmt)
{
        g_assert(stmt == VMNET_NFT_STMT_ACCEPT || stmt == VMNET_NFT_STMT_DROP ||
                 stmt == VMNET_NFT_STMT_MASQUERADE || stmt == VMNET_NFT_STMT_REJECT_TCP_RESET ||
                 stmt == VMNET_NFT_STMT_REJECT_ADMIN);
        rule->stmt = stmt;
}

void vmnet_nft_rule_set_dnat_map(VmnetNftRule *rule, int family, const VmnetNftSelector *key,
                                 guint n_key, const char *map)
{
        g_assert(n_key >= 1 && n_key <= VMNET_NFT_MAX_CONCAT);
        rule->stmt = VMNET_NFT_STMT_DNAT_MAP;
        rule->nat_family = family;
        memcpy(rule->nat_key, key, n_key * sizeof(*key));
        rule->n_nat_key = n_key;
        g_free(rule->nat_map);
        rule->nat_map = g_strdup(map);
}

void vmnet_nft_rule_set_counter(VmnetNftRule *rule, const char *comment)
{
        rule->counter = TRUE;
        g_free(rule->comment);
        rule->comment = g_strdup(comment);
}
