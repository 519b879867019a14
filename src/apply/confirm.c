/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/confirm.h"
#include "apply/journal.h"
#include "apply/saved-plan.h"
#include "backend/libvirt/libvirt.h"
#include "util/mutant.h"
#include "util/testhook.h"

#define GROUP "confirm"
/* How long the applying process waits for the watchdog to answer, and `vmnet
 * confirm` for the watchdog to exit: both return as soon as it has; the bounds
 * only matter on a machine so loaded (or emulated) that a few steps take seconds. */
#define HANDSHAKE_MS 30000
#define CONFIRM_WAIT_MS 30000
/* How long an apply that failed after its actions ran waits for the watchdog's undo. */
#define UNDO_WAIT_MS 60000

/* Messages from the applying process to the watchdog: one byte each. */
#define MSG_STARTED 'S' /* an action is about to run */
#define MSG_APPLIED 'A' /* all ran, the host was verified: start the countdown */
#define MSG_ABORT 'X'   /* the apply failed and undid itself: nothing to do */

struct _VmnetConfirm {
        int sock;            /* our end of the socket pair; -1 once closed */
        pid_t pid;           /* the watchdog */
        guint seconds;
        gint64 deadline;
        gboolean finished;   /* handed off or aborted */
        const GPtrArray *actions;
        guint started;
        VmnetApplyProgress progress;
        gpointer progress_data;
        char *netns;
        char *base;          /* the pending record's path */
        char *state_path;
        char *state_data;    /* the state file before the apply; NULL = there was none */
        gsize state_len;
        char *plan;
        char *plan_file;
        char *virt_uri;      /* the caller's libvirt connection, re-opened by the watchdog */
        guint unplug_timeout; /* the caller's, for the replugs an undo makes */
};

/* ------------------------------------------------------------------ paths */

static char *record_path(const char *netns)
{
        g_autofree char *name = g_strdup_printf("confirm%s%s", netns ? ".netns-" : "",
                                                netns ? netns : "");

        return g_build_filename(vmnet_run_dir(), name, NULL);
}

static char *sibling(const char *base, const char *suffix)
{
        return g_strconcat(base, suffix, NULL);
}

/* ----------------------------------------------------------------- processes */

/* /proc/PID/stat's start time (field 22), 0 when the process is gone or a zombie. */
static guint64 proc_starttime(int pid)
{
        g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *data = NULL;
        g_auto(GStrv) f = NULL;
        const char *p;

        if (pid <= 0 || !g_file_get_contents(path, &data, NULL, NULL))
                return 0;
        p = strrchr(data, ')');
        if (!p || !p[1])
                return 0;
        f = g_strsplit(p + 2, " ", 0);
        /* f[0] is field 3 (the state), so field 22 is f[19]. */
        if (g_strv_length(f) < 20 || f[0][0] == 'Z' || f[0][0] == 'X')
                return 0;
        return g_ascii_strtoull(f[19], NULL, 10);
}

static gboolean process_alive(int pid, guint64 starttime)
{
        guint64 now = proc_starttime(pid);

        /* A recycled pid has another start time: never signal a stranger. */
        return now && (!starttime || now == starttime);
}

/* ------------------------------------------------------------------- records */

void vmnet_confirm_info_free(VmnetConfirmInfo *info)
{
        if (!info)
                return;
        g_free(info->state);
        g_free(info->plan);
        g_free(info->plan_file);
        g_free(info->netns);
        g_free(info->reason);
        g_free(info->errors);
        g_free(info);
}

