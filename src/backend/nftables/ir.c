/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

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

/* --- from the plan --- */

/*
 * Set names. Only sets with at least one element are declared, and a rule
 * that needs a set is only emitted when the set exists, so the table never
 * carries dead rules.
 */
#define SET_BRIDGES "bridges"
#define SET_L2 "l2_bridges"
#define SET_SAME "same_bridge"
#define SET_HOST_SERVICES "host_services"
#define SET_HOST_ALLOW "host_allow"
#define SET_HOST_ALLOW_PROTO "host_allow_proto"
#define SET_HOST_ALLOW_PORTS "host_allow_ports"
#define SET_ALLOW_PAIRS "allow_pairs"
#define SET_ALLOW_PROTO "allow_proto"
#define SET_ALLOW_PORTS "allow_ports"

static const VmnetNftSelector sel_iif[] = { VMNET_NFT_SEL_IIFNAME };
static const VmnetNftSelector sel_oif[] = { VMNET_NFT_SEL_OIFNAME };

/* seen: the names already in names (a thousand networks made a linear search quadratic). */
static void add_name_once(GPtrArray *names, GHashTable *seen, const char *name)
{
        if (g_hash_table_add(seen, (gpointer)name))
                g_ptr_array_add(names, (gpointer)name);
}

static void add_ifname_set(VmnetNftIr *ir, const char *name, GPtrArray *names)
{
        static const VmnetNftDatatype key[] = { VMNET_NFT_DT_IFNAME };
        VmnetNftSet *set;

        if (names->len == 0)
                return;
        set = vmnet_nft_ir_add_set(ir, name, key, 1, NULL, 0);
        for (guint i = 0; i < names->len; i++) {
                VmnetNftValue v = vmnet_nft_value_ifname(g_ptr_array_index(names, i));

                vmnet_nft_set_add_element(set, &v);
        }
}

static const char *fwd_map_name(int family, gboolean with_addr)
{
        if (family == AF_INET6)
                return with_addr ? "fwd6_addr" : "fwd6";
        return with_addr ? "fwd4_addr" : "fwd4";
}

/*
 * Port forwards live in maps, so a thousand forwards cost one lookup, not a
 * thousand rules:
 *   fwd4      inet_proto . inet_service             : ipv4_addr . inet_service
 *   fwd4_addr ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
 * and the same with ipv6_addr for IPv6 guests.
 */
static void add_forward_maps(VmnetNftIr *ir, const VmnetPlan *plan)
{
        static const int families[] = { AF_INET, AF_INET6 };

        /* Declared in a fixed order (fwd4, fwd4_addr, fwd6, fwd6_addr), whatever the plan's order. */
        for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
                for (int with_addr = 0; with_addr <= 1; with_addr++) {
                        int family = families[f];
                        VmnetNftDatatype addr = family == AF_INET6 ? VMNET_NFT_DT_IPV6_ADDR
                                                                   : VMNET_NFT_DT_IPV4_ADDR;
                        VmnetNftDatatype data[] = { addr, VMNET_NFT_DT_INET_SERVICE };
                        VmnetNftDatatype key[] = { addr, VMNET_NFT_DT_INET_PROTO,
                                                   VMNET_NFT_DT_INET_SERVICE };
                        VmnetNftSet *map = NULL;

                        for (guint n = 0; n < plan->networks->len; n++) {
                                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                                if (net->mode != VMNET_MODE_NAT || !net->forwards)
                                        continue;
                                for (guint i = 0; i < net->forwards->len; i++) {
                                        VmnetPortForward *fw = g_ptr_array_index(net->forwards, i);
                                        guint16 to_port = fw->to_port ? fw->to_port : fw->host_port;
                                        VmnetNftValue v[] = {
                                                vmnet_nft_value_addr(&fw->host_ip),
                                                vmnet_nft_value_proto(fw->proto),
                                                vmnet_nft_value_port(fw->host_port),
                                                vmnet_nft_value_addr(&fw->to),
                                                vmnet_nft_value_port(to_port),
                                        };

                                        if (fw->to.family != family || fw->has_host_ip != with_addr)
                                                continue;
                                        /* the validator refuses mixed families */
                                        if (with_addr && fw->host_ip.family != family)
                                                continue;
                                        if (!map)
                                                map = vmnet_nft_ir_add_set(
                                                        ir, fwd_map_name(family, with_addr),
                                                        with_addr ? key : key + 1,
                                                        with_addr ? 3 : 2, data, 2);
                                        vmnet_nft_set_add_element(map, with_addr ? v : v + 1);
                                }
                        }
                }
        }
}

static void add_allow_sets(VmnetNftIr *ir, const VmnetPlan *plan)
{
        static const VmnetNftDatatype pair[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME };
        static const VmnetNftDatatype proto[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME,
                                                  VMNET_NFT_DT_INET_PROTO };
        static const VmnetNftDatatype ports[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME,
                                                  VMNET_NFT_DT_INET_PROTO,
                                                  VMNET_NFT_DT_INET_SERVICE };
        VmnetNftSet *s_pairs = NULL, *s_proto = NULL, *s_ports = NULL;
        VmnetNftSet *h_any = NULL, *h_proto = NULL, *h_ports = NULL;

        for (guint i = 0; plan->allows && i < plan->allows->len; i++) {
                VmnetAllow *a = g_ptr_array_index(plan->allows, i);
                VmnetNetwork *from = vmnet_plan_find_network(plan, a->from);
                VmnetNetwork *to = a->to_host ? NULL : vmnet_plan_find_network(plan, a->to);
                VmnetNftValue v[] = {
                        vmnet_nft_value_ifname(from ? from->bridge : ""),
                        vmnet_nft_value_ifname(to ? to->bridge : ""),
                        vmnet_nft_value_proto(a->proto),
                        vmnet_nft_value_port(a->port),
                };
                /* the host as destination: the same keys without the outgoing interface */
                VmnetNftValue h[] = { v[0], v[2], v[3] };

                if (!from || !from->bridge || !vmnet_mode_has_host_address(from->mode))
                        continue; /* the validator reports unknown networks and wrong modes */
                if (a->to_host) {
                        if (a->proto == VMNET_PROTO_ANY) {
                                if (!h_any)
                                        h_any = vmnet_nft_ir_add_set(ir, SET_HOST_ALLOW, pair, 1,
                                                                     NULL, 0);
                                vmnet_nft_set_add_element(h_any, h);
                        } else if (a->port == 0) {
                                if (!h_proto)
                                        h_proto = vmnet_nft_ir_add_set(ir, SET_HOST_ALLOW_PROTO,
                                                                       proto + 1, 2, NULL, 0);
                                vmnet_nft_set_add_element(h_proto, h);
                        } else {
                                static const VmnetNftDatatype hp[] = {
                                        VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_INET_PROTO,
                                        VMNET_NFT_DT_INET_SERVICE
                                };

                                if (!h_ports)
                                        h_ports = vmnet_nft_ir_add_set(ir, SET_HOST_ALLOW_PORTS,
                                                                       hp, 3, NULL, 0);
                                vmnet_nft_set_add_element(h_ports, h);
                        }
                        continue;
                }
                if (!to || !to->bridge || !vmnet_mode_has_host_address(to->mode))
                        continue;
                if (a->proto == VMNET_PROTO_ANY) {
                        if (!s_pairs)
                                s_pairs = vmnet_nft_ir_add_set(ir, SET_ALLOW_PAIRS, pair, 2, NULL,
                                                               0);
                        vmnet_nft_set_add_element(s_pairs, v);
                } else if (a->port == 0) {
                        if (!s_proto)
                                s_proto = vmnet_nft_ir_add_set(ir, SET_ALLOW_PROTO, proto, 3, NULL,
                                                               0);
                        vmnet_nft_set_add_element(s_proto, v);
                } else {
                        if (!s_ports)
                                s_ports = vmnet_nft_ir_add_set(ir, SET_ALLOW_PORTS, ports, 4, NULL,
                                                               0);
                        vmnet_nft_set_add_element(s_ports, v);
                }
        }
}

