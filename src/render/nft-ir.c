/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "render/nft-ir.h"
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
};

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
                buf[0] = (guint8)v->num;
                break;
        case VMNET_NFT_DT_INET_SERVICE:
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
        };

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
        VmnetNftIr *ir = g_new0(VmnetNftIr, 1);

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

static GBytes *key_bytes(const VmnetNftSet *set, const VmnetNftValue *v)
{
        guint8 buf[VMNET_NFT_MAX_CONCAT * 16];

        for (guint k = 0; k < set->n_key; k++)
                vmnet_nft_value_bytes(&v[k], buf + 16 * k);
        return g_bytes_new(buf, 16 * set->n_key);
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
                 stmt == VMNET_NFT_STMT_MASQUERADE);
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

/* --- from the plan --- */

/*
 * Set names. Only sets with at least one element are declared, and a rule
 * that needs a set is only emitted when the set exists, so the table never
 * carries dead rules.
 */
#define SET_BRIDGES "bridges"
#define SET_HOSTONLY "hostonly_bridges"
#define SET_NAT "nat_bridges"
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

static void add_allow_sets(VmnetNftIr *ir, const VmnetPlan *plan, GPtrArray *bridges)
{
        static const VmnetNftDatatype pair[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME };
        static const VmnetNftDatatype proto[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME,
                                                  VMNET_NFT_DT_INET_PROTO };
        static const VmnetNftDatatype ports[] = { VMNET_NFT_DT_IFNAME, VMNET_NFT_DT_IFNAME,
                                                  VMNET_NFT_DT_INET_PROTO,
                                                  VMNET_NFT_DT_INET_SERVICE };
        VmnetNftSet *s_pairs = NULL, *s_proto = NULL, *s_ports = NULL;

        /*
         * Every bridge to itself: with br_netfilter loaded, frames between
         * two guests of one network traverse the inet forward hook as
         * "iifname vm-x oifname vm-x" and would otherwise hit the isolation
         * drops below (libvirt's LIBVIRT_FWX chain does the same).
         */
        for (guint i = 0; i < bridges->len; i++) {
                VmnetNftValue v[] = {
                        vmnet_nft_value_ifname(g_ptr_array_index(bridges, i)),
                        vmnet_nft_value_ifname(g_ptr_array_index(bridges, i)),
                };

                if (!s_pairs)
                        s_pairs = vmnet_nft_ir_add_set(ir, SET_ALLOW_PAIRS, pair, 2, NULL, 0);
                vmnet_nft_set_add_element(s_pairs, v);
        }

        for (guint i = 0; plan->allows && i < plan->allows->len; i++) {
                VmnetAllow *a = g_ptr_array_index(plan->allows, i);
                VmnetNetwork *from = vmnet_plan_find_network(plan, a->from);
                VmnetNetwork *to = vmnet_plan_find_network(plan, a->to);
                VmnetNftValue v[] = {
                        vmnet_nft_value_ifname(from ? from->bridge : ""),
                        vmnet_nft_value_ifname(to ? to->bridge : ""),
                        vmnet_nft_value_proto(a->proto),
                        vmnet_nft_value_port(a->port),
                };

                if (!from || !to || !from->bridge || !to->bridge)
                        continue; /* the validator reports unknown networks */
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

static void add_postrouting(VmnetNftIr *ir, const VmnetPlan *plan)
{
        VmnetNftChain *chain = NULL;

        /* Masquerade what leaves the NAT subnets towards the outside. */
        for (guint n = 0; n < plan->networks->len; n++) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (net->mode != VMNET_MODE_NAT)
                        continue;
                for (guint i = 0; i < net->subnets->len; i++) {
                        VmnetSubnet *sub = g_ptr_array_index(net->subnets, i);
                        int family = sub->cidr.addr.family;
                        gboolean v6 = family == AF_INET6;
                        VmnetNftRule *r;

                        if (!chain)
                                chain = vmnet_nft_ir_add_chain(ir, "postrouting",
                                                               VMNET_NFT_CHAIN_NAT,
                                                               VMNET_NFT_HOOK_POSTROUTING, 100,
                                                               FALSE);
                        r = vmnet_nft_chain_add_rule(chain);
                        vmnet_nft_rule_match_nfproto(r, family);
                        if (net->nat_out)
                                vmnet_nft_rule_match_ifname(r, VMNET_NFT_SEL_OIFNAME, FALSE,
                                                            net->nat_out);
                        else
                                vmnet_nft_rule_match_lookup(r, sel_oif, 1, TRUE, SET_BRIDGES);
                        vmnet_nft_rule_match_prefix(r, v6 ? VMNET_NFT_SEL_IP6_SADDR
                                                          : VMNET_NFT_SEL_IP_SADDR,
                                                    FALSE, &sub->cidr);
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
        for (guint n = 0; chain && n < plan->networks->len; n++) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (net->mode != VMNET_MODE_NAT)
                        continue;
                for (guint i = 0; i < net->subnets->len; i++) {
                        VmnetSubnet *sub = g_ptr_array_index(net->subnets, i);
                        gboolean v6 = sub->cidr.addr.family == AF_INET6;
                        VmnetNftRule *r;

                        if (!subnet_has_forward_target(net, sub))
                                continue;
                        r = vmnet_nft_chain_add_rule(chain);
                        vmnet_nft_rule_match_nfproto(r, sub->cidr.addr.family);
                        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATUS,
                                                   VMNET_NFT_CT_STATUS_DNAT);
                        vmnet_nft_rule_match_prefix(r, v6 ? VMNET_NFT_SEL_IP6_SADDR
                                                          : VMNET_NFT_SEL_IP_SADDR,
                                                    FALSE, &sub->cidr);
                        vmnet_nft_rule_match_prefix(r, v6 ? VMNET_NFT_SEL_IP6_DADDR
                                                          : VMNET_NFT_SEL_IP_DADDR,
                                                    FALSE, &sub->cidr);
                        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_MASQUERADE);
                }
        }
}

