/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "backend/netlink/tc.h"
#include "backend/netlink/netlink.h"
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

/* --- raw rtnetlink dumps --------------------------------------------------------------------
 *
 * Every object type is read with one raw dump parsed straight into the plain
 * structs, rather than with libnl's caches (rtnl_link/addr/route_alloc_cache):
 * a cache builds, hashes and frees one libnl object per message only for us
 * to copy a few fields out of it, and libnl 3.7 drops the bridge's
 * IFLA_INFO_DATA (STP, forward delay, VLAN filtering) anyway.
 *
 * The socket asks for strict checking (NETLINK_GET_STRICT_CHK, Linux 4.20),
 * so that the kernel filters the route dump by table instead of sending the
 * local table (a local and a multicast route per IPv6 link) to be thrown
 * away here. In strict mode the kernel refuses a request with a header field
 * or attribute it does not filter on, so each request is built exactly like
 * iproute2's (rtnl_linkdump_req, rtnl_addrdump_req, rtnl_routedump_req):
 * only the family, plus IFLA_EXT_MASK or RTA_TABLE. Older kernels ignore
 * both the option and the filter; the callbacks filter again.
 *
 * Messages are read from the socket directly rather than with
 * nl_recvmsgs(), which copies every message into a new nl_msg, and ignores
 * both the error a failed dump ends with (NLMSG_DONE carrying -errno: an
 * empty result would read as an empty host) and NLM_F_DUMP_INTR.
 */

typedef void (*DumpCb)(struct nlmsghdr *nlh, void *arg);

typedef struct {
        struct nl_sock *sk;
        guint8 *buf;
        size_t size;
        gboolean interrupted; /* a dump said NLM_F_DUMP_INTR: read everything again */
} Dumper;

static void dumper_clear(Dumper *d)
{
        g_free(d->buf);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Dumper, dumper_clear)

/* The kernel fills at most 32 KiB per datagram, unless a single message is larger. */
#define DUMP_BUF_SIZE (64 * 1024)
#define OBSERVE_ATTEMPTS 5

/*
 * Attribute parsing, inlined: libnl's nla_parse() makes several calls per
 * attribute, and a bridge's RTM_NEWLINK carries about a hundred (with
 * IFLA_INFO_DATA). Same result as nla_parse() without a policy: tb[type] is
 * the last attribute of that type, or NULL.
 */
static inline int attr_len(const struct nlattr *a)
{
        return a->nla_len - NLA_HDRLEN;
}

static inline void *attr_data(const struct nlattr *a)
{
        return (char *)a + NLA_HDRLEN;
}

static void attrs_parse(struct nlattr **tb, int maxtype, void *head, int len)
{
        struct nlattr *a = head;

        memset(tb, 0, sizeof(*tb) * (maxtype + 1));
        while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= len) {
                int type = a->nla_type & NLA_TYPE_MASK;

                if (type <= maxtype)
                        tb[type] = a;
                len -= NLA_ALIGN(a->nla_len);
                a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
        }
}

/* Parses the attributes after the family header (hdrlen bytes); NULL when the message is short. */
static void *msg_parse(struct nlmsghdr *nlh, size_t hdrlen, struct nlattr **tb, int maxtype)
{
        if (nlh->nlmsg_len < NLMSG_LENGTH(hdrlen))
                return NULL;
        attrs_parse(tb, maxtype, (char *)NLMSG_DATA(nlh) + NLMSG_ALIGN(hdrlen),
                    (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdrlen)));
        return NLMSG_DATA(nlh);
}

static void nested_parse(struct nlattr **tb, int maxtype, const struct nlattr *nest)
{
        attrs_parse(tb, maxtype, attr_data(nest), attr_len(nest));
}

static char *attr_str(const struct nlattr *a)
{
        return a ? g_strndup(attr_data(a), attr_len(a)) : NULL;
}

static gboolean attr_u32(const struct nlattr *a, guint32 *out)
{
        if (!a || attr_len(a) < 4)
                return FALSE;
        memcpy(out, attr_data(a), 4);
        return TRUE;
}

static gboolean attr_u16(const struct nlattr *a, guint16 *out)
{
        if (!a || attr_len(a) < 2)
                return FALSE;
        memcpy(out, attr_data(a), 2);
        return TRUE;
}

