/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/netlink/netlink.h"
#include "doctor/probe.h"
#include "util/autoptr.h"
#include "util/mutant.h"

#define PROBE_IF "eth0"
#define PINGS 4
#define DNS_QUERIES 3
#define DHCP_TRIES 3
#define DHCP_RESEND_MS 2000
#define DHCP_WAIT_MS 8000
#define ATTEMPT_MS 1000

const char *vmnet_probe_status_to_string(VmnetProbeStatus s)
{
        static const char *const names[] = { "ok", "failed", "skipped" };

        return names[s];
}

static void step_free(gpointer p)
{
        VmnetProbeStep *s = p;

        g_free(s->name);
        g_free(s->detail);
        g_free(s);
}

void vmnet_probe_free(VmnetProbe *p)
{
        if (!p)
                return;
        g_free(p->network);
        g_free(p->port);
        g_ptr_array_unref(p->steps);
        g_free(p);
}

/* ------------------------------------------------------------ the child: a guest */

/* What the child reports, one line per step: NAME TAB STATUS TAB SENT TAB RECEIVED TAB AVG TAB MAX TAB DETAIL. */
static void report(int fd, const char *name, VmnetProbeStatus st, guint sent, guint received,
                   double avg, double max, const char *fmt, ...) G_GNUC_PRINTF(8, 9);

static void report(int fd, const char *name, VmnetProbeStatus st, guint sent, guint received,
                   double avg, double max, const char *fmt, ...)
{
        g_autofree char *detail = NULL;
        g_autofree char *line = NULL;
        va_list ap;

        va_start(ap, fmt);
        detail = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_strdelimit(detail, "\t\n", ' ');
        line = g_strdup_printf("%s\t%d\t%u\t%u\t%.3f\t%.3f\t%s\n", name, st, sent, received, avg,
                               max, detail);
        if (write(fd, line, strlen(line)) < 0)
                _exit(3);
}

static double ms_since(gint64 t0)
{
        return (double)(g_get_monotonic_time() - t0) / 1000.0;
}

/* Waits until fd is readable or deadline (monotonic, µs) passes. */
static gboolean wait_readable(int fd, gint64 deadline)
{
        gint64 left = deadline - g_get_monotonic_time();
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (left <= 0)
                return FALSE;
        return poll(&p, 1, (int)((left + 999) / 1000)) > 0;
}

typedef struct __attribute__((packed)) {
        guint8 op, htype, hlen, hops;
        guint32 xid;
        guint16 secs, flags;
        guint32 ciaddr, yiaddr, siaddr, giaddr;
        guint8 chaddr[16];
        guint8 sname[64];
        guint8 file[128];
        guint32 magic;
        guint8 options[308];
} DhcpMsg;

#define DHCP_MAGIC 0x63825363
enum { DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPACK = 5, DHCPNAK = 6, DHCPRELEASE = 7 };

typedef struct {
        guint8 mac[6];
        guint32 xid;
        struct in_addr yiaddr, server, router, dns, mask;
        gboolean has_router, has_dns, has_mask;
} Dhcp;

static gsize dhcp_build(DhcpMsg *m, const Dhcp *d, guint8 type)
{
        guint8 *o = m->options;

        memset(m, 0, sizeof(*m));
        m->op = 1;
        m->htype = 1;
        m->hlen = 6;
        m->xid = d->xid;
        /* broadcast replies: the probe has no address to take a unicast one */
        m->flags = htons(type == DHCPRELEASE ? 0 : 0x8000);
        memcpy(m->chaddr, d->mac, 6);
        m->magic = htonl(DHCP_MAGIC);
        *o++ = 53, *o++ = 1, *o++ = type;
        if (type == DHCPREQUEST) {
                *o++ = 50, *o++ = 4;
                memcpy(o, &d->yiaddr, 4), o += 4;
        }
        if (type == DHCPREQUEST || type == DHCPRELEASE) {
                *o++ = 54, *o++ = 4;
                memcpy(o, &d->server, 4), o += 4;
        }
        if (type == DHCPRELEASE)
                m->ciaddr = d->yiaddr.s_addr;
        else
                *o++ = 55, *o++ = 4, *o++ = 1, *o++ = 3, *o++ = 6, *o++ = 54;
        *o++ = 255;
        return (gsize)(o - (guint8 *)m);
}

