/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "model/model.h"

static const char *const mode_names[VMNET_MODE_LAST] = {
        [VMNET_MODE_BRIDGED] = "bridged",   [VMNET_MODE_NAT] = "nat",
        [VMNET_MODE_HOST_ONLY] = "host-only", [VMNET_MODE_ISOLATED] = "isolated",
        [VMNET_MODE_ROUTED] = "routed",
};

const char *vmnet_mode_to_string(VmnetMode m)
{
        return m < VMNET_MODE_LAST ? mode_names[m] : "unknown";
}

int vmnet_mode_from_string(const char *s)
{
        for (int i = 0; i < VMNET_MODE_LAST; i++)
                if (s && g_str_equal(s, mode_names[i]))
                        return i;
        return -1;
}

gboolean vmnet_mode_has_host_address(VmnetMode m)
{
        return m == VMNET_MODE_NAT || m == VMNET_MODE_HOST_ONLY || m == VMNET_MODE_ROUTED;
}

gboolean vmnet_bridge_is_host_uplink(const VmnetPlan *plan, const char *bridge)
{
        for (guint n = 0; n < plan->networks->len; n++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                /*
                 * An adopted bridge is one the host had before vmnet, which
                 * may well carry its management address: vmnet cannot tell
                 * from the plan, and turning off the host's IPv6 and ARP
                 * there (or dropping what it receives) would cut it off.
                 */
                if (net->mode == VMNET_MODE_BRIDGED && g_strcmp0(net->bridge, bridge) == 0 &&
                    (net->adopt || (net->uplink && net->uplink->migrate_addresses)))
                        return TRUE;
        }
        return FALSE;
}

gboolean vmnet_network_host_absent(const VmnetPlan *plan, const VmnetNetwork *net)
{
        if (net->mode == VMNET_MODE_ISOLATED)
                return TRUE;
        return net->mode == VMNET_MODE_BRIDGED && net->bridge &&
               !vmnet_bridge_is_host_uplink(plan, net->bridge);
}

const char *vmnet_proto_to_string(VmnetProto p)
{
        switch (p) {
        case VMNET_PROTO_TCP:
                return "tcp";
        case VMNET_PROTO_UDP:
                return "udp";
        case VMNET_PROTO_ANY:
                break;
        }
        return "any";
}

int vmnet_proto_from_string(const char *s)
{
        if (!s)
                return -1;
        if (g_str_equal(s, "tcp"))
                return VMNET_PROTO_TCP;
        if (g_str_equal(s, "udp"))
                return VMNET_PROTO_UDP;
        if (g_str_equal(s, "any"))
                return VMNET_PROTO_ANY;
        return -1;
}

static void dhcp_item_free(gpointer p)
{
        VmnetDhcpItem *i = p;

        g_free(i->name);
        g_free(i);
}

VmnetDhcpOptions *vmnet_dhcp_options_new(void)
{
        VmnetDhcpOptions *o = g_new0(VmnetDhcpOptions, 1);

        o->dns_servers = g_ptr_array_new_with_free_func(dhcp_item_free);
        o->search = g_ptr_array_new_with_free_func(dhcp_item_free);
        o->ntp_servers = g_ptr_array_new_with_free_func(dhcp_item_free);
        o->routes = g_ptr_array_new_with_free_func(g_free);
        return o;
}

void vmnet_dhcp_options_free(VmnetDhcpOptions *o)
{
        if (!o)
                return;
        g_ptr_array_unref(o->dns_servers);
        g_ptr_array_unref(o->search);
        g_ptr_array_unref(o->ntp_servers);
        g_ptr_array_unref(o->routes);
        g_free(o->boot_bios);
        g_free(o->boot_uefi);
        g_free(o);
}

static void reservation_free(gpointer p)
{
        VmnetReservation *r = p;

        g_free(r->name);
        vmnet_dhcp_options_free(r->dhcp_options);
        g_free(r);
}

static void subnet_free(gpointer p)
{
        VmnetSubnet *s = p;

        g_ptr_array_unref(s->reservations);
        g_free(s);
}

static void portgroup_free(gpointer p)
{
        VmnetPortgroup *pg = p;

        g_free(pg->name);
        vmnet_mirror_free(pg->mirror);
        g_free(pg);
}

static void uplink_free(VmnetUplink *u)
{
        if (!u)
                return;
        g_free(u->dev);
        g_free(u->ifname);
        g_free(u);
}


