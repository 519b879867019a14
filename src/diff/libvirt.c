/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libvirt/libvirt.h>
#include <string.h>

#include "actions/libvirt.h"
#include "diff/libvirt.h"
#include "render/render.h"
#include "util/mutant.h"

/* ------------------------------------------------------------ helpers */

static const char *plan_file(const VmnetPlan *plan)
{
        return plan->file ? plan->file : "plan";
}

static gboolean owned(const VmnetLibvirtNetwork *n, const VmnetPlan *plan)
{
        return n->owner_plan && g_str_equal(n->owner_plan, plan->name);
}

/* Is obs one of the plan's interfaces (by its mark)? */
static gboolean iface_is_ours(const VmnetLibvirtIface *obs, const VmnetPlan *plan)
{
        return vmnet_libvirt_alias_is_plan(obs->alias, plan->name);
}

static VmnetLibvirtPortgroup *find_pg(const GPtrArray *pgs, const char *name)
{
        for (guint i = 0; i < pgs->len; i++) {
                VmnetLibvirtPortgroup *pg = g_ptr_array_index(pgs, i);

                if (g_strcmp0(pg->name, name) == 0)
                        return pg;
        }
        return NULL;
}

static const char *default_pg_name(const GPtrArray *pgs)
{
        for (guint i = 0; pgs && i < pgs->len; i++) {
                const VmnetLibvirtPortgroup *pg = g_ptr_array_index(pgs, i);

                if (pg->is_default)
                        return pg->name;
        }
        return NULL;
}

/*
 * The port group libvirt puts a running interface in: its own, else the
 * network's default one.
 */
static const char *effective_pg(const VmnetLibvirtIface *f, const VmnetLibvirtNetwork *net)
{
        return f->portgroup ? f->portgroup : (net ? default_pg_name(net->portgroups) : NULL);
}

/*
 * The XML to send back for f, an interface of a running guest (f->xml
 * otherwise): without <bandwidth> when it only shows its port group's rates
 * (as libvirtd does), so that a re-plug or an undo never pins the group's
 * rate as the interface's own.
 */
static const char *resend_xml(const VmnetLibvirtIface *f, const VmnetLibvirtNetwork *net,
                              gboolean live)
{
        const char *pg = live ? effective_pg(f, net) : NULL;
        const VmnetLibvirtPortgroup *g = NULL;

        if (!live || !net || !pg)
                return f->xml;
        for (guint i = 0; i < net->portgroups->len; i++) {
                const VmnetLibvirtPortgroup *x = g_ptr_array_index(net->portgroups, i);

                if (g_strcmp0(x->name, pg) == 0)
                        g = x;
        }
        if (g && vmnet_libvirt_rates_set(&g->rates) &&
            vmnet_libvirt_rates_equal(&f->rates, &g->rates))
                return f->xml_no_bandwidth;
        return f->xml;
}

/* ------------------------------------------------------------ networks */

typedef struct {
        const VmnetPlan *plan;
        const VmnetLibvirtHost *host;
        GPtrArray *actions;
        VmnetDiags *warnings;
} Diff;

static gboolean has_name(GHashTable *set, const char *name)
{
        return name && g_hash_table_contains(set, name);
}

/* Running guests' interfaces on network name (all of them, or only vmnet's), to re-plug. */
static GPtrArray *running_ifaces_on(const Diff *df, const char *name, gboolean all,
                                    GHashTable *pgs, const VmnetLibvirtNetwork *before,
                                    const VmnetLibvirtNetwork *after)
{
        GPtrArray *refs = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_iface_ref_free);

        for (guint i = 0; i < df->host->domains->len; i++) {
                const VmnetLibvirtDomain *d = g_ptr_array_index(df->host->domains, i);

                for (guint j = 0; d->active && j < d->live->len; j++) {
                        const VmnetLibvirtIface *f = g_ptr_array_index(d->live, j);
                        g_autofree char *mac = NULL;

                        if (g_strcmp0(f->type, "network") != 0 || g_strcmp0(f->network, name) != 0)
                                continue;
                        /* Only vmnet's, in a changed group before or after the change. */
                        if (!all && (!iface_is_ours(f, df->plan) ||
                                     !(has_name(pgs, effective_pg(f, before)) ||
                                       has_name(pgs, effective_pg(f, after)))))
                                continue;
                        mac = f->has_mac ? vmnet_mac_to_string(&f->mac) : g_strdup("?");
                        g_ptr_array_add(refs, vmnet_iface_ref_new(d->name, mac,
                                                                  resend_xml(f, before, TRUE)));
                }
        }
        return refs;
}

