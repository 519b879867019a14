/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "validate/validate.h"

/*
 * Every check appends to the diagnostics and goes on, so one run reports
 * every problem. Messages start with the object ("network 'lab': ...") and
 * name the field, so together with file:line a user can go straight to it.
 */

typedef struct {
        const VmnetPlan *plan;
        VmnetDiags *diags;
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

/* Names of the plan, networks, port groups and domains: [A-Za-z0-9_.-]{1,64}. */
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
        if (len == 0 || len > 64)
                ERR(v, line, "%s: name '%s' must be 1-64 characters of A-Z a-z 0-9 _ . -", what,
                    name);
}

static void check_ifname(V *v, guint line, const char *what, const char *field, const char *name)
{
        const char *why = vmnet_ifname_invalid_reason(name);

        if (why)
                ERR(v, line, "%s: %s '%s' %s (Linux interface names are 1-15 bytes without '/', ':' or white space)",
                    what, field, name ? name : "", why);
}

static void check_mac(V *v, guint line, const char *what, const char *field, const VmnetMac *m)
{
        g_autofree char *s = mstr(m);

        if (vmnet_mac_is_zero(m))
                ERR(v, line, "%s: %s %s is the all-zero MAC address", what, field, s);
        else if (vmnet_mac_is_multicast(m))
                ERR(v, line, "%s: %s %s is a multicast MAC address (lowest bit of the first byte set)",
                    what, field, s);
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
        g_autofree char *as = astr(a);
        g_autofree char *ps = pstr(&s->cidr);

        if (!host_address_ok(s, a, &why)) {
                if (g_str_equal(why, "outside"))
                        ERR(v, line, "%s: %s %s is outside subnet %s", what, field, as, ps);
                else
                        ERR(v, line, "%s: %s %s is %s subnet %s", what, field, as, why, ps);
                return;
        }
        if (in_dhcp_range(s, a)) {
                g_autofree char *ds = astr(&s->dhcp_start);
                g_autofree char *de = astr(&s->dhcp_end);

                ERR(v, line, "%s: %s %s is inside the dynamic dhcp range %s-%s", what, field, as, ds,
                    de);
        }
        if (!is_gateway && s->has_gateway && vmnet_addr_equal(a, &s->gateway))
                ERR(v, line, "%s: %s %s is the subnet's gateway address", what, field, as);
}

/* ------------------------------------------------------------ per network */

static void check_subnet(V *v, const VmnetNetwork *n, const VmnetSubnet *s, const char *what)
{
        g_autofree char *ps = pstr(&s->cidr);
        gboolean host = vmnet_mode_has_host_address(n->mode);
        GHashTable *seen_mac = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTable *seen_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

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
                        for (guint j = 0; j < i; j++) {
                                VmnetReservation *o = g_ptr_array_index(s->reservations, j);

                                if (g_strcmp0(o->name, r->name) == 0)
                                        ERR(v, r->line, "%s: host name '%s' is already reserved (line %u)",
                                            rwhat, r->name, o->line);
                        }
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

static void check_network(V *v, const VmnetNetwork *n)
{
        g_autofree char *what = g_strdup_printf("network '%s'", n->name);
        gboolean have_default = FALSE;

        check_name(v, n->line, "network", n->name);
        check_mode_rules(v, n, what);
        check_ifname(v, n->line, what, "bridge", n->bridge);
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
                check_ifname(v, n->uplink->line, what, "uplink dev", n->uplink->dev);
                if (n->uplink->ifname && g_strcmp0(n->uplink->ifname, n->uplink->dev) != 0)
                        check_ifname(v, n->uplink->line, what, "uplink link name",
                                     n->uplink->ifname);
                if (g_strcmp0(n->uplink->dev, n->bridge) == 0 ||
                    g_strcmp0(n->uplink->ifname, n->bridge) == 0)
                        ERR(v, n->uplink->line, "%s: uplink '%s' is the network's own bridge", what,
                            n->uplink->ifname);
        }
        if (n->nat_out)
                check_ifname(v, n->nat_line, what, "nat out", n->nat_out);

        for (guint i = 0; i < n->subnets->len; i++)
                check_subnet(v, n, g_ptr_array_index(n->subnets, i), what);

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
                g_autofree char *ts = astr(&pf->to);

                if (pf->to.family && !vmnet_network_subnet_for(n, &pf->to))
                        ERR(v, pf->line, "%s: port-forward %s/%u to %s: the target is outside the network's subnets",
                            what, vmnet_proto_to_string(pf->proto), pf->host_port, ts);
                else if (pf->to.family) {
                        VmnetSubnet *s = vmnet_network_subnet_for(n, &pf->to);
                        const char *why = NULL;

                        if (!host_address_ok(s, &pf->to, &why) ||
                            (s->has_gateway && vmnet_addr_equal(&s->gateway, &pf->to)))
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

                check_name(v, pg->line, what, pg->name);
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
                if (pg->has_bandwidth && !pg->bandwidth.inbound && !pg->bandwidth.outbound)
                        ERR(v, pg->bandwidth.line, "%s: portgroup '%s': <bandwidth> sets neither inbound nor outbound",
                            what, pg->name);
        }
}

