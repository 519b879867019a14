/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "actions/libvirt.h"

/*
 * dnsmasq actions. One data shape for all three kinds: the target
 * (configuration file content, or none; running or not) and what was there
 * before, so that the inverse is the same action with the two swapped.
 * dnsmasq reads its configuration only at start, so a changed
 * configuration is a restart; leases survive it in the lease file.
 */

typedef struct {
        VmnetDnsmasqPaths *paths;
        char *bridge;       /* for describe() */
        char *conf;         /* target configuration; NULL = remove the file */
        gboolean running;   /* target: an instance serves conf */
        char *old_conf;     /* before */
        gboolean old_running;
        gboolean drop_leases; /* remove the lease file (the network is gone) */
        char *leases;       /* write this lease file before starting (undoing a removal); NULL = leave it */
        char *old_leases;   /* the lease file before a drop, for the inverse */
} DnsData;

static const VmnetActionType start_type, restart_type, stop_type;

static void dns_data_free(gpointer p)
{
        DnsData *d = p;

        vmnet_dnsmasq_paths_free(d->paths);
        g_free(d->bridge);
        g_free(d->conf);
        g_free(d->old_conf);
        g_free(d->leases);
        g_free(d->old_leases);
        g_free(d);
}

static VmnetAction *dns_action(DnsData *d)
{
        const VmnetActionType *type = !d->running     ? &stop_type
                                      : d->old_running ? &restart_type
                                                       : &start_type;

        return vmnet_action_new(type, VMNET_IMPACT_SAFE,
                                g_strdup_printf("dnsmasq of network %s", d->paths->network), d);
}

VmnetAction *vmnet_action_dnsmasq_start(const VmnetDnsmasqPaths *paths, const char *bridge,
                                        const char *conf, const char *old_conf,
                                        gboolean old_running)
{
        DnsData *d = g_new0(DnsData, 1);

        d->paths = vmnet_dnsmasq_paths_copy(paths);
        d->bridge = g_strdup(bridge);
        d->conf = g_strdup(conf);
        d->running = TRUE;
        d->old_conf = g_strdup(old_conf);
        d->old_running = old_running;
        return dns_action(d);
}

VmnetAction *vmnet_action_dnsmasq_stop(const VmnetDnsmasqPaths *paths, const char *old_conf,
                                       const char *old_leases, gboolean old_running)
{
        DnsData *d = g_new0(DnsData, 1);

        d->paths = vmnet_dnsmasq_paths_copy(paths);
        d->old_conf = g_strdup(old_conf);
        d->old_running = old_running;
        d->drop_leases = TRUE;
        d->old_leases = g_strdup(old_leases);
        return dns_action(d);
}

/*
 * The name a line of the configuration sets when it is one of the plan's
 * DHCP options ("dns-server", "boot"), else NULL. Borrowed or in *buf.
 */
static const char *dhcp_option_of(const char *line, char **buf)
{
        const char *p;

        if (g_str_has_prefix(line, "dhcp-boot=") || g_str_has_prefix(line, "dhcp-match="))
                return "boot";
        if (!g_str_has_prefix(line, "dhcp-option="))
                return NULL;
        p = strchr(line, ':');
        if (!p)
                return NULL;
        *buf = g_strndup(p + 1, strcspn(p + 1, ","));
        return *buf;
}

/*
 * "dns-server, boot": the DHCP options whose lines differ between the two
 * configurations, in the order they first appear; NULL when none does.
 */
static char *changed_dhcp_options(const char *conf, const char *old_conf)
{
        g_auto(GStrv) a = g_strsplit(conf ? conf : "", "\n", -1);
        g_auto(GStrv) b = g_strsplit(old_conf ? old_conf : "", "\n", -1);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) out = g_string_new(NULL);
        gboolean empty;

        for (int side = 0; side < 2; side++) {
                char **mine = side ? b : a, **other = side ? a : b;

                for (char **l = mine; *l; l++) {
                        g_autofree char *buf = NULL;
                        const char *name = dhcp_option_of(*l, &buf);

                        if (!name || g_strv_contains((const char *const *)other, *l))
                                continue;
                        if (!g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
                                g_ptr_array_add(names, g_strdup(name));
                }
        }
        for (guint i = 0; i < names->len; i++)
                g_string_append_printf(out, "%s%s", i ? ", " : "",
                                       (const char *)g_ptr_array_index(names, i));
        empty = out->len == 0;
        return g_string_free(g_steal_pointer(&out), empty);
}