static VmnetConfirmInfo *info_load(const char *path, guint64 *starttime)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        VmnetConfirmInfo *info;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL))
                return NULL;
        info = g_new0(VmnetConfirmInfo, 1);
        info->state = g_key_file_get_string(kf, GROUP, "state", NULL);
        info->pid = g_key_file_get_integer(kf, GROUP, "pid", NULL);
        info->plan = g_key_file_get_string(kf, GROUP, "plan", NULL);
        info->plan_file = g_key_file_get_string(kf, GROUP, "plan-file", NULL);
        info->netns = g_key_file_get_string(kf, GROUP, "netns", NULL);
        info->seconds = (guint)g_key_file_get_integer(kf, GROUP, "seconds", NULL);
        info->armed = g_key_file_get_int64(kf, GROUP, "armed", NULL);
        info->deadline = g_key_file_get_int64(kf, GROUP, "deadline", NULL);
        info->finished = g_key_file_get_int64(kf, GROUP, "finished", NULL);
        info->reason = g_key_file_get_string(kf, GROUP, "reason", NULL);
        info->undone = (guint)g_key_file_get_integer(kf, GROUP, "undone", NULL);
        info->failed = (guint)g_key_file_get_integer(kf, GROUP, "failed", NULL);
        info->errors = g_key_file_get_string(kf, GROUP, "errors", NULL);
        if (starttime)
                *starttime = g_key_file_get_uint64(kf, GROUP, "starttime", NULL);
        if (!info->state)
                info->state = g_strdup("unknown");
        return info;
}

static gboolean info_save(const VmnetConfirmInfo *info, guint64 starttime, const char *path)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *data = NULL;
        gsize len;

        g_key_file_set_string(kf, GROUP, "state", info->state);
        g_key_file_set_integer(kf, GROUP, "pid", info->pid);
        if (starttime)
                g_key_file_set_uint64(kf, GROUP, "starttime", starttime);
        if (info->plan)
                g_key_file_set_string(kf, GROUP, "plan", info->plan);
        if (info->plan_file)
                g_key_file_set_string(kf, GROUP, "plan-file", info->plan_file);
        if (info->netns)
                g_key_file_set_string(kf, GROUP, "netns", info->netns);
        g_key_file_set_integer(kf, GROUP, "seconds", (gint)info->seconds);
        g_key_file_set_int64(kf, GROUP, "armed", info->armed);
        if (info->deadline)
                g_key_file_set_int64(kf, GROUP, "deadline", info->deadline);
        if (info->finished)
                g_key_file_set_int64(kf, GROUP, "finished", info->finished);
        if (info->reason)
                g_key_file_set_string(kf, GROUP, "reason", info->reason);
        if (info->finished) {
                g_key_file_set_integer(kf, GROUP, "undone", (gint)info->undone);
                g_key_file_set_integer(kf, GROUP, "failed", (gint)info->failed);
        }
        if (info->errors)
                g_key_file_set_string(kf, GROUP, "errors", info->errors);
        data = g_key_file_to_data(kf, &len, NULL);
        /* Atomic: `vmnet confirm` must never read half a record. */
        return g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                        NULL);
}

VmnetConfirmInfo *vmnet_confirm_read_pending(const char *netns)
{
        g_autofree char *path = record_path(netns);
        guint64 starttime = 0;
        VmnetConfirmInfo *info = info_load(path, &starttime);

        if (info)
                info->alive = process_alive(info->pid, starttime);
        return info;
}

VmnetConfirmInfo *vmnet_confirm_read_last(const char *netns)
{
        g_autofree char *base = record_path(netns);
        g_autofree char *path = sibling(base, ".last");

        return info_load(path, NULL);
}

/* ------------------------------------------------------------------- undo */

/*
 * The watchdog's plan and namespace, for its journal entries (the applying
 * process writes none here: its steps are journaled by the command). The
 * applying process has written nothing to the journal when it forks the
 * watchdog, so glib's journal socket is opened by the watchdog itself, after
 * it has closed the descriptors it does not own.
 */
static const VmnetConfirm *journal_of;

static void journal_watchdog(const char *outcome, const char *msg)
{
        VmnetEventFields f = { .command = "watchdog", .outcome = outcome };

        if (!journal_of)
                return;
        f.plan = journal_of->plan;
        f.netns = journal_of->netns;
        vmnet_journal_event(VMNET_EVENT_WATCHDOG, outcome ? LOG_NOTICE : LOG_INFO, &f,
                            "vmnet-confirm: %s", msg);
}

