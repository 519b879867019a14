/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/link/vxlan.h>
#include <linux/neighbour.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>

#include "backend/netlink/dump.h"
#include "backend/netlink/netlink.h"
#include "util/autoptr.h"
#include "util/mutant.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/*
 * libnl reduces the kernel's errno to its own NLE_* codes ("Object exists")
 * and drops the extended ack. An error callback installed around each
 * operation keeps both, so a message reads "File exists" and carries the
 * kernel's own explanation when there is one.
 */
typedef VmnetNlErr NlErrRec;

char *vmnet_nl_ext_ack(const struct nlmsghdr *nlh)
{
        struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
        size_t off;

        if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
                return NULL;
        if (nlh->nlmsg_type == NLMSG_DONE) {
                off = sizeof(int); /* the dump's -errno */
        } else if (nlh->nlmsg_type == NLMSG_ERROR &&
                   nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
                const struct nlmsgerr *e = NLMSG_DATA(nlh);

                off = sizeof(*e);
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                        off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
        } else {
                return NULL;
        }
        if (nlh->nlmsg_len <= NLMSG_HDRLEN + off ||
            nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)NLMSG_DATA(nlh) + off),
                      (int)(nlh->nlmsg_len - NLMSG_HDRLEN - off), NULL) < 0 ||
            !tb[NLMSGERR_ATTR_MSG])
                return NULL;
        return g_strndup(nla_data(tb[NLMSGERR_ATTR_MSG]), nla_len(tb[NLMSGERR_ATTR_MSG]));
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
        NlErrRec *rec = arg;
        g_autofree char *ext =
                vmnet_nl_ext_ack((const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN));

        rec->errnum = -e->error;
        if (ext)
                g_strlcpy(rec->ext, ext, sizeof(rec->ext));
        return NL_STOP;
}

static void capture_begin(struct nl_sock *sk, NlErrRec *rec)
{
        memset(rec, 0, sizeof(*rec));
        nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, err_cb, rec);
}

/* The one end of a capture, also for the other homes of rtnetlink requests (tc.c). */
#define capture_end vmnet_nl_err_end

void vmnet_nl_err_begin(struct nl_sock *sk, VmnetNlErr *rec)
{
        capture_begin(sk, rec);
}

gboolean vmnet_nl_err_end(struct nl_sock *sk, VmnetNlErr *rec, int ret, GError **error,
                          const char *fmt, ...)
{
        g_autofree char *what = NULL;
        va_list ap;

        /* Never leave a pointer to the caller's stack in the socket. */
        nl_socket_modify_err_cb(sk, NL_CB_DEFAULT, NULL, NULL);
        if (ret >= 0)
                return TRUE;
        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "%s: %s%s%s%s", what,
                    rec->errnum ? g_strerror(rec->errnum) : nl_geterror(ret),
                    rec->ext[0] ? " (kernel: " : "", rec->ext, rec->ext[0] ? ")" : "");
        return FALSE;
}

struct nl_sock *vmnet_nl_open(GError **error)
{
        g_autoptr(VmnetNlSock) sk = nl_socket_alloc();
        int one = 1;
        int err;

        if (!sk) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "opening a netlink socket: out of memory");
                return NULL;
        }
        err = nl_connect(sk, NETLINK_ROUTE);
        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "opening a netlink socket: %s", nl_geterror(err));
                return NULL;
        }
        /* Best effort: old kernels lack these, and nothing depends on them but messages. */
        setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        /* Dumps of thousands of links arrive faster than they are read. */
        nl_socket_set_buffer_size(sk, 4 * 1024 * 1024, 0);
        nl_socket_enable_msg_peek(sk);
        return g_steal_pointer(&sk);
}

/*
 * A name to an ifindex through SIOCGIFINDEX in the current namespace:
 * RTM_GETLINK would make the kernel fill, and libnl parse, the whole link.
 */
static gboolean get_ifindex(struct nl_sock *sk, const char *name, int *ifindex, GError **error,
                            const char *what /* the whole operation: "enslaving eno1 to br0" */)
{
        unsigned int i = if_nametoindex(name);

        if (i == 0) {
                int e = errno;

                if (e == ENODEV || e == ENXIO)
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "%s: link %s does not exist", what, name);
                else
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                    "%s: looking up link %s: %s", what, name, g_strerror(e));
                return FALSE;
        }
        *ifindex = (int)i;
        return TRUE;
}

