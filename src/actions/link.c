/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <linux/if_bridge.h>

#include "actions/kernel.h"
#include "apply/context.h"
#include "backend/netlink/netlink.h"

const char *vmnet_link_kind_to_string(VmnetLinkKind kind)
{
        switch (kind) {
        case VMNET_LINK_KIND_VLAN:
                return "vlan";
        case VMNET_LINK_KIND_VXLAN:
                return "vxlan";
        case VMNET_LINK_KIND_BOND:
                return "bond";
        case VMNET_LINK_KIND_BRIDGE:
                break;
        }
        return "bridge";
}

char *vmnet_action_tag_impact(const VmnetAction *a, char *text)
{
        char *tagged;

        if (a->impact == VMNET_IMPACT_SAFE)
                return text;
        tagged = g_strdup_printf("%s [%s]", text, vmnet_impact_to_string(a->impact));
        g_free(text);
        return tagged;
}

struct nl_sock *vmnet_action_ctx_nl(VmnetApplyCtx *ctx, GError **error)
{
        if (!ctx || !ctx->nl) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "internal error: the netlink socket is not open");
                return NULL;
        }
        return ctx->nl;
}

/* --- VmnetLinkSpec ---------------------------------------------------------- */

VmnetLinkSpec *vmnet_link_spec_new(VmnetLinkKind kind, const char *name)
{
        VmnetLinkSpec *s = g_new0(VmnetLinkSpec, 1);

        s->kind = kind;
        s->name = g_strdup(name);
        s->stp = -1;
        s->forward_delay = -1;
        s->vlan_filtering = -1;
        s->default_pvid = -1;
        s->up = TRUE;
        s->bond_mode = s->miimon = s->lacp_rate = s->xmit_hash_policy = -1;
        s->addrs = g_array_new(FALSE, TRUE, sizeof(VmnetAddrSpec));
        s->routes = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_route_spec_free);
        s->ports = g_ptr_array_new_with_free_func(g_free);
        s->fdb = g_array_new(FALSE, TRUE, sizeof(VmnetAddr));
        return s;
}

VmnetLinkSpec *vmnet_link_spec_copy(const VmnetLinkSpec *src)
{
        VmnetLinkSpec *s = vmnet_link_spec_new(src->kind, src->name);

        s->mtu = src->mtu;
        s->has_mac = src->has_mac;
        s->mac = src->mac;
        s->alias = g_strdup(src->alias);
        s->up = src->up;
        s->stp = src->stp;
        s->forward_delay = src->forward_delay;
        s->vlan_filtering = src->vlan_filtering;
        s->default_pvid = src->default_pvid;
        s->parent = g_strdup(src->parent);
        s->vlan_id = src->vlan_id;
        s->vni = src->vni;
        s->port = src->port;
        s->local = src->local;
        s->bond_mode = src->bond_mode;
        s->miimon = src->miimon;
        s->lacp_rate = src->lacp_rate;
        s->xmit_hash_policy = src->xmit_hash_policy;
        g_array_append_vals(s->fdb, src->fdb->data, src->fdb->len);
        s->master = g_strdup(src->master);
        g_array_append_vals(s->addrs, src->addrs->data, src->addrs->len);
        for (guint i = 0; i < src->routes->len; i++)
                g_ptr_array_add(s->routes,
                                vmnet_route_spec_copy(g_ptr_array_index(src->routes, i)));
        for (guint i = 0; i < src->ports->len; i++)
                g_ptr_array_add(s->ports, g_strdup(g_ptr_array_index(src->ports, i)));
        return s;
}

void vmnet_link_spec_free(VmnetLinkSpec *s)
{
        if (!s)
                return;
        g_free(s->name);
        g_free(s->alias);
        g_free(s->parent);
        g_free(s->master);
        g_array_unref(s->addrs);
        g_ptr_array_unref(s->routes);
        g_ptr_array_unref(s->ports);
        g_array_unref(s->fdb);
        g_free(s);
}

