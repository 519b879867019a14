/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "apply/netlink.h"
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
        if (l->bridge_vlans)
                g_array_unref(l->bridge_vlans);
        g_free(l);
}

static void route_free(gpointer p)
{
        VmnetHostRoute *r = p;

        g_free(r->oif_name);
        g_free(r);
}

VmnetHost *vmnet_host_new(void)
{
        VmnetHost *h = g_new0(VmnetHost, 1);

        h->links = g_ptr_array_new_with_free_func(link_free);
        h->routes = g_ptr_array_new_with_free_func(route_free);
        h->sysctls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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
        l->mtu = 1500;
        l->addrs = g_array_new(FALSE, TRUE, sizeof(VmnetHostAddr));
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
        }
        for (guint i = 0; i < host->routes->len; i++) {
                VmnetHostRoute *r = g_ptr_array_index(host->routes, i);

                g_free(r->oif_name);
                r->oif_name = name_of(host, r->oif);
        }
}

/* --- links: a raw RTM_GETLINK dump ---------------------------------------------------------
 *
 * Raw rather than rtnl_link_alloc_cache(): libnl 3.7 drops the bridge's
 * IFLA_INFO_DATA (STP, forward delay, VLAN filtering), and parsing the
 * attributes straight into VmnetHostLink avoids building thousands of libnl
 * objects only to copy them.
 */

static char *attr_str(const struct nlattr *a)
{
        return a ? g_strndup(nla_data(a), nla_len(a)) : NULL;
}

static gboolean attr_u32(const struct nlattr *a, guint32 *out)
{
        if (!a || nla_len(a) < 4)
                return FALSE;
        *out = nla_get_u32((struct nlattr *)a);
        return TRUE;
}

static void parse_bridge_data(VmnetHostLink *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_BR_MAX + 1];
        guint32 v;

        if (nla_parse_nested(tb, IFLA_BR_MAX, data, NULL) < 0)
                return;
        if (attr_u32(tb[IFLA_BR_STP_STATE], &v))
                l->stp_state = v ? 1 : 0;
        if (attr_u32(tb[IFLA_BR_FORWARD_DELAY], &v))
                l->forward_delay = (int)((v + 50) / 100); /* USER_HZ */
        if (tb[IFLA_BR_VLAN_FILTERING] && nla_len(tb[IFLA_BR_VLAN_FILTERING]) >= 1)
                l->vlan_filtering = nla_get_u8(tb[IFLA_BR_VLAN_FILTERING]) ? 1 : 0;
}

static void parse_vlan_data(VmnetHostLink *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_VLAN_MAX + 1];

        if (nla_parse_nested(tb, IFLA_VLAN_MAX, data, NULL) < 0)
                return;
        if (tb[IFLA_VLAN_ID] && nla_len(tb[IFLA_VLAN_ID]) >= 2)
                l->vlan_id = nla_get_u16(tb[IFLA_VLAN_ID]);
        if (tb[IFLA_VLAN_PROTOCOL] && nla_len(tb[IFLA_VLAN_PROTOCOL]) >= 2)
                l->vlan_protocol = ntohs(nla_get_u16(tb[IFLA_VLAN_PROTOCOL]));
}

