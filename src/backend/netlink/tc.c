/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>

#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "backend/netlink/netlink.h"
#include "backend/netlink/tc.h"
#include "util/autoptr.h"
#include "util/mutant.h"

#ifndef TC_H_CLSACT
#define TC_H_CLSACT TC_H_INGRESS
#endif
#ifndef TC_H_MIN_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS 0xFFF3U
#endif

typedef struct rtnl_qdisc VmnetRtnlQdisc;
typedef struct rtnl_cls VmnetRtnlCls;
typedef struct rtnl_act VmnetRtnlAct;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRtnlQdisc, rtnl_qdisc_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRtnlCls, rtnl_cls_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetRtnlAct, rtnl_act_put)

/* The filter parent of a direction: clsact's ingress or egress hook (an ingress qdisc takes fff2 too). */
static guint32 parent_of(guint direction)
{
        return TC_H_MAKE(TC_H_CLSACT, direction == VMNET_MIRROR_INGRESS ? TC_H_MIN_INGRESS
                                                                       : TC_H_MIN_EGRESS);
}

/* Every qdisc of the namespace. */
static gboolean qdiscs(struct nl_sock *sk, struct nl_cache **cache, GError **error)
{
        VmnetNlErr rec;

        vmnet_nl_err_begin(sk, &rec);
        return vmnet_nl_err_end(sk, &rec, rtnl_qdisc_alloc_cache(sk, cache), error,
                                "reading the qdiscs");
}

/* The filters of one hook (parent) of ifindex. */
static gboolean filters(struct nl_sock *sk, int ifindex, guint32 parent, struct nl_cache **cache,
                        GError **error)
{
        VmnetNlErr rec;

        vmnet_nl_err_begin(sk, &rec);
        return vmnet_nl_err_end(sk, &rec, rtnl_cls_alloc_cache(sk, ifindex, parent, cache), error,
                                "reading the tc filters of link %d", ifindex);
}

/* The clsact qdisc of ifindex, to add or delete. Caller frees. */
static struct rtnl_qdisc *clsact(int ifindex)
{
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();

        if (!q)
                return NULL;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
        rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
        rtnl_tc_set_kind(TC_CAST(q), "clsact");
        return q;
}

/* The kind of the qdisc in the ingress slot of ifindex ("clsact", "ingress"), NULL: none. */
static gboolean slot_kind(struct nl_sock *sk, int ifindex, char **kind, GError **error)
{
        g_autoptr(VmnetNlCache) cache = NULL;

        *kind = NULL;
        if (!qdiscs(sk, &cache, error))
                return FALSE;
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_tc *tc = TC_CAST(o);

                if (rtnl_tc_get_ifindex(tc) == ifindex && rtnl_tc_get_parent(tc) == TC_H_INGRESS) {
                        *kind = g_strdup(rtnl_tc_get_kind(tc));
                        break;
                }
        }
        return TRUE;
}

static gboolean read_filters(struct nl_sock *sk, int ifindex, guint direction, GArray *out,
                             GError **error)
{
        g_autoptr(VmnetNlCache) cache = NULL;
        guint32 parent = TC_H_MAKE(TC_H_CLSACT, direction == VMNET_MIRROR_INGRESS ? TC_H_MIN_INGRESS
                                                                                 : TC_H_MIN_EGRESS);

        if (!filters(sk, ifindex, parent, &cache, error))
                return FALSE;
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_cls *cls = (struct rtnl_cls *)o;

                if (rtnl_cls_get_prio(cls) != VMNET_TC_MIRROR_PRIO_OF(direction) ||
                    g_strcmp0(rtnl_tc_get_kind(TC_CAST(cls)), "u32") != 0)
                        continue;
                /* u32 dumps its hash tables too, without actions */
                for (struct rtnl_act *a = rtnl_u32_get_action(cls); a; a = rtnl_act_next(a)) {
                        VmnetTcMirror m = { ifindex, direction, 0 };

                        if (g_strcmp0(rtnl_tc_get_kind(TC_CAST(a)), "mirred") != 0 ||
                            rtnl_mirred_get_action(a) != TCA_EGRESS_MIRROR)
                                continue;
                        m.to_ifindex = (int)rtnl_mirred_get_ifindex(a);
                        g_array_append_val(out, m);
                }
        }
        return TRUE;
}

gboolean vmnet_tc_mirrors_read(struct nl_sock *sk, GArray **out, GError **error)
{
        g_autoptr(VmnetNlCache) cache = NULL;
        g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(VmnetTcMirror));

        if (!qdiscs(sk, &cache, error))
                return FALSE;
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_tc *tc = TC_CAST(o);
                const char *kind = rtnl_tc_get_kind(tc);
                int ifindex = rtnl_tc_get_ifindex(tc);

                if (rtnl_tc_get_parent(tc) != TC_H_INGRESS)
                        continue;
                if (g_strcmp0(kind, "clsact") == 0 || g_strcmp0(kind, "ingress") == 0) {
                        if (!read_filters(sk, ifindex, VMNET_MIRROR_INGRESS, all, error))
                                return FALSE;
                }
                /* an ingress qdisc would answer fff3 with its one (ingress) block */
                if (g_strcmp0(kind, "clsact") == 0 &&
                    !read_filters(sk, ifindex, VMNET_MIRROR_EGRESS, all, error))
                        return FALSE;
        }
        *out = g_steal_pointer(&all);
        return TRUE;
}

static struct rtnl_cls *mirror_cls(int ifindex, guint direction)
{
        struct rtnl_cls *cls = rtnl_cls_alloc();