/* An address attribute of the family's length (RTA_DST, RTA_GATEWAY, IFA_LOCAL, ...). */
static gboolean attr_addr(const struct nlattr *a, int family, VmnetAddr *out)
{
        int len = family == AF_INET ? 4 : 16;

        if (!a || attr_len(a) != len)
                return FALSE;
        memset(out, 0, sizeof(*out));
        out->family = family;
        memcpy(out->bytes, attr_data(a), len);
        return TRUE;
}

/* The kernel's errno and extended-ack text of an NLMSG_DONE or NLMSG_ERROR. */
static void dump_error(const struct nlmsghdr *nlh, int errnum, GError **error, const char *what)
{
        g_autofree char *ext = vmnet_nl_ext_ack(nlh);

        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "reading %s: %s%s%s%s", what,
                    g_strerror(errnum), ext ? " (kernel: " : "", ext ? ext : "", ext ? ")" : "");
}

static gboolean dump_recv(Dumper *d, guint32 seq, DumpCb cb, void *arg, GError **error,
                          const char *what)
{
        int fd = nl_socket_get_fd(d->sk);

        for (;;) {
                struct nlmsghdr *nlh;
                ssize_t n;
                size_t left;

                /* The datagram's size, without copying it: one message may exceed the buffer. */
                n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
                if (n >= 0 && (size_t)n > d->size) {
                        d->size = (size_t)n;
                        d->buf = g_realloc(d->buf, d->size);
                }
                if (n >= 0)
                        n = recv(fd, d->buf, d->size, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "reading %s: %s",
                                    what, g_strerror(errno));
                        return FALSE;
                }
                if (n == 0) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                    "reading %s: the socket was closed", what);
                        return FALSE;
                }
                left = (size_t)n;
                for (nlh = (struct nlmsghdr *)d->buf; NLMSG_OK(nlh, left);
                     nlh = NLMSG_NEXT(nlh, left)) {
                        /* Left over from an earlier request on this socket. */
                        if (nlh->nlmsg_seq != seq)
                                continue;
                        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                                d->interrupted = TRUE;
                        if (nlh->nlmsg_type == NLMSG_DONE) {
                                int e = 0;

                                /* A dump that fails ends here, with -errno. */
                                if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(e)))
                                        memcpy(&e, NLMSG_DATA(nlh), sizeof(e));
                                if (e < 0) {
                                        dump_error(nlh, -e, error, what);
                                        return FALSE;
                                }
                                return TRUE;
                        }
                        if (nlh->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(nlh);

                                if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
                                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                                    "reading %s: truncated error message",
                                                    what);
                                        return FALSE;
                                }
                                if (e->error == 0) /* an ack: nothing follows */
                                        return TRUE;
                                dump_error(nlh, -e->error, error, what);
                                return FALSE;
                        }
                        if (nlh->nlmsg_type == NLMSG_OVERRUN) {
                                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                            "reading %s: messages were lost", what);
                                return FALSE;
                        }
                        if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
                                cb(nlh, arg);
                }
        }
}

/*
 * One dump: the request is the family's header (hdr, hdrlen: an ifinfomsg,
 * ifaddrmsg or rtmsg) and, when attr is not 0, one u32 attribute.
 */
static gboolean dump(Dumper *d, int type, const void *hdr, size_t hdrlen, int attr,
                     guint32 value, DumpCb cb, void *arg, GError **error, const char *what)
{
        struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
        guint32 seq;
        int err;

        if (!msg || nlmsg_append(msg, (void *)hdr, hdrlen, NLMSG_ALIGNTO) < 0 ||
            (attr && nla_put_u32(msg, attr, value) < 0)) {
                nlmsg_free(msg);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "reading %s: cannot build the request", what);
                return FALSE;
        }
        /* Port id, sequence number, NLM_F_REQUEST; a dump is never acked, so no NLM_F_ACK. */
        nl_complete_msg(d->sk, msg);
        nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
        seq = nlmsg_hdr(msg)->nlmsg_seq;
        err = nl_send(d->sk, msg);
        nlmsg_free(msg);
        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "reading %s: %s", what,
                            nl_geterror(err));
                return FALSE;
        }
        return dump_recv(d, seq, cb, arg, error, what);
}

/* --- links --------------------------------------------------------------------------------- */

