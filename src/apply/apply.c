/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "apply/signals.h"
#include "util/mutant.h"
#include "util/testhook.h"

/* VMNET_TEST_PAUSE_AT: the test signals or kills the paused run; an hour bounds a test that does not. */
#define PAUSE_SECONDS 3600

/*
 * A signal (apply/signals.h) before step i of n stops the run there: the
 * steps before it are undone. Once the last step has started, the run is
 * finished instead (the caller says so), so this is only asked before.
 */
static gboolean interrupted(guint i, guint n, GError **first)
{
        int sig = vmnet_signals_received();

        if (!sig || VMNET_MUTANT_IS(SIGNAL_IGNORED))
                return FALSE;
        if (i == 0)
                g_set_error(first, VMNET_ERROR, VMNET_ERROR_INTERRUPTED,
                            "interrupted by %s before the first of %u steps", vmnet_signal_name(sig),
                            n);
        else
                g_set_error(first, VMNET_ERROR, VMNET_ERROR_INTERRUPTED,
                            "interrupted by %s after step %u of %u", vmnet_signal_name(sig), i, n);
        return TRUE;
}

/* One run of vmnet_apply_actions_gated(). */
typedef struct {
        VmnetApplyCtx *ctx;
        GPtrArray *actions;
        VmnetApplyProgress progress;
        gpointer user_data;
        guint64 fail_at, pause_at; /* test hooks, 1-based; 0: none */
        GPtrArray *undo;           /* the inverses of the completed steps, in their order */
        GError *first;             /* the run's failure */
} Run;

/*
 * Before step i runs: a signal, its progress line, a test's pause or
 * injected failure. FALSE when it must not run (r->first says why).
 */
static gboolean step_may_run(Run *r, guint i)
{
        VmnetAction *a = g_ptr_array_index(r->actions, i);

        /* Between steps only: a step once started runs to its end. */
        if (interrupted(i, r->actions->len, &r->first))
                return FALSE;
        if (r->progress)
                r->progress(a, FALSE, r->user_data);
        if (r->pause_at && i + 1 == r->pause_at) {
                /* The test's signal (or SIGKILL) comes while the run waits here. */
                vmnet_signals_wait(PAUSE_SECONDS);
                if (interrupted(i, r->actions->len, &r->first))
                        return FALSE;
        }
        if (r->fail_at && i + 1 == r->fail_at) {
                g_autofree char *d = vmnet_action_describe(a);

                g_set_error(&r->first, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "%s: failure injected by VMNET_TEST_FAIL_AT=%u", d, i + 1);
                return FALSE;
        }
        return TRUE;
}

/*
 * Step i failed with e (taken): the run's error names its action; a second
 * failure in the same batch is added to the first.
 */
static void step_failed(Run *r, guint i, GError *e)
{
        g_autofree char *d = vmnet_action_describe(g_ptr_array_index(r->actions, i));

        if (!r->first) {
                r->first = e;
                g_prefix_error(&r->first, "%s: ", d);
                return;
        }
        {
                char *m = g_strdup_printf("%s\n  and, in the same batch, %s: %s", r->first->message,
                                          d, e->message);

                g_free(r->first->message);
                r->first->message = m;
                g_error_free(e);
        }
}

/*
 * At most this many steps of a batch in flight: each may hold a process and
 * a pipe (a dnsmasq forked and not yet waited for), well within the 1024
 * descriptors of a default soft limit. A longer run of them is several
 * batches, one after the other.
 */
#define BATCH_MAX 128

/* The end of the batch that starts at step i: i + 1 when step i runs alone. */
static guint batch_end(const GPtrArray *actions, guint i)
{
        const VmnetActionType *t = ((const VmnetAction *)g_ptr_array_index(actions, i))->type;
        guint end = i + 1;

        if (!t->batch_begin || VMNET_MUTANT_IS(NO_BATCH))
                return end;
        while (end < actions->len && end - i < BATCH_MAX &&
               ((const VmnetAction *)g_ptr_array_index(actions, end))->type->batch_begin ==
                       t->batch_begin)
                end++;
        return end;
}