static gboolean pg_equal(const VmnetLibvirtPortgroup *a, const VmnetLibvirtPortgroup *b)
{
        return a->is_default == b->is_default && vmnet_libvirt_rates_equal(&a->rates, &b->rates);
}

typedef struct {
        int command;
        const char *name;
        const char *xml;
        const char *old_xml;
} PgChange;

static GPtrArray *refs_copy(const GPtrArray *src)
{
        GPtrArray *dst = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_iface_ref_free);

        for (guint i = 0; i < src->len; i++) {
                const VmnetIfaceRef *r = g_ptr_array_index(src, i);

                g_ptr_array_add(dst, vmnet_iface_ref_new(r->domain, r->mac, r->xml));
        }
        return dst;
}

/*
 * virNetworkUpdate per <portgroup> that differs. libvirt refuses a second
 * default port group, so groups losing the default flag (and deleted ones)
 * go first and the group gaining it last.
 *
 * libvirt computes a port's bandwidth when the port is plugged, so a
 * running guest gets a group's new rate (or its new default group) only
 * through an interface update: vmnet's interfaces in a changed group are
 * re-plugged by the first and by the last of the network's port group
 * actions, so that both the apply (after the last) and a rollback (after
 * the inverse of the first) end with the guests re-plugged into the
 * groups as they then are.
 */
static void diff_portgroups(const Diff *df, const VmnetLibvirtNetwork *obs,
                            const VmnetLibvirtNetwork *want, gboolean config)
{
        gboolean live = obs->active;
        g_autoptr(GArray) changes = g_array_new(FALSE, TRUE, sizeof(PgChange));
        g_autoptr(GHashTable) changed = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) refresh = NULL;

        if (!live && !config)
                return;
        for (guint i = 0; i < obs->portgroups->len; i++) {
                const VmnetLibvirtPortgroup *o = g_ptr_array_index(obs->portgroups, i);
                PgChange c = { VIR_NETWORK_UPDATE_COMMAND_DELETE, o->name, o->xml, o->xml };

                if (!find_pg(want->portgroups, o->name))
                        g_array_append_val(changes, c);
        }
        for (int pass = 0; pass < 2; pass++) {
                for (guint i = 0; i < want->portgroups->len; i++) {
                        const VmnetLibvirtPortgroup *w = g_ptr_array_index(want->portgroups, i);
                        const VmnetLibvirtPortgroup *o = find_pg(obs->portgroups, w->name);
                        PgChange c = { o ? VIR_NETWORK_UPDATE_COMMAND_MODIFY
                                         : VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                       w->name, w->xml, o ? o->xml : NULL };

                        if (w->is_default != (pass == 1) || (o && pg_equal(o, w)))
                                continue;
                        g_array_append_val(changes, c);
                }
        }
        for (guint i = 0; i < changes->len; i++)
                g_hash_table_add(changed, (gpointer)g_array_index(changes, PgChange, i).name);
        refresh = live ? running_ifaces_on(df, obs->name, FALSE, changed, obs, want)
                       : g_ptr_array_new();
        for (guint i = 0; i < changes->len; i++) {
                const PgChange *c = &g_array_index(changes, PgChange, i);
                gboolean ends = i == 0 || i + 1 == changes->len;

                g_ptr_array_add(df->actions,
                                vmnet_action_network_portgroup(
                                        obs->name, c->command, c->name, c->xml, c->old_xml, live,
                                        config, ends && refresh->len ? refs_copy(refresh) : NULL));
        }
}

/* What forces a re-create, or NULL. Caller frees. */
static char *recreate_reason(const VmnetLibvirtNetwork *obs, const VmnetLibvirtNetwork *want)
{
        if (g_strcmp0(obs->uuid, want->uuid) != 0)
                return g_strdup_printf("uuid %s -> %s", obs->uuid ? obs->uuid : "none", want->uuid);
        if (g_strcmp0(obs->forward_mode, want->forward_mode) != 0)
                return g_strdup_printf("forward mode %s -> %s",
                                       obs->forward_mode ? obs->forward_mode : "none",
                                       want->forward_mode);
        if (g_strcmp0(obs->bridge, want->bridge) != 0)
                return g_strdup_printf("bridge %s -> %s", obs->bridge ? obs->bridge : "none",
                                       want->bridge);
        return NULL;
}