gboolean vmnet_nl_ifindex(const char *name, int *ifindex, GError **error, const char *what)
{
        return get_ifindex(NULL, name, ifindex, error, what);
}

gboolean vmnet_nl_link_exists(struct nl_sock *sk, const char *name, gboolean *exists,
                              GError **error)
{
        g_autoptr(GError) local = NULL;
        int ifindex;

        *exists = get_ifindex(sk, name, &ifindex, &local, "looking up a link");
        if (!*exists && !g_error_matches(local, VMNET_ERROR, VMNET_ERROR_NOT_FOUND)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        return TRUE;
}

static gboolean put_bridge_data(struct nl_msg *msg, const VmnetNlBridgeOpts *opts)
{
        struct nlattr *data;

        if (!opts || (opts->stp < 0 && opts->forward_delay < 0 && opts->vlan_filtering < 0 &&
                      !opts->has_default_pvid))
                return TRUE;
        if (!(data = nla_nest_start(msg, IFLA_INFO_DATA)))
                return FALSE;
        /* The kernel counts in USER_HZ (clock_t), 100 per second. */
        if (opts->forward_delay >= 0 &&
            nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, (guint32)opts->forward_delay * 100) < 0)
                return FALSE;
        if (opts->stp >= 0 && nla_put_u32(msg, IFLA_BR_STP_STATE, opts->stp ? 1 : 0) < 0)
                return FALSE;
        if (opts->vlan_filtering >= 0 &&
            nla_put_u8(msg, IFLA_BR_VLAN_FILTERING, opts->vlan_filtering ? 1 : 0) < 0)
                return FALSE;
        /* The kernel applies it after VLAN filtering, whatever the order here. */
        if (opts->has_default_pvid &&
            nla_put_u16(msg, IFLA_BR_VLAN_DEFAULT_PVID, (guint16)opts->default_pvid) < 0)
                return FALSE;
        nla_nest_end(msg, data);
        return TRUE;
}

/* A link is named, not numbered: created with that name, or changed by it. */
static struct nl_msg *bridge_msg(int flags, const char *name, const VmnetNlBridgeOpts *opts,
                                 const VmnetMac *mac)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, flags);
        struct nlattr *info;

        if (!msg)
                return NULL;
        if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
                goto fail;
        if (nla_put_string(msg, IFLA_IFNAME, name) < 0)
                goto fail;
        if (mac && nla_put(msg, IFLA_ADDRESS, sizeof(mac->b), mac->b) < 0)
                goto fail;
        if (!(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
            nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 || !put_bridge_data(msg, opts))
                goto fail;
        nla_nest_end(msg, info);
        return msg;
fail:
        nlmsg_free(msg);
        return NULL;
}

/* Sends msg (consumed) and waits for the ack. name, when given, follows what in messages. */
/*
 * Sends msg (consumed) and waits for the ack; what names the operation in
 * errors. link: the link the message names (IFLA_IFNAME), if any, so that the
 * kernel's ENODEV becomes VMNET_ERROR_NOT_FOUND, "link X does not exist".
 */
static gboolean send_msg(struct nl_sock *sk, struct nl_msg *msg, const char *link,
                         GError **error, const char *what)
{
        NlErrRec rec;
        int ret;

        if (!msg) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "%s: cannot build the netlink message", what);
                return FALSE;
        }
        capture_begin(sk, &rec);
        ret = nl_send_sync(sk, msg); /* frees msg */
        if (ret < 0 && link && rec.errnum == ENODEV) {
                nl_socket_modify_err_cb(sk, NL_CB_DEFAULT, NULL, NULL);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                            "%s: link %s does not exist", what, link);
                return FALSE;
        }
        return capture_end(sk, &rec, ret, error, "%s", what);
}

gboolean vmnet_nl_bridge_create(struct nl_sock *sk, const char *name,
                                const VmnetNlBridgeOpts *opts, const VmnetMac *mac,
                                GError **error)
{
        g_autofree char *what = g_strdup_printf("creating bridge %s", name);

        if (VMNET_MUTANT_IS(NO_BRIDGE))
                return TRUE;
        /* Forward delay and STP in separate steps: see vmnet_nl_bridge_change(). */
        if (!send_msg(sk, bridge_msg(NLM_F_CREATE | NLM_F_EXCL, name, NULL, mac), NULL, error,
                      what))
                return FALSE;
        if (!vmnet_nl_bridge_change(sk, name, opts, error)) {
                /* All or nothing: a bridge without the options asked for is not what was asked. */
                vmnet_nl_link_delete(sk, name, NULL);
                return FALSE;
        }
        return TRUE;
}