static void log_line(int fd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void log_line(int fd, const char *fmt, ...)
{
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = g_date_time_format(now, "%F %T");
        g_autofree char *msg = NULL;
        g_autofree char *line = NULL;
        va_list ap;

        if (fd < 0)
                return;
        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        journal_watchdog(NULL, msg);
        line = g_strdup_printf("%s vmnet-confirm[%d]: %s\n", stamp, (int)getpid(), msg);
        if (write(fd, line, strlen(line)) < 0) {
                /* Nowhere else to say it. */
        }
}

typedef struct {
        guint undone;
        guint failed;
        GString *errors;
} UndoResult;

/*
 * Runs the inverses of actions[0..count) in reverse order, going on after a
 * failure (each step puts back one observed value, so the others are still
 * worth doing). When !all_ran the last one may not have run: its undo may
 * fail for that reason, which is not an error.
 */
static void undo_actions(VmnetApplyCtx *ctx, const GPtrArray *actions, guint count, gboolean all_ran,
                         int logfd, UndoResult *res)
{
        res->errors = g_string_new(NULL);
        for (guint i = count; i-- > 0;) {
                const VmnetAction *a = g_ptr_array_index(actions, i);
                g_autoptr(VmnetAction) inv = a->type->invert ? a->type->invert(a) : NULL;
                g_autoptr(GError) e = NULL;
                g_autofree char *d = NULL;

                if (!inv)
                        continue;
                d = vmnet_action_describe(inv);
                res->undone++;
                if (inv->type->execute(inv, ctx, &e)) {
                        log_line(logfd, "undo %u: %s", i + 1, d);
                } else if (!all_ran && i == count - 1) {
                        log_line(logfd, "undo %u: %s: %s (the step was in flight and may not have run)",
                                 i + 1, d, e->message);
                } else {
                        res->failed++;
                        g_string_append_printf(res->errors, "%s%s: %s", res->errors->len ? "\n" : "",
                                               d, e->message);
                        log_line(logfd, "undo %u FAILED: %s: %s", i + 1, d, e->message);
                }
        }
}

/* The state file as it was before the apply (the apply recorded foreign changes that are undone now). */
static void restore_state(const VmnetConfirm *c, int logfd)
{
        g_autoptr(GError) e = NULL;

        if (c->state_path && !vmnet_state_put_back(c->state_path, c->state_data, c->state_len, &e))
                log_line(logfd, "%s", e->message);
}

static void save_last(const VmnetConfirm *c, const char *outcome, const char *reason,
                      gint64 armed, const UndoResult *res)
{
        g_autofree char *path = sibling(c->base, ".last");
        VmnetConfirmInfo info = {
                .state = (char *)outcome,
                .pid = (int)getpid(),
                .plan = c->plan,
                .plan_file = c->plan_file,
                .netns = c->netns,
                .seconds = c->seconds,
                .armed = armed,
                .deadline = c->deadline,
                .finished = g_get_real_time() / G_USEC_PER_SEC,
                .reason = (char *)reason,
                .undone = res ? res->undone : 0,
                .failed = res ? res->failed : 0,
                .errors = res && res->errors->len ? res->errors->str : NULL,
        };

        info_save(&info, 0, path);
        journal_watchdog(outcome, reason ? reason : outcome);
}

/* ---------------------------------------------------------------- watchdog */

typedef struct {
        VmnetConfirm *c;
        const VmnetPlan *plan;
        int sock;
        int lock;
        int sigfd;
        guint started;
        gboolean applied;
        gint64 armed;
        guint64 starttime;
} Watchdog;

static void noop_handler(G_GNUC_UNUSED int sig)
{
}

static const int watched_signals[] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };

static void set_handlers(void)
{
        struct sigaction sa = { .sa_handler = noop_handler, .sa_flags = SA_RESTART };
        static const int sigs[] = { SIGHUP, SIGPIPE, SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };

        /*
         * Handlers rather than SIG_IGN: dispositions set to a handler are
         * reset by exec, so a dnsmasq started while undoing is not left
         * deaf to SIGTERM.
         */
        sigemptyset(&sa.sa_mask);
        for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
                sigaction(sigs[i], &sa, NULL);
}

static sigset_t watched_set(void)
{
        sigset_t set;

        sigemptyset(&set);
        for (gsize i = 0; i < G_N_ELEMENTS(watched_signals); i++)
                sigaddset(&set, watched_signals[i]);
        return set;
}

