/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "validate/bandwidth.h"
#include "validate/bonds.h"
#include "validate/fleet.h"
#include "validate/mirrors.h"
#include "validate/index.h"
#include "validate/validate.h"

/*
 * Every check appends to the diagnostics and goes on, so one run reports
 * every problem. Messages start with the object ("network 'lab': ...") and
 * name the field, so together with file:line a user can go straight to it.
 *
 * Why one file of ~1 400 lines: the checks below (per network, across
 * networks, domains, policy) all write through the one context V and its
 * message helpers (ERR, shown(), check_name(), check_host_addr(), ...), and
 * read in the order of vmnet-plan(5); the checks that need none of that
 * already live apart (bandwidth.c, bonds.c, fleet.c, and index.c for the
 * subnet index).
 */

typedef struct {
        const VmnetPlan *plan;
        VmnetDiags *diags;
        GHashTable *networks_by_name; /* name -> first network of that name; built on first use */
} V;

#define ERR(v, line, ...) vmnet_diags_add((v)->diags, (v)->plan->file, (line), __VA_ARGS__)

static char *astr(const VmnetAddr *a)
{
        return vmnet_addr_to_string(a);
}

static char *pstr(const VmnetPrefix *p)
{
        return vmnet_prefix_to_string(p);
}

static char *mstr(const VmnetMac *m)
{
        return vmnet_mac_to_string(m);
}

/* ------------------------------------------------------------ helpers */

/* The first object that had a value: its owner's name and its line. */
typedef struct {
        const char *owner;
        guint line;
} Seen;

/*
 * A name as it can be shown in a one-line message: a plan may carry a newline
 * or another control character (&#10;) in any attribute.
 */
static char *shown(const char *s)
{
        if (!s)
                return g_strdup("");
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return g_strescape(s, NULL);
        return g_strdup(s);
}

/*
 * Names of the plan, networks, port groups and domains: [A-Za-z0-9_.-]{1,64},
 * and not "." or "..": the plan's and networks' names become file names
 * (dnsmasq/<plan>/<network>.conf, <plan>.state), all of them go into
 * libvirt's XML, dnsmasq's configuration and link aliases.
 */
static void check_name(V *v, guint line, const char *what, const char *name)
{
        gsize len = name ? strlen(name) : 0;

        if (!name)
                return; /* the converter reported the missing attribute */
        for (const char *p = name; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-') {
                        len = 0;
                        break;
                }
        if (len == 0 || len > 64) {
                g_autofree char *s = shown(name);

                ERR(v, line, "%s: name '%s' must be 1-64 characters of A-Z a-z 0-9 _ . -", what, s);
        } else if (g_str_equal(name, ".") || g_str_equal(name, "..")) {
                ERR(v, line, "%s: name '%s' may not be '.' or '..'", what, name);
        }
}

static void check_ifname(V *v, guint line, const char *what, const char *field, const char *name)
{
        const char *why = vmnet_ifname_invalid_reason(name);

        if (why) {
                g_autofree char *s = shown(name);

                ERR(v, line, "%s: %s '%s' %s (interface names are 1-15 characters of A-Z a-z 0-9 _ . -, not '.' or '..')",
                    what, field, s, why);
        }
}

/*
 * "vmn" + 12 hex digits is the shape of the taps vmnet names for guest NICs
 * (vmnet_tap_name()); a bridge or uplink of that name would be taken for a
 * guest port by the bridge table and by doctor.
 */
static void check_not_tap_name(V *v, guint line, const char *what, const char *field,
                               const char *name)
{
        if (vmnet_is_tap_name(name))
                ERR(v, line,
                    "%s: %s '%s' has the shape of a guest tap name (vmn + 12 hex digits), which "
                    "vmnet reserves for the guest NICs it attaches",
                    what, field, name);
}

static void check_mac(V *v, guint line, const char *what, const char *field, const VmnetMac *m)
{
        /* Formatted only for a message: this runs for every MAC in the plan. */
        g_autofree char *s = NULL;

        if (vmnet_mac_is_zero(m)) {
                s = mstr(m);
                ERR(v, line, "%s: %s %s is the all-zero MAC address", what, field, s);
        } else if (vmnet_mac_is_multicast(m)) {
                s = mstr(m);
                ERR(v, line, "%s: %s %s is a multicast MAC address (lowest bit of the first byte set)",
                    what, field, s);
        }
}

/* Is a usable as a host address of subnet s? Explains why not in *why. */
static gboolean host_address_ok(const VmnetSubnet *s, const VmnetAddr *a, const char **why)
{
        VmnetAddr last;

        if (!vmnet_prefix_contains(&s->cidr, a)) {
                *why = "outside";
                return FALSE;
        }
        if (s->cidr.addr.family == AF_INET && s->cidr.prefix >= 31)
                return TRUE; /* RFC 3021 point-to-point: both addresses usable */
        if (vmnet_addr_equal(a, &s->cidr.addr)) {
                *why = "the network address of";
                return FALSE;
        }
        vmnet_prefix_last(&s->cidr, &last);
        if (s->cidr.addr.family == AF_INET && vmnet_addr_equal(a, &last)) {
                *why = "the broadcast address of";
                return FALSE;
        }
        return TRUE;
}

static gboolean in_dhcp_range(const VmnetSubnet *s, const VmnetAddr *a)
{
        return s->has_dhcp && a->family == s->dhcp_start.family &&
               vmnet_addr_cmp(a, &s->dhcp_start) >= 0 && vmnet_addr_cmp(a, &s->dhcp_end) <= 0;
}

/* Checks an address that a guest or the host will hold (gateway, reservation, interface ip=). */
static void check_host_addr(V *v, guint line, const char *what, const char *field,
                            const VmnetSubnet *s, const VmnetAddr *a, gboolean is_gateway)
{
        const char *why = NULL;
        /* Formatted only for a message: this runs for every address in the plan. */
        g_autofree char *as = NULL;

        if (!host_address_ok(s, a, &why)) {
                g_autofree char *ps = pstr(&s->cidr);

                as = astr(a);
                if (g_str_equal(why, "outside"))
                        ERR(v, line, "%s: %s %s is outside subnet %s", what, field, as, ps);
                else
                        ERR(v, line, "%s: %s %s is %s subnet %s", what, field, as, why, ps);
                return;
        }
        if (in_dhcp_range(s, a)) {
                g_autofree char *ds = astr(&s->dhcp_start);
                g_autofree char *de = astr(&s->dhcp_end);

                as = astr(a);
                ERR(v, line, "%s: %s %s is inside the dynamic dhcp range %s-%s", what, field, as, ds,
                    de);
        }
        if (!is_gateway && s->has_gateway && vmnet_addr_equal(a, &s->gateway)) {
                if (!as)
                        as = astr(a);
                ERR(v, line, "%s: %s %s is the subnet's gateway address", what, field, as);
        }
}

/* ------------------------------------------------------------ per network */

