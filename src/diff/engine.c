/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <unistd.h>

#include "backend/dnsmasq/dnsmasq.h"
#include "diff/dnsmasq.h"
#include "diff/engine.h"
#include "diff/guest-ports.h"
#include "diff/mirrors.h"
#include "diff/guest-starts.h"
#include "diff/guest-taps.h"
#include "diff/foreign-users.h"
#include "diff/forwarding-users.h"
#include "diff/subnet-conflicts.h"
#include "actions/kernel.h"
#include "actions/libvirt.h"
#include "backend/libvirt/ops.h"
#include "diff/libvirt.h"
#include "backend/nftables/ir.h"
#include "util/mutant.h"
#include "actions/nft.h"

#define STATE_GROUP "vmnet"
/* The table comment vmnet_nft_ir_from_plan() writes. */
#define VMNET_NFT_OWNER_PREFIX "managed by vmnet plan "

void vmnet_observed_free(VmnetObserved *obs)
{
        if (!obs)
                return;
        g_free(obs->plan_name);
        g_free(obs->plan_file);
        g_free(obs->netns);
        vmnet_host_free(obs->host);
        vmnet_nft_observed_free(obs->nft);
        if (obs->nft_snap)
                vmnet_nft_snapshot_unref(obs->nft_snap);
        vmnet_state_free(obs->state);
        vmnet_foreign_state_free(obs->foreign);
        vmnet_pending_free(obs->pending);
        vmnet_libvirt_host_free(obs->virt);
        vmnet_ipam_free(obs->ipam);
        vmnet_unplugs_free(obs->unplugs);
        if (obs->held)
                g_ptr_array_unref(obs->held);
        g_free(obs);
}

VmnetObserved *vmnet_engine_observe(VmnetApplyCtx *ctx, const char *plan_name, const char *netns,
                                    GError **error)
{
        g_autoptr(VmnetObserved) obs = g_new0(VmnetObserved, 1);

        obs->plan_name = g_strdup(plan_name);
        obs->netns = g_strdup(netns);
        if (!vmnet_observe_host(&obs->host, error))
                return NULL;
        /* One dump serves both: what the table holds, and how to put it back. */
        if (!(obs->nft_snap = vmnet_nft_snapshot_take(ctx->nft, error)))
                return NULL;
        obs->nft = vmnet_nft_observed_from_snapshot(obs->nft_snap);
        if (!(obs->state = vmnet_state_load(plan_name, netns, error)))
                return NULL;
        if (!(obs->foreign = vmnet_foreign_state_from_keyfile(obs->state->kf, error)))
                return NULL;
        if (!(obs->pending = vmnet_pending_load(plan_name, netns, error)))
                return NULL;
        if (g_hash_table_size(obs->pending->names))
                obs->foreign->interrupted = g_hash_table_ref(obs->pending->names);
        if (ctx->virt && !vmnet_libvirt_observe(ctx->virt, &obs->virt, error))
                return NULL;
        if (!(obs->unplugs = vmnet_unplugs_load(plan_name, netns, error)))
                return NULL;
        obs->held = g_ptr_array_new_with_free_func(g_free);
        return g_steal_pointer(&obs);
}

/* vmnet owns table inet vmnet for one plan; another plan's table is not ours to replace. */
static gboolean check_table_owner(const VmnetObserved *obs, GError **error)
{
        g_autofree char *mine = NULL;

        if (!obs->nft->exists || !obs->nft->comment)
                return TRUE;
        mine = g_strdup_printf(VMNET_NFT_OWNER_PREFIX "%s", obs->plan_name);
        if (g_str_has_prefix(obs->nft->comment, VMNET_NFT_OWNER_PREFIX) &&
            !g_str_equal(obs->nft->comment, mine)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                            "table inet vmnet belongs to another plan (\"%s\"); destroy that plan "
                            "first: one plan per host (or network namespace)",
                            obs->nft->comment);
                return FALSE;
        }
        return TRUE;
}