/*
 * Whether obs's metadata gives every port group the VLANs want's does (the
 * network hook reads them there). A re-define changes the persistent
 * definition only: libvirt hands the hook the running one, which changes
 * when the network restarts; until then apply puts such ports right.
 */
static gboolean same_port_vlans(const VmnetLibvirtNetwork *obs, const VmnetLibvirtNetwork *want)
{
        VmnetPortVlans a, b;

        vmnet_libvirt_network_port_vlans(obs, NULL, &a);
        vmnet_libvirt_network_port_vlans(want, NULL, &b);
        if (!vmnet_port_vlans_equal(&a, &b))
                return FALSE;
        for (guint i = 0; i < want->portgroups->len; i++) {
                const VmnetLibvirtPortgroup *pg = g_ptr_array_index(want->portgroups, i);

                vmnet_libvirt_network_port_vlans(obs, pg->name, &a);
                vmnet_libvirt_network_port_vlans(want, pg->name, &b);
                if (!vmnet_port_vlans_equal(&a, &b))
                        return FALSE;
        }
        return TRUE;
}

static gboolean diff_network(const Diff *df, const VmnetNetwork *net, GError **error)
{
        const VmnetPlan *plan = df->plan;
        VmnetLibvirtNetwork *obs = vmnet_libvirt_host_find_network(df->host, net->name);
        g_autofree char *xml = vmnet_render_libvirt_network(plan, net);
        g_autoptr(VmnetLibvirtNetwork) want = vmnet_libvirt_network_parse(xml, error);
        g_autofree char *reason = NULL;

        if (!want)
                return FALSE;
        if (!obs) {
                g_ptr_array_add(df->actions, vmnet_action_network_define(net->name, xml, NULL, NULL));
                g_ptr_array_add(df->actions, vmnet_action_network_autostart(net->name, TRUE));
                g_ptr_array_add(df->actions, vmnet_action_network_start(net->name));
                return TRUE;
        }
        if (!owned(obs, plan)) {
                if (obs->owner_plan)
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                    "%s:%u: network '%s': libvirt network '%s' belongs to vmnet "
                                    "plan '%s', not '%s'; rename the network or destroy that plan",
                                    plan_file(plan), net->line, net->name, obs->name,
                                    obs->owner_plan, plan->name);
                else
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                                    "%s:%u: network '%s': libvirt already has a network '%s' "
                                    "that vmnet did not define (on %s); vmnet never changes it: "
                                    "rename the plan's network or remove that one",
                                    plan_file(plan), net->line, net->name, obs->name,
                                    df->host->uri ? df->host->uri : "libvirt");
                return FALSE;
        }

        if ((reason = recreate_reason(obs, want))) {
                g_ptr_array_add(df->actions,
                                vmnet_action_network_recreate(
                                        net->name, xml, obs->xml, obs->active, obs->autostart,
                                        reason,
                                        obs->active ? running_ifaces_on(df, net->name, TRUE, NULL,
                                                                        obs, want)
                                                    : NULL));
        } else {
                gboolean mode = g_strcmp0(obs->owner_mode, want->owner_mode) != 0;
                gboolean redefine = mode || !same_port_vlans(obs, want);

                /* A re-define replaces the persistent port groups too: update only the live ones then. */
                diff_portgroups(df, obs, want, !redefine);
                if (redefine) {
                        g_autofree char *why =
                                mode ? g_strdup_printf("mode %s -> %s",
                                                       obs->owner_mode ? obs->owner_mode : "none",
                                                       want->owner_mode)
                                     : g_strdup("VLANs of its guest ports");

                        g_ptr_array_add(df->actions,
                                        vmnet_action_network_define(net->name, xml, obs->xml, why));
                }
        }
        if (!obs->autostart)
                g_ptr_array_add(df->actions, vmnet_action_network_autostart(net->name, TRUE));
        if (!obs->active)
                g_ptr_array_add(df->actions, vmnet_action_network_start(net->name));
        return TRUE;
}