static int link_cb(struct nl_msg *msg, void *arg)
{
        VmnetHost *host = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        g_autofree char *name = NULL;
        VmnetHostLink *l;
        guint32 v;

        if (nlh->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(nlh, sizeof(*ifi)))
                return NL_SKIP;
        ifi = nlmsg_data(nlh);
        if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
                return NL_SKIP;
        name = attr_str(tb[IFLA_IFNAME]);
        l = vmnet_host_add_link(host, ifi->ifi_index, name, NULL);
        l->up = (ifi->ifi_flags & IFF_UP) != 0;
        if (attr_u32(tb[IFLA_MTU], &v))
                l->mtu = v;
        if (attr_u32(tb[IFLA_MASTER], &v))
                l->master = (int)v;
        /* A lower device in another namespace (a veth's peer) is not ours to name. */
        if (attr_u32(tb[IFLA_LINK], &v) && !tb[IFLA_LINK_NETNSID] && (int)v != ifi->ifi_index)
                l->link = (int)v;
        if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
                l->has_mac = TRUE;
                memcpy(l->mac.b, nla_data(tb[IFLA_ADDRESS]), 6);
        }
        if (tb[IFLA_IFALIAS]) {
                l->alias = attr_str(tb[IFLA_IFALIAS]);
                if (!l->alias[0])
                        g_clear_pointer(&l->alias, g_free);
        }
        if (tb[IFLA_LINKINFO]) {
                struct nlattr *li[IFLA_INFO_MAX + 1];

                if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 &&
                    li[IFLA_INFO_KIND]) {
                        l->kind = attr_str(li[IFLA_INFO_KIND]);
                        if (li[IFLA_INFO_DATA] && g_str_equal(l->kind, "bridge"))
                                parse_bridge_data(l, li[IFLA_INFO_DATA]);
                        else if (li[IFLA_INFO_DATA] && g_str_equal(l->kind, "vlan"))
                                parse_vlan_data(l, li[IFLA_INFO_DATA]);
                }
        }
        return NL_OK;
}

/* Ports of VLAN-filtering bridges: their VLAN entries (RTEXT_FILTER_BRVLAN). */
static int bridge_vlan_cb(struct nl_msg *msg, void *arg)
{
        VmnetHost *host = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        struct nlattr *a;
        VmnetHostLink *l;
        int rem;

        if (nlh->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(nlh, sizeof(*ifi)))
                return NL_SKIP;
        ifi = nlmsg_data(nlh);
        if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_AF_SPEC])
                return NL_SKIP;
        if (!(l = vmnet_host_find_link_index(host, ifi->ifi_index)))
                return NL_SKIP;
        if (!l->bridge_vlans)
                l->bridge_vlans = g_array_new(FALSE, TRUE, sizeof(VmnetHostBridgeVlan));
        nla_for_each_nested(a, tb[IFLA_AF_SPEC], rem) {
                const struct bridge_vlan_info *vi;
                VmnetHostBridgeVlan v;

                if (nla_type(a) != IFLA_BRIDGE_VLAN_INFO || nla_len(a) < (int)sizeof(*vi))
                        continue;
                vi = nla_data(a);
                v.vid = vi->vid;
                v.flags = vi->flags & (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
                g_array_append_val(l->bridge_vlans, v);
        }
        return NL_OK;
}

static gboolean dump(struct nl_sock *sk, int type, int family, guint32 ext_mask,
                     nl_recvmsg_msg_cb_t cb, void *arg, GError **error, const char *what)
{
        struct ifinfomsg ifi = { .ifi_family = (unsigned char)family };
        g_autoptr(GError) local = NULL;
        struct nl_msg *msg;
        int err;

        msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
        if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
            (ext_mask && nla_put_u32(msg, IFLA_EXT_MASK, ext_mask) < 0)) {
                nlmsg_free(msg);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "reading %s: cannot build the request", what);
                return FALSE;
        }
        err = nl_send_auto(sk, msg);
        nlmsg_free(msg);
        if (err >= 0) {
                nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
                err = nl_recvmsgs_default(sk);
                nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
        }
        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "reading %s: %s", what,
                            nl_geterror(err));
                return FALSE;
        }
        return TRUE;
}

static void nl_to_addr(struct nl_addr *n, VmnetAddr *out)
{
        memset(out, 0, sizeof(*out));
        out->family = nl_addr_get_family(n);
        memcpy(out->bytes, nl_addr_get_binary_addr(n),
               MIN(nl_addr_get_len(n), (unsigned int)sizeof(out->bytes)));
}