gboolean vmnet_nl_bridge_change(struct nl_sock *sk, const char *name,
                                const VmnetNlBridgeOpts *opts, GError **error)
{
        VmnetNlBridgeOpts first = VMNET_NL_BRIDGE_OPTS_INIT, second = VMNET_NL_BRIDGE_OPTS_INIT;
        g_autofree char *what = g_strdup_printf("changing bridge %s", name);

        if (!opts || (opts->stp < 0 && opts->forward_delay < 0 && opts->vlan_filtering < 0 &&
                      !opts->has_default_pvid))
                return TRUE;
        /*
         * With STP on, the kernel refuses a forward delay outside 2..30 s, and
         * it applies IFLA_BR_FORWARD_DELAY before IFLA_BR_STP_STATE. So when
         * STP goes off, switch it off first; otherwise set the delay first.
         */
        first.vlan_filtering = opts->vlan_filtering;
        /*
         * In the message that turns filtering on: a bridge created VLAN-aware
         * never gives a port (nor itself) VLAN 1 by default, not even for a moment.
         */
        first.has_default_pvid = opts->has_default_pvid;
        first.default_pvid = opts->default_pvid;
        if (opts->stp == 0) {
                first.stp = 0;
                second.forward_delay = opts->forward_delay;
        } else {
                first.forward_delay = opts->forward_delay;
                second.stp = opts->stp;
        }
        if (!send_msg(sk, bridge_msg(0, name, &first, NULL), name, error, what))
                return FALSE;
        if (second.stp < 0 && second.forward_delay < 0)
                return TRUE;
        return send_msg(sk, bridge_msg(0, name, &second, NULL), name, error, what);
}

gboolean vmnet_nl_vlan_create(struct nl_sock *sk, const char *name, const char *parent,
                              guint vid, GError **error)
{
        g_autoptr(VmnetRtnlLink) link = rtnl_link_vlan_alloc();
        g_autofree char *what = g_strdup_printf("creating vlan %s (id %u on %s)", name, vid,
                                                parent);
        NlErrRec rec;
        int parent_index = 0;
        int ret;

        if (!get_ifindex(sk, parent, &parent_index, error, what))
                return FALSE;
        rtnl_link_set_name(link, name);
        rtnl_link_set_link(link, parent_index);
        rtnl_link_vlan_set_id(link, (uint16_t)(vid + VMNET_MUTANT_IS(VLAN_ID)));
        /* libnl passes the protocol through in network byte order. */
        rtnl_link_vlan_set_protocol(link, htons(ETH_P_8021Q));
        capture_begin(sk, &rec);
        ret = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (ret < 0 && rec.errnum == EOPNOTSUPP && !rec.ext[0])
                g_strlcpy(rec.ext, "is the 8021q module available?", sizeof(rec.ext));
        return capture_end(sk, &rec, ret, error, "%s", what);
}

static struct nl_addr *nl_addr_from(const VmnetAddr *a, guint prefixlen);

gboolean vmnet_nl_vxlan_create(struct nl_sock *sk, const char *name, guint32 vni, guint16 port,
                               const VmnetAddr *local, const char *dev, GError **error)
{
        g_autoptr(VmnetRtnlLink) link = rtnl_link_vxlan_alloc();
        g_autoptr(VmnetNlAddr) la = local && local->family ? nl_addr_from(local, 0) : NULL;
        g_autofree char *what = g_strdup_printf("creating vxlan %s (vni %u, port %u%s%s)", name,
                                                vni, port, dev ? ", underlay " : "",
                                                dev ? dev : "");
        NlErrRec rec;
        int dev_index = 0;
        int ret;

        if (dev && !get_ifindex(sk, dev, &dev_index, error, what))
                return FALSE;
        rtnl_link_set_name(link, name);
        rtnl_link_vxlan_set_id(link, vni + VMNET_MUTANT_IS(VXLAN_VNI));
        rtnl_link_vxlan_set_port(link, port);
        if (la)
                rtnl_link_vxlan_set_local(link, la);
        if (dev_index)
                rtnl_link_vxlan_set_link(link, (uint32_t)dev_index);
        capture_begin(sk, &rec);
        ret = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (ret < 0 && rec.errnum == EOPNOTSUPP && !rec.ext[0])
                g_strlcpy(rec.ext, "is the vxlan module available?", sizeof(rec.ext));
        return capture_end(sk, &rec, ret, error, "%s", what);
}