/* Keeps only the descriptors listed (and 0, 1, 2). */
static void close_other_fds(const int *keep, gsize n_keep)
{
        g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                gint64 fd;
                gboolean kept = FALSE;

                if (!g_ascii_string_to_signed(de->d_name, 10, 3, G_MAXINT, &fd, NULL) ||
                    fd == dirfd(d))
                        continue;
                for (gsize i = 0; i < n_keep; i++)
                        kept |= keep[i] == fd;
                if (!kept)
                        g_array_append_val(fds, fd);
        }
        closedir(d);
        for (guint i = 0; i < fds->len; i++)
                close(g_array_index(fds, int, i));
}

static G_GNUC_NORETURN void watchdog_exit(Watchdog *w, int status)
{
        /* Exiting drops our copy of the lock: the host is free again. */
        _exit(status);
}

/* Confirmed: the plan is kept now (vmnet(8), SAVED PLANS), never before. */
static void keep_plan(Watchdog *w)
{
        g_autoptr(GError) e = NULL;

        if (!vmnet_saved_plan_store(w->plan, w->c->netns, &e))
                log_line(STDERR_FILENO, "%s", e->message);
        journal_watchdog("confirmed", "confirmed: the apply stays");
}

static G_GNUC_NORETURN void watchdog_undo(Watchdog *w, guint count, const char *reason)
{
        VmnetConfirm *c = w->c;
        g_autofree char *rollback = sibling(c->base, ".rollback");
        VmnetApplyCtx ctx = { .plan = w->plan, .unplug_timeout = c->unplug_timeout };
        g_autoptr(GError) e = NULL;
        sigset_t set = watched_set();
        UndoResult res = { 0 };

        if (VMNET_MUTANT_IS(CONFIRM_NO_ROLLBACK))
                watchdog_exit(w, 0);
        /* The one rename that decides between `vmnet confirm` and us. */
        if (rename(c->base, rollback) < 0) {
                if (errno == ENOENT) {
                        log_line(STDERR_FILENO, "confirmed; nothing to undo");
                        keep_plan(w);
                        watchdog_exit(w, 0);
                }
                log_line(STDERR_FILENO, "renaming %s: %s (undoing anyway)", c->base, g_strerror(errno));
        }
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        if (count == 0) {
                log_line(STDERR_FILENO, "%s; no action had started: nothing to undo", reason);
                g_unlink(rollback);
                watchdog_exit(w, 0);
        }
        log_line(STDERR_FILENO, "%s: undoing %u step%s of plan '%s'", reason, count,
                 count == 1 ? "" : "s", c->plan);
        /* Our own connections: the caller's were closed in this process (they are its). */
        if (!vmnet_apply_ctx_open(&ctx, &e) ||
            (c->virt_uri && !(ctx.virt = vmnet_libvirt_connect(c->virt_uri, &e)))) {
                res.errors = g_string_new(e->message);
                res.failed = count;
                log_line(STDERR_FILENO, "cannot undo: %s", e->message);
        } else {
                undo_actions(&ctx, c->actions, count, w->applied, STDERR_FILENO, &res);
        }
        vmnet_apply_ctx_close(&ctx);
        vmnet_libvirt_close(ctx.virt);
        restore_state(c, STDERR_FILENO);
        save_last(c, res.failed ? "rollback-incomplete" : "rolled-back", reason, w->armed, &res);
        g_unlink(rollback);
        log_line(STDERR_FILENO, "done: %u undone, %u failed", res.undone, res.failed);
        g_string_free(res.errors, TRUE);
        watchdog_exit(w, res.failed ? 1 : 0);
}

static gboolean write_record(Watchdog *w, const char *state)
{
        VmnetConfirm *c = w->c;
        VmnetConfirmInfo info = {
                .state = (char *)state,
                .pid = (int)getpid(),
                .plan = c->plan,
                .plan_file = c->plan_file,
                .netns = c->netns,
                .seconds = c->seconds,
                .armed = w->armed,
                .deadline = c->deadline,
        };

        return info_save(&info, w->starttime, c->base);
}

static void send_all(int fd, const char *s)
{
        if (fd >= 0 && send(fd, s, strlen(s), MSG_NOSIGNAL) < 0) {
                /* The applying process is gone; it will not need the answer. */
        }
}

/* Returns the signal received, 0 when none. */
static int read_signal(int sigfd)
{
        struct signalfd_siginfo si;

        if (read(sigfd, &si, sizeof(si)) != sizeof(si))
                return 0;
        return (int)si.ssi_signo;
}

