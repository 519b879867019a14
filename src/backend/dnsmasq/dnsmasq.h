/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * vmnet's dnsmasq instances: one per network that gets DHCP, each started
 * as `dnsmasq --conf-file=CONF` (the configuration names the bridge, the
 * pid file and the lease file; src/render/dnsmasq.c). Files:
 *   STATE/dnsmasq/PLAN/NETWORK.conf    the generated configuration
 *   STATE/dnsmasq/PLAN/NETWORK.leases  dnsmasq's lease file
 *   RUN/dnsmasq/PLAN/NETWORK.pid       its pid file
 * STATE and RUN are vmnet_state_dir() and vmnet_run_dir(), with
 * "/netns-NS" appended for a plan applied inside network namespace NS (the
 * caller has entered it: dnsmasq started from this process runs there).
 *
 * A pid file is trusted only when /proc/PID/cmdline is a dnsmasq started
 * with this configuration file, so a stale pid file (after a reboot) never
 * makes vmnet signal another process.
 *
 * Who runs an instance (vmnet(8), SYSTEMD): on a host booted with systemd
 * whose system bus answers, systemd does, each instance a transient service
 * of its own (VmnetDnsmasqPaths.unit; its properties are
 * vmnet_render_dnsmasq_unit()'s), restarted when it fails, in its own
 * cgroup rather than in the session that ran vmnet; start, stop and "is it
 * running" go to systemd over D-Bus. Elsewhere (a container, a test
 * namespace) vmnet forks dnsmasq itself and finds it by its pid file.
 */

#include <glib.h>

#include "ipam/ipam.h"
#include "model/model.h"
#include "util/error.h"

typedef struct {
        char *plan;
        char *netns; /* NULL: the host's */
        char *network;
        char *unit; /* "vmnet-dnsmasq-[NETNS:]PLAN:NETWORK.service" (systemd) */
        char *conf_path;
        char *lease_path;
        char *pid_path;
} VmnetDnsmasqPaths;

/* The files of network's instance. Caller frees. */
VmnetDnsmasqPaths *vmnet_dnsmasq_paths(const char *plan_name, const char *netns,
                                       const char *network);
VmnetDnsmasqPaths *vmnet_dnsmasq_paths_copy(const VmnetDnsmasqPaths *p);
void vmnet_dnsmasq_paths_free(VmnetDnsmasqPaths *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetDnsmasqPaths, vmnet_dnsmasq_paths_free)

/* The names of the networks that have a configuration file for plan_name, sorted. Caller frees. */
char **vmnet_dnsmasq_list_networks(const char *plan_name, const char *netns);

typedef enum {
        VMNET_DNSMASQ_BY_VMNET,   /* forked by vmnet, found by its pid file */
        VMNET_DNSMASQ_BY_SYSTEMD, /* a transient unit of systemd's */
} VmnetDnsmasqSupervisor;

/*
 * Who runs dnsmasq on this host: systemd when the host was booted with it
 * (/run/systemd/system) and the system bus can be reached, else vmnet (decided
 * once per process). A test build obeys $VMNET_DNSMASQ_SUPERVISOR ("fork" or
 * "systemd") when set.
 */
VmnetDnsmasqSupervisor vmnet_dnsmasq_supervisor(void);

/*
 * The systemd unit name of an instance: "vmnet-dnsmasq-" [NETNS ":"] PLAN
 * ":" NETWORK ".service", a byte other than [A-Za-z0-9_.-] as "\xNN" (as
 * systemd-escape(1) writes it). Caller frees.
 */
char *vmnet_dnsmasq_unit_name(const char *plan_name, const char *netns, const char *network);

/* The dnsmasq binary: /usr/sbin/dnsmasq (a test build: $VMNET_DNSMASQ when set). */
const char *vmnet_dnsmasq_binary(void);

/*
 * The pid of the dnsmasq running with p's configuration, 0 when none; under
 * systemd, the MainPID of p's unit when the unit is active.
 */
int vmnet_dnsmasq_running_pid(const VmnetDnsmasqPaths *p);

/* The content of path, NULL when it does not exist. */
gboolean vmnet_dnsmasq_read_file(const char *path, char **content, GError **error);

/*
 * Writes content to path atomically (creating its directory), or removes
 * path when content is NULL.
 */
gboolean vmnet_dnsmasq_write_file(const char *path, const char *content, GError **error);

/*
 * Starts dnsmasq with p's configuration (which must be written) and waits
 * until it has daemonized; a configuration dnsmasq refuses, or a socket it
 * cannot bind, is an error carrying dnsmasq's own message.
 */
gboolean vmnet_dnsmasq_start(const VmnetDnsmasqPaths *p, GError **error);

/*
 * Many instances starting at once (a batch of dnsmasq actions,
 * src/actions/dnsmasq.c): vmnet_dnsmasq_batch_start() forks p's dnsmasq,
 * or queues its unit's start job on the batch's one connection to
 * systemd, and returns without waiting; vmnet_dnsmasq_batch_wait() then
 * waits until that instance has daemonized, with vmnet_dnsmasq_start()'s
 * errors (which is a batch of one). Every instance started must be waited
 * for before the batch is freed; what is not is only reaped then (its
 * first process), not stopped.
 */
typedef struct _VmnetDnsmasqBatch VmnetDnsmasqBatch;

VmnetDnsmasqBatch *vmnet_dnsmasq_batch_new(void);
void vmnet_dnsmasq_batch_free(VmnetDnsmasqBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetDnsmasqBatch, vmnet_dnsmasq_batch_free)
gboolean vmnet_dnsmasq_batch_start(VmnetDnsmasqBatch *b, const VmnetDnsmasqPaths *p,
                                   GError **error);
gboolean vmnet_dnsmasq_batch_wait(VmnetDnsmasqBatch *b, const VmnetDnsmasqPaths *p,
                                  GError **error);

/*
 * Stops the instance (SIGTERM, then SIGKILL after 5 s) and removes its pid
 * file. No-op when not running. Under systemd, stops its unit first (which
 * cancels a pending restart), then any dnsmasq forked by a vmnet that ran
 * without systemd with the same pid file.
 */
gboolean vmnet_dnsmasq_stop(const VmnetDnsmasqPaths *p, GError **error);

/* Parses a dnsmasq lease file (IPv4 lines; DHCPv6 lines are skipped). Returns VmnetLease*; caller frees. */
GPtrArray *vmnet_dnsmasq_parse_leases(const char *text);

/* Reads path's leases; a missing file is no leases. Caller frees. */
GPtrArray *vmnet_dnsmasq_read_leases(const char *path, GError **error);

/*
 * The leases of every network of plan that has a lease file: network name ->
 * GPtrArray of VmnetLease* (for vmnet_ipam_report() and `vmnet status`).
 * Unreadable files are skipped. Caller frees.
 */
GHashTable *vmnet_dnsmasq_read_plan_leases(const VmnetPlan *plan, const char *netns);
