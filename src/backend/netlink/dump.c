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
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include "backend/netlink/dump.h"
#include "backend/netlink/netlink.h"
#include "util/autoptr.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/*
 * Every object type is read with one raw dump decoded straight into plain
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
 * both the option and the filter; the decoders filter again.
 *
 * Messages are read from the socket directly rather than with
 * nl_recvmsgs(), which copies every message into a new nl_msg, and ignores
 * both the error a failed dump ends with (NLMSG_DONE carrying -errno: an
 * empty result would read as an empty host) and NLM_F_DUMP_INTR.
 */

typedef void (*RawCb)(struct nlmsghdr *nlh, void *arg);

struct VmnetNlDumper {
        struct nl_sock *sk;
        guint8 *buf;
        size_t size;
        gboolean interrupted; /* a dump said NLM_F_DUMP_INTR: read everything again */
        GArray *vlans;        /* VmnetNlBridgeVlan, of the message being decoded */
};

/* The kernel fills at most 32 KiB per datagram, unless a single message is larger. */
#define DUMP_BUF_SIZE (64 * 1024)

VmnetNlDumper *vmnet_nl_dumper_new(GError **error)
{
        struct nl_sock *sk = vmnet_nl_open(error);
        VmnetNlDumper *d;
        int one = 1;

        if (!sk)
                return NULL;
        /* Best effort: before Linux 4.20 nothing is filtered, and the decoders filter alone. */
        setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
        d = g_new0(VmnetNlDumper, 1);
        d->sk = sk;
        d->size = DUMP_BUF_SIZE;
        d->buf = g_malloc(d->size);
        d->vlans = g_array_new(FALSE, FALSE, sizeof(VmnetNlBridgeVlan));
        return d;
}

void vmnet_nl_dumper_free(VmnetNlDumper *d)
{
        if (!d)
                return;
        nl_socket_free(d->sk);
        g_free(d->buf);
        g_array_unref(d->vlans);
        g_free(d);
}

gboolean vmnet_nl_dumper_take_interrupted(VmnetNlDumper *d)
{
        gboolean was = d->interrupted;

        d->interrupted = FALSE;
        return was;
}

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

static gboolean attr_u8(const struct nlattr *a, guint8 *out)
{
        if (!a || attr_len(a) < 1)
                return FALSE;
        *out = *(guint8 *)attr_data(a);
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

static gboolean dump_recv(VmnetNlDumper *d, guint32 seq, RawCb cb, void *arg, GError **error,
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
static gboolean dump(VmnetNlDumper *d, int type, const void *hdr, size_t hdrlen, int attr,
                     guint32 value, RawCb cb, void *arg, GError **error, const char *what)
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

/* --- links ---------------------------------------------------------------------------------- */

static void parse_bridge_data(VmnetNlLinkInfo *l, struct nlattr *data)
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

static void parse_vlan_data(VmnetNlLinkInfo *l, struct nlattr *data)
{
        struct nlattr *tb[IFLA_VLAN_MAX + 1];
        guint16 v;

        nested_parse(tb, IFLA_VLAN_MAX, data);
        if (attr_u16(tb[IFLA_VLAN_ID], &v))
                l->vlan_id = v;
        if (attr_u16(tb[IFLA_VLAN_PROTOCOL], &v))
                l->vlan_protocol = ntohs(v);
}

static void parse_vxlan_data(VmnetNlLinkInfo *l, struct nlattr *data)
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

static void parse_bond_data(VmnetNlLinkInfo *l, struct nlattr *data)
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


/* A string attribute into buf, cut to size - 1 bytes; "" when absent. */
static void attr_strcpy(const struct nlattr *a, char *buf, size_t size)
{
        size_t n = a ? MIN((size_t)attr_len(a), size - 1) : 0;

        if (n)
                memcpy(buf, attr_data(a), n);
        buf[n] = '\0';
}

/*
 * The per-link sysctls vmnet sets, from IFLA_AF_SPEC rather than one
 * /proc/sys read per link: AF_INET's IFLA_INET_CONF is a u32 array of
 * IPV4_DEVCONF_* - 1, AF_INET6's IFLA_INET6_CONF an s32 array of
 * DEVCONF_*. A link without IPv6 (IPv6 disabled at boot) has no AF_INET6
 * entry: -1, as /proc/sys would have no file.
 */
static void parse_af_spec(VmnetNlLinkInfo *l, const struct nlattr *spec)
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

                                l->arp_ignore = c[IPV4_DEVCONF_ARP_IGNORE - 1];
                        }
                } else if (nla_type(a) == AF_INET6) {
                        nested_parse(tb, IFLA_INET6_MAX, a);
                        conf = tb[IFLA_INET6_CONF];
                        if (conf && attr_len(conf) >= (DEVCONF_DISABLE_IPV6 + 1) * 4) {
                                const gint32 *c = attr_data(conf);

                                l->disable_ipv6 = c[DEVCONF_DISABLE_IPV6];
                        }
                }
        }
}

