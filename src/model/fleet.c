/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "model/fleet.h"
#include "util/mutant.h"

VmnetVxlan *vmnet_vxlan_new(void)
{
        VmnetVxlan *vx = g_new0(VmnetVxlan, 1);

        vx->port = VMNET_VXLAN_DEFAULT_PORT;
        vx->remotes = g_array_new(FALSE, TRUE, sizeof(VmnetAddr));
        return vx;
}

void vmnet_vxlan_free(VmnetVxlan *vx)
{
        if (!vx)
                return;
        g_free(vx->name);
        g_free(vx->dev);
        g_free(vx->gateway_host);
        g_array_unref(vx->remotes);
        g_free(vx);
}

static void host_uplink_free(gpointer p)
{
        VmnetHostUplink *u = p;

        g_free(u->network);
        g_free(u->dev);
        g_free(u);
}

VmnetHostUplink *vmnet_host_uplink_new(void)
{
        return g_new0(VmnetHostUplink, 1);
}

VmnetFleetHost *vmnet_fleet_host_new(void)
{
        VmnetFleetHost *h = g_new0(VmnetFleetHost, 1);

        h->underlay_mtu = 1500;
        h->uplinks = g_ptr_array_new_with_free_func(host_uplink_free);
        h->bonds = g_ptr_array_new(); /* borrowed from the plan's */
        return h;
}

void vmnet_fleet_host_free(gpointer p)
{
        VmnetFleetHost *h = p;

        if (!h)
                return;
        g_free(h->name);
        g_free(h->underlay_dev);
        g_ptr_array_unref(h->uplinks);
        g_ptr_array_unref(h->bonds);
        g_free(h);
}

VmnetBond *vmnet_bond_new(void)
{
        VmnetBond *b = g_new0(VmnetBond, 1);

        b->mode = b->miimon = b->lacp_rate = b->xmit_hash_policy = -1;
        return b;
}

void vmnet_bond_free(gpointer p)
{
        VmnetBond *b = p;

        if (!b)
                return;
        g_free(b->name);
        g_strfreev(b->members);
        g_free(b);
}

VmnetBond *vmnet_plan_find_bond(const VmnetPlan *plan, const char *name)
{
        for (guint i = 0; name && i < plan->bonds->len; i++) {
                VmnetBond *b = g_ptr_array_index(plan->bonds, i);

                if (g_strcmp0(b->name, name) == 0)
                        return b;
        }
        return NULL;
}

gboolean vmnet_plan_is_fleet(const VmnetPlan *plan)
{
        return plan->hosts && plan->hosts->len > 0;
}

VmnetFleetHost *vmnet_plan_find_host(const VmnetPlan *plan, const char *name)
{
        for (guint i = 0; name && plan->hosts && i < plan->hosts->len; i++) {
                VmnetFleetHost *h = g_ptr_array_index(plan->hosts, i);

                if (g_strcmp0(h->name, name) == 0)
                        return h;
        }
        return NULL;
}

gboolean vmnet_network_on_host(const VmnetNetwork *net, const char *host)
{
        return !net->hosts || g_strv_contains((const char *const *)net->hosts, host);
}

guint vmnet_vxlan_overhead(int family)
{
        return family == AF_INET6 ? VMNET_VXLAN_OVERHEAD_V6 : VMNET_VXLAN_OVERHEAD_V4;
}

const char *vmnet_fleet_host_uplink_dev(const VmnetFleetHost *h, const char *net)
{
        for (guint i = 0; i < h->uplinks->len; i++) {
                const VmnetHostUplink *u = g_ptr_array_index(h->uplinks, i);

                if (g_strcmp0(u->network, net) == 0)
                        return u->dev;
        }
        return NULL;
}

