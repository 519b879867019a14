/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/systemd/units.h"
#include "util/autoptr.h"
#include "util/error.h"

gboolean vmnet_systemd_booted(void)
{
        struct stat st;

        return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------ the D-Bus API */

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER SD_DEST ".Manager"

/* "WHAT: MESSAGE", from the bus error when there is one, else from the errno r. */
static gboolean bus_fail(GError **error, int r, const sd_bus_error *e, const char *fmt, ...)
        G_GNUC_PRINTF(4, 5);

static gboolean bus_fail(GError **error, int r, const sd_bus_error *e, const char *fmt, ...)
{
        g_autofree char *what = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "%s: %s", what,
                    e && sd_bus_error_is_set(e) ? (e->message ? e->message : e->name)
                                                : g_strerror(-r));
        return FALSE;
}

static sd_bus *bus_open(GError **error)
{
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);

        if (r < 0) {
                bus_fail(error, r, NULL, "connecting to systemd on the system bus");
                return NULL;
        }
        return bus;
}

gboolean vmnet_systemd_bus_reachable(void)
{
        g_autoptr(sd_bus) bus = bus_open(NULL);

        return bus != NULL;
}

int vmnet_systemd_append_variant(sd_bus_message *m, GVariant *v)
{
        const char *type = g_variant_get_type_string(v);
        g_autofree char *inner = NULL;
        char container;
        int r;

        switch (g_variant_classify(v)) {
        case G_VARIANT_CLASS_BOOLEAN: {
                int b = g_variant_get_boolean(v);

                return sd_bus_message_append_basic(m, 'b', &b);
        }
        case G_VARIANT_CLASS_BYTE: {
                guint8 x = g_variant_get_byte(v);

                return sd_bus_message_append_basic(m, 'y', &x);
        }
        case G_VARIANT_CLASS_INT32: {
                gint32 x = g_variant_get_int32(v);

                return sd_bus_message_append_basic(m, 'i', &x);
        }
        case G_VARIANT_CLASS_UINT32: {
                guint32 x = g_variant_get_uint32(v);

                return sd_bus_message_append_basic(m, 'u', &x);
        }
        case G_VARIANT_CLASS_INT64: {
                gint64 x = g_variant_get_int64(v);

                return sd_bus_message_append_basic(m, 'x', &x);
        }
        case G_VARIANT_CLASS_UINT64: {
                guint64 x = g_variant_get_uint64(v);

                return sd_bus_message_append_basic(m, 't', &x);
        }
        case G_VARIANT_CLASS_STRING:
        case G_VARIANT_CLASS_OBJECT_PATH:
        case G_VARIANT_CLASS_SIGNATURE:
                return sd_bus_message_append_basic(m, type[0], g_variant_get_string(v, NULL));
        case G_VARIANT_CLASS_VARIANT: {
                g_autoptr(GVariant) value = g_variant_get_variant(v);

                r = sd_bus_message_open_container(m, 'v', g_variant_get_type_string(value));
                if (r >= 0)
                        r = vmnet_systemd_append_variant(m, value);
                return r < 0 ? r : sd_bus_message_close_container(m);
        }
        case G_VARIANT_CLASS_ARRAY:
                container = 'a';
                inner = g_strdup(type + 1);
                break;
        case G_VARIANT_CLASS_TUPLE:
        case G_VARIANT_CLASS_DICT_ENTRY:
                container = g_variant_classify(v) == G_VARIANT_CLASS_TUPLE ? 'r' : 'e';
                inner = g_strndup(type + 1, strlen(type) - 2);
                break;
        default:
                return -EINVAL;
        }
        r = sd_bus_message_open_container(m, container, inner);
        for (gsize i = 0; r >= 0 && i < g_variant_n_children(v); i++) {
                g_autoptr(GVariant) child = g_variant_get_child_value(v, i);

                r = vmnet_systemd_append_variant(m, child);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/*
 * One connection to systemd and the jobs queued on it. JobRemoved(id, job,
 * unit, result) is matched before the first call, so that a job that ends
 * at once is not missed (sd_bus_call() keeps the signals that arrive
 * meanwhile for the next sd_bus_process()); systemd sends it to the client
 * that queued the job without a Subscribe(). Every ended job's result is
 * kept by its path, whichever job is being waited for.
 */
typedef struct {
        char *path;
        const char *kind; /* "start", "stop": for the message */
        guint timeout_s;
        gint64 deadline; /* monotonic */
} QueuedJob;

struct _VmnetSystemdJobs {
        sd_bus *bus;
        sd_bus_slot *slot;
        GHashTable *queued; /* unit -> QueuedJob* */
        GHashTable *ended;  /* job path -> result ("done", "failed", ...) */
};

static void queued_job_free(gpointer p)
{
        QueuedJob *q = p;

        g_free(q->path);
        g_free(q);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        VmnetSystemdJobs *j = userdata;
        const char *job, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0)
                g_hash_table_replace(j->ended, g_strdup(job), g_strdup(result));
        return 0;
}

VmnetSystemdJobs *vmnet_systemd_jobs_new(GError **error)
{
        g_autoptr(VmnetSystemdJobs) j = g_new0(VmnetSystemdJobs, 1);
        int r;

        j->queued = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, queued_job_free);
        j->ended = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        j->bus = bus_open(error);
        if (!j->bus)
                return NULL;
        r = sd_bus_match_signal(j->bus, &j->slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
                                on_job_removed, j);
        if (r < 0) {
                bus_fail(error, r, NULL, "systemd: watching the jobs of its units");
                return NULL;
        }
        return g_steal_pointer(&j);
}

