/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * systemd's service manager over D-Bus (org.freedesktop.systemd1, through
 * sd-bus from libsystemd; vmnet(8), SYSTEMD): transient units started,
 * stopped and read back, for the dnsmasq instances it supervises
 * (src/backend/dnsmasq/dnsmasq.c). Each call opens its own connection to
 * the system bus (VmnetSystemdJobs, one for many jobs). notify.h is the other
 * half of what vmnet says to systemd.
 */

#include <glib.h>
#include <systemd/sd-bus.h>

/* Is the host booted with systemd as its service manager (sd_booted(3): /run/systemd/system)? */
gboolean vmnet_systemd_booted(void);

/* Can the system bus be reached (a connection opens)? */
gboolean vmnet_systemd_bus_reachable(void);

/*
 * One connection to systemd's manager and the jobs queued on it, so that
 * many units start at once: queue every start, then wait for each
 * (src/backend/dnsmasq/dnsmasq.c starts a batch of dnsmasq instances so).
 * Caller frees; a job still queued then runs on in systemd, unwatched.
 */
typedef struct _VmnetSystemdJobs VmnetSystemdJobs;

/* Connects to the system bus and watches the jobs queued through it. */
VmnetSystemdJobs *vmnet_systemd_jobs_new(GError **error);
void vmnet_systemd_jobs_free(VmnetSystemdJobs *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetSystemdJobs, vmnet_systemd_jobs_free)

/*
 * Queues the start of the transient service unit `unit` with properties,
 * a GVariant of D-Bus type a(sv) (as StartTransientUnit takes them; not
 * consumed), and returns without waiting for it; the job is unit's in j,
 * and has timeout_s seconds from now to finish.
 */
gboolean vmnet_systemd_jobs_start_transient(VmnetSystemdJobs *j, const char *unit,
                                            GVariant *properties, guint timeout_s,
                                            GError **error);

/*
 * Waits until the job queued for unit in j has finished (the jobs of other
 * units finishing meanwhile are noted, not lost). A job that did not end
 * in "done" (the service failed to start) or did not end in time is an
 * error naming the unit and the job's result.
 */
gboolean vmnet_systemd_jobs_wait(VmnetSystemdJobs *j, const char *unit, GError **error);

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