static char *spec_summary(const VmnetLinkSpec *s)
{
        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *joined = NULL;

        if (s->kind == VMNET_LINK_KIND_VLAN)
                g_ptr_array_add(parts, g_strdup_printf("id %u on %s", s->vlan_id, s->parent));
        if (s->kind == VMNET_LINK_KIND_VXLAN) {
                g_autofree char *local = s->local.family ? vmnet_addr_to_string(&s->local) : NULL;

                g_ptr_array_add(parts, g_strdup_printf("vni %u, port %u%s%s%s%s", s->vni,
                                                       s->port, local ? ", local " : "",
                                                       local ? local : "",
                                                       s->parent ? ", underlay " : "",
                                                       s->parent ? s->parent : ""));
        }
        if (s->kind == VMNET_LINK_KIND_BOND) {
                g_ptr_array_add(parts, g_strdup_printf("mode %d", s->bond_mode));
                if (s->miimon >= 0)
                        g_ptr_array_add(parts, g_strdup_printf("miimon %d", s->miimon));
                if (s->lacp_rate >= 0)
                        g_ptr_array_add(parts, g_strdup_printf("lacp rate %s",
                                                               s->lacp_rate ? "fast" : "slow"));
                if (s->xmit_hash_policy >= 0)
                        g_ptr_array_add(parts, g_strdup_printf("xmit hash policy %d",
                                                               s->xmit_hash_policy));
        }
        if (s->fdb->len) {
                g_autoptr(GPtrArray) dsts = g_ptr_array_new_with_free_func(g_free);
                g_autofree char *dst_list = NULL;

                for (guint i = 0; i < s->fdb->len; i++)
                        g_ptr_array_add(dsts, vmnet_addr_to_string(&g_array_index(s->fdb,
                                                                                  VmnetAddr, i)));
                g_ptr_array_add(dsts, NULL);
                dst_list = g_strjoinv(" ", (char **)dsts->pdata);
                g_ptr_array_add(parts, g_strdup_printf("flood to %s", dst_list));
        }
        if (s->mtu)
                g_ptr_array_add(parts, g_strdup_printf("mtu %u", s->mtu));
        if (s->has_mac) {
                g_autofree char *mac = vmnet_mac_to_string(&s->mac);

                g_ptr_array_add(parts, g_strdup_printf("mac %s", mac));
        }
        if (s->stp >= 0)
                g_ptr_array_add(parts, g_strdup_printf("stp %s", s->stp ? "on" : "off"));
        if (s->forward_delay >= 0)
                g_ptr_array_add(parts, g_strdup_printf("forward delay %d", s->forward_delay));
        if (s->vlan_filtering >= 0)
                g_ptr_array_add(parts, g_strdup_printf("vlan filtering %s",
                                                       s->vlan_filtering ? "on" : "off"));
        if (s->default_pvid == 0)
                g_ptr_array_add(parts, g_strdup("default pvid none"));
        else if (s->default_pvid > 0)
                g_ptr_array_add(parts, g_strdup_printf("default pvid %d", s->default_pvid));
        if (!parts->len)
                return g_strdup("");
        g_ptr_array_add(parts, NULL);
        joined = g_strjoinv(", ", (char **)parts->pdata);
        return g_strdup_printf(" (%s)", joined);
}

/* What an undo of a delete puts back besides the link itself. */
static char *spec_restores(const VmnetLinkSpec *s)
{
        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *joined = NULL;

        if (s->master)
                g_ptr_array_add(parts, g_strdup_printf("master %s", s->master));
        for (guint i = 0; i < s->addrs->len; i++) {
                const VmnetAddrSpec *a = &g_array_index(s->addrs, VmnetAddrSpec, i);
                g_autofree char *as = vmnet_addr_to_string(&a->addr);

                g_ptr_array_add(parts, g_strdup_printf("address %s/%u", as, a->prefixlen));
        }
        for (guint i = 0; i < s->routes->len; i++) {
                g_autofree char *r = vmnet_route_spec_to_string(g_ptr_array_index(s->routes, i));

                g_ptr_array_add(parts, g_strdup_printf("route %s", r));
        }
        for (guint i = 0; i < s->ports->len; i++)
                g_ptr_array_add(parts, g_strdup_printf("port %s",
                                                       (char *)g_ptr_array_index(s->ports, i)));
        if (!parts->len)
                return g_strdup("");
        g_ptr_array_add(parts, NULL);
        joined = g_strjoinv(", ", (char **)parts->pdata);
        return g_strdup_printf(", restoring %s", joined);
}

/* --- link-create / link-delete ------------------------------------------------- */