/* ------------------------------------------------------------ across networks */

static void check_networks_together(V *v)
{
        const GPtrArray *nets = v->plan->networks;

        for (guint i = 0; i < nets->len; i++) {
                VmnetNetwork *a = g_ptr_array_index(nets, i);

                for (guint j = 0; j < i; j++) {
                        VmnetNetwork *b = g_ptr_array_index(nets, j);

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
                        for (guint r = 0; r < a->routes->len; r++) {
                                VmnetRoute *ra = g_ptr_array_index(a->routes, r);

                                for (guint sb = 0; sb < b->subnets->len; sb++) {
                                        VmnetSubnet *sub = g_ptr_array_index(b->subnets, sb);

                                        if (vmnet_prefix_overlaps(&ra->to, &sub->cidr)) {
                                                g_autofree char *ts = pstr(&ra->to);
                                                g_autofree char *ss = pstr(&sub->cidr);

                                                ERR(v, ra->line,
                                                    "network '%s': route to %s overlaps subnet %s of network '%s'",
                                                    a->name, ts, ss, b->name);
                                        }
                                }
                        }
                        if (a->uplink && g_strcmp0(a->uplink->dev, b->bridge) == 0)
                                ERR(v, a->uplink->line,
                                    "network '%s': uplink '%s' is the bridge of network '%s'",
                                    a->name, a->uplink->dev, b->name);
                        if (b->uplink && g_strcmp0(b->uplink->dev, a->bridge) == 0)
                                ERR(v, a->line,
                                    "network '%s': bridge '%s' is the uplink of network '%s'",
                                    a->name, a->bridge, b->name);
                }
        }

        /* Overlapping subnets: within and across networks. */
        for (guint i = 0; i < nets->len; i++) {
                VmnetNetwork *a = g_ptr_array_index(nets, i);

                for (guint si = 0; si < a->subnets->len; si++) {
                        VmnetSubnet *sa = g_ptr_array_index(a->subnets, si);

                        for (guint j = 0; j <= i; j++) {
                                VmnetNetwork *b = g_ptr_array_index(nets, j);
                                guint lim = j == i ? si : b->subnets->len;

                                for (guint sj = 0; sj < lim; sj++) {
                                        VmnetSubnet *sb = g_ptr_array_index(b->subnets, sj);
                                        g_autofree char *as = NULL, *bs = NULL;

                                        if (!sa->cidr.addr.family ||
                                            !vmnet_prefix_overlaps(&sa->cidr, &sb->cidr))
                                                continue;
                                        as = pstr(&sa->cidr);
                                        bs = pstr(&sb->cidr);
                                        ERR(v, sa->line,
                                            "network '%s': subnet %s overlaps subnet %s of network '%s' (line %u)",
                                            a->name, as, bs, b->name, sb->line);
                                }
                        }
                }
        }

        /* Port forwards share the host's ports: one owner per (proto, host-ip, port). */
        for (guint i = 0; i < nets->len; i++) {
                VmnetNetwork *a = g_ptr_array_index(nets, i);

                for (guint fi = 0; fi < a->forwards->len; fi++) {
                        VmnetPortForward *fa = g_ptr_array_index(a->forwards, fi);

                        for (guint j = 0; j <= i; j++) {
                                VmnetNetwork *b = g_ptr_array_index(nets, j);
                                guint lim = j == i ? fi : b->forwards->len;

                                for (guint fj = 0; fj < lim; fj++) {
                                        VmnetPortForward *fb = g_ptr_array_index(b->forwards, fj);
                                        gboolean same_addr =
                                                !fa->has_host_ip || !fb->has_host_ip ||
                                                vmnet_addr_equal(&fa->host_ip, &fb->host_ip);

                                        if (fa->proto == fb->proto &&
                                            fa->host_port == fb->host_port && same_addr)
                                                ERR(v, fa->line,
                                                    "network '%s': port-forward %s/%u is already forwarded by network '%s' (line %u)",
                                                    a->name, vmnet_proto_to_string(fa->proto),
                                                    fa->host_port, b->name, fb->line);
                                }
                        }
                }
        }
}

