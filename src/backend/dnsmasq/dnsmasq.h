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
 */

#include <glib.h>

#include "ipam/ipam.h"
#include "model/model.h"
#include "util/error.h"

typedef struct {
        char *network;
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

/* The dnsmasq binary: /usr/sbin/dnsmasq (a test build: $VMNET_DNSMASQ when set). */
const char *vmnet_dnsmasq_binary(void);

/* The pid of the dnsmasq running with p's configuration, 0 when none. */
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

/* Stops the instance (SIGTERM, then SIGKILL after 5 s) and removes its pid file. No-op when not running. */
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