static char *create_describe(const VmnetAction *a)
{
        const VmnetLinkSpec *s = a->data;
        g_autofree char *summary = spec_summary(s);
        g_autofree char *restores = spec_restores(s);

        return vmnet_action_tag_impact(a, g_strdup_printf("create %s %s%s%s",
                                                          vmnet_link_kind_to_string(s->kind),
                                                          s->name, summary, restores));
}

static gboolean create_rest(struct nl_sock *sk, const VmnetLinkSpec *s, GError **error)
{
        VmnetNlLinkSet set = {
                /* A bridge got its MAC in RTM_NEWLINK; a VLAN inherits its parent's unless told. */
                .mac = s->kind == VMNET_LINK_KIND_VLAN && s->has_mac ? &s->mac : NULL,
                .alias = s->alias,
                /* Set after creation, not in RTM_NEWLINK: only a changed MTU counts as set by
                 * the user, and a bridge with a user-set MTU keeps it when ports come and go. */
                .mtu = s->mtu,
                .master = s->master,
                .up = s->up ? 1 : -1,
        };
        g_autofree char *what = g_strdup_printf("configuring new link %s", s->name);

        /* One message, as `ip link set NAME alias A mtu M master B up` sends it. */
        if ((set.mac || set.alias || set.mtu || set.master || set.up == 1) &&
            !vmnet_nl_link_set(sk, s->name, &set, what, error))
                return FALSE;
        for (guint i = 0; i < s->ports->len; i++) {
                const char *port = g_ptr_array_index(s->ports, i);
                gboolean exists = FALSE;

                if (!vmnet_nl_link_exists(sk, port, &exists, error))
                        return FALSE;
                if (!exists)
                        continue;
                if (s->kind == VMNET_LINK_KIND_BOND ?
                            !vmnet_nl_bond_member(sk, port, s->name, FALSE, error) :
                            !vmnet_nl_link_set_master(sk, port, s->name, error))
                        return FALSE;
        }
        for (guint i = 0; i < s->addrs->len; i++) {
                const VmnetAddrSpec *as = &g_array_index(s->addrs, VmnetAddrSpec, i);

                if (!vmnet_nl_addr(sk, s->name, &as->addr, as->prefixlen, TRUE, error))
                        return FALSE;
        }
        for (guint i = 0; i < s->routes->len; i++) {
                const VmnetRouteSpec *r = g_ptr_array_index(s->routes, i);
                VmnetNlRoute nr = { .dst = r->dst, .has_gateway = r->has_gateway,
                                    .gateway = r->gateway, .oif = s->name,
                                    .priority = r->priority, .protocol = r->protocol };

                if (!vmnet_nl_route(sk, VMNET_NL_ROUTE_ADD, &nr, error))
                        return FALSE;
        }
        return !s->fdb->len || vmnet_nl_fdb_flood_list(sk, s->name, (const VmnetAddr *)s->fdb->data,
                                                       s->fdb->len, TRUE, error);
}

static gboolean create_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetLinkSpec *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);

        if (!sk)
                return FALSE;
        if (s->kind == VMNET_LINK_KIND_BRIDGE) {
                VmnetNlBridgeOpts o = { .stp = s->stp, .forward_delay = s->forward_delay,
                                        .vlan_filtering = s->vlan_filtering,
                                        .has_default_pvid = s->default_pvid >= 0,
                                        .default_pvid = (guint)MAX(s->default_pvid, 0) };

                if (!vmnet_nl_bridge_create(sk, s->name, &o, s->has_mac ? &s->mac : NULL, error))
                        return FALSE;
        } else if (s->kind == VMNET_LINK_KIND_BOND) {
                VmnetNlBondOpts o = { .mode = s->bond_mode, .miimon = s->miimon,
                                      .lacp_rate = s->lacp_rate,
                                      .xmit_hash_policy = s->xmit_hash_policy };

                if (!vmnet_nl_bond_create(sk, s->name, &o, error))
                        return FALSE;
        } else if (s->kind == VMNET_LINK_KIND_VXLAN) {
                if (!vmnet_nl_vxlan_create(sk, s->name, s->vni, s->port, &s->local, s->parent,
                                           error))
                        return FALSE;
        } else if (!vmnet_nl_vlan_create(sk, s->name, s->parent, s->vlan_id, error)) {
                return FALSE;
        }
        /* A create that fails half-way leaves nothing: rollback only undoes completed actions. */
        if (!create_rest(sk, s, error)) {
                vmnet_nl_link_delete(sk, s->name, NULL);
                return FALSE;
        }
        return TRUE;
}