static void addr_cb(struct nl_object *obj, void *arg)
{
        VmnetHost *host = arg;
        struct rtnl_addr *ra = (struct rtnl_addr *)obj;
        struct nl_addr *local = rtnl_addr_get_local(ra);
        VmnetHostLink *l = vmnet_host_find_link_index(host, rtnl_addr_get_ifindex(ra));
        int family = rtnl_addr_get_family(ra);
        VmnetHostAddr a = { 0 };

        if (!local)
                local = rtnl_addr_get_peer(ra);
        if (!l || !local || (family != AF_INET && family != AF_INET6))
                return;
        nl_to_addr(local, &a.addr);
        a.addr.family = family;
        a.prefixlen = (guint)rtnl_addr_get_prefixlen(ra);
        a.scope = (guint8)rtnl_addr_get_scope(ra);
        a.flags = (guint32)rtnl_addr_get_flags(ra);
        g_array_append_val(l->addrs, a);
}

static void route_cb(struct nl_object *obj, void *arg)
{
        VmnetHost *host = arg;
        struct rtnl_route *rr = (struct rtnl_route *)obj;
        struct nl_addr *dst = rtnl_route_get_dst(rr);
        int family = rtnl_route_get_family(rr);
        VmnetHostRoute *r;
        VmnetPrefix p = { 0 };

        if (rtnl_route_get_table(rr) != RT_TABLE_MAIN || rtnl_route_get_type(rr) != RTN_UNICAST ||
            (family != AF_INET && family != AF_INET6))
                return;
        if (dst)
                nl_to_addr(dst, &p.addr);
        p.addr.family = family;
        p.prefix = dst ? (guint)nl_addr_get_prefixlen(dst) : 0;
        r = vmnet_host_add_route(host, &p, NULL, 0);
        r->protocol = rtnl_route_get_protocol(rr);
        r->scope = rtnl_route_get_scope(rr);
        r->priority = rtnl_route_get_priority(rr);
        if (rtnl_route_get_nnexthops(rr) > 0) {
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rr, 0);
                struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);

                r->oif = rtnl_route_nh_get_ifindex(nh);
                if (gw && nl_addr_get_len(gw) > 0 && nl_addr_get_family(gw) == family) {
                        r->has_gateway = TRUE;
                        nl_to_addr(gw, &r->gateway);
                }
        }
}

gboolean vmnet_observe_host(VmnetHost **out, GError **error)
{
        g_autoptr(VmnetHost) host = vmnet_host_new();
        g_autoptr(VmnetNlSock) sk = vmnet_nl_open(error);
        g_autoptr(VmnetNlCache) addrs = NULL;
        g_autoptr(VmnetNlCache) routes = NULL;
        gboolean any_filtering = FALSE;
        int err;

        if (!sk)
                return FALSE;
        if (!dump(sk, RTM_GETLINK, AF_UNSPEC, RTEXT_FILTER_SKIP_STATS, link_cb, host, error,
                  "links"))
                return FALSE;
        for (guint i = 0; i < host->links->len; i++) {
                VmnetHostLink *l = g_ptr_array_index(host->links, i);

                any_filtering |= l->vlan_filtering == 1;
        }
        /* Only VLAN-filtering bridges have port VLAN entries worth a second dump. */
        if (any_filtering &&
            !dump(sk, RTM_GETLINK, AF_BRIDGE, RTEXT_FILTER_BRVLAN, bridge_vlan_cb, host, error,
                  "bridge port vlans"))
                return FALSE;

        err = rtnl_addr_alloc_cache(sk, &addrs);
        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "reading addresses: %s",
                            nl_geterror(err));
                return FALSE;
        }
        nl_cache_foreach(addrs, addr_cb, host);

        err = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes);
        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "reading routes: %s",
                            nl_geterror(err));
                return FALSE;
        }
        nl_cache_foreach(routes, route_cb, host);

        for (guint i = 0; vmnet_host_sysctl_keys[i]; i++) {
                g_autofree char *v = vmnet_sysctl_read(vmnet_host_sysctl_keys[i], NULL);

                /* Absent (IPv6 disabled) is a fact, not an error. */
                if (v)
                        vmnet_host_set_sysctl(host, vmnet_host_sysctl_keys[i], v);
        }
        vmnet_host_resolve(host);
        *out = g_steal_pointer(&host);
        return TRUE;
}
