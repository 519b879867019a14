/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <syslog.h>

#include "apply/journal.h"
#include "util/mutant.h"

static const struct {
        const char *name;
        const char *id;
} events[VMNET_EVENT_LAST] = {
        [VMNET_EVENT_STEP] = { "step", "6f56b25b0f094a60866462fc548f3dda" },
        [VMNET_EVENT_APPLY] = { "apply", "58b744e854a14546b790aa56d7d738ea" },
        [VMNET_EVENT_DESTROY] = { "destroy", "1e6a4a077a914a3ab964460bd0c4bdc9" },
        [VMNET_EVENT_ROLLBACK] = { "rollback", "5624ea1308f145098ee770aa31eb709c" },
        [VMNET_EVENT_CONFIRM] = { "confirm", "950b9c7aeec944d4bad516805e1c2bb8" },
        [VMNET_EVENT_WATCHDOG] = { "watchdog", "283a12ab1e87414785998b8bd5f5c3fd" },
        [VMNET_EVENT_REAPPLY] = { "reapply", "1bf529bd5bac4ccbb5f70d5641b84ecd" },
};

const char *vmnet_event_message_id(VmnetEvent kind)
{
        return events[kind].id;
}

void vmnet_journal_event(VmnetEvent kind, int priority, const VmnetEventFields *f, const char *fmt,
                         ...)
{
        g_autofree char *msg = NULL;
        g_autofree char *prio = g_strdup_printf("%d", priority);
        GLogField fields[16];
        gsize n = 0;
        va_list ap;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
#define FIELD(k, v)                                                                   \
        do {                                                                          \
                if (v)                                                                \
                        fields[n++] = (GLogField){ .key = (k), .value = (v), .length = -1 }; \
        } while (0)
        FIELD("MESSAGE", msg);
        FIELD("MESSAGE_ID", events[kind].id);
        FIELD("PRIORITY", prio);
        FIELD("SYSLOG_IDENTIFIER", "vmnet");
        FIELD("VMNET_EVENT", events[kind].name);
        FIELD("VMNET_PLAN", f->plan);
        FIELD("VMNET_NETNS", f->netns);
        FIELD("VMNET_COMMAND", f->command);
        FIELD("VMNET_ACTION", f->action);
        FIELD("VMNET_OBJECT", f->object);
        FIELD("VMNET_OUTCOME", f->outcome);
#undef FIELD
        /* Straight to the journal's socket: never the terminal, whatever stderr is. */
        g_log_writer_journald(priority <= LOG_ERR ? G_LOG_LEVEL_CRITICAL : G_LOG_LEVEL_INFO,
                              fields, n, NULL);
}

struct VmnetJournalRun {
        char *command;
        char *plan;
        char *netns;
        const VmnetAction *pending; /* started, outcome not known yet */
        guint started;
        guint undone;
};

VmnetJournalRun *vmnet_journal_run_new(const char *command, const char *plan, const char *netns)
{
        VmnetJournalRun *r = g_new0(VmnetJournalRun, 1);

        r->command = g_strdup(command);
        r->plan = g_strdup(plan);
        r->netns = g_strdup(netns);
        return r;
}

static void step(VmnetJournalRun *r, VmnetEvent kind, const VmnetAction *a, const char *outcome,
                 int priority)
{
        g_autofree char *d = vmnet_action_describe(a);
        VmnetEventFields f = { .plan = r->plan, .netns = r->netns, .command = r->command,
                               .action = a->type->name, .object = a->object, .outcome = outcome };

        vmnet_journal_event(kind, priority, &f, "%s %s: %s: %s", r->command, r->plan, d, outcome);
}

void vmnet_journal_run_progress(const VmnetAction *a, gboolean undo, gpointer data)
{
        VmnetJournalRun *r = data;

        if (r->pending) /* the next step starts: the one before is done; an undo: it failed */
                step(r, VMNET_EVENT_STEP, r->pending, undo ? "failed" : "done",
                     undo ? LOG_ERR : LOG_INFO);
        r->pending = NULL;
        if (undo) {
                r->undone++;
                if (VMNET_MUTANT_IS(JOURNAL_NO_ROLLBACK))
                        return;
                step(r, VMNET_EVENT_ROLLBACK, a, "undoing", LOG_NOTICE);
                return;
        }
        r->started++;
        r->pending = a;
}

void vmnet_journal_run_end(VmnetJournalRun *r, gboolean ok, guint n_actions, const GError *error)
{
        gboolean destroy = g_str_equal(r->command, "destroy");
        VmnetEventFields f = { .plan = r->plan, .netns = r->netns, .command = r->command };

        if (r->pending)
                step(r, VMNET_EVENT_STEP, r->pending, ok ? "done" : "failed", ok ? LOG_INFO : LOG_ERR);
        r->pending = NULL;
        if (ok) {
                f.outcome = !n_actions ? "unchanged" : destroy ? "destroyed" : "applied";
                vmnet_journal_event(destroy ? VMNET_EVENT_DESTROY : VMNET_EVENT_APPLY, LOG_NOTICE, &f,
                                    "%s %s: %s (%u actions)", r->command, r->plan, f.outcome,
                                    n_actions);
                return;
        }
        f.outcome = r->started ? "rolled-back" : "failed";
        vmnet_journal_event(destroy ? VMNET_EVENT_DESTROY : VMNET_EVENT_APPLY, LOG_ERR, &f,
                            "%s %s: failed after %u of its steps started, %u undone: %s",
                            r->command, r->plan, r->started, r->undone,
                            error ? error->message : "unknown error");
}

void vmnet_journal_run_free(VmnetJournalRun *r)
{
        if (!r)
                return;
        g_free(r->command);
        g_free(r->plan);
        g_free(r->netns);
        g_free(r);
}
