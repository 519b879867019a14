/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "apply/state.h"
#include "util/error.h"

/* dir/[netns-NAME/]PLAN.EXT */
static char *plan_path(const char *dir, const char *netns, const char *plan_name, const char *ext)
{
        g_autofree char *file = g_strdup_printf("%s.%s", plan_name, ext);
        g_autofree char *sub = netns ? g_strdup_printf("netns-%s", netns) : NULL;

        return g_build_filename(dir, sub ? sub : file, sub ? file : NULL, NULL);
}

/* Reads path into kf, keeping its bytes in *before (NULL, and kf empty, when there is none). */
static gboolean load_key_file(const char *path, GKeyFile *kf, char **before, gsize *before_len,
                              GError **error)
{
        g_autoptr(GError) e = NULL;
        struct stat st;

        /* vmnet never makes one: a link there was put by someone else. */
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO,
                            "%s: %s, not a file vmnet wrote; remove it", path,
                            S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
                return FALSE;
        }
        if ((g_file_get_contents(path, before, before_len, &e) &&
             g_key_file_load_from_data(kf, *before, *before_len, G_KEY_FILE_KEEP_COMMENTS, &e)) ||
            g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                return TRUE;
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "state file %s: %s", path, e->message);
        return FALSE;
}

VmnetState *vmnet_state_load(const char *plan_name, const char *netns, GError **error)
{
        g_autoptr(VmnetState) st = g_new0(VmnetState, 1);

        st->path = plan_path(vmnet_state_dir(), netns, plan_name, "state");
        st->kf = g_key_file_new();
        if (!load_key_file(st->path, st->kf, &st->before, &st->before_len, error))
                return NULL;
        return g_steal_pointer(&st);
}

/* The rename or unlink of a name in dir is on disk once this returns TRUE. */
static gboolean sync_dir(const char *dir, GError **error)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int e;

        if (fd >= 0 && fsync(fd) == 0) {
                close(fd);
                return TRUE;
        }
        e = errno;
        if (fd >= 0)
                close(fd);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "syncing directory %s: %s", dir,
                    g_strerror(e));
        return FALSE;
}

/*
 * Replaces path with data: temporary file, rename; durable: with an fsync
 * before the rename (glib's DURABLE) and one of the directory after (which
 * glib does not do).
 */
static gboolean replace_file(const char *path, const char *data, gsize len, gboolean durable,
                             GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) e = NULL;

        if (!vmnet_own_dir(dir, error))
                return FALSE;
        /*
         * Always a new file renamed over path (CONSISTENT), never written in
         * place: that would follow a symbolic link left at path.
         */
        if (!g_file_set_contents_full(path, data, (gssize)len,
                                      G_FILE_SET_CONTENTS_CONSISTENT |
                                              (durable ? G_FILE_SET_CONTENTS_DURABLE : 0),
                                      0644, &e)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "writing state file %s: %s", path,
                            e->message);
                return FALSE;
        }
        return !durable || sync_dir(dir, error);
}

gboolean vmnet_state_save(VmnetState *st, GError **error)
{
        gsize len;
        g_autofree char *data = g_key_file_to_data(st->kf, &len, NULL);

        return replace_file(st->path, data, len, TRUE, error);
}

#define TRANSACTION_GROUP "transaction"

void vmnet_state_transaction_begin(VmnetState *st, const char *command,
                                   const GPtrArray *descriptions)
{
        g_key_file_remove_group(st->kf, TRANSACTION_GROUP, NULL);
        g_key_file_set_string(st->kf, TRANSACTION_GROUP, "command", command);
        g_key_file_set_integer(st->kf, TRANSACTION_GROUP, "pid", (int)getpid());
        g_key_file_set_int64(st->kf, TRANSACTION_GROUP, "started",
                             g_get_real_time() / G_USEC_PER_SEC);
        g_key_file_set_integer(st->kf, TRANSACTION_GROUP, "steps", (int)descriptions->len);
        for (guint i = 0; i < descriptions->len; i++) {
                g_autofree char *key = g_strdup_printf("step%u", i + 1);

                g_key_file_set_string(st->kf, TRANSACTION_GROUP, key,
                                      g_ptr_array_index(descriptions, i));
        }
}

void vmnet_state_transaction_end(VmnetState *st)
{
        g_key_file_remove_group(st->kf, TRANSACTION_GROUP, NULL);
}