static void check_subnet(V *v, const VmnetNetwork *n, const VmnetSubnet *s, const char *what)
{
        g_autofree char *ps = pstr(&s->cidr);
        gboolean host = vmnet_mode_has_host_address(n->mode);
        GHashTable *seen_mac = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTable *seen_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        VmnetChain names = { 0 };            /* reserved host name; set up at the first one */
        g_autoptr(GArray) same = NULL;  /* positions of the earlier reservations of a name */

        if (s->cidr.addr.family == AF_INET6 && n->mtu && n->mtu < 1280)
                ERR(v, s->line, "%s: mtu %u is below 1280, the minimum for IPv6 subnet %s", what,
                    n->mtu, ps);
        if (s->cidr.addr.family == AF_INET && s->cidr.prefix > 30 && host)
                ERR(v, s->line, "%s: subnet %s is too small for a gateway and guests (at most /30)",
                    what, ps);
        if (s->has_gateway) {
                if (s->gateway.family != s->cidr.addr.family) {
                        g_autofree char *gs = astr(&s->gateway);

                        ERR(v, s->line, "%s: gateway %s is not of the same address family as subnet %s",
                            what, gs, ps);
                } else {
                        check_host_addr(v, s->line, what, "gateway", s, &s->gateway, TRUE);
                }
        } else if (host) {
                ERR(v, s->line, "%s: subnet %s needs a gateway= in mode %s (the host's address on the bridge)",
                    what, ps, vmnet_mode_to_string(n->mode));
        }

        if (s->has_dhcp) {
                g_autofree char *ds = astr(&s->dhcp_start);
                g_autofree char *de = astr(&s->dhcp_end);
                const char *why_s = NULL, *why_e = NULL;
                gboolean ok_s = s->dhcp_start.family && host_address_ok(s, &s->dhcp_start, &why_s);
                gboolean ok_e = s->dhcp_end.family && host_address_ok(s, &s->dhcp_end, &why_e);

                if (!host)
                        ERR(v, s->dhcp_line,
                            "%s: dhcp is not available in mode %s (vmnet serves DHCP only where the host has an address on the bridge)",
                            what, vmnet_mode_to_string(n->mode));
                if (!ok_s || !ok_e) {
                        if ((why_s && g_str_equal(why_s, "outside")) ||
                            (why_e && g_str_equal(why_e, "outside")))
                                ERR(v, s->dhcp_line, "%s: dhcp range %s-%s is outside subnet %s",
                                    what, ds, de, ps);
                        else
                                ERR(v, s->dhcp_line,
                                    "%s: dhcp range %s-%s includes %s subnet %s", what, ds, de,
                                    why_s ? why_s : why_e, ps);
                } else if (vmnet_addr_cmp(&s->dhcp_start, &s->dhcp_end) > 0) {
                        ERR(v, s->dhcp_line, "%s: dhcp range %s-%s ends before it starts", what, ds,
                            de);
                } else if (s->has_gateway && in_dhcp_range(s, &s->gateway)) {
                        g_autofree char *gs = astr(&s->gateway);

                        ERR(v, s->dhcp_line, "%s: dhcp range %s-%s contains the gateway %s", what,
                            ds, de, gs);
                }
        }

        for (guint i = 0; i < s->reservations->len; i++) {
                VmnetReservation *r = g_ptr_array_index(s->reservations, i);
                g_autofree char *rwhat = g_strdup_printf("%s reservation", what);
                g_autofree char *ms = mstr(&r->mac);
                g_autofree char *is = astr(&r->ip);

                check_mac(v, r->line, rwhat, "mac", &r->mac);
                if (!host)
                        ERR(v, r->line, "%s: reservations need DHCP, which mode %s does not have",
                            rwhat, vmnet_mode_to_string(n->mode));
                if (r->ip.family == AF_INET6)
                        ERR(v, r->line, "%s: ip %s: reservations are IPv4 only (DHCPv6 does not identify clients by MAC)",
                            rwhat, is);
                if (r->name) {
                        if (!same) {
                                vmnet_chain_init(&names, s->reservations->len, vmnet_nstr_hash, vmnet_nstr_equal);
                                same = g_array_new(FALSE, FALSE, sizeof(guint));
                        }
                        g_array_set_size(same, 0);
                        vmnet_chain_collect(&names, r->name, same);
                        for (guint j = same->len; j > 0; j--) { /* the chain runs latest first */
                                VmnetReservation *o = g_ptr_array_index(
                                        s->reservations, g_array_index(same, guint, j - 1));

                                ERR(v, r->line, "%s: host name '%s' is already reserved (line %u)",
                                    rwhat, r->name, o->line);
                        }
                        vmnet_chain_add(&names, r->name, i);
                }
                if (r->ip.family)
                        check_host_addr(v, r->line, rwhat, "ip", s, &r->ip, FALSE);
                if (g_hash_table_contains(seen_mac, ms))
                        ERR(v, r->line, "%s: duplicate reservation for MAC %s", what, ms);
                else
                        g_hash_table_add(seen_mac, g_strdup(ms));
                if (g_hash_table_contains(seen_ip, is))
                        ERR(v, r->line, "%s: duplicate reservation for IP %s", what, is);
                else
                        g_hash_table_add(seen_ip, g_strdup(is));
        }
        g_hash_table_unref(seen_mac);
        g_hash_table_unref(seen_ip);
        vmnet_chain_clear(&names);
}

static void check_mode_rules(V *v, const VmnetNetwork *n, const char *what)
{
        const char *mode = vmnet_mode_to_string(n->mode);
        gboolean host = vmnet_mode_has_host_address(n->mode);

        if (n->mode == VMNET_MODE_BRIDGED && !n->uplink)
                ERR(v, n->line, "%s: mode bridged needs an <uplink dev=...> (the NIC that reaches the LAN)",
                    what);
        if (n->mode != VMNET_MODE_BRIDGED && n->uplink)
                ERR(v, n->uplink->line,
                    "%s: <uplink> is only for mode bridged (mode %s keeps guests behind the host)",
                    what, mode);
        if (n->mode == VMNET_MODE_ISOLATED && n->subnets->len)
                ERR(v, n->line, "%s: mode isolated is private L2 with no host address: remove <subnet>",
                    what);
        if (host && !n->subnets->len)
                ERR(v, n->line, "%s: mode %s needs at least one <subnet> with a gateway", what, mode);
        if (n->mode == VMNET_MODE_NAT && n->subnets->len &&
            !vmnet_network_first_subnet(n, AF_INET))
                ERR(v, n->line, "%s: mode nat needs an IPv4 <subnet> to masquerade", what);
        if (n->has_nat && n->mode != VMNET_MODE_NAT)
                ERR(v, n->nat_line, "%s: <nat> is only for mode nat (this network is %s)", what, mode);
        if (n->routes->len && n->mode != VMNET_MODE_ROUTED) {
                VmnetRoute *r = g_ptr_array_index(n->routes, 0);

                ERR(v, r->line, "%s: <route> is only for mode routed (this network is %s)", what,
                    mode);
        }
        if (n->vlan_aware && n->mode != VMNET_MODE_BRIDGED)
                ERR(v, n->line, "%s: vlan-aware is only for mode bridged", what);
        if (n->vlan_aware && n->uplink && !n->uplink->vlan)
                ERR(v, n->uplink->line,
                    "%s: a vlan-aware network needs uplink vlan= (its VLAN on the shared bridge)",
                    what);
        if (n->dns_domain && !host)
                ERR(v, n->line, "%s: domain= needs a mode where the host serves DNS (nat, host-only, routed)",
                    what);
        if (n->stp == 1 && n->forward_delay >= 0 && n->forward_delay < 2)
                ERR(v, n->line, "%s: forward-delay %d is below 2 seconds, which the kernel refuses with stp=yes",
                    what, n->forward_delay);
        if (n->has_mac)
                check_mac(v, n->line, what, "mac", &n->mac);
}

/* How many subnets of the family net has. */
static guint count_subnets(const VmnetNetwork *n, int family)
{
        guint k = 0;

        for (guint i = 0; i < n->subnets->len; i++)
                k += ((VmnetSubnet *)g_ptr_array_index(n->subnets, i))->cidr.addr.family == family;
        return k;
}

/*
 * dns-server / ntp-server: an address of a family the network hands out
 * (IPv4 by DHCPv4, IPv6 by DHCPv6 and router advertisements), each once.
 * v4_only: the option exists in DHCPv4 only. host: the options of a
 * reservation, which reach its DHCPv4 lease only.
 */
static void check_dhcp_servers(V *v, const VmnetNetwork *n, const char *what, const char *field,
                               const GPtrArray *items, gboolean v4_only, gboolean host)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (guint i = 0; i < items->len; i++) {
                const VmnetDhcpItem *it = g_ptr_array_index(items, i);
                g_autofree char *as = NULL;

                if (!it->addr.family)
                        continue; /* the converter reported it */
                as = astr(&it->addr);
                if (v4_only && it->addr.family != AF_INET)
                        ERR(v, it->line, "%s: dhcp-options %s %s: only IPv4 addresses can be handed out (DHCPv4 option 42)",
                            what, field, as);
                else if (host && it->addr.family != AF_INET)
                        ERR(v, it->line, "%s: dhcp-options %s %s: a reservation's options reach its DHCPv4 lease only; put IPv6 servers in the network's <dhcp-options>",
                            what, field, as);
                else if (!count_subnets(n, it->addr.family))
                        ERR(v, it->line, "%s: dhcp-options %s %s: the network has no IPv%d subnet to hand it out in",
                            what, field, as, it->addr.family == AF_INET ? 4 : 6);
                if (g_hash_table_contains(seen, as))
                        ERR(v, it->line, "%s: dhcp-options %s %s is listed twice", what, field,
                            as);
                else
                        g_hash_table_add(seen, g_steal_pointer(&as));
        }
}