static void remove_network(const Diff *df, const VmnetLibvirtNetwork *obs)
{
        if (obs->autostart)
                g_ptr_array_add(df->actions, vmnet_action_network_autostart(obs->name, FALSE));
        if (obs->active)
                g_ptr_array_add(df->actions, vmnet_action_network_stop(obs->name));
        if (obs->persistent)
                g_ptr_array_add(df->actions, vmnet_action_network_undefine(obs->name, obs->xml));
}

/* ------------------------------------------------------------ interfaces */

typedef enum {
        DO_NOTHING,
        DO_ATTACH,
        DO_UPDATE,
        DO_REPLACE,
} Todo;

typedef struct {
        Todo todo;
        const VmnetLibvirtIface *obs;
        const char *old_xml; /* obs as it is sent back (resend_xml()) */
        char *detail;        /* DO_UPDATE, DO_REPLACE: what changes */
        gboolean resubnet;   /* live: moved to a network of another subnet */
} Decision;

/*
 * The subnets of network name (VmnetPrefix, caller frees): the plan's, or a
 * libvirt network's own <ip> when the plan does not have it; NULL when
 * unknown (one of vmnet's networks the plan dropped, whose libvirt
 * definition carries no address).
 */
static GArray *network_subnets(const Diff *df, const char *name)
{
        const VmnetNetwork *net = vmnet_plan_find_network(df->plan, name);
        const VmnetLibvirtNetwork *l = net ? NULL : vmnet_libvirt_host_find_network(df->host, name);
        GArray *out = g_array_new(FALSE, TRUE, sizeof(VmnetPrefix));

        for (guint i = 0; net && i < net->subnets->len; i++)
                g_array_append_val(out, ((const VmnetSubnet *)g_ptr_array_index(net->subnets, i))->cidr);
        for (guint i = 0; l && l->ips && i < l->ips->len; i++)
                g_array_append_val(out, g_array_index(l->ips, VmnetLibvirtIp, i).subnet);
        if (!out->len) {
                g_array_unref(out);
                return NULL;
        }
        return out;
}

static gboolean has_prefix(const GArray *set, const VmnetPrefix *p)
{
        for (guint i = 0; i < set->len; i++) {
                const VmnetPrefix *q = &g_array_index(set, VmnetPrefix, i);

                if (q->prefix == p->prefix && vmnet_addr_equal(&q->addr, &p->addr))
                        return TRUE;
        }
        return FALSE;
}

/*
 * Does a guest moved from network a to network b keep an address that is
 * wrong on b? Only not when both are known to have the same subnets: the
 * guest keeps its lease until it renews it, and a static address never
 * changes.
 */
static gboolean another_subnet(const Diff *df, const char *a, const char *b)
{
        g_autoptr(GArray) sa = network_subnets(df, a);
        g_autoptr(GArray) sb = network_subnets(df, b);

        if (VMNET_MUTANT_IS(MOVE_SAFE))
                return FALSE;
        if (!sa || !sb || sa->len != sb->len)
                return TRUE;
        for (guint i = 0; i < sa->len; i++)
                if (!has_prefix(sb, &g_array_index(sa, VmnetPrefix, i)))
                        return TRUE;
        return FALSE;
}

/* The interface's own <bandwidth> as libvirt keeps it (see vmnet_render_bandwidth()). */
static void want_rates(const VmnetInterface *ifc, VmnetLibvirtRates *r)
{
        const VmnetBandwidth *bw = &ifc->bandwidth;

        memset(r, 0, sizeof(*r));
        if (!ifc->has_bandwidth)
                return;
        if (bw->inbound) {
                r->in_average = vmnet_rate_to_libvirt_kib(bw->inbound);
                r->in_peak = bw->inbound_peak ? vmnet_rate_to_libvirt_kib(bw->inbound_peak) : 0;
                r->in_burst = (bw->inbound_burst + 1023) / 1024;
        }
        if (bw->outbound) {
                r->out_average = vmnet_rate_to_libvirt_kib(bw->outbound);
                r->out_burst = (bw->outbound_burst + 1023) / 1024;
        }
}

/*
 * live: obs comes from the running definition, whose <bandwidth> is the
 * port's (libvirtd 9.0 shows the port group's rates there when the
 * interface has none of its own; the test driver shows none), so without
 * a rate of its own the interface also matches its group's rates as the
 * network has them now; a group whose rates change in this run re-plugs
 * its guests itself (diff_portgroups()).
 */
