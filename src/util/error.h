/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/*
 * One GError domain for the whole project.  Library code (everything but
 * src/cli) never prints: it returns GErrors or collects diagnostics, and the
 * CLI decides how to show them.
 */
#define VMNET_ERROR (vmnet_error_quark())
GQuark vmnet_error_quark(void);

typedef enum {
        VMNET_ERROR_FAILED,      /* generic */
        VMNET_ERROR_IO,          /* reading or writing a file */
        VMNET_ERROR_PARSE,       /* not well-formed XML, bad encoding, too big */
        VMNET_ERROR_SCHEMA,      /* does not match schemas/vmnet-plan.rng */
        VMNET_ERROR_INVALID,     /* semantic validation failed */
        VMNET_ERROR_NOT_FOUND,   /* a named object does not exist */
        VMNET_ERROR_CONFLICT,    /* a name is taken by an object vmnet does not own */
        VMNET_ERROR_NETLINK,     /* rtnetlink / libnl failure */
        VMNET_ERROR_NFT,         /* nftables / libnftnl failure */
        VMNET_ERROR_LIBVIRT,     /* libvirt API failure */
        VMNET_ERROR_LOCKED,      /* another vmnet holds the host lock */
        VMNET_ERROR_UNSUPPORTED, /* the kernel or libvirt lacks a feature */
        VMNET_ERROR_PARTIAL,     /* an action failed half way; its message says what it left */
        VMNET_ERROR_INTERRUPTED, /* a signal stopped the run before its last step (apply/signals.h) */
} VmnetErrorCode;

/*
 * A diagnostic tied to a place in the plan: "plan.xml:14: network 'lab': ...".
 * line is 0 when no line is known.
 */
typedef struct {
        char *file;
        guint line;
        char *message;
} VmnetDiag;

/* An ordered list of diagnostics; validation reports all of them, not only the first. */
typedef struct {
        GPtrArray *items; /* VmnetDiag*, owned */
} VmnetDiags;

VmnetDiags *vmnet_diags_new(void);
void vmnet_diags_free(VmnetDiags *diags);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmnetDiags, vmnet_diags_free)

void vmnet_diags_add(VmnetDiags *diags, const char *file, guint line, const char *fmt, ...)
        G_GNUC_PRINTF(4, 5);
guint vmnet_diags_count(const VmnetDiags *diags);
/* "file:line: message" (or "file: message" when line is 0). Caller frees. */
char *vmnet_diag_format(const VmnetDiag *diag);
/* Orders the diagnostics by file and line, keeping the order of those on one line. */
void vmnet_diags_sort(VmnetDiags *diags);
/* Moves every diagnostic into one GError (messages joined by newlines). */
void vmnet_diags_to_error(const VmnetDiags *diags, GError **error, VmnetErrorCode code);