/*
 * Whether vmnet runs a DHCP server for n, as vmnet_network_wants_dnsmasq()
 * decides once IPAM has made the plan's interfaces reservations.
 */
static gboolean serves_dhcp(const VmnetPlan *plan, const VmnetNetwork *n)
{
        if (vmnet_network_has_dhcp_subnet(n))
                return TRUE;
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++)
                        if (g_strcmp0(((VmnetInterface *)g_ptr_array_index(d->interfaces, j))->network,
                                      n->name) == 0)
                                return TRUE;
        }
        return FALSE;
}

/*
 * <dhcp-options> of network n, or of one of its reservations (host): each
 * value must reach the guests as written, or be refused here.
 */
static void check_dhcp_options(V *v, const VmnetNetwork *n, const VmnetDhcpOptions *o,
                               const char *what, gboolean host)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        const VmnetSubnet *s4 = vmnet_network_first_subnet(n, AF_INET);
        guint n4 = count_subnets(n, AF_INET);

        if (!o || !o->line)
                return;
        if (!host && !vmnet_mode_has_host_address(n->mode))
                ERR(v, o->line, "%s: <dhcp-options> needs a mode where vmnet serves DHCP (nat, host-only, routed); this network is %s",
                    what, vmnet_mode_to_string(n->mode));
        else if (!host && !serves_dhcp(v->plan, n))
                ERR(v, o->line, "%s: <dhcp-options> would reach no guest: the network serves no DHCP (no <dhcp> range, no reservation, no interface of the plan on it)",
                    what);
        check_dhcp_servers(v, n, what, "dns-server", o->dns_servers, FALSE, host);
        check_dhcp_servers(v, n, what, "ntp-server", o->ntp_servers, TRUE, host);
        for (guint i = 0; i < o->search->len; i++) {
                const VmnetDhcpItem *it = g_ptr_array_index(o->search, i);

                if (it->name && !g_hash_table_add(seen, g_ascii_strdown(it->name, -1)))
                        ERR(v, it->line, "%s: dhcp-options search domain %s is listed twice", what,
                            it->name);
        }
        g_hash_table_remove_all(seen);
        for (guint i = 0; i < o->routes->len; i++) {
                const VmnetRoute *r = g_ptr_array_index(o->routes, i);
                g_autofree char *ts = NULL;
                g_autofree char *vs = NULL;
                const char *why = NULL;

                if (!r->to.addr.family || !r->via.family)
                        continue;
                ts = pstr(&r->to);
                vs = astr(&r->via);
                if (r->to.addr.family != AF_INET || r->via.family != AF_INET) {
                        ERR(v, r->line, "%s: dhcp-options static-route to %s via %s: static routes (option 121) are IPv4 only",
                            what, ts, vs);
                        continue;
                }
                if (r->to.prefix == 0)
                        ERR(v, r->line, "%s: dhcp-options static-route to %s: the default route comes from the network's mode (the router option), not from a static route",
                            what, ts);
                if (n4 != 1)
                        ERR(v, r->line, "%s: dhcp-options static-route to %s via %s: static routes need exactly one IPv4 subnet in the network (it has %u)",
                            what, ts, vs, n4);
                else if (!host_address_ok(s4, &r->via, &why))
                        ERR(v, r->line, "%s: dhcp-options static-route to %s via %s: the next hop is %s the network's subnet",
                            what, ts, vs, why);
                if (s4 && r->to.prefix && vmnet_prefix_overlaps(&s4->cidr, &r->to)) {
                        g_autofree char *ss = pstr(&s4->cidr);

                        ERR(v, r->line, "%s: dhcp-options static-route to %s overlaps the network's own subnet %s",
                            what, ts, ss);
                }
                if (g_hash_table_contains(seen, ts))
                        ERR(v, r->line, "%s: dhcp-options static-route to %s is listed twice",
                            what, ts);
                else
                        g_hash_table_add(seen, g_steal_pointer(&ts));
        }
        if (o->boot_line && o->next_server.family) {
                g_autofree char *ns = astr(&o->next_server);

                if (o->next_server.family != AF_INET)
                        ERR(v, o->boot_line, "%s: dhcp-options boot next-server %s: network boot (BOOTP siaddr) is IPv4 only",
                            what, ns);
                else if (!n4)
                        ERR(v, o->boot_line, "%s: dhcp-options boot: the network has no IPv4 subnet to boot guests in",
                            what);
        }
}

/*
 * trunk= and native= of a port group (vmnet-plan(5) <portgroup>): only on a
 * VLAN-aware bridge, not with vlan=, and the native VLAN is not also tagged.
 * The list itself (ids, count, repeats) is checked by the parser.
 */
static void check_portgroup_trunk(V *v, const char *what, const VmnetNetwork *n,
                                  const VmnetPortgroup *pg)
{
        if (!pg->has_trunk && pg->trunk.untagged)
                ERR(v, pg->line,
                    "%s: portgroup '%s' sets native= without trunk= (native= is the untagged VLAN "
                    "of a trunk; an access port group sets vlan=)",
                    what, pg->name);
        if (!pg->has_trunk)
                return;
        if (!n->vlan_aware)
                ERR(v, pg->line,
                    "%s: portgroup '%s' sets trunk=, which needs a vlan-aware bridge (vlan-aware=\"yes\")",
                    what, pg->name);
        if (pg->vlan)
                ERR(v, pg->line,
                    "%s: portgroup '%s' sets both vlan= and trunk= (the untagged VLAN of a trunk is "
                    "native=)",
                    what, pg->name);
        for (guint i = 0; i < pg->trunk.n_tagged; i++)
                if (pg->trunk.tagged[i] == pg->trunk.untagged)
                        ERR(v, pg->line,
                            "%s: portgroup '%s': native vlan %u is also in trunk= (a VLAN is "
                            "either tagged or untagged on a port)",
                            what, pg->name, pg->trunk.untagged);
}