/* Others' guests and networks on vmnet's networks and bridges: named, left alone. */
static void warn_foreign_users(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                               VmnetDiags *warnings)
{
        g_autoptr(GPtrArray) bridges = vmnet_plan_bridges(plan);
        g_autoptr(GArray) users = vmnet_foreign_users(plan->name, bridges, virt);

        for (guint i = 0; i < users->len; i++) {
                g_autofree char *d = vmnet_foreign_user_describe(
                        &g_array_index(users, VmnetForeignUser, i));

                vmnet_diags_add(warnings, "libvirt", 0,
                                "%s, which vmnet does not manage: vmnet leaves it alone, and "
                                "destroy refuses to remove what it uses (unless --force)",
                                d);
        }
}

/*
 * destroy removes vmnet's libvirt networks and deletes its bridges: what
 * others have on them would break. Refused unless force; then each is a
 * warning.
 */
static gboolean check_destroy_users(const VmnetObserved *obs, const GPtrArray *actions,
                                    gboolean force, VmnetDiags *warnings, GError **error)
{
        g_autoptr(GPtrArray) bridges = g_ptr_array_new();
        g_autoptr(GArray) users = NULL;
        g_autoptr(GString) s = g_string_new(NULL);

        if (!obs->virt)
                return TRUE;
        for (guint i = 0; i < actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                const VmnetLinkSpec *spec = a->data;

                if (a->type == &vmnet_action_type_link_delete && spec->kind == VMNET_LINK_KIND_BRIDGE)
                        g_ptr_array_add(bridges, spec->name);
        }
        users = vmnet_foreign_users(obs->plan_name, bridges, obs->virt);
        for (guint i = 0; i < users->len; i++) {
                const VmnetForeignUser *u = &g_array_index(users, VmnetForeignUser, i);
                g_autofree char *d = vmnet_foreign_user_describe(u);
                g_autofree char *b = vmnet_foreign_user_breaks(u);

                if (force)
                        vmnet_diags_add(warnings, "libvirt", 0, "%s, which vmnet does not manage: "
                                        "%s (--force)", d, b);
                else
                        g_string_append_printf(s, "\n  %s: %s", d, b);
        }
        if (!s->len)
                return TRUE;
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_CONFLICT,
                    "destroy of plan '%s' would break what vmnet does not manage:%s\nmove them "
                    "off vmnet's networks and bridges first (virsh detach-interface, virsh "
                    "net-destroy), or run destroy --force",
                    obs->plan_name, s->str);
        return FALSE;
}

gboolean vmnet_engine_ipam(const VmnetPlan *plan, VmnetState *state, const char *netns,
                           VmnetIpam **out, GError **error)
{
        g_autoptr(VmnetState) own = NULL;
        /* No address goes to a new guest while a lease for it is live (dnsmasq's lease files). */
        g_autoptr(GHashTable) leases = vmnet_dnsmasq_read_plan_leases(plan, netns);

        if (!state && !(state = own = vmnet_state_load(plan->name, netns, error)))
                return FALSE;
        return vmnet_ipam_assign_full(plan, state, leases, g_get_real_time() / G_USEC_PER_SEC, out,
                                      error);
}

gboolean vmnet_engine_ipam_fresh(const VmnetPlan *plan, VmnetIpam **out, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        VmnetState empty = { .path = NULL, .kf = kf };

        return vmnet_ipam_assign(plan, &empty, out, error);
}

/* Guest ports whose IPv4 sources table bridge vmnet cannot check, and why (for `vmnet plan`). */
static void warn_unbound_ports(const VmnetPlan *plan, const VmnetIpam *ipam, VmnetDiags *warnings)
{
        g_autoptr(GArray) unbound = vmnet_nft_unbound_ip4_ports(plan, ipam);

        for (guint i = 0; i < unbound->len; i++) {
                const VmnetUnboundPort *u = &g_array_index(unbound, VmnetUnboundPort, i);
                g_autofree char *mac = vmnet_mac_to_string(&u->iface->mac);

                vmnet_diags_add(warnings, plan->file, u->iface->line,
                                "interface %s of domain %s on network '%s': ip-spoofing is denied "
                                "but its IPv4 and ARP sources are not checked: %s",
                                mac, u->domain->name, u->network->name, u->why);
        }
}

static char *iso_time(gint64 t)
{
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);

        return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

/*
 * An unplug vmnet already asked of this running guest, which has not
 * released the interface: not asked again (a guest without an OS never
 * answers, one with an OS has it queued), and no change left for vmnet;
 * each is said instead, in obs->held.
 */
