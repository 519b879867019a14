/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "model/fleet.h"
#include "validate/bonds.h"

/* The rules of <bond> (vmnet-plan(5) BONDS). */

#define ERR(plan, diags, line, ...) vmnet_diags_add((diags), (plan)->file, (line), __VA_ARGS__)
#define BOND_MODE_8023AD 4
#define BOND_MODE_XOR 2

/* The <host> a bond belongs to, NULL for one of the plan itself (every host). */
static const VmnetFleetHost *host_of(const VmnetPlan *plan, const VmnetBond *b)
{
        for (guint i = 0; i < plan->hosts->len; i++) {
                const VmnetFleetHost *h = g_ptr_array_index(plan->hosts, i);

                if (g_ptr_array_find(h->bonds, b, NULL))
                        return h;
        }
        return NULL;
}

/* Whether a and b can exist on one host. */
static gboolean together(const VmnetPlan *plan, const VmnetBond *a, const VmnetBond *b)
{
        const VmnetFleetHost *ha = host_of(plan, a), *hb = host_of(plan, b);

        return !ha || !hb || ha == hb;
}

static void check_bond(const VmnetPlan *plan, VmnetDiags *diags, const VmnetBond *b)
{
        const char *why = vmnet_ifname_invalid_reason(b->name);

        if (b->name && why)
                ERR(plan, diags, b->line, "bond '%s': name %s", b->name, why);
        if (!b->members || !b->members[0])
                ERR(plan, diags, b->line, "bond '%s': members is empty", b->name);
        for (guint i = 0; b->members && b->members[i]; i++) {
                const char *m = b->members[i];

                if ((why = vmnet_ifname_invalid_reason(m)))
                        ERR(plan, diags, b->line, "bond '%s': member '%s' %s", b->name, m, why);
                if (g_strcmp0(m, b->name) == 0)
                        ERR(plan, diags, b->line, "bond '%s': a bond cannot be its own member",
                            b->name);
                for (guint j = 0; j < i; j++)
                        if (g_str_equal(m, b->members[j]))
                                ERR(plan, diags, b->line, "bond '%s': member '%s' named twice",
                                    b->name, m);
        }
        if (b->lacp_rate >= 0 && b->mode != BOND_MODE_8023AD)
                ERR(plan, diags, b->line, "bond '%s': lacp-rate is for mode 802.3ad only",
                    b->name);
        if (b->xmit_hash_policy >= 0 && b->mode != BOND_MODE_8023AD && b->mode != BOND_MODE_XOR)
                ERR(plan, diags, b->line,
                    "bond '%s': xmit-hash-policy is for modes 802.3ad and balance-xor only",
                    b->name);
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);
                const VmnetFleetHost *h = host_of(plan, b);
                const char *dev = net->uplink ? net->uplink->dev : NULL;

                /* A host's bond against the networks of that host, with its own uplinks. */
                if (h && !vmnet_network_on_host(net, h->name))
                        continue;
                if (h && net->uplink && vmnet_fleet_host_uplink_dev(h, net->name))
                        dev = vmnet_fleet_host_uplink_dev(h, net->name);
                if (g_strcmp0(net->bridge, b->name) == 0)
                        ERR(plan, diags, b->line, "bond '%s': is the bridge of network '%s'",
                            b->name, net->name);
                if (dev && b->members && g_strv_contains((const char *const *)b->members, dev))
                        ERR(plan, diags, net->uplink->line,
                            "network '%s': uplink '%s' is a member of bond '%s'; use the bond "
                            "as the uplink",
                            net->name, dev, b->name);
        }
}

void vmnet_validate_bonds(const VmnetPlan *plan, VmnetDiags *diags)
{
        for (guint i = 0; i < plan->bonds->len; i++) {
                const VmnetBond *b = g_ptr_array_index(plan->bonds, i);

                check_bond(plan, diags, b);
                for (guint j = 0; j < i; j++) {
                        const VmnetBond *o = g_ptr_array_index(plan->bonds, j);

                        if (!together(plan, b, o))
                                continue;
                        if (g_strcmp0(b->name, o->name) == 0)
                                ERR(plan, diags, b->line,
                                    "bond '%s': duplicate bond name (first at line %u)", b->name,
                                    o->line);
                        for (guint k = 0; b->members && b->members[k]; k++)
                                if (o->members &&
                                    g_strv_contains((const char *const *)o->members,
                                                    b->members[k]))
                                        ERR(plan, diags, b->line,
                                            "bond '%s': member '%s' is already in bond '%s' "
                                            "(line %u)",
                                            b->name, b->members[k], o->name, o->line);
                }
        }
}
