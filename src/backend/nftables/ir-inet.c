/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "backend/nftables/ir-private.h"
#include "backend/nftables/ir.h"
#include "util/mutant.h"

/*
 * The plan as table inet vmnet: forward, input and NAT policy
 * (vmnet_nft_ir_from_plan(), which adds table bridge vmnet from
 * ir-bridge.c as the IR's bridge member). Pure: no I/O, no host state.
 */

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

const VmnetNftSelector vmnet_nft_sel_iif[] = { VMNET_NFT_SEL_IIFNAME };
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
                add_family_set_accept(ir, chain, v6, vmnet_nft_sel_iif, in, 2, set_in[v6]);
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
        vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, TRUE, SET_BRIDGES);
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
                vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, FALSE, SET_L2);
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
        vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, FALSE, SET_BRIDGES);
        vmnet_nft_rule_match_lookup(r, sel_oif, 1, FALSE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_REJECT_ADMIN);

        add_reject(chain, vmnet_nft_sel_iif, SET_BRIDGES);
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
        vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, TRUE, SET_BRIDGES);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_ACCEPT);

        if (vmnet_nft_ir_find_set(ir, SET_L2)) {
                r = vmnet_nft_chain_add_rule(chain);
                vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, FALSE, SET_L2);
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

        add_set_accept(ir, chain, vmnet_nft_sel_iif, 1, SET_HOST_ALLOW);
        add_set_accept(ir, chain, h_proto, 2, SET_HOST_ALLOW_PROTO);
        add_set_accept(ir, chain, h_ports, 3, SET_HOST_ALLOW_PORTS);

        r = vmnet_nft_chain_add_rule(chain);
        v = vmnet_nft_value_proto(VMNET_PROTO_TCP);
        vmnet_nft_rule_match_cmp(r, VMNET_NFT_SEL_L4PROTO, FALSE, &v);
        vmnet_nft_rule_set_verdict(r, VMNET_NFT_STMT_REJECT_TCP_RESET);
        add_reject(chain, NULL, NULL);
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
        ir->bridge = vmnet_nft_bridge_ir_from_plan(plan, ipam, comment);

        return g_steal_pointer(&ir);
}