static void check_network(V *v, const VmnetNetwork *n)
{
        g_autofree char *name = shown(n->name);
        g_autofree char *what = g_strdup_printf("network '%s'", name);
        gboolean have_default = FALSE;

        check_name(v, n->line, "network", n->name);
        check_mode_rules(v, n, what);
        check_ifname(v, n->line, what, "bridge", n->bridge);
        check_not_tap_name(v, n->line, what, "bridge", n->bridge);
        if (n->uplink && n->uplink->ifname && g_strcmp0(n->uplink->ifname, n->uplink->dev) != 0 &&
            (!n->uplink->vlan || n->vlan_aware))
                ERR(v, n->uplink->line,
                    "%s: uplink name= names the VLAN link vmnet creates, so it needs vlan= and no vlan-aware bridge",
                    what);
        if (n->uplink && n->uplink->migrate_addresses && n->uplink->vlan && !n->vlan_aware)
                ERR(v, n->uplink->line,
                    "%s: migrate-addresses is for an uplink enslaved itself (untagged or vlan-aware); '%s' stays as it is",
                    what, n->uplink->dev);
        if (n->uplink) {
                const char *dev = n->uplink->dev, *link = n->uplink->ifname;
                gboolean dev_ok = !vmnet_ifname_invalid_reason(dev);

                check_ifname(v, n->uplink->line, what, "uplink dev", dev);
                check_not_tap_name(v, n->uplink->line, what, "uplink dev", dev);
                if (link && g_strcmp0(link, dev) != 0)
                        check_not_tap_name(v, n->uplink->line, what, "uplink link name", link);
                /* "dev.vlan" derived from a bad dev: the error on dev is enough. */
                if (link && g_strcmp0(link, dev) != 0 &&
                    (dev_ok || !dev || !g_str_has_prefix(link, dev) || link[strlen(dev)] != '.'))
                        check_ifname(v, n->uplink->line, what, "uplink link name", link);
                if (g_strcmp0(n->uplink->dev, n->bridge) == 0 ||
                    g_strcmp0(n->uplink->ifname, n->bridge) == 0)
                        ERR(v, n->uplink->line, "%s: uplink '%s' is the network's own bridge", what,
                            n->uplink->ifname);
        }
        if (n->nat_out)
                check_ifname(v, n->nat_line, what, "nat out", n->nat_out);

        for (guint i = 0; i < n->subnets->len; i++)
                check_subnet(v, n, g_ptr_array_index(n->subnets, i), what);
        check_dhcp_options(v, n, n->dhcp_options, what, FALSE);
        for (guint i = 0; i < n->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(n->subnets, i);

                for (guint j = 0; j < s->reservations->len; j++) {
                        const VmnetReservation *r = g_ptr_array_index(s->reservations, j);
                        g_autofree char *ms = mstr(&r->mac);
                        g_autofree char *rwhat = g_strdup_printf("%s reservation %s", what, ms);

                        check_dhcp_options(v, n, r->dhcp_options, rwhat, TRUE);
                }
        }

        for (guint i = 0; i < n->routes->len; i++) {
                VmnetRoute *r = g_ptr_array_index(n->routes, i);
                g_autofree char *vs = astr(&r->via);
                g_autofree char *ts = pstr(&r->to);

                if (r->via.family && !vmnet_network_subnet_for(n, &r->via))
                        ERR(v, r->line, "%s: route to %s via %s: the gateway is in none of the network's subnets",
                            what, ts, vs);
                if (r->via.family && vmnet_network_subnet_for(n, &r->via)) {
                        VmnetSubnet *s = vmnet_network_subnet_for(n, &r->via);
                        const char *why = NULL;

                        if (!host_address_ok(s, &r->via, &why))
                                ERR(v, r->line, "%s: route to %s via %s: the gateway is %s its subnet",
                                    what, ts, vs, why);
                        else if (s->has_gateway && vmnet_addr_equal(&s->gateway, &r->via))
                                ERR(v, r->line, "%s: route to %s via %s: the next hop is the host itself",
                                    what, ts, vs);
                }
                if (r->via.family && r->to.addr.family && r->via.family != r->to.addr.family)
                        ERR(v, r->line, "%s: route to %s via %s mixes IPv4 and IPv6", what, ts, vs);
                for (guint j = 0; j < n->subnets->len; j++) {
                        VmnetSubnet *s = g_ptr_array_index(n->subnets, j);

                        if (vmnet_prefix_overlaps(&s->cidr, &r->to)) {
                                g_autofree char *ss = pstr(&s->cidr);

                                ERR(v, r->line, "%s: route to %s overlaps the network's own subnet %s",
                                    what, ts, ss);
                        }
                }
        }

        for (guint i = 0; i < n->forwards->len; i++) {
                VmnetPortForward *pf = g_ptr_array_index(n->forwards, i);
                VmnetSubnet *s = pf->to.family ? vmnet_network_subnet_for(n, &pf->to) : NULL;
                const char *why = NULL;

                /* The target as text only for a message: there may be thousands of forwards. */
                if (pf->to.family && !s) {
                        g_autofree char *ts = astr(&pf->to);

                        ERR(v, pf->line, "%s: port-forward %s/%u to %s: the target is outside the network's subnets",
                            what, vmnet_proto_to_string(pf->proto), pf->host_port, ts);
                } else if (s && (!host_address_ok(s, &pf->to, &why) ||
                                 (s->has_gateway && vmnet_addr_equal(&s->gateway, &pf->to)))) {
                        g_autofree char *ts = astr(&pf->to);

                        ERR(v, pf->line, "%s: port-forward %s/%u to %s: the target is %s",
                            what, vmnet_proto_to_string(pf->proto), pf->host_port, ts,
                            why ? why : "the gateway (the host itself)");
                }
                if (pf->has_host_ip && pf->to.family && pf->host_ip.family != pf->to.family)
                        ERR(v, pf->line, "%s: port-forward %s/%u: host-ip and to are of different address families",
                            what, vmnet_proto_to_string(pf->proto), pf->host_port);
        }

        for (guint i = 0; i < n->portgroups->len; i++) {
                VmnetPortgroup *pg = g_ptr_array_index(n->portgroups, i);

                g_autofree char *pg_what = g_strdup_printf("%s: portgroup", what);

                check_name(v, pg->line, pg_what, pg->name);
                for (guint j = 0; j < i; j++) {
                        VmnetPortgroup *o = g_ptr_array_index(n->portgroups, j);

                        if (g_str_equal(o->name, pg->name))
                                ERR(v, pg->line, "%s: duplicate portgroup '%s' (first at line %u)",
                                    what, pg->name, o->line);
                }
                if (pg->is_default && have_default)
                        ERR(v, pg->line, "%s: portgroup '%s' is a second default portgroup", what,
                            pg->name);
                have_default |= pg->is_default;
                if (pg->vlan && !n->vlan_aware)
                        ERR(v, pg->line,
                            "%s: portgroup '%s' sets vlan=, which needs a vlan-aware bridge (vlan-aware=\"yes\")",
                            what, pg->name);
                check_portgroup_trunk(v, what, n, pg);
                if (pg->has_bandwidth) {
                        g_autofree char *pgwhat = g_strdup_printf("%s: portgroup '%s'", what,
                                                                  pg->name);

                        vmnet_validate_bandwidth(v->diags, v->plan->file, pgwhat, &pg->bandwidth);
                }
        }
}

/* ------------------------------------------------------------ across networks */

/* Network a against the earlier network b. */
static void check_network_pair(V *v, const VmnetNetwork *a, const VmnetNetwork *b)
{
        if (g_strcmp0(a->name, b->name) == 0)
                ERR(v, a->line, "network '%s': duplicate network name (first at line %u)",
                    a->name, b->line);
        if (g_strcmp0(a->bridge, b->bridge) == 0) {
                if (!a->vlan_aware || !b->vlan_aware)
                        ERR(v, a->line,
                            "network '%s': bridge '%s' is already used by network '%s' (only vlan-aware networks may share a bridge)",
                            a->name, a->bridge, b->name);
                else if (a->uplink && b->uplink &&
                         g_strcmp0(a->uplink->dev, b->uplink->dev) != 0)
                        ERR(v, a->line,
                            "network '%s': shares vlan-aware bridge '%s' with network '%s' but through another uplink ('%s', not '%s')",
                            a->name, a->bridge, b->name, a->uplink->dev,
                            b->uplink->dev);
                else if (a->uplink && b->uplink &&
                         a->uplink->vlan == b->uplink->vlan)
                        ERR(v, a->uplink->line,
                            "network '%s': VLAN %u on bridge '%s' is already network '%s'",
                            a->name, a->uplink->vlan, a->bridge, b->name);
                else if (a->stp != b->stp || a->forward_delay != b->forward_delay ||
                         a->has_mac != b->has_mac || a->adopt != b->adopt ||
                         (a->has_mac && !vmnet_mac_equal(&a->mac, &b->mac)))
                        ERR(v, a->line,
                            "network '%s': stp, forward-delay, mac and adopt of bridge '%s' must be the same as in network '%s'",
                            a->name, a->bridge, b->name);
                else if (a->uplink && b->uplink && a->uplink->migrate_addresses &&
                         b->uplink->migrate_addresses)
                        ERR(v, a->uplink->line,
                            "network '%s': migrate-addresses is already set by network '%s' on bridge '%s'",
                            a->name, b->name, a->bridge);
                else if (a->mtu && b->mtu && a->mtu != b->mtu)
                        ERR(v, a->line,
                            "network '%s': mtu %u differs from mtu %u of network '%s' on the same bridge '%s'",
                            a->name, a->mtu, b->mtu, b->name, a->bridge);
        }
        if (a->uplink && b->uplink &&
            g_strcmp0(a->uplink->ifname, b->uplink->ifname) == 0 &&
            g_strcmp0(a->bridge, b->bridge) != 0)
                ERR(v, a->uplink->line,
                    "network '%s': uplink '%s' is already enslaved to bridge '%s' of network '%s' (a link can be in one bridge only)",
                    a->name, a->uplink->ifname, b->bridge, b->name);
        if (a->uplink && b->uplink && a->uplink->vlan &&
            a->uplink->vlan == b->uplink->vlan &&
            g_strcmp0(a->uplink->dev, b->uplink->dev) == 0 &&
            g_strcmp0(a->bridge, b->bridge) != 0 &&
            g_strcmp0(a->uplink->ifname, b->uplink->ifname) != 0)
                ERR(v, a->uplink->line,
                    "network '%s': VLAN %u of '%s' is already network '%s'",
                    a->name, a->uplink->vlan, a->uplink->dev, b->name);
        if (a->uplink && g_strcmp0(a->uplink->dev, b->bridge) == 0)
                ERR(v, a->uplink->line,
                    "network '%s': uplink '%s' is the bridge of network '%s'",
                    a->name, a->uplink->dev, b->name);
        if (b->uplink && g_strcmp0(b->uplink->dev, a->bridge) == 0)
                ERR(v, a->line,
                    "network '%s': bridge '%s' is the uplink of network '%s'",
                    a->name, a->bridge, b->name);
}