static char *dns_describe(const VmnetAction *a)
{
        const DnsData *d = a->data;
        const char *net = d->paths->network;

        if (!d->running && d->conf)
                return g_strdup_printf("write the configuration of dnsmasq for network %s "
                                       "(not running)",
                                       net);
        if (!d->running)
                return g_strdup_printf("stop dnsmasq for network %s and remove its configuration%s",
                                       net, d->drop_leases ? " and leases" : "");
        if (d->old_running) {
                g_autofree char *opts = changed_dhcp_options(d->conf, d->old_conf);

                if (opts)
                        return g_strdup_printf("restart dnsmasq for network %s on %s "
                                               "(configuration changed; DHCP options: %s; "
                                               "guests get them at their next renewal)",
                                               net, d->bridge ? d->bridge : "?", opts);
                return g_strdup_printf("restart dnsmasq for network %s on %s (%s)", net,
                                       d->bridge ? d->bridge : "?",
                                       g_strcmp0(d->conf, d->old_conf) ? "configuration changed"
                                                                        : "restore");
        }
        return g_strdup_printf("start dnsmasq for network %s on %s", net,
                               d->bridge ? d->bridge : "?");
}

/*
 * Puts network's instance in the state (conf, running, leases); with a
 * batch, a start is only begun (vmnet_dnsmasq_batch_wait() ends it).
 */
static gboolean converge(const DnsData *d, const char *conf, gboolean running,
                         gboolean drop_leases, const char *leases, VmnetDnsmasqBatch *batch,
                         GError **error)
{
        if (!vmnet_dnsmasq_stop(d->paths, error))
                return FALSE;
        if (!vmnet_dnsmasq_write_file(d->paths->conf_path, conf, error))
                return FALSE;
        if (drop_leases && !vmnet_dnsmasq_write_file(d->paths->lease_path, NULL, error))
                return FALSE;
        if (leases && !vmnet_dnsmasq_write_file(d->paths->lease_path, leases, error))
                return FALSE;
        if (!running)
                return TRUE;
        return batch ? vmnet_dnsmasq_batch_start(batch, d->paths, error)
                     : vmnet_dnsmasq_start(d->paths, error);
}

/*
 * After this action's own step failed (error set): the instance as it was.
 * The caller rolls back only completed actions: this one's half is undone
 * here. Always FALSE.
 */
static gboolean restore(const DnsData *d, GError **error)
{
        g_autoptr(GError) e = NULL;

        if (!converge(d, d->old_conf, d->old_running && d->old_conf, FALSE, d->old_leases, NULL,
                      &e))
                g_prefix_error(error, "(and restoring the previous dnsmasq failed: %s) ",
                               e->message);
        return FALSE;
}

/*
 * A batch (VmnetActionType): the stops and file writes of each action run
 * in its begin, one after the other; the starts overlap, each instance
 * forked (or its unit's job queued) in begin and waited for in finish.
 */
static gboolean dns_begin(const VmnetAction *a, VmnetApplyCtx *ctx, gpointer *batch,
                          GError **error)
{
        const DnsData *d = a->data;

        if (!*batch)
                *batch = vmnet_dnsmasq_batch_new();
        return converge(d, d->conf, d->running, d->drop_leases, d->leases, *batch, error) ||
               restore(d, error);
}

static gboolean dns_finish(const VmnetAction *a, VmnetApplyCtx *ctx, gpointer batch,
                           GError **error)
{
        const DnsData *d = a->data;

        return !d->running || vmnet_dnsmasq_batch_wait(batch, d->paths, error) ||
               restore(d, error);
}

static void dns_batch_free(gpointer batch)
{
        vmnet_dnsmasq_batch_free(batch);
}

static gboolean dns_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        gpointer batch = NULL;
        gboolean ok = dns_begin(a, ctx, &batch, error) && dns_finish(a, ctx, batch, error);

        dns_batch_free(batch);
        return ok;
}

static VmnetAction *dns_invert(const VmnetAction *a)
{
        const DnsData *d = a->data;
        DnsData *inv = g_new0(DnsData, 1);

        inv->paths = vmnet_dnsmasq_paths_copy(d->paths);
        inv->bridge = g_strdup(d->bridge);
        inv->conf = g_strdup(d->old_conf);
        inv->running = d->old_running && d->old_conf;
        inv->old_conf = g_strdup(d->conf);
        inv->old_running = d->running;
        /* Undoing a first start removes the lease file it created; undoing a stop restores it. */
        inv->drop_leases = d->old_conf == NULL;
        inv->leases = d->drop_leases ? g_strdup(d->old_leases) : NULL;
        return dns_action(inv);
}

static const VmnetActionType start_type = {
        .name = "dnsmasq-start",
        .describe = dns_describe,
        .execute = dns_execute,
        .invert = dns_invert,
        .free_data = dns_data_free,
        .batch_begin = dns_begin,
        .batch_finish = dns_finish,
        .batch_free = dns_batch_free,
};

static const VmnetActionType restart_type = {
        .name = "dnsmasq-restart",
        .describe = dns_describe,
        .execute = dns_execute,
        .invert = dns_invert,
        .free_data = dns_data_free,
        .batch_begin = dns_begin,
        .batch_finish = dns_finish,
        .batch_free = dns_batch_free,
};

static const VmnetActionType stop_type = {
        .name = "dnsmasq-stop",
        .describe = dns_describe,
        .execute = dns_execute,
        .invert = dns_invert,
        .free_data = dns_data_free,
        .batch_begin = dns_begin,
        .batch_finish = dns_finish,
        .batch_free = dns_batch_free,
};