static void parse_bridge_data(VmnetHostLink *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_BR_MAX + 1];
        guint32 v;
        guint16 pvid;

        nested_parse(tb, IFLA_BR_MAX, data);
        if (attr_u32(tb[IFLA_BR_STP_STATE], &v))
                l->stp_state = v ? 1 : 0;
        if (attr_u32(tb[IFLA_BR_FORWARD_DELAY], &v))
                l->forward_delay = (int)((v + 50) / 100); /* USER_HZ */
        if (tb[IFLA_BR_VLAN_FILTERING] && attr_len(tb[IFLA_BR_VLAN_FILTERING]) >= 1)
                l->vlan_filtering = *(guint8 *)attr_data(tb[IFLA_BR_VLAN_FILTERING]) ? 1 : 0;
        /* Only a kernel with bridge VLAN filtering reports it. */
        if (attr_u16(tb[IFLA_BR_VLAN_DEFAULT_PVID], &pvid))
                l->vlan_default_pvid = pvid;
}

static void parse_vlan_data(VmnetHostLink *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_VLAN_MAX + 1];
        guint16 v;

        nested_parse(tb, IFLA_VLAN_MAX, data);
        if (attr_u16(tb[IFLA_VLAN_ID], &v))
                l->vlan_id = v;
        if (attr_u16(tb[IFLA_VLAN_PROTOCOL], &v))
                l->vlan_protocol = ntohs(v);
}

static void parse_vxlan_data(VmnetHostLink *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_VXLAN_MAX + 1];
        guint32 v;
        guint16 port;

        nested_parse(tb, IFLA_VXLAN_MAX, data);
        if (attr_u32(tb[IFLA_VXLAN_ID], &v))
                l->vxlan_id = v;
        if (attr_u16(tb[IFLA_VXLAN_PORT], &port))
                l->vxlan_port = ntohs(port);
        if (attr_u32(tb[IFLA_VXLAN_LINK], &v))
                l->vxlan_link = (int)v;
        if (!attr_addr(tb[IFLA_VXLAN_LOCAL], AF_INET, &l->vxlan_local))
                attr_addr(tb[IFLA_VXLAN_LOCAL6], AF_INET6, &l->vxlan_local);
}

static gboolean attr_u8(const struct nlattr *a, guint8 *out)
{
        if (!a || attr_len(a) < 1)
                return FALSE;
        *out = *(guint8 *)attr_data(a);
        return TRUE;
}