static G_GNUC_NORETURN void watchdog_main(Watchdog *w)
{
        VmnetConfirm *c = w->c;
        g_autofree char *logpath = sibling(c->base, ".log");
        g_autofree char *reply = NULL;
        sigset_t set = watched_set();
        g_autofree char *term = NULL;
        int keep[2], null_fd, log_fd;
        char buf[64];

        set_handlers();
        sigprocmask(SIG_BLOCK, &set, NULL);
        journal_of = c;
        /* Out of the way of 0, 1, 2, which become /dev/null and the log. */
        w->sock = fcntl(w->sock, F_DUPFD_CLOEXEC, 3);
        w->lock = fcntl(w->lock, F_DUPFD_CLOEXEC, 3);
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        log_fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (null_fd >= 0)
                dup2(null_fd, STDIN_FILENO);
        dup2(log_fd >= 0 ? log_fd : null_fd, STDOUT_FILENO);
        dup2(log_fd >= 0 ? log_fd : null_fd, STDERR_FILENO);
        keep[0] = w->sock;
        keep[1] = w->lock;
        /* Everything else (the caller's pipes, netlink and libvirt sockets) belongs to the applying process. */
        close_other_fds(keep, G_N_ELEMENTS(keep));
        if (chdir("/") < 0) {
                /* Only so that no directory stays busy. */
        }
        w->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
        w->starttime = proc_starttime((int)getpid());
        w->armed = g_get_real_time() / G_USEC_PER_SEC;

        if (w->sock < 0 || w->lock < 0 || w->sigfd < 0 || !write_record(w, "applying")) {
                log_line(STDERR_FILENO, "cannot start: %s", g_strerror(errno));
                watchdog_exit(w, 1);
        }
        /* Who holds the lock now, for the message another vmnet prints. */
        {
                g_autofree char *who = g_strdup_printf("%d, awaiting confirm\n", (int)getpid());

                if (ftruncate(w->lock, 0) < 0 || pwrite(w->lock, who, strlen(who), 0) < 0) {
                        /* Informative only. */
                }
        }
        log_line(STDERR_FILENO, "watching the apply of plan '%s'%s%s (%u s to confirm)", c->plan,
                 c->netns ? " in network namespace " : "", c->netns ? c->netns : "", c->seconds);
        reply = g_strdup_printf("R %d\n", (int)getpid());
        send_all(w->sock, reply);

        /* Phase 1: the apply runs. Undo at once if its process dies before it is done. */
        while (!w->applied) {
                struct pollfd p[2] = { { w->sock, POLLIN, 0 }, { w->sigfd, POLLIN, 0 } };
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        watchdog_undo(w, w->started, "the watchdog could not wait");
                }
                if (p[1].revents & POLLIN) {
                        int sig = read_signal(w->sigfd);

                        /* Undoing under a running apply would fight it: remember, act once it ends. */
                        if ((sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) && !term)
                                term = g_strdup(strsignal(sig));
                }
                if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                n = read(w->sock, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        watchdog_undo(w, w->started,
                                      "the applying process ended before the apply was complete");
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] == MSG_STARTED) {
                                w->started++;
                        } else if (buf[i] == MSG_APPLIED) {
                                w->applied = TRUE;
                        } else if (buf[i] == MSG_ABORT) {
                                log_line(STDERR_FILENO, "the apply failed and undid itself");
                                g_unlink(c->base);
                                watchdog_exit(w, 0);
                        }
                }
        }

        /* Phase 2: wait for `vmnet confirm` until the deadline. */
        {
                gint64 end = g_get_monotonic_time() + (gint64)c->seconds * G_USEC_PER_SEC;
                g_autofree char *ack = NULL;

                c->deadline = g_get_real_time() / G_USEC_PER_SEC + c->seconds;
                if (!write_record(w, "pending")) {
                        log_line(STDERR_FILENO, "cannot write %s: undoing", c->base);
                        watchdog_undo(w, c->actions->len, "the pending record could not be written");
                }
                ack = g_strdup_printf("P %" G_GINT64_FORMAT "\n", c->deadline);
                send_all(w->sock, ack);
                log_line(STDERR_FILENO, "applied; waiting for 'vmnet confirm' until %" G_GINT64_FORMAT,
                         c->deadline);
                if (term) {
                        g_autofree char *why = g_strdup_printf("the watchdog was stopped (%s)", term);

                        watchdog_undo(w, c->actions->len, why);
                }
                for (;;) {
                        gint64 left = end - g_get_monotonic_time();
                        struct pollfd p[2] = { { w->sigfd, POLLIN, 0 }, { w->sock, POLLIN, 0 } };
                        int r;

                        if (left <= 0) {
                                g_autofree char *why = g_strdup_printf("not confirmed within %u s",
                                                                       c->seconds);

                                watchdog_undo(w, c->actions->len, why);
                        }
                        r = poll(p, w->sock >= 0 ? 2 : 1, (int)MIN((left + 999) / 1000, G_MAXINT));
                        if (r < 0 && errno != EINTR)
                                watchdog_undo(w, c->actions->len, "the watchdog could not wait");
                        if (r > 0 && (p[0].revents & POLLIN)) {
                                int sig = read_signal(w->sigfd);

                                if (sig == SIGUSR1 && !g_file_test(c->base, G_FILE_TEST_EXISTS)) {
                                        log_line(STDERR_FILENO, "confirmed");
                                        keep_plan(w);
                                        watchdog_exit(w, 0);
                                }
                                if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
                                        g_autofree char *why = g_strdup_printf(
                                                "the watchdog was stopped (%s) before confirmation",
                                                strsignal(sig));

                                        watchdog_undo(w, c->actions->len, why);
                                }
                        }
                        /* The applying process exits after the hand-off: fine, stop listening. */
                        if (r > 0 && w->sock >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
                                if (read(w->sock, buf, sizeof(buf)) <= 0) {
                                        close(w->sock);
                                        w->sock = -1;
                                }
                        }
                }
        }
}