gboolean vmnet_nl_bond_create(struct nl_sock *sk, const char *name, const VmnetNlBondOpts *o,
                              GError **error)
{
        g_autofree char *what = g_strdup_printf("creating bond %s (mode %d)", name, o->mode);
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct nlattr *info = NULL, *data = NULL;

        if (msg && (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
                    nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
                    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
                    nla_put_string(msg, IFLA_INFO_KIND, "bond") < 0 ||
                    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
                    nla_put_u8(msg, IFLA_BOND_MODE, (uint8_t)o->mode) < 0 ||
                    (o->miimon >= 0 && nla_put_u32(msg, IFLA_BOND_MIIMON, (uint32_t)o->miimon) < 0) ||
                    (o->lacp_rate >= 0 &&
                     nla_put_u8(msg, IFLA_BOND_AD_LACP_RATE, (uint8_t)o->lacp_rate) < 0) ||
                    (o->xmit_hash_policy >= 0 &&
                     nla_put_u8(msg, IFLA_BOND_XMIT_HASH_POLICY, (uint8_t)o->xmit_hash_policy) < 0)))
                g_clear_pointer(&msg, nlmsg_free);
        if (msg) {
                nla_nest_end(msg, data);
                nla_nest_end(msg, info);
        }
        return send_msg(sk, msg, NULL, error, what);
}

gboolean vmnet_nl_bond_member(struct nl_sock *sk, const char *member, const char *bond,
                              gboolean up_after_release, GError **error)
{
        /* The kernel enslaves a link to a bond only while it is down, and opens it itself. */
        if (bond)
                return vmnet_nl_link_set_up(sk, member, FALSE, error) &&
                       vmnet_nl_link_set_master(sk, member, bond, error);
        /* Released, the kernel leaves it down: as it was, up again when it was up. */
        return vmnet_nl_link_set_master(sk, member, NULL, error) &&
               (!up_after_release || vmnet_nl_link_set_up(sk, member, TRUE, error));
}

gboolean vmnet_nl_fdb_flood_list(struct nl_sock *sk, const char *link, const VmnetAddr *dsts,
                                 guint n, gboolean add, GError **error)
{
        static const guint8 zero[ETH_ALEN];
        g_autofree char *what = g_strdup_printf(add ? "adding flood entries to %s" :
                                                      "removing flood entries from %s", link);
        struct ndmsg ndm = { .ndm_family = AF_BRIDGE, .ndm_flags = NTF_SELF,
                             .ndm_state = NUD_PERMANENT | NUD_NOARP };
        int ifindex = 0;

        /* One look-up for the whole list: a host of a 100-host fleet adds 99 per segment. */
        if (!get_ifindex(sk, link, &ifindex, error, what))
                return FALSE;
        ndm.ndm_ifindex = ifindex;
        for (guint i = 0; i < n; i++) {
                g_autofree char *d = vmnet_addr_to_string(&dsts[i]);
                g_autofree char *one = g_strdup_printf(add ? "adding flood entry dst %s to %s" :
                                                             "removing flood entry dst %s from %s",
                                                       d, link);
                /* NLM_F_APPEND: another remote for the all-zeros address, as `bridge fdb append`. */
                struct nl_msg *msg = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH,
                                                        add ? NLM_F_CREATE | NLM_F_APPEND : 0);

                if (msg && (nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 ||
                            nla_put(msg, NDA_LLADDR, ETH_ALEN, zero) < 0 ||
                            nla_put(msg, NDA_DST, (int)vmnet_addr_len(&dsts[i]), dsts[i].bytes) < 0))
                        g_clear_pointer(&msg, nlmsg_free);
                if (!send_msg(sk, msg, NULL, error, one))
                        return FALSE;
        }
        return TRUE;
}

gboolean vmnet_nl_fdb_flood(struct nl_sock *sk, const char *link, const VmnetAddr *dst,
                            gboolean add, GError **error)
{
        return vmnet_nl_fdb_flood_list(sk, link, dst, 1, add, error);
}

gboolean vmnet_nl_link_delete(struct nl_sock *sk, const char *name, GError **error)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        g_autofree char *what = g_strdup_printf("deleting link %s", name);
        struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, 0);

        if (msg && (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
                    nla_put_string(msg, IFLA_IFNAME, name) < 0))
                g_clear_pointer(&msg, nlmsg_free);
        return send_msg(sk, msg, name, error, what);
}

