/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "model/fleet.h"
#include "validate/fleet.h"

/*
 * The rules of a fleet plan as a whole (vmnet-plan(5) FLEET PLANS): the
 * hosts, which networks exist where, VXLAN segments and the MTU they leave
 * to guests on every host. What holds per host (uplinks, bridge names) is
 * vmnet_plan_validate()'s, which runs on the whole plan and again on each
 * host's part.
 */

#define ERR(plan, diags, line, ...) vmnet_diags_add((diags), (plan)->file, (line), __VA_ARGS__)

static void check_hosts(const VmnetPlan *plan, VmnetDiags *diags)
{
        for (guint i = 0; i < plan->hosts->len; i++) {
                const VmnetFleetHost *h = g_ptr_array_index(plan->hosts, i);
                const char *why = h->underlay_dev ? vmnet_ifname_invalid_reason(h->underlay_dev)
                                                  : NULL;

                if (why)
                        ERR(plan, diags, h->line, "host '%s': underlay-dev '%s' %s", h->name,
                            h->underlay_dev, why);
                for (guint j = 0; j < i; j++) {
                        const VmnetFleetHost *o = g_ptr_array_index(plan->hosts, j);

                        if (g_strcmp0(h->name, o->name) == 0)
                                ERR(plan, diags, h->line,
                                    "host '%s': duplicate host name (first at line %u)", h->name,
                                    o->line);
                        else if (h->underlay.family &&
                                 vmnet_addr_equal(&h->underlay, &o->underlay)) {
                                g_autofree char *a = vmnet_addr_to_string(&h->underlay);

                                ERR(plan, diags, h->line,
                                    "host '%s': underlay %s is already host '%s' (line %u)",
                                    h->name, a, o->name, o->line);
                        }
                }
                for (guint j = 0; j < h->uplinks->len; j++) {
                        const VmnetHostUplink *u = g_ptr_array_index(h->uplinks, j);
                        const VmnetNetwork *net = vmnet_plan_find_network(plan, u->network);

                        why = u->dev ? vmnet_ifname_invalid_reason(u->dev) : NULL;
                        if (why)
                                ERR(plan, diags, u->line, "host '%s': uplink-dev '%s' %s",
                                    h->name, u->dev, why);
                        if (!net)
                                ERR(plan, diags, u->line,
                                    "host '%s': uplink-dev names network '%s', which the plan "
                                    "does not have",
                                    h->name, u->network);
                        else if (!net->uplink)
                                ERR(plan, diags, u->line,
                                    "host '%s': uplink-dev for network '%s', which has no "
                                    "<uplink>",
                                    h->name, u->network);
                        else if (!vmnet_network_on_host(net, h->name))
                                ERR(plan, diags, u->line,
                                    "host '%s': uplink-dev for network '%s', which is not on "
                                    "this host (hosts=)",
                                    h->name, u->network);
                }
        }
}

/* The largest frame a guest of net can send on host h, or refuses the plan when it cannot fit. */
static void check_mtu_chain(const VmnetPlan *plan, VmnetDiags *diags, const VmnetNetwork *net,
                            const VmnetFleetHost *h)
{
        guint guest = net->mtu ? net->mtu : 1500;
        guint cost = vmnet_vxlan_overhead(h->underlay.family);

        if (guest + cost <= h->underlay_mtu)
                return;
        ERR(plan, diags, net->vxlan->line,
            "network '%s': vxlan: guest MTU %u%s + %u bytes of VXLAN over %s needs an underlay "
            "MTU of %u, and host '%s' (line %u) has underlay-mtu %u; set the network's mtu to "
            "%d or less, or raise underlay-mtu",
            net->name, guest, net->mtu ? "" : " (the default)", cost,
            h->underlay.family == AF_INET6 ? "IPv6" : "IPv4", guest + cost, h->name, h->line,
            h->underlay_mtu, (int)h->underlay_mtu - (int)cost);
}

