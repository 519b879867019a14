/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fwgen: the traffic of the forwarding benchmark (bench/run-fwd.sh), so that
 * it needs no traffic generator package. The receiver counts what arrives;
 * the sender's own rate is never reported.
 *
 *   fwgen tcp-recv PORT SECONDS READY   accept one connection; from its first
 *                                       byte, count bytes for SECONDS
 *   fwgen udp-recv PORT SECONDS READY   from the first datagram, count
 *                                       datagrams for SECONDS (recvmmsg)
 *   fwgen tcp-send ADDR PORT SECONDS    write 128 KiB chunks until the
 *                                       receiver closes or SECONDS pass
 *   fwgen udp-send ADDR PORT SECONDS    18-byte datagrams (64-byte Ethernet
 *                                       frames with the FCS), 64 per sendmmsg
 *
 * A receiver creates the file READY once it is bound (the harness waits for
 * it instead of sleeping), gives up after 10 s without traffic, and prints
 * one line: "<count> <seconds> <peer address>", where count is bytes (tcp)
 * or datagrams (udp) received inside the window and seconds the window's
 * measured length.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UDP_PAYLOAD 18 /* 14 Ethernet + 20 IPv4 + 8 UDP + 18 + 4 FCS = 64 */
#define BATCH 64
#define CHUNK (128 * 1024)
#define IDLE_MS 10000

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
        perror(what);
        exit(1);
}

static int bound(int type, const char *port, const char *ready)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
        int one = 1, buf = 8 << 20;
        int fd = socket(AF_INET, type, 0);

        if (fd < 0)
                die("socket");
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* as much as the namespace allows: drops at the socket are not forwarding's cost */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                die("bind");
        if (type == SOCK_STREAM && listen(fd, 1) < 0)
                die("listen");
        if (close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
                die(ready);
        return fd;
}

static int wait_readable(int fd, int ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, ms);

        if (r < 0 && errno != EINTR)
                die("poll");
        return r > 0;
}

/* The window [t0, t] must have lasted (nearly) secs: else the traffic stopped early. */
static int report(unsigned long long count, double t0, double t, double secs,
                  const struct sockaddr_in *peer, const char *what)
{
        char addr[INET_ADDRSTRLEN] = "-";

        if (t0 == 0 || t - t0 < secs * 0.9) {
                fprintf(stderr, "fwgen: the %s stopped after %.3f s\n", what, t0 ? t - t0 : 0);
                return 1;
        }
        inet_ntop(AF_INET, &peer->sin_addr, addr, sizeof(addr));
        printf("%llu %.6f %s\n", count, t - t0, addr);
        return 0;
}

static int tcp_recv(const char *port, double secs, const char *ready)
{
        int lfd = bound(SOCK_STREAM, port, ready), fd;
        struct sockaddr_in peer = { 0 };
        socklen_t plen = sizeof(peer);
        static char buf[256 * 1024];
        unsigned long long bytes = 0;
        double t0 = 0, t = 0;

        if (!wait_readable(lfd, IDLE_MS)) {
                fprintf(stderr, "fwgen: no connection\n");
                return 1;
        }
        fd = accept(lfd, (struct sockaddr *)&peer, &plen);
        if (fd < 0)
                die("accept");
        for (;;) {
                ssize_t n;

                if (!wait_readable(fd, IDLE_MS))
                        break;
                n = read(fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                t = now();
                if (t0 == 0)
                        t0 = t; /* the window opens with the first byte, which it does not count */
                else
                        bytes += n;
                if (t - t0 >= secs)
                        break;
        }
        close(fd);
        close(lfd);
        return report(bytes, t0, t, secs, &peer, "stream");
}

static int udp_recv(const char *port, double secs, const char *ready)
{
        int fd = bound(SOCK_DGRAM, port, ready);
        static char bufs[BATCH][2048];
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        struct sockaddr_in peer = { 0 };
        unsigned long long count = 0;
        double t0 = 0, t = 0;

        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < BATCH; i++) {
                iov[i].iov_base = bufs[i];
                iov[i].iov_len = sizeof(bufs[i]);
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
        }
        msgs[0].msg_hdr.msg_name = &peer;
        msgs[0].msg_hdr.msg_namelen = sizeof(peer);
        for (;;) {
                int n;

                if (!wait_readable(fd, t0 ? 1000 : IDLE_MS))
                        break;
                n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        die("recvmmsg");
                }
                t = now();
                if (t0 == 0) {
                        t0 = t; /* the window opens with the first batch, which it does not count */
                        msgs[0].msg_hdr.msg_name = NULL;
                } else {
                        count += n;
                }
                if (t - t0 >= secs)
                        break;
        }
        close(fd);
        return report(count, t0, t, secs, &peer, "datagrams");
}

static int connected(int type, const char *addr, const char *port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
        int fd = socket(AF_INET, type, 0);

        if (fd < 0)
                die("socket");
        if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
                fprintf(stderr, "fwgen: bad address %s\n", addr);
                exit(2);
        }
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                die("connect");
        return fd;
}

static int tcp_send(const char *addr, const char *port, double secs)
{
        int fd = connected(SOCK_STREAM, addr, port);
        static char buf[CHUNK];
        double end = now() + secs;

        memset(buf, 'x', sizeof(buf));
        while (now() < end)
                if (write(fd, buf, sizeof(buf)) < 0)
                        break; /* the receiver closed: its window is over */
        close(fd);
        return 0;
}

static int udp_send(const char *addr, const char *port, double secs)
{
        int fd = connected(SOCK_DGRAM, addr, port);
        static char payload[UDP_PAYLOAD];
        struct mmsghdr msgs[BATCH];
        struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
        double end = now() + secs;

        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < BATCH; i++) {
                msgs[i].msg_hdr.msg_iov = &iov;
                msgs[i].msg_hdr.msg_iovlen = 1;
        }
        while (now() < end)
                /* ECONNREFUSED (the receiver is gone) and ENOBUFS are not fatal */
                if (sendmmsg(fd, msgs, BATCH, 0) < 0 && errno != ECONNREFUSED &&
                    errno != ENOBUFS && errno != EINTR)
                        die("sendmmsg");
        close(fd);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 5 && strcmp(argv[1], "tcp-recv") == 0)
                return tcp_recv(argv[2], atof(argv[3]), argv[4]);
        if (argc == 5 && strcmp(argv[1], "udp-recv") == 0)
                return udp_recv(argv[2], atof(argv[3]), argv[4]);
        if (argc == 5 && strcmp(argv[1], "tcp-send") == 0)
                return tcp_send(argv[2], argv[3], atof(argv[4]));
        if (argc == 5 && strcmp(argv[1], "udp-send") == 0)
                return udp_send(argv[2], argv[3], atof(argv[4]));
        fprintf(stderr, "usage: fwgen tcp-recv|udp-recv PORT SECONDS READY\n"
                        "       fwgen tcp-send|udp-send ADDR PORT SECONDS\n");
        return 2;
}