void vmnet_systemd_jobs_free(VmnetSystemdJobs *j)
{
        if (!j)
                return;
        /* The slot first: it points at j. */
        g_clear_pointer(&j->slot, sd_bus_slot_unref);
        g_clear_pointer(&j->bus, sd_bus_flush_close_unref);
        g_hash_table_unref(j->queued);
        g_hash_table_unref(j->ended);
        g_free(j);
}

/*
 * Calls method of the manager with the message built from unit and
 * properties (a start) or unit alone (a stop) and notes the job it queued
 * under unit. *gone is set when systemd does not know the unit
 * (NoSuchUnit): no job then.
 */
static gboolean queue_job(VmnetSystemdJobs *j, const char *method, const char *unit,
                          GVariant *properties, guint timeout_s, gboolean *gone, GError **error)
{
        g_autoptr(sd_bus_message) reply = NULL;
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        QueuedJob *q = g_new0(QueuedJob, 1);
        const char *path;
        int r;

        *gone = FALSE;
        q->kind = properties ? "start" : "stop";
        q->timeout_s = timeout_s;
        q->deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
        for (;;) {
                g_autoptr(sd_bus_message) m = NULL;

                r = sd_bus_message_new_method_call(j->bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                                   method);
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", unit, properties ? "fail" : "replace");
                if (r >= 0 && properties)
                        r = vmnet_systemd_append_variant(m, properties);
                if (r >= 0 && properties)
                        r = sd_bus_message_append(m, "a(sa(sv))", 0);
                if (r < 0) {
                        queued_job_free(q);
                        return bus_fail(error, r, NULL, "systemd: %s of unit %s", method, unit);
                }
                sd_bus_error_free(&e);
                r = sd_bus_call(j->bus, m, 0, &e, &reply);
                if (r >= 0)
                        break;
                if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
                        queued_job_free(q);
                        *gone = TRUE;
                        return TRUE;
                }
                /*
                 * The unit of the same name that was just stopped is unloaded
                 * by systemd's next round of garbage collection
                 * (CollectMode=inactive-or-failed): wait for it.
                 */
                if (!sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists") ||
                    g_get_monotonic_time() > q->deadline) {
                        queued_job_free(q);
                        return bus_fail(error, r, &e, "systemd: %s of unit %s", method, unit);
                }
                g_usleep(50 * 1000);
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                queued_job_free(q);
                return bus_fail(error, r, NULL, "systemd: the reply to %s of unit %s", method,
                                unit);
        }
        q->path = g_strdup(path);
        g_hash_table_replace(j->queued, g_strdup(unit), q);
        return TRUE;
}