static void hold_pending_unplugs(VmnetObserved *obs, GPtrArray *actions)
{
        for (guint i = 0; obs->virt && i < actions->len;) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                const VmnetLibvirtDomain *d;
                const char *domain, *mac;
                g_autofree char *at = NULL;
                gboolean replug;
                gint64 t;

                if (!vmnet_action_iface_unplug_target(a, &domain, &mac) ||
                    !(d = vmnet_libvirt_host_find_domain(obs->virt, domain)) || !d->active ||
                    !(t = vmnet_unplugs_requested(obs->unplugs, domain, mac, d->id))) {
                        i++;
                        continue;
                }
                replug = !vmnet_action_is_pending_unplug(a);
                at = iso_time(t);
                g_ptr_array_add(obs->held,
                                g_strdup_printf("interface %s of domain %s: unplug requested at %s, "
                                                "the guest has not released it; %s (not requested "
                                                "again: nothing for vmnet to do until then)",
                                                mac, domain, at,
                                                replug ? "the guest gets the new interface when it "
                                                         "restarts (its persistent definition has "
                                                         "it), or at the next apply once it "
                                                         "releases the old one"
                                                       : "it goes when the guest restarts or "
                                                         "acknowledges"));
                g_ptr_array_remove_index(actions, i);
        }
}

/* Does the running guest (still the same) have the interface whose unplug was recorded? */
static gboolean unplug_still_pending(const char *domain, const char *mac, guint id, gpointer data)
{
        const VmnetLibvirtHost *virt = data;
        const VmnetLibvirtDomain *d = vmnet_libvirt_host_find_domain(virt, domain);
        VmnetMac m;

        return d && d->active && d->id == id && vmnet_mac_parse(mac, &m) &&
               vmnet_libvirt_ifaces_find_mac(d->live, &m);
}

/*
 * After the steps ran (whether or not they all stood): the unplugs they
 * asked that guests had not acknowledged are recorded, the records of
 * those that are over dropped. Best effort: without the record, the next
 * run asks again.
 */
static void record_unplugs(VmnetRun *run)
{
        VmnetObserved *obs = run->obs;
        GPtrArray *reqs = run->ctx.unplugs;
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        g_autoptr(GError) e = NULL;

        if (!obs->virt)
                return;
        vmnet_unplugs_prune(obs->unplugs, unplug_still_pending, obs->virt);
        for (guint i = 0; reqs && i < reqs->len; i++) {
                const VmnetUnplugRequest *r = g_ptr_array_index(reqs, i);

                vmnet_unplugs_note(obs->unplugs, r->domain, r->mac, r->id, now);
        }
        if (!vmnet_unplugs_save(obs->unplugs, &e))
                vmnet_diags_add(run->warnings, "libvirt", 0,
                                "could not record the unplugs guests have not acknowledged: %s",
                                e->message);
}

/*
 * A plan subnet that an active libvirt network of someone else's already
 * has: refused before anything changes; an inactive one is a warning
 * (diff/subnet-conflicts.h).
 */
static gboolean check_subnet_conflicts(const VmnetPlan *plan, const VmnetLibvirtHost *virt,
                                       VmnetDiags *warnings, GError **error)
{
        g_autoptr(GArray) conflicts = vmnet_subnet_conflicts(plan, virt);
        g_autoptr(GString) s = g_string_new(NULL);
        const char *file = plan->file ? plan->file : "plan";

        for (guint i = 0; i < conflicts->len; i++) {
                const VmnetSubnetConflict *c = &g_array_index(conflicts, VmnetSubnetConflict, i);
                g_autofree char *d = vmnet_subnet_conflict_describe(c, file);
                g_autofree char *fix = vmnet_subnet_conflict_fix(c, file);

                if (!c->other->active) {
                        if (warnings)
                                vmnet_diags_add(warnings, "libvirt", 0, "%s; %s", d, fix);
                        continue;
                }
                g_string_append_printf(s, "%s%s; %s", s->len ? "\n" : "", d, fix);
        }
        if (!s->len || VMNET_MUTANT_IS(LIBVIRT_SUBNET))
                return TRUE;
        g_set_error_literal(error, VMNET_ERROR, VMNET_ERROR_CONFLICT, s->str);
        return FALSE;
}