/*
 * One RTM_NEWLINK addressed by name (ifi_index 0, IFLA_IFNAME), as `ip link
 * set` sends it: no look-up first, and every change of a link in one message.
 */
gboolean vmnet_nl_link_set(struct nl_sock *sk, const char *name, const VmnetNlLinkSet *set,
                           const char *what, GError **error)
{
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nl_msg *msg;
        int master_index = 0;

        if (set->master && !get_ifindex(sk, set->master, &master_index, error, what))
                return FALSE;
        if (set->up >= 0) {
                ifi.ifi_change = IFF_UP;
                ifi.ifi_flags = set->up ? IFF_UP : 0;
        }
        msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
        if (msg && (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
                    nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
                    (set->mac && nla_put(msg, IFLA_ADDRESS, sizeof(set->mac->b), set->mac->b) < 0) ||
                    (set->mtu && nla_put_u32(msg, IFLA_MTU, set->mtu) < 0) ||
                    /* "" removes the alias (the kernel takes the string without its NUL) */
                    (set->alias &&
                     nla_put(msg, IFLA_IFALIAS, (int)strlen(set->alias), set->alias) < 0) ||
                    ((set->master || set->nomaster) &&
                     nla_put_u32(msg, IFLA_MASTER, (guint32)master_index) < 0)))
                g_clear_pointer(&msg, nlmsg_free);
        return send_msg(sk, msg, name, error, what);
}

gboolean vmnet_nl_link_set_mtu(struct nl_sock *sk, const char *name, guint mtu, GError **error)
{
        VmnetNlLinkSet set = { .mtu = mtu, .up = -1 };
        g_autofree char *what = g_strdup_printf("setting mtu %u on %s", mtu, name);

        return vmnet_nl_link_set(sk, name, &set, what, error);
}

gboolean vmnet_nl_link_set_mac(struct nl_sock *sk, const char *name, const VmnetMac *mac,
                               GError **error)
{
        VmnetNlLinkSet set = { .mac = mac, .up = -1 };
        g_autofree char *s = vmnet_mac_to_string(mac);
        g_autofree char *what = g_strdup_printf("setting mac %s on %s", s, name);

        return vmnet_nl_link_set(sk, name, &set, what, error);
}

gboolean vmnet_nl_link_set_alias(struct nl_sock *sk, const char *name, const char *alias,
                                 GError **error)
{
        VmnetNlLinkSet set = { .alias = alias ? alias : "", .up = -1 };
        g_autofree char *what = g_strdup_printf(alias && alias[0] ? "setting the alias of %s" :
                                                                    "removing the alias of %s",
                                                name);

        return vmnet_nl_link_set(sk, name, &set, what, error);
}

gboolean vmnet_nl_link_set_up(struct nl_sock *sk, const char *name, gboolean up, GError **error)
{
        VmnetNlLinkSet set = { .up = up ? 1 : 0 };
        g_autofree char *what = g_strdup_printf(up ? "bringing up %s" : "bringing down %s", name);

        return vmnet_nl_link_set(sk, name, &set, what, error);
}

gboolean vmnet_nl_link_set_master(struct nl_sock *sk, const char *name, const char *master,
                                  GError **error)
{
        VmnetNlLinkSet set = { .master = master, .nomaster = !master, .up = -1 };
        g_autofree char *what = master ? g_strdup_printf("enslaving %s to %s", name, master) :
                                         g_strdup_printf("releasing %s from its master", name);

        return vmnet_nl_link_set(sk, name, &set, what, error);
}

/*
 * Without IFLA_BRIDGE_FLAGS the kernel hands the message to the port's
 * master; with BRIDGE_FLAGS_SELF, to the device itself: the bridge's own entries.
 */
static gboolean bridge_vlan(struct nl_sock *sk, const char *dev, gboolean self, guint vid,
                            guint16 flags, gboolean add, const char *what, GError **error)
{
        struct bridge_vlan_info vi = { .flags = flags, .vid = (guint16)vid };
        struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
        struct nl_msg *msg;
        struct nlattr *af;

        if (!get_ifindex(sk, dev, &ifi.ifi_index, error, what))
                return FALSE;
        msg = nlmsg_alloc_simple(add ? RTM_SETLINK : RTM_DELLINK, 0);
        if (msg && (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
                    !(af = nla_nest_start(msg, IFLA_AF_SPEC)) ||
                    (self && nla_put_u16(msg, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF) < 0) ||
                    nla_put(msg, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi) < 0 ||
                    nla_nest_end(msg, af) < 0))
                g_clear_pointer(&msg, nlmsg_free);
        return send_msg(sk, msg, NULL, error, what);
}

