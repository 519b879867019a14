/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/rtnetlink.h>

#include "backend/netlink/dump.h"
#include "backend/netlink/netlink.h"
#include "backend/netlink/tc.h"
#include "observe/host.h"
#include "util/autoptr.h"

const char *const vmnet_host_sysctl_keys[] = {
        "net.ipv4.ip_forward",
        "net.ipv6.conf.all.forwarding",
        NULL,
};

static void link_free(gpointer p)
{
        VmnetHostLink *l = p;

        g_free(l->name);
        g_free(l->kind);
        g_free(l->master_name);
        g_free(l->alias);
        g_free(l->link_name);
        g_array_unref(l->addrs);
        g_ptr_array_unref(l->routes);
        if (l->bridge_vlans)
                g_array_unref(l->bridge_vlans);
        if (l->fdb_flood)
                g_array_unref(l->fdb_flood);
        g_free(l->vxlan_link_name);
        g_free(l);
}

static void route_free(gpointer p)
{
        VmnetHostRoute *r = p;

        g_free(r->oif_name);
        g_free(r);
}

static void mirror_free(gpointer p)
{
        VmnetHostMirror *m = p;

        g_free(m->port);
        g_free(m->to);
        g_free(m);
}

void vmnet_host_add_mirror(VmnetHost *host, int ifindex, guint direction, int to_ifindex)
{
        const VmnetHostLink *port = vmnet_host_find_link_index(host, ifindex);
        const VmnetHostLink *to = vmnet_host_find_link_index(host, to_ifindex);
        VmnetHostMirror *m;

        if (!port)
                return;
        m = g_new0(VmnetHostMirror, 1);
        m->port = g_strdup(port->name);
        m->direction = direction;
        m->to_ifindex = to_ifindex;
        m->to = to ? g_strdup(to->name) : NULL;
        g_ptr_array_add(host->mirrors, m);
}

const VmnetHostMirror *vmnet_host_find_mirror(const VmnetHost *host, const char *port,
                                              guint direction)
{
        for (guint i = 0; i < host->mirrors->len; i++) {
                const VmnetHostMirror *m = g_ptr_array_index(host->mirrors, i);

                if (m->direction == direction && g_strcmp0(m->port, port) == 0)
                        return m;
        }
        return NULL;
}

VmnetHost *vmnet_host_new(void)
{
        VmnetHost *h = g_new0(VmnetHost, 1);

        h->links = g_ptr_array_new_with_free_func(link_free);
        h->routes = g_ptr_array_new_with_free_func(route_free);
        h->sysctls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        h->mirrors = g_ptr_array_new_with_free_func(mirror_free);
        h->by_name = g_hash_table_new(g_str_hash, g_str_equal);
        h->by_index = g_hash_table_new(g_direct_hash, g_direct_equal);
        return h;
}

void vmnet_host_free(VmnetHost *host)
{
        if (!host)
                return;
        g_hash_table_unref(host->by_name);
        g_hash_table_unref(host->by_index);
        g_ptr_array_unref(host->links);
        g_ptr_array_unref(host->routes);
        g_hash_table_unref(host->sysctls);
        g_ptr_array_unref(host->mirrors);
        g_free(host);
}

VmnetHostLink *vmnet_host_add_link(VmnetHost *host, int ifindex, const char *name,
                                   const char *kind)
{
        VmnetHostLink *l = g_new0(VmnetHostLink, 1);

        l->ifindex = ifindex;
        l->name = g_strdup(name);
        l->kind = g_strdup(kind);
        l->stp_state = -1;
        l->forward_delay = -1;
        l->vlan_filtering = -1;
        l->vlan_default_pvid = -1;
        l->bond_mode = l->bond_miimon = l->bond_lacp_rate = l->bond_xmit_hash_policy = -1;
        l->bond_member_mii = -1;
        l->oper_up = TRUE;
        l->mtu = 1500;
        l->addrs = g_array_new(FALSE, TRUE, sizeof(VmnetHostAddr));
        l->routes = g_ptr_array_new();
        g_ptr_array_add(host->links, l);
        g_hash_table_replace(host->by_name, l->name, l);
        g_hash_table_replace(host->by_index, GINT_TO_POINTER(ifindex), l);
        return l;
}

void vmnet_host_link_add_addr(VmnetHostLink *link, const VmnetAddr *addr, guint prefixlen,
                              guint8 scope)
{
        VmnetHostAddr a = { .addr = *addr, .prefixlen = prefixlen, .scope = scope };

        g_array_append_val(link->addrs, a);
}

void vmnet_host_link_add_flood(VmnetHostLink *link, const VmnetAddr *dst)
{
        if (!link->fdb_flood)
                link->fdb_flood = g_array_new(FALSE, TRUE, sizeof(VmnetAddr));
        g_array_append_val(link->fdb_flood, *dst);
}

VmnetHostRoute *vmnet_host_add_route(VmnetHost *host, const VmnetPrefix *dst,
                                     const VmnetAddr *gateway, int oif)
{
        VmnetHostRoute *r = g_new0(VmnetHostRoute, 1);

        r->dst = *dst;
        if (gateway && gateway->family) {
                r->has_gateway = TRUE;
                r->gateway = *gateway;
        }
        r->oif = oif;
        r->protocol = RTPROT_STATIC;
        g_ptr_array_add(host->routes, r);
        return r;
}