/*
 * Every bridge to itself. With br_netfilter loaded, frames between two
 * ports of one bridge (two guests, or a guest and a bridged network's
 * uplink) traverse the inet forward hook as "iifname vm-x oifname vm-x";
 * that is layer 2 inside one network, never routing, and is accepted
 * before anything else, even conntrack's invalid state (libvirt's
 * LIBVIRT_FWX chain does the same).
 */
static void add_same_bridge_set(VmnetNftIr *ir, GPtrArray *bridges)
{
        static const VmnetNftDatatype pair[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME };
        VmnetNftSet *set;

        if (bridges->len == 0)
                return;
        set = vmnet_nft_ir_add_set(ir, SET_SAME, pair, 2, NULL, 0);
        for (guint i = 0; i < bridges->len; i++) {
                VmnetNftValue v[] = {
                        vmnet_nft_value_ifname(g_ptr_array_index(bridges, i)),
                        vmnet_nft_value_ifname(g_ptr_array_index(bridges, i)),
                };

                vmnet_nft_set_add_element(set, v);
        }
}

/* What a guest may always reach on the host, where vmnet serves it: DNS, DHCP, DHCPv6. */
static void add_host_services_set(VmnetNftIr *ir)
{
        static const VmnetNftDatatype key[] = { VMNET_NFT_DT_INET_PROTO,
                                                VMNET_NFT_DT_INET_SERVICE };
        static const struct {
                guint8 proto;
                guint16 port;
        } services[] = {
                { VMNET_PROTO_UDP, 53 },  /* DNS */
                { VMNET_PROTO_TCP, 53 },  /* DNS, large answers */
                { VMNET_PROTO_UDP, 67 },  /* DHCP */
                { VMNET_PROTO_UDP, 547 }, /* DHCPv6 */
        };
        VmnetNftSet *set = vmnet_nft_ir_add_set(ir, SET_HOST_SERVICES, key, 2, NULL, 0);

        for (guint i = 0; i < G_N_ELEMENTS(services); i++) {
                VmnetNftValue v[] = { vmnet_nft_value_proto(services[i].proto),
                                      vmnet_nft_value_port(services[i].port) };

                vmnet_nft_set_add_element(set, v);
        }
}

static void add_dnat_rules(VmnetNftIr *ir, VmnetNftChain *chain, gboolean local_out)
{
        static const int families[] = { AF_INET, AF_INET6 };

        for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
                int family = families[f];
                VmnetNftSelector daddr = family == AF_INET6 ? VMNET_NFT_SEL_IP6_DADDR
                                                            : VMNET_NFT_SEL_IP_DADDR;
                VmnetNftSelector key_addr[] = { daddr, VMNET_NFT_SEL_L4PROTO,
                                                VMNET_NFT_SEL_TH_DPORT };
                VmnetNftSelector key[] = { VMNET_NFT_SEL_L4PROTO, VMNET_NFT_SEL_TH_DPORT };
                VmnetNftValue local = { .type = VMNET_NFT_DT_FIB_ADDRTYPE, .num = 2 /* RTN_LOCAL */ };
                const char *map;
                VmnetNftRule *r;

                map = fwd_map_name(family, TRUE);
                if (vmnet_nft_ir_find_set(ir, map)) {
                        r = vmnet_nft_chain_add_rule(chain);
                        vmnet_nft_rule_match_nfproto(r, family);
                        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_FIB_DADDR_TYPE, FALSE, &local);
                        vmnet_nft_rule_set_dnat_map(r, family, key_addr, 3, map);
                }

                map = fwd_map_name(family, FALSE);
                if (vmnet_nft_ir_find_set(ir, map)) {
                        r = vmnet_nft_chain_add_rule(chain);
                        vmnet_nft_rule_match_nfproto(r, family);
                        if (local_out) {
                                /*
                                 * From the host itself, a forward without
                                 * host-ip would also catch connections to
                                 * loopback (a local service on
                                 * 127.0.0.1:8080), which cannot be
                                 * forwarded anyway: the kernel will not
                                 * route a loopback source out of a bridge.
                                 */
                                VmnetPrefix lo = { .addr = { .family = family } };

                                if (family == AF_INET6) {
                                        lo.addr.bytes[15] = 1;
                                        lo.prefix = 128;
                                } else {
                                        lo.addr.bytes[0] = 127;
                                        lo.prefix = 8;
                                }
                                vmnet_nft_rule_match_prefix(r, daddr, TRUE, &lo);
                        }
                        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_FIB_DADDR_TYPE, FALSE, &local);
                        vmnet_nft_rule_set_dnat_map(r, family, key, 2, map);
                }
        }
}

static gboolean subnet_has_forward_target(const VmnetNetwork *net, const VmnetSubnet *sub)
{
        for (guint i = 0; net->forwards && i < net->forwards->len; i++) {
                VmnetPortForward *fw = g_ptr_array_index(net->forwards, i);

                if (vmnet_prefix_contains(&sub->cidr, &fw->to))
                        return TRUE;
        }
        return FALSE;
}

/*
 * The interval set called name, made on first use. Sets are declared in the
 * order they were made: declare_sets() makes a group in a fixed order first,
 * prune_sets() removes those of them that stayed empty.
 */
static VmnetNftSet *interval_set(VmnetNftIr *ir, const char *name, const VmnetNftDatatype *key,
                                 guint n_key)
{
        VmnetNftSet *s = vmnet_nft_ir_find_set(ir, name);

        return s ? s : vmnet_nft_ir_add_interval_set(ir, name, key, n_key);
}

typedef struct {
        const char *name;
        VmnetNftDatatype key[VMNET_NFT_MAX_CONCAT];
        guint n_key;
} IntervalSetDecl;

static void declare_sets(VmnetNftIr *ir, const IntervalSetDecl *decl, guint n)
{
        for (guint i = 0; i < n; i++)
                interval_set(ir, decl[i].name, decl[i].key, decl[i].n_key);
}

/* Removes the sets from index first on that have no element. */
static void prune_sets(VmnetNftIr *ir, guint first)
{
        for (guint i = ir->sets->len; i > first; i--)
                if (vmnet_nft_set_n_elements(g_ptr_array_index(ir->sets, i - 1)) == 0)
                        g_ptr_array_remove_index(ir->sets, i - 1);
}

static VmnetNftSelector saddr_sel(gboolean v6)
{
        return v6 ? VMNET_NFT_SEL_IP6_SADDR : VMNET_NFT_SEL_IP_SADDR;
}

static VmnetNftSelector daddr_sel(gboolean v6)
{
        return v6 ? VMNET_NFT_SEL_IP6_DADDR : VMNET_NFT_SEL_IP_DADDR;
}

static VmnetNftDatatype addr_type(gboolean v6)
{
        return v6 ? VMNET_NFT_DT_IPV6_ADDR : VMNET_NFT_DT_IPV4_ADDR;
}