static void use_uplink_dev(VmnetUplink *u, const char *dev)
{
        g_autofree char *derived = u->vlan ? g_strdup_printf("%s.%u", u->dev, u->vlan) : NULL;
        gboolean dotted = derived && g_strcmp0(u->ifname, derived) == 0;

        /* An explicit name= stays; a name derived from the device follows it. */
        if (dotted || g_strcmp0(u->ifname, u->dev) == 0) {
                g_free(u->ifname);
                u->ifname = dotted ? g_strdup_printf("%s.%u", dev, u->vlan) : g_strdup(dev);
        }
        g_free(u->dev);
        u->dev = g_strdup(dev);
}

static gboolean domain_on_host(const VmnetPlan *plan, const VmnetDomain *d)
{
        for (guint i = 0; i < d->interfaces->len; i++) {
                const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, i);

                if (!vmnet_plan_find_network(plan, ifc->network))
                        return FALSE;
        }
        return g_strcmp0(d->host, plan->host) == 0;
}

gboolean vmnet_vxlan_serves(const VmnetNetwork *net, const char *host)
{
        /* Mutant gateway-every-host: gateway-host= is ignored, every host serves the segment. */
        if (VMNET_MUTANT_IS(GATEWAY_EVERY_HOST))
                return TRUE;
        return !net->vxlan || !net->vxlan->gateway_host ||
               g_strcmp0(net->vxlan->gateway_host, host) == 0;
}

/* The IPv4 address of a <reservation> of mac in s, NULL when none. */
static const VmnetAddr *planned_ip4_reserved(const VmnetSubnet *s, const VmnetMac *mac)
{
        for (guint j = 0; j < s->reservations->len; j++) {
                const VmnetReservation *r = g_ptr_array_index(s->reservations, j);

                if (r->ip.family == AF_INET && vmnet_mac_equal(&r->mac, mac))
                        return &r->ip;
        }
        return NULL;
}

/* The IPv4 address the plan gives ifc on net: ip=, else a <reservation>'s. */
static const VmnetAddr *planned_ip4(const VmnetNetwork *net, const VmnetInterface *ifc)
{
        const VmnetAddr *ip = NULL;

        if (ifc->has_ip)
                return &ifc->ip;
        for (guint i = 0; !ip && i < net->subnets->len; i++)
                ip = planned_ip4_reserved(g_ptr_array_index(net->subnets, i), &ifc->mac);
        return ip;
}

/*
 * net on a host that only carries its segment: the bridge and the VXLAN
 * link, as an isolated network. A guest here keeps, as ip=, the address
 * the plan gives it (its anti-spoofing binds it); the gateway host's
 * DHCP server hands it out.
 */
static void keep_layer2(VmnetPlan *plan, VmnetNetwork *net)
{
        for (guint i = 0; i < plan->domains->len; i++) {
                VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; g_strcmp0(d->host, plan->host) == 0 && j < d->interfaces->len; j++) {
                        VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        const VmnetAddr *ip;

                        if (g_strcmp0(ifc->network, net->name) == 0 && (ip = planned_ip4(net, ifc))) {
                                ifc->ip = *ip;
                                ifc->has_ip = TRUE;
                        }
                }
        }
        net->mode = VMNET_MODE_ISOLATED;
        net->l2_only = TRUE;
        g_ptr_array_set_size(net->subnets, 0);
        g_ptr_array_set_size(net->routes, 0);
        g_ptr_array_set_size(net->forwards, 0);
        net->has_nat = FALSE;
        net->nat_line = 0;
        g_clear_pointer(&net->nat_out, g_free);
        g_clear_pointer(&net->dns_domain, g_free);
        vmnet_dhcp_options_free(net->dhcp_options);
        net->dhcp_options = vmnet_dhcp_options_new();
}

/*
 * net on the host that serves its segment: the guests of the other hosts
 * with ip= get it from this host's DHCP server, as reservations (their
 * domains are not in this host's part).
 */
