/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "diff/subnet-conflicts.h"

GArray *vmnet_subnet_conflicts(const VmnetPlan *plan, const VmnetLibvirtHost *virt)
{
        GArray *out = g_array_new(FALSE, TRUE, sizeof(VmnetSubnetConflict));

        for (guint i = 0; virt && i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);

                if (net->mode == VMNET_MODE_BRIDGED)
                        continue;
                for (guint j = 0; j < net->subnets->len; j++) {
                        const VmnetSubnet *s = g_ptr_array_index(net->subnets, j);

                        for (guint k = 0; k < virt->networks->len; k++) {
                                const VmnetLibvirtNetwork *o = g_ptr_array_index(virt->networks, k);

                                if (g_strcmp0(o->owner_plan, plan->name) == 0 || !o->ips)
                                        continue;
                                for (guint m = 0; m < o->ips->len; m++) {
                                        const VmnetLibvirtIp *ip =
                                                &g_array_index(o->ips, VmnetLibvirtIp, m);
                                        VmnetSubnetConflict c = { net, s, o, ip };

                                        if (ip->subnet.addr.family == s->cidr.addr.family &&
                                            vmnet_prefix_overlaps(&ip->subnet, &s->cidr))
                                                g_array_append_val(out, c);
                                }
                        }
                }
        }
        return out;
}

char *vmnet_subnet_conflict_describe(const VmnetSubnetConflict *c, const char *file)
{
        g_autofree char *cidr = vmnet_prefix_to_string(&c->subnet->cidr);
        g_autofree char *gw = c->subnet->has_gateway ? vmnet_addr_to_string(&c->subnet->gateway)
                                                     : NULL;
        g_autofree char *theirs = vmnet_prefix_to_string(&c->ip->subnet);
        g_autofree char *host = vmnet_addr_to_string(&c->ip->address);

        return g_strdup_printf(
                "%s:%u: network '%s': subnet %s%s%s%s overlaps libvirt network '%s' (%s%s, not "
                "vmnet's) on bridge %s, subnet %s (host address %s): %s",
                file ? file : "plan", c->subnet->line, c->net->name, cidr, gw ? " (gateway " : "",
                gw ? gw : "", gw ? ")" : "", c->other->name,
                c->other->active ? "active" : "inactive", c->other->autostart ? ", autostart" : "",
                c->other->bridge ? c->other->bridge : "(none)", theirs, host,
                c->other->active
                        ? "the host routes the subnet to one bridge only, so the guests of one "
                          "network cannot reach their gateway"
                        : "it cannot start while vmnet's network has the subnet, and if it "
                          "starts first (at boot) vmnet's apply is refused");
}

char *vmnet_subnet_conflict_fix(const VmnetSubnetConflict *c, const char *file)
{
        return g_strdup_printf("give network '%s' a subnet nobody uses (%s:%u), or stop libvirt "
                               "network '%s' if nothing needs it (virsh net-destroy %s; virsh "
                               "net-autostart --disable %s)",
                               c->net->name, file ? file : "plan", c->subnet->line, c->other->name,
                               c->other->name, c->other->name);
}