/*
 * The sets of the postrouting chain, so that it has the same six rules
 * whatever the number of NAT networks (index 0: IPv4, 1: IPv6):
 *   masq4      ip saddr                  the subnets of NAT networks without out=
 *   masq_via4  oifname . ip saddr        out= and the subnets of those with it
 *   hairpin4   ip saddr . ip daddr       each subnet a port forward lands in, twice
 * Subnets never overlap (the validator refuses it), so neither do elements.
 */
static const char *const set_masq[] = { "masq4", "masq6" };
static const char *const set_masq_via[] = { "masq_via4", "masq_via6" };
static const char *const set_hairpin[] = { "hairpin4", "hairpin6" };

static void add_postrouting(VmnetNftIr *ir, const VmnetPlan *plan)
{
        static const IntervalSetDecl decl[] = {
                { "masq4", { VMNET_NFT_DT_IPV4_ADDR }, 1 },
                { "masq_via4", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV4_ADDR }, 2 },
                { "hairpin4", { VMNET_NFT_DT_IPV4_ADDR, VMNET_NFT_DT_IPV4_ADDR }, 2 },
                { "masq6", { VMNET_NFT_DT_IPV6_ADDR }, 1 },
                { "masq_via6", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV6_ADDR }, 2 },
                { "hairpin6", { VMNET_NFT_DT_IPV6_ADDR, VMNET_NFT_DT_IPV6_ADDR }, 2 },
        };
        guint first = ir->sets->len;
        VmnetNftChain *chain;

        declare_sets(ir, decl, G_N_ELEMENTS(decl));

        for (guint n = 0; n < plan->networks->len; n++) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (net->mode != VMNET_MODE_NAT)
                        continue;
                for (guint i = 0; i < net->subnets->len; i++) {
                        VmnetSubnet *sub = g_ptr_array_index(net->subnets, i);
                        gboolean v6 = sub->cidr.addr.family == AF_INET6;
                        VmnetNftDatatype a = addr_type(v6);
                        VmnetNftValue v[] = { vmnet_nft_value_prefix(&sub->cidr),
                                              vmnet_nft_value_prefix(&sub->cidr) };

                        if (net->nat_out) {
                                VmnetNftDatatype key[] = { VMNET_NFT_DT_IFNAME, a };
                                VmnetNftValue via[] = { vmnet_nft_value_ifname(net->nat_out),
                                                        v[0] };

                                vmnet_nft_set_add_element(
                                        interval_set(ir, set_masq_via[v6], key, 2), via);
                        } else {
                                vmnet_nft_set_add_element(interval_set(ir, set_masq[v6], &a, 1),
                                                          v);
                        }
                        if (subnet_has_forward_target(net, sub)) {
                                VmnetNftDatatype key[] = { a, a };

                                vmnet_nft_set_add_element(
                                        interval_set(ir, set_hairpin[v6], key, 2), v);
                        }
                }
        }
        prune_sets(ir, first);
        if (!vmnet_nft_ir_find_set(ir, set_masq[0]) && !vmnet_nft_ir_find_set(ir, set_masq[1]) &&
            !vmnet_nft_ir_find_set(ir, set_masq_via[0]) &&
            !vmnet_nft_ir_find_set(ir, set_masq_via[1]))
                return;
        chain = vmnet_nft_ir_add_chain(ir, "postrouting", VMNET_NFT_CHAIN_NAT,
                                       VMNET_NFT_HOOK_POSTROUTING, 100, FALSE);

        /* Masquerade what leaves the NAT subnets towards the outside. */
        for (int via = 0; via <= 1; via++) {
                for (int v6 = 0; v6 <= 1; v6++) {
                        static const VmnetNftSelector oif_saddr4[] = { VMNET_NFT_SEL_OIFNAME,
                                                                       VMNET_NFT_SEL_IP_SADDR };
                        static const VmnetNftSelector oif_saddr6[] = { VMNET_NFT_SEL_OIFNAME,
                                                                       VMNET_NFT_SEL_IP6_SADDR };
                        VmnetNftSelector saddr = saddr_sel(v6);
                        const char *set = via ? set_masq_via[v6] : set_masq[v6];
                        VmnetNftRule *r;

                        if (!vmnet_nft_ir_find_set(ir, set))
                                continue;
                        r = vmnet_nft_chain_add_rule(chain);
                        vmnet_nft_rule_match_nfproto(r, v6 ? AF_INET6 : AF_INET);
                        if (via) {
                                vmnet_nft_rule_match_lookup(r, v6 ? oif_saddr6 : oif_saddr4, 2,
                                                            FALSE, set);
                        } else {
                                vmnet_nft_rule_match_lookup(r, sel_oif, 1, TRUE, SET_BRIDGES);
                                vmnet_nft_rule_match_lookup(r, &saddr, 1, FALSE, set);
                        }
                        if (!v6) {
                                /*
                                 * As libvirt: never masquerade local
                                 * multicast and limited broadcast.
                                 */
                                VmnetPrefix mcast = { .addr = { .family = AF_INET,
                                                                .bytes = { 224 } },
                                                      .prefix = 24 };
                                VmnetPrefix bcast = { .addr = { .family = AF_INET,
                                                                .bytes = { 255, 255, 255, 255 } },
                                                      .prefix = 32 };

                                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_DADDR, TRUE,
                                                            &mcast);
                                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_DADDR, TRUE,
                                                            &bcast);
                        }
                        if (!VMNET_MUTANT_IS(NO_MASQUERADE))
                                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_MASQUERADE);
                }
        }

        /*
         * Hairpin: a guest reaching a port forward of its own network is
         * DNATed back onto the bridge it came from; without a source rewrite
         * the target would answer the client directly, and the client would
         * drop a reply from an address it never talked to.
         */
        for (int v6 = 0; v6 <= 1; v6++) {
                VmnetNftSelector sel[] = { saddr_sel(v6), daddr_sel(v6) };
                VmnetNftRule *r;

                if (!vmnet_nft_ir_find_set(ir, set_hairpin[v6]))
                        continue;
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_nfproto(r, v6 ? AF_INET6 : AF_INET);
                vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATUS, VMNET_NFT_CT_STATUS_DNAT);
                vmnet_nft_rule_match_lookup(r, sel, 2, FALSE, set_hairpin[v6]);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_MASQUERADE);
        }
}

/* "SELECTORS @set accept", when the plan made the set (it exists only with elements). */
static void add_set_accept(VmnetNftIr *ir, VmnetNftChain *chain, const VmnetNftSelector *sel,
                           guint n_sel, const char *set)
{
        VmnetNftRule *r;

        if (!vmnet_nft_ir_find_set(ir, set))
                return;
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel, n_sel, FALSE, set);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
}

static void add_reject(VmnetNftChain *chain, const VmnetNftSelector *sel, const char *set)
{
        VmnetNftRule *r = vmnet_nft_chain_add_rule(chain);

        if (sel)
                vmnet_nft_rule_match_lookup(r, sel, 1, FALSE, set);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_REJECT_ADMIN);
}

/*
 * TRUE when the route i of a routed network lies inside another of its
 * routes (nested routes are allowed; subnets overlap nothing): the outer
 * element already covers it, and an interval set refuses overlaps.
 */
static gboolean route_nested(const VmnetNetwork *net, guint i)
{
        const VmnetRoute *ri = g_ptr_array_index(net->routes, i);

        for (guint j = 0; j < net->routes->len; j++) {
                const VmnetRoute *rj = g_ptr_array_index(net->routes, j);

                if (j == i || rj->to.addr.family != ri->to.addr.family ||
                    !vmnet_prefix_overlaps(&rj->to, &ri->to))
                        continue;
                if (rj->to.prefix < ri->to.prefix || (rj->to.prefix == ri->to.prefix && j < i))
                        return TRUE;
        }
        return FALSE;
}