static void serve_remote_guests(VmnetPlan *plan, VmnetNetwork *net)
{
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; g_strcmp0(d->host, plan->host) != 0 && j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        VmnetSubnet *s;
                        VmnetReservation *r;

                        if (g_strcmp0(ifc->network, net->name) != 0 || !ifc->has_ip ||
                            !(s = vmnet_network_subnet_for(net, &ifc->ip)) ||
                            planned_ip4_reserved(s, &ifc->mac))
                                continue;
                        r = vmnet_reservation_new();
                        r->line = ifc->line;
                        r->mac = ifc->mac;
                        r->ip = ifc->ip;
                        g_ptr_array_add(s->reservations, r);
                }
        }
}

gboolean vmnet_plan_select_host(VmnetPlan *plan, const char *host, GError **error)
{
        const VmnetFleetHost *self;

        if (!vmnet_plan_is_fleet(plan))
                return TRUE;
        if (!(self = vmnet_plan_find_host(plan, host))) {
                g_autoptr(GString) names = g_string_new(NULL);

                for (guint i = 0; i < plan->hosts->len; i++) {
                        const VmnetFleetHost *h = g_ptr_array_index(plan->hosts, i);

                        g_string_append_printf(names, "%s%s", i ? ", " : "", h->name);
                }
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                            "%s:%u: host '%s' is not in the fleet plan (its hosts: %s); run on "
                            "one of them, or name it with --host NAME",
                            plan->file, plan->line, host ? host : "", names->str);
                return FALSE;
        }
        plan->host = g_strdup(self->name);
        /* The bonds of the other hosts go; this host's, and those of every host, stay. */
        for (guint i = plan->bonds->len; i-- > 0;) {
                const VmnetBond *b = g_ptr_array_index(plan->bonds, i);

                for (guint j = 0; j < plan->hosts->len; j++) {
                        const VmnetFleetHost *h = g_ptr_array_index(plan->hosts, j);

                        if (h != self && g_ptr_array_find(h->bonds, b, NULL)) {
                                g_ptr_array_remove_index(plan->bonds, i);
                                break;
                        }
                }
        }
        for (guint i = plan->networks->len; i-- > 0;) {
                VmnetNetwork *net = g_ptr_array_index(plan->networks, i);
                const char *dev;

                if (!vmnet_network_on_host(net, self->name)) {
                        g_ptr_array_remove_index(plan->networks, i);
                        continue;
                }
                if (net->uplink && (dev = vmnet_fleet_host_uplink_dev(self, net->name)))
                        use_uplink_dev(net->uplink, dev);
                if (!net->vxlan)
                        continue;
                if (!vmnet_vxlan_serves(net, self->name))
                        keep_layer2(plan, net);
                else if (net->vxlan->gateway_host)
                        serve_remote_guests(plan, net);
                net->vxlan->local = self->underlay;
                g_free(net->vxlan->dev);
                net->vxlan->dev = g_strdup(self->underlay_dev);
                g_array_set_size(net->vxlan->remotes, 0);
                for (guint j = 0; j < plan->hosts->len; j++) {
                        const VmnetFleetHost *h = g_ptr_array_index(plan->hosts, j);

                        if (h == self || !vmnet_network_on_host(net, h->name))
                                continue;
                        /* Mutant no-fdb: the last host of every segment is left out of the flood list. */
                        if (VMNET_MUTANT_IS(NO_FDB) && j + 1 == plan->hosts->len)
                                continue;
                        g_array_append_val(net->vxlan->remotes, h->underlay);
                }
        }
        for (guint i = plan->domains->len; i-- > 0;)
                if (!domain_on_host(plan, g_ptr_array_index(plan->domains, i)))
                        g_ptr_array_remove_index(plan->domains, i);
        for (guint i = plan->allows->len; i-- > 0;) {
                const VmnetAllow *a = g_ptr_array_index(plan->allows, i);
                const VmnetNetwork *from = vmnet_plan_find_network(plan, a->from);
                const VmnetNetwork *to = a->to_host ? NULL : vmnet_plan_find_network(plan, a->to);

                /* The host routes nothing of a segment another host serves. */
                if (!from || from->l2_only || (!a->to_host && (!to || to->l2_only)))
                        g_ptr_array_remove_index(plan->allows, i);
        }
        return TRUE;
}
