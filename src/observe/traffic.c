/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "observe/traffic.h"
#include "util/mutant.h"

const char *const vmnet_traffic_counter_names[VMNET_TRAFFIC_COUNTERS] = {
        "receive_bytes", "transmit_bytes", "receive_packets", "transmit_packets",
        "receive_errors", "transmit_errors", "receive_drops", "transmit_drops",
};

static const char *const help[VMNET_TRAFFIC_COUNTERS] = {
        "Bytes received", "Bytes transmitted", "Packets received", "Packets transmitted",
        "Receive errors", "Transmit errors", "Packets dropped on receive",
        "Packets dropped on transmit",
};

/* The host's end of a port receives what the guest transmits, and the other way round. */
static VmnetNlLinkStats guest_view(const VmnetNlLinkStats *s)
{
        VmnetNlLinkStats g = {
                .rx_bytes = s->tx_bytes, .tx_bytes = s->rx_bytes,
                .rx_packets = s->tx_packets, .tx_packets = s->rx_packets,
                .rx_errors = s->tx_errors, .tx_errors = s->rx_errors,
                .rx_dropped = s->tx_dropped, .tx_dropped = s->rx_dropped,
        };

        if (VMNET_MUTANT_IS(STATS_HOST_VIEW))
                return *s;
        return g;
}

static void add_row(GArray *rows, const VmnetNetwork *net, const VmnetGuestPort *port,
                    const char *link, GHashTable *stats)
{
        const VmnetNlLinkStats *s = g_hash_table_lookup(stats, link);
        VmnetTrafficRow r = { .network = net, .port = port, .link = link, .present = s != NULL };

        if (s)
                r.stats = port ? guest_view(s) : *s;
        g_array_append_val(rows, r);
}

GArray *vmnet_traffic_rows(const VmnetPlan *plan, const GPtrArray *ports, GHashTable *stats)
{
        GArray *rows = g_array_new(FALSE, TRUE, sizeof(VmnetTrafficRow));

        for (guint n = 0; n < plan->networks->len; n++) {
                const VmnetNetwork *net = g_ptr_array_index(plan->networks, n);

                add_row(rows, net, NULL, net->bridge, stats);
                for (guint i = 0; i < ports->len; i++) {
                        const VmnetGuestPort *gp = g_ptr_array_index(ports, i);

                        if (gp->network == net)
                                add_row(rows, net, gp, gp->link->name, stats);
                }
        }
        return rows;
}

void vmnet_traffic_counters(const VmnetTrafficRow *row, guint64 out[VMNET_TRAFFIC_COUNTERS])
{
        const VmnetNlLinkStats *s = &row->stats;

        out[0] = s->rx_bytes;
        out[1] = s->tx_bytes;
        out[2] = s->rx_packets;
        out[3] = s->tx_packets;
        out[4] = s->rx_errors;
        out[5] = s->tx_errors;
        out[6] = s->rx_dropped;
        out[7] = s->tx_dropped;
}

/* A label value with \, " and newline escaped, as the exposition format asks. */
static void label(GString *out, const char *name, const char *value, gboolean first)
{
        g_string_append_printf(out, "%s%s=\"", first ? "" : ",", name);
        for (const char *p = value ? value : ""; *p; p++) {
                if (*p == '\\')
                        g_string_append(out, "\\\\");
                else if (*p == '"')
                        g_string_append(out, "\\\"");
                else if (*p == '\n')
                        g_string_append(out, "\\n");
                else
                        g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
}

static void family(GString *out, const GArray *rows, gboolean ports, guint c)
{
        const char *what = ports ? "port" : "network";
        gboolean header = FALSE;

        for (guint i = 0; i < rows->len; i++) {
                const VmnetTrafficRow *r = &g_array_index(rows, VmnetTrafficRow, i);
                guint64 v[VMNET_TRAFFIC_COUNTERS];

                if (!r->present || (r->port != NULL) != ports)
                        continue;
                if (!header) {
                        g_string_append_printf(out, "# HELP vmnet_%s_%s_total %s, %s.\n", what,
                                               vmnet_traffic_counter_names[c], help[c],
                                               ports ? "seen from the guest (as virsh domifstat)"
                                                     : "by the network's bridge");
                        g_string_append_printf(out, "# TYPE vmnet_%s_%s_total counter\n", what,
                                               vmnet_traffic_counter_names[c]);
                        header = TRUE;
                }
                vmnet_traffic_counters(r, v);
                g_string_append_printf(out, "vmnet_%s_%s_total{", what,
                                       vmnet_traffic_counter_names[c]);
                label(out, "network", r->network->name, TRUE);
                if (ports) {
                        g_autofree char *mac = r->port->has_mac ? vmnet_mac_to_string(&r->port->mac)
                                                                : NULL;

                        label(out, "port", r->link, FALSE);
                        label(out, "domain", r->port->domain, FALSE);
                        label(out, "mac", mac, FALSE);
                } else {
                        label(out, "bridge", r->link, FALSE);
                        label(out, "mode", vmnet_mode_to_string(r->network->mode), FALSE);
                }
                g_string_append_printf(out, "} %" G_GUINT64_FORMAT "\n", v[c]);
        }
}

char *vmnet_traffic_prometheus(const GArray *rows)
{
        GString *out = g_string_new(NULL);

        for (int ports = 0; ports < 2; ports++)
                for (guint c = 0; c < VMNET_TRAFFIC_COUNTERS; c++)
                        family(out, rows, ports, c);
        return g_string_free(out, FALSE);
}