static VmnetAction *create_invert(const VmnetAction *a)
{
        VmnetLinkSpec *s = vmnet_link_spec_copy(a->data);

        /* Deleting the link takes its addresses, routes and port memberships with it. */
        g_array_set_size(s->addrs, 0);
        g_ptr_array_set_size(s->routes, 0);
        g_ptr_array_set_size(s->ports, 0);
        g_array_set_size(s->fdb, 0);
        return vmnet_action_link_delete(s, a->impact);
}

static char *delete_describe(const VmnetAction *a)
{
        const VmnetLinkSpec *s = a->data;
        g_autofree char *ports = NULL;

        if (s->ports->len) {
                /* Borrowed strings: no free function, unlike g_ptr_array_copy(). */
                g_autoptr(GPtrArray) names = g_ptr_array_new();

                for (guint i = 0; i < s->ports->len; i++)
                        g_ptr_array_add(names, g_ptr_array_index(s->ports, i));
                g_ptr_array_add(names, NULL);
                ports = g_strjoinv(", ", (char **)names->pdata);
        }
        return vmnet_action_tag_impact(a, g_strdup_printf("delete %s %s%s%s%s",
                                                          vmnet_link_kind_to_string(s->kind),
                                                          s->name, ports ? " (ports " : "",
                                                          ports ? ports : "", ports ? ")" : ""));
}

static gboolean delete_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetLinkSpec *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        gboolean exists = FALSE;

        if (!sk || !vmnet_nl_link_exists(sk, s->name, &exists, error))
                return FALSE;
        /* Already gone is what was asked for; this keeps rollback and re-runs idempotent. */
        return !exists || vmnet_nl_link_delete(sk, s->name, error);
}

static VmnetAction *delete_invert(const VmnetAction *a)
{
        return vmnet_action_link_create(vmnet_link_spec_copy(a->data), a->impact);
}

static void spec_free(gpointer p)
{
        vmnet_link_spec_free(p);
}

const VmnetActionType vmnet_action_type_link_create = {
        .name = "link-create",
        .describe = create_describe,
        .execute = create_execute,
        .invert = create_invert,
        .free_data = spec_free,
};

const VmnetActionType vmnet_action_type_link_delete = {
        .name = "link-delete",
        .describe = delete_describe,
        .execute = delete_execute,
        .invert = delete_invert,
        .free_data = spec_free,
};

VmnetAction *vmnet_action_link_create(VmnetLinkSpec *spec, VmnetImpact impact)
{
        return vmnet_action_new(&vmnet_action_type_link_create, impact,
                                g_strdup_printf("link %s", spec->name), spec);
}

VmnetAction *vmnet_action_link_delete(VmnetLinkSpec *spec, VmnetImpact impact)
{
        return vmnet_action_new(&vmnet_action_type_link_delete, impact,
                                g_strdup_printf("link %s", spec->name), spec);
}

/* --- link-set ------------------------------------------------------------------- */

static const char *const attr_names[] = {
        [VMNET_LINK_ATTR_MTU] = "mtu",
        [VMNET_LINK_ATTR_MAC] = "mac",
        [VMNET_LINK_ATTR_ALIAS] = "alias",
        [VMNET_LINK_ATTR_STP] = "stp",
        [VMNET_LINK_ATTR_FORWARD_DELAY] = "forward delay",
        [VMNET_LINK_ATTR_VLAN_FILTERING] = "vlan filtering",
        [VMNET_LINK_ATTR_DEFAULT_PVID] = "default pvid",
        [VMNET_LINK_ATTR_UP] = "up",
        [VMNET_LINK_ATTR_MASTER] = "master",
};