static void check_networks(const VmnetPlan *plan, VmnetDiags *diags)
{
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);
                const VmnetVxlan *vx = net->vxlan;
                g_autoptr(GString) on = g_string_new(NULL);
                guint n_on = 0;
                int family = 0;

                for (guint j = 0; net->hosts && net->hosts[j]; j++) {
                        if (!vmnet_plan_find_host(plan, net->hosts[j]))
                                ERR(plan, diags, net->line,
                                    "network '%s': hosts names '%s', which is not a <host> of "
                                    "the plan",
                                    net->name, net->hosts[j]);
                        for (guint k = 0; k < j; k++)
                                if (g_str_equal(net->hosts[j], net->hosts[k]))
                                        ERR(plan, diags, net->line,
                                            "network '%s': hosts names '%s' twice", net->name,
                                            net->hosts[j]);
                }
                if (net->hosts && !net->hosts[0])
                        ERR(plan, diags, net->line, "network '%s': hosts is empty", net->name);
                if (!vx)
                        continue;
                if (net->vlan_aware)
                        ERR(plan, diags, vx->line,
                            "network '%s': vxlan is not supported on a vlan-aware network",
                            net->name);
                if (vmnet_ifname_invalid_reason(vx->name))
                        ERR(plan, diags, vx->line, "network '%s': vxlan name '%s' %s", net->name,
                            vx->name, vmnet_ifname_invalid_reason(vx->name));
                for (guint j = 0; j < plan->hosts->len; j++) {
                        const VmnetFleetHost *h = g_ptr_array_index(plan->hosts, j);

                        /* A duplicate host name is reported once, by check_hosts(). */
                        if (!vmnet_network_on_host(net, h->name) ||
                            vmnet_plan_find_host(plan, h->name) != h)
                                continue;
                        if (!h->underlay.family) {
                                ERR(plan, diags, vx->line,
                                    "network '%s': vxlan needs an underlay address on host '%s' "
                                    "(line %u)",
                                    net->name, h->name, h->line);
                                continue;
                        }
                        if (family && family != h->underlay.family)
                                ERR(plan, diags, vx->line,
                                    "network '%s': vxlan: host '%s' has an underlay of another "
                                    "address family than the segment's other hosts",
                                    net->name, h->name);
                        family = h->underlay.family;
                        check_mtu_chain(plan, diags, net, h);
                        g_string_append_printf(on, "%s%s", n_on++ ? ", " : "", h->name);
                }
                /*
                 * One layer-2 segment across hosts: a mode that gives the host an
                 * address (the gateway) and a DHCP server would give every host of
                 * the segment the same address and its own DHCP server, unless
                 * gateway-host= names the one that serves it. On the other hosts'
                 * part (l2_only) the network is isolated and gateway-host= stays.
                 */
                if (vx->gateway_host && !net->l2_only &&
                    (!vmnet_plan_find_host(plan, vx->gateway_host) ||
                     !vmnet_network_on_host(net, vx->gateway_host)))
                        ERR(plan, diags, vx->line,
                            "network '%s': vxlan gateway-host '%s' is not one of the network's "
                            "hosts (%s)",
                            net->name, vx->gateway_host, on->str);
                else if (vx->gateway_host && !net->l2_only &&
                         !vmnet_mode_has_host_address(net->mode))
                        ERR(plan, diags, vx->line,
                            "network '%s': vxlan gateway-host is for a nat, host-only or routed "
                            "network, whose gateway address and DHCP server one host holds; this "
                            "network is %s",
                            net->name, vmnet_mode_to_string(net->mode));
                /*
                 * A bridged network's uplink reaches the LAN on every host: the
                 * segment would join the hosts twice, through the LAN and through
                 * VXLAN, and a broadcast would loop between them (vmnet cannot
                 * tell whether the uplinks share a LAN, and runs no STP across
                 * hosts).
                 */
                if (n_on > 1 && net->mode == VMNET_MODE_BRIDGED)
                        ERR(plan, diags, vx->line,
                            "network '%s': a bridged network with <vxlan> on %u hosts (%s) joins "
                            "its hosts twice, through each host's uplink to the LAN and through "
                            "VXLAN: a broadcast would loop between the hosts; carry the segment by "
                            "one of them (a VLAN trunked to every host's uplink, or VXLAN on an "
                            "isolated network, or a nat, host-only or routed one with "
                            "gateway-host)",
                            net->name, n_on, on->str);
                if (n_on > 1 && vmnet_mode_has_host_address(net->mode) && !vx->gateway_host)
                        ERR(plan, diags, vx->line,
                            "network '%s': a %s network with <vxlan> on %u hosts (%s) would put "
                            "its gateway address and a DHCP server on every host of one layer-2 "
                            "segment; name the one host that serves the segment with "
                            "<vxlan gateway-host=\"NAME\">, or make the network isolated",
                            net->name, vmnet_mode_to_string(net->mode), n_on, on->str);
                if (!vmnet_plan_is_fleet(plan))
                        ERR(plan, diags, vx->line,
                            "network '%s': vxlan needs a fleet plan: <host> elements with "
                            "underlay addresses",
                            net->name);
                for (guint j = 0; j < i; j++) {
                        const VmnetNetwork *o = g_ptr_array_index(plan->networks, j);

                        if (!o->vxlan)
                                continue;
                        if (o->vxlan->vni == vx->vni && o->vxlan->port == vx->port)
                                ERR(plan, diags, vx->line,
                                    "network '%s': VNI %u is already the segment of network "
                                    "'%s' (line %u)",
                                    net->name, vx->vni, o->name, o->vxlan->line);
                        else if (g_strcmp0(o->vxlan->name, vx->name) == 0)
                                ERR(plan, diags, vx->line,
                                    "network '%s': vxlan link '%s' is already used by network "
                                    "'%s' (line %u)",
                                    net->name, vx->name, o->name, o->vxlan->line);
                }
                for (guint j = 0; j < plan->networks->len; j++) {
                        const VmnetNetwork *o = g_ptr_array_index(plan->networks, j);

                        if (g_strcmp0(o->bridge, vx->name) == 0 ||
                            (o->uplink && g_strcmp0(o->uplink->ifname, vx->name) == 0))
                                ERR(plan, diags, vx->line,
                                    "network '%s': vxlan link name '%s' is a bridge or uplink "
                                    "of network '%s'",
                                    net->name, vx->name, o->name);
                }
        }
}

