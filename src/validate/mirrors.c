/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "validate/mirrors.h"

#define ERR(c, ...) vmnet_diags_add((c)->diags, (c)->plan->file, (c)->m->line, __VA_ARGS__)

typedef struct {
        const VmnetPlan *plan;
        VmnetDiags *diags;
        const VmnetMirror *m;
        const char *what; /* the mirrored port: "network 'lab': portgroup 'web'" */
} Ctx;

/* Whether the plan makes or enslaves a link of that name. */
static const char *managed_link(const VmnetPlan *plan, const char *name)
{
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                if (g_strcmp0(n->bridge, name) == 0)
                        return "a bridge of the plan";
                if (n->uplink && (g_strcmp0(n->uplink->ifname, name) == 0 ||
                                  g_strcmp0(n->uplink->dev, name) == 0))
                        return "an uplink of the plan";
                if (n->vxlan && g_strcmp0(n->vxlan->name, name) == 0)
                        return "a VXLAN link of the plan";
        }
        for (guint i = 0; i < plan->bonds->len; i++) {
                const VmnetBond *b = g_ptr_array_index(plan->bonds, i);

                if (g_strcmp0(b->name, name) == 0)
                        return "a bond of the plan";
                for (guint j = 0; b->members && b->members[j]; j++)
                        if (g_str_equal(b->members[j], name))
                                return "a bond member of the plan";
        }
        return NULL;
}

static void check_link(Ctx *c)
{
        const char *why = vmnet_ifname_invalid_reason(c->m->to_link);

        if (why) {
                ERR(c, "%s: mirror link '%s' %s (interface names are 1-15 characters of A-Z a-z "
                       "0-9 _ . -, not '.' or '..')",
                    c->what, c->m->to_link, why);
                return;
        }
        if (vmnet_is_tap_name(c->m->to_link)) {
                ERR(c, "%s: mirror link '%s' has the shape of a guest tap name; name a guest's "
                       "port by domain= and interface=",
                    c->what, c->m->to_link);
                return;
        }
        /* A copy sent into a bridge floods to its ports, the mirrored one among them. */
        why = managed_link(c->plan, c->m->to_link);
        if (why)
                ERR(c, "%s: mirror link '%s' is %s; a mirror's host link must be one the plan "
                       "does not manage (a spare NIC, a veth or dummy to a capture tool)",
                    c->what, c->m->to_link, why);
}

static void check_domain(Ctx *c, const VmnetDomain *src)
{
        const VmnetDomain *d = vmnet_plan_find_domain(c->plan, c->m->to_domain);
        const VmnetInterface *ifc;
        const VmnetMirror *dm;

        if (!d) {
                ERR(c, "%s: mirror domain '%s' is not a domain of the plan", c->what,
                    c->m->to_domain);
                return;
        }
        if (c->m->to_interface > d->interfaces->len) {
                ERR(c, "%s: mirror interface %u: domain '%s' has %u interface%s", c->what,
                    c->m->to_interface, d->name, d->interfaces->len,
                    d->interfaces->len == 1 ? "" : "s");
                return;
        }
        ifc = g_ptr_array_index(d->interfaces, c->m->to_interface - 1);
        /*
         * A mirrored destination would be the mirrored port itself, or send
         * the copies on to another port (and maybe back): refused outright.
         */
        dm = vmnet_interface_mirror(vmnet_plan_find_network(c->plan, ifc->network), ifc);
        if (dm) {
                ERR(c, "%s: mirror destination domain '%s' interface %u is mirrored itself "
                       "(<mirror> at line %u); a mirror's destination may not be mirrored",
                    c->what, d->name, c->m->to_interface, dm->line);
                return;
        }
        if (src && src->host && d->host && g_strcmp0(src->host, d->host) != 0)
                ERR(c, "%s: mirror domain '%s' runs on host '%s', not on '%s'; a mirror's "
                       "destination must be on the mirrored port's host",
                    c->what, d->name, d->host, src->host);
}

/* libvirt's outbound police filter holds the tap's ingress qdisc, where clsact would go. */
static void check_bandwidth(Ctx *c, const VmnetBandwidth *bw)
{
        if ((c->m->direction & VMNET_MIRROR_EGRESS) && bw && bw->outbound)
                ERR(c, "%s: an egress mirror cannot share the port with <bandwidth outbound=> "
                       "(line %u): libvirt's outbound policing takes the tap's ingress qdisc, "
                       "where the egress mirror's clsact goes; mirror direction=\"ingress\" only, "
                       "or leave outbound= out",
                    c->what, bw->line);
}

static void check_mirror(Ctx *c, const VmnetDomain *src)
{
        if (!!c->m->to_domain == !!c->m->to_link) {
                ERR(c, "%s: <mirror> needs exactly one of domain= and link=", c->what);
                return;
        }
        if (c->m->to_link)
                check_link(c);
        else
                check_domain(c, src);
}

void vmnet_validate_mirrors(const VmnetPlan *plan, VmnetDiags *diags)
{
        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);

                for (guint j = 0; j < n->portgroups->len; j++) {
                        const VmnetPortgroup *pg = g_ptr_array_index(n->portgroups, j);
                        g_autofree char *what = NULL;
                        Ctx c = { plan, diags, pg->mirror, NULL };

                        if (!pg->mirror)
                                continue;
                        what = g_strdup_printf("network '%s': portgroup '%s'", n->name, pg->name);
                        c.what = what;
                        check_mirror(&c, NULL);
                        check_bandwidth(&c, pg->has_bandwidth ? &pg->bandwidth : NULL);
                }
        }
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                for (guint j = 0; j < d->interfaces->len; j++) {
                        const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, j);
                        const VmnetNetwork *n = vmnet_plan_find_network(plan, ifc->network);
                        const VmnetPortgroup *pg = NULL;
                        g_autofree char *what = g_strdup_printf("domain '%s' interface %u", d->name,
                                                                j + 1);
                        Ctx c = { plan, diags, vmnet_interface_mirror(n, ifc), what };

                        if (!c.m)
                                continue;
                        /* A port group's mirror is checked once, above; its bandwidth here. */
                        if (ifc->mirror)
                                check_mirror(&c, d);
                        if (n)
                                pg = ifc->portgroup ? vmnet_network_find_portgroup(n, ifc->portgroup)
                                                    : vmnet_network_default_portgroup(n);
                        if (ifc->has_bandwidth)
                                check_bandwidth(&c, &ifc->bandwidth);
                        else if (ifc->mirror && pg && pg->has_bandwidth)
                                check_bandwidth(&c, &pg->bandwidth);
                }
        }
}