static char *value_to_string(VmnetLinkAttr attr, const VmnetLinkValue *v)
{
        switch (attr) {
        case VMNET_LINK_ATTR_MTU:
        case VMNET_LINK_ATTR_FORWARD_DELAY:
                return g_strdup_printf("%u", v->num);
        case VMNET_LINK_ATTR_MAC:
                return vmnet_mac_to_string(&v->mac);
        case VMNET_LINK_ATTR_DEFAULT_PVID:
                return v->num ? g_strdup_printf("%u", v->num) : g_strdup("none");
        case VMNET_LINK_ATTR_STP:
        case VMNET_LINK_ATTR_VLAN_FILTERING:
                return g_strdup(v->num ? "on" : "off");
        case VMNET_LINK_ATTR_UP:
                return g_strdup(v->num ? "up" : "down");
        case VMNET_LINK_ATTR_ALIAS:
                return v->str ? g_strdup_printf("\"%s\"", v->str) : g_strdup("none");
        case VMNET_LINK_ATTR_MASTER:
                return g_strdup(v->str ? v->str : "none");
        }
        return g_strdup("?");
}

static char *set_describe(const VmnetAction *a)
{
        const VmnetLinkSet *s = a->data;
        g_autofree char *v = value_to_string(s->attr, &s->value);
        g_autofree char *o = value_to_string(s->attr, &s->old);
        char *text;

        switch (s->attr) {
        case VMNET_LINK_ATTR_UP:
                text = g_strdup_printf("bring %s %s", v, s->link);
                break;
        case VMNET_LINK_ATTR_MASTER:
                if (s->value.str && s->old.str)
                        text = g_strdup_printf("move %s from %s to %s", s->link, s->old.str,
                                               s->value.str);
                else if (s->value.str)
                        text = g_strdup_printf("enslave %s to %s", s->link, s->value.str);
                else
                        text = g_strdup_printf("release %s from %s", s->link,
                                               s->old.str ? s->old.str : "its master");
                break;
        case VMNET_LINK_ATTR_STP:
        case VMNET_LINK_ATTR_VLAN_FILTERING:
                text = g_strdup_printf("%s %s on %s", s->value.num ? "enable" : "disable",
                                       attr_names[s->attr], s->link);
                break;
        case VMNET_LINK_ATTR_ALIAS:
                if (!s->value.str)
                        text = g_strdup_printf("remove alias %s from %s", o, s->link);
                else
                        text = g_strdup_printf("set alias %s on %s (was %s)", v, s->link, o);
                break;
        default:
                text = g_strdup_printf("set %s %s on %s (was %s)", attr_names[s->attr], v,
                                       s->link, o);
                break;
        }
        return vmnet_action_tag_impact(a, text);
}

static gboolean set_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetLinkSet *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        VmnetNlBridgeOpts o = VMNET_NL_BRIDGE_OPTS_INIT;

        if (!sk)
                return FALSE;
        switch (s->attr) {
        case VMNET_LINK_ATTR_MTU:
                return vmnet_nl_link_set_mtu(sk, s->link, s->value.num, error);
        case VMNET_LINK_ATTR_MAC:
                return vmnet_nl_link_set_mac(sk, s->link, &s->value.mac, error);
        case VMNET_LINK_ATTR_ALIAS:
                return vmnet_nl_link_set_alias(sk, s->link, s->value.str, error);
        case VMNET_LINK_ATTR_UP:
                return vmnet_nl_link_set_up(sk, s->link, s->value.num != 0, error);
        case VMNET_LINK_ATTR_MASTER:
                return vmnet_nl_link_set_master(sk, s->link, s->value.str, error);
        case VMNET_LINK_ATTR_STP:
                o.stp = (int)s->value.num;
                break;
        case VMNET_LINK_ATTR_FORWARD_DELAY:
                o.forward_delay = (int)s->value.num;
                break;
        case VMNET_LINK_ATTR_VLAN_FILTERING:
                o.vlan_filtering = (int)s->value.num;
                break;
        case VMNET_LINK_ATTR_DEFAULT_PVID:
                o.has_default_pvid = TRUE;
                o.default_pvid = s->value.num;
                break;
        }
        return vmnet_nl_bridge_change(sk, s->link, &o, error);
}

static VmnetAction *set_invert(const VmnetAction *a)
{
        const VmnetLinkSet *s = a->data;

        return vmnet_action_link_set(s->link, s->attr, &s->old, &s->value, s->foreign, a->impact);
}

static void set_free(gpointer p)
{
        VmnetLinkSet *s = p;

        g_free(s->link);
        g_free(s->value.str);
        g_free(s->old.str);
        g_free(s);
}

const VmnetActionType vmnet_action_type_link_set = {
        .name = "link-set",
        .describe = set_describe,
        .execute = set_execute,
        .invert = set_invert,
        .free_data = set_free,
};