gboolean vmnet_systemd_jobs_start_transient(VmnetSystemdJobs *j, const char *unit,
                                            GVariant *properties, guint timeout_s,
                                            GError **error)
{
        gboolean gone;

        g_return_val_if_fail(properties != NULL, FALSE);
        return queue_job(j, "StartTransientUnit", unit, properties, timeout_s, &gone, error);
}

gboolean vmnet_systemd_jobs_wait(VmnetSystemdJobs *j, const char *unit, GError **error)
{
        QueuedJob *q = g_hash_table_lookup(j->queued, unit);
        g_autofree char *result = NULL;
        gboolean ok = TRUE;
        int r;

        g_return_val_if_fail(q != NULL, FALSE);
        while (!g_hash_table_contains(j->ended, q->path)) {
                gint64 left;

                r = sd_bus_process(j->bus, NULL);
                if (r < 0) {
                        ok = bus_fail(error, r, NULL, "systemd: waiting for the job of unit %s",
                                      unit);
                        break;
                }
                if (r > 0)
                        continue;
                left = q->deadline - g_get_monotonic_time();
                if (left <= 0) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "systemd: the job of unit %s did not finish within %u s",
                                    unit, q->timeout_s);
                        ok = FALSE;
                        break;
                }
                r = sd_bus_wait(j->bus, (uint64_t)left);
                if (r < 0 && r != -EINTR) {
                        ok = bus_fail(error, r, NULL, "systemd: waiting for the job of unit %s",
                                      unit);
                        break;
                }
        }
        if (ok) {
                result = g_strdup(g_hash_table_lookup(j->ended, q->path));
                g_hash_table_remove(j->ended, q->path);
                if (!g_str_equal(result, "done")) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "systemd: unit %s: %s job ended '%s' ('journalctl -u %s' "
                                    "says why)",
                                    unit, q->kind, result, unit);
                        ok = FALSE;
                }
        }
        g_hash_table_remove(j->queued, unit);
        return ok;
}

gboolean vmnet_systemd_stop_unit(const char *unit, guint timeout_s, GError **error)
{
        g_autoptr(VmnetSystemdJobs) j = vmnet_systemd_jobs_new(error);
        gboolean gone;

        if (!j || !queue_job(j, "StopUnit", unit, NULL, timeout_s, &gone, error))
                return FALSE;
        return gone || vmnet_systemd_jobs_wait(j, unit, error);
}

gboolean vmnet_systemd_unit_state(const char *unit, char **active_state, int *main_pid,
                                  GError **error)
{
        g_autoptr(sd_bus) bus = bus_open(error);
        g_autoptr(sd_bus_message) reply = NULL;
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        const char *path;
        char *state = NULL;
        uint32_t pid = 0;
        int r;

        *active_state = NULL;
        *main_pid = 0;
        if (!bus)
                return FALSE;
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s", unit);
        if (r < 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
                *active_state = g_strdup("inactive");
                return TRUE;
        }
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = sd_bus_get_property_string(bus, SD_DEST, path, SD_DEST ".Unit", "ActiveState",
                                               &e, &state);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, SD_DEST, path, SD_DEST ".Service", "MainPID",
                                                &e, 'u', &pid);
        if (r < 0) {
                free(state);
                /* Unloaded between the two calls. */
                if (sd_bus_error_has_name(&e, "org.freedesktop.DBus.Error.UnknownObject")) {
                        *active_state = g_strdup("inactive");
                        return TRUE;
                }
                return bus_fail(error, r, &e, "systemd: the state of unit %s", unit);
        }
        *active_state = g_strdup(state);
        free(state);
        *main_pid = pid <= G_MAXINT ? (int)pid : 0;
        return TRUE;
}