void vmnet_host_set_sysctl(VmnetHost *host, const char *key, const char *value)
{
        g_hash_table_replace(host->sysctls, g_strdup(key), g_strdup(value));
}

VmnetHostLink *vmnet_host_find_link(const VmnetHost *host, const char *name)
{
        return name ? g_hash_table_lookup(host->by_name, name) : NULL;
}

VmnetHostLink *vmnet_host_find_link_index(const VmnetHost *host, int ifindex)
{
        return ifindex > 0 ? g_hash_table_lookup(host->by_index, GINT_TO_POINTER(ifindex)) : NULL;
}

const char *vmnet_host_sysctl(const VmnetHost *host, const char *key)
{
        return g_hash_table_lookup(host->sysctls, key);
}

static char *name_of(const VmnetHost *host, int ifindex)
{
        VmnetHostLink *l = vmnet_host_find_link_index(host, ifindex);

        return l ? g_strdup(l->name) : NULL;
}

void vmnet_host_resolve(VmnetHost *host)
{
        for (guint i = 0; i < host->links->len; i++) {
                VmnetHostLink *l = g_ptr_array_index(host->links, i);

                g_free(l->master_name);
                l->master_name = name_of(host, l->master);
                g_free(l->link_name);
                l->link_name = name_of(host, l->link);
                g_free(l->vxlan_link_name);
                l->vxlan_link_name = name_of(host, l->vxlan_link);
                g_ptr_array_set_size(l->routes, 0);
        }
        for (guint i = 0; i < host->routes->len; i++) {
                VmnetHostRoute *r = g_ptr_array_index(host->routes, i);
                VmnetHostLink *l = vmnet_host_find_link_index(host, r->oif);

                g_free(r->oif_name);
                r->oif_name = name_of(host, r->oif);
                if (l)
                        g_ptr_array_add(l->routes, r);
        }
}

char *vmnet_link_sysctl_key(const char *family, const char *ifname, const char *knob)
{
        g_autofree char *name = g_strdup(ifname);

        /* sysctl(8)'s notation: a '.' of the name is written '/' */
        g_strdelimit(name, ".", '/');
        return g_strdup_printf("net.%s.conf.%s.%s", family, name, knob);
}

static void set_link_sysctl(VmnetHost *host, const char *family, const char *ifname,
                            const char *knob, gint64 value)
{
        g_autofree char *key = vmnet_link_sysctl_key(family, ifname, knob);
        g_autofree char *v = g_strdup_printf("%" G_GINT64_FORMAT, value);

        vmnet_host_set_sysctl(host, key, v);
}

/* --- what the dumps of backend/netlink/dump.c say, into the host ---------------------------- */

static void link_cb(const VmnetNlLinkInfo *i, void *arg)
{
        VmnetHost *host = arg;
        VmnetHostLink *l = vmnet_host_add_link(host, i->ifindex, i->name,
                                               i->kind[0] ? i->kind : NULL);

        l->up = i->up;
        l->oper_up = i->oper_up;
        if (i->has_mtu)
                l->mtu = i->mtu;
        l->master = i->master;
        l->link = i->link;
        l->has_mac = i->has_mac;
        l->mac = i->mac;
        l->alias = i->alias[0] ? g_strdup(i->alias) : NULL;
        l->stp_state = i->stp_state;
        l->forward_delay = i->forward_delay;
        l->vlan_filtering = i->vlan_filtering;
        l->vlan_default_pvid = i->vlan_default_pvid;
        l->vlan_id = i->vlan_id;
        l->vlan_protocol = i->vlan_protocol;
        l->vxlan_id = i->vxlan_id;
        l->vxlan_port = i->vxlan_port;
        l->vxlan_local = i->vxlan_local;
        l->vxlan_link = i->vxlan_link;
        l->bond_mode = i->bond_mode;
        l->bond_miimon = i->bond_miimon;
        l->bond_lacp_rate = i->bond_lacp_rate;
        l->bond_xmit_hash_policy = i->bond_xmit_hash_policy;
        l->bond_has_partner = i->bond_has_partner;
        l->bond_member_mii = i->bond_member_mii;
        /* The per-link sysctls vmnet sets (vmnet_link_sysctl_key()): absent, no key. */
        if (i->arp_ignore >= 0)
                set_link_sysctl(host, "ipv4", i->name, "arp_ignore", i->arp_ignore);
        if (i->disable_ipv6 >= 0)
                set_link_sysctl(host, "ipv6", i->name, "disable_ipv6", i->disable_ipv6);
}