/*
 * Vlan-aware networks may share a bridge by the hundred. The class of one is
 * everything check_network_pair() needs to be the same on a shared bridge but
 * the VLAN, migrate-addresses and mtu: against a network of its own class, a
 * network can only clash on those three.
 */
static guint class_hash(gconstpointer p)
{
        const VmnetNetwork *n = p;
        guint h = vmnet_nstr_hash(n->bridge);

        h = vmnet_hash_mix(h, (guint)n->vlan_aware);
        h = vmnet_hash_mix(h, n->uplink ? vmnet_hash_mix(1, vmnet_nstr_hash(n->uplink->dev)) : 0);
        h = vmnet_hash_mix(h, (guint)n->stp);
        h = vmnet_hash_mix(h, (guint)n->forward_delay);
        h = vmnet_hash_mix(h, (guint)n->has_mac);
        for (guint i = 0; n->has_mac && i < sizeof(n->mac.b); i++)
                h = vmnet_hash_mix(h, n->mac.b[i]);
        return vmnet_hash_mix(h, (guint)n->adopt);
}

static gboolean class_equal(gconstpointer pa, gconstpointer pb)
{
        const VmnetNetwork *a = pa, *b = pb;

        return g_strcmp0(a->bridge, b->bridge) == 0 && a->vlan_aware == b->vlan_aware &&
               !a->uplink == !b->uplink &&
               (!a->uplink || g_strcmp0(a->uplink->dev, b->uplink->dev) == 0) &&
               a->stp == b->stp && a->forward_delay == b->forward_delay &&
               a->has_mac == b->has_mac && (!a->has_mac || vmnet_mac_equal(&a->mac, &b->mac)) &&
               a->adopt == b->adopt;
}

/* Networks with an uplink: class and VLAN. */
static guint class_vlan_hash(gconstpointer p)
{
        return vmnet_hash_mix(class_hash(p), ((const VmnetNetwork *)p)->uplink->vlan);
}

static gboolean class_vlan_equal(gconstpointer a, gconstpointer b)
{
        return class_equal(a, b) &&
               ((const VmnetNetwork *)a)->uplink->vlan == ((const VmnetNetwork *)b)->uplink->vlan;
}

static guint class_mtu_hash(gconstpointer p)
{
        return vmnet_hash_mix(class_hash(p), ((const VmnetNetwork *)p)->mtu);
}

static gboolean class_mtu_equal(gconstpointer a, gconstpointer b)
{
        return class_equal(a, b) &&
               ((const VmnetNetwork *)a)->mtu == ((const VmnetNetwork *)b)->mtu;
}

/* Uplinks: trunk and VLAN. */
static guint dev_vlan_hash(gconstpointer p)
{
        const VmnetUplink *u = p;

        return vmnet_hash_mix(vmnet_nstr_hash(u->dev), u->vlan);
}

static gboolean dev_vlan_equal(gconstpointer a, gconstpointer b)
{
        const VmnetUplink *x = a, *y = b;

        return x->vlan == y->vlan && g_strcmp0(x->dev, y->dev) == 0;
}

/* Networks with an uplink: the link enslaved and the bridge. */
static guint port_hash(gconstpointer p)
{
        const VmnetNetwork *n = p;

        return vmnet_hash_mix(vmnet_nstr_hash(n->uplink->ifname), vmnet_nstr_hash(n->bridge));
}

static gboolean port_equal(gconstpointer a, gconstpointer b)
{
        const VmnetNetwork *x = a, *y = b;

        return g_strcmp0(x->uplink->ifname, y->uplink->ifname) == 0 &&
               g_strcmp0(x->bridge, y->bridge) == 0;
}

/* The earlier networks, chained by what check_network_pair() compares. */
typedef struct {
        const GPtrArray *nets;
        VmnetChain names;        /* name */
        VmnetChain bridges;      /* bridge */
        VmnetChain plain;        /* bridge, of the networks that are not vlan-aware */
        /* Vlan-aware networks only: */
        VmnetChain classes;      /* class (bridge included) */
        VmnetChain class_firsts; /* bridge -> the first network of each class on it */
        VmnetChain class_vlans;  /* class and uplink VLAN */
        VmnetChain class_migrate; /* class, when the uplink sets migrate-addresses */
        VmnetChain class_mtus;   /* class and mtu, when set */
        VmnetChain mtu_firsts;   /* class -> the first network of each mtu in it */
        /* All networks again: */
        VmnetChain devs;         /* uplink dev */
        VmnetChain dev_vlans;    /* uplink dev and VLAN, when tagged */
        VmnetChain ports;        /* uplink link and bridge */
        VmnetChain port_firsts;  /* uplink link -> the first network of each bridge it is in */
} NetIndex;

static void net_index_init(NetIndex *x, const GPtrArray *nets)
{
        guint n = nets->len;

        x->nets = nets;
        vmnet_chain_init(&x->names, n, vmnet_nstr_hash, vmnet_nstr_equal);
        vmnet_chain_init(&x->bridges, n, vmnet_nstr_hash, vmnet_nstr_equal);
        vmnet_chain_init(&x->plain, n, vmnet_nstr_hash, vmnet_nstr_equal);
        vmnet_chain_init(&x->classes, n, class_hash, class_equal);
        vmnet_chain_init(&x->class_firsts, n, vmnet_nstr_hash, vmnet_nstr_equal);
        vmnet_chain_init(&x->class_vlans, n, class_vlan_hash, class_vlan_equal);
        vmnet_chain_init(&x->class_migrate, n, class_hash, class_equal);
        vmnet_chain_init(&x->class_mtus, n, class_mtu_hash, class_mtu_equal);
        vmnet_chain_init(&x->mtu_firsts, n, class_hash, class_equal);
        vmnet_chain_init(&x->devs, n, vmnet_nstr_hash, vmnet_nstr_equal);
        vmnet_chain_init(&x->dev_vlans, n, dev_vlan_hash, dev_vlan_equal);
        vmnet_chain_init(&x->ports, n, port_hash, port_equal);
        vmnet_chain_init(&x->port_firsts, n, vmnet_nstr_hash, vmnet_nstr_equal);
}

static void net_index_clear(NetIndex *x)
{
        VmnetChain *all[] = { &x->names, &x->bridges, &x->plain, &x->classes, &x->class_firsts,
                         &x->class_vlans, &x->class_migrate, &x->class_mtus, &x->mtu_firsts,
                         &x->devs, &x->dev_vlans, &x->ports, &x->port_firsts };

        for (guint i = 0; i < G_N_ELEMENTS(all); i++)
                vmnet_chain_clear(all[i]);
}

static const VmnetNetwork *net_at(const NetIndex *x, guint p)
{
        return g_ptr_array_index(x->nets, p - 1);
}

