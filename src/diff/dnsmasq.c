/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "actions/libvirt.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "diff/dnsmasq.h"
#include "render/render.h"

static int vmnet_strv_cmp(const char *const *a, const char *const *b)
{
        return strcmp(*a, *b);
}

gboolean vmnet_network_wants_dnsmasq(const VmnetNetwork *net, const GPtrArray *hosts)
{
        if (net->mode != VMNET_MODE_NAT && net->mode != VMNET_MODE_HOST_ONLY &&
            net->mode != VMNET_MODE_ROUTED)
                return FALSE;
        return (hosts && hosts->len) || vmnet_network_has_dhcp_subnet(net);
}

/*
 * The same configuration, whatever the order of its lines: dnsmasq's
 * options do not depend on it, and a file an older vmnet wrote in another
 * order must not cost a restart.
 */
static gboolean same_config(const char *a, const char *b)
{
        g_auto(GStrv) x = NULL;
        g_auto(GStrv) y = NULL;
        guint n;

        if (!a || !b)
                return a == b;
        x = g_strsplit(a, "\n", -1);
        y = g_strsplit(b, "\n", -1);
        n = g_strv_length(x);
        if (n != g_strv_length(y))
                return FALSE;
        qsort(x, n, sizeof(char *), (int (*)(const void *, const void *))vmnet_strv_cmp);
        qsort(y, n, sizeof(char *), (int (*)(const void *, const void *))vmnet_strv_cmp);
        return g_strv_equal((const char *const *)x, (const char *const *)y);
}

/* Stops network's instance (if any is there) and removes its files. */
static gboolean diff_remove(const char *plan_name, const char *netns, const char *network,
                            GPtrArray *actions, GError **error)
{
        g_autoptr(VmnetDnsmasqPaths) p = vmnet_dnsmasq_paths(plan_name, netns, network);
        g_autofree char *conf = NULL;
        g_autofree char *leases = NULL;
        int pid;

        if (!vmnet_dnsmasq_read_file(p->conf_path, &conf, error) ||
            !vmnet_dnsmasq_read_file(p->lease_path, &leases, error))
                return FALSE;
        pid = vmnet_dnsmasq_running_pid(p);
        if (conf || leases || pid)
                g_ptr_array_add(actions, vmnet_action_dnsmasq_stop(p, conf, leases, pid != 0));
        return TRUE;
}

gboolean vmnet_diff_dnsmasq(const VmnetPlan *plan, const VmnetIpam *ipam, const char *netns,
                            GPtrArray *actions, GError **error)
{
        g_auto(GStrv) existing = vmnet_dnsmasq_list_networks(plan->name, netns);

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, i);
                g_autoptr(GPtrArray) hosts = vmnet_ipam_dhcp_hosts(ipam, net->name);
                g_autoptr(VmnetDnsmasqPaths) p = NULL;
                g_autofree char *want = NULL;
                g_autofree char *have = NULL;
                gboolean running;

                if (!vmnet_network_wants_dnsmasq(net, hosts))
                        continue;
                p = vmnet_dnsmasq_paths(plan->name, netns, net->name);
                want = vmnet_render_dnsmasq(plan, net, hosts, p->lease_path, p->pid_path, error);
                if (!want)
                        return FALSE;
                if (!vmnet_dnsmasq_read_file(p->conf_path, &have, error))
                        return FALSE;
                running = vmnet_dnsmasq_running_pid(p) != 0;
                /* dnsmasq reads its configuration only when it starts: restart on any change. */
                if (running && same_config(want, have))
                        continue;
                g_ptr_array_add(actions, vmnet_action_dnsmasq_start(p, net->bridge, want, have,
                                                                    running));
        }
        for (char **n = existing; *n; n++) {
                const VmnetNetwork *net = vmnet_plan_find_network(plan, *n);
                g_autoptr(GPtrArray) hosts = net ? vmnet_ipam_dhcp_hosts(ipam, net->name) : NULL;

                if (net && vmnet_network_wants_dnsmasq(net, hosts))
                        continue;
                if (!diff_remove(plan->name, netns, *n, actions, error))
                        return FALSE;
        }
        return TRUE;
}

gboolean vmnet_diff_dnsmasq_destroy(const char *plan_name, const char *netns, GPtrArray *actions,
                                    GError **error)
{
        g_auto(GStrv) existing = vmnet_dnsmasq_list_networks(plan_name, netns);

        for (char **n = existing; *n; n++)
                if (!diff_remove(plan_name, netns, *n, actions, error))
                        return FALSE;
        return TRUE;
}