/* A port's (or a bridge's own) VLAN entries: an empty list is a fact too. */
static void bridge_vlans_cb(int ifindex, const VmnetNlBridgeVlan *vlans, guint n, void *arg)
{
        VmnetHostLink *l = vmnet_host_find_link_index(arg, ifindex);

        if (!l)
                return;
        if (!l->bridge_vlans)
                l->bridge_vlans = g_array_new(FALSE, TRUE, sizeof(VmnetHostBridgeVlan));
        for (guint i = 0; i < n; i++) {
                VmnetHostBridgeVlan v = { .vid = vlans[i].vid, .flags = vlans[i].flags };

                g_array_append_val(l->bridge_vlans, v);
        }
}

/* Only VXLAN links' flood lists are vmnet's; a bridge's or a NIC's own entries are not. */
static void flood_cb(int ifindex, const VmnetAddr *dst, void *arg)
{
        VmnetHostLink *l = vmnet_host_find_link_index(arg, ifindex);

        if (l && g_strcmp0(l->kind, "vxlan") == 0)
                vmnet_host_link_add_flood(l, dst);
}

static void addr_cb(const VmnetNlAddrInfo *i, void *arg)
{
        VmnetHostLink *l = vmnet_host_find_link_index(arg, i->ifindex);
        VmnetHostAddr a = {
                .addr = i->addr, .prefixlen = i->prefixlen, .scope = i->scope, .flags = i->flags
        };

        if (l)
                g_array_append_val(l->addrs, a);
}

static void route_cb(const VmnetNlRouteInfo *i, void *arg)
{
        VmnetHostRoute *r = vmnet_host_add_route(arg, &i->dst, NULL, i->oif);

        r->has_gateway = i->has_gateway;
        r->gateway = i->gateway;
        r->protocol = i->protocol;
        r->scope = i->scope;
        r->priority = i->priority;
}

#define OBSERVE_ATTEMPTS 5

/* One reading of everything; the dumper says whether a dump may have been inconsistent. */
static gboolean observe(VmnetNlDumper *d, VmnetHost *host, GError **error)
{
        gboolean any_filtering = FALSE, any_vxlan = FALSE;

        if (!vmnet_nl_dump_links(d, link_cb, host, error))
                return FALSE;
        for (guint i = 0; i < host->links->len; i++) {
                VmnetHostLink *l = g_ptr_array_index(host->links, i);

                any_filtering |= l->vlan_filtering == 1;
                if (g_strcmp0(l->kind, "vxlan") == 0) {
                        any_vxlan = TRUE;
                        /* Read: an empty flood list is a fact, not an unknown. */
                        if (!l->fdb_flood)
                                l->fdb_flood = g_array_new(FALSE, TRUE, sizeof(VmnetAddr));
                }
        }
        /* Only VXLAN links have flood lists worth a dump of the whole FDB. */
        if (any_vxlan && !vmnet_nl_dump_flood(d, flood_cb, host, error))
                return FALSE;
        /* Only VLAN-filtering bridges have port VLAN entries worth a second dump. */
        if (any_filtering && !vmnet_nl_dump_bridge_vlans(d, bridge_vlans_cb, host, error))
                return FALSE;
        return vmnet_nl_dump_addrs(d, addr_cb, host, error) &&
               vmnet_nl_dump_routes(d, route_cb, host, error);
}

/* vmnet's port mirrors, on a socket of their own (libnl's dumps, without strict checking). */
static gboolean observe_mirrors(VmnetHost *host, GError **error)
{
        g_autoptr(VmnetNlSock) sk = vmnet_nl_open(error);
        g_autoptr(GArray) mirrors = NULL;

        if (!sk || !vmnet_tc_mirrors_read(sk, &mirrors, error))
                return FALSE;
        for (guint i = 0; i < mirrors->len; i++) {
                const VmnetTcMirror *m = &g_array_index(mirrors, VmnetTcMirror, i);

                vmnet_host_add_mirror(host, m->ifindex, m->direction, m->to_ifindex);
        }
        return TRUE;
}

gboolean vmnet_observe_host(VmnetHost **out, GError **error)
{
        g_autoptr(VmnetNlDumper) d = vmnet_nl_dumper_new(error);
        g_autoptr(VmnetHost) host = NULL;

        if (!d)
                return FALSE;
        /*
         * A dump that ran into a concurrent change (NLM_F_DUMP_INTR) may have
         * missed or repeated objects: read everything again, a few times.
         */
        for (int attempt = 1;; attempt++) {
                host = vmnet_host_new();
                if (!observe(d, host, error))
                        return FALSE;
                if (!vmnet_nl_dumper_take_interrupted(d))
                        break;
                g_clear_pointer(&host, vmnet_host_free);
                if (attempt == OBSERVE_ATTEMPTS) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                    "reading the network state: it kept changing while it was "
                                    "read (%d attempts)", attempt);
                        return FALSE;
                }
        }

        for (guint i = 0; vmnet_host_sysctl_keys[i]; i++) {
                g_autofree char *v = vmnet_sysctl_read(vmnet_host_sysctl_keys[i], NULL);

                /* Absent (IPv6 disabled) is a fact, not an error. */
                if (v)
                        vmnet_host_set_sysctl(host, vmnet_host_sysctl_keys[i], v);
        }
        vmnet_host_resolve(host);
        if (!observe_mirrors(host, error))
                return FALSE;
        *out = g_steal_pointer(&host);
        return TRUE;
}