gboolean vmnet_nl_link_decode(const struct nlmsghdr *nlh, VmnetNlLinkInfo *l)
{
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        guint32 v;

        if (nlh->nlmsg_type != RTM_NEWLINK ||
            !(ifi = msg_parse((struct nlmsghdr *)nlh, sizeof(*ifi), tb, IFLA_MAX)) ||
            !tb[IFLA_IFNAME])
                return FALSE;
        memset(l, 0, sizeof(*l));
        l->ifindex = ifi->ifi_index;
        attr_strcpy(tb[IFLA_IFNAME], l->name, sizeof(l->name));
        l->stp_state = l->forward_delay = l->vlan_filtering = l->vlan_default_pvid = -1;
        l->bond_mode = l->bond_miimon = l->bond_lacp_rate = l->bond_xmit_hash_policy = -1;
        l->bond_member_mii = -1;
        l->arp_ignore = l->disable_ipv6 = -1;
        l->up = (ifi->ifi_flags & IFF_UP) != 0;
        /* RFC 2863 states of linux/if.h (which clashes with net/if.h): 0 unknown, 6 up */
        l->oper_up = TRUE;
        if (tb[IFLA_OPERSTATE] && attr_len(tb[IFLA_OPERSTATE]) >= 1)
                l->oper_up = *(guint8 *)attr_data(tb[IFLA_OPERSTATE]) == 6 ||
                             *(guint8 *)attr_data(tb[IFLA_OPERSTATE]) == 0;
        if (attr_u32(tb[IFLA_MTU], &v)) {
                l->has_mtu = TRUE;
                l->mtu = v;
        }
        if (attr_u32(tb[IFLA_MASTER], &v))
                l->master = (int)v;
        /* A lower device in another namespace (a veth's peer) is not ours to name. */
        if (attr_u32(tb[IFLA_LINK], &v) && !tb[IFLA_LINK_NETNSID] && (int)v != ifi->ifi_index)
                l->link = (int)v;
        if (tb[IFLA_ADDRESS] && attr_len(tb[IFLA_ADDRESS]) == 6) {
                l->has_mac = TRUE;
                memcpy(l->mac.b, attr_data(tb[IFLA_ADDRESS]), 6);
        }
        attr_strcpy(tb[IFLA_IFALIAS], l->alias, sizeof(l->alias));
        if (tb[IFLA_LINKINFO]) {
                struct nlattr *li[IFLA_INFO_MAX + 1];

                nested_parse(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]);
                if (li[IFLA_INFO_KIND]) {
                        attr_strcpy(li[IFLA_INFO_KIND], l->kind, sizeof(l->kind));
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
                parse_af_spec(l, tb[IFLA_AF_SPEC]);
        return TRUE;
}

/* --- the dumps ----------------------------------------------------------------------------- */

typedef struct {
        VmnetNlDumper *d;
        void (*cb)(void); /* one of the VmnetNl*Cb of dump.h */
        void *arg;
} Sink;

static void link_cb(struct nlmsghdr *nlh, void *arg)
{
        const Sink *s = arg;
        VmnetNlLinkInfo l;

        if (vmnet_nl_link_decode(nlh, &l))
                ((VmnetNlLinkCb)s->cb)(&l, s->arg);
}

gboolean vmnet_nl_dump_links(VmnetNlDumper *d, VmnetNlLinkCb cb, void *arg, GError **error)
{
        const struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        Sink s = { d, (void (*)(void))cb, arg };

        return dump(d, RTM_GETLINK, &ifi, sizeof(ifi), IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS,
                    link_cb, &s, error, "links");
}

/* The dump has one message per port and one per bridge (its "self" entries), each under its own ifindex. */
static void bridge_vlan_cb(struct nlmsghdr *nlh, void *arg)
{
        const Sink *s = arg;
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;
        struct nlattr *a;
        int rem;

        if (nlh->nlmsg_type != RTM_NEWLINK ||
            !(ifi = msg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX)) || !tb[IFLA_AF_SPEC])
                return;
        g_array_set_size(s->d->vlans, 0);
        nla_for_each_nested(a, tb[IFLA_AF_SPEC], rem) {
                const struct bridge_vlan_info *vi;
                VmnetNlBridgeVlan v;

                if (nla_type(a) != IFLA_BRIDGE_VLAN_INFO || nla_len(a) < (int)sizeof(*vi))
                        continue;
                vi = nla_data(a);
                v.vid = vi->vid;
                v.flags = vi->flags & (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
                g_array_append_val(s->d->vlans, v);
        }
        ((VmnetNlBridgeVlansCb)s->cb)(ifi->ifi_index, (const VmnetNlBridgeVlan *)s->d->vlans->data,
                                      s->d->vlans->len, s->arg);
}

gboolean vmnet_nl_dump_bridge_vlans(VmnetNlDumper *d, VmnetNlBridgeVlansCb cb, void *arg,
                                    GError **error)
{
        const struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
        Sink s = { d, (void (*)(void))cb, arg };

        return dump(d, RTM_GETLINK, &ifi, sizeof(ifi), IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN,
                    bridge_vlan_cb, &s, error, "bridge port vlans");
}

static void flood_cb(struct nlmsghdr *nlh, void *arg)
{
        static const guint8 zero[6];
        const Sink *s = arg;
        struct nlattr *tb[NDA_MAX + 1];
        struct ndmsg *ndm;
        VmnetAddr dst;

        if (nlh->nlmsg_type != RTM_NEWNEIGH || !(ndm = msg_parse(nlh, sizeof(*ndm), tb, NDA_MAX)) ||
            ndm->ndm_family != AF_BRIDGE || !(ndm->ndm_flags & NTF_SELF))
                return;
        if (!tb[NDA_LLADDR] || attr_len(tb[NDA_LLADDR]) != 6 ||
            memcmp(attr_data(tb[NDA_LLADDR]), zero, 6) != 0)
                return;
        if (attr_addr(tb[NDA_DST], AF_INET, &dst) || attr_addr(tb[NDA_DST], AF_INET6, &dst))
                ((VmnetNlFloodCb)s->cb)(ndm->ndm_ifindex, &dst, s->arg);
}

gboolean vmnet_nl_dump_flood(VmnetNlDumper *d, VmnetNlFloodCb cb, void *arg, GError **error)
{
        const struct ndmsg ndm = { .ndm_family = AF_BRIDGE };
        Sink s = { d, (void (*)(void))cb, arg };

        return dump(d, RTM_GETNEIGH, &ndm, sizeof(ndm), 0, 0, flood_cb, &s, error,
                    "vxlan flood lists");
}

static void addr_cb(struct nlmsghdr *nlh, void *arg)
{
        const Sink *s = arg;
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg *ifa;
        VmnetNlAddrInfo a = { 0 };
        guint32 v;

        if (nlh->nlmsg_type != RTM_NEWADDR || !(ifa = msg_parse(nlh, sizeof(*ifa), tb, IFA_MAX)) ||
            (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
                return;
        /* IPv4 has the local address in IFA_LOCAL (IFA_ADDRESS: the peer), IPv6 in IFA_ADDRESS. */
        if (!attr_addr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], ifa->ifa_family, &a.addr))
                return;
        a.ifindex = (int)ifa->ifa_index;
        a.prefixlen = ifa->ifa_prefixlen;
        a.scope = ifa->ifa_scope;
        /* ifa_flags holds only the low 8 bits. */
        a.flags = attr_u32(tb[IFA_FLAGS], &v) ? v : ifa->ifa_flags;
        ((VmnetNlAddrCb)s->cb)(&a, s->arg);
}

gboolean vmnet_nl_dump_addrs(VmnetNlDumper *d, VmnetNlAddrCb cb, void *arg, GError **error)
{
        const struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
        Sink s = { d, (void (*)(void))cb, arg };

        return dump(d, RTM_GETADDR, &ifa, sizeof(ifa), 0, 0, addr_cb, &s, error, "addresses");
}

static void route_cb(struct nlmsghdr *nlh, void *arg)
{
        const Sink *s = arg;
        struct nlattr *tb[RTA_MAX + 1];
        const struct nlattr *gw = NULL;
        struct rtmsg *rtm;
        VmnetNlRouteInfo r = { 0 };
        guint32 table, v;

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
                if (!attr_addr(tb[RTA_DST], rtm->rtm_family, &r.dst.addr))
                        return;
        } else {
                r.dst.addr.family = rtm->rtm_family;
        }
        r.dst.prefix = rtm->rtm_dst_len;
        /* The first next hop: of RTA_MULTIPATH when there is one, else RTA_OIF and RTA_GATEWAY. */
        if (tb[RTA_MULTIPATH] && attr_len(tb[RTA_MULTIPATH]) >= (int)sizeof(struct rtnexthop)) {
                const struct rtnexthop *nh = attr_data(tb[RTA_MULTIPATH]);

                if (nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= attr_len(tb[RTA_MULTIPATH])) {
                        struct nlattr *nt[RTA_MAX + 1];

                        r.oif = nh->rtnh_ifindex;
                        attrs_parse(nt, RTA_MAX, RTNH_DATA(nh), nh->rtnh_len - (int)RTNH_LENGTH(0));
                        gw = nt[RTA_GATEWAY];
                }
        } else {
                if (attr_u32(tb[RTA_OIF], &v))
                        r.oif = (int)v;
                gw = tb[RTA_GATEWAY];
        }
        /* Not a gateway of the other family (RTA_VIA): re-creating the route would misuse it. */
        r.has_gateway = attr_addr(gw, rtm->rtm_family, &r.gateway);
        r.protocol = rtm->rtm_protocol;
        r.scope = rtm->rtm_scope;
        r.priority = attr_u32(tb[RTA_PRIORITY], &v) ? v : 0;
        ((VmnetNlRouteCb)s->cb)(&r, s->arg);
}

gboolean vmnet_nl_dump_routes(VmnetNlDumper *d, VmnetNlRouteCb cb, void *arg, GError **error)
{
        /*
         * The kernel reads rtm_table, then RTA_TABLE (what iproute2 sends). AF_UNSPEC rather
         * than a request per family: a filtered AF_INET dump fails with ENOENT while the
         * IPv4 main table does not exist (a new namespace); an AF_UNSPEC one skips it.
         */
        const struct rtmsg rtm = { .rtm_family = AF_UNSPEC, .rtm_table = RT_TABLE_MAIN };
        Sink s = { d, (void (*)(void))cb, arg };

        return dump(d, RTM_GETROUTE, &rtm, sizeof(rtm), RTA_TABLE, RT_TABLE_MAIN, route_cb, &s,
                    error, "routes");
}
