/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/kernel.h"
#include "apply/context.h"
#include "backend/netlink/netlink.h"

VmnetRouteSpec *vmnet_route_spec_copy(const VmnetRouteSpec *r)
{
        VmnetRouteSpec *c = g_new0(VmnetRouteSpec, 1);

        *c = *r;
        c->oif = g_strdup(r->oif);
        return c;
}

void vmnet_route_spec_free(VmnetRouteSpec *r)
{
        if (!r)
                return;
        g_free(r->oif);
        g_free(r);
}

char *vmnet_route_spec_to_string(const VmnetRouteSpec *r)
{
        g_autofree char *dst = r->dst.prefix == 0 ? g_strdup("default") :
                                                    vmnet_prefix_to_string(&r->dst);
        g_autofree char *gw = r->has_gateway ? vmnet_addr_to_string(&r->gateway) : NULL;
        g_autofree char *metric = r->priority ? g_strdup_printf(" metric %u", r->priority) : NULL;

        return g_strdup_printf("%s%s%s%s", dst, gw ? " via " : "", gw ? gw : "",
                               metric ? metric : "");
}

static char *route_describe(const VmnetAction *a)
{
        const VmnetRouteSpec *r = a->data;
        g_autofree char *s = vmnet_route_spec_to_string(r);

        return vmnet_action_tag_impact(a, g_strdup_printf("%s route %s dev %s",
                                                          a->type == &vmnet_action_type_route_add ?
                                                                  "add" : "delete",
                                                          s, r->oif));
}

static gboolean route_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const VmnetRouteSpec *r = a->data;
        struct nl_sock *sk = vmnet_action_ctx_nl(ctx, error);
        VmnetNlRoute nr = { .dst = r->dst, .has_gateway = r->has_gateway, .gateway = r->gateway,
                            .oif = r->oif, .priority = r->priority, .protocol = r->protocol };

        return sk && vmnet_nl_route(sk, a->type == &vmnet_action_type_route_add ?
                                                VMNET_NL_ROUTE_ADD : VMNET_NL_ROUTE_DELETE,
                                    &nr, error);
}

static VmnetAction *route_invert(const VmnetAction *a)
{
        return vmnet_action_route(a->data, a->type != &vmnet_action_type_route_add, a->impact);
}

static void route_free(gpointer p)
{
        vmnet_route_spec_free(p);
}

const VmnetActionType vmnet_action_type_route_add = {
        .name = "route-add",
        .describe = route_describe,
        .execute = route_execute,
        .invert = route_invert,
        .free_data = route_free,
};

const VmnetActionType vmnet_action_type_route_del = {
        .name = "route-del",
        .describe = route_describe,
        .execute = route_execute,
        .invert = route_invert,
        .free_data = route_free,
};

VmnetAction *vmnet_action_route(const VmnetRouteSpec *route, gboolean add, VmnetImpact impact)
{
        VmnetRouteSpec *r = vmnet_route_spec_copy(route);
        g_autofree char *s = vmnet_route_spec_to_string(r);

        return vmnet_action_new(add ? &vmnet_action_type_route_add : &vmnet_action_type_route_del,
                                impact, g_strdup_printf("route %s dev %s", s, r->oif), r);
}
