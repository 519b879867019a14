/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `vmnet doctor`: why does a guest have no network? Each check is one
 * VmnetDoctorCheck {name, run} in its own file (check-*.c) and one line in
 * the table in doctor.c. Checks only read: the host is observed once into
 * VmnetDoctor (links, routes, sysctls, vmnet's nft table, other tables'
 * drop chains) and every check looks at that; a check that must read more
 * (libvirt, lease files) does so read-only.
 *
 * A finding says what is wrong and the exact fix: a command (with
 * `--netns NS` / `ip -n NS` / `ip netns exec NS` when the doctor looks
 * inside a namespace) or the plan change to make.
 */

#include <glib.h>
#include <libmnl/libmnl.h>

#include "ipam/ipam.h"
#include "model/model.h"
#include "observe/host.h"
#include "backend/libvirt/libvirt.h"
#include "backend/nftables/nft.h"
#include "util/error.h"

typedef enum {
        VMNET_SEVERITY_INFO,    /* worth knowing; not a fault */
        VMNET_SEVERITY_WARNING, /* can cut guests off */
        VMNET_SEVERITY_ERROR,   /* cuts guests off */
} VmnetSeverity;

/* "info", "warning", "error". */
const char *vmnet_severity_to_string(VmnetSeverity s);

typedef struct {
        const char *check;  /* the check's name (static) */
        VmnetSeverity severity;
        char *object;       /* "bridge vt-lab", "sysctl net.ipv4.ip_forward", ... */
        char *message;
        char *fix;          /* a command or a plan change; NULL when there is none */
} VmnetFinding;

typedef enum {
        VMNET_CHECK_OK,       /* ran; no finding above info */
        VMNET_CHECK_PROBLEMS, /* ran; at least one warning or error */
        VMNET_CHECK_SKIPPED,  /* did not run (reason says why) */
} VmnetCheckStatus;

const char *vmnet_check_status_to_string(VmnetCheckStatus s);

typedef struct {
        const char *name;
        VmnetCheckStatus status;
        char *reason; /* SKIPPED: why it was not checked */
} VmnetCheckResult;

typedef struct {
        /* What to look at. */
        const VmnetPlan *plan;   /* NULL: only the checks that need no plan */
        char *netns;             /* NULL: the process's own namespace */
        char *libvirt_uri;       /* NULL: qemu:///system */
        /* The host as observed once, shared by the checks. */
        VmnetHost *host;
        VmnetNftObserved *nft;
        GPtrArray *foreign_drops;   /* VmnetNftForeignChain*; NULL when unreadable */
        char *foreign_drops_error;  /* why foreign_drops is NULL */
        VmnetLibvirtHost *virt;     /* libvirt as apply sees it, read once on first use */
        char *virt_error;           /* why virt is NULL once read */
        gboolean virt_read;
        /* Results. */
        GPtrArray *findings;        /* VmnetFinding*, in check order */
        GArray *results;            /* VmnetCheckResult, in table order */
        /* private */
        const char *current;
        VmnetIpam *ipam;            /* vmnet_doctor_ipam(), once */
        char *ipam_error;
} VmnetDoctor;

typedef struct {
        const char *name;
        const char *summary;  /* one line: what it looks for */
        gboolean needs_plan;
        /*
         * Adds findings with vmnet_doctor_add(). Returns FALSE (and sets
         * *skipped, caller frees) when it could not check at all.
         */
        gboolean (*run)(VmnetDoctor *doc, char **skipped);
} VmnetDoctorCheck;

/* The checks, in the order they run; NULL-terminated. */
extern const VmnetDoctorCheck *const vmnet_doctor_checks[];

/* plan may be NULL. Caller frees. */
VmnetDoctor *vmnet_doctor_new(const VmnetPlan *plan, const char *netns, const char *libvirt_uri);
void vmnet_doctor_free(VmnetDoctor *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetDoctor, vmnet_doctor_free)

/*
 * Reads the current network namespace (links, routes, sysctls, vmnet's
 * table, other tables' drop chains) through nft (a NETLINK_NETFILTER
 * socket). Changes nothing.
 */
gboolean vmnet_doctor_observe(VmnetDoctor *doc, struct mnl_socket *nft, GError **error);

/* Runs every check that applies (those needing a plan only with one). */
void vmnet_doctor_run(VmnetDoctor *doc);

/* Problems found: warnings and errors (infos do not count). */
guint vmnet_doctor_count(const VmnetDoctor *doc, VmnetSeverity severity);
gboolean vmnet_doctor_healthy(const VmnetDoctor *doc);

