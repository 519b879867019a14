/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "backend/nftables/ir-private.h"
#include "backend/nftables/ir.h"
#include "util/mutant.h"

/*
 * The plan as table bridge vmnet: anti-spoofing per guest port. Pure: no
 * I/O, no host state.
 */

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
        vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, FALSE, ports);
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
        vmnet_nft_rule_match_lookup(r, vmnet_nft_sel_iif, 1, TRUE, VMNET_NFT_SET_GUEST_PORTS);
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

VmnetNftIr *vmnet_nft_bridge_ir_from_plan(const VmnetPlan *plan, const VmnetIpam *ipam,
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