static void parse_bond_data(VmnetHostLink *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_BOND_MAX + 1];
        guint32 v;
        guint8 b;

        nested_parse(tb, IFLA_BOND_MAX, data);
        if (attr_u8(tb[IFLA_BOND_MODE], &b))
                l->bond_mode = b;
        if (attr_u32(tb[IFLA_BOND_MIIMON], &v))
                l->bond_miimon = (int)v;
        if (attr_u8(tb[IFLA_BOND_AD_LACP_RATE], &b))
                l->bond_lacp_rate = b;
        if (attr_u8(tb[IFLA_BOND_XMIT_HASH_POLICY], &b))
                l->bond_xmit_hash_policy = b;
        if (tb[IFLA_BOND_AD_INFO]) {
                static const guint8 zero[6];
                struct nlattr *ad[IFLA_BOND_AD_INFO_MAX + 1];

                nested_parse(ad, IFLA_BOND_AD_INFO_MAX, tb[IFLA_BOND_AD_INFO]);
                l->bond_has_partner = ad[IFLA_BOND_AD_INFO_PARTNER_MAC] &&
                                      attr_len(ad[IFLA_BOND_AD_INFO_PARTNER_MAC]) == 6 &&
                                      memcmp(attr_data(ad[IFLA_BOND_AD_INFO_PARTNER_MAC]), zero,
                                             6) != 0;
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

/*
 * The per-link sysctls vmnet sets (vmnet_link_sysctl_key()), from the
 * IFLA_AF_SPEC of the link dump rather than one /proc/sys read per link:
 * AF_INET's IFLA_INET_CONF is a u32 array of IPV4_DEVCONF_* - 1,
 * AF_INET6's IFLA_INET6_CONF an s32 array of DEVCONF_*. A link without
 * IPv6 (IPv6 disabled at boot) has no AF_INET6 entry: no key, as
 * /proc/sys would have no file.
 */
static void parse_af_spec(VmnetHost *host, const char *name, const struct nlattr *spec)
{
        const struct nlattr *a;
        int rem;

        nla_for_each_nested(a, spec, rem) {
                struct nlattr *tb[IFLA_INET6_MAX + 1];
                const struct nlattr *conf;

                if (nla_type(a) == AF_INET) {
                        struct nlattr *t4[IFLA_INET_MAX + 1];

                        nested_parse(t4, IFLA_INET_MAX, a);
                        conf = t4[IFLA_INET_CONF];
                        if (conf && attr_len(conf) >= IPV4_DEVCONF_ARP_IGNORE * 4) {
                                const guint32 *c = attr_data(conf);

                                set_link_sysctl(host, "ipv4", name, "arp_ignore",
                                                c[IPV4_DEVCONF_ARP_IGNORE - 1]);
                        }
                } else if (nla_type(a) == AF_INET6) {
                        nested_parse(tb, IFLA_INET6_MAX, a);
                        conf = tb[IFLA_INET6_CONF];
                        if (conf && attr_len(conf) >= (DEVCONF_DISABLE_IPV6 + 1) * 4) {
                                const gint32 *c = attr_data(conf);

                                set_link_sysctl(host, "ipv6", name, "disable_ipv6",
                                                c[DEVCONF_DISABLE_IPV6]);
                        }
                }
        }
}

static void link_cb(struct nlmsghdr *nlh, void *arg)
{
        VmnetHost *host = arg;
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        g_autofree char *name = NULL;
        VmnetHostLink *l;
        guint32 v;

        if (nlh->nlmsg_type != RTM_NEWLINK ||
            !(ifi = msg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX)) || !tb[IFLA_IFNAME])
                return;
        name = attr_str(tb[IFLA_IFNAME]);
        l = vmnet_host_add_link(host, ifi->ifi_index, name, NULL);
        l->up = (ifi->ifi_flags & IFF_UP) != 0;
        /* RFC 2863 states of linux/if.h (which clashes with net/if.h): 0 unknown, 6 up */
        if (tb[IFLA_OPERSTATE] && attr_len(tb[IFLA_OPERSTATE]) >= 1)
                l->oper_up = *(guint8 *)attr_data(tb[IFLA_OPERSTATE]) == 6 ||
                             *(guint8 *)attr_data(tb[IFLA_OPERSTATE]) == 0;
        if (attr_u32(tb[IFLA_MTU], &v))
                l->mtu = v;
        if (attr_u32(tb[IFLA_MASTER], &v))
                l->master = (int)v;
        /* A lower device in another namespace (a veth's peer) is not ours to name. */
        if (attr_u32(tb[IFLA_LINK], &v) && !tb[IFLA_LINK_NETNSID] && (int)v != ifi->ifi_index)
                l->link = (int)v;
        if (tb[IFLA_ADDRESS] && attr_len(tb[IFLA_ADDRESS]) == 6) {
                l->has_mac = TRUE;
                memcpy(l->mac.b, attr_data(tb[IFLA_ADDRESS]), 6);
        }
        if (tb[IFLA_IFALIAS]) {
                l->alias = attr_str(tb[IFLA_IFALIAS]);
                if (!l->alias[0])
                        g_clear_pointer(&l->alias, g_free);
        }
        if (tb[IFLA_LINKINFO]) {
                struct nlattr *li[IFLA_INFO_MAX + 1];

                nested_parse(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]);
                if (li[IFLA_INFO_KIND]) {
                        l->kind = attr_str(li[IFLA_INFO_KIND]);
                        if (li[IFLA_INFO_DATA] && g_str_equal(l->kind, "bridge"))
                                parse_bridge_data(l, li[IFLA_INFO_DATA]);
                        else if (li[IFLA_INFO_DATA] && g_str_equal(l->kind, "vlan"))
                                parse_vlan_data(l, li[IFLA_INFO_DATA]);
                        else if (li[IFLA_INFO_DATA] && g_str_equal(l->kind, "vxlan"))
                                parse_vxlan_data(l, li[IFLA_INFO_DATA]);
                        else if (li[IFLA_INFO_DATA] && g_str_equal(l->kind, "bond"))
                                parse_bond_data(l, li[IFLA_INFO_DATA]);
                }
                if (li[IFLA_INFO_SLAVE_KIND] && li[IFLA_INFO_SLAVE_DATA] &&
                    attr_len(li[IFLA_INFO_SLAVE_KIND]) >= 4 &&
                    memcmp(attr_data(li[IFLA_INFO_SLAVE_KIND]), "bond", 4) == 0) {
                        struct nlattr *sd[IFLA_BOND_SLAVE_MAX + 1];
                        guint8 mii;

                        nested_parse(sd, IFLA_BOND_SLAVE_MAX, li[IFLA_INFO_SLAVE_DATA]);
                        if (attr_u8(sd[IFLA_BOND_SLAVE_MII_STATUS], &mii))
                                l->bond_member_mii = mii;
                }
        }
        if (tb[IFLA_AF_SPEC])
                parse_af_spec(host, name, tb[IFLA_AF_SPEC]);
}