static void decide(const Diff *df, const VmnetInterface *ifc, const VmnetLibvirtIface *obs,
                   gboolean live, Decision *out)
{
        const VmnetNetwork *net = vmnet_plan_find_network(df->plan, ifc->network);
        const char *model = ifc->model ? ifc->model : "virtio";
        guint queues = g_str_equal(model, "virtio") ? ifc->queues : 0;
        guint mtu = net ? net->mtu : 0;
        g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
        const VmnetLibvirtNetwork *lnet;
        gboolean replug;

        out->obs = obs;
        out->detail = NULL;
        out->old_xml = obs ? resend_xml(obs, vmnet_libvirt_host_find_network(df->host,
                                                                             obs->network),
                                        live)
                           : NULL;
        if (!obs) {
                out->todo = DO_ATTACH;
                return;
        }
        /*
         * What qemu cannot change on a plugged NIC: a running guest's is
         * replugged, a persistent definition's is updated like the rest.
         */
        if (g_strcmp0(obs->type, "network") != 0)
                g_ptr_array_add(changes, g_strdup_printf("type %s -> network",
                                                         obs->type ? obs->type : "none"));
        if (g_strcmp0(obs->model, model) != 0)
                g_ptr_array_add(changes, g_strdup_printf("model %s -> %s",
                                                         obs->model ? obs->model : "default",
                                                         model));
        if (obs->queues != queues)
                g_ptr_array_add(changes, g_strdup_printf("queues %u -> %u", obs->queues, queues));
        if (obs->mtu != mtu)
                g_ptr_array_add(changes, g_strdup_printf("mtu %u -> %u", obs->mtu, mtu));
        replug = changes->len > 0;
        out->resubnet = FALSE;
        if (g_strcmp0(obs->network, ifc->network) != 0) {
                out->resubnet = another_subnet(df, obs->network, ifc->network);
                g_ptr_array_add(changes, g_strdup_printf("network %s -> %s", obs->network,
                                                         ifc->network));
        }
        /*
         * No portgroup= means the network's default group, which is what
         * an interface naming the default group explicitly gets too.
         */
        lnet = vmnet_libvirt_host_find_network(df->host, ifc->network);
        if (g_strcmp0(obs->portgroup, ifc->portgroup) != 0) {
                const VmnetPortgroup *def = net ? vmnet_network_default_portgroup(net) : NULL;
                const char *o = obs->portgroup ? obs->portgroup
                                               : (lnet ? default_pg_name(lnet->portgroups) : NULL);
                const char *w = ifc->portgroup ? ifc->portgroup : (def ? def->name : NULL);

                if (g_strcmp0(o, w) != 0 || g_strcmp0(obs->network, ifc->network) != 0)
                        g_ptr_array_add(changes,
                                        g_strdup_printf("portgroup %s -> %s",
                                                        obs->portgroup ? obs->portgroup : "default",
                                                        ifc->portgroup ? ifc->portgroup : "default"));
        }
        {
                VmnetLibvirtRates want;
                gboolean same;

                want_rates(ifc, &want);
                same = vmnet_libvirt_rates_equal(&obs->rates, &want);

                if (!same && live && !ifc->has_bandwidth && lnet) {
                        const char *pg = ifc->portgroup ? ifc->portgroup
                                                        : default_pg_name(lnet->portgroups);
                        const VmnetLibvirtPortgroup *g = pg ? find_pg(lnet->portgroups, pg) : NULL;

                        same = g && vmnet_libvirt_rates_equal(&obs->rates, &g->rates);
                }
                if (!same) {
                        g_autofree char *what = vmnet_libvirt_rates_change(&obs->rates, &want);

                        g_ptr_array_add(changes, what ? g_strdup_printf("bandwidth: %s", what)
                                                      : g_strdup("bandwidth"));
                }
        }
        if (!changes->len) {
                out->todo = DO_NOTHING;
                return;
        }
        g_ptr_array_add(changes, NULL);
        out->todo = replug && live ? DO_REPLACE : DO_UPDATE;
        out->detail = g_strjoinv(", ", (char **)changes->pdata);
}

/* Per domain: detaches first (they free PCI slots), then updates, then attaches. */
typedef struct {
        GPtrArray *detach;
        GPtrArray *update;
        GPtrArray *attach;
} DomainActions;