/* The earlier networks on a's bridge that a may clash with. */
static void same_bridge_candidates(const NetIndex *x, const VmnetNetwork *a, GArray *out)
{
        if (!a->vlan_aware) { /* shares its bridge with no one */
                vmnet_chain_collect(&x->bridges, a->bridge, out);
                return;
        }
        vmnet_chain_collect(&x->plain, a->bridge, out);
        for (guint p = vmnet_chain_latest(&x->class_firsts, a->bridge); p;
             p = x->class_firsts.prev[p - 1]) {
                const VmnetNetwork *first = net_at(x, p);

                if (!class_equal(first, a)) {
                        vmnet_chain_collect(&x->classes, first, out);
                        continue;
                }
                if (a->uplink) {
                        vmnet_chain_collect(&x->class_vlans, a, out);
                        if (a->uplink->migrate_addresses)
                                vmnet_chain_collect(&x->class_migrate, a, out);
                }
                for (guint q = a->mtu ? vmnet_chain_latest(&x->mtu_firsts, a) : 0; q;
                     q = x->mtu_firsts.prev[q - 1])
                        if (net_at(x, q)->mtu != a->mtu)
                                vmnet_chain_collect(&x->class_mtus, net_at(x, q), out);
        }
}

/* The earlier networks a's uplink may clash with. */
static void uplink_candidates(const NetIndex *x, const VmnetNetwork *a, GArray *out)
{
        const VmnetUplink *up = a->uplink;

        vmnet_chain_collect(&x->bridges, up->dev, out);
        /* its link in another bridge */
        for (guint p = vmnet_chain_latest(&x->port_firsts, up->ifname); p; p = x->port_firsts.prev[p - 1])
                if (g_strcmp0(net_at(x, p)->bridge, a->bridge) != 0)
                        vmnet_chain_collect(&x->ports, net_at(x, p), out);
        if (up->vlan)
                vmnet_chain_collect(&x->dev_vlans, up, out);
}

static void net_index_add(NetIndex *x, const VmnetNetwork *a, guint pos)
{
        const VmnetUplink *up = a->uplink;

        vmnet_chain_add(&x->names, a->name, pos);
        vmnet_chain_add(&x->bridges, a->bridge, pos);
        if (!a->vlan_aware) {
                vmnet_chain_add(&x->plain, a->bridge, pos);
        } else {
                if (!vmnet_chain_latest(&x->classes, a))
                        vmnet_chain_add(&x->class_firsts, a->bridge, pos);
                vmnet_chain_add(&x->classes, a, pos);
                if (a->mtu) {
                        if (!vmnet_chain_latest(&x->class_mtus, a))
                                vmnet_chain_add(&x->mtu_firsts, a, pos);
                        vmnet_chain_add(&x->class_mtus, a, pos);
                }
                if (up) {
                        vmnet_chain_add(&x->class_vlans, a, pos);
                        if (up->migrate_addresses)
                                vmnet_chain_add(&x->class_migrate, a, pos);
                }
        }
        if (!up)
                return;
        vmnet_chain_add(&x->devs, up->dev, pos);
        if (up->vlan)
                vmnet_chain_add(&x->dev_vlans, up, pos);
        if (!vmnet_chain_latest(&x->ports, a))
                vmnet_chain_add(&x->port_firsts, up->ifname, pos);
        vmnet_chain_add(&x->ports, a, pos);
}

/*
 * Each network against the earlier ones it can clash with: those with its
 * name, those on its bridge, those whose uplink is its bridge or whose bridge
 * is its uplink, and those with its uplink link on another bridge or with
 * its (trunk, VLAN).
 */
static void check_network_pairs(V *v)
{
        const GPtrArray *nets = v->plan->networks;
        g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(guint));
        NetIndex x;

        net_index_init(&x, nets);
        for (guint i = 0; i < nets->len; i++) {
                const VmnetNetwork *a = g_ptr_array_index(nets, i);

                g_array_set_size(cand, 0);
                vmnet_chain_collect(&x.names, a->name, cand);
                same_bridge_candidates(&x, a, cand);
                vmnet_chain_collect(&x.devs, a->bridge, cand);
                if (a->uplink)
                        uplink_candidates(&x, a, cand);
                vmnet_positions_sort_unique(cand);
                for (guint c = 0; c < cand->len; c++) {
                        guint j = g_array_index(cand, guint, c);

                        check_network_pair(v, a, g_ptr_array_index(nets, j));
                }
                net_index_add(&x, a, i);
        }
        net_index_clear(&x);
}

/* Overlapping subnets: within and across networks. */
/*
 * A route to a prefix that overlaps another network's subnet, declared before
 * or after it: the host would route part of that subnet away from its bridge.
 * (A network's own subnets are check_network()'s.)
 */
static void check_route_overlaps(V *v, VmnetSubnetIndex *si)
{
        const GPtrArray *nets = v->plan->networks;
        g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(guint));
        /* "prefix" -> its first route (Seen): the kernel holds one route per prefix */
        g_autoptr(GHashTable) dests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        for (guint i = 0; i < nets->len; i++) {
                const VmnetNetwork *a = g_ptr_array_index(nets, i);

                for (guint r = 0; r < a->routes->len; r++) {
                        const VmnetRoute *ra = g_ptr_array_index(a->routes, r);
                        g_autofree char *dest = pstr(&ra->to);
                        const Seen *first = g_hash_table_lookup(dests, dest);

                        if (first) {
                                ERR(v, ra->line,
                                    "network '%s': a route to %s is already in network '%s' (line %u)",
                                    a->name, dest, first->owner, first->line);
                        } else if (ra->to.addr.family) {
                                Seen *s = g_new(Seen, 1);

                                s->owner = a->name;
                                s->line = ra->line;
                                g_hash_table_insert(dests, g_strdup(dest), s);
                        }

                        /* Without a family it overlaps nothing (never in a plan that loaded). */
                        if (!ra->to.addr.family || ra->to.prefix > 128)
                                continue;
                        g_array_set_size(found, 0);
                        vmnet_subnet_index_overlapping(si, &ra->to, found);
                        vmnet_positions_sort_unique(found); /* plan order */
                        for (guint k = 0; k < found->len; k++) {
                                const VmnetSubnetRef *ref = &g_array_index(
                                        si->refs, VmnetSubnetRef, g_array_index(found, guint, k));
                                g_autofree char *ts = NULL, *ss = NULL;

                                if (ref->net_pos == i ||
                                    !vmnet_prefix_overlaps(&ra->to, &ref->subnet->cidr))
                                        continue;
                                ts = pstr(&ra->to);
                                ss = pstr(&ref->subnet->cidr);
                                ERR(v, ra->line,
                                    "network '%s': route to %s overlaps subnet %s of network '%s'",
                                    a->name, ts, ss, ref->net->name);
                        }
                }
        }
}

static void check_subnet_overlaps(V *v, VmnetSubnetIndex *si)
{
        g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(guint));

        for (guint k = 0; k < si->refs->len; k++) {
                const VmnetSubnetRef *ra = &g_array_index(si->refs, VmnetSubnetRef, k);
                const VmnetSubnet *sa = ra->subnet;

                g_array_set_size(cand, 0);
                vmnet_subnet_index_overlapping(si, &sa->cidr, cand);
                vmnet_positions_sort_unique(cand);
                for (guint c = 0; c < cand->len && g_array_index(cand, guint, c) < k; c++) {
                        const VmnetSubnetRef *rb =
                                &g_array_index(si->refs, VmnetSubnetRef, g_array_index(cand, guint, c));
                        const VmnetSubnet *sb = rb->subnet;
                        g_autofree char *as = NULL, *bs = NULL;

                        if (!vmnet_prefix_overlaps(&sa->cidr, &sb->cidr))
                                continue;
                        as = pstr(&sa->cidr);
                        bs = pstr(&sb->cidr);
                        ERR(v, sa->line,
                            "network '%s': subnet %s overlaps subnet %s of network '%s' (line %u)",
                            ra->net->name, as, bs, rb->net->name, sb->line);
                }
        }
}

typedef struct {
        const VmnetNetwork *net;
        const VmnetPortForward *pf;
} ForwardRef;

static guint fwd_port_hash(gconstpointer p)
{
        const VmnetPortForward *f = p;

        return vmnet_hash_mix((guint)f->proto, f->host_port);
}

static gboolean fwd_port_equal(gconstpointer a, gconstpointer b)
{
        const VmnetPortForward *x = a, *y = b;

        return x->proto == y->proto && x->host_port == y->host_port;
}

