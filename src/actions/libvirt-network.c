/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/libvirt.h"
#include "apply/context.h"
#include "backend/libvirt/libvirt.h"

/*
 * Libvirt network actions. What libvirt 9.0 allows on a defined network,
 * and so how vmnet changes one (read in src/network/bridge_driver.c and
 * src/conf/virnetworkobj.c, checked against the test driver in
 * tests/unit/check-libvirt.c and libvirtd in tests/vm/):
 *  - virNetworkDefineXML of a network that exists (same name and UUID;
 *    the UUID is derived from plan and network name, see
 *    libvirt-network.c in src/render) replaces its persistent definition;
 *    a running network keeps its running definition until it is next
 *    started. vmnet's metadata lives there (there is no
 *    virNetworkSetMetadata in 9.0), and only the persistent definition is
 *    read for it, so a metadata change is a re-define, safe and live.
 *  - <portgroup>s are changed with virNetworkUpdate (live and persistent),
 *    which does not disturb the guests.
 *  - The bridge, the forward mode and the UUID cannot change without
 *    stopping the network, which unplugs every guest: that is a re-create
 *    (impact RECREATE), after which vmnet updates the running guests'
 *    interfaces so that libvirt plugs them into the network again.
 *  - A running network cannot be undefined by the test driver (libvirtd
 *    would make it transient), so removal is stop, then undefine.
 */

typedef enum {
        OP_DEFINE,
        OP_UNDEFINE,
        OP_START,
        OP_STOP,
        OP_AUTOSTART,
        OP_PORTGROUP,
        OP_RECREATE,
} Op;

typedef struct {
        Op op;
        char *name;
        char *xml;       /* DEFINE, RECREATE: to define; PORTGROUP: the element */
        char *old_xml;   /* DEFINE, RECREATE, UNDEFINE: persistent XML before; PORTGROUP: old element */
        char *reason;    /* DEFINE (re-define), RECREATE: what changes */
        gboolean flag;   /* AUTOSTART: value; RECREATE: autostart before */
        gboolean active; /* RECREATE: ran before; PORTGROUP: update the running network */
        gboolean config; /* PORTGROUP: update the persistent definition */
        int command;     /* PORTGROUP: VIR_NETWORK_UPDATE_COMMAND_* */
        char *portgroup; /* PORTGROUP */
        GPtrArray *refresh; /* PORTGROUP, RECREATE: VmnetIfaceRef* */
} NetData;

VmnetIfaceRef *vmnet_iface_ref_new(const char *domain, const char *mac, const char *xml)
{
        VmnetIfaceRef *r = g_new0(VmnetIfaceRef, 1);

        r->domain = g_strdup(domain);
        r->mac = g_strdup(mac);
        r->xml = g_strdup(xml);
        return r;
}

void vmnet_iface_ref_free(VmnetIfaceRef *r)
{
        if (!r)
                return;
        g_free(r->domain);
        g_free(r->mac);
        g_free(r->xml);
        g_free(r);
}

static GPtrArray *refresh_copy(const GPtrArray *src)
{
        GPtrArray *dst = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_iface_ref_free);

        for (guint i = 0; src && i < src->len; i++) {
                const VmnetIfaceRef *r = g_ptr_array_index(src, i);

                g_ptr_array_add(dst, vmnet_iface_ref_new(r->domain, r->mac, r->xml));
        }
        return dst;
}

static void net_data_free(gpointer p)
{
        NetData *d = p;

        g_free(d->name);
        g_free(d->xml);
        g_free(d->old_xml);
        g_free(d->reason);
        g_free(d->portgroup);
        if (d->refresh)
                g_ptr_array_unref(d->refresh);
        g_free(d);
}

static char *tag_impact(const VmnetAction *a, char *text)
{
        char *tagged;

        if (a->impact == VMNET_IMPACT_SAFE)
                return text;
        tagged = g_strdup_printf("%s [%s]", text, vmnet_impact_to_string(a->impact));
        g_free(text);
        return tagged;
}

static virConnectPtr ctx_virt(VmnetApplyCtx *ctx, GError **error)
{
        if (!ctx || !ctx->virt) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "internal error: no libvirt connection");
                return NULL;
        }
        return ctx->virt;
}

/* Updates each interface live; a guest that no longer runs has nothing to refresh. */
static gboolean refresh_ifaces(virConnectPtr conn, const GPtrArray *refresh, GError **error)
{
        for (guint i = 0; refresh && i < refresh->len; i++) {
                const VmnetIfaceRef *r = g_ptr_array_index(refresh, i);
                g_autoptr(VmnetVirDomain) dom = vmnet_libvirt_domain_lookup(conn, r->domain, NULL);

                if (!dom || vmnet_libvirt_domain_is_active(dom) != 1)
                        continue;
                if (!vmnet_libvirt_domain_device(dom, VMNET_LIBVIRT_DEVICE_UPDATE, r->xml,
                                                 VIR_DOMAIN_AFFECT_LIVE, error,
                                                 "re-plugging interface %s of domain %s", r->mac,
                                                 r->domain))
                        return FALSE;
        }
        return TRUE;
}

