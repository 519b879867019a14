/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "validate/bandwidth.h"

/*
 * How a <bandwidth> reaches a guest's tap (libvirt 9.0,
 * src/util/virnetdevbandwidth.c virNetDevBandwidthSet(), which runs tc):
 *  - inbound (what the guest receives, the tap's egress): an htb class
 *    "rate AVERAGEkbps [ceil PEAKkbps] [burst BURSTkb]";
 *  - outbound (what it sends, the tap's ingress): a u32 filter with
 *    "police rate AVERAGEkbps burst BURSTkb mtu 64kb drop" (burst
 *    defaults to AVERAGE kb). A police action has no peak: libvirt drops
 *    <outbound peak=>.
 *  - floor: only on networks libvirt routes itself with a network-wide
 *    inbound rate; vmnet's are bridge-mode handles on its own bridge,
 *    where libvirt refuses it.
 * libvirt takes rates in kB/s, handed to tc as "kbps" (1000 bytes/s), and
 * bursts in KiB ("kb", 1024 bytes). tc keeps a burst as the time it lasts
 * at the rate, in whole microseconds (measured with tc -d class show:
 * 256kb at 12500kbps comes back as 262125b, 250kb as 250Kb), in a 32-bit
 * count of 1/15.625 us ticks (/proc/net/psched), so a burst is kept only
 * when BYTES * 10^6 / RATE is whole, and lasts under 274 s.
 */

#define KBPS_BITS G_GUINT64_CONSTANT(8000) /* one libvirt rate unit in bits/s */
#define MAX_BURST_US G_GUINT64_CONSTANT(274877906) /* 2^32 ticks of 1/15.625 us */

typedef struct {
        VmnetDiags *diags;
        const char *file;
        guint line;
        const char *what;
} Ctx;

#define ERR(c, ...) vmnet_diags_add((c)->diags, (c)->file, (c)->line, __VA_ARGS__)

static guint64 gcd(guint64 a, guint64 b)
{
        while (b) {
                guint64 t = a % b;

                a = b;
                b = t;
        }
        return a;
}

/* A rate libvirt can write as it is: a whole number of kB/s. */
static gboolean check_rate(Ctx *c, const char *name, guint64 bps)
{
        if (!bps || bps % KBPS_BITS == 0)
                return TRUE;
        ERR(c, "%s: bandwidth %s %" G_GUINT64_FORMAT " bit/s is not a whole number of kB/s "
               "(8000 bit/s, the unit libvirt hands to tc); write %" G_GUINT64_FORMAT "kbps or %"
               G_GUINT64_FORMAT "kbps",
            c->what, name, bps, bps / KBPS_BITS, bps / KBPS_BITS + 1);
        return FALSE;
}

/* A burst tc keeps exactly at the average rate avg (bits/s, whole kB/s). */
static void check_burst(Ctx *c, const char *name, guint64 bytes, guint64 avg, gboolean police)
{
        guint64 kib, kbps, step, lower;

        if (!bytes || !avg)
                return;
        if (bytes % 1024) {
                ERR(c, "%s: bandwidth %s %" G_GUINT64_FORMAT " bytes is not a whole number of KiB "
                       "(libvirt takes bursts in KiB)",
                    c->what, name, bytes);
                return;
        }
        kib = bytes / 1024;
        kbps = avg / KBPS_BITS;
        if (kib > G_MAXUINT64 / 1024000 || kib * 1024000 / kbps >= MAX_BURST_US) {
                ERR(c, "%s: bandwidth %s %" G_GUINT64_FORMAT " KiB lasts %" G_GUINT64_FORMAT
                       " s or more at the average rate; tc holds at most 274 s of it",
                    c->what, name, kib, MAX_BURST_US / 1000000);
                return;
        }
        if (police && bytes > G_MAXUINT32) {
                ERR(c, "%s: bandwidth %s %" G_GUINT64_FORMAT " KiB is more than tc's police "
                       "action holds (4 GiB - 1 byte)",
                    c->what, name, kib);
                return;
        }
        if ((kib * 1024000) % kbps == 0)
                return;
        /* Exact bursts are the multiples of step KiB. */
        step = kbps / gcd(kbps, 1024000);
        lower = kib / step * step;
        if (lower)
                ERR(c, "%s: bandwidth %s %" G_GUINT64_FORMAT " KiB is not a whole number of "
                       "microseconds at %" G_GUINT64_FORMAT " kB/s, and tc would keep a slightly "
                       "different burst; the nearest it keeps exactly are %" G_GUINT64_FORMAT
                       "kb and %" G_GUINT64_FORMAT "kb",
                    c->what, name, kib, kbps, lower, lower + step);
        else
                ERR(c, "%s: bandwidth %s %" G_GUINT64_FORMAT " KiB is not a whole number of "
                       "microseconds at %" G_GUINT64_FORMAT " kB/s, and tc would keep a slightly "
                       "different burst; the smallest it keeps exactly is %" G_GUINT64_FORMAT "kb",
                    c->what, name, kib, kbps, step);
}

void vmnet_validate_bandwidth(VmnetDiags *diags, const char *file, const char *what,
                              const VmnetBandwidth *bw)
{
        Ctx c = { diags, file, bw->line, what };
        gboolean in_ok, out_ok;

        if (!bw->inbound && !bw->outbound) {
                ERR(&c, "%s: <bandwidth> sets neither inbound nor outbound", what);
                return;
        }
        if (!bw->inbound && (bw->inbound_peak || bw->inbound_burst || bw->inbound_floor))
                ERR(&c, "%s: bandwidth inbound-peak, inbound-burst and inbound-floor need "
                        "inbound= (the average rate)",
                    what);
        if (!bw->outbound && bw->outbound_burst)
                ERR(&c, "%s: bandwidth outbound-burst needs outbound= (the average rate)", what);
        if (bw->outbound_peak)
                ERR(&c, "%s: bandwidth outbound-peak cannot be applied: libvirt polices what a "
                        "guest sends (tc police on the tap's ingress) with the average and the "
                        "burst only, and drops a peak",
                    what);
        if (bw->inbound_floor)
                ERR(&c, "%s: bandwidth inbound-floor cannot be applied: libvirt guarantees a "
                        "floor only on networks it routes itself (forward mode nat, route, open "
                        "or none, with a network-wide rate); vmnet's libvirt networks are "
                        "bridge-mode handles on vmnet's bridge, where libvirt refuses it",
                    what);
        in_ok = check_rate(&c, "inbound", bw->inbound);
        out_ok = check_rate(&c, "outbound", bw->outbound);
        if (check_rate(&c, "inbound-peak", bw->inbound_peak) && bw->inbound_peak &&
            bw->inbound_peak < bw->inbound)
                ERR(&c, "%s: bandwidth inbound-peak %" G_GUINT64_FORMAT " bit/s is below "
                        "inbound %" G_GUINT64_FORMAT " bit/s (the peak is htb's ceil, at least "
                        "the average)",
                    what, bw->inbound_peak, bw->inbound);
        if (in_ok)
                check_burst(&c, "inbound-burst", bw->inbound_burst, bw->inbound, FALSE);
        if (out_ok)
                check_burst(&c, "outbound-burst", bw->outbound_burst, bw->outbound, TRUE);
}