gboolean vmnet_state_transaction_left(const VmnetState *st, char **command, int *pid,
                                      gint64 *started, guint *steps)
{
        if (!g_key_file_has_group(st->kf, TRANSACTION_GROUP))
                return FALSE;
        *command = g_key_file_get_string(st->kf, TRANSACTION_GROUP, "command", NULL);
        if (!*command)
                *command = g_strdup("run");
        *pid = g_key_file_get_integer(st->kf, TRANSACTION_GROUP, "pid", NULL);
        *started = g_key_file_get_int64(st->kf, TRANSACTION_GROUP, "started", NULL);
        *steps = (guint)g_key_file_get_integer(st->kf, TRANSACTION_GROUP, "steps", NULL);
        return TRUE;
}

/* NAME.XXXXXX, NAME ending in .state, .pending or .unplugs: a g_file_set_contents temporary. */
static gboolean is_temporary(const char *name)
{
        static const char *const exts[] = { ".state.", ".pending.", ".unplugs." };
        gsize n = strlen(name);

        if (n < 7 || name[n - 7] != '.')
                return FALSE;
        for (gsize i = n - 6; i < n; i++)
                if (!g_ascii_isalnum(name[i]))
                        return FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS(exts); i++) {
                gsize m = strlen(exts[i]);

                if (n - 6 > m && strncmp(name + n - 6 - m, exts[i], m) == 0)
                        return TRUE;
        }
        return FALSE;
}

static guint clean_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        guint n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_type == DT_REG && is_temporary(de->d_name) &&
                    unlinkat(dirfd(d), de->d_name, 0) == 0)
                        n++;
        closedir(d);
        return n;
}

guint vmnet_state_clean_temporaries(const char *netns)
{
        g_autofree char *sub = netns ? g_strdup_printf("netns-%s", netns) : NULL;
        g_autofree char *state = g_build_filename(vmnet_state_dir(), sub, NULL);
        g_autofree char *run = g_build_filename(vmnet_run_dir(), sub, NULL);

        return clean_dir(state) + clean_dir(run);
}

/* before, or no file when it is NULL. */
static gboolean put_back(const char *path, const char *before, gsize before_len, gboolean durable,
                         GError **error)
{
        if (before)
                return replace_file(path, before, before_len, durable, error);
        if (g_unlink(path) < 0) {
                int err = errno;

                if (err == ENOENT)
                        return TRUE;
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "removing %s: %s", path,
                            g_strerror(err));
                return FALSE;
        }
        if (durable) {
                g_autofree char *dir = g_path_get_dirname(path);

                return sync_dir(dir, error);
        }
        return TRUE;
}

gboolean vmnet_state_put_back(const char *path, const char *before, gsize before_len,
                              GError **error)
{
        return put_back(path, before, before_len, TRUE, error);
}

gboolean vmnet_state_remove(VmnetState *st, GError **error)
{
        if (!vmnet_state_put_back(st->path, NULL, 0, error))
                return FALSE;
        g_key_file_free(st->kf);
        st->kf = g_key_file_new();
        return TRUE;
}

