/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Signals during a run that changes the host (vmnet(8), SIGNALS).
 *
 * SIGINT, SIGTERM and SIGHUP (a Ctrl-C, a stop, a dropped SSH session) do
 * not end an apply or destroy half way: a handler notes the first one, and
 * the run loop (vmnet_apply_actions_gated()) looks between steps: before
 * the last step has started it stops and undoes every completed step;
 * once the last step has started it finishes the run. The rollback is not
 * interrupted by a second signal (only SIGKILL stops it). SIGPIPE never
 * ends vmnet: a write to a closed pipe fails with EPIPE, and vmnet goes on.
 *
 * Handlers, not a blocked mask nor SIG_IGN: exec resets handled signals to
 * their default, so a dnsmasq vmnet starts is not left deaf to SIGTERM or
 * with SIGPIPE ignored; and a handler in whichever thread it runs only
 * sets a flag and writes a byte to a pipe (the self-pipe a pause waits on).
 */

#include <glib.h>

/* SIGPIPE: a write to a closed pipe returns EPIPE instead of killing vmnet. Every command. */
void vmnet_signals_ignore_sigpipe(void);

/* From now on SIGINT, SIGTERM and SIGHUP are noted, not fatal (a run about to change the host). */
void vmnet_signals_catch(void);

/* The first of them received since vmnet_signals_catch(), 0 when none (or not catching). */
int vmnet_signals_received(void);

/*
 * Waits up to seconds for a signal caught here (SIGPIPE included, but it is
 * not noted); returns vmnet_signals_received(). Sleeps when not catching.
 */
int vmnet_signals_wait(guint seconds);

/* "SIGINT", "SIGTERM", ...; a static string. */
const char *vmnet_signal_name(int sig);