/* ------------------------------------------------------------ applying side */

/* Reads one line (without its newline) within timeout_ms; NULL on EOF, error or time-out. */
static char *read_line(int fd, int timeout_ms, gboolean *eof)
{
        g_autoptr(GString) s = g_string_new(NULL);
        gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        *eof = FALSE;
        for (;;) {
                struct pollfd p = { fd, POLLIN, 0 };
                gint64 left = (end - g_get_monotonic_time()) / 1000;
                char ch;
                ssize_t n;

                if (left <= 0)
                        return NULL;
                if (poll(&p, 1, (int)left) <= 0) {
                        if (errno == EINTR)
                                continue;
                        return NULL;
                }
                n = read(fd, &ch, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        *eof = TRUE;
                        return NULL;
                }
                if (ch == '\n')
                        return g_string_free(g_steal_pointer(&s), FALSE);
                g_string_append_c(s, ch);
        }
}

static void send_byte(VmnetConfirm *c, char b)
{
        if (c->sock >= 0 && send(c->sock, &b, 1, MSG_NOSIGNAL) < 0) {
                /* The watchdog is gone; vmnet_confirm_handoff() notices and acts. */
        }
}

static void confirm_free_data(VmnetConfirm *c)
{
        if (c->sock >= 0)
                close(c->sock);
        g_free(c->netns);
        g_free(c->base);
        g_free(c->state_path);
        g_free(c->state_data);
        g_free(c->plan);
        g_free(c->plan_file);
        g_free(c->virt_uri);
        g_free(c);
}