VmnetAction *vmnet_action_link_set(const char *link, VmnetLinkAttr attr,
                                   const VmnetLinkValue *value, const VmnetLinkValue *old,
                                   gboolean foreign, VmnetImpact impact)
{
        VmnetLinkSet *s = g_new0(VmnetLinkSet, 1);

        s->link = g_strdup(link);
        s->attr = attr;
        s->value = *value;
        s->value.str = g_strdup(value->str);
        s->old = *old;
        s->old.str = g_strdup(old->str);
        s->foreign = foreign;
        return vmnet_action_new(&vmnet_action_type_link_set, impact,
                                g_strdup_printf("link %s", link), s);
}

/* --- bridge port VLAN entries ---------------------------------------------------- */

static char *bvlan_flags(guint16 flags)
{
        if ((flags & BRIDGE_VLAN_INFO_PVID) && (flags & BRIDGE_VLAN_INFO_UNTAGGED))
                return g_strdup("pvid, untagged");
        if (flags & BRIDGE_VLAN_INFO_PVID)
                return g_strdup("pvid");
        if (flags & BRIDGE_VLAN_INFO_UNTAGGED)
                return g_strdup("untagged");
        return g_strdup("tagged");
}

static gboolean bvlan_self(const VmnetBridgeVlanSpec *s)
{
        return g_strcmp0(s->port, s->bridge) == 0;
}

static char *bvlan_describe(const VmnetAction *a)
{
        const VmnetBridgeVlanSpec *s = a->data;
        g_autofree char *flags = bvlan_flags(s->flags);
        gboolean add = a->type == &vmnet_action_type_bridge_vlan_add;

        if (bvlan_self(s))
                return vmnet_action_tag_impact(a, g_strdup_printf("%s vlan %u (%s) %s bridge %s "
                                                                  "itself",
                                                                  add ? "add" : "remove", s->vid,
                                                                  flags, add ? "to" : "from",
                                                                  s->bridge));
        return vmnet_action_tag_impact(a, g_strdup_printf("%s vlan %u (%s) %s port %s of %s",
                                                          add ? "add" : "remove", s->vid, flags,
                                                          add ? "to" : "from", s->port,
                                                          s->bridge));
}

static gboolean bvlan_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetBridgeVlanSpec *s = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        gboolean add = a->type == &vmnet_action_type_bridge_vlan_add;

        if (!sk)
                return FALSE;
        if (bvlan_self(s))
                return vmnet_nl_bridge_vlan_self(sk, s->bridge, s->vid, s->flags, add, error);
        return vmnet_nl_bridge_vlan(sk, s->port, s->vid, s->flags, add, error);
}

static VmnetAction *bvlan_invert(const VmnetAction *a)
{
        const VmnetBridgeVlanSpec *s = a->data;

        return vmnet_action_bridge_vlan(s->port, s->bridge, s->vid, s->flags,
                                        a->type != &vmnet_action_type_bridge_vlan_add, a->impact);
}

static void bvlan_free(gpointer p)
{
        VmnetBridgeVlanSpec *s = p;

        g_free(s->port);
        g_free(s->bridge);
        g_free(s);
}

const VmnetActionType vmnet_action_type_bridge_vlan_add = {
        .name = "bridge-vlan-add",
        .describe = bvlan_describe,
        .execute = bvlan_execute,
        .invert = bvlan_invert,
        .free_data = bvlan_free,
};

const VmnetActionType vmnet_action_type_bridge_vlan_del = {
        .name = "bridge-vlan-del",
        .describe = bvlan_describe,
        .execute = bvlan_execute,
        .invert = bvlan_invert,
        .free_data = bvlan_free,
};

VmnetAction *vmnet_action_bridge_vlan(const char *port, const char *bridge, guint vid,
                                      guint16 flags, gboolean add, VmnetImpact impact)
{
        VmnetBridgeVlanSpec *s = g_new0(VmnetBridgeVlanSpec, 1);

        s->port = g_strdup(port);
        s->bridge = g_strdup(bridge);
        s->vid = vid;
        s->flags = flags;
        return vmnet_action_new(add ? &vmnet_action_type_bridge_vlan_add :
                                      &vmnet_action_type_bridge_vlan_del,
                                impact, g_strdup_printf("link %s", port), s);
}