/*
 * What NAT and routed networks forward, as sets keyed on the bridge and
 * the prefix, so the forward chain has the same six rules whatever the
 * number of networks (index 0: IPv4, 1: IPv6):
 *   out4      iifname . ip saddr            NAT without out=: its subnets; routed: its
 *                                           subnets and the prefixes routed behind its
 *                                           guests; out to anything but a vmnet bridge
 *   out_via4  iifname . oifname . ip saddr  NAT with out=: its subnets, out of out= only
 *   in4       oifname . ip daddr            routed: the same prefixes, inwards
 */
static const char *const set_out[] = { "out4", "out6" };
static const char *const set_out_via[] = { "out_via4", "out_via6" };
static const char *const set_in[] = { "in4", "in6" };

static void add_forward_prefix(VmnetNftIr *ir, const VmnetNetwork *net, const VmnetPrefix *p)
{
        gboolean v6 = p->addr.family == AF_INET6;
        VmnetNftDatatype a = addr_type(v6);
        VmnetNftValue br = vmnet_nft_value_ifname(net->bridge);
        VmnetNftValue pv = vmnet_nft_value_prefix(p);
        VmnetNftDatatype key[] = { VMNET_NFT_DT_IFNAME, a };
        VmnetNftValue v[] = { br, pv };

        if (net->mode == VMNET_MODE_NAT && net->nat_out) {
                VmnetNftDatatype key3[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME, a };
                VmnetNftValue v3[] = { br, vmnet_nft_value_ifname(net->nat_out), pv };

                vmnet_nft_set_add_element(interval_set(ir, set_out_via[v6], key3, 3), v3);
                return;
        }
        vmnet_nft_set_add_element(interval_set(ir, set_out[v6], key, 2), v);
        if (net->mode == VMNET_MODE_ROUTED)
                vmnet_nft_set_add_element(interval_set(ir, set_in[v6], key, 2), v);
}

static void add_forward_sets(VmnetNftIr *ir, const VmnetPlan *plan)
{
        static const IntervalSetDecl decl[] = {
                { "out4", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV4_ADDR }, 2 },
                { "out_via4", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV4_ADDR },
                  3 },
                { "in4", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV4_ADDR }, 2 },
                { "out6", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV6_ADDR }, 2 },
                { "out_via6", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV6_ADDR },
                  3 },
                { "in6", { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IPV6_ADDR }, 2 },
        };
        guint first = ir->sets->len;

        declare_sets(ir, decl, G_N_ELEMENTS(decl));
        for (guint n = 0; n < plan->networks->len; n++) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (!net->bridge || (net->mode != VMNET_MODE_NAT && net->mode != VMNET_MODE_ROUTED))
                        continue;
                for (guint i = 0; i < net->subnets->len; i++) {
                        VmnetSubnet *sub = g_ptr_array_index(net->subnets, i);

                        add_forward_prefix(ir, net, &sub->cidr);
                }
                for (guint i = 0; net->mode == VMNET_MODE_ROUTED && i < net->routes->len; i++) {
                        VmnetRoute *rt = g_ptr_array_index(net->routes, i);

                        if (!route_nested(net, i))
                                add_forward_prefix(ir, net, &rt->to);
                }
        }
        prune_sets(ir, first);
}

/* "meta nfproto ipv4|ipv6 SELECTORS @set accept", when the plan made the set. */
/*
 * "meta nfproto F ct state new,untracked OTHER != @bridges SEL @set accept":
 * OTHER is the side SEL does not key on.
 */
static void add_family_set_accept(VmnetNftIr *ir, VmnetNftChain *chain, gboolean v6,
                                  const VmnetNftSelector *other, const VmnetNftSelector *sel,
                                  guint n_sel, const char *set)
{
        VmnetNftRule *r;

        if (!vmnet_nft_ir_find_set(ir, set))
                return;
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_nfproto(r, v6 ? AF_INET6 : AF_INET);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE,
                                   VMNET_NFT_CT_NEW | VMNET_NFT_CT_UNTRACKED);
        if (!VMNET_MUTANT_IS(FWD_OUT_ANY))
                vmnet_nft_rule_match_lookup(r, other, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_match_lookup(r, sel, n_sel, FALSE, set);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
}

/*
 * The forward policy. Every vmnet bridge is in @bridges, whatever its
 * mode, so nothing a guest sends through the host escapes it; what the
 * host forwards for each mode is then said positively (NAT: from its
 * subnets, out of out= when given; routed: its subnets and the prefixes
 * routed behind its guests, both ways) and everything else from or to a
 * vmnet bridge is rejected with ICMP administratively prohibited, as
 * libvirt does, so a failure is visible at once.
 */
static void add_forward(VmnetNftIr *ir)
{
        static const VmnetNftSelector same[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_OIFNAME };
        static const VmnetNftSelector pair[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_OIFNAME };
        static const VmnetNftSelector proto[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_OIFNAME,
                                                  VMNET_NFT_SEL_L4PROTO };
        static const VmnetNftSelector ports[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_OIFNAME,
                                                  VMNET_NFT_SEL_L4PROTO,
                                                  VMNET_NFT_SEL_TH_DPORT };
        gboolean any_forward = FALSE;
        VmnetNftChain *chain;
        VmnetNftRule *r;

        if (!vmnet_nft_ir_find_set(ir, SET_BRIDGES))
                return;
        for (guint i = 0; i < ir->sets->len; i++) {
                VmnetNftSet *s = g_ptr_array_index(ir->sets, i);

                any_forward |= g_str_has_prefix(s->name, "fwd");
        }

        chain = vmnet_nft_ir_add_chain(ir, "forward", VMNET_NFT_CHAIN_FILTER,
                                       VMNET_NFT_HOOK_FORWARD, 0, FALSE);

        /*
         * Established and related first: every rule that used to precede
         * it accepted too, so this only shortens the path of most packets.
         */
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE,
                                   VMNET_NFT_CT_ESTABLISHED | VMNET_NFT_CT_RELATED);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        /*
         * NAT: out to the rest of the world from the network's own subnets
         * only (a spoofed source would leave unmasqueraded), and only out
         * of out= when the plan names it. Routed: its subnets and the
         * prefixes routed behind its guests, both ways. Host-only gets
         * nothing, nor does the other family of a network without a
         * subnet of it. One lookup each, whatever the number of networks.
         *
         * These come first after the established accept, so that a new
         * packet from a guest to the outside (one-way UDP: every datagram)
         * stops after two set lookups. Each says "not invalid" (new or
         * untracked: established and related are gone) and "the other
         * side is not a vmnet bridge", which keeps it disjoint from every
         * rule it used to follow: same_bridge and "neither side" (one side
         * is a bridge, the other not), ct state invalid drop, the L2 drops
         * (out4, in4, ... hold only NAT and routed bridges) and the
         * isolation reject (both sides bridges). So it accepts exactly
         * what it accepted after them.
         */
        for (int v6 = 0; v6 <= 1; v6++) {
                VmnetNftSelector out[] = { VMNET_NFT_SEL_IIFNAME, saddr_sel(v6) };
                VmnetNftSelector via[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_OIFNAME,
                                           saddr_sel(v6) };
                VmnetNftSelector in[] = { VMNET_NFT_SEL_OIFNAME, daddr_sel(v6) };

                add_family_set_accept(ir, chain, v6, sel_oif, out, 2, set_out[v6]);
                add_family_set_accept(ir, chain, v6, sel_oif, via, 3, set_out_via[v6]);
                add_family_set_accept(ir, chain, v6, sel_iif, in, 2, set_in[v6]);
        }

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, same, 2, FALSE, SET_SAME);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        /*
         * Traffic that touches none of vmnet's bridges is not vmnet's
         * business: leave it to the host's other tables, so that even
         * "ct state invalid drop" only ever applies to vmnet's networks.
         */
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_match_lookup(r, sel_oif, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE, VMNET_NFT_CT_INVALID);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);

        /*
         * Isolated and bridged networks (without the host's own address):
         * the host is not on them, so it is never a routing hop for them.
         * What a guest there sends to the host's MAC is dropped without an
         * answer (an ICMP error would show a host address where the host
         * has none); what would be routed onto them is rejected.
         */
        if (vmnet_nft_ir_find_set(ir, SET_L2)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, sel_iif, 1, FALSE, SET_L2);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
                add_reject(chain, sel_oif, SET_L2);
        }

        if (any_forward) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATUS, VMNET_NFT_CT_STATUS_DNAT);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
        }

        add_set_accept(ir, chain, pair, 2, SET_ALLOW_PAIRS);
        add_set_accept(ir, chain, proto, 3, SET_ALLOW_PROTO);
        add_set_accept(ir, chain, ports, 4, SET_ALLOW_PORTS);

        /* Isolation between vmnet networks. */
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, FALSE, SET_BRIDGES);
        vmnet_nft_rule_match_lookup(r, sel_oif, 1, FALSE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_REJECT_ADMIN);

        add_reject(chain, sel_iif, SET_BRIDGES);
        add_reject(chain, sel_oif, SET_BRIDGES);
}