VmnetConfirm *vmnet_confirm_arm(VmnetApplyCtx *ctx, const char *netns, const GPtrArray *actions,
                                const VmnetState *state, int lock_fd, guint seconds,
                                VmnetApplyProgress progress, gpointer progress_data,
                                GError **error)
{
        VmnetConfirm *c = g_new0(VmnetConfirm, 1);
        g_autoptr(VmnetConfirmInfo) old = NULL;
        g_autofree char *line = NULL;
        int sv[2];
        gboolean eof;
        pid_t child;
        int status;

        c->sock = -1;
        c->seconds = seconds;
        c->actions = actions;
        c->progress = progress;
        c->progress_data = progress_data;
        c->netns = g_strdup(netns);
        c->base = record_path(netns);
        c->plan = g_strdup(ctx->plan->name);
        c->plan_file = g_strcmp0(ctx->plan->file, "-") == 0 ? g_strdup("<stdin>")
                                                             : g_canonicalize_filename(ctx->plan->file, NULL);
        c->unplug_timeout = ctx->unplug_timeout;
        if (ctx->virt)
                c->virt_uri = vmnet_libvirt_uri(ctx->virt);

        if (!vmnet_own_dir(vmnet_run_dir(), error))
                goto fail;
        /* We hold the lock, so a record left behind is stale (its watchdog was killed). */
        old = vmnet_confirm_read_pending(netns);
        if (old && old->alive) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_LOCKED,
                            "an apply of plan '%s' is waiting for confirmation (watchdog pid %d); "
                            "run 'vmnet confirm' or wait for its deadline",
                            old->plan ? old->plan : "?", old->pid);
                goto fail;
        }
        if (old)
                g_unlink(c->base);
        /* Left by a watchdog killed while it undid (or by a confirm killed midway). */
        {
                g_autofree char *rollback = sibling(c->base, ".rollback");
                g_autofree char *confirmed = sibling(c->base, ".confirmed");

                g_unlink(rollback);
                g_unlink(confirmed);
        }
        if (state && state->path) {
                c->state_path = g_strdup(state->path);
                c->state_data = g_memdup2(state->before, state->before_len);
                c->state_len = state->before_len;
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "socketpair: %s", g_strerror(errno));
                goto fail;
        }
        /* Whatever stdio buffers hold would otherwise be written twice. */
        fflush(stdout);
        fflush(stderr);
        child = fork();
        if (child < 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "fork: %s", g_strerror(errno));
                close(sv[0]);
                close(sv[1]);
                goto fail;
        }
        if (child == 0) {
                /* A session of its own: no terminal, no SIGHUP when the SSH session goes. */
                close(sv[0]);
                setsid();
                if (fork() == 0) {
                        Watchdog w = { .c = c, .plan = ctx->plan, .sock = sv[1], .lock = lock_fd };

                        /* Our copies of the caller's sockets: closed here, never used. */
                        ctx->virt = NULL;
                        vmnet_apply_ctx_close(ctx);
                        watchdog_main(&w);
                }
                _exit(0);
        }
        close(sv[1]);
        c->sock = sv[0];
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        line = read_line(c->sock, HANDSHAKE_MS, &eof);
        if (!line || !g_str_has_prefix(line, "R ")) {
                g_autofree char *log = sibling(c->base, ".log");

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "the confirmation watchdog did not start (see %s); nothing was changed",
                            log);
                goto fail;
        }
        c->pid = (pid_t)g_ascii_strtoll(line + 2, NULL, 10);
        return c;
fail:
        confirm_free_data(c);
        return NULL;
}

void vmnet_confirm_progress(const VmnetAction *a, gboolean undo, gpointer user_data)
{
        VmnetConfirm *c = user_data;

        if (c->progress)
                c->progress(a, undo, c->progress_data);
        if (undo)
                return;
        c->started++;
        send_byte(c, MSG_STARTED);
}

void vmnet_confirm_abort(VmnetConfirm *c)
{
        if (!c || c->finished)
                return;
        send_byte(c, MSG_ABORT);
        c->finished = TRUE;
}

pid_t vmnet_confirm_watchdog_pid(const VmnetConfirm *c)
{
        return c->pid;
}

gint64 vmnet_confirm_deadline(const VmnetConfirm *c)
{
        return c->deadline;
}