static void domain_actions_init(DomainActions *da)
{
        da->detach = vmnet_action_list_new();
        da->update = vmnet_action_list_new();
        da->attach = vmnet_action_list_new();
}

static void domain_actions_flush(DomainActions *da, GPtrArray *actions)
{
        GPtrArray *lists[] = { da->detach, da->update, da->attach };

        for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
                /* actions NULL: drop them (the diff failed). */
                for (guint i = 0; actions && i < lists[l]->len; i++)
                        g_ptr_array_add(actions, g_steal_pointer(&lists[l]->pdata[i]));
                g_ptr_array_unref(lists[l]);
        }
}

/*
 * Emits the actions of one decision for the scopes in flags. A replug
 * (DO_REPLACE, live) also updates the persistent definition when conf is
 * its decision (DO_UPDATE), in the same action.
 */
static void emit(DomainActions *da, const char *domain, const char *mac, const char *network,
                 const char *xml, const Decision *dec, guint flags, const VmnetPortVlans *vlans,
                 const Decision *conf)
{
        GPtrArray *to = dec->todo == DO_ATTACH ? da->attach : da->update;

        switch (dec->todo) {
        case DO_NOTHING:
                break;
        case DO_ATTACH:
                g_ptr_array_add(da->attach,
                                vmnet_action_iface_attach(domain, mac, network, xml, flags));
                break;
        case DO_UPDATE: {
                /* What a running guest experiences: its address no longer fits. */
                gboolean cut = dec->resubnet && (flags & VIR_DOMAIN_AFFECT_LIVE);
                g_autofree char *detail =
                        cut ? g_strdup_printf("%s; another subnet: the running guest keeps its old "
                                              "address until it renews its lease",
                                              dec->detail)
                            : g_strdup(dec->detail);

                g_ptr_array_add(da->update, vmnet_action_iface_update(domain, mac, network, xml,
                                                                      dec->old_xml, flags, detail));
                if (cut)
                        ((VmnetAction *)g_ptr_array_index(da->update, da->update->len - 1))
                                ->impact = VMNET_IMPACT_DISRUPTIVE;
                break;
        }
        case DO_REPLACE:
                /* After the detaches, which free PCI slots. */
                g_ptr_array_add(da->update,
                                vmnet_action_iface_replug(domain, mac, network, xml, dec->old_xml,
                                                          conf ? conf->old_xml : NULL,
                                                          dec->detail));
                break;
        }
        /* The running guest's port, plugged by this action, goes into its VLAN. */
        if (dec->todo != DO_NOTHING && (flags & VIR_DOMAIN_AFFECT_LIVE))
                vmnet_action_iface_place(g_ptr_array_index(to, to->len - 1), vlans);
}

/*
 * Can one action change the interface in both the running guest and its
 * persistent definition? Only when both have it in the same PCI slot
 * (or neither has it): libvirt looks for the XML's address in both, and
 * an owner's config-only NIC can have moved the persistent one.
 */
static gboolean same_slot(const VmnetLibvirtIface *live, const VmnetLibvirtIface *conf)
{
        return !live || !conf || g_strcmp0(live->address, conf->address) == 0;
}

static gboolean foreign_conflict(const Diff *df, const VmnetDomain *d, const VmnetInterface *ifc,
                                 const VmnetLibvirtIface *obs, GError **error)
{
        g_autofree char *mac = NULL;

        if (!obs || iface_is_ours(obs, df->plan))
                return FALSE;
        mac = vmnet_mac_to_string(&ifc->mac);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                    "%s:%u: domain '%s': it already has an interface with MAC %s that vmnet did "
                    "not attach%s%s%s; vmnet never changes it: remove it from the domain or give "
                    "the plan's interface another mac=",
                    plan_file(df->plan), ifc->line, d->name, mac, obs->alias ? " (alias " : "",
                    obs->alias ? obs->alias : "", obs->alias ? ")" : "");
        return TRUE;
}

static gboolean plan_has_mac(const VmnetDomain *d, const VmnetMac *mac)
{
        for (guint i = 0; d && i < d->interfaces->len; i++) {
                const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, i);

                if (vmnet_mac_equal(&ifc->mac, mac))
                        return TRUE;
        }
        return FALSE;
}