/* The message type of a reply to d's transaction (filling d), 0 for anything else. */
static guint8 dhcp_parse(const DhcpMsg *m, gssize len, Dhcp *d)
{
        const guint8 *o = m->options, *end = (const guint8 *)m + len;
        guint8 type = 0;

        if (len < (gssize)offsetof(DhcpMsg, options) || m->op != 2 || m->xid != d->xid ||
            memcmp(m->chaddr, d->mac, 6) != 0 || m->magic != htonl(DHCP_MAGIC))
                return 0;
        while (o + 2 <= end && *o != 255) {
                guint8 code = o[0], l = o[1];

                if (code == 0) {
                        o++;
                        continue;
                }
                if (o + 2 + l > end)
                        break;
                if (code == 53 && l == 1)
                        type = o[2];
                else if (code == 54 && l >= 4)
                        memcpy(&d->server, o + 2, 4);
                else if (code == 3 && l >= 4)
                        memcpy(&d->router, o + 2, 4), d->has_router = TRUE;
                else if (code == 6 && l >= 4)
                        memcpy(&d->dns, o + 2, 4), d->has_dns = TRUE;
                else if (code == 1 && l == 4)
                        memcpy(&d->mask, o + 2, 4), d->has_mask = TRUE;
                o += 2 + l;
        }
        if (type == DHCPOFFER || type == DHCPACK)
                d->yiaddr.s_addr = m->yiaddr;
        return type;
}

/*
 * Sends type every DHCP_RESEND_MS, at most DHCP_TRIES times, and waits for a
 * reply of want (or a NAK) until DHCP_WAIT_MS after the first: dnsmasq pings
 * an address before it first offers it, which holds the offer back for
 * seconds. *sent counts the messages.
 */
static guint8 dhcp_exchange(int fd, Dhcp *d, guint8 type, guint8 want, guint *sent)
{
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67),
                                  .sin_addr.s_addr = INADDR_BROADCAST };
        DhcpMsg m;
        gsize len = dhcp_build(&m, d, type);
        gint64 start = g_get_monotonic_time(), deadline = start + DHCP_WAIT_MS * 1000;
        gint64 next = start;

        for (;;) {
                gint64 now = g_get_monotonic_time();

                if (now >= deadline)
                        return 0;
                if (now >= next && *sent < DHCP_TRIES) {
                        if (sendto(fd, &m, len, 0, (struct sockaddr *)&to, sizeof(to)) >= 0)
                                (*sent)++;
                        next = now + DHCP_RESEND_MS * 1000;
                }
                if (wait_readable(fd, MIN(deadline, *sent < DHCP_TRIES ? next : deadline))) {
                        DhcpMsg r;
                        gssize n = recv(fd, &r, sizeof(r), 0);
                        guint8 got = n > 0 ? dhcp_parse(&r, n, d) : 0;

                        if (got == want || got == DHCPNAK)
                                return got;
                }
        }
}

static int dhcp_socket(void)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
        struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(68) };

        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, PROBE_IF, sizeof(PROBE_IF)) < 0 ||
            bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
                return -1;
        return fd;
}

