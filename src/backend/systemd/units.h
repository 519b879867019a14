/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * systemd's service manager over D-Bus (org.freedesktop.systemd1, through
 * sd-bus from libsystemd; vmnet(8), SYSTEMD): transient units started,
 * stopped and read back, for the dnsmasq instances it supervises
 * (src/backend/dnsmasq/dnsmasq.c). Each call opens its own connection to
 * the system bus and waits for its job to finish. notify.h is the other
 * half of what vmnet says to systemd.
 */

#include <glib.h>
#include <systemd/sd-bus.h>

/* Is the host booted with systemd as its service manager (sd_booted(3): /run/systemd/system)? */
gboolean vmnet_systemd_booted(void);

/* Can the system bus be reached (a connection opens)? */
gboolean vmnet_systemd_bus_reachable(void);

/*
 * Starts the transient service unit `unit` with properties, a GVariant of
 * D-Bus type a(sv) (as StartTransientUnit takes them; not consumed), and
 * waits (at most timeout_s seconds) until its start job has finished. A
 * job that did not end in "done" (the service failed to start) is an error
 * naming the unit and the job's result.
 */
gboolean vmnet_systemd_start_transient(const char *unit, GVariant *properties, guint timeout_s,
                                       GError **error);

/* Stops unit and waits for it; a unit systemd does not know is stopped already. */
gboolean vmnet_systemd_stop_unit(const char *unit, guint timeout_s, GError **error);

/*
 * The state of unit: its ActiveState ("active", "activating", "failed",
 * ...; "inactive" for a unit systemd does not know) in *active_state
 * (caller frees) and the service's MainPID in *main_pid (0 when none).
 */
gboolean vmnet_systemd_unit_state(const char *unit, char **active_state, int *main_pid,
                                  GError **error);

/*
 * Appends v to m as the same D-Bus value (GVariant's type system is
 * D-Bus's, but for maybe types and handles, which are refused). Negative
 * errno on failure. What every call above sends its properties through.
 */
int vmnet_systemd_append_variant(sd_bus_message *m, GVariant *v);