/* Forwards with a host-ip: proto, port and host-ip. */
static guint fwd_addr_hash(gconstpointer p)
{
        const VmnetPortForward *pf = p;

        return vmnet_hash_mix(fwd_port_hash(p), vmnet_addr_hash(&pf->host_ip));
}

static gboolean fwd_addr_equal(gconstpointer a, gconstpointer b)
{
        const VmnetPortForward *x = a, *y = b;

        return fwd_port_equal(a, b) && vmnet_addr_equal(&x->host_ip, &y->host_ip);
}

/*
 * Port forwards share the host's ports: one owner per (proto, host-ip, port).
 * A forward without host-ip takes the port on every address.
 */
static void check_port_forwards(V *v)
{
        const GPtrArray *nets = v->plan->networks;
        g_autoptr(GArray) fwds = NULL;
        g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(guint));
        VmnetChain ports, any_addr, addrs; /* every forward; those without host-ip; those with one */
        guint total = 0;

        for (guint i = 0; i < nets->len; i++)
                total += ((const VmnetNetwork *)g_ptr_array_index(nets, i))->forwards->len;
        fwds = g_array_sized_new(FALSE, FALSE, sizeof(ForwardRef), total);
        for (guint i = 0; i < nets->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(nets, i);

                for (guint j = 0; j < n->forwards->len; j++) {
                        ForwardRef ref = { .net = n, .pf = g_ptr_array_index(n->forwards, j) };

                        g_array_append_val(fwds, ref);
                }
        }
        vmnet_chain_init(&ports, fwds->len, fwd_port_hash, fwd_port_equal);
        vmnet_chain_init(&any_addr, fwds->len, fwd_port_hash, fwd_port_equal);
        vmnet_chain_init(&addrs, fwds->len, fwd_addr_hash, fwd_addr_equal);
        for (guint k = 0; k < fwds->len; k++) {
                const ForwardRef *ra = &g_array_index(fwds, ForwardRef, k);
                const VmnetPortForward *fa = ra->pf;

                g_array_set_size(cand, 0);
                if (!fa->has_host_ip) {
                        vmnet_chain_collect(&ports, fa, cand);
                } else {
                        vmnet_chain_collect(&any_addr, fa, cand);
                        vmnet_chain_collect(&addrs, fa, cand);
                }
                vmnet_positions_sort_unique(cand);
                for (guint c = 0; c < cand->len; c++) {
                        const ForwardRef *rb =
                                &g_array_index(fwds, ForwardRef, g_array_index(cand, guint, c));
                        const VmnetPortForward *fb = rb->pf;
                        gboolean same_addr = !fa->has_host_ip || !fb->has_host_ip ||
                                             vmnet_addr_equal(&fa->host_ip, &fb->host_ip);

                        if (fa->proto == fb->proto && fa->host_port == fb->host_port && same_addr)
                                ERR(v, fa->line,
                                    "network '%s': port-forward %s/%u is already forwarded by network '%s' (line %u)",
                                    ra->net->name, vmnet_proto_to_string(fa->proto), fa->host_port,
                                    rb->net->name, fb->line);
                }
                vmnet_chain_add(&ports, fa, k);
                vmnet_chain_add(fa->has_host_ip ? &addrs : &any_addr, fa, k);
        }
        vmnet_chain_clear(&ports);
        vmnet_chain_clear(&any_addr);
        vmnet_chain_clear(&addrs);
}

/*
 * VLANs of one VLAN-aware bridge: a port group's vlan= may be neither the
 * VLAN of a network on that bridge nor another port group's there (networks
 * among themselves are checked by check_network_pair()): the port would sit
 * in two networks at once. A group may repeat its own network's VLAN.
 */
static void check_portgroup_vlans(V *v)
{
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        const GPtrArray *nets = v->plan->networks;

        for (guint i = 0; i < nets->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(nets, i);

                if (n->vlan_aware && n->uplink && n->uplink->vlan)
                        g_hash_table_insert(seen, g_strdup_printf("%s/%u", n->bridge, n->uplink->vlan),
                                            g_strdup_printf("network '%s' (line %u)", n->name, n->line));
        }
        for (guint i = 0; i < nets->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(nets, i);

                for (guint j = 0; n->vlan_aware && n->uplink && j < n->portgroups->len; j++) {
                        const VmnetPortgroup *pg = g_ptr_array_index(n->portgroups, j);
                        g_autofree char *key = NULL;
                        const char *other;

                        if (!pg->vlan || pg->vlan == n->uplink->vlan)
                                continue;
                        key = g_strdup_printf("%s/%u", n->bridge, pg->vlan);
                        if ((other = g_hash_table_lookup(seen, key))) {
                                ERR(v, pg->line,
                                    "network '%s': portgroup '%s': vlan %u is already the VLAN of "
                                    "%s on bridge %s",
                                    n->name, pg->name, pg->vlan, other, n->bridge);
                                continue;
                        }
                        g_hash_table_insert(seen, g_steal_pointer(&key),
                                            g_strdup_printf("portgroup '%s' of network '%s' (line %u)",
                                                            pg->name, n->name, pg->line));
                }
        }
}

static void check_networks_together(V *v)
{
        VmnetSubnetIndex si;

        vmnet_subnet_index_init(&si, v->plan->networks);
        check_network_pairs(v);
        check_portgroup_vlans(v);
        check_route_overlaps(v, &si);
        check_subnet_overlaps(v, &si);
        check_port_forwards(v);
        vmnet_subnet_index_clear(&si);
}

/* ------------------------------------------------------------ domains */


/* As vmnet_plan_find_network() (the first network of that name), without a scan per look-up. */
static VmnetNetwork *find_network(V *v, const char *name)
{
        if (!name)
                return NULL;
        if (!v->networks_by_name) {
                v->networks_by_name = g_hash_table_new(g_str_hash, g_str_equal);
                for (guint i = 0; i < v->plan->networks->len; i++) {
                        VmnetNetwork *n = g_ptr_array_index(v->plan->networks, i);

                        if (n->name && !g_hash_table_contains(v->networks_by_name, n->name))
                                g_hash_table_insert(v->networks_by_name, n->name, n);
                }
        }
        return g_hash_table_lookup(v->networks_by_name, name);
}

/* A reservation, or an address asked for, in a subnet. */
typedef struct {
        const VmnetSubnet *subnet;
        const VmnetAddr *ip;
        const VmnetReservation *res; /* NULL in a look-up */
} Reserved;

static guint reserved_hash(gconstpointer p)
{
        const Reserved *r = p;

        return vmnet_hash_mix(g_direct_hash(r->subnet), vmnet_addr_hash(r->ip));
}

static gboolean reserved_equal(gconstpointer a, gconstpointer b)
{
        const Reserved *x = a, *y = b;

        return x->subnet == y->subnet && vmnet_addr_equal(x->ip, y->ip);
}

typedef struct {
        Reserved *all; /* every reservation of the plan */
        VmnetChain by_ip;   /* (subnet, ip) -> positions in all */
} ReservedIndex;

static void reserved_index_init(ReservedIndex *ri, const VmnetPlan *plan)
{
        guint total = 0, pos = 0;

        for (guint i = 0; i < plan->networks->len; i++) {
                VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                for (guint j = 0; j < n->subnets->len; j++) {
                        VmnetSubnet *s = g_ptr_array_index(n->subnets, j);

                        total += s->reservations->len;
                }
        }
        ri->all = g_new0(Reserved, MAX(total, 1));
        vmnet_chain_init(&ri->by_ip, total, reserved_hash, reserved_equal);
        for (guint i = 0; i < plan->networks->len; i++) {
                VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                for (guint j = 0; j < n->subnets->len; j++) {
                        VmnetSubnet *s = g_ptr_array_index(n->subnets, j);

                        for (guint r = 0; r < s->reservations->len; r++, pos++) {
                                VmnetReservation *res = g_ptr_array_index(s->reservations, r);

                                ri->all[pos] =
                                        (Reserved){ .subnet = s, .ip = &res->ip, .res = res };
                                vmnet_chain_add(&ri->by_ip, &ri->all[pos], pos);
                        }
                }
        }
}