gboolean vmnet_nl_bridge_vlan(struct nl_sock *sk, const char *port, guint vid, guint16 flags,
                              gboolean add, GError **error)
{
        g_autofree char *what = g_strdup_printf(add ? "adding vlan %u to bridge port %s" :
                                                      "removing vlan %u from bridge port %s",
                                                vid, port);

        return bridge_vlan(sk, port, FALSE, vid, flags, add, what, error);
}

gboolean vmnet_nl_bridge_vlan_self(struct nl_sock *sk, const char *bridge, guint vid,
                                   guint16 flags, gboolean add, GError **error)
{
        g_autofree char *what = g_strdup_printf(add ? "adding vlan %u to bridge %s itself" :
                                                      "removing vlan %u from bridge %s itself",
                                                vid, bridge);

        return bridge_vlan(sk, bridge, TRUE, vid, flags, add, what, error);
}

gboolean vmnet_nl_guest_port_vlans(struct nl_sock *sk, const char *port, const VmnetPortVlans *v,
                                   GError **error)
{
        g_autoptr(GError) stray = NULL;

        if (VMNET_MUTANT_IS(PORT_VLAN))
                return TRUE;
        if (v->untagged &&
            !vmnet_nl_bridge_vlan(sk, port, v->untagged,
                                  BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, TRUE, error))
                return FALSE;
        for (guint i = 0; i < v->n_tagged; i++)
                if (!vmnet_nl_bridge_vlan(sk, port, v->tagged[i], 0, TRUE, error))
                        return FALSE;
        /*
         * A bridge whose default PVID is 1 put the port in VLAN 1 when it was
         * plugged. Absent (ENOENT) on a bridge that gives new ports no VLAN;
         * a failure otherwise leaves drift that status, doctor and the next
         * apply see.
         */
        if (vmnet_port_vlans_flags(v, 1) < 0)
                vmnet_nl_bridge_vlan(sk, port, 1, 0, FALSE, &stray);
        return TRUE;
}

typedef struct {
        int master;
        VmnetMac mac;
        char *found;
} PortWait;

static int port_wait_cb(struct nl_msg *msg, void *arg)
{
        PortWait *w = arg;
        VmnetNlLinkInfo l;

        if (!w->found && vmnet_nl_link_decode(nlmsg_hdr(msg), &l) && l.master == w->master &&
            l.has_mac && memcmp(l.mac.b, w->mac.b, sizeof(w->mac.b)) == 0)
                w->found = g_strdup(l.name);
        return NL_OK;
}

gboolean vmnet_nl_wait_bridge_port(const VmnetMac *mac, const char *bridge, guint timeout_ms,
                                   char **port, GError **error)
{
        g_autoptr(VmnetNlSock) sk = nl_socket_alloc();
        g_autofree char *m = vmnet_mac_to_string(mac);
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
        PortWait w = { .mac = *mac };
        int err;

        w.master = (int)if_nametoindex(bridge);
        if (!w.master) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "bridge %s does not exist",
                            bridge);
                return FALSE;
        }
        if (!sk || (err = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
            (err = nl_socket_add_membership(sk, RTNLGRP_LINK)) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "listening to link events: %s", sk ? nl_geterror(err) : "out of memory");
                return FALSE;
        }
        nl_socket_disable_seq_check(sk);
        nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, port_wait_cb, &w);
        for (gboolean dump = TRUE; !w.found;) {
                struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
                gint64 left = (deadline - g_get_monotonic_time()) / 1000;

                /* A first listing, and a new one whenever events were lost (ENOBUFS). */
                if (dump && (err = nl_rtgen_request(sk, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP)) < 0) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "listing links: %s",
                                    nl_geterror(err));
                        return FALSE;
                }
                dump = FALSE;
                if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                                    "no port with MAC %s joined bridge %s within %u s", m, bridge,
                                    timeout_ms / 1000);
                        return FALSE;
                }
                err = nl_recvmsgs_default(sk);
                dump = err == -NLE_NOMEM;
        }
        *port = g_steal_pointer(&w.found);
        return TRUE;
}

static struct nl_addr *nl_addr_from(const VmnetAddr *a, guint prefixlen)
{
        struct nl_addr *n = nl_addr_build(a->family, a->bytes, vmnet_addr_len(a));

        if (n)
                nl_addr_set_prefixlen(n, (int)prefixlen);
        return n;
}