static gboolean step_dhcp(int out, int fd, Dhcp *d)
{
        guint sent = 0, received = 0;
        gint64 t0 = g_get_monotonic_time();
        guint8 got = 0;

        /* a lost DHCPACK (seen once on a loaded machine) gets a second exchange */
        for (guint round = 0; round < 2 && got != DHCPACK; round++) {
                guint discovers = 0, requests = 0;

                got = dhcp_exchange(fd, d, DHCPDISCOVER, DHCPOFFER, &discovers);
                sent += discovers;
                if (got != DHCPOFFER) {
                        report(out, "dhcp", VMNET_PROBE_FAILED, sent, received, 0, 0,
                               "no DHCPOFFER to %u DHCPDISCOVER (is the network's dnsmasq running?)",
                               discovers);
                        return FALSE;
                }
                received++;
                got = dhcp_exchange(fd, d, DHCPREQUEST, DHCPACK, &requests);
                sent += requests;
        }
        if (got != DHCPACK) {
                g_autofree char *a = g_strdup(inet_ntoa(d->yiaddr));
                struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67),
                                          .sin_addr.s_addr = INADDR_BROADCAST };
                DhcpMsg m;
                gsize len = dhcp_build(&m, d, DHCPRELEASE);

                /* the server may have leased it all the same: give it back (broadcast: no address yet) */
                sendto(fd, &m, len, 0, (struct sockaddr *)&to, sizeof(to));
                report(out, "dhcp", VMNET_PROBE_FAILED, sent, received, 0, 0, "offered %s, then %s", a,
                       got == DHCPNAK ? "DHCPNAK" : "no DHCPACK");
                return FALSE;
        }
        received++;
        {
                double ms = ms_since(t0);
                g_autofree char *a = g_strdup(inet_ntoa(d->yiaddr));
                g_autofree char *s = g_strdup(inet_ntoa(d->server));
                g_autofree char *r = g_strdup(d->has_router ? inet_ntoa(d->router) : "none");
                g_autofree char *n = g_strdup(d->has_dns ? inet_ntoa(d->dns) : "none");

                report(out, "dhcp", VMNET_PROBE_OK, sent, received, ms, ms,
                       "lease of %s from %s, router %s, DNS %s", a, s, r, n);
        }
        return TRUE;
}

static guint16 csum(const void *data, gsize len)
{
        const guint8 *p = data;
        guint32 sum = 0;

        for (gsize i = 0; i + 1 < len; i += 2)
                sum += (guint32)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                sum += (guint32)(p[len - 1] << 8);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((guint16)~sum);
}