static void network_free(gpointer p)
{
        VmnetNetwork *n = p;

        g_free(n->name);
        g_free(n->bridge);
        g_free(n->dns_domain);
        g_free(n->nat_out);
        uplink_free(n->uplink);
        g_ptr_array_unref(n->subnets);
        g_ptr_array_unref(n->routes);
        g_ptr_array_unref(n->portgroups);
        g_ptr_array_unref(n->forwards);
        g_strfreev(n->hosts);
        vmnet_vxlan_free(n->vxlan);
        vmnet_dhcp_options_free(n->dhcp_options);
        g_free(n);
}

static void interface_free(gpointer p)
{
        VmnetInterface *i = p;

        g_free(i->network);
        g_free(i->portgroup);
        g_free(i->model);
        vmnet_mirror_free(i->mirror);
        g_free(i);
}

static void domain_free(gpointer p)
{
        VmnetDomain *d = p;

        g_free(d->name);
        g_free(d->host);
        g_ptr_array_unref(d->interfaces);
        g_free(d);
}

static void allow_free(gpointer p)
{
        VmnetAllow *a = p;

        g_free(a->from);
        g_free(a->to);
        g_free(a);
}

VmnetPlan *vmnet_plan_new(const char *file)
{
        VmnetPlan *plan = g_new0(VmnetPlan, 1);

        plan->file = g_strdup(!file || g_str_equal(file, "-") ? "<stdin>" : file);
        plan->networks = g_ptr_array_new_with_free_func(network_free);
        plan->domains = g_ptr_array_new_with_free_func(domain_free);
        plan->allows = g_ptr_array_new_with_free_func(allow_free);
        plan->hosts = g_ptr_array_new_with_free_func(vmnet_fleet_host_free);
        plan->bonds = g_ptr_array_new_with_free_func(vmnet_bond_free);
        return plan;
}

void vmnet_plan_free(VmnetPlan *plan)
{
        if (!plan)
                return;
        g_free(plan->file);
        g_clear_pointer(&plan->source, g_bytes_unref);
        g_free(plan->name);
        g_ptr_array_unref(plan->networks);
        g_ptr_array_unref(plan->domains);
        g_ptr_array_unref(plan->allows);
        g_ptr_array_unref(plan->hosts);
        g_ptr_array_unref(plan->bonds);
        g_free(plan->host);
        g_free(plan);
}

VmnetNetwork *vmnet_network_new(void)
{
        VmnetNetwork *n = g_new0(VmnetNetwork, 1);

        n->stp = -1;
        n->forward_delay = -1;
        n->subnets = g_ptr_array_new_with_free_func(subnet_free);
        n->routes = g_ptr_array_new_with_free_func(g_free);
        n->portgroups = g_ptr_array_new_with_free_func(portgroup_free);
        n->forwards = g_ptr_array_new_with_free_func(g_free);
        n->dhcp_options = vmnet_dhcp_options_new();
        return n;
}

VmnetSubnet *vmnet_subnet_new(void)
{
        VmnetSubnet *s = g_new0(VmnetSubnet, 1);

        s->reservations = g_ptr_array_new_with_free_func(reservation_free);
        return s;
}

VmnetDomain *vmnet_domain_new(void)
{
        VmnetDomain *d = g_new0(VmnetDomain, 1);

        d->interfaces = g_ptr_array_new_with_free_func(interface_free);
        return d;
}

VmnetInterface *vmnet_interface_new(void)
{
        return g_new0(VmnetInterface, 1);
}

VmnetPortgroup *vmnet_portgroup_new(void)
{
        return g_new0(VmnetPortgroup, 1);
}

VmnetPortForward *vmnet_port_forward_new(void)
{
        return g_new0(VmnetPortForward, 1);
}

VmnetReservation *vmnet_reservation_new(void)
{
        return g_new0(VmnetReservation, 1);
}

VmnetRoute *vmnet_route_new(void)
{
        return g_new0(VmnetRoute, 1);
}

VmnetAllow *vmnet_allow_new(void)
{
        return g_new0(VmnetAllow, 1);
}

VmnetUplink *vmnet_uplink_new(void)
{
        return g_new0(VmnetUplink, 1);
}

VmnetNetwork *vmnet_plan_find_network(const VmnetPlan *plan, const char *name)
{
        for (guint i = 0; name && i < plan->networks->len; i++) {
                VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                if (g_str_equal(n->name, name))
                        return n;
        }
        return NULL;
}

