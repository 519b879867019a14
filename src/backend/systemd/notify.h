/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What vmnet says to systemd (vmnet(8), SYSTEMD): the sd_notify(3) protocol
 * of a Type=notify service, one datagram to $NOTIFY_SOCKET, written here
 * rather than through libsystemd so that vmnet needs no systemd at all where
 * there is none (a test namespace, a container): without $NOTIFY_SOCKET it
 * does nothing.
 */

#include <glib.h>

/* Sends state ("READY=1\nSTATUS=...") to the service manager; FALSE when not sent. */
gboolean vmnet_systemd_notify(const char *state);