gboolean vmnet_nl_addr(struct nl_sock *sk, const char *link, const VmnetAddr *addr,
                       guint prefixlen, gboolean add, GError **error)
{
        g_autoptr(VmnetRtnlAddr) ra = rtnl_addr_alloc();
        g_autoptr(VmnetNlAddr) local = nl_addr_from(addr, prefixlen);
        g_autofree char *s = vmnet_addr_to_string(addr);
        g_autofree char *what = g_strdup_printf(add ? "adding address %s/%u to %s" :
                                                      "removing address %s/%u from %s",
                                                s, prefixlen, link);
        NlErrRec rec;
        int ifindex = 0;
        int ret;

        if (!get_ifindex(sk, link, &ifindex, error, what))
                return FALSE;
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, addr->family);
        rtnl_addr_set_local(ra, local);
        rtnl_addr_set_prefixlen(ra, (int)prefixlen);
        if (add && addr->family == AF_INET6)
                rtnl_addr_set_flags(ra, IFA_F_NODAD);
        capture_begin(sk, &rec);
        ret = add ? rtnl_addr_add(sk, ra, NLM_F_EXCL) : rtnl_addr_delete(sk, ra, 0);
        return capture_end(sk, &rec, ret, error, "%s", what);
}

gboolean vmnet_nl_route(struct nl_sock *sk, VmnetNlRouteOp op, const VmnetNlRoute *route,
                        GError **error)
{
        g_autoptr(VmnetRtnlRoute) r = rtnl_route_alloc();
        g_autoptr(VmnetNlAddr) dst = nl_addr_from(&route->dst.addr, route->dst.prefix);
        g_autofree char *dst_s = vmnet_prefix_to_string(&route->dst);
        g_autofree char *gw_s = route->has_gateway ? vmnet_addr_to_string(&route->gateway) : NULL;
        g_autofree char *what = NULL;
        struct rtnl_nexthop *nh;
        NlErrRec rec;
        int ifindex = 0;
        int ret;

        what = g_strdup_printf("%s route %s%s%s dev %s",
                               op == VMNET_NL_ROUTE_ADD ? "adding" :
                               op == VMNET_NL_ROUTE_REPLACE ? "replacing" : "deleting",
                               dst_s, gw_s ? " via " : "", gw_s ? gw_s : "", route->oif);
        if (!get_ifindex(sk, route->oif, &ifindex, error, what))
                return FALSE;
        rtnl_route_set_family(r, (uint8_t)route->dst.addr.family);
        rtnl_route_set_table(r, RT_TABLE_MAIN);
        rtnl_route_set_type(r, RTN_UNICAST);
        rtnl_route_set_protocol(r, route->protocol ? route->protocol : RTPROT_STATIC);
        rtnl_route_set_dst(r, dst);
        if (route->priority)
                rtnl_route_set_priority(r, route->priority);
        /* A delete with scope "nowhere" matches the route whatever its scope. */
        if (op == VMNET_NL_ROUTE_DELETE)
                rtnl_route_set_scope(r, RT_SCOPE_NOWHERE);
        nh = rtnl_route_nh_alloc();
        rtnl_route_nh_set_ifindex(nh, ifindex);
        if (route->has_gateway) {
                g_autoptr(VmnetNlAddr) gw = nl_addr_from(&route->gateway,
                                                         vmnet_addr_len(&route->gateway) * 8);

                rtnl_route_nh_set_gateway(nh, gw);
        }
        rtnl_route_add_nexthop(r, nh); /* r owns nh */
        capture_begin(sk, &rec);
        switch (op) {
        case VMNET_NL_ROUTE_ADD:
                ret = rtnl_route_add(sk, r, NLM_F_EXCL);
                break;
        case VMNET_NL_ROUTE_REPLACE:
                ret = rtnl_route_add(sk, r, NLM_F_REPLACE);
                break;
        default:
                ret = rtnl_route_delete(sk, r, 0);
                break;
        }
        return capture_end(sk, &rec, ret, error, "%s", what);
}

static char *sysctl_path(const char *key)
{
        g_autofree char *rel = g_strdup(key);

        /* sysctl(8)'s notation: '.' separates, a '/' stands for a '.' of a link name */
        for (char *p = rel; *p; p++)
                *p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
        return g_build_filename("/proc/sys", rel, NULL);
}