        if (!cls)
                return NULL;
        rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
        rtnl_tc_set_parent(TC_CAST(cls), parent_of(direction));
        rtnl_cls_set_prio(cls, VMNET_TC_MIRROR_PRIO_OF(direction));
        rtnl_cls_set_protocol(cls, ETH_P_ALL);
        if (rtnl_tc_set_kind(TC_CAST(cls), "u32") < 0) {
                rtnl_cls_put(cls);
                return NULL;
        }
        return cls;
}

/* Deletes the filter at vmnet's priority, if there is one. */
static gboolean del_filter(struct nl_sock *sk, int ifindex, const char *port, guint direction,
                           GError **error)
{
        g_autoptr(VmnetRtnlCls) cls = mirror_cls(ifindex, direction);
        VmnetNlErr rec;
        int err;

        if (!cls) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK,
                            "removing the mirror of %s: out of memory", port);
                return FALSE;
        }
        vmnet_nl_err_begin(sk, &rec);
        err = rtnl_cls_delete(sk, cls, 0);
        /* none there: ENOENT (no such filter) or EINVAL (no clsact to hold one) */
        if (err < 0 && (rec.errnum == ENOENT || rec.errnum == EINVAL))
                err = 0;
        return vmnet_nl_err_end(sk, &rec, err, error, "removing the %s mirror of %s",
                                vmnet_mirror_dir_to_string(direction), port);
}

gboolean vmnet_tc_mirror_add(struct nl_sock *sk, const char *port, guint direction,
                             const char *to, GError **error)
{
        g_autofree char *what = g_strdup_printf("mirroring %s of %s to %s",
                                                vmnet_mirror_dir_to_string(direction), port, to);
        g_autoptr(VmnetRtnlCls) cls = NULL;
        g_autoptr(VmnetRtnlAct) act = NULL;
        g_autofree char *kind = NULL;
        int ifindex, to_ifindex, err;
        VmnetNlErr rec;

        if (VMNET_MUTANT_IS(MIRROR_WRONG_PORT)) {
                const char *t = port;

                port = to;
                to = t;
        }
        if (!vmnet_nl_ifindex(port, &ifindex, error, what) ||
            !vmnet_nl_ifindex(to, &to_ifindex, error, what) || !slot_kind(sk, ifindex, &kind, error))
                return FALSE;
        if (!kind) {
                g_autoptr(VmnetRtnlQdisc) q = clsact(ifindex);

                vmnet_nl_err_begin(sk, &rec);
                err = q ? rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL) : -NLE_NOMEM;
                if (!vmnet_nl_err_end(sk, &rec, err, error, "%s: adding qdisc clsact", what))
                        return FALSE;
        } else if (!g_str_equal(kind, "clsact") &&
                   !(g_str_equal(kind, "ingress") && direction == VMNET_MIRROR_INGRESS)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                            "%s: the port has qdisc %s where clsact would go (libvirt's outbound "
                            "shaping?); only an ingress mirror can share it",
                            what, kind);
                return FALSE;
        }
        if (!del_filter(sk, ifindex, port, direction, error))
                return FALSE;
        cls = mirror_cls(ifindex, direction);
        act = rtnl_act_alloc();
        if (!cls || !act) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NETLINK, "%s: out of memory", what);
                return FALSE;
        }
        /* one key, mask 0 at offset 0: every frame; terminal, so the action runs */
        rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
        rtnl_u32_set_cls_terminal(cls);
        rtnl_tc_set_kind(TC_CAST(act), "mirred");
        rtnl_mirred_set_action(act, TCA_EGRESS_MIRROR);
        rtnl_mirred_set_policy(act, TC_ACT_PIPE);
        rtnl_mirred_set_ifindex(act, (uint32_t)to_ifindex);
        rtnl_u32_add_action(cls, act);
        vmnet_nl_err_begin(sk, &rec);
        err = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_EXCL);
        return vmnet_nl_err_end(sk, &rec, err, error, "%s", what);
}

static gboolean count_filters(struct nl_sock *sk, int ifindex, guint32 parent, int *n,
                              GError **error)
{
        g_autoptr(VmnetNlCache) cache = NULL;

        if (!filters(sk, ifindex, parent, &cache, error))
                return FALSE;
        *n += nl_cache_nitems(cache);
        return TRUE;
}

gboolean vmnet_tc_mirror_del(struct nl_sock *sk, const char *port, guint direction,
                             GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autofree char *kind = NULL;
        int ifindex, n = 0, err;
        VmnetNlErr rec;

        if (!vmnet_nl_ifindex(port, &ifindex, &local, "removing a mirror")) {
                /* the port went with its guest, and its filters with it */
                if (g_error_matches(local, VMNET_ERROR, VMNET_ERROR_NOT_FOUND))
                        return TRUE;
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        if (!slot_kind(sk, ifindex, &kind, error))
                return FALSE;
        /* an ingress qdisc answers fff3 with its ingress block: never delete there */
        if (!kind || (direction == VMNET_MIRROR_EGRESS && !g_str_equal(kind, "clsact")))
                return TRUE;
        if (!del_filter(sk, ifindex, port, direction, error))
                return FALSE;
        if (!g_str_equal(kind, "clsact"))
                return TRUE;
        if (!count_filters(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &n, error) ||
            !count_filters(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &n, error))
                return FALSE;
        if (n == 0) {
                g_autoptr(VmnetRtnlQdisc) q = clsact(ifindex);

                vmnet_nl_err_begin(sk, &rec);
                err = q ? rtnl_qdisc_delete(sk, q) : -NLE_NOMEM;
                return vmnet_nl_err_end(sk, &rec, err, error, "removing qdisc clsact of %s", port);
        }
        return TRUE;
}