static const VmnetActionType define_type, undefine_type, start_type, stop_type, autostart_type,
        portgroup_type, recreate_type;

static VmnetAction *net_action(const VmnetActionType *type, VmnetImpact impact, NetData *d)
{
        return vmnet_action_new(type, impact, g_strdup_printf("libvirt network %s", d->name), d);
}

static NetData *net_data(Op op, const char *name)
{
        NetData *d = g_new0(NetData, 1);

        d->op = op;
        d->name = g_strdup(name);
        return d;
}

/* ------------------------------------------------------------ define / undefine */

VmnetAction *vmnet_action_network_define(const char *name, const char *xml, const char *old_xml,
                                         const char *reason)
{
        NetData *d = net_data(OP_DEFINE, name);

        d->xml = g_strdup(xml);
        d->old_xml = g_strdup(old_xml);
        d->reason = g_strdup(reason);
        return net_action(&define_type, VMNET_IMPACT_SAFE, d);
}

static char *define_describe(const VmnetAction *a)
{
        const NetData *d = a->data;

        if (!d->old_xml)
                return tag_impact(a, g_strdup_printf("define libvirt network %s", d->name));
        return tag_impact(a, g_strdup_printf("redefine libvirt network %s (%s)", d->name,
                                             d->reason ? d->reason : "definition"));
}

static gboolean define_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NetData *d = a->data;
        virConnectPtr conn = ctx_virt(ctx, error);
        g_autoptr(VmnetVirNetwork) net = conn ? vmnet_libvirt_network_define(conn, d->name, d->xml,
                                                                             error)
                                              : NULL;

        return net != NULL;
}

static VmnetAction *define_invert(const VmnetAction *a)
{
        const NetData *d = a->data;

        if (!d->old_xml)
                return vmnet_action_network_undefine(d->name, d->xml);
        return vmnet_action_network_define(d->name, d->old_xml, d->xml, "restore");
}

static const VmnetActionType define_type = {
        .name = "libvirt-network-define",
        .describe = define_describe,
        .execute = define_execute,
        .invert = define_invert,
        .free_data = net_data_free,
};

VmnetAction *vmnet_action_network_undefine(const char *name, const char *old_xml)
{
        NetData *d = net_data(OP_UNDEFINE, name);

        d->old_xml = g_strdup(old_xml);
        return net_action(&undefine_type, VMNET_IMPACT_SAFE, d);
}

static char *undefine_describe(const VmnetAction *a)
{
        const NetData *d = a->data;

        return tag_impact(a, g_strdup_printf("undefine libvirt network %s", d->name));
}

static gboolean undefine_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NetData *d = a->data;
        virConnectPtr conn = ctx_virt(ctx, error);
        g_autoptr(VmnetVirNetwork) net = conn ? vmnet_libvirt_network_lookup(conn, d->name, error) : NULL;

        return net && vmnet_libvirt_network_undefine(net, error);
}

static VmnetAction *undefine_invert(const VmnetAction *a)
{
        const NetData *d = a->data;

        return d->old_xml ? vmnet_action_network_define(d->name, d->old_xml, NULL, NULL) : NULL;
}

static const VmnetActionType undefine_type = {
        .name = "libvirt-network-undefine",
        .describe = undefine_describe,
        .execute = undefine_execute,
        .invert = undefine_invert,
        .free_data = net_data_free,
};

/* ------------------------------------------------------------ start / stop / autostart */

VmnetAction *vmnet_action_network_start(const char *name)
{
        return net_action(&start_type, VMNET_IMPACT_SAFE, net_data(OP_START, name));
}

VmnetAction *vmnet_action_network_stop(const char *name)
{
        /* Stopping a network unplugs every guest on it. */
        return net_action(&stop_type, VMNET_IMPACT_DISRUPTIVE, net_data(OP_STOP, name));
}

static char *start_stop_describe(const VmnetAction *a)
{
        const NetData *d = a->data;

        return tag_impact(a, g_strdup_printf("%s libvirt network %s",
                                             d->op == OP_START ? "start" : "stop", d->name));
}