void vmnet_state_free(VmnetState *st)
{
        if (!st)
                return;
        g_free(st->path);
        g_free(st->before);
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

#define PENDING_GROUP "pending"

VmnetPending *vmnet_pending_load(const char *plan_name, const char *netns, GError **error)
{
        g_autoptr(VmnetPending) p = g_new0(VmnetPending, 1);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_auto(GStrv) names = NULL;

        p->path = plan_path(vmnet_run_dir(), netns, plan_name, "pending");
        p->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (!load_key_file(p->path, kf, &p->before, &p->before_len, error))
                return NULL;
        names = g_key_file_get_string_list(kf, PENDING_GROUP, "links", NULL, NULL);
        for (char **n = names; n && *n; n++)
                g_hash_table_add(p->names, g_strdup(*n));
        return g_steal_pointer(&p);
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

gboolean vmnet_pending_add(VmnetPending *p, const GPtrArray *names, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree gpointer *all = NULL;
        g_autofree char *data = NULL;
        guint n;
        gsize len;

        for (guint i = 0; i < names->len; i++)
                g_hash_table_add(p->names, g_strdup(g_ptr_array_index(names, i)));
        all = g_hash_table_get_keys_as_array(p->names, &n);
        qsort(all, n, sizeof(*all), compare_names);
        g_key_file_set_string_list(kf, PENDING_GROUP, "links", (const char *const *)all, n);
        data = g_key_file_to_data(kf, &len, NULL);
        /* Not durable: the links it names do not survive a reboot either. */
        return replace_file(p->path, data, len, FALSE, error);
}

gboolean vmnet_pending_done(VmnetPending *p, gboolean settled, gboolean undone, GError **error)
{
        /* Not durable either; and no file to remove when none was there nor written. */
        if (!p->before && !g_hash_table_size(p->names))
                return TRUE;
        if (settled)
                return put_back(p->path, NULL, 0, FALSE, error);
        return !undone || put_back(p->path, p->before, p->before_len, FALSE, error);
}

void vmnet_pending_free(VmnetPending *p)
{
        if (!p)
                return;
        g_free(p->path);
        g_free(p->before);
        if (p->names)
                g_hash_table_unref(p->names);
        g_free(p);
}

/* ------------------------------------------------------------ unplugs */

#define UNPLUG_GROUP "unplug "

VmnetUnplugs *vmnet_unplugs_load(const char *plan_name, const char *netns, GError **error)
{
        g_autoptr(VmnetUnplugs) u = g_new0(VmnetUnplugs, 1);
        g_autofree char *before = NULL;
        gsize len = 0;

        u->path = plan_path(vmnet_run_dir(), netns, plan_name, "unplugs");
        u->kf = g_key_file_new();
        if (!load_key_file(u->path, u->kf, &before, &len, error))
                return NULL;
        return g_steal_pointer(&u);
}

static char *unplug_group(const char *domain, const char *mac)
{
        return g_strconcat(UNPLUG_GROUP, domain, " ", mac, NULL);
}

gint64 vmnet_unplugs_requested(const VmnetUnplugs *u, const char *domain, const char *mac,
                               guint id)
{
        g_autofree char *g = unplug_group(domain, mac);

        if (!g_key_file_has_group(u->kf, g) ||
            (guint)g_key_file_get_uint64(u->kf, g, "domain-id", NULL) != id)
                return 0;
        return g_key_file_get_int64(u->kf, g, "requested", NULL);
}

void vmnet_unplugs_note(VmnetUnplugs *u, const char *domain, const char *mac, guint id,
                        gint64 when)
{
        g_autofree char *g = unplug_group(domain, mac);

        if (vmnet_unplugs_requested(u, domain, mac, id))
                return;
        g_key_file_remove_group(u->kf, g, NULL);
        g_key_file_set_string(u->kf, g, "domain", domain);
        g_key_file_set_string(u->kf, g, "mac", mac);
        g_key_file_set_uint64(u->kf, g, "domain-id", id);
        g_key_file_set_int64(u->kf, g, "requested", when);
}

void vmnet_unplugs_prune(VmnetUnplugs *u,
                         gboolean (*keep)(const char *domain, const char *mac, guint id,
                                          gpointer data),
                         gpointer data)
{
        g_auto(GStrv) groups = g_key_file_get_groups(u->kf, NULL);

        for (char **g = groups; *g; g++) {
                g_autofree char *domain = g_key_file_get_string(u->kf, *g, "domain", NULL);
                g_autofree char *mac = g_key_file_get_string(u->kf, *g, "mac", NULL);
                guint id = (guint)g_key_file_get_uint64(u->kf, *g, "domain-id", NULL);

                if (!g_str_has_prefix(*g, UNPLUG_GROUP) || !domain || !mac ||
                    !keep(domain, mac, id, data))
                        g_key_file_remove_group(u->kf, *g, NULL);
        }
}

void vmnet_unplugs_foreach(const VmnetUnplugs *u,
                           void (*fn)(const char *domain, const char *mac, guint id,
                                      gint64 requested, gpointer data),
                           gpointer data)
{
        g_auto(GStrv) groups = g_key_file_get_groups(u->kf, NULL);

        for (char **g = groups; *g; g++) {
                g_autofree char *domain = g_key_file_get_string(u->kf, *g, "domain", NULL);
                g_autofree char *mac = g_key_file_get_string(u->kf, *g, "mac", NULL);

                if (g_str_has_prefix(*g, UNPLUG_GROUP) && domain && mac)
                        fn(domain, mac, (guint)g_key_file_get_uint64(u->kf, *g, "domain-id", NULL),
                           g_key_file_get_int64(u->kf, *g, "requested", NULL), data);
        }
}

gboolean vmnet_unplugs_save(VmnetUnplugs *u, GError **error)
{
        g_auto(GStrv) groups = g_key_file_get_groups(u->kf, NULL);
        g_autofree char *data = NULL;
        gsize len;

        /* Not durable: the guests it names do not outlive a reboot. */
        if (!groups[0])
                return put_back(u->path, NULL, 0, FALSE, error);
        data = g_key_file_to_data(u->kf, &len, NULL);
        return replace_file(u->path, data, len, FALSE, error);
}

void vmnet_unplugs_free(VmnetUnplugs *u)
{
        if (!u)
                return;
        g_free(u->path);
        if (u->kf)
                g_key_file_free(u->kf);
        g_free(u);
}
