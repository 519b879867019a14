/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "apply/saved-plan.h"
#include "util/error.h"
#include "util/mutant.h"

#define SAVED_EXT ".xml"
#define HOST_EXT ".host"

static char *plans_dir(const char *netns)
{
        g_autofree char *sub = netns ? g_strdup_printf("netns-%s", netns) : NULL;

        return g_build_filename(vmnet_state_dir(), sub ? sub : "plans", sub ? "plans" : NULL, NULL);
}

char *vmnet_saved_plan_path(const char *plan_name, const char *netns)
{
        g_autofree char *dir = plans_dir(netns);
        g_autofree char *file = g_strconcat(plan_name, SAVED_EXT, NULL);

        return g_build_filename(dir, file, NULL);
}

/* The temporary files (NAME.xml.XXXXXX) of a save that was interrupted. */
static void drop_leftovers(const char *dir, const char *plan_name)
{
        g_autofree char *prefix = g_strconcat(plan_name, SAVED_EXT, ".", NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d)))
                if (g_str_has_prefix(name, prefix) && strlen(name) == strlen(prefix) + 6) {
                        g_autofree char *path = g_build_filename(dir, name, NULL);

                        g_unlink(path);
                }
}

/* NAME.host beside NAME.xml: the host of a fleet plan the apply was for. */
static char *host_path(const char *plan_name, const char *netns)
{
        g_autofree char *dir = plans_dir(netns);
        g_autofree char *file = g_strconcat(plan_name, HOST_EXT, NULL);

        return g_build_filename(dir, file, NULL);
}

char *vmnet_saved_plan_host(const char *plan_name, const char *netns)
{
        g_autofree char *path = host_path(plan_name, netns);
        g_autofree char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        g_strstrip(text);
        return *text ? g_steal_pointer(&text) : NULL;
}

gboolean vmnet_saved_plan_store(const VmnetPlan *plan, const char *netns, GError **error)
{
        g_autofree char *hpath = host_path(plan->name, netns);
        g_autofree char *host = plan->host ? g_strconcat(plan->host, "\n", NULL) : NULL;
        g_autofree char *dir = plans_dir(netns);
        g_autofree char *path = vmnet_saved_plan_path(plan->name, netns);
        g_autoptr(GError) e = NULL;
        gsize len = 0;
        const char *data;

        if (!plan->source) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "plan '%s' (%s): its text was not kept, so it cannot be saved",
                            plan->name, plan->file);
                return FALSE;
        }
        data = g_bytes_get_data(plan->source, &len);
        if (!vmnet_own_dir(dir, error))
                return FALSE;
        drop_leftovers(dir, plan->name);
        /* A new file renamed over the old (never one written in place, which
         * would follow a link left there), fsync'ed with its directory. */
        if (!g_file_set_contents_full(path, data, (gssize)len,
                                      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                      0600, &e)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "saving plan '%s' as %s: %s",
                            plan->name, path, e->message);
                return FALSE;
        }
        /* The host goes with the plan, so reapply picks the same part whatever the hostname. */
        if (host ? !g_file_set_contents_full(hpath, host, -1,
                                             G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                             0600, &e)
                 : g_unlink(hpath) < 0 && errno != ENOENT) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "saving the host of plan '%s' as %s: %s",
                            plan->name, hpath, e ? e->message : g_strerror(errno));
                return FALSE;
        }
        return TRUE;
}

gboolean vmnet_saved_plan_remove(const char *plan_name, const char *netns, GError **error)
{
        g_autofree char *path = vmnet_saved_plan_path(plan_name, netns);
        g_autofree char *hpath = host_path(plan_name, netns);

        g_unlink(hpath);

        if (g_unlink(path) < 0 && errno != ENOENT) {
                int e = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "removing the saved plan %s: %s",
                            path, g_strerror(e));
                return FALSE;
        }
        return TRUE;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char **vmnet_saved_plan_list(const char *netns)
{
        g_autofree char *dir = plans_dir(netns);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        GPtrArray *names = g_ptr_array_new();
        const char *name;

        /* Only NAME.xml: the temporary files of an interrupted save are NAME.xml.XXXXXX. */
        while (d && (name = g_dir_read_name(d)))
                if (g_str_has_suffix(name, SAVED_EXT) && strlen(name) > strlen(SAVED_EXT) &&
                    name[0] != '.')
                        g_ptr_array_add(names, g_strndup(name, strlen(name) - strlen(SAVED_EXT)));
        g_ptr_array_sort(names, cmp_str);
        g_ptr_array_add(names, NULL);
        return (char **)g_ptr_array_free(names, FALSE);
}

gboolean vmnet_saved_plan_follow(const VmnetPlan *plan, const char *netns, gboolean destroyed,
                                 GError **error)
{
        gboolean ok = destroyed ? (VMNET_MUTANT_IS(SAVED_KEEP_ON_DESTROY) ||
                                   vmnet_saved_plan_remove(plan->name, netns, error))
                                : vmnet_saved_plan_store(plan, netns, error);

        if (!ok)
                g_prefix_error(error, "the host matches the plan, but ");
        return ok;
}