gboolean vmnet_engine_diff(const VmnetPlan *plan, VmnetObserved *obs, GPtrArray *actions,
                           VmnetDiags *warnings, GError **error)
{
        g_autoptr(VmnetNftIr) ir = NULL;
        g_autoptr(GPtrArray) bridges = NULL;

        if (!check_table_owner(obs, error))
                return FALSE;
        if (obs->virt && !check_subnet_conflicts(plan, obs->virt, warnings, error))
                return FALSE;
        g_free(obs->plan_file);
        /* Only a real file: not "<stdin>", nor the Ansible module's "<content>". */
        obs->plan_file = g_file_test(plan->file, G_FILE_TEST_IS_REGULAR)
                                 ? g_canonicalize_filename(plan->file, NULL)
                                 : NULL;
        if (!vmnet_diff_links(plan, obs->host, obs->foreign, actions, warnings, error))
                return FALSE;
        bridges = vmnet_plan_bridges(plan);
        vmnet_keep_needed_forwarding(plan->name, bridges, obs->foreign, obs->host, obs->virt,
                                     actions, warnings);
        /*
         * The table last: its rules name bridges, so it is loaded once they
         * exist. The comparison is against the kernel, not the state file, so
         * `nft flush ruleset` or a hand edit is drift that apply repairs.
         */
        g_clear_pointer(&obs->ipam, vmnet_ipam_free);
        if (!vmnet_engine_ipam(plan, obs->state, obs->netns, &obs->ipam, error))
                return FALSE;
        warn_unbound_ports(plan, obs->ipam, warnings);
        ir = vmnet_nft_ir_from_plan(plan, obs->ipam);
        if (!vmnet_nft_observed_matches(obs->nft, ir))
                g_ptr_array_add(actions, vmnet_action_nft_replace_new(g_steal_pointer(&ir),
                                                                      obs->nft_snap));
        /* libvirt networks and vmnet's dnsmasq need the bridges to exist. */
        if (obs->virt && !vmnet_diff_libvirt(plan, obs->virt, actions, warnings, error))
                return FALSE;
        if (obs->virt)
                warn_foreign_users(plan, obs->virt, warnings);
        /* Taps left on no bridge by a bridge deleted under them go back, then into their VLAN. */
        if (obs->virt)
                vmnet_diff_guest_taps(plan, obs->virt, obs->host, actions);
        if (obs->virt)
                vmnet_diff_guest_ports(plan, obs->virt, obs->host, actions);
        /* Mirrors once the ports are on their bridges (diff/mirrors.h). */
        vmnet_diff_mirrors(plan, obs->virt, obs->host, actions, warnings);
        hold_pending_unplugs(obs, actions);
        for (guint i = 0; warnings && i < obs->held->len; i++)
                vmnet_diags_add(warnings, "libvirt", 0, "%s",
                                (const char *)g_ptr_array_index(obs->held, i));
        if (!vmnet_diff_dnsmasq(plan, obs->ipam, obs->netns, actions, error))
                return FALSE;
        /* Last: guests whose autostart failed on a missing bridge start with everything there. */
        if (obs->virt)
                vmnet_diff_guest_starts(plan, obs->virt, actions, warnings);
        return TRUE;
}

gboolean vmnet_engine_diff_destroy(VmnetObserved *obs, GPtrArray *actions, VmnetDiags *warnings,
                                   GError **error)
{
        if (!check_table_owner(obs, error))
                return FALSE;
        /* The port mirrors first: a copy to a port about to go is a copy to nowhere. */
        vmnet_diff_mirrors_destroy(obs->host, actions);
        /* What uses the bridges goes first: libvirt's networks and interfaces, dnsmasq. */
        if (obs->virt && !vmnet_diff_libvirt_destroy(obs->plan_name, obs->virt, actions, warnings,
                                                     error))
                return FALSE;
        hold_pending_unplugs(obs, actions);
        for (guint i = 0; warnings && i < obs->held->len; i++)
                vmnet_diags_add(warnings, "libvirt", 0, "%s",
                                (const char *)g_ptr_array_index(obs->held, i));
        if (!vmnet_diff_dnsmasq_destroy(obs->plan_name, obs->netns, actions, error))
                return FALSE;
        /* Rules, then the links they name. */
        if (obs->nft->exists)
                g_ptr_array_add(actions, vmnet_action_nft_delete_new(obs->nft_snap));
        if (!vmnet_diff_links_destroy(obs->plan_name, obs->host, obs->foreign, actions, warnings,
                                      error))
                return FALSE;
        vmnet_keep_needed_forwarding(obs->plan_name, NULL, obs->foreign, obs->host, obs->virt,
                                     actions, warnings);
        return TRUE;
}