gboolean vmnet_confirm_handoff(VmnetConfirm *c, VmnetApplyCtx *ctx, GError **error)
{
        g_autofree char *line = NULL;
        gboolean eof = FALSE;
        char b = MSG_APPLIED;

        c->finished = TRUE;
        if (send(c->sock, &b, 1, MSG_NOSIGNAL) == 1)
                line = read_line(c->sock, HANDSHAKE_MS, &eof);
        else
                eof = TRUE;
        if (line && g_str_has_prefix(line, "P ")) {
                c->deadline = g_ascii_strtoll(line + 2, NULL, 10);
                close(c->sock);
                c->sock = -1;
                return TRUE;
        }
        if (!eof) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "the confirmation watchdog (pid %d) does not answer; unless it is "
                            "stuck, it still rolls the apply back if 'vmnet confirm' does not run",
                            (int)c->pid);
                return FALSE;
        }
        /* Killed: nothing would undo this apply if the admin is now cut off, so undo it here. */
        {
                g_autofree char *logpath = sibling(c->base, ".log");
                int logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                UndoResult res = { 0 };
                g_autofree char *why = g_strdup_printf("the watchdog (pid %d) was gone; the "
                                                       "applying process undid the apply",
                                                       (int)c->pid);

                log_line(logfd, "%s", why);
                undo_actions(ctx, c->actions, c->actions->len, TRUE, logfd, &res);
                restore_state(c, logfd);
                save_last(c, res.failed ? "rollback-incomplete" : "rolled-back", why, 0, &res);
                g_unlink(c->base);
                if (logfd >= 0)
                        close(logfd);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "the confirmation watchdog (pid %d) is gone (killed?), so nothing "
                            "would roll this apply back: it was undone now%s%s",
                            (int)c->pid, res.failed ? "; these steps failed, the host is partly "
                                                      "changed:\n"
                                                    : "",
                            res.failed ? res.errors->str : "");
                g_string_free(res.errors, TRUE);
                return FALSE;
        }
}

void vmnet_confirm_free(VmnetConfirm *c)
{
        if (!c)
                return;
        if (!c->finished && c->sock >= 0) {
                gboolean eof = FALSE;
                g_autofree char *line = NULL;

                /* EOF tells the watchdog to undo now; it closes its end when done. */
                shutdown(c->sock, SHUT_WR);
                do {
                        g_free(line);
                        line = read_line(c->sock, UNDO_WAIT_MS, &eof);
                } while (line);
        }
        confirm_free_data(c);
}

/* ------------------------------------------------------------------ confirm */

VmnetConfirmInfo *vmnet_confirm_commit(const char *netns, GError **error)
{
        g_autofree char *base = record_path(netns);
        g_autofree char *confirmed = sibling(base, ".confirmed");
        g_autofree char *rollback = sibling(base, ".rollback");
        g_autofree char *last = sibling(base, ".last");
        guint64 starttime = 0;
        g_autoptr(VmnetConfirmInfo) info = info_load(base, &starttime);

        if (!info) {
                guint64 rb_start = 0;
                g_autoptr(VmnetConfirmInfo) rb = info_load(rollback, &rb_start);
                g_autofree char *log = sibling(base, ".log");

                if (rb && process_alive(rb->pid, rb_start))
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "too late: the apply of plan '%s' is being rolled back "
                                    "(watchdog pid %d)",
                                    rb->plan ? rb->plan : "?", rb->pid);
                else if (rb)
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "the rollback of plan '%s' was interrupted (watchdog pid %d is "
                                    "gone): the host may be partly rolled back; see %s",
                                    rb->plan ? rb->plan : "?", rb->pid, log);
                else
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_NOT_FOUND,
                                    "no apply is waiting for confirmation%s%s",
                                    netns ? " in network namespace " : "", netns ? netns : "");
                return NULL;
        }
        info->alive = process_alive(info->pid, starttime);
        if (info->alive && g_strcmp0(info->state, "pending") != 0) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "the apply of plan '%s' is still running; confirm once it has finished",
                            info->plan ? info->plan : "?");
                return NULL;
        }
        if (rename(base, confirmed) < 0) {
                int e = errno;

                if (e == ENOENT)
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "too late: the deadline passed and the apply is being rolled back");
                else
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "renaming %s: %s", base,
                                    g_strerror(e));
                return NULL;
        }
        if (info->alive) {
                gint64 end = g_get_monotonic_time() + CONFIRM_WAIT_MS * 1000;

                kill(info->pid, SIGUSR1);
                /* Until it has exited, it still holds the host lock. */
                while (process_alive(info->pid, starttime) && g_get_monotonic_time() < end)
                        g_usleep(20 * 1000);
        } else {
                g_free(info->reason);
                info->reason = g_strdup_printf("the watchdog (pid %d) was no longer running "
                                               "(killed?): nothing would have rolled the apply back",
                                               info->pid);
        }
        g_free(info->state);
        info->state = g_strdup("confirmed");
        info->finished = g_get_real_time() / G_USEC_PER_SEC;
        info_save(info, 0, last);
        g_unlink(confirmed);
        return g_steal_pointer(&info);
}