/* PINGS echo requests to dst, one at a time, each awaited ATTEMPT_MS. */
static gboolean step_ping(int out, const char *name, struct in_addr dst)
{
        int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };
        guint16 id = (guint16)getpid();
        guint received = 0;
        double total = 0, max = 0;
        g_autofree char *unreachable = NULL;
        g_autofree char *dsts = g_strdup(inet_ntoa(dst));

        if (fd < 0) {
                report(out, name, VMNET_PROBE_FAILED, 0, 0, 0, 0, "ICMP socket: %s", g_strerror(errno));
                return FALSE;
        }
        for (guint seq = 1; seq <= PINGS; seq++) {
                guint8 pkt[64] = { 0 };
                struct icmphdr *h = (struct icmphdr *)pkt;
                gint64 t0 = g_get_monotonic_time(), deadline = t0 + ATTEMPT_MS * 1000;
                gboolean answered = FALSE;

                h->type = ICMP_ECHO;
                h->un.echo.id = htons(id);
                h->un.echo.sequence = htons((guint16)seq);
                h->checksum = csum(pkt, sizeof(pkt));
                if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
                        g_free(unreachable);
                        unreachable = g_strdup_printf("sending: %s", g_strerror(errno));
                        continue;
                }
                while (!answered && wait_readable(fd, deadline)) {
                        guint8 buf[1500];
                        gssize n = recv(fd, buf, sizeof(buf), 0);
                        const struct iphdr *ip = (const struct iphdr *)buf;
                        gsize hl = n > 0 ? (gsize)ip->ihl * 4 : 0;
                        const struct icmphdr *r = (const struct icmphdr *)(buf + hl);

                        if (n <= 0 || (gsize)n < hl + sizeof(*r))
                                continue;
                        if ((r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id &&
                             ntohs(r->un.echo.sequence) == seq && ip->saddr == dst.s_addr) ||
                            (VMNET_MUTANT_IS(PROBE_ANY_ANSWER) && r->type == ICMP_DEST_UNREACH)) {
                                double ms = ms_since(t0);

                                answered = TRUE;
                                received++;
                                total += ms;
                                max = MAX(max, ms);
                        } else if (r->type == ICMP_DEST_UNREACH || r->type == ICMP_TIME_EXCEEDED) {
                                /* an error about our echo: the original header follows */
                                const struct iphdr *oip = (const struct iphdr *)(r + 1);
                                const struct icmphdr *oh;

                                if ((gsize)n < hl + sizeof(*r) + sizeof(*oip) + 8 || oip->daddr != dst.s_addr)
                                        continue;
                                oh = (const struct icmphdr *)((const guint8 *)oip + oip->ihl * 4);
                                if ((const guint8 *)oh + 8 > buf + n || ntohs(oh->un.echo.id) != id)
                                        continue;
                                g_free(unreachable);
                                unreachable = g_strdup_printf("%s (type %u code %u) from %s",
                                                              r->type == ICMP_DEST_UNREACH ? "destination unreachable" : "time exceeded",
                                                              r->type, r->code,
                                                              inet_ntoa(*(const struct in_addr *)&ip->saddr));
                                break;
                        }
                }
        }
        close(fd);
        if (!received) {
                report(out, name, VMNET_PROBE_FAILED, PINGS, 0, 0, 0, "no echo reply from %s%s%s", dsts,
                       unreachable ? ": " : "", unreachable ? unreachable : "");
                return FALSE;
        }
        report(out, name, VMNET_PROBE_OK, PINGS, received, total / received, max, "%s answered", dsts);
        return TRUE;
}

static gboolean step_dns(int out, struct in_addr server)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr = server };
        guint received = 0, sent = 0;
        double total = 0, max = 0;
        int rcode = -1;
        g_autofree char *err = NULL;
        g_autofree char *ss = g_strdup(inet_ntoa(server));

        if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
                report(out, "dns", VMNET_PROBE_FAILED, 0, 0, 0, 0, "UDP socket to %s:53: %s", ss,
                       g_strerror(errno));
                if (fd >= 0)
                        close(fd);
                return FALSE;
        }
        for (guint q = 1; q <= DNS_QUERIES; q++) {
                /* "vmnet-probe" A: a name without a dot, which dnsmasq (domain-needed) answers itself */
                static const guint8 question[] = { 11, 'v', 'm', 'n', 'e', 't', '-', 'p', 'r', 'o', 'b', 'e',
                                                    0, 0, 1, 0, 1 };
                guint8 msg[12 + sizeof(question)] = { 0 };
                guint16 qid = (guint16)(getpid() + q);
                gint64 t0 = g_get_monotonic_time(), deadline = t0 + ATTEMPT_MS * 1000;
                gboolean answered = FALSE;

                msg[0] = qid >> 8, msg[1] = qid & 0xff;
                msg[2] = 0x01; /* RD */
                msg[5] = 1;    /* QDCOUNT */
                memcpy(msg + 12, question, sizeof(question));
                sent++;
                if (send(fd, msg, sizeof(msg), 0) < 0) {
                        g_free(err);
                        err = g_strdup(g_strerror(errno));
                        continue;
                }
                while (!answered && wait_readable(fd, deadline)) {
                        guint8 r[512];
                        gssize n = recv(fd, r, sizeof(r), 0);

                        if (n < 0) {
                                g_free(err);
                                err = g_strdup(errno == ECONNREFUSED ? "port unreachable: nothing listens on port 53"
                                                                     : g_strerror(errno));
                                break;
                        }
                        if (n >= 12 && r[0] == msg[0] && r[1] == msg[1] && (r[2] & 0x80)) {
                                double ms = ms_since(t0);

                                answered = TRUE;
                                received++;
                                total += ms;
                                max = MAX(max, ms);
                                rcode = r[3] & 0x0f;
                        }
                }
                if (!answered)
                        g_usleep(100 * 1000); /* an ICMP error would come back at once */
        }
        close(fd);
        if (!received) {
                report(out, "dns", VMNET_PROBE_FAILED, sent, 0, 0, 0, "no answer from %s:53%s%s", ss,
                       err ? ": " : "", err ? err : "");
                return FALSE;
        }
        report(out, "dns", VMNET_PROBE_OK, sent, received, total / received, max,
               "%s:53 answered (rcode %d)", ss, rcode);
        return TRUE;
}

