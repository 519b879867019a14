/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "backend/dnsmasq/dnsmasq.h"
#include "doctor/doctor.h"

/*
 * vmnet's DHCP servers: the dnsmasq of each network with a <dhcp> range
 * runs when vmnet configured one, and its dynamic pool is not (nearly)
 * exhausted: a new guest then gets no address, while the others work.
 * Leases come from dnsmasq's own lease file, read-only.
 */

#define NEARLY_FULL_PERCENT 90

static guint32 v4(const VmnetAddr *a)
{
        guint32 n;

        memcpy(&n, a->bytes, 4);
        return g_ntohl(n);
}

static void check_pool(VmnetDoctor *doc, const VmnetNetwork *net, const VmnetSubnet *s,
                       const GPtrArray *leases)
{
        guint32 lo = v4(&s->dhcp_start), hi = v4(&s->dhcp_end);
        guint64 size = (guint64)hi - lo + 1, used = 0;
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        g_autofree char *start = NULL;
        g_autofree char *end = NULL;
        g_autofree char *where = NULL;

        if (hi < lo)
                return;
        for (guint i = 0; leases && i < leases->len; i++) {
                const VmnetLease *l = g_ptr_array_index(leases, i);

                if (l->ip.family != AF_INET || v4(&l->ip) < lo || v4(&l->ip) > hi)
                        continue;
                if (l->expiry && l->expiry <= now)
                        continue;
                used++;
        }
        if (used * 100 < size * NEARLY_FULL_PERCENT)
                return;
        start = vmnet_addr_to_string(&s->dhcp_start);
        end = vmnet_addr_to_string(&s->dhcp_end);
        where = vmnet_doctor_plan_where(doc, s->dhcp_line ? s->dhcp_line : s->line);
        vmnet_doctor_add(doc, used >= size ? VMNET_SEVERITY_ERROR : VMNET_SEVERITY_WARNING,
                         g_strdup_printf("dhcp %s-%s", start, end),
                         g_strdup_printf("widen <dhcp start= end=> of network '%s' (%s) or shorten "
                                         "its lease=, then vmnet apply; or give long-lived guests "
                                         "<reservation>s outside the range",
                                         net->name, where),
                         "the DHCP pool %s-%s of network '%s' is %s: %" G_GUINT64_FORMAT " of %"
                         G_GUINT64_FORMAT " addresses leased%s",
                         start, end, net->name, used >= size ? "exhausted" : "nearly exhausted",
                         used, size, used >= size ? "; a new guest gets no address" : "");
}

static gboolean run(VmnetDoctor *doc, char **skipped)
{
        guint pools = 0;

        for (guint i = 0; i < doc->plan->networks->len; i++) {
                const VmnetNetwork *net = g_ptr_array_index(doc->plan->networks, i);
                g_autoptr(VmnetDnsmasqPaths) p = NULL;
                g_autoptr(GPtrArray) leases = NULL;
                g_autoptr(GError) e = NULL;
                gboolean has_dhcp = FALSE;

                for (guint j = 0; j < net->subnets->len; j++)
                        has_dhcp |= ((const VmnetSubnet *)g_ptr_array_index(net->subnets, j))->has_dhcp;
                if (!has_dhcp)
                        continue;
                pools++;
                p = vmnet_dnsmasq_paths(doc->plan->name, doc->netns, net->name);
                /* Only a server vmnet configured can be missing. */
                /* Under systemd, whether its unit is active (vmnet(8), SYSTEMD). */
                if (g_file_test(p->conf_path, G_FILE_TEST_EXISTS) && !vmnet_dnsmasq_running_pid(p)) {
                        g_autofree char *where =
                                vmnet_dnsmasq_supervisor() == VMNET_DNSMASQ_BY_SYSTEMD
                                        ? g_strdup_printf("unit %s, 'journalctl -u %s' says why",
                                                          p->unit, p->unit)
                                        : g_strdup(p->conf_path);

                        vmnet_doctor_add(doc, VMNET_SEVERITY_ERROR,
                                         g_strdup_printf("dnsmasq %s", net->name),
                                         vmnet_doctor_cmd_apply(doc),
                                         "vmnet's DHCP server for network '%s' is not running "
                                         "(%s): guests get no address",
                                         net->name, where);
                }
                leases = vmnet_dnsmasq_read_leases(p->lease_path, &e);
                if (!leases) {
                        vmnet_doctor_add(doc, VMNET_SEVERITY_INFO,
                                         g_strdup_printf("dhcp %s", net->name), NULL,
                                         "the leases of network '%s' were not checked: %s",
                                         net->name, e->message);
                        continue;
                }
                for (guint j = 0; j < net->subnets->len; j++) {
                        const VmnetSubnet *s = g_ptr_array_index(net->subnets, j);

                        if (s->has_dhcp && s->cidr.addr.family == AF_INET)
                                check_pool(doc, net, s, leases);
                }
        }
        if (!pools) {
                *skipped = g_strdup("the plan has no <dhcp> range");
                return FALSE;
        }
        return TRUE;
}

const VmnetDoctorCheck vmnet_doctor_check_dhcp = {
        .name = "dhcp",
        .summary = "vmnet's DHCP servers run and their pools are not exhausted",
        .needs_plan = TRUE,
        .run = run,
};
