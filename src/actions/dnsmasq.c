/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

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
        if (d->old_running)
                return g_strdup_printf("restart dnsmasq for network %s on %s (%s)", net,
                                       d->bridge ? d->bridge : "?",
                                       g_strcmp0(d->conf, d->old_conf) ? "configuration changed"
                                                                        : "restore");
        return g_strdup_printf("start dnsmasq for network %s on %s", net,
                               d->bridge ? d->bridge : "?");
}

/* Puts network's instance in the state (conf, running, leases). */
static gboolean converge(const DnsData *d, const char *conf, gboolean running,
                         gboolean drop_leases, const char *leases, GError **error)
{
        if (!vmnet_dnsmasq_stop(d->paths, error))
                return FALSE;
        if (!vmnet_dnsmasq_write_file(d->paths->conf_path, conf, error))
                return FALSE;
        if (drop_leases && !vmnet_dnsmasq_write_file(d->paths->lease_path, NULL, error))
                return FALSE;
        if (leases && !vmnet_dnsmasq_write_file(d->paths->lease_path, leases, error))
                return FALSE;
        return !running || vmnet_dnsmasq_start(d->paths, error);
}

static gboolean dns_execute(const VmnetAction *a, VmnetApplyCtx *ctx, GError **error)
{
        const DnsData *d = a->data;
        g_autoptr(GError) e = NULL;

        if (converge(d, d->conf, d->running, d->drop_leases, d->leases, error))
                return TRUE;
        /* The caller rolls back only completed actions: undo this one's half here. */
        if (!converge(d, d->old_conf, d->old_running && d->old_conf, FALSE, d->old_leases, &e))
                g_prefix_error(error, "(and restoring the previous dnsmasq failed: %s) ",
                               e->message);
        return FALSE;
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
};

static const VmnetActionType restart_type = {
        .name = "dnsmasq-restart",
        .describe = dns_describe,
        .execute = dns_execute,
        .invert = dns_invert,
        .free_data = dns_data_free,
};

static const VmnetActionType stop_type = {
        .name = "dnsmasq-stop",
        .describe = dns_describe,
        .execute = dns_execute,
        .invert = dns_invert,
        .free_data = dns_data_free,
};