/* Detaches vmnet's interfaces of this plan that plan domain d (NULL: not in the plan) no longer lists. */
static void diff_stale(const Diff *df, const VmnetLibvirtDomain *hd, const VmnetDomain *d,
                       DomainActions *da)
{
        const GPtrArray *scopes[2] = { hd->active ? hd->live : NULL,
                                       hd->persistent ? hd->config : NULL };
        const guint flags[2] = { VIR_DOMAIN_AFFECT_LIVE, VIR_DOMAIN_AFFECT_CONFIG };

        for (guint s = 0; s < 2; s++) {
                for (guint i = 0; scopes[s] && i < scopes[s]->len; i++) {
                        const VmnetLibvirtIface *f = g_ptr_array_index(scopes[s], i);
                        const VmnetLibvirtIface *in_config = NULL;
                        g_autofree char *mac = NULL;
                        guint fl = flags[s];

                        if (!iface_is_ours(f, df->plan) || !f->has_mac || plan_has_mac(d, &f->mac))
                                continue;
                        if (s == 0 && scopes[1])
                                in_config = vmnet_libvirt_ifaces_find_mac(scopes[1], &f->mac);
                        /* Handled with the live one when both are in the same slot. */
                        if (s == 1 && scopes[0]) {
                                const VmnetLibvirtIface *l =
                                        vmnet_libvirt_ifaces_find_mac(scopes[0], &f->mac);

                                if (l && same_slot(l, f))
                                        continue;
                        }
                        if (in_config && same_slot(f, in_config))
                                fl |= VIR_DOMAIN_AFFECT_CONFIG;
                        mac = vmnet_mac_to_string(&f->mac);
                        g_ptr_array_add(da->detach,
                                        vmnet_action_iface_detach(
                                                hd->name, mac, f->network,
                                                resend_xml(f,
                                                           vmnet_libvirt_host_find_network(
                                                                   df->host, f->network),
                                                           s == 0),
                                                fl));
                }
        }
}

static gboolean diff_domain(const Diff *df, const VmnetDomain *d, const VmnetLibvirtDomain *hd,
                            GError **error)
{
        DomainActions da;

        domain_actions_init(&da);
        diff_stale(df, hd, d, &da);
        for (guint i = 0; d && i < d->interfaces->len; i++) {
                const VmnetInterface *ifc = g_ptr_array_index(d->interfaces, i);
                g_autofree char *xml = vmnet_render_domain_interface(df->plan, d, ifc);
                g_autofree char *mac = vmnet_mac_to_string(&ifc->mac);
                const VmnetLibvirtIface *live = hd->active
                                                        ? vmnet_libvirt_ifaces_find_mac(hd->live,
                                                                                        &ifc->mac)
                                                        : NULL;
                const VmnetLibvirtIface *conf =
                        hd->persistent ? vmnet_libvirt_ifaces_find_mac(hd->config, &ifc->mac)
                                       : NULL;
                Decision dl = { 0 }, dc = { 0 };
                const VmnetNetwork *net = vmnet_plan_find_network(df->plan, ifc->network);
                VmnetPortVlans vlans;

                if (net)
                        vmnet_network_port_vlans(net, ifc->portgroup, &vlans);
                else
                        vmnet_port_vlans_access(&vlans, 0);
                if (foreign_conflict(df, d, ifc, live, error) ||
                    foreign_conflict(df, d, ifc, conf, error)) {
                        domain_actions_flush(&da, NULL);
                        return FALSE;
                }
                char tap[VMNET_IFNAMSIZ];
                gboolean live_named;
                g_autofree char *xml_untargeted = NULL;

                /*
                 * A running NIC plugged under another tap name (vnetN,
                 * before vmnet named taps) is not replugged just for the
                 * name: libvirt refuses to rename a running tap, so a live
                 * update leaves <target> out, and the port stays outside
                 * the anti-spoofing sets until its next replug or restart
                 * (doctor reports it). Its persistent definition gets the
                 * name whenever vmnet updates it anyway.
                 */
                vmnet_tap_name(&ifc->mac, tap);
                live_named = !live || g_strcmp0(live->target, tap) == 0;
                if (!live_named)
                        xml_untargeted = vmnet_render_domain_interface_full(df->plan, d, ifc,
                                                                            FALSE);
                if (hd->active)
                        decide(df, ifc, live, TRUE, &dl);
                if (hd->persistent)
                        decide(df, ifc, conf, FALSE, &dc);
                if (hd->active && hd->persistent && dl.todo == DO_REPLACE &&
                    dc.todo == DO_UPDATE) {
                        emit(&da, d->name, mac, ifc->network, xml, &dl,
                             VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, &vlans, &dc);
                } else if (hd->active && hd->persistent && dl.todo == dc.todo &&
                           (live_named || dl.todo != DO_UPDATE) &&
                           g_strcmp0(dl.detail, dc.detail) == 0 && same_slot(live, conf)) {
                        emit(&da, d->name, mac, ifc->network, xml, &dl,
                             VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, &vlans, NULL);
                } else {
                        if (hd->active)
                                emit(&da, d->name, mac, ifc->network,
                                     dl.todo == DO_UPDATE && xml_untargeted ? xml_untargeted : xml,
                                     &dl, VIR_DOMAIN_AFFECT_LIVE, &vlans, NULL);
                        if (hd->persistent)
                                emit(&da, d->name, mac, ifc->network, xml, &dc,
                                     VIR_DOMAIN_AFFECT_CONFIG, &vlans, NULL);
                }
                g_free(dl.detail);
                g_free(dc.detail);
        }
        domain_actions_flush(&da, df->actions);
        return TRUE;
}

