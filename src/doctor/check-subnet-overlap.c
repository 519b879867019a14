/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "diff/subnet-conflicts.h"
#include "doctor/doctor.h"

/*
 * A subnet of the plan that overlaps a route the host already has through
 * another interface (field note 14: "network is already in use"). A more
 * specific (or equal) foreign route takes the guests' traffic away from
 * the bridge; a broader one (a VPN's 10.0.0.0/8) loses the part of that
 * network the plan shadows. The default route overlaps everything and is
 * not a conflict; nor are routes through the plan's own bridges. Bridged
 * networks are skipped: their subnet is the LAN's, which the uplink routes.
 *
 * A libvirt network of someone else's that declares an overlapping subnet
 * is the conflict apply refuses (diff/subnet-conflicts.h): reported once,
 * naming the network, and its bridge's route is not reported again.
 */

static gboolean is_plan_bridge(const VmnetPlan *plan, const char *name)
{
        for (guint i = 0; name && i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                if (g_str_equal(net->bridge, name))
                        return TRUE;
        }
        return FALSE;
}

/* Is name the bridge of a libvirt network reported as conflicting with s? */
static gboolean conflict_bridge(const GArray *conflicts, const VmnetSubnet *s, const char *name)
{
        for (guint i = 0; name && conflicts && i < conflicts->len; i++) {
                const VmnetSubnetConflict *c = &g_array_index(conflicts, VmnetSubnetConflict, i);

                if (c->subnet == s && c->other->active && g_strcmp0(c->other->bridge, name) == 0)
                        return TRUE;
        }
        return FALSE;
}

static void check_subnet(VmnetDoctor *doc, const VmnetNetwork *net, const VmnetSubnet *s,
                         const GArray *conflicts)
{
        for (guint i = 0; i < doc->host->routes->len; i++) {
                const VmnetHostRoute *r = g_ptr_array_index(doc->host->routes, i);
                g_autofree char *cidr = NULL;
                g_autofree char *dst = NULL;
                g_autofree char *via = NULL;
                g_autofree char *args = NULL;
                g_autofree char *del = NULL;
                g_autofree char *where = NULL;
                gboolean narrower;

                if (r->dst.addr.family != s->cidr.addr.family || r->dst.prefix == 0)
                        continue;
                if (is_plan_bridge(doc->plan, r->oif_name) ||
                    conflict_bridge(conflicts, s, r->oif_name))
                        continue;
                if (!vmnet_prefix_overlaps(&r->dst, &s->cidr))
                        continue;
                narrower = r->dst.prefix >= s->cidr.prefix;
                cidr = vmnet_prefix_to_string(&s->cidr);
                dst = vmnet_prefix_to_string(&r->dst);
                if (r->has_gateway) {
                        g_autofree char *gw = vmnet_addr_to_string(&r->gateway);

                        via = g_strdup_printf(" via %s", gw);
                }
                args = g_strdup_printf("route del %s%s%s%s", dst, via ? via : "",
                                       r->oif_name ? " dev " : "", r->oif_name ? r->oif_name : "");
                del = vmnet_doctor_cmd_ip(doc, args);
                where = vmnet_doctor_plan_where(doc, s->line);
                vmnet_doctor_add(doc, narrower ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING,
                                 g_strdup_printf("subnet %s", cidr),
                                 g_strdup_printf("choose a subnet nobody uses for network '%s' "
                                                 "(%s), or remove the other route if it is stale: "
                                                 "%s",
                                                 net->name, where, del),
                                 "subnet %s of network '%s' overlaps the route %s%s%s%s already on "
                                 "the host: %s",
                                 cidr, net->name, dst, via ? via : "", r->oif_name ? " dev " : "",
                                 r->oif_name ? r->oif_name : "",
                                 narrower ? "traffic to (some of) the guests leaves through the "
                                            "other route instead of the bridge"
                                          : "the part of the other network that the plan covers "
                                            "becomes unreachable from the host");
        }
}

static gboolean run(VmnetDoctor *doc, G_GNUC_UNUSED char **skipped)
{
        const VmnetLibvirtHost *virt = vmnet_doctor_libvirt(doc, NULL);
        g_autoptr(GArray) conflicts = virt ? vmnet_subnet_conflicts(doc->plan, virt) : NULL;
        g_autofree char *file = vmnet_doctor_plan_where(doc, 0);

        for (guint i = 0; conflicts && i < conflicts->len; i++) {
                const VmnetSubnetConflict *c = &g_array_index(conflicts, VmnetSubnetConflict, i);
                g_autofree char *cidr = vmnet_prefix_to_string(&c->subnet->cidr);
                g_autofree char *d = vmnet_subnet_conflict_describe(c, file);

                vmnet_doctor_add(doc,
                                 c->other->active ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING,
                                 g_strdup_printf("subnet %s", cidr),
                                 vmnet_subnet_conflict_fix(c, file), "%s%s", d,
                                 c->other->active ? " (vmnet apply refuses the plan)" : "");
        }
        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);

                if (net->mode == VMNET_MODE_BRIDGED)
                        continue;
                for (guint j = 0; j < net->subnets->len; j++)
                        check_subnet(doc, net, g_ptr_array_index(net->subnets, j), conflicts);
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_subnet_overlap = {
        .name = "subnet-overlap",
        .summary = "the plan's subnets are not routed elsewhere on the host",
        .needs_plan = TRUE,
        .run = run,
};
