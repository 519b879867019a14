/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <check.h>
#include <glib.h>

#include "ipam/ipam.h"
#include "model/model.h"

/* $(abs_top_srcdir)/relpath. Caller frees. */
char *vmnet_test_path(const char *relpath);

/*
 * Compares actual with the golden file tests/data/<relpath>. With
 * VMNET_REGENERATE=1 in the environment, (re)writes the golden file instead.
 * On mismatch the test fails and the actual output is left in
 * <relpath>.actual under the build tree for diffing.
 */
void vmnet_test_golden(const char *relpath, const char *actual);

/* Loads, finalizes and validates a plan (path relative to the source tree); fails the test on any error. */
VmnetPlan *vmnet_test_load_plan(const char *relpath);

/*
 * What vmnet's IPAM gives plan's interfaces on a first apply (nothing
 * recorded, no leases); fails the test when it cannot. Caller frees.
 */
VmnetIpam *vmnet_test_fresh_ipam(const VmnetPlan *plan);

/* Loads, finalizes and validates a plan from text (named name in messages); fails the test on any error. */
VmnetPlan *vmnet_test_plan_from_string(const char *xml, const char *name);

/* Appends a network to a plan built in C (borrowed pointer into plan). */
VmnetNetwork *vmnet_test_add_network(VmnetPlan *plan, const char *name, VmnetMode mode,
                                     const char *bridge);

/* Every file in a source-tree directory ending in suffix, sorted. Caller frees (g_strfreev). */
char **vmnet_test_list_dir(const char *reldir, const char *suffix);
/* The same over several directories (NULL-terminated), in that order; usable outside a test. */
char **vmnet_test_list_dirs(const char *const *reldirs, const char *suffix);