static void reserved_index_clear(ReservedIndex *ri)
{
        g_clear_pointer(&ri->all, g_free);
        vmnet_chain_clear(&ri->by_ip);
}

static void check_domains(V *v)
{
        const VmnetPlan *plan = v->plan;
        g_autoptr(GHashTable) macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) ips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        /* domain name -> 1 + position of the first domain of that name */
        g_autoptr(GHashTable) domain_names = g_hash_table_new(vmnet_nstr_hash, vmnet_nstr_equal);
        ReservedIndex reserved = { 0 }; /* built when an interface asks for an ip */
        g_autoptr(GArray) same_ip = g_array_new(FALSE, FALSE, sizeof(guint));

        for (guint i = 0; i < plan->networks->len; i++) {
                VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                Seen *s;

                if (!n->has_mac)
                        continue;
                s = g_new0(Seen, 1);
                s->owner = n->bridge;
                s->line = n->line;
                g_hash_table_replace(macs, mstr(&n->mac), s);
        }
        for (guint i = 0; i < plan->domains->len; i++) {
                VmnetDomain *d = g_ptr_array_index(plan->domains, i);
                guint first = GPOINTER_TO_UINT(g_hash_table_lookup(domain_names, d->name));
                gboolean duplicate = first != 0;

                check_name(v, d->line, "domain", d->name);
                if (first) {
                        VmnetDomain *o = g_ptr_array_index(plan->domains, first - 1);

                        ERR(v, d->line, "domain '%s': duplicate domain name (first at line %u)",
                            d->name, o->line);
                } else {
                        g_hash_table_insert(domain_names, d->name, GUINT_TO_POINTER(i + 1));
                }

                for (guint k = 0; k < d->interfaces->len; k++) {
                        VmnetInterface *ifc = g_ptr_array_index(d->interfaces, k);
                        g_autofree char *what =
                                g_strdup_printf("domain '%s' interface %u", d->name, k + 1);
                        VmnetNetwork *n = find_network(v, ifc->network);
                        g_autofree char *ms = mstr(&ifc->mac);
                        Seen *prev;

                        if (!n) {
                                ERR(v, ifc->line, "%s: network '%s' does not exist in the plan", what,
                                    ifc->network);
                        } else if (ifc->portgroup &&
                                   !vmnet_network_find_portgroup(n, ifc->portgroup)) {
                                ERR(v, ifc->line, "%s: network '%s' has no portgroup '%s'", what,
                                    ifc->network, ifc->portgroup);
                        }
                        check_mac(v, ifc->line, what, "mac", &ifc->mac);
                        /* A duplicate domain derives the same MACs: one error is enough. */
                        prev = duplicate ? NULL : g_hash_table_lookup(macs, ms);
                        if (prev) {
                                ERR(v, ifc->line, "%s: MAC %s is already used by %s (line %u)", what,
                                    ms, prev->owner, prev->line);
                        } else {
                                Seen *s = g_new0(Seen, 1);

                                s->owner = d->name;
                                s->line = ifc->line;
                                g_hash_table_insert(macs, g_strdup(ms), s);
                        }
                        if (ifc->queues && g_strcmp0(ifc->model, "virtio") != 0)
                                ERR(v, ifc->line, "%s: queues= needs model virtio (model is %s)",
                                    what, ifc->model);
                        if (ifc->has_bandwidth)
                                vmnet_validate_bandwidth(v->diags, v->plan->file, what,
                                                         &ifc->bandwidth);
                        if (ifc->has_ip && n && ifc->ip.family == AF_INET6 &&
                            vmnet_mode_has_host_address(n->mode)) {
                                g_autofree char *is6 = astr(&ifc->ip);

                                ERR(v, ifc->line,
                                    "%s: ip %s: addresses vmnet hands out by DHCP are IPv4 only (DHCPv6 does not identify clients by MAC)",
                                    what, is6);
                        }
                        /* A carried segment has no subnet here: the whole plan checked ip=. */
                        if (ifc->has_ip && n && !n->l2_only) {
                                VmnetSubnet *s = vmnet_network_subnet_for(n, &ifc->ip);
                                g_autofree char *is = astr(&ifc->ip);

                                if (!s) {
                                        ERR(v, ifc->line, "%s: ip %s is in none of network '%s''s subnets",
                                            what, is, n->name);
                                } else {
                                        Reserved want = { .subnet = s, .ip = &ifc->ip };

                                        check_host_addr(v, ifc->line, what, "ip", s, &ifc->ip, FALSE);
                                        if (!reserved.all)
                                                reserved_index_init(&reserved, plan);
                                        g_array_set_size(same_ip, 0);
                                        vmnet_chain_collect(&reserved.by_ip, &want, same_ip);
                                        /* One subnet's, latest first. */
                                        for (guint r = same_ip->len; r > 0; r--) {
                                                guint at = g_array_index(same_ip, guint, r - 1);
                                                const VmnetReservation *res = reserved.all[at].res;

                                                if (!vmnet_mac_equal(&res->mac, &ifc->mac)) {
                                                        g_autofree char *rm = mstr(&res->mac);

                                                        ERR(v, ifc->line,
                                                            "%s: ip %s is reserved for MAC %s (line %u)",
                                                            what, is, rm, res->line);
                                                }
                                        }
                                }
                                prev = g_hash_table_lookup(ips, is);
                                if (prev) {
                                        ERR(v, ifc->line, "%s: ip %s is already given to %s (line %u)",
                                            what, is, prev->owner, prev->line);
                                } else {
                                        Seen *s2 = g_new0(Seen, 1);

                                        s2->owner = d->name;
                                        s2->line = ifc->line;
                                        g_hash_table_insert(ips, g_strdup(is), s2);
                                }
                        }
                }
        }
        reserved_index_clear(&reserved);
}

/* ------------------------------------------------------------ policy */

static void check_policy(V *v)
{
        for (guint i = 0; i < v->plan->allows->len; i++) {
                VmnetAllow *a = g_ptr_array_index(v->plan->allows, i);
                VmnetNetwork *from = find_network(v, a->from);
                VmnetNetwork *to = a->to_host ? NULL : find_network(v, a->to);
                const char *what = a->to_host ? "policy allow-host" : "policy allow";

                if (!from)
                        ERR(v, a->line, "%s: from network '%s' does not exist in the plan", what,
                            a->from);
                if (!a->to_host && !to)
                        ERR(v, a->line, "policy allow: to network '%s' does not exist in the plan",
                            a->to);
                if (from && to && from == to)
                        ERR(v, a->line, "policy allow: from and to are the same network '%s'",
                            a->from);
                if (a->to_host && from && !vmnet_mode_has_host_address(from->mode))
                        ERR(v, a->line,
                            "policy allow-host: network '%s' is %s; the host has an address only on nat, host-only and routed networks",
                            a->from, vmnet_mode_to_string(from->mode));
                else if (from && !vmnet_mode_has_host_address(from->mode))
                        ERR(v, a->line,
                            "policy allow: network '%s' is %s; the host routes only nat, host-only and routed networks",
                            a->from, vmnet_mode_to_string(from->mode));
                if (to && !vmnet_mode_has_host_address(to->mode))
                        ERR(v, a->line,
                            "policy allow: network '%s' is %s; the host routes only nat, host-only and routed networks",
                            a->to, vmnet_mode_to_string(to->mode));
                if (a->port && a->proto == VMNET_PROTO_ANY)
                        ERR(v, a->line, "%s: port= needs proto tcp or udp", what);
        }
}

gboolean vmnet_plan_validate(const VmnetPlan *plan, VmnetDiags *diags)
{
        V v = { .plan = plan, .diags = diags };
        guint before = vmnet_diags_count(diags);

        check_name(&v, plan->line, "plan", plan->name);
        for (guint i = 0; i < plan->networks->len; i++)
                check_network(&v, g_ptr_array_index(plan->networks, i));
        check_networks_together(&v);
        check_domains(&v);
        check_policy(&v);
        vmnet_validate_fleet(plan, diags);
        vmnet_validate_bonds(plan, diags);
        vmnet_validate_mirrors(plan, diags);
        g_clear_pointer(&v.networks_by_name, g_hash_table_unref);
        return vmnet_diags_count(diags) == before;
}