char *vmnet_sysctl_read(const char *key, GError **error)
{
        g_autofree char *path = sysctl_path(key);
        g_autofree char *data = NULL;
        g_autoptr(GError) local = NULL;

        if (!g_file_get_contents(path, &data, NULL, &local)) {
                g_set_error(error, VMNET_ERROR,
                            g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ?
                                    VMNET_ERROR_NOT_FOUND : VMNET_ERROR_IO,
                            "reading sysctl %s: %s", key, local->message);
                return NULL;
        }
        g_strchomp(data);
        return g_steal_pointer(&data);
}

gboolean vmnet_sysctl_write(const char *key, const char *value, GError **error)
{
        g_autofree char *path = sysctl_path(key);
        g_autofree char *line = g_strdup_printf("%s\n", value);
        FILE *f = fopen(path, "we");
        int err = 0;

        /* Not g_file_set_contents(): /proc/sys files cannot be replaced by a rename. */
        if (!f)
                err = errno;
        else {
                if (fputs(line, f) == EOF)
                        err = errno;
                if (fclose(f) != 0 && !err)
                        err = errno;
        }
        if (err) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "setting sysctl %s = %s: %s",
                            key, value, g_strerror(err));
                return FALSE;
        }
        return TRUE;
}

GHashTable *vmnet_nl_link_stats(struct nl_sock *sk, GError **error)
{
        g_autoptr(VmnetNlCache) cache = NULL;
        g_autoptr(GHashTable) out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        int err;

        /* libnl takes IFLA_STATS64 over the 32-bit IFLA_STATS whenever the kernel sends it. */
        err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "reading the links' counters: %s", nl_geterror(err));
                return NULL;
        }
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                VmnetNlLinkStats *s = g_new0(VmnetNlLinkStats, 1);

                s->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
                s->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
                s->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
                s->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
                s->rx_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
                s->tx_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS);
                s->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
                s->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
                g_hash_table_replace(out, g_strdup(rtnl_link_get_name(l)), s);
        }
        return g_steal_pointer(&out);
}

gboolean vmnet_nl_veth_create(struct nl_sock *sk, const char *name, const char *peer_name,
                              int peer_pid, GError **error)
{
        g_autofree char *what = g_strdup_printf("creating veth %s (peer %s)", name, peer_name);
        g_autoptr(VmnetRtnlLink) link = rtnl_link_veth_alloc();
        struct rtnl_link *peer;
        NlErrRec rec;
        int ret;

        if (!link) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "%s: out of memory", what);
                return FALSE;
        }
        rtnl_link_set_name(link, name);
        peer = rtnl_link_veth_get_peer(link);
        rtnl_link_set_name(peer, peer_name);
        rtnl_link_set_ns_pid(peer, peer_pid);
        rtnl_link_put(peer);
        capture_begin(sk, &rec);
        ret = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        return capture_end(sk, &rec, ret, error, "%s", what);
}

void vmnet_nl_neighbour_free(VmnetNlNeighbour *n)
{
        if (!n)
                return;
        g_free(n->ifname);
        g_free(n);
}


GPtrArray *vmnet_nl_neighbours(struct nl_sock *sk, GError **error)
{
        g_autoptr(VmnetNlCache) cache = NULL;
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_nl_neighbour_free);
        int err = rtnl_neigh_alloc_cache(sk, &cache);

        if (err < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "reading the neighbour table: %s", nl_geterror(err));
                return NULL;
        }
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_neigh *ne = (struct rtnl_neigh *)o;
                struct nl_addr *ll = rtnl_neigh_get_lladdr(ne);
                struct nl_addr *dst = rtnl_neigh_get_dst(ne);
                int state = rtnl_neigh_get_state(ne);
                char name[IF_NAMESIZE];
                VmnetNlNeighbour *n;

                if (!ll || !dst || nl_addr_get_len(ll) != 6 ||
                    (state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)) ||
                    (nl_addr_get_family(dst) != AF_INET && nl_addr_get_family(dst) != AF_INET6) ||
                    !if_indextoname((unsigned)rtnl_neigh_get_ifindex(ne), name))
                        continue;
                n = g_new0(VmnetNlNeighbour, 1);
                n->ifname = g_strdup(name);
                n->ip.family = nl_addr_get_family(dst);
                memcpy(n->ip.bytes, nl_addr_get_binary_addr(dst), nl_addr_get_len(dst));
                memcpy(n->mac.b, nl_addr_get_binary_addr(ll), 6);
                n->state = (guint16)state;
                g_ptr_array_add(out, n);
        }
        return g_steal_pointer(&out);
}
