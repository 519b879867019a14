/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "render/render.h"
#include "util/mutant.h"

/*
 * libvirt's <bandwidth>, the same in a network's <portgroup> and a
 * domain's <interface>: rates in kB/s (tc kbps), bursts in KiB (tc kb).
 * The validator (validate/bandwidth.c) has refused every value these
 * units would round, and the peak and floor libvirt cannot apply here.
 */
static void append_direction(GString *out, const char *indent, const char *name, guint64 average,
                             guint64 peak, guint64 burst)
{
        if (!average)
                return;
        g_string_append_printf(out, "%s  <%s average='%" G_GUINT64_FORMAT "'", indent, name,
                               vmnet_rate_to_libvirt_kib(average));
        if (peak && !VMNET_MUTANT_IS(SHAPING_NO_PEAK))
                g_string_append_printf(out, " peak='%" G_GUINT64_FORMAT "'",
                                       vmnet_rate_to_libvirt_kib(peak));
        if (burst)
                g_string_append_printf(out, " burst='%" G_GUINT64_FORMAT "'", (burst + 1023) / 1024);
        g_string_append(out, "/>\n");
}

void vmnet_render_bandwidth(GString *out, const char *indent, const VmnetBandwidth *bw)
{
        if (!bw->inbound && !bw->outbound)
                return;
        g_string_append_printf(out, "%s<bandwidth>\n", indent);
        append_direction(out, indent, "inbound", bw->inbound, bw->inbound_peak, bw->inbound_burst);
        append_direction(out, indent, "outbound", bw->outbound, 0, bw->outbound_burst);
        g_string_append_printf(out, "%s</bandwidth>\n", indent);
}