static void dhcp_release(int fd, const Dhcp *d)
{
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr = d->server };
        DhcpMsg m;
        gsize len = dhcp_build(&m, d, DHCPRELEASE);

        if (VMNET_MUTANT_IS(PROBE_NO_RELEASE))
                return;
        /* from the leased address, as a client releases */
        sendto(fd, &m, len, 0, (struct sockaddr *)&to, sizeof(to));
}

static guint mask_len(struct in_addr m)
{
        return (guint)__builtin_popcount(m.s_addr);
}

/* What the forward step needs: the forward, and why it is not probed (NULL: it is). */
typedef struct {
        const VmnetPortForward *fwd;
        VmnetAddr host;   /* the host address the parent connects to */
        char *why_not;
} ProbeForward;

#define CONNECT_LINE "@connect\n"
#define FORWARD_TOKEN "vmnet-probe\n"

/*
 * The port forward, back in: the probe takes the forward's guest address,
 * listens on its port, asks the parent (a CONNECT_LINE on the results pipe)
 * to connect to the forward from the host, and waits for the token.
 */
static void step_forward(int out, struct nl_sock *sk, const ProbeForward *pf, guint prefixlen)
{
        const VmnetPortForward *f = pf->fwd;
        struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(f->to_port) };
        g_autoptr(GError) error = NULL;
        g_autofree char *to = vmnet_addr_to_string(&f->to);
        int one = 1, fd, c;
        gint64 t0, deadline;
        char buf[64] = { 0 };
        gssize n = 0;

        if (pf->why_not) {
                report(out, "forward", VMNET_PROBE_SKIPPED, 0, 0, 0, 0, "%s", pf->why_not);
                return;
        }
        memcpy(&me.sin_addr, f->to.bytes, 4);
        if (!vmnet_nl_addr(sk, PROBE_IF, &f->to, prefixlen, TRUE, &error) ||
            (fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
                report(out, "forward", VMNET_PROBE_FAILED, 0, 0, 0, 0, "taking %s: %s", to,
                       error ? error->message : g_strerror(errno));
                return;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 || listen(fd, 1) < 0) {
                report(out, "forward", VMNET_PROBE_FAILED, 0, 0, 0, 0, "listening on %s:%u: %s", to,
                       f->to_port, g_strerror(errno));
                close(fd);
                return;
        }
        t0 = g_get_monotonic_time();
        deadline = t0 + 3 * ATTEMPT_MS * 1000;
        if (write(out, CONNECT_LINE, strlen(CONNECT_LINE)) < 0)
                _exit(3);
        if (wait_readable(fd, deadline) && (c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                if (wait_readable(c, deadline))
                        n = recv(c, buf, sizeof(buf) - 1, 0);
                close(c);
        }
        close(fd);
        if ((n > 0 && g_str_has_prefix(buf, FORWARD_TOKEN)) ||
            VMNET_MUTANT_IS(PROBE_NO_FORWARD_CHECK)) {
                double ms = ms_since(t0);
                g_autofree char *host = vmnet_addr_to_string(&pf->host);

                report(out, "forward", VMNET_PROBE_OK, 1, 1, ms, ms,
                       "tcp %s:%u from the host reached the probe at %s:%u", host, f->host_port, to,
                       f->to_port);
        } else {
                g_autofree char *host = vmnet_addr_to_string(&pf->host);

                report(out, "forward", VMNET_PROBE_FAILED, 1, 0, 0, 0,
                       "tcp %s:%u from the host never reached the probe at %s:%u", host,
                       f->host_port, to, f->to_port);
        }
}

static int guest_main(int out, const VmnetAddr *target, const char *net_mode, const ProbeForward *pf)
{
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(GError) error = NULL;
        Dhcp d = { .xid = g_random_int() };
        struct ifreq ifr = { 0 };
        int fd, ufd;
        VmnetAddr a = { .family = AF_INET };
        gboolean have_route;

        if (!(sk = vmnet_nl_open(&error)) || !vmnet_nl_link_set_up(sk, PROBE_IF, TRUE, &error)) {
                report(out, "dhcp", VMNET_PROBE_FAILED, 0, 0, 0, 0, "setting up the probe: %s",
                       error->message);
                return 1;
        }
        ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        g_strlcpy(ifr.ifr_name, PROBE_IF, sizeof(ifr.ifr_name));
        if (ufd < 0 || ioctl(ufd, SIOCGIFHWADDR, &ifr) < 0) {
                report(out, "dhcp", VMNET_PROBE_FAILED, 0, 0, 0, 0, "reading the probe's MAC: %s",
                       g_strerror(errno));
                return 1;
        }
        close(ufd);
        memcpy(d.mac, ifr.ifr_hwaddr.sa_data, 6);
        if ((fd = dhcp_socket()) < 0) {
                report(out, "dhcp", VMNET_PROBE_FAILED, 0, 0, 0, 0, "DHCP client socket: %s",
                       g_strerror(errno));
                return 1;
        }
        if (!step_dhcp(out, fd, &d)) {
                report(out, "gateway", VMNET_PROBE_SKIPPED, 0, 0, 0, 0, "no address (dhcp failed)");
                report(out, "dns", VMNET_PROBE_SKIPPED, 0, 0, 0, 0, "no address (dhcp failed)");
                report(out, "outside", VMNET_PROBE_SKIPPED, 0, 0, 0, 0, "no address (dhcp failed)");
                report(out, "forward", VMNET_PROBE_SKIPPED, 0, 0, 0, 0, "no address (dhcp failed)");
                return 0;
        }
        memcpy(a.bytes, &d.yiaddr, 4);
        if (!vmnet_nl_addr(sk, PROBE_IF, &a, d.has_mask ? mask_len(d.mask) : 24, TRUE, &error)) {
                report(out, "gateway", VMNET_PROBE_FAILED, 0, 0, 0, 0, "configuring the lease: %s",
                       error->message);
                dhcp_release(fd, &d);
                return 1;
        }
        have_route = d.has_router;
        if (d.has_router) {
                VmnetNlRoute r = { .has_gateway = TRUE, .oif = PROBE_IF };

                vmnet_prefix_parse("0.0.0.0/0", &r.dst, NULL);
                r.gateway.family = AF_INET;
                memcpy(r.gateway.bytes, &d.router, 4);
                have_route = vmnet_nl_route(sk, VMNET_NL_ROUTE_ADD, &r, NULL);
        }
        if (d.has_router)
                step_ping(out, "gateway", d.router);
        else
                report(out, "gateway", VMNET_PROBE_SKIPPED, 0, 0, 0, 0,
                       "the lease names no router (%s network)", net_mode);
        if (d.has_dns)
                step_dns(out, d.dns);
        else
                report(out, "dns", VMNET_PROBE_SKIPPED, 0, 0, 0, 0, "the lease names no DNS server");
        if (!target)
                report(out, "outside", VMNET_PROBE_SKIPPED, 0, 0, 0, 0,
                       "no --probe-target ADDRESS to reach");
        else if (!have_route)
                report(out, "outside", VMNET_PROBE_SKIPPED, 0, 0, 0, 0,
                       "no default route (the lease names no router)");
        else {
                struct in_addr t;

                memcpy(&t, target->bytes, 4);
                step_ping(out, "outside", t);
        }
        step_forward(out, sk, pf, d.has_mask ? mask_len(d.mask) : 24);
        dhcp_release(fd, &d);
        close(fd);
        return 0;
}

/* ------------------------------------------------------------ the parent */

static gboolean parse_line(const char *line, VmnetProbe *p)
{
        g_auto(GStrv) f = g_strsplit(line, "\t", 7);
        VmnetProbeStep *s;

        if (g_strv_length(f) != 7)
                return FALSE;
        s = g_new0(VmnetProbeStep, 1);
        s->name = g_strdup(f[0]);
        s->status = (VmnetProbeStatus)CLAMP(atoi(f[1]), 0, 2);
        s->sent = (guint)atoi(f[2]);
        s->received = (guint)atoi(f[3]);
        s->avg_ms = g_ascii_strtod(f[4], NULL);
        s->max_ms = g_ascii_strtod(f[5], NULL);
        s->detail = g_strdup(f[6]);
        g_ptr_array_add(p->steps, s);
        if (s->status == VMNET_PROBE_FAILED && !p->failed)
                p->failed = s->name;
        return TRUE;
}

/*
 * The forward the probe tries: the network's first TCP forward to an IPv4
 * address, unless the host's neighbour table shows its guest there (the
 * probe would steal its address).
 */
static void choose_forward(struct nl_sock *sk, const VmnetNetwork *net, ProbeForward *pf)
{
        g_autoptr(GPtrArray) neigh = vmnet_nl_neighbours(sk, NULL);
        const VmnetSubnet *sub = vmnet_network_first_subnet(net, AF_INET);

        for (guint i = 0; i < net->forwards->len && !pf->fwd; i++) {
                const VmnetPortForward *f = g_ptr_array_index(net->forwards, i);

                if (f->proto == VMNET_PROTO_TCP && f->to.family == AF_INET &&
                    (!f->has_host_ip || f->host_ip.family == AF_INET))
                        pf->fwd = f;
        }
        if (!pf->fwd) {
                pf->why_not = g_strdup("the network has no TCP port forward to an IPv4 address");
                return;
        }
        if (pf->fwd->has_host_ip)
                pf->host = pf->fwd->host_ip;
        else if (sub && sub->has_gateway)
                pf->host = sub->gateway;
        else {
                pf->why_not = g_strdup("no host address to connect to (the forward has no host-ip=, "
                                       "the network no IPv4 gateway)");
                return;
        }
        for (guint i = 0; neigh && i < neigh->len; i++) {
                const VmnetNlNeighbour *ne = g_ptr_array_index(neigh, i);

                if (vmnet_addr_equal(&ne->ip, &pf->fwd->to) && (ne->state & (NUD_REACHABLE | NUD_STALE |
                                                                             NUD_DELAY | NUD_PROBE |
                                                                             NUD_PERMANENT))) {
                        g_autofree char *to = vmnet_addr_to_string(&ne->ip);
                        g_autofree char *mac = vmnet_mac_to_string(&ne->mac);

                        pf->why_not = g_strdup_printf("%s, the forward's guest address, is in use (by %s): "
                                                      "the probe does not take it", to, mac);
                        return;
                }
        }
}

/* The parent's side of the forward step: one TCP connection to the forward, with the token. */
static void connect_forward(const ProbeForward *pf)
{
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(pf->fwd->host_port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int err = 0;
        socklen_t len = sizeof(err);

        if (fd < 0)
                return;
        memcpy(&to.sin_addr, pf->host.bytes, 4);
        if ((connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 || errno == EINPROGRESS) &&
            poll(&p, 1, 2 * ATTEMPT_MS) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
                if (send(fd, FORWARD_TOKEN, strlen(FORWARD_TOKEN), MSG_NOSIGNAL) < 0)
                        err = errno;
        }
        close(fd);
}

gboolean vmnet_probe_run(const VmnetNetwork *net, const VmnetAddr *target, VmnetProbe **out,
                         GError **error)
{
        ProbeForward pf = { 0 };
        g_autoptr(VmnetNlSock) sk = NULL;
        g_autoptr(VmnetProbe) p = g_new0(VmnetProbe, 1);
        g_autoptr(GString) text = g_string_new(NULL);
        int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, res[2] = { -1, -1 };
        pid_t pid;
        char c = 0;
        gboolean ok = FALSE;
        int status;

        p->network = g_strdup(net->name);
        p->steps = g_ptr_array_new_with_free_func(step_free);
        p->port = g_strdup_printf("vmnprobe%u", (guint)getpid() % 1000000);
        if (!(sk = vmnet_nl_open(error)))
                return FALSE;
        choose_forward(sk, net, &pf);
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "probe: pipe: %s", g_strerror(errno));
                goto out;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "probe: fork: %s", g_strerror(errno));
                goto out;
        }
        if (pid == 0) {
                /* the guest: a namespace of its own, gone when it exits */
                close(ready[0]), close(go[1]), close(res[0]);
                c = unshare(CLONE_NEWNET) == 0 ? 'r' : 'e';
                if (write(ready[1], &c, 1) != 1 || c != 'r' || read(go[0], &c, 1) != 1 || c != 'g')
                        _exit(2);
                _exit(guest_main(res[1], target, vmnet_mode_to_string(net->mode), &pf));
        }
        close(ready[1]), close(go[0]), close(res[1]);
        ready[1] = go[0] = res[1] = -1;
        if (read(ready[0], &c, 1) != 1 || c != 'r') {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "probe: the child could not make a network namespace");
        } else if (vmnet_nl_veth_create(sk, p->port, PROBE_IF, pid, error) &&
                   vmnet_nl_link_set_master(sk, p->port, net->bridge, error) &&
                   vmnet_nl_link_set_up(sk, p->port, TRUE, error)) {
                c = 'g';
                ok = write(go[1], &c, 1) == 1;
        }
        close(go[1]);
        go[1] = -1;
        if (ok) {
                /* the child bounds every step; this read ends when it exits */
                char buf[1024];
                gssize n;

                const char *at;

                while ((n = read(res[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
                        if (n > 0)
                                g_string_append_len(text, buf, n);
                        /* the forward step waits for the host's connection */
                        if ((at = strstr(text->str, CONNECT_LINE))) {
                                g_string_erase(text, at - text->str, strlen(CONNECT_LINE));
                                connect_forward(&pf);
                        }
                }
        } else {
                kill(pid, SIGKILL);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
out:
        /* whatever happened: the host end goes (the child's exit took it with its namespace) */
        vmnet_nl_link_delete(sk, p->port, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(ready); i++) {
                if (ready[i] >= 0)
                        close(ready[i]);
                if (go[i] >= 0)
                        close(go[i]);
                if (res[i] >= 0)
                        close(res[i]);
        }
        g_free(pf.why_not);
        if (!ok)
                return FALSE;
        {
                g_auto(GStrv) lines = g_strsplit(text->str, "\n", -1);

                for (guint i = 0; lines[i]; i++)
                        if (*lines[i])
                                parse_line(lines[i], p);
        }
        if (!p->steps->len) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "probe: the probe reported nothing (exit status %d)", status);
                return FALSE;
        }
        *out = g_steal_pointer(&p);
        return TRUE;
}