static void add_forward(VmnetNftIr *ir)
{
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
         * Traffic that touches none of vmnet's routed bridges is not vmnet's
         * business: leave it to the host's other tables, so that even
         * "ct state invalid drop" only ever applies to vmnet's networks.
         */
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_match_lookup(r, sel_oif, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE,
                                   VMNET_NFT_CT_ESTABLISHED | VMNET_NFT_CT_RELATED);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATE, VMNET_NFT_CT_INVALID);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);

        if (any_forward) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_flags(r, VMNET_NFT_SEL_CT_STATUS, VMNET_NFT_CT_STATUS_DNAT);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
        }

        if (vmnet_nft_ir_find_set(ir, SET_ALLOW_PAIRS)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, pair, 2, FALSE, SET_ALLOW_PAIRS);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
        }
        if (vmnet_nft_ir_find_set(ir, SET_ALLOW_PROTO)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, proto, 3, FALSE, SET_ALLOW_PROTO);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
        }
        if (vmnet_nft_ir_find_set(ir, SET_ALLOW_PORTS)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, ports, 4, FALSE, SET_ALLOW_PORTS);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);
        }

        /* Isolation between vmnet networks. */
        r = vmnet_nft_chain_add_rule(chain);
        vmnet_nft_rule_match_lookup(r, sel_iif, 1, FALSE, SET_BRIDGES);
        vmnet_nft_rule_match_lookup(r, sel_oif, 1, FALSE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);

        /* Host-only: nothing beyond the host, either way. */
        if (vmnet_nft_ir_find_set(ir, SET_HOSTONLY)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, sel_iif, 1, FALSE, SET_HOSTONLY);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, sel_oif, 1, FALSE, SET_HOSTONLY);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
        }

        /* NAT: no unsolicited connection in (port forwards were accepted above). */
        if (vmnet_nft_ir_find_set(ir, SET_NAT)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, sel_oif, 1, FALSE, SET_NAT);
                vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_DROP);
        }
}

VmnetNftIr *vmnet_nft_ir_from_plan(const VmnetPlan *plan)
{
        g_autofree char *comment = g_strdup_printf("managed by vmnet plan %s", plan->name);
        g_autoptr(VmnetNftIr) ir = vmnet_nft_ir_new(comment);
        g_autoptr(GPtrArray) bridges = g_ptr_array_new();
        g_autoptr(GPtrArray) hostonly = g_ptr_array_new();
        g_autoptr(GPtrArray) nat = g_ptr_array_new();
        g_autoptr(GHashTable) seen_bridges = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) seen_hostonly = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) seen_nat = g_hash_table_new(g_str_hash, g_str_equal);
        VmnetNftChain *chain;

        /*
         * "bridges" holds the bridges the host routes for (nat, host-only,
         * routed). Bridged networks are the LAN itself, possibly carrying
         * the host's own uplink address: treating them as vmnet networks
         * would stop NAT networks from being masqueraded onto the LAN.
         * Isolated bridges carry no host address, so nothing is routed
         * to or from them.
         */
        for (guint n = 0; n < plan->networks->len; n++) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                if (!vmnet_mode_has_host_address(net->mode) || !net->bridge)
                        continue;
                add_name_once(bridges, seen_bridges, net->bridge);
                if (net->mode == VMNET_MODE_HOST_ONLY)
                        add_name_once(hostonly, seen_hostonly, net->bridge);
                else if (net->mode == VMNET_MODE_NAT)
                        add_name_once(nat, seen_nat, net->bridge);
        }
        add_ifname_set(ir, SET_BRIDGES, bridges);
        add_ifname_set(ir, SET_HOSTONLY, hostonly);
        add_ifname_set(ir, SET_NAT, nat);
        add_allow_sets(ir, plan, bridges);
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
        add_forward(ir);

        return g_steal_pointer(&ir);
}