/*
 * What guests may reach on the host itself: ICMP and ICMPv6 (neighbour
 * discovery, router solicitations, ping, path MTU), DNS, DHCP and DHCPv6,
 * and what the plan's <allow-host> rules add; every other connection is
 * refused with a TCP reset or ICMP administratively prohibited (libvirt's
 * firewalld zone admits a similar short list and rejects the rest).
 * Nothing at all from isolated and bridged networks, where the host has
 * no address. Interfaces that are not vmnet bridges are not vmnet's
 * business.
 */
static void add_input(VmnetNftIr *ir)
{
        static const VmnetNftSelector svc[] = { VMNET_NFT_SEL_L4PROTO, VMNET_NFT_SEL_TH_DPORT };
        static const VmnetNftSelector h_proto[] = { VMNET_NFT_SEL_IIFNAME,
                                                    VMNET_NFT_SEL_L4PROTO };
        static const VmnetNftSelector h_ports[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_L4PROTO,
                                                    VMNET_NFT_SEL_TH_DPORT };
        VmnetNftChain *chain;
        VmnetNftRule *r;
        VmnetNftValue v;

        if (!vmnet_nft_ir_find_set(ir, SET_BRIDGES) || VMNET_MUTANT_IS(HOST_OPEN))
                return;
        chain = vmnet_nft_ir_add_chain(ir, "input", VMNET_NFT_CHAIN_FILTER, VMNET_NFT_HOOK_INPUT,
                                       0, FALSE);

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        if (vmnet_nft_ir_find_set(ir, SET_L2)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, sel_iif, 1, FALSE, SET_L2);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
        }
        if (!vmnet_nft_ir_find_set(ir, SET_HOST_SERVICES))
                return; /* only isolated and bridged networks */

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE,
                                   VMNET_NFT_CT_ESTABLISHED | VMNET_NFT_CT_RELATED);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE, VMNET_NFT_CT_INVALID);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);

        r = vmnet_nft_chain_add_rule(chain);
        v = vmnet_nft_value_proto(1); /* icmp */
        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &v);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        r = vmnet_nft_chain_add_rule(chain);
        v = vmnet_nft_value_proto(58); /* ipv6-icmp */
        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &v);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, svc, 2, FALSE, SET_HOST_SERVICES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        add_set_accept(ir, chain, sel_iif, 1, SET_HOST_ALLOW);
        add_set_accept(ir, chain, h_proto, 2, SET_HOST_ALLOW_PROTO);
        add_set_accept(ir, chain, h_ports, 3, SET_HOST_ALLOW_PORTS);

        r = vmnet_nft_chain_add_rule(chain);
        v = vmnet_nft_value_proto(VMNET_PROTO_TCP);
        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &v);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_REJECT_TCP_RESET);
        add_reject(chain, NULL, NULL);
}

/*
 * table bridge vmnet: anti-spoofing per guest port (<security>, the model's
 * VmnetSecurity). The inet family never sees frames a bridge forwards
 * between its ports, so this lives in the bridge family, at prerouting,
 * before the bridge decides anything. The cost per frame is fixed, however
 * many guests there are: every rule is a lookup in a set keyed on the
 * port's name (the tap vmnet names "vmn" + MAC, vmnet_tap_name()):
 *
 *   guest_ports                 every guest port of the plan
 *   mac_deny ip4_deny ip6_deny  the ports each check applies to
 *   dhcp_deny ra_deny
 *   ip6_net_N                   ports of network N (plan order) limited to its IPv6 subnets
 *   vlan_deny                   ports with any IP-level check (tagged frames would pass them)
 *   port_mac   ifname . ether_addr   the port's own MAC
 *   port_ip4   ifname . ipv4_addr    the IPv4 addresses the plan gives it
 *   port_mac_ip4  ifname . ether_addr . ipv4_addr
 *                                    both, for ports in mac_deny and ip4_deny
 *
 * A guest's own IPv4 traffic (its MAC, one of its addresses, not from UDP
 * port 67) is accepted by one lookup in port_mac_ip4 right after
 * guest_ports, instead of walking the checks below (mac_deny, port_mac,
 * ip4_deny, port_ip4: four more lookups): none of them drops such a frame
 * (a tagged frame's ether type is 802.1Q, not IPv4; DHCP server replies,
 * from UDP port 67, take the full path), so what is dropped, and what
 * counts it, is unchanged; only what is accepted costs less.
 *
 * What vmnet does not know cannot be checked: a port whose interface has
 * no IPv4 address in the plan (ip=, a <reservation> of its MAC) nor one
 * vmnet's IPAM allocated it is not in ip4_deny (vmnet_nft_port_ip4()). The plan gives guests no IPv6 address (DHCPv6 does not
 * identify clients by MAC, so the validator refuses IPv6 ip=): a port's
 * IPv6 sources are limited to link-local, :: for ICMPv6 (duplicate
 * address detection) and its network's IPv6 subnets (ip6_net_N, one rule
 * per such subnet); on a network without an IPv6 subnet they are not
 * checked. Frames of other ports
 * (uplinks, foreign guests) are accepted at once. Each drop counts what
 * it drops, under a comment "vmnet antispoof WHAT".
 */
#define BSET_MAC_DENY "mac_deny"
#define BSET_IP4_DENY "ip4_deny"
#define BSET_IP6_DENY "ip6_deny"
#define BSET_IP6_NET "ip6_net_" /* + the network's index in the plan */
#define BSET_DHCP_DENY "dhcp_deny"
#define BSET_RA_DENY "ra_deny"
#define BSET_VLAN_DENY "vlan_deny"
#define BSET_PORT_MAC "port_mac"
#define BSET_PORT_IP4 "port_ip4"
#define BSET_PORT_MAC_IP4 "port_mac_ip4"

typedef struct {
        VmnetNftIr *ir;
        GHashTable *sets; /* name -> VmnetNftSet*, created on first element */
} BridgeSets;