static void run_step(Run *r, guint i)
{
        VmnetAction *a = g_ptr_array_index(r->actions, i);
        /* Computed before running: it comes from what the diff observed. */
        g_autoptr(VmnetAction) inv = a->type->invert ? a->type->invert(a) : NULL;
        GError *e = NULL;

        if (!step_may_run(r, i))
                return;
        if (!a->type->execute(a, r->ctx, &e))
                step_failed(r, i, e);
        else
                g_ptr_array_add(r->undo, g_steal_pointer(&inv));
}

/*
 * Steps [from, to) as one batch: each begun in order (every per-step check
 * of step_may_run() before it), then each begun one finished in order. A
 * failure or a signal stops the begins; the steps begun are finished all
 * the same, and those that complete are undone with the rest.
 */
static void run_batch(Run *r, guint from, guint to)
{
        g_autoptr(GPtrArray) invs = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_action_free);
        const VmnetActionType *t = ((VmnetAction *)g_ptr_array_index(r->actions, from))->type;
        gpointer batch = NULL;
        guint begun = from;

        for (guint i = from; i < to; i++) {
                VmnetAction *a = g_ptr_array_index(r->actions, i);
                GError *e = NULL;

                if (!step_may_run(r, i))
                        break;
                g_ptr_array_add(invs, a->type->invert ? a->type->invert(a) : NULL);
                if (!a->type->batch_begin(a, r->ctx, &batch, &e)) {
                        step_failed(r, i, e);
                        break;
                }
                begun = i + 1;
        }
        for (guint i = from; i < begun; i++) {
                VmnetAction *a = g_ptr_array_index(r->actions, i);
                GError *e = NULL;

                if (!a->type->batch_finish(a, r->ctx, batch, &e))
                        step_failed(r, i, e);
                else if (!(r->first && VMNET_MUTANT_IS(BATCH_LEAK)))
                        g_ptr_array_add(r->undo, g_steal_pointer(&invs->pdata[i - from]));
        }
        if (batch)
                t->batch_free(batch);
}

gboolean vmnet_apply_actions_gated(VmnetApplyCtx *ctx, GPtrArray *actions,
                                   VmnetApplyProgress progress, gpointer user_data,
                                   VmnetApplyGate gate, gpointer gate_data, guint *done,
                                   GError **error)
{
        g_autoptr(GPtrArray) undo = vmnet_action_list_new();
        const char *fail_at_env = vmnet_test_hook(VMNET_HOOK_FAIL_AT);
        const char *pause_at_env = vmnet_test_hook(VMNET_HOOK_PAUSE_AT);
        g_autoptr(GString) rollback_errors = g_string_new(NULL);
        Run r = { ctx, actions, progress, user_data, 0, 0, undo, NULL };
        g_autoptr(GError) first = NULL;

        if (fail_at_env)
                g_ascii_string_to_unsigned(fail_at_env, 10, 1, G_MAXUINT, &r.fail_at, NULL);
        if (pause_at_env)
                g_ascii_string_to_unsigned(pause_at_env, 10, 1, G_MAXUINT, &r.pause_at, NULL);
        if (done)
                *done = 0;

        for (guint i = 0; i < actions->len && !r.first;) {
                guint end = batch_end(actions, i);

                if (end - i > 1)
                        run_batch(&r, i, end);
                else
                        run_step(&r, i);
                i = end;
        }
        first = r.first;
        /* After the last step: a signal now no longer undoes the run (the test pauses here too). */
        if (!first && r.pause_at == (guint64)actions->len + 1)
                vmnet_signals_wait(PAUSE_SECONDS);
        /* A failed gate is handled as a failed last step. */
        if (!first && gate && !gate(gate_data, &first) && !first)
                g_set_error_literal(&first, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "the apply's final step failed");
        if (!first) {
                if (done)
                        *done = actions->len;
                return TRUE;
        }

        if (VMNET_MUTANT_IS(NO_ROLLBACK))
                g_ptr_array_set_size(undo, 0);
        for (guint i = undo->len; i-- > 0;) {
                VmnetAction *inv = g_ptr_array_index(undo, i);
                g_autoptr(GError) e = NULL;

                if (!inv)
                        continue;
                if (progress)
                        progress(inv, TRUE, user_data);
                if (!inv->type->execute(inv, ctx, &e)) {
                        g_autofree char *d = vmnet_action_describe(inv);

                        g_string_append_printf(rollback_errors, "\n  rollback step '%s' failed: %s", d,
                                               e->message);
                        if (done) /* that action stayed */
                                (*done)++;
                }
        }
        /* Not "interrupted" then: the host is not as it was (vmnet(8), EXIT STATUS). */
        if (rollback_errors->len)
                g_set_error(error, VMNET_ERROR,
                            first->code == VMNET_ERROR_INTERRUPTED ? VMNET_ERROR_FAILED : first->code,
                            "%s\nrolling back did not complete; the host is partly changed:%s",
                            first->message, rollback_errors->str);
        else if (g_error_matches(first, VMNET_ERROR, VMNET_ERROR_INTERRUPTED) && !undo->len)
                g_set_error(error, VMNET_ERROR, first->code, "%s: nothing was changed",
                            first->message);
        else if (g_error_matches(first, VMNET_ERROR, VMNET_ERROR_PARTIAL))
                g_set_error(error, VMNET_ERROR, first->code,
                            "%s\nevery step before it was undone; that step left what it says",
                            first->message);
        else
                g_set_error(error, VMNET_ERROR, first->code,
                            "%s\nevery completed step was undone: the host is as it was", first->message);
        return FALSE;
}