/* ------------------------------------------------------------ domains */

typedef struct {
        const char *owner;
        guint line;
} Seen;

static void check_domains(V *v)
{
        const VmnetPlan *plan = v->plan;
        g_autoptr(GHashTable) macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GHashTable) ips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

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
                gboolean duplicate = FALSE;

                check_name(v, d->line, "domain", d->name);
                for (guint j = 0; j < i && !duplicate; j++) {
                        VmnetDomain *o = g_ptr_array_index(plan->domains, j);

                        if (g_strcmp0(o->name, d->name) == 0) {
                                ERR(v, d->line, "domain '%s': duplicate domain name (first at line %u)",
                                    d->name, o->line);
                                duplicate = TRUE;
                        }
                }

                for (guint k = 0; k < d->interfaces->len; k++) {
                        VmnetInterface *ifc = g_ptr_array_index(d->interfaces, k);
                        g_autofree char *what =
                                g_strdup_printf("domain '%s' interface %u", d->name, k + 1);
                        VmnetNetwork *n = vmnet_plan_find_network(plan, ifc->network);
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
                        if (ifc->has_bandwidth && !ifc->bandwidth.inbound &&
                            !ifc->bandwidth.outbound)
                                ERR(v, ifc->bandwidth.line,
                                    "%s: <bandwidth> sets neither inbound nor outbound", what);
                        if (ifc->has_ip && n && ifc->ip.family == AF_INET6 &&
                            vmnet_mode_has_host_address(n->mode)) {
                                g_autofree char *is6 = astr(&ifc->ip);

                                ERR(v, ifc->line,
                                    "%s: ip %s: addresses vmnet hands out by DHCP are IPv4 only (DHCPv6 does not identify clients by MAC)",
                                    what, is6);
                        }
                        if (ifc->has_ip && n) {
                                VmnetSubnet *s = vmnet_network_subnet_for(n, &ifc->ip);
                                g_autofree char *is = astr(&ifc->ip);

                                if (!s) {
                                        ERR(v, ifc->line, "%s: ip %s is in none of network '%s''s subnets",
                                            what, is, n->name);
                                } else {
                                        check_host_addr(v, ifc->line, what, "ip", s, &ifc->ip, FALSE);
                                        for (guint r = 0; r < s->reservations->len; r++) {
                                                VmnetReservation *res =
                                                        g_ptr_array_index(s->reservations, r);

                                                if (vmnet_addr_equal(&res->ip, &ifc->ip) &&
                                                    !vmnet_mac_equal(&res->mac, &ifc->mac)) {
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
}

/* ------------------------------------------------------------ policy */

static void check_policy(V *v)
{
        for (guint i = 0; i < v->plan->allows->len; i++) {
                VmnetAllow *a = g_ptr_array_index(v->plan->allows, i);
                VmnetNetwork *from = vmnet_plan_find_network(v->plan, a->from);
                VmnetNetwork *to = vmnet_plan_find_network(v->plan, a->to);

                if (!from)
                        ERR(v, a->line, "policy allow: from network '%s' does not exist in the plan",
                            a->from);
                if (!to)
                        ERR(v, a->line, "policy allow: to network '%s' does not exist in the plan",
                            a->to);
                if (from && to && from == to)
                        ERR(v, a->line, "policy allow: from and to are the same network '%s'",
                            a->from);
                if (from && !vmnet_mode_has_host_address(from->mode))
                        ERR(v, a->line,
                            "policy allow: network '%s' is %s; the host routes only nat, host-only and routed networks",
                            a->from, vmnet_mode_to_string(from->mode));
                if (to && !vmnet_mode_has_host_address(to->mode))
                        ERR(v, a->line,
                            "policy allow: network '%s' is %s; the host routes only nat, host-only and routed networks",
                            a->to, vmnet_mode_to_string(to->mode));
                if (a->port && a->proto == VMNET_PROTO_ANY)
                        ERR(v, a->line, "policy allow: port= needs proto tcp or udp");
        }
}

gboolean vmnet_plan_validate(const VmnetPlan *plan, VmnetDiags *diags)
{
        V v = { .plan = plan, .diags = diags };
        guint before = vmnet_diags_count(diags);

        check_name(&v, 0, "plan", plan->name);
        for (guint i = 0; i < plan->networks->len; i++)
                check_network(&v, g_ptr_array_index(plan->networks, i));
        check_networks_together(&v);
        check_domains(&v);
        check_policy(&v);
        return vmnet_diags_count(diags) == before;
}
