/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"
#include "cli/traffic.h"

/* "1.5 MB", "12 kbit/s": powers of 1000, as iftop and Prometheus dashboards show them. */
static char *human(double v, const char *unit)
{
        static const char *const prefix[] = { "", "k", "M", "G", "T", "P" };
        guint p = 0;

        while (v >= 1000 && p + 1 < G_N_ELEMENTS(prefix)) {
                v /= 1000;
                p++;
        }
        return p ? g_strdup_printf("%.1f %s%s", v, prefix[p], unit)
                 : g_strdup_printf("%.0f %s", v, unit);
}

void vmnet_cli_traffic(JsonBuilder *j, const GArray *rows, const GArray *before, double seconds)
{
        if (j) {
                json_builder_set_member_name(j, "traffic");
                json_builder_begin_array(j);
        } else {
                printf("traffic (bridges as the host sees them, ports as their guest does)%s:\n",
                       before ? ", rates over the interval" : "");
        }
        for (guint i = 0; i < rows->len; i++) {
                const VmnetTrafficRow *r = &g_array_index(rows, VmnetTrafficRow, i);
                const VmnetTrafficRow *b = before && i < before->len
                                                   ? &g_array_index(before, VmnetTrafficRow, i)
                                                   : NULL;
                g_autofree char *mac = r->port && r->port->has_mac
                                               ? vmnet_mac_to_string(&r->port->mac)
                                               : NULL;
                guint64 v[VMNET_TRAFFIC_COUNTERS], w[VMNET_TRAFFIC_COUNTERS];
                /* a link re-created in between starts again from 0: no rate */
                gboolean rated = b && b->present && r->present && b->link == r->link &&
                                 r->stats.rx_bytes >= b->stats.rx_bytes &&
                                 r->stats.tx_bytes >= b->stats.tx_bytes && seconds > 0;

                vmnet_traffic_counters(r, v);
                if (b)
                        vmnet_traffic_counters(b, w);
                if (j) {
                        json_builder_begin_object(j);
                        vmnet_json_member_string(j, "network", r->network->name);
                        vmnet_json_member_string(j, "kind", r->port ? "port" : "bridge");
                        vmnet_json_member_string(j, "link", r->link);
                        vmnet_json_member_string(j, "domain", r->port ? r->port->domain : NULL);
                        vmnet_json_member_string(j, "mac", mac);
                        vmnet_json_member_bool(j, "present", r->present);
                        for (guint c = 0; c < VMNET_TRAFFIC_COUNTERS; c++) {
                                json_builder_set_member_name(j, vmnet_traffic_counter_names[c]);
                                json_builder_add_int_value(j, (gint64)v[c]);
                        }
                        if (rated) {
                                json_builder_set_member_name(j, "per_second");
                                json_builder_begin_object(j);
                                for (guint c = 0; c < VMNET_TRAFFIC_COUNTERS; c++) {
                                        gint64 rate = (gint64)((v[c] - w[c]) / seconds + 0.5);

                                        json_builder_set_member_name(j,
                                                                     vmnet_traffic_counter_names[c]);
                                        json_builder_add_int_value(j, rate);
                                }
                                json_builder_end_object(j);
                        }
                        json_builder_end_object(j);
                        continue;
                }
                if (!r->present) {
                        printf("  %-12s %-16s %s\n", r->network->name, r->link,
                               r->port ? "(port gone)" : "(bridge absent)");
                        continue;
                }
                {
                        g_autofree char *rx = human((double)v[0], "B");
                        g_autofree char *tx = human((double)v[1], "B");
                        g_autofree char *who = r->port ? g_strdup_printf("%s %s", r->port->domain ? r->port->domain : "-",
                                                                         mac ? mac : "-")
                                                       : g_strdup_printf("(%s bridge)", vmnet_mode_to_string(r->network->mode));
                        g_autofree char *rates = NULL;

                        if (rated) {
                                g_autofree char *rxr = human((v[0] - w[0]) * 8.0 / seconds, "bit/s");
                                g_autofree char *txr = human((v[1] - w[1]) * 8.0 / seconds, "bit/s");

                                rates = g_strdup_printf("; now rx %s, tx %s", rxr, txr);
                        }
                        printf("  %-12s %-16s %-30s rx %s %" G_GUINT64_FORMAT " pkts, tx %s %"
                               G_GUINT64_FORMAT " pkts, errors %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                               ", drops %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "%s\n",
                               r->network->name, r->link, who, rx, v[2], tx, v[3], v[4], v[5], v[6], v[7],
                               rates ? rates : "");
                }
        }
        if (j)
                json_builder_end_array(j);
}

gboolean vmnet_cli_read_traffic(VmnetApplyCtx *ctx, const VmnetPlan *plan, const VmnetObserved *obs,
                                guint interval, GPtrArray **ports, GArray **rows, GArray **before,
                                GError **error)
{
        g_autoptr(GHashTable) first = NULL;
        g_autoptr(GHashTable) stats = NULL;

        *ports = vmnet_guest_ports(plan, obs->host, obs->virt);
        *before = NULL;
        *rows = NULL;
        if (interval > 0) {
                if (!(first = vmnet_nl_link_stats(ctx->nl, error)))
                        return FALSE;
                g_usleep((gulong)interval * G_USEC_PER_SEC);
        }
        if (!(stats = vmnet_nl_link_stats(ctx->nl, error)))
                return FALSE;
        /* The names the rows borrow live in host and plan, not in the tables. */
        if (first)
                *before = vmnet_traffic_rows(plan, *ports, first);
        *rows = vmnet_traffic_rows(plan, *ports, stats);
        return TRUE;
}