static void check_domains(const VmnetPlan *plan, VmnetDiags *diags)
{
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                if (!vmnet_plan_is_fleet(plan)) {
                        if (d->host)
                                ERR(plan, diags, d->line,
                                    "domain '%s': host= needs a fleet plan (<host> elements)",
                                    d->name);
                        continue;
                }
                if (!d->host) {
                        ERR(plan, diags, d->line,
                            "domain '%s': in a fleet plan a domain names the host it runs on "
                            "(host=)",
                            d->name);
                        continue;
                }
                if (!vmnet_plan_find_host(plan, d->host)) {
                        ERR(plan, diags, d->line,
                            "domain '%s': host '%s' is not a <host> of the plan", d->name,
                            d->host);
                        continue;
                }
                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        const VmnetNetwork *net = vmnet_plan_find_network(plan, ifc->network);

                        if (net && !vmnet_network_on_host(net, d->host))
                                ERR(plan, diags, ifc->line,
                                    "domain '%s': network '%s' is not on host '%s' (hosts=)",
                                    d->name, ifc->network, d->host);
                }
        }
}

void vmnet_validate_fleet(const VmnetPlan *plan, VmnetDiags *diags)
{
        if (vmnet_plan_is_fleet(plan)) {
                check_hosts(plan, diags);
        } else {
                for (guint i = 0; i < plan->networks->len; i++) {
                        const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                        if (net->hosts)
                                ERR(plan, diags, net->line,
                                    "network '%s': hosts= needs a fleet plan (<host> elements)",
                                    net->name);
                }
        }
        check_networks(plan, diags);
        check_domains(plan, diags);
}