gboolean vmnet_engine_record_ahead(VmnetObserved *obs, const GPtrArray *actions,
                                   gboolean destroy, GError **error)
{
        g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func(g_free);

        if (!destroy) {
                vmnet_foreign_state_record(obs->foreign, actions);
                vmnet_foreign_state_to_keyfile(obs->foreign, obs->state->kf);
                g_key_file_set_string(obs->state->kf, STATE_GROUP, "plan", obs->plan_name);
                if (obs->plan_file)
                        g_key_file_set_string(obs->state->kf, STATE_GROUP, "file",
                                              obs->plan_file);
                if (obs->netns)
                        g_key_file_set_string(obs->state->kf, STATE_GROUP, "netns", obs->netns);
        }
        for (guint i = 0; i < actions->len; i++)
                g_ptr_array_add(steps, vmnet_action_describe(g_ptr_array_index(actions, i)));
        vmnet_state_transaction_begin(obs->state, destroy ? "destroy" : "apply", steps);
        if (VMNET_MUTANT_IS(RECORD_LATE))
                return TRUE;
        return vmnet_state_save(obs->state, error);
}

VmnetObserved *vmnet_engine_verify(VmnetApplyCtx *ctx, const VmnetPlan *plan, const char *netns,
                                   gboolean destroyed, VmnetDiags *warnings, GError **error)
{
        g_autoptr(VmnetObserved) obs = vmnet_engine_observe(ctx, plan->name, netns, error);
        g_autoptr(GPtrArray) left = vmnet_action_list_new();
        g_autoptr(VmnetDiags) ignored = vmnet_diags_new();
        g_autoptr(GString) s = g_string_new("the host did not reach the planned state; still to do:");
        guint n = 0;

        if (!obs)
                return NULL;
        if (!(destroyed ? vmnet_engine_diff_destroy(obs, left, ignored, error)
                        : vmnet_engine_diff(plan, obs, left, ignored, error)))
                return NULL;
        /* What this run asked and the guests have not done yet: said, not a failure. */
        for (guint i = 0; i < obs->held->len; i++)
                vmnet_diags_add(warnings, "libvirt", 0, "%s",
                                (const char *)g_ptr_array_index(obs->held, i));
        for (guint i = 0; i < left->len; i++) {
                const VmnetAction *a = g_ptr_array_index(left, i);
                g_autofree char *d = vmnet_action_describe(a);

                if (vmnet_action_is_pending_unplug(a)) {
                        vmnet_diags_add(warnings, "libvirt", 0,
                                        "%s: requested; the guest has not released it yet", d);
                        continue;
                }
                g_string_append_printf(s, "\n  %s", d);
                n++;
        }
        if (n) {
                g_set_error_literal(error, VMNET_ERROR, VMNET_ERROR_FAILED, s->str);
                return NULL;
        }
        return g_steal_pointer(&obs);
}

gboolean vmnet_engine_connect_libvirt(VmnetApplyCtx *ctx, const char *uri, const char *netns,
                                      gboolean no_libvirt, GError **error)
{
        g_autoptr(GError) e = NULL;

        if (no_libvirt || (netns && !uri))
                return TRUE;
        ctx->virt = vmnet_libvirt_connect(uri, &e);
        if (!ctx->virt) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_LIBVIRT,
                            "libvirt (%s): %s (--no-libvirt manages only bridges, VLANs and "
                            "nftables)",
                            uri ? uri : "qemu:///system", e->message);
                return FALSE;
        }
        return TRUE;
}