gboolean vmnet_apply_actions(VmnetApplyCtx *ctx, GPtrArray *actions, VmnetApplyProgress progress,
                             gpointer user_data, guint *done, GError **error)
{
        return vmnet_apply_actions_gated(ctx, actions, progress, user_data, NULL, NULL, done, error);
}

gboolean vmnet_netns_enter(const char *name, GError **error)
{
        g_autofree char *path = NULL;
        int fd;

        if (!vmnet_netns_name_check(name, error))
                return FALSE;
        path = g_build_filename("/run/netns", name, NULL);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                            "network namespace '%s': %s (create it with 'ip netns add %s')", name,
                            g_strerror(e), name);
                return FALSE;
        }
        if (setns(fd, CLONE_NEWNET) < 0) {
                int e = errno;

                close(fd);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "entering network namespace '%s': %s", name, g_strerror(e));
                return FALSE;
        }
        close(fd);
        return TRUE;
}

gboolean vmnet_netns_name_check(const char *name, GError **error)
{
        const char *why = vmnet_netns_name_invalid_reason(name);

        if (!why)
                return TRUE;
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_INVALID,
                    "network namespace name '%s' %s (allowed: 1 to %d of A-Z a-z 0-9 _ . -, "
                    "not starting with '.' or '-')",
                    name ? name : "", why, VMNET_NETNS_NAME_MAX);
        return FALSE;
}

const char *vmnet_run_dir(void)
{
        const char *d = vmnet_test_hook(VMNET_HOOK_RUN_DIR);

        return d ? d : VMNET_RUNSTATEDIR "/vmnet";
}

const char *vmnet_state_dir(void)
{
        const char *d = vmnet_test_hook(VMNET_HOOK_STATE_DIR);

        return d ? d : VMNET_LOCALSTATEDIR "/lib/vmnet";
}