VmnetDomain *vmnet_plan_find_domain(const VmnetPlan *plan, const char *name)
{
        for (guint i = 0; name && i < plan->domains->len; i++) {
                VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                if (g_str_equal(d->name, name))
                        return d;
        }
        return NULL;
}

VmnetPortgroup *vmnet_network_find_portgroup(const VmnetNetwork *net, const char *name)
{
        for (guint i = 0; name && i < net->portgroups->len; i++) {
                VmnetPortgroup *pg = g_ptr_array_index(net->portgroups, i);

                if (g_str_equal(pg->name, name))
                        return pg;
        }
        return NULL;
}

VmnetPortgroup *vmnet_network_default_portgroup(const VmnetNetwork *net)
{
        for (guint i = 0; i < net->portgroups->len; i++) {
                VmnetPortgroup *pg = g_ptr_array_index(net->portgroups, i);

                if (pg->is_default)
                        return pg;
        }
        return NULL;
}

guint vmnet_network_port_vlan(const VmnetNetwork *net, const char *portgroup)
{
        const VmnetPortgroup *pg;

        if (!net->vlan_aware || !net->uplink)
                return 0;
        pg = portgroup ? vmnet_network_find_portgroup(net, portgroup) : vmnet_network_default_portgroup(net);
        if (pg && pg->has_trunk)
                return pg->trunk.untagged;
        return pg && pg->vlan ? pg->vlan : net->uplink->vlan;
}

gboolean vmnet_network_port_vlans(const VmnetNetwork *net, const char *portgroup,
                                  VmnetPortVlans *out)
{
        const VmnetPortgroup *pg;

        vmnet_port_vlans_access(out, 0);
        if (!net->vlan_aware || !net->uplink)
                return FALSE;
        pg = portgroup ? vmnet_network_find_portgroup(net, portgroup) : vmnet_network_default_portgroup(net);
        if (pg && pg->has_trunk)
                *out = pg->trunk;
        else
                vmnet_port_vlans_access(out, vmnet_network_port_vlan(net, portgroup));
        return TRUE;
}

const char *vmnet_sec_knob_name(VmnetSecKnob k)
{
        static const char *const names[VMNET_SEC_LAST] = {
                [VMNET_SEC_MAC] = "mac-spoofing",
                [VMNET_SEC_IP] = "ip-spoofing",
                [VMNET_SEC_DHCP] = "dhcp-server",
                [VMNET_SEC_RA] = "router-advertisement",
        };

        return k < VMNET_SEC_LAST ? names[k] : "?";
}

gboolean vmnet_interface_sec_allowed(const VmnetNetwork *net, const VmnetInterface *ifc,
                                     VmnetSecKnob k)
{
        const VmnetPortgroup *pg = NULL;

        if (ifc->security.v[k] != VMNET_SEC_UNSET)
                return ifc->security.v[k] == VMNET_SEC_ALLOW;
        if (!net)
                return FALSE;
        pg = ifc->portgroup ? vmnet_network_find_portgroup(net, ifc->portgroup)
                            : vmnet_network_default_portgroup(net);
        if (pg && pg->security.v[k] != VMNET_SEC_UNSET)
                return pg->security.v[k] == VMNET_SEC_ALLOW;
        return net->security.v[k] == VMNET_SEC_ALLOW;
}

VmnetMirror *vmnet_mirror_new(void)
{
        VmnetMirror *m = g_new0(VmnetMirror, 1);

        m->direction = VMNET_MIRROR_BOTH;
        m->to_interface = 1;
        return m;
}

void vmnet_mirror_free(VmnetMirror *m)
{
        if (!m)
                return;
        g_free(m->to_domain);
        g_free(m->to_link);
        g_free(m);
}

const char *vmnet_mirror_dir_to_string(guint direction)
{
        switch (direction) {
        case VMNET_MIRROR_INGRESS:
                return "ingress";
        case VMNET_MIRROR_EGRESS:
                return "egress";
        case VMNET_MIRROR_BOTH:
                return "both";
        default:
                return "?";
        }
}

const VmnetMirror *vmnet_network_port_mirror(const VmnetNetwork *net, const char *portgroup)
{
        const VmnetPortgroup *pg = portgroup ? vmnet_network_find_portgroup(net, portgroup)
                                             : vmnet_network_default_portgroup(net);

        return pg ? pg->mirror : NULL;
}

