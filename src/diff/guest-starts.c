/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "actions/libvirt.h"
#include "diff/foreign-users.h"
#include "diff/guest-starts.h"

void vmnet_guest_starts_foreach(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                                VmnetGuestStartFunc fn, gpointer data)
{
        g_autoptr(GPtrArray) bridges = vmnet_plan_bridges(plan);

        for (guint i = 0; virt && i < virt->domains->len; i++) {
                const VmnetLibvirtDomain *d = g_ptr_array_index(virt->domains, i);
                VmnetGuestStart s = { .domain = d,
                                      .planned = vmnet_plan_find_domain(plan, d->name) != NULL };

                if (d->active || !d->persistent || !d->autostart || !d->start_failed)
                        continue;
                for (guint j = 0; j < d->config->len && !s.bridge; j++) {
                        const VmnetLibvirtIface *f = g_ptr_array_index(d->config, j);
                        const VmnetLibvirtNetwork *n =
                                g_strcmp0(f->type, "network") == 0
                                        ? vmnet_libvirt_host_find_network(virt, f->network)
                                        : NULL;

                        if (n && g_strcmp0(n->owner_plan, plan->name) == 0 && n->bridge) {
                                s.network = n->name;
                                s.bridge = n->bridge;
                        } else if (g_strcmp0(f->type, "bridge") == 0 && f->bridge &&
                                   g_ptr_array_find_with_equal_func(bridges, f->bridge,
                                                                    g_str_equal, NULL)) {
                                s.bridge = f->bridge;
                        }
                }
                if (s.bridge)
                        fn(&s, data);
        }
}

typedef struct {
        GPtrArray *actions;
        VmnetDiags *warnings;
} Collect;

static void collect(const VmnetGuestStart *s, gpointer data)
{
        Collect *c = data;

        if (s->planned) {
                g_ptr_array_add(c->actions,
                                vmnet_action_domain_start(s->domain->name, s->bridge));
                return;
        }
        if (c->warnings)
                vmnet_diags_add(c->warnings, "libvirt", 0,
                                "domain %s, which vmnet does not manage, is autostarted but shut "
                                "off: its last start failed (its interface needs vmnet's bridge "
                                "%s, missing at boot); vmnet does not start others' guests: "
                                "virsh start %s",
                                s->domain->name, s->bridge, s->domain->name);
}

void vmnet_diff_guest_starts(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                             GPtrArray *actions, VmnetDiags *warnings)
{
        Collect c = { actions, warnings };

        vmnet_guest_starts_foreach(plan, virt, collect, &c);
}