static void bset_add(BridgeSets *b, const char *name, const VmnetNftValue *v, guint n)
{
        VmnetNftSet *set = g_hash_table_lookup(b->sets, name);

        if (!set) {
                VmnetNftDatatype key[VMNET_NFT_MAX_CONCAT];

                for (guint i = 0; i < n; i++)
                        key[i] = v[i].type;
                set = vmnet_nft_ir_add_set(b->ir, name, key, n, NULL, 0);
                g_hash_table_insert(b->sets, set->name, set);
        }
        vmnet_nft_set_add_element(set, v);
}

static void bset_add_port(BridgeSets *b, const char *name, const char *tap)
{
        VmnetNftValue v = vmnet_nft_value_ifname(tap);

        bset_add(b, name, &v, 1);
}

void vmnet_nft_port_ip4(const VmnetNetwork *net, const VmnetInterface *ifc,
                        const VmnetIpam *ipam, GArray *out, const char **why)
{
        const VmnetIpamEntry *e = ipam ? vmnet_ipam_lookup(ipam, net->name, &ifc->mac) : NULL;
        guint before = out->len;

        if (ifc->has_ip && ifc->ip.family == AF_INET)
                g_array_append_val(out, ifc->ip);
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *sub = g_ptr_array_index(net->subnets, i);

                for (guint j = 0; j < sub->reservations->len; j++) {
                        const VmnetReservation *r = g_ptr_array_index(sub->reservations, j);

                        if (r->ip.family == AF_INET && vmnet_mac_equal(&r->mac, &ifc->mac))
                                g_array_append_val(out, r->ip);
                }
        }
        /* Plan addresses are IPAM entries too; only an allocation is new here. */
        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_IPAM) && e &&
            e->source == VMNET_IPAM_SOURCE_ALLOCATED && e->ip.family == AF_INET)
                g_array_append_val(out, e->ip);
        if (!why || out->len > before)
                return;
        if (!vmnet_network_first_subnet(net, AF_INET))
                *why = "its network has no IPv4 subnet";
        else if (!vmnet_ipam_network_allocates(net))
                *why = "the plan gives it no IPv4 address (ip=, or a <reservation> of its MAC), "
                       "and vmnet allocates none on a bridged or isolated network (it serves no "
                       "DHCP there)";
        else
                *why = "vmnet's IPAM gave it no IPv4 address";
}

/* The network of ifc whose port table bridge vmnet covers (a bridge, a MAC), or NULL. */
static const VmnetNetwork *port_network(const VmnetPlan *plan, const VmnetInterface *ifc,
                                        guint *index)
{
        for (guint n = 0; n < plan->networks->len; n++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (g_strcmp0(net->name, ifc->network) != 0)
                        continue;
                if (!ifc->has_mac || !net->bridge)
                        return NULL;
                if (index)
                        *index = n;
                return net;
        }
        return NULL;
}

GArray *vmnet_nft_unbound_ip4_ports(const VmnetPlan *plan, const VmnetIpam *ipam)
{
        GArray *out = g_array_new(FALSE, TRUE, sizeof(VmnetUnboundPort));

        for (guint d = 0; d < plan->domains->len; d++) {
                const VmnetDomain *dom = g_ptr_array_index(plan->domains, d);

                for (guint i = 0; i < dom->interfaces->len; i++) {
                        const VmnetInterface *ifc = g_ptr_array_index(dom->interfaces, i);
                        const VmnetNetwork *net = port_network(plan, ifc, NULL);
                        g_autoptr(GArray) v4 = g_array_new(FALSE, FALSE, sizeof(VmnetAddr));
                        VmnetUnboundPort u = { .domain = dom, .network = net, .iface = ifc };

                        if (!net || vmnet_interface_sec_allowed(net, ifc, VMNET_SEC_IP))
                                continue;
                        vmnet_nft_port_ip4(net, ifc, ipam, v4, &u.why);
                        if (!v4->len)
                                g_array_append_val(out, u);
                }
        }
        return out;
}

static char *ip6_net_set(guint net_index)
{
        return g_strdup_printf(BSET_IP6_NET "%u", net_index);
}

static void bridge_port(BridgeSets *b, const VmnetNetwork *net, guint net_index,
                        const VmnetInterface *ifc, const VmnetIpam *ipam, GArray *ip6_nets)
{
        char tap[VMNET_IFNAMSIZ];
        gboolean any_l3 = FALSE;

        vmnet_tap_name(&ifc->mac, tap);
        bset_add_port(b, VMNET_NFT_SET_GUEST_PORTS, tap);
        {
                VmnetNftValue v[] = { vmnet_nft_value_ifname(tap), vmnet_nft_value_mac(&ifc->mac) };

                bset_add(b, BSET_PORT_MAC, v, 2);
        }
        if (!vmnet_interface_sec_allowed(net, ifc, VMNET_SEC_MAC))
                bset_add_port(b, BSET_MAC_DENY, tap);
        if (!vmnet_interface_sec_allowed(net, ifc, VMNET_SEC_IP)) {
                g_autoptr(GArray) v4 = g_array_new(FALSE, FALSE, sizeof(VmnetAddr));

                vmnet_nft_port_ip4(net, ifc, ipam, v4, NULL);
                for (guint i = 0; i < v4->len; i++) {
                        VmnetNftValue v[] = { vmnet_nft_value_ifname(tap),
                                              vmnet_nft_value_addr(&g_array_index(v4, VmnetAddr, i)) };

                        bset_add(b, BSET_PORT_IP4, v, 2);
                }
                if (v4->len) {
                        bset_add_port(b, BSET_IP4_DENY, tap);
                        any_l3 = TRUE;
                }
                /* the fast path's key: both checks in one lookup */
                for (guint i = 0; i < v4->len && !vmnet_interface_sec_allowed(net, ifc, VMNET_SEC_MAC); i++) {
                        VmnetNftValue v[] = { vmnet_nft_value_ifname(tap), vmnet_nft_value_mac(&ifc->mac),
                                              vmnet_nft_value_addr(&g_array_index(v4, VmnetAddr, i)) };

                        bset_add(b, BSET_PORT_MAC_IP4, v, 3);
                }
                if (vmnet_network_first_subnet(net, AF_INET6)) {
                        g_autofree char *name = ip6_net_set(net_index);

                        if (!vmnet_nft_ir_find_set(b->ir, name))
                                g_array_append_val(ip6_nets, net_index);
                        bset_add_port(b, name, tap);
                        bset_add_port(b, BSET_IP6_DENY, tap);
                        any_l3 = TRUE;
                }
        }
        if (!vmnet_interface_sec_allowed(net, ifc, VMNET_SEC_DHCP)) {
                bset_add_port(b, BSET_DHCP_DENY, tap);
                any_l3 = TRUE;
        }
        if (!vmnet_interface_sec_allowed(net, ifc, VMNET_SEC_RA)) {
                bset_add_port(b, BSET_RA_DENY, tap);
                any_l3 = TRUE;
        }
        if (any_l3)
                bset_add_port(b, BSET_VLAN_DENY, tap);
}

/*
 * A new rule "[ether type T] ..." in chain, or NULL when the port set
 * ports does not exist; the caller adds its compares, then port_match().
 * Compares are cheaper than a set lookup, and most frames fail one of
 * them (an IPv4 datagram is not a DHCP offer), so they go first: a frame
 * pays for the lookup only when the rest of the rule matches.
 */
static VmnetNftRule *port_rule_open(VmnetNftIr *ir, VmnetNftChain *chain, int ether_type,
                                    const char *ports)
{
        VmnetNftRule *r;

        if (!vmnet_nft_ir_find_set(ir, ports))
                return NULL;
        r = vmnet_nft_chain_add_rule(chain);
        if (ether_type) {
                VmnetNftValue t = vmnet_nft_value_ether_type((guint16)ether_type);

                vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_ETHER_TYPE, FALSE, &t);
        }
        return r;
}