/*
 * VLAN entries (RTEXT_FILTER_BRVLAN) of the ports of VLAN-filtering bridges,
 * and of each bridge itself: the dump has one message per port and one per
 * bridge (its "self" entries), each under its own ifindex.
 */
static void bridge_vlan_cb(struct nlmsghdr *nlh, void *arg)
{
        VmnetHost *host = arg;
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        struct nlattr *a;
        VmnetHostLink *l;
        int rem;

        if (nlh->nlmsg_type != RTM_NEWLINK ||
            !(ifi = msg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX)) || !tb[IFLA_AF_SPEC])
                return;
        if (!(l = vmnet_host_find_link_index(host, ifi->ifi_index)))
                return;
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
}

/*
 * The flood lists of VXLAN links: their own (NTF_SELF) all-zeros FDB entries,
 * one per remote. Learned entries (a guest's MAC) and the bridge's entries of
 * the port (NTF_MASTER) are the kernel's business.
 */
static void fdb_cb(struct nlmsghdr *nlh, void *arg)
{
        static const guint8 zero[6];
        VmnetHost *host = arg;
        struct nlattr *tb[NDA_MAX + 1];
        struct ndmsg *ndm;
        VmnetHostLink *l;
        VmnetAddr dst;

        if (nlh->nlmsg_type != RTM_NEWNEIGH || !(ndm = msg_parse(nlh, sizeof(*ndm), tb, NDA_MAX)) ||
            ndm->ndm_family != AF_BRIDGE || !(ndm->ndm_flags & NTF_SELF) ||
            !(l = vmnet_host_find_link_index(host, ndm->ndm_ifindex)) ||
            g_strcmp0(l->kind, "vxlan") != 0)
                return;
        if (!tb[NDA_LLADDR] || attr_len(tb[NDA_LLADDR]) != 6 ||
            memcmp(attr_data(tb[NDA_LLADDR]), zero, 6) != 0)
                return;
        if (attr_addr(tb[NDA_DST], AF_INET, &dst) || attr_addr(tb[NDA_DST], AF_INET6, &dst))
                vmnet_host_link_add_flood(l, &dst);
}

/* --- addresses and routes ------------------------------------------------------------------ */

static void addr_cb(struct nlmsghdr *nlh, void *arg)
{
        VmnetHost *host = arg;
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg *ifa;
        VmnetHostAddr a = { 0 };
        VmnetHostLink *l;
        guint32 v;

        if (nlh->nlmsg_type != RTM_NEWADDR || !(ifa = msg_parse(nlh, sizeof(*ifa), tb, IFA_MAX)) ||
            (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
            !(l = vmnet_host_find_link_index(host, (int)ifa->ifa_index)))
                return;
        /* IPv4 has the local address in IFA_LOCAL (IFA_ADDRESS: the peer), IPv6 in IFA_ADDRESS. */
        if (!attr_addr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], ifa->ifa_family, &a.addr))
                return;
        a.prefixlen = ifa->ifa_prefixlen;
        a.scope = ifa->ifa_scope;
        /* ifa_flags holds only the low 8 bits. */
        a.flags = attr_u32(tb[IFA_FLAGS], &v) ? v : ifa->ifa_flags;
        g_array_append_val(l->addrs, a);
}

