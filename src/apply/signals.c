/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "apply/signals.h"

static volatile sig_atomic_t received;
static int self_pipe[2] = { -1, -1 };
static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

/* Ends a vmnet_signals_wait(); async-signal-safe, errno kept. */
static void wake(void)
{
        int saved = errno;

        if (self_pipe[1] >= 0 && write(self_pipe[1], "", 1) < 0) {
                /* Full: a byte is waiting already. */
        }
        errno = saved;
}

static void on_signal(int sig)
{
        if (!received)
                received = sig;
        wake();
}

/* Nothing to note; only a pause (vmnet_signals_wait) ends. */
static void on_sigpipe(int sig)
{
        (void)sig;
        wake();
}

void vmnet_signals_ignore_sigpipe(void)
{
        struct sigaction sa = { .sa_handler = on_sigpipe, .sa_flags = SA_RESTART };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
}

void vmnet_signals_catch(void)
{
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

        if (self_pipe[0] < 0 && pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                self_pipe[0] = self_pipe[1] = -1; /* vmnet_signals_wait() then sleeps in steps */
        sigemptyset(&sa.sa_mask);
        for (gsize i = 0; i < G_N_ELEMENTS(caught); i++)
                sigaddset(&sa.sa_mask, caught[i]);
        for (gsize i = 0; i < G_N_ELEMENTS(caught); i++)
                sigaction(caught[i], &sa, NULL);
}

int vmnet_signals_received(void)
{
        return received;
}

int vmnet_signals_wait(guint seconds)
{
        gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
        /* A byte already there is a signal that came before the wait began: it ends it too. */
        while (!received) {
                gint64 left_ms = (end - g_get_monotonic_time()) / 1000;
                struct pollfd p = { self_pipe[0], POLLIN, 0 };
                int r;

                if (left_ms <= 0)
                        break;
                if (self_pipe[0] < 0) {
                        g_usleep(MIN(left_ms, 100) * 1000);
                        continue;
                }
                r = poll(&p, 1, (int)MIN(left_ms, G_MAXINT));
                if (r > 0)
                        break; /* a signal came: SIGPIPE too, which only ends the wait */
                if (r < 0 && errno != EINTR)
                        break;
        }
        return received;
}

const char *vmnet_signal_name(int sig)
{
        switch (sig) {
        case SIGINT:
                return "SIGINT";
        case SIGTERM:
                return "SIGTERM";
        case SIGHUP:
                return "SIGHUP";
        case SIGPIPE:
                return "SIGPIPE";
        default:
                return "a signal";
        }
}
