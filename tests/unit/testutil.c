/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "diff/engine.h"
#include "plan/plan.h"
#include "tests/unit/testutil.h"
#include "validate/validate.h"

char *vmnet_test_path(const char *relpath)
{
        return g_build_filename(TOP_SRCDIR, relpath, NULL);
}

void vmnet_test_golden(const char *relpath, const char *actual)
{
        g_autofree char *path = g_build_filename(TOP_SRCDIR, "tests", "data", relpath, NULL);
        g_autofree char *expected = NULL;
        g_autoptr(GError) error = NULL;

        if (g_strcmp0(g_getenv("VMNET_REGENERATE"), "1") == 0) {
                g_autofree char *dir = g_path_get_dirname(path);

                g_mkdir_with_parents(dir, 0755);
                ck_assert_msg(g_file_set_contents(path, actual, -1, &error), "writing %s: %s", path,
                              error ? error->message : "");
                return;
        }
        if (!g_file_get_contents(path, &expected, NULL, &error))
                ck_abort_msg("golden file %s: %s (run with VMNET_REGENERATE=1 to create it)", path,
                             error->message);
        if (g_strcmp0(expected, actual) != 0) {
                g_autofree char *out = g_build_filename(TOP_BUILDDIR, "tests", "data",
                                                        relpath, NULL);
                g_autofree char *out_actual = g_strconcat(out, ".actual", NULL);
                g_autofree char *dir = g_path_get_dirname(out_actual);

                g_mkdir_with_parents(dir, 0755);
                g_file_set_contents(out_actual, actual, -1, NULL);
                ck_abort_msg("output differs from golden file %s; actual output in %s "
                             "(VMNET_REGENERATE=1 rewrites the golden files)",
                             path, out_actual);
        }
}

/* Checks a loaded plan; on failure aborts the test with every diagnostic. */
static VmnetPlan *checked(VmnetPlan *loaded, VmnetDiags *diags, GError *error, const char *what)
{
        g_autoptr(VmnetPlan) plan = loaded;

        if (plan && !vmnet_plan_validate(plan, diags))
                g_clear_pointer(&plan, vmnet_plan_free);
        if (!plan) {
                g_autoptr(GError) all = NULL;

                vmnet_diags_to_error(diags, &all, VMNET_ERROR_INVALID);
                ck_abort_msg("loading %s: %s\n%s", what, error ? error->message : "",
                             all->message);
        }
        return g_steal_pointer(&plan);
}

VmnetPlan *vmnet_test_load_plan(const char *relpath)
{
        g_autofree char *path = vmnet_test_path(relpath);
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        VmnetPlan *plan = vmnet_plan_load_file(path, diags, &error);

        return checked(plan, diags, error, relpath);
}

VmnetIpam *vmnet_test_fresh_ipam(const VmnetPlan *plan)
{
        g_autoptr(GError) error = NULL;
        VmnetIpam *ipam = NULL;

        ck_assert_msg(vmnet_engine_ipam_fresh(plan, &ipam, &error), "%s: IPAM: %s", plan->file,
                      error ? error->message : "");
        return ipam;
}

VmnetPlan *vmnet_test_plan_from_string(const char *xml, const char *name)
{
        g_autoptr(VmnetDiags) diags = vmnet_diags_new();
        g_autoptr(GError) error = NULL;
        VmnetPlan *plan = vmnet_plan_load_data(xml, strlen(xml), name, diags, &error);

        return checked(plan, diags, error, name);
}

VmnetNetwork *vmnet_test_add_network(VmnetPlan *plan, const char *name, VmnetMode mode,
                                     const char *bridge)
{
        VmnetNetwork *net = vmnet_network_new();

        net->name = g_strdup(name);
        net->mode = mode;
        net->bridge = g_strdup(bridge);
        g_ptr_array_add(plan->networks, net);
        return net;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char **vmnet_test_list_dirs(const char *const *reldirs, const char *suffix)
{
        g_autoptr(GPtrArray) all = g_ptr_array_new();

        for (const char *const *rel = reldirs; *rel; rel++) {
                g_autofree char *path = vmnet_test_path(*rel);
                g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
                g_autoptr(GPtrArray) names = g_ptr_array_new();
                const char *name;

                /* g_error, not ck_assert: this also runs before any test, in main(). */
                if (!dir)
                        g_error("cannot open %s", path);
                while ((name = g_dir_read_name(dir)))
                        if (g_str_has_suffix(name, suffix))
                                g_ptr_array_add(names, g_build_filename(*rel, name, NULL));
                g_ptr_array_sort(names, cmp_str);
                g_ptr_array_extend_and_steal(all, g_steal_pointer(&names));
        }
        g_ptr_array_add(all, NULL);
        return (char **)g_ptr_array_free(g_steal_pointer(&all), FALSE);
}

char **vmnet_test_list_dir(const char *reldir, const char *suffix)
{
        const char *const dirs[] = { reldir, NULL };

        return vmnet_test_list_dirs(dirs, suffix);
}