static void route_cb(struct nlmsghdr *nlh, void *arg)
{
        VmnetHost *host = arg;
        struct nlattr *tb[RTA_MAX + 1];
        const struct nlattr *gw = NULL;
        struct rtmsg *rtm;
        VmnetHostRoute *r;
        VmnetPrefix p = { 0 };
        guint32 table, v;
        int oif = 0;

        if (nlh->nlmsg_type != RTM_NEWROUTE || !(rtm = msg_parse(nlh, sizeof(*rtm), tb, RTA_MAX)))
                return;
        /* Cached clones (PMTU exceptions) are not configured routes; strict dumps omit them. */
        if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
            rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED))
                return;
        if (!attr_u32(tb[RTA_TABLE], &table))
                table = rtm->rtm_table;
        if (table != RT_TABLE_MAIN)
                return;
        if (tb[RTA_DST]) {
                if (!attr_addr(tb[RTA_DST], rtm->rtm_family, &p.addr))
                        return;
        } else {
                p.addr.family = rtm->rtm_family;
        }
        p.prefix = rtm->rtm_dst_len;
        /* The first next hop: of RTA_MULTIPATH when there is one, else RTA_OIF and RTA_GATEWAY. */
        if (tb[RTA_MULTIPATH] && attr_len(tb[RTA_MULTIPATH]) >= (int)sizeof(struct rtnexthop)) {
                const struct rtnexthop *nh = attr_data(tb[RTA_MULTIPATH]);

                if (nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= attr_len(tb[RTA_MULTIPATH])) {
                        struct nlattr *nt[RTA_MAX + 1];

                        oif = nh->rtnh_ifindex;
                        attrs_parse(nt, RTA_MAX, RTNH_DATA(nh), nh->rtnh_len - (int)RTNH_LENGTH(0));
                        gw = nt[RTA_GATEWAY];
                }
        } else {
                if (attr_u32(tb[RTA_OIF], &v))
                        oif = (int)v;
                gw = tb[RTA_GATEWAY];
        }
        r = vmnet_host_add_route(host, &p, NULL, oif);
        /* Not a gateway of the other family (RTA_VIA): re-creating the route would misuse it. */
        r->has_gateway = attr_addr(gw, rtm->rtm_family, &r->gateway);
        r->protocol = rtm->rtm_protocol;
        r->scope = rtm->rtm_scope;
        r->priority = attr_u32(tb[RTA_PRIORITY], &v) ? v : 0;
}

/* One reading of everything; d->interrupted when a dump may have been inconsistent. */
static gboolean observe(Dumper *d, VmnetHost *host, GError **error)
{
        const struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        const struct ifinfomsg ifi_br = { .ifi_family = AF_BRIDGE };
        const struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
        /*
         * The kernel reads rtm_table, then RTA_TABLE (what iproute2 sends). AF_UNSPEC rather
         * than a request per family: a filtered AF_INET dump fails with ENOENT while the
         * IPv4 main table does not exist (a new namespace); an AF_UNSPEC one skips it.
         */
        const struct rtmsg rtm = { .rtm_family = AF_UNSPEC, .rtm_table = RT_TABLE_MAIN };
        const struct ndmsg ndm = { .ndm_family = AF_BRIDGE };
        gboolean any_filtering = FALSE, any_vxlan = FALSE;

        if (!dump(d, RTM_GETLINK, &ifi, sizeof(ifi), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS,
                  link_cb, host, error, "links"))
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
        if (any_vxlan && !dump(d, RTM_GETNEIGH, &ndm, sizeof(ndm), 0, 0, fdb_cb, host, error,
                               "vxlan flood lists"))
                return FALSE;
        /* Only VLAN-filtering bridges have port VLAN entries worth a second dump. */
        if (any_filtering &&
            !dump(d, RTM_GETLINK, &ifi_br, sizeof(ifi_br), IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN,
                  bridge_vlan_cb, host, error, "bridge port vlans"))
                return FALSE;
        if (!dump(d, RTM_GETADDR, &ifa, sizeof(ifa), 0, 0, addr_cb, host, error, "addresses"))
                return FALSE;
        return dump(d, RTM_GETROUTE, &rtm, sizeof(rtm), RTA_TABLE, RT_TABLE_MAIN, route_cb, host,
                    error, "routes");
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
        g_autoptr(VmnetNlSock) sk = vmnet_nl_open(error);
        g_autoptr(VmnetHost) host = NULL;
        g_auto(Dumper) d = { 0 };
        int one = 1;

        if (!sk)
                return FALSE;
        /* Best effort: before Linux 4.20 nothing is filtered, and route_cb filters alone. */
        setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
        d.sk = sk;
        d.size = DUMP_BUF_SIZE;
        d.buf = g_malloc(d.size);
        /*
         * A dump that ran into a concurrent change (NLM_F_DUMP_INTR) may have
         * missed or repeated objects: read everything again, a few times.
         */
        for (int attempt = 1;; attempt++) {
                host = vmnet_host_new();
                d.interrupted = FALSE;
                if (!observe(&d, host, error))
                        return FALSE;
                if (!d.interrupted)
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