gboolean vmnet_plan_has_mirrors(const VmnetPlan *plan)
{
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                for (guint j = 0; j < n->portgroups->len; j++)
                        if (((const VmnetPortgroup *)g_ptr_array_index(n->portgroups, j))->mirror)
                                return TRUE;
        }
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++)
                        if (((const VmnetInterface *)g_ptr_array_index(d->interfaces, j))->mirror)
                                return TRUE;
        }
        return FALSE;
}

const VmnetMirror *vmnet_interface_mirror(const VmnetNetwork *net, const VmnetInterface *ifc)
{
        if (ifc->mirror || !net)
                return ifc->mirror;
        return vmnet_network_port_mirror(net, ifc->portgroup);
}

void vmnet_tap_name(const VmnetMac *mac, char *buf)
{
        g_snprintf(buf, VMNET_IFNAMSIZ, VMNET_TAP_PREFIX "%02x%02x%02x%02x%02x%02x", mac->b[0],
                   mac->b[1], mac->b[2], mac->b[3], mac->b[4], mac->b[5]);
}

gboolean vmnet_is_tap_name(const char *name)
{
        if (!name || !g_str_has_prefix(name, VMNET_TAP_PREFIX) || strlen(name) != 15)
                return FALSE;
        for (const char *p = name + 3; *p; p++)
                if (!g_ascii_isxdigit(*p))
                        return FALSE;
        return TRUE;
}

VmnetSubnet *vmnet_network_first_subnet(const VmnetNetwork *net, int family)
{
        for (guint i = 0; i < net->subnets->len; i++) {
                VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                if (s->cidr.addr.family == family)
                        return s;
        }
        return NULL;
}

gboolean vmnet_network_has_dhcp_subnet(const VmnetNetwork *net)
{
        for (guint i = 0; i < net->subnets->len; i++) {
                const VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                if (s->has_dhcp || s->reservations->len)
                        return TRUE;
        }
        return FALSE;
}

VmnetSubnet *vmnet_network_subnet_for(const VmnetNetwork *net, const VmnetAddr *addr)
{
        for (guint i = 0; i < net->subnets->len; i++) {
                VmnetSubnet *s = g_ptr_array_index(net->subnets, i);

                if (vmnet_prefix_contains(&s->cidr, addr))
                        return s;
        }
        return NULL;
}

static void derive_mac(const VmnetPlan *plan, const VmnetDomain *dom, const VmnetInterface *ifc,
                       guint nth, VmnetMac *out)
{
        g_autofree char *key = g_strdup_printf("%s\n%s\n%s\n%u", plan->name ? plan->name : "",
                                               dom->name, ifc->network ? ifc->network : "", nth);
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        guint8 digest[32];
        gsize len = sizeof(digest);

        g_checksum_update(sum, (const guchar *)key, -1);
        g_checksum_get_digest(sum, digest, &len);
        out->b[0] = 0x52;
        out->b[1] = 0x54;
        out->b[2] = 0x00;
        memcpy(&out->b[3], digest, 3);
}

void vmnet_plan_finalize(VmnetPlan *plan)
{
        for (guint i = 0; i < plan->networks->len; i++) {
                VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                if (!n->bridge && n->name)
                        n->bridge = g_strdup_printf("vm-%s", n->name);
                if (n->uplink && !n->uplink->ifname && n->uplink->dev) {
                        /* On a VLAN-aware bridge the trunk itself is the port. */
                        if (n->uplink->vlan && !n->vlan_aware)
                                n->uplink->ifname =
                                        g_strdup_printf("%s.%u", n->uplink->dev, n->uplink->vlan);
                        else
                                n->uplink->ifname = g_strdup(n->uplink->dev);
                }
        }

        /*
         * A derived MAC depends on the plan name, the domain, the network and
         * how many interfaces of that domain on that network come before it,
         * so adding an interface on another network never renumbers this one.
         */
        for (guint i = 0; i < plan->domains->len; i++) {
                VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        guint nth = 0;

                        if (!ifc->model)
                                ifc->model = g_strdup("virtio");
                        if (ifc->has_mac)
                                continue;
                        for (guint k = 0; k < j; k++) {
                                VmnetInterface *prev = g_ptr_array_index(d->interfaces, k);

                                if (g_strcmp0(prev->network, ifc->network) == 0)
                                        nth++;
                        }
                        derive_mac(plan, d, ifc, nth, &ifc->mac);
                        ifc->has_mac = TRUE;
                }
        }
}