void vmnet_engine_warn_foreign_drops(VmnetApplyCtx *ctx, VmnetDiags *warnings)
{
        g_autoptr(GError) e = NULL;
        g_autoptr(GPtrArray) chains = vmnet_nft_foreign_drops(ctx->nft, &e);

        if (!chains) {
                vmnet_diags_add(warnings, "nftables", 0, "could not list other tables: %s",
                                e->message);
                return;
        }
        for (guint i = 0; i < chains->len; i++) {
                g_autofree char *d = vmnet_nft_foreign_chain_describe(g_ptr_array_index(chains, i));

                vmnet_diags_add(warnings, "nftables", 0,
                                "%s may drop traffic that vmnet accepts: a packet must be accepted "
                                "by every base chain at a hook (see vmnet doctor)",
                                d);
        }
}

/*
 * A run killed midway (SIGKILL, power loss) left its transaction in the
 * record: this run starts from what it finds on the host, with the
 * originals that run recorded ahead. Said, so the admin knows why.
 */
static gboolean warn_run_left(const VmnetObserved *obs, VmnetDiags *warnings)
{
        g_autofree char *command = NULL;
        int pid;
        gint64 started;
        guint steps;
        g_autoptr(GDateTime) t = NULL;
        g_autofree char *when = NULL;

        if (!vmnet_state_transaction_left(obs->state, &command, &pid, &started, &steps))
                return FALSE;
        t = g_date_time_new_from_unix_local(started);
        when = t ? g_date_time_format(t, "%F %T") : g_strdup("?");
        vmnet_diags_add(warnings, obs->state->path, 0,
                        "the %s of plan '%s' by pid %d (started %s, %u steps) did not finish "
                        "(killed, or the power failed): this run goes on from what is on the "
                        "host, and keeps the original values that run recorded",
                        command, obs->plan_name, pid, when, steps);
        return TRUE;
}

/*
 * After the diff: when nothing is left to do, the killed run had done all
 * its steps; its record is closed now (a destroy's removed), and its list of
 * links being created goes. Otherwise the commit closes both.
 */
static gboolean close_run_left(VmnetRun *run, const VmnetRunOpts *o, GError **error)
{
        VmnetState *st = run->obs->state;

        if (run->actions->len)
                return TRUE;
        if (o->destroy) {
                if (!vmnet_state_remove(st, error))
                        return FALSE;
        } else {
                vmnet_state_transaction_end(st);
                if (!vmnet_state_save(st, error))
                        return FALSE;
        }
        return vmnet_pending_done(run->obs->pending, TRUE, FALSE, error);
}

void vmnet_run_clear(VmnetRun *run)
{
        vmnet_apply_ctx_close(&run->ctx);
        g_clear_pointer(&run->ctx.virt, vmnet_libvirt_close);
        g_clear_pointer(&run->obs, vmnet_observed_free);
        g_clear_pointer(&run->after, vmnet_observed_free);
        g_clear_pointer(&run->actions, g_ptr_array_unref);
        g_clear_pointer(&run->warnings, vmnet_diags_free);
        if (run->lock >= 0)
                close(run->lock);
        run->lock = -1;
}

gboolean vmnet_engine_prepare(VmnetRun *run, const VmnetPlan *plan, const VmnetRunOpts *o,
                              GError **error)
{
        gboolean left;

        run->ctx.plan = plan;
        run->ctx.unplug_timeout = o->unplug_timeout;
        run->actions = vmnet_action_list_new();
        run->warnings = vmnet_diags_new();
        if (o->netns && !vmnet_netns_enter(o->netns, error))
                return FALSE;
        run->lock = vmnet_lock_take(o->netns, o->wait, error);
        if (run->lock < 0)
                return FALSE;
        /* Under the lock: no other run is writing one of them. */
        vmnet_state_clean_temporaries(o->netns);
        if (!vmnet_apply_ctx_open(&run->ctx, error) ||
            !vmnet_engine_connect_libvirt(&run->ctx, o->connect, o->netns, o->no_libvirt, error) ||
            !(run->obs = vmnet_engine_observe(&run->ctx, plan->name, o->netns, error)))
                return FALSE;
        left = warn_run_left(run->obs, run->warnings);
        if (o->destroy) {
                if (!vmnet_engine_diff_destroy(run->obs, run->actions, run->warnings, error) ||
                    !check_destroy_users(run->obs, run->actions, o->force, run->warnings, error))
                        return FALSE;
        } else {
                if (!vmnet_engine_diff(plan, run->obs, run->actions, run->warnings, error))
                        return FALSE;
                vmnet_engine_warn_foreign_drops(&run->ctx, run->warnings);
        }
        return !left || o->check || close_run_left(run, o, error);
}