/* --- for the checks ---------------------------------------------------------- */

/* Adds a finding of the running check; takes object and fix (fix may be NULL). */
void vmnet_doctor_add(VmnetDoctor *doc, VmnetSeverity severity, char *object, char *fix,
                      const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/*
 * libvirt (doc->libvirt_uri, else qemu:///system) read once, read-only,
 * for the checks of guests' NICs; NULL with *skipped (caller frees) saying
 * why when it cannot be read. Caller owns the result.
 */
VmnetLibvirtHost *vmnet_doctor_libvirt_observe(const VmnetDoctor *doc, char **skipped);
/*
 * The same, read once for the checks that judge what apply judges (the
 * observation apply makes) and kept in doc. NULL (and *why, borrowed) when
 * libvirt is not reachable, or not used: inside a namespace without
 * --connect, as apply does.
 */
const VmnetLibvirtHost *vmnet_doctor_libvirt(VmnetDoctor *doc, const char **why);

/*
 * The plan's addresses as apply keeps them (vmnet_engine_ipam(): the state,
 * dnsmasq's leases), computed once for every check; NULL with *skipped
 * (caller frees) saying why when they cannot be. Borrowed.
 */
const VmnetIpam *vmnet_doctor_ipam(VmnetDoctor *doc, char **skipped);

/* "vmnet [--netns NS] ARGS": a vmnet command line for a fix. Caller frees. */
char *vmnet_doctor_cmd_vmnet(const VmnetDoctor *doc, const char *args);
/* "vmnet [--netns NS] apply FILE" (FILE = the plan as given, "PLAN" for stdin). Caller frees. */
char *vmnet_doctor_cmd_apply(const VmnetDoctor *doc);
/*
 * "vmnet [--netns NS] apply FILE" for a plan known only from its state file
 * (FILE from the state when it records one, else a placeholder explained
 * in the text). Caller frees.
 */
char *vmnet_doctor_cmd_apply_state(const VmnetDoctor *doc, const char *plan_name,
                                   const char *state_path);
/* "ip [-n NS] ARGS". Caller frees. */
char *vmnet_doctor_cmd_ip(const VmnetDoctor *doc, const char *args);
/* "[ip netns exec NS ]ARGS" for commands without a namespace option (sysctl, nft). Caller frees. */
char *vmnet_doctor_cmd_in_ns(const VmnetDoctor *doc, const char *args);
/* "FILE:LINE" of a plan element, for fixes that change the plan. Caller frees. */
char *vmnet_doctor_plan_where(const VmnetDoctor *doc, guint line);


/* The bridges vmnet manages here: the plan's, or without one those carrying a vmnet alias. Caller frees (char* elements owned). */
GPtrArray *vmnet_doctor_bridges(const VmnetDoctor *doc);
/* The links whose master is bridge (borrowed VmnetHostLink*). Caller frees the array. */
GPtrArray *vmnet_doctor_ports(const VmnetDoctor *doc, const char *bridge);
/* Does a domain of the plan have an interface in network? */
gboolean vmnet_doctor_network_has_guests(const VmnetDoctor *doc, const VmnetNetwork *net);

/*
 * The plans vmnet has applied in this namespace, from its state files:
 * plan name -> state file path. Caller frees.
 */
GHashTable *vmnet_doctor_state_plans(const VmnetDoctor *doc);

/* The checks (one file each). */
extern const VmnetDoctorCheck vmnet_doctor_check_links;
extern const VmnetDoctorCheck vmnet_doctor_check_bridge_ports;
extern const VmnetDoctorCheck vmnet_doctor_check_mtu;
extern const VmnetDoctorCheck vmnet_doctor_check_forwarding;
extern const VmnetDoctorCheck vmnet_doctor_check_subnet_overlap;
extern const VmnetDoctorCheck vmnet_doctor_check_nft_table;
extern const VmnetDoctorCheck vmnet_doctor_check_foreign_drops;
extern const VmnetDoctorCheck vmnet_doctor_check_br_netfilter;
extern const VmnetDoctorCheck vmnet_doctor_check_dhcp;
extern const VmnetDoctorCheck vmnet_doctor_check_libvirt;
extern const VmnetDoctorCheck vmnet_doctor_check_guest_vlans;
extern const VmnetDoctorCheck vmnet_doctor_check_antispoof;
extern const VmnetDoctorCheck vmnet_doctor_check_confirm;
extern const VmnetDoctorCheck vmnet_doctor_check_vxlan;
extern const VmnetDoctorCheck vmnet_doctor_check_bond;
extern const VmnetDoctorCheck vmnet_doctor_check_mirrors;