/* "iifname @ports" on r. */
static void port_match(VmnetNftRule *r, const char *ports)
{
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, FALSE, ports);
}

/* A new rule "[ether type T] iifname @ports ..." in chain, or NULL when ports does not exist. */
static VmnetNftRule *port_rule(VmnetNftIr *ir, VmnetNftChain *chain, int ether_type,
                               const char *ports)
{
        VmnetNftRule *r = port_rule_open(ir, chain, ether_type, ports);

        if (r)
                port_match(r, ports);
        return r;
}

static void drop_counted(VmnetNftRule *r, const char *what)
{
        g_autofree char *comment = g_strconcat(VMNET_NFT_ANTISPOOF_COMMENT, what, NULL);

        vmnet_nft_rule_set_counter(r, comment);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
}

static void match_l4(VmnetNftRule *r, guint8 proto, VmnetNftSelector port_sel, guint16 port)
{
        VmnetNftValue p = vmnet_nft_value_proto(proto), n = vmnet_nft_value_port(port);

        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &p);
        vmnet_nft_rule_match_cmp(r, port_sel, FALSE, &n);
}

static void host_prefix(VmnetPrefix *p, int family, const guint8 *bytes, guint plen)
{
        memset(p, 0, sizeof(*p));
        p->addr.family = family;
        memcpy(p->addr.bytes, bytes, family == AF_INET6 ? 16 : 4);
        p->prefix = plen;
}

/*
 * The fast path (see above): "ether type ip meta l4proto != udp
 * iifname . ether saddr . ip saddr @port_mac_ip4 accept", and the same for
 * UDP "th sport != 67" (a DHCP server reply must meet the dhcp-server
 * check). Two rules, so that a datagram pays two compares, not a lookup,
 * for the first.
 */
static void add_bridge_fast_path(VmnetNftIr *ir, VmnetNftChain *chain)
{
        static const VmnetNftSelector key[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_ETHER_SADDR,
                                                VMNET_NFT_SEL_IP_SADDR };
        VmnetNftValue udp = vmnet_nft_value_proto(VMNET_PROTO_UDP), server = vmnet_nft_value_port(67);
        VmnetNftRule *r;

        for (guint i = 0; i < 2; i++) {
                if (!(r = port_rule_open(ir, chain, 0x0800, BSET_PORT_MAC_IP4)))
                        return;
                vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, i == 0, &udp);
                if (i == 1 && !VMNET_MUTANT_IS(ANTISPOOF_FAST_DHCP))
                        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_TH_SPORT, TRUE, &server);
                vmnet_nft_rule_match_lookup(r, key, 3, FALSE, BSET_PORT_MAC_IP4);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
        }
}

static void add_bridge_rules(VmnetNftIr *ir, const VmnetPlan *plan, GArray *ip6_nets)
{
        static const VmnetNftSelector port_mac[] = { VMNET_NFT_SEL_IIFNAME,
                                                     VMNET_NFT_SEL_ETHER_SADDR };
        static const VmnetNftSelector arp_mac[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_ARP_SHA };
        static const VmnetNftSelector arp_ip[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_ARP_SPA };
        static const VmnetNftSelector ip4[] = { VMNET_NFT_SEL_IIFNAME, VMNET_NFT_SEL_IP_SADDR };
        static const guint8 zero[16] = { 0 }, bcast[4] = { 255, 255, 255, 255 };
        static const guint8 ll[16] = { 0xfe, 0x80 };
        VmnetNftChain *chain;
        VmnetNftRule *r;
        VmnetPrefix p;

        chain = vmnet_nft_ir_add_chain(ir, "prerouting", VMNET_NFT_CHAIN_FILTER,
                                       VMNET_NFT_HOOK_PREROUTING, -200, FALSE);

        /* Uplinks and ports vmnet did not name are none of this table's business. */
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, TRUE, VMNET_NFT_SET_GUEST_PORTS);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        add_bridge_fast_path(ir, chain);

        /* A tagged frame would pass every check below on its inner type. */
        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_VLAN) && (r = port_rule(ir, chain, 0x8100, BSET_VLAN_DENY)))
                drop_counted(r, "vlan-tagged");
        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_VLAN) && (r = port_rule(ir, chain, 0x88a8, BSET_VLAN_DENY)))
                drop_counted(r, "vlan-tagged");

        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_MAC) && (r = port_rule(ir, chain, 0, BSET_MAC_DENY))) {
                vmnet_nft_rule_match_lookup(r, port_mac, 2, TRUE, BSET_PORT_MAC);
                drop_counted(r, "mac-spoofing");
        }
        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_ARP_MAC) && (r = port_rule(ir, chain, 0x0806, BSET_MAC_DENY))) {
                vmnet_nft_rule_match_lookup(r, arp_mac, 2, TRUE, BSET_PORT_MAC);
                drop_counted(r, "arp-mac");
        }
        /* An ARP probe's sender address is 0.0.0.0 (RFC 5227). */
        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_IP) &&
            (r = port_rule_open(ir, chain, 0x0806, BSET_IP4_DENY))) {
                VmnetNftValue any = { .type = VMNET_NFT_DT_IPV4_ADDR, .addr = { .family = AF_INET } };

                vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_ARP_SPA, TRUE, &any);
                port_match(r, BSET_IP4_DENY);
                vmnet_nft_rule_match_lookup(r, arp_ip, 2, TRUE, BSET_PORT_IP4);
                drop_counted(r, "arp-ip");
        }

        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_DHCP) &&
            (r = port_rule_open(ir, chain, 0x0800, BSET_DHCP_DENY))) {
                match_l4(r, VMNET_PROTO_UDP, VMNET_NFT_SEL_TH_SPORT, 67);
                port_match(r, BSET_DHCP_DENY);
                drop_counted(r, "dhcp-server");
        }
        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_DHCP) &&
            (r = port_rule_open(ir, chain, 0x86dd, BSET_DHCP_DENY))) {
                match_l4(r, VMNET_PROTO_UDP, VMNET_NFT_SEL_TH_SPORT, 547);
                port_match(r, BSET_DHCP_DENY);
                drop_counted(r, "dhcpv6-server");
        }
        for (guint i = 0; i < 2; i++) {
                VmnetNftValue icmp = vmnet_nft_value_proto(58);
                VmnetNftValue type = vmnet_nft_value_icmpv6_type(i == 0 ? 134 : 137);

                if (VMNET_MUTANT_IS(NO_ANTISPOOF_RA) ||
                    !(r = port_rule_open(ir, chain, 0x86dd, BSET_RA_DENY)))
                        break;
                vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &icmp);
                vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_ICMPV6_TYPE, FALSE, &type);
                port_match(r, BSET_RA_DENY);
                drop_counted(r, i == 0 ? "router-advertisement" : "redirect");
        }

        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_IP) && vmnet_nft_ir_find_set(ir, BSET_IP4_DENY)) {
                /*
                 * A DHCP client has no address yet: 0.0.0.0 -> 255.255.255.255,
                 * udp to port 67 (not also "th sport 68": nft would merge the
                 * two ports into one 4-byte compare, which the IR does not say).
                 */
                r = port_rule_open(ir, chain, 0x0800, BSET_IP4_DENY);
                host_prefix(&p, AF_INET, zero, 32);
                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_SADDR, FALSE, &p);
                host_prefix(&p, AF_INET, bcast, 32);
                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP_DADDR, FALSE, &p);
                match_l4(r, VMNET_PROTO_UDP, VMNET_NFT_SEL_TH_DPORT, 67);
                port_match(r, BSET_IP4_DENY);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

                r = port_rule(ir, chain, 0x0800, BSET_IP4_DENY);
                vmnet_nft_rule_match_lookup(r, ip4, 2, TRUE, BSET_PORT_IP4);
                drop_counted(r, "ip-spoofing");
        }

        if (!VMNET_MUTANT_IS(NO_ANTISPOOF_IP) && vmnet_nft_ir_find_set(ir, BSET_IP6_DENY)) {
                VmnetNftValue icmp = vmnet_nft_value_proto(58);

                /* Duplicate address detection and MLD before an address: ICMPv6 from ::. */
                r = port_rule_open(ir, chain, 0x86dd, BSET_IP6_DENY);
                host_prefix(&p, AF_INET6, zero, 128);
                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP6_SADDR, FALSE, &p);
                vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &icmp);
                port_match(r, BSET_IP6_DENY);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

                r = port_rule_open(ir, chain, 0x86dd, BSET_IP6_DENY);
                host_prefix(&p, AF_INET6, ll, 10);
                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP6_SADDR, FALSE, &p);
                port_match(r, BSET_IP6_DENY);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

                /* One rule per IPv6 subnet of a network with checked ports. */
                for (guint n = 0; n < ip6_nets->len; n++) {
                        guint idx = g_array_index(ip6_nets, guint, n);
                        const VmnetNetwork *net = g_ptr_array_index(plan->networks, idx);
                        g_autofree char *name = ip6_net_set(idx);

                        for (guint i = 0; i < net->subnets->len; i++) {
                                const VmnetSubnet *sub = g_ptr_array_index(net->subnets, i);

                                if (sub->cidr.addr.family != AF_INET6)
                                        continue;
                                r = port_rule_open(ir, chain, 0x86dd, name);
                                vmnet_nft_rule_match_prefix(r, VMNET_NFT_SEL_IP6_SADDR, FALSE,
                                                            &sub->cidr);
                                port_match(r, name);
                                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
                        }
                }
                r = port_rule(ir, chain, 0x86dd, BSET_IP6_DENY);
                drop_counted(r, "ipv6-spoofing");
        }
}