/*
 * The links the actions create (or, undoing a delete, create again) are
 * listed in the run directory first: the kernel takes the alias that marks
 * them vmnet's only in a second message (see VmnetPending).
 */
static gboolean list_created(VmnetPending *pending, const GPtrArray *actions, GError **error)
{
        g_autoptr(GPtrArray) names = g_ptr_array_new();

        for (guint i = 0; i < actions->len; i++) {
                const VmnetAction *a = g_ptr_array_index(actions, i);

                if (a->type == &vmnet_action_type_link_create ||
                    a->type == &vmnet_action_type_link_delete)
                        g_ptr_array_add(names, ((const VmnetLinkSpec *)a->data)->name);
        }
        return !names->len || vmnet_pending_add(pending, names, error);
}

/* The gate of an apply: every step ran; the record says so, on disk. */
static gboolean record_close(gpointer data, GError **error)
{
        VmnetState *st = data;

        vmnet_state_transaction_end(st);
        g_key_file_set_int64(st->kf, STATE_GROUP, "applied", g_get_real_time() / G_USEC_PER_SEC);
        return vmnet_state_save(st, error);
}

gboolean vmnet_engine_commit(VmnetRun *run, const VmnetPlan *plan, const VmnetRunOpts *o,
                             VmnetApplyProgress progress, gpointer progress_data,
                             gboolean *executed, GError **error)
{
        VmnetState *st = run->obs->state;
        guint done = 0;
        gboolean ok;

        *executed = FALSE;
        /*
         * The record of what the run changes is on disk before the first step
         * (a write-ahead record, apply/state.h), and an apply stands only once
         * the record says it is complete: if that cannot be written, the
         * steps are undone. A crash halfway leaves the record naming changes
         * that may not be made yet (destroy then finds them already as they
         * were; apply makes them).
         */
        if (!list_created(run->obs->pending, run->actions, error))
                return FALSE;
        if (!vmnet_engine_record_ahead(run->obs, run->actions, o->destroy, error)) {
                g_autoptr(GError) e = NULL;

                /* Perhaps half written (renamed, not synced): what was there goes back. */
                vmnet_state_put_back(st->path, st->before, st->before_len, &e);
                g_prefix_error(error, "%s failed before any change: ",
                               o->destroy ? "destroy" : "apply");
                return FALSE;
        }
        ok = vmnet_apply_actions_gated(&run->ctx, run->actions, progress, progress_data,
                                       o->destroy ? NULL : record_close, st, &done, error);
        /* Best effort: a list left over only names links whose mark is there or that are gone. */
        vmnet_pending_done(run->obs->pending, ok, !ok && !done, NULL);
        record_unplugs(run);
        if (!ok) {
                g_autoptr(GError) e = NULL;

                g_prefix_error(error, "%s %s: ", o->destroy ? "destroy" : "apply",
                               error && g_error_matches(*error, VMNET_ERROR, VMNET_ERROR_INTERRUPTED)
                                       ? "stopped"
                                       : "failed");
                /* The host is as it was: so is the record. If some change stayed, the
                 * new record, which names it, stays too. */
                if (!done &&
                    !vmnet_state_put_back(st->path, st->before, st->before_len, &e) && error &&
                    *error) {
                        GError *first = *error;

                        *error = g_error_new(VMNET_ERROR, first->code,
                                             "%s\nthe state file was not put back as it was: %s",
                                             first->message, e->message);
                        g_error_free(first);
                }
                return FALSE;
        }
        *executed = TRUE;
        if (o->destroy && !vmnet_state_remove(run->obs->state, error))
                return FALSE;
        run->after = vmnet_engine_verify(&run->ctx, plan, o->netns, o->destroy, run->warnings, error);
        return run->after != NULL;
}