static gboolean start_stop_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NetData *d = a->data;
        virConnectPtr conn = ctx_virt(ctx, error);
        g_autoptr(VmnetVirNetwork) net = conn ? vmnet_libvirt_network_lookup(conn, d->name, error) : NULL;

        if (!net)
                return FALSE;
        return d->op == OP_START ? vmnet_libvirt_network_start(net, error)
                                 : vmnet_libvirt_network_stop(net, error);
}

static VmnetAction *start_stop_invert(const VmnetAction *a)
{
        const NetData *d = a->data;

        return d->op == OP_START ? vmnet_action_network_stop(d->name)
                                 : vmnet_action_network_start(d->name);
}

static const VmnetActionType start_type = {
        .name = "libvirt-network-start",
        .describe = start_stop_describe,
        .execute = start_stop_execute,
        .invert = start_stop_invert,
        .free_data = net_data_free,
};

static const VmnetActionType stop_type = {
        .name = "libvirt-network-stop",
        .describe = start_stop_describe,
        .execute = start_stop_execute,
        .invert = start_stop_invert,
        .free_data = net_data_free,
};

VmnetAction *vmnet_action_network_autostart(const char *name, gboolean on)
{
        NetData *d = net_data(OP_AUTOSTART, name);

        d->flag = on;
        return net_action(&autostart_type, VMNET_IMPACT_SAFE, d);
}

static char *autostart_describe(const VmnetAction *a)
{
        const NetData *d = a->data;

        return tag_impact(a, g_strdup_printf("%s autostart of libvirt network %s",
                                             d->flag ? "enable" : "disable", d->name));
}

static gboolean autostart_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NetData *d = a->data;
        virConnectPtr conn = ctx_virt(ctx, error);
        g_autoptr(VmnetVirNetwork) net = conn ? vmnet_libvirt_network_lookup(conn, d->name, error) : NULL;

        return net && vmnet_libvirt_network_set_autostart(net, d->flag, error);
}

static VmnetAction *autostart_invert(const VmnetAction *a)
{
        const NetData *d = a->data;

        return vmnet_action_network_autostart(d->name, !d->flag);
}

static const VmnetActionType autostart_type = {
        .name = "libvirt-network-autostart",
        .describe = autostart_describe,
        .execute = autostart_execute,
        .invert = autostart_invert,
        .free_data = net_data_free,
};

/* ------------------------------------------------------------ portgroup */

VmnetAction *vmnet_action_network_portgroup(const char *name, int command, const char *portgroup,
                                            const char *xml, const char *old_xml, gboolean live,
                                            gboolean config, GPtrArray *refresh)
{
        NetData *d = net_data(OP_PORTGROUP, name);

        d->config = config;
        d->command = command;
        d->portgroup = g_strdup(portgroup);
        d->xml = g_strdup(xml);
        d->old_xml = g_strdup(old_xml);
        d->active = live;
        d->refresh = refresh ? refresh : refresh_copy(NULL);
        return net_action(&portgroup_type, VMNET_IMPACT_SAFE, d);
}

static char *portgroup_describe(const VmnetAction *a)
{
        const NetData *d = a->data;
        g_autofree char *head =
                d->command == VIR_NETWORK_UPDATE_COMMAND_DELETE
                        ? g_strdup_printf("delete portgroup %s from", d->portgroup)
                : d->command == VIR_NETWORK_UPDATE_COMMAND_MODIFY
                        ? g_strdup_printf("update portgroup %s of", d->portgroup)
                        : g_strdup_printf("add portgroup %s to", d->portgroup);
        g_autofree char *refresh = d->refresh->len
                                           ? g_strdup_printf(", re-plugs %u guest interface%s",
                                                             d->refresh->len,
                                                             d->refresh->len == 1 ? "" : "s")
                                           : g_strdup("");

        VmnetLibvirtRates from, to;
        g_autofree char *rates = NULL;

        /* What a modified group's guests get: its rates as they change. */
        if (d->command == VIR_NETWORK_UPDATE_COMMAND_MODIFY) {
                vmnet_libvirt_rates_of_xml(d->old_xml, &from);
                vmnet_libvirt_rates_of_xml(d->xml, &to);
                rates = vmnet_libvirt_rates_change(&from, &to);
        }
        return tag_impact(a, g_strdup_printf("%s libvirt network %s (%s%s)%s%s", head, d->name,
                                             d->active && d->config ? "live+config"
                                             : d->active            ? "live"
                                                                    : "config",
                                             refresh, rates ? ": " : "", rates ? rates : ""));
}

static gboolean portgroup_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NetData *d = a->data;
        virConnectPtr conn = ctx_virt(ctx, error);
        g_autoptr(VmnetVirNetwork) net = conn ? vmnet_libvirt_network_lookup(conn, d->name, error) : NULL;
        if (!net || !vmnet_libvirt_network_update_portgroup(net, d->command, d->portgroup, d->xml,
                                                            d->active, d->config, error))
                return FALSE;
        return refresh_ifaces(conn, d->refresh, error);
}