/* Is dir base, or below it? */
static gboolean is_under(const char *dir, const char *base)
{
        gsize n = strlen(base);

        return strncmp(dir, base, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

gboolean vmnet_own_dir(const char *dir, GError **error)
{
        const char *base = is_under(dir, vmnet_state_dir()) ? vmnet_state_dir()
                           : is_under(dir, vmnet_run_dir()) ? vmnet_run_dir()
                                                             : NULL;
        g_autofree char *parent = NULL;
        g_autofree char *top = NULL;
        g_autofree char *rel = NULL;
        g_auto(GStrv) parts = NULL;
        g_autoptr(GString) at = NULL;
        int fd;

        if (!base) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO,
                            "%s: not under %s or %s, where vmnet keeps its files", dir,
                            vmnet_state_dir(), vmnet_run_dir());
                return FALSE;
        }
        parent = g_path_get_dirname(base);
        top = g_path_get_basename(base);
        rel = g_strconcat(top, dir + strlen(base), NULL);
        if (g_mkdir_with_parents(parent, 0755) < 0 ||
            (fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                int e = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s: %s", parent, g_strerror(e));
                return FALSE;
        }
        at = g_string_new(g_str_equal(parent, "/") ? "" : parent);
        parts = g_strsplit(rel, "/", -1);
        for (char **p = parts; *p; p++) {
                struct stat st;
                int next;

                if (!**p)
                        continue;
                g_string_append_printf(at, "/%s", *p);
                if (mkdirat(fd, *p, 0700) < 0 && errno != EEXIST) {
                        int e = errno;

                        close(fd);
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s: %s", at->str,
                                    g_strerror(e));
                        return FALSE;
                }
                next = openat(fd, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                if (next < 0) {
                        int e = errno;

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO,
                                    "%s: %s%s", at->str, g_strerror(e),
                                    e == ELOOP || e == ENOTDIR
                                            ? " (a symbolic link or no directory: vmnet writes "
                                              "only in directories of its own; remove it)"
                                            : "");
                        return FALSE;
                }
                fd = next;
                if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
                    (st.st_mode & (S_IWGRP | S_IWOTH))) {
                        close(fd);
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO,
                                    "%s: owned by uid %u with mode %04o: vmnet writes only in "
                                    "directories of its own that no one else may write to "
                                    "(give it to uid %u with mode 0700, or remove it)",
                                    at->str, (guint)st.st_uid, (guint)(st.st_mode & 07777),
                                    (guint)geteuid());
                        return FALSE;
                }
        }
        close(fd);
        return TRUE;
}

/*
 * The pid of the process holding an flock on fd's file, from /proc/locks,
 * for when the holder has not written its pid yet (it does so right after
 * taking the lock). 0 when not found.
 */
static int lock_holder(int fd)
{
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        struct stat st;

        if (fstat(fd, &st) < 0 || !g_file_get_contents("/proc/locks", &text, NULL, NULL))
                return 0;
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                /* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" */
                g_auto(GStrv) f = g_strsplit_set(*l, " ", -1);
                g_autoptr(GPtrArray) w = g_ptr_array_new();
                guint64 ino;

                for (char **x = f; *x; x++)
                        if (**x)
                                g_ptr_array_add(w, *x);
                if (w->len < 6 || !g_str_equal(g_ptr_array_index(w, 1), "FLOCK"))
                        continue;
                {
                        const char *dev_ino = g_ptr_array_index(w, 5);
                        const char *colon = strrchr(dev_ino, ':');

                        if (!colon || !g_ascii_string_to_unsigned(colon + 1, 10, 0, G_MAXUINT64,
                                                                  &ino, NULL) ||
                            ino != (guint64)st.st_ino)
                                continue;
                }
                return atoi(g_ptr_array_index(w, 4));
        }
        return 0;
}

int vmnet_lock_take(const char *netns, guint wait_seconds, GError **error)
{
        g_autofree char *name = g_strdup_printf("lock%s%s", netns ? ".netns-" : "", netns ? netns : "");
        g_autofree char *path = g_build_filename(vmnet_run_dir(), name, NULL);
        gint64 deadline = g_get_monotonic_time() + (gint64)wait_seconds * G_USEC_PER_SEC;
        char pid[32];
        int fd;

        if (!vmnet_own_dir(vmnet_run_dir(), error))
                return -1;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                int e = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s: %s", path, g_strerror(e));
                return -1;
        }
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                ssize_t n;

                if (errno != EWOULDBLOCK || g_get_monotonic_time() >= deadline) {
                        n = pread(fd, pid, sizeof(pid) - 1, 0);
                        pid[MAX(n, 0)] = '\0';
                        g_strstrip(pid);
                        if (!*pid) {
                                int holder = lock_holder(fd);

                                if (holder > 0)
                                        g_snprintf(pid, sizeof(pid), "%d", holder);
                        }
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_LOCKED,
                                    "another vmnet (%s%s) is changing this host (lock %s); "
                                    "try again when it has finished, or use --wait SECONDS",
                                    *pid ? "pid " : "it is just starting", pid, path);
                        close(fd);
                        return -1;
                }
                g_usleep(100 * 1000);
        }
        g_snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        /* The pid is only informative; the lock is what matters. Written over
         * the old one, then cut to length: no blocks freed and allocated again. */
        if (pwrite(fd, pid, strlen(pid), 0) == (ssize_t)strlen(pid) &&
            ftruncate(fd, (off_t)strlen(pid)) < 0) {
        }
        return fd;
}
