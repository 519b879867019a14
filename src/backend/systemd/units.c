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

/* The end of one job of systemd's: JobRemoved(id, job, unit, result) for our job's path. */
typedef struct {
        const char *job; /* NULL until the call that queued it has returned */
        char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        JobWait *w = userdata;
        const char *job, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0 && w->job &&
            g_str_equal(job, w->job) && !w->result)
                w->result = g_strdup(result);
        return 0;
}

/*
 * Calls method of the manager with the message built by append (unit name
 * first) and waits for the job it queued. The signal is matched before the
 * call, so that a job that ends at once is not missed; systemd sends
 * JobRemoved to the client that queued the job without a Subscribe().
 * *gone is set when systemd does not know the unit (NoSuchUnit).
 */
static gboolean call_and_wait(const char *method, const char *unit, GVariant *properties,
                              guint timeout_s, gboolean *gone, GError **error)
{
        g_autoptr(sd_bus) bus = bus_open(error);
        g_autoptr(sd_bus_slot) slot = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_auto(sd_bus_error) e = SD_BUS_ERROR_NULL;
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
        JobWait w = { NULL, NULL };
        g_autofree char *result = NULL;
        int r;

        *gone = FALSE;
        if (!bus)
                return FALSE;
        r = sd_bus_match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed,
                                &w);
        if (r < 0)
                return bus_fail(error, r, NULL, "systemd: watching the jobs of unit %s", unit);
        for (;;) {
                g_autoptr(sd_bus_message) m = NULL;

                r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, method);
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", unit, properties ? "fail" : "replace");
                if (r >= 0 && properties)
                        r = vmnet_systemd_append_variant(m, properties);
                if (r >= 0 && properties)
                        r = sd_bus_message_append(m, "a(sa(sv))", 0);
                if (r < 0)
                        return bus_fail(error, r, NULL, "systemd: %s of unit %s", method, unit);
                sd_bus_error_free(&e);
                r = sd_bus_call(bus, m, 0, &e, &reply);
                if (r >= 0)
                        break;
                if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
                        *gone = TRUE;
                        return TRUE;
                }
                /*
                 * The unit of the same name that was just stopped is unloaded
                 * by systemd's next round of garbage collection
                 * (CollectMode=inactive-or-failed): wait for it.
                 */
                if (!sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists") ||
                    g_get_monotonic_time() > deadline)
                        return bus_fail(error, r, &e, "systemd: %s of unit %s", method, unit);
                g_usleep(50 * 1000);
        }
        r = sd_bus_message_read(reply, "o", &w.job);
        if (r < 0)
                return bus_fail(error, r, NULL, "systemd: the reply to %s of unit %s", method, unit);
        while (!w.result) {
                gint64 left;

                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return bus_fail(error, r, NULL, "systemd: waiting for the job of unit %s",
                                        unit);
                if (r > 0)
                        continue;
                left = deadline - g_get_monotonic_time();
                if (left <= 0) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "systemd: the job of unit %s did not finish within %u s", unit,
                                    timeout_s);
                        return FALSE;
                }
                r = sd_bus_wait(bus, (uint64_t)left);
                if (r < 0 && r != -EINTR)
                        return bus_fail(error, r, NULL, "systemd: waiting for the job of unit %s",
                                        unit);
        }
        result = g_steal_pointer(&w.result);
        if (!g_str_equal(result, "done")) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "systemd: unit %s: %s job ended '%s' ('journalctl -u %s' says why)",
                            unit, properties ? "start" : "stop", result, unit);
                return FALSE;
        }
        return TRUE;
}

gboolean vmnet_systemd_start_transient(const char *unit, GVariant *properties, guint timeout_s,
                                       GError **error)
{
        gboolean gone;

        g_return_val_if_fail(properties != NULL, FALSE);
        return call_and_wait("StartTransientUnit", unit, properties, timeout_s, &gone, error);
}

gboolean vmnet_systemd_stop_unit(const char *unit, guint timeout_s, GError **error)
{
        gboolean gone;

        return call_and_wait("StopUnit", unit, NULL, timeout_s, &gone, error);
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