static guint bset_rank(const char *const *order, const char *name)
{
        guint k = 0;

        while (order[k] && !g_str_equal(order[k], name))
                k++;
        /* ip6_net_N last, in the order of N */
        if (!order[k] && g_str_has_prefix(name, BSET_IP6_NET))
                return 1000 + (guint)g_ascii_strtoull(name + strlen(BSET_IP6_NET), NULL, 10);
        return k;
}

static gint cmp_bset_order(gconstpointer a, gconstpointer b, gpointer order)
{
        const VmnetNftSet *x = *(VmnetNftSet *const *)a, *y = *(VmnetNftSet *const *)b;

        return (gint)bset_rank(order, x->name) - (gint)bset_rank(order, y->name);
}

static VmnetNftIr *bridge_ir_from_plan(const VmnetPlan *plan, const VmnetIpam *ipam,
                                       const char *comment)
{
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_new_family(VMNET_NFT_FAMILY_BRIDGE, comment);
        g_autoptr(GHashTable) sets = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GArray) ip6_nets = g_array_new(FALSE, FALSE, sizeof(guint));
        BridgeSets b = { .ir = ir, .sets = sets };
        static const char *const order[] = {
                VMNET_NFT_SET_GUEST_PORTS, BSET_MAC_DENY, BSET_IP4_DENY, BSET_IP6_DENY,
                BSET_DHCP_DENY, BSET_RA_DENY, BSET_VLAN_DENY, BSET_PORT_MAC,
                BSET_PORT_IP4, BSET_PORT_MAC_IP4, NULL,
        };

        for (guint d = 0; d < plan->domains->len; d++) {
                const VmnetDomain *dom = g_ptr_array_index(plan->domains, d);

                for (guint i = 0; i < dom->interfaces->len; i++) {
                        const VmnetInterface *ifc = g_ptr_array_index(dom->interfaces, i);
                        guint n = 0;
                        const VmnetNetwork *net = port_network(plan, ifc, &n);

                        if (net)
                                bridge_port(&b, net, n, ifc, ipam, ip6_nets);
                }
        }
        if (!vmnet_nft_ir_find_set(ir, VMNET_NFT_SET_GUEST_PORTS))
                return NULL;
        /* Sets in a fixed order, whatever the plan's order. */
        g_ptr_array_sort_with_data(ir->sets, cmp_bset_order, (gpointer)order);
        add_bridge_rules(ir, plan, ip6_nets);
        return g_steal_pointer(&ir);
}

VmnetNftIr *vmnet_nft_ir_from_plan(const VmnetPlan *plan, const VmnetIpam *ipam)
{
        g_autofree char *comment = g_strdup_printf("managed by vmnet plan %s", plan->name);
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_new(comment);
        g_autoptr(GPtrArray) bridges = g_ptr_array_new();
        g_autoptr(GPtrArray) l2 = g_ptr_array_new();
        g_autoptr(GHashTable) seen_bridges = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) seen_l2 = g_hash_table_new(g_str_hash, g_str_equal);
        gboolean any_host = FALSE;
        VmnetNftChain *chain;

        /*
         * "bridges" holds every bridge of the plan's guests, whatever the
         * mode, except a bridged network's bridge that carries the host's
         * own address (migrate-addresses): that one is the host's uplink,
         * the LAN, where NAT networks are masqueraded to. "l2_bridges"
         * holds those of them where the host has no presence (isolated,
         * and bridged without the host's address).
         */
        for (guint n = 0; n < plan->networks->len; n++) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (!net->bridge || vmnet_bridge_is_host_uplink(plan, net->bridge))
                        continue;
                if (VMNET_MUTANT_IS(L2_HOP) && !vmnet_mode_has_host_address(net->mode))
                        continue;
                add_name_once(bridges, seen_bridges, net->bridge);
                if (!vmnet_mode_has_host_address(net->mode))
                        add_name_once(l2, seen_l2, net->bridge);
                else
                        any_host = TRUE;
        }
        add_ifname_set(ir, SET_BRIDGES, bridges);
        add_ifname_set(ir, SET_L2, l2);
        add_same_bridge_set(ir, bridges);
        if (any_host)
                add_host_services_set(ir);
        add_allow_sets(ir, plan);
        add_forward_maps(ir, plan);

        if (vmnet_nft_ir_find_set(ir, "fwd4") || vmnet_nft_ir_find_set(ir, "fwd4_addr") ||
            vmnet_nft_ir_find_set(ir, "fwd6") || vmnet_nft_ir_find_set(ir, "fwd6_addr")) {
                chain = vmnet_nft_ir_add_chain(ir, "prerouting", VMNET_NFT_CHAIN_NAT,
                                               VMNET_NFT_HOOK_PREROUTING, -100, FALSE);
                add_dnat_rules(ir, chain, FALSE);
                /* So that forwards also work from the host itself. */
                chain = vmnet_nft_ir_add_chain(ir, "output", VMNET_NFT_CHAIN_NAT,
                                               VMNET_NFT_HOOK_OUTPUT, -100, FALSE);
                add_dnat_rules(ir, chain, TRUE);
        }
        add_postrouting(ir, plan);
        add_forward_sets(ir, plan);
        add_input(ir);
        add_forward(ir);
        ir->bridge = bridge_ir_from_plan(plan, ipam, comment);

        return g_steal_pointer(&ir);
}