static VmnetAction *portgroup_invert(const VmnetAction *a)
{
        const NetData *d = a->data;

        switch (d->command) {
        case VIR_NETWORK_UPDATE_COMMAND_DELETE:
                return vmnet_action_network_portgroup(d->name, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                                      d->portgroup, d->old_xml ? d->old_xml : d->xml,
                                                      NULL, d->active, d->config,
                                                      refresh_copy(d->refresh));
        case VIR_NETWORK_UPDATE_COMMAND_MODIFY:
                return vmnet_action_network_portgroup(d->name, VIR_NETWORK_UPDATE_COMMAND_MODIFY,
                                                      d->portgroup, d->old_xml, d->xml, d->active,
                                                      d->config, refresh_copy(d->refresh));
        default:
                return vmnet_action_network_portgroup(d->name, VIR_NETWORK_UPDATE_COMMAND_DELETE,
                                                      d->portgroup, d->xml, d->xml, d->active,
                                                      d->config, refresh_copy(d->refresh));
        }
}

static const VmnetActionType portgroup_type = {
        .name = "libvirt-network-portgroup",
        .describe = portgroup_describe,
        .execute = portgroup_execute,
        .invert = portgroup_invert,
        .free_data = net_data_free,
};

/* ------------------------------------------------------------ recreate */

VmnetAction *vmnet_action_network_recreate(const char *name, const char *xml,
                                           const char *old_xml, gboolean active,
                                           gboolean autostart, const char *reason,
                                           GPtrArray *refresh)
{
        NetData *d = net_data(OP_RECREATE, name);

        d->xml = g_strdup(xml);
        d->old_xml = g_strdup(old_xml);
        d->active = active;
        d->flag = autostart;
        d->reason = g_strdup(reason);
        d->refresh = refresh ? refresh : refresh_copy(NULL);
        return net_action(&recreate_type, VMNET_IMPACT_RECREATE, d);
}

static char *recreate_describe(const VmnetAction *a)
{
        const NetData *d = a->data;
        g_autofree char *refresh = d->refresh->len
                                           ? g_strdup_printf("; re-plugs %u guest interface%s",
                                                             d->refresh->len,
                                                             d->refresh->len == 1 ? "" : "s")
                                           : g_strdup("");

        return tag_impact(a, g_strdup_printf("re-create libvirt network %s (%s%s)", d->name,
                                             d->reason ? d->reason : "definition", refresh));
}

/* Destroy, undefine, define xml, autostart, start: the network as xml says, stopped guests unplugged. */
static gboolean recreate_with(virConnectPtr conn, const NetData *d, const char *xml,
                              GError **error)
{
        g_autoptr(VmnetVirNetwork) old = vmnet_libvirt_network_lookup(conn, d->name, NULL);
        g_autoptr(VmnetVirNetwork) net = NULL;

        if (old && vmnet_libvirt_network_is_active(old) && !vmnet_libvirt_network_stop(old, error))
                return FALSE;
        if (old && vmnet_libvirt_network_is_persistent(old) &&
            !vmnet_libvirt_network_undefine(old, error))
                return FALSE;
        if (!(net = vmnet_libvirt_network_define(conn, d->name, xml, error)))
                return FALSE;
        if (d->flag && !vmnet_libvirt_network_set_autostart(net, TRUE, error))
                return FALSE;
        return !d->active || vmnet_libvirt_network_start(net, error);
}

static gboolean recreate_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const NetData *d = a->data;
        virConnectPtr conn = ctx_virt(ctx, error);

        if (!conn)
                return FALSE;
        if (!recreate_with(conn, d, d->xml, error)) {
                /* A failed action is not rolled back by the caller: put the old network back here. */
                g_autoptr(GError) e = NULL;

                if (d->old_xml && (!recreate_with(conn, d, d->old_xml, &e) ||
                                   !refresh_ifaces(conn, d->refresh, &e)))
                        g_prefix_error(error, "(and restoring the previous definition failed: %s) ",
                                       e->message);
                return FALSE;
        }
        return refresh_ifaces(conn, d->refresh, error);
}

static VmnetAction *recreate_invert(const VmnetAction *a)
{
        const NetData *d = a->data;

        return vmnet_action_network_recreate(d->name, d->old_xml, d->xml, d->active, d->flag,
                                             "restore", refresh_copy(d->refresh));
}

static const VmnetActionType recreate_type = {
        .name = "libvirt-network-recreate",
        .describe = recreate_describe,
        .execute = recreate_execute,
        .invert = recreate_invert,
        .free_data = net_data_free,
};
