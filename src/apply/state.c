/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "apply/state.h"
#include "util/error.h"

VmnetState *vmnet_state_load(const char *plan_name, const char *netns, GError **error)
{
        g_autoptr(VmnetState) st = g_new0(VmnetState, 1);
        g_autofree char *dir = netns ? g_strdup_printf("%s/netns-%s", vmnet_state_dir(), netns)
                                     : g_strdup(vmnet_state_dir());
        g_autofree char *file = g_strdup_printf("%s.state", plan_name);
        g_autoptr(GError) e = NULL;

        st->path = g_build_filename(dir, file, NULL);
        st->kf = g_key_file_new();
        if (!g_key_file_load_from_file(st->kf, st->path, G_KEY_FILE_KEEP_COMMENTS, &e)) {
                if (!g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "state file %s: %s",
                                    st->path, e->message);
                        return NULL;
                }
        }
        return g_steal_pointer(&st);
}

gboolean vmnet_state_save(VmnetState *st, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(st->path);
        g_autofree char *data = NULL;
        g_autoptr(GError) e = NULL;
        gsize len;

        if (g_mkdir_with_parents(dir, 0755) < 0) {
                int err = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s: %s", dir, g_strerror(err));
                return FALSE;
        }
        data = g_key_file_to_data(st->kf, &len, NULL);
        /* g_file_set_contents: temporary file, fsync, rename. */
        if (!g_file_set_contents_full(st->path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT,
                                      0644, &e)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "writing state file %s: %s",
                            st->path, e->message);
                return FALSE;
        }
        return TRUE;
}

gboolean vmnet_state_remove(VmnetState *st, GError **error)
{
        if (g_unlink(st->path) < 0 && errno != ENOENT) {
                int err = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "removing %s: %s", st->path,
                            g_strerror(err));
                return FALSE;
        }
        g_key_file_free(st->kf);
        st->kf = g_key_file_new();
        return TRUE;
}

void vmnet_state_free(VmnetState *st)
{
        if (!st)
                return;
        g_free(st->path);
        if (st->kf)
                g_key_file_free(st->kf);
        g_free(st);
}

void vmnet_state_clear_prefix(VmnetState *st, const char *prefix)
{
        g_auto(GStrv) groups = g_key_file_get_groups(st->kf, NULL);

        for (char **g = groups; *g; g++)
                if (g_str_has_prefix(*g, prefix))
                        g_key_file_remove_group(st->kf, *g, NULL);
}