/* ------------------------------------------------------------ entry points */

static gboolean check_domains_exist(const Diff *df, GError **error)
{
        g_autoptr(GString) missing = g_string_new(NULL);

        for (guint i = 0; i < df->plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(df->plan->domains, i);

                if (vmnet_libvirt_host_find_domain(df->host, d->name))
                        continue;
                g_string_append_printf(missing, "%s%s:%u: domain '%s' does not exist in libvirt (%s)",
                                       missing->len ? "\n" : "", plan_file(df->plan), d->line,
                                       d->name, df->host->uri ? df->host->uri : "?");
        }
        if (!missing->len)
                return TRUE;
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                    "%s\nvmnet attaches interfaces to existing domains only: define the domain "
                    "first, or remove it from the plan",
                    missing->str);
        return FALSE;
}

gboolean vmnet_diff_libvirt(const VmnetPlan *plan, const VmnetLibvirtHost *host,
                            GPtrArray *actions, VmnetDiags *warnings, GError **error)
{
        g_autoptr(GPtrArray) out = vmnet_action_list_new();
        Diff df = { .plan = plan, .host = host, .actions = out, .warnings = warnings };

        if (!check_domains_exist(&df, error))
                return FALSE;
        for (guint i = 0; i < plan->networks->len; i++)
                if (!diff_network(&df, g_ptr_array_index(plan->networks, i), error))
                        return FALSE;
        for (guint i = 0; i < plan->domains->len; i++) {
                const VmnetDomain *d = g_ptr_array_index(plan->domains, i);

                if (!diff_domain(&df, d, vmnet_libvirt_host_find_domain(host, d->name), error))
                        return FALSE;
        }
        for (guint i = 0; i < host->domains->len; i++) {
                const VmnetLibvirtDomain *hd = g_ptr_array_index(host->domains, i);

                if (!vmnet_plan_find_domain(plan, hd->name) && !diff_domain(&df, NULL, hd, error))
                        return FALSE;
        }
        for (guint i = 0; i < host->networks->len; i++) {
                const VmnetLibvirtNetwork *n = g_ptr_array_index(host->networks, i);

                if (owned(n, plan) && !vmnet_plan_find_network(plan, n->name))
                        remove_network(&df, n);
        }
        for (guint i = 0; i < out->len; i++)
                g_ptr_array_add(actions, g_steal_pointer(&out->pdata[i]));
        g_ptr_array_set_free_func(out, NULL);
        return TRUE;
}

gboolean vmnet_diff_libvirt_destroy(const char *plan_name, const VmnetLibvirtHost *host,
                                    GPtrArray *actions, VmnetDiags *warnings, GError **error)
{
        /* Destroying is applying a plan with nothing in it. */
        g_autoptr(VmnetPlan) empty = vmnet_plan_new(NULL);

        empty->name = g_strdup(plan_name);
        return vmnet_diff_libvirt(empty, host, actions, warnings, error);
}
