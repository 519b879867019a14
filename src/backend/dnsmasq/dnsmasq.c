/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/apply.h"
#include "backend/dnsmasq/dnsmasq.h"
#include "backend/systemd/units.h"
#include "render/render.h"
#include "util/testhook.h"

#define DNSMASQ_DEFAULT "/usr/sbin/dnsmasq"

static char *scoped_dir(const char *base, const char *netns, const char *plan_name)
{
        g_autofree char *ns = netns ? g_strconcat("netns-", netns, NULL) : NULL;

        return netns ? g_build_filename(base, ns, "dnsmasq", plan_name, NULL)
                     : g_build_filename(base, "dnsmasq", plan_name, NULL);
}

VmnetDnsmasqPaths *vmnet_dnsmasq_paths(const char *plan_name, const char *netns,
                                       const char *network)
{
        VmnetDnsmasqPaths *p = g_new0(VmnetDnsmasqPaths, 1);
        g_autofree char *state = scoped_dir(vmnet_state_dir(), netns, plan_name);
        g_autofree char *run = scoped_dir(vmnet_run_dir(), netns, plan_name);
        g_autofree char *conf = g_strconcat(network, ".conf", NULL);
        g_autofree char *leases = g_strconcat(network, ".leases", NULL);
        g_autofree char *pid = g_strconcat(network, ".pid", NULL);

        p->plan = g_strdup(plan_name);
        p->netns = g_strdup(netns);
        p->network = g_strdup(network);
        p->unit = vmnet_dnsmasq_unit_name(plan_name, netns, network);
        p->conf_path = g_build_filename(state, conf, NULL);
        p->lease_path = g_build_filename(state, leases, NULL);
        p->pid_path = g_build_filename(run, pid, NULL);
        return p;
}

VmnetDnsmasqPaths *vmnet_dnsmasq_paths_copy(const VmnetDnsmasqPaths *src)
{
        VmnetDnsmasqPaths *p = g_new0(VmnetDnsmasqPaths, 1);

        p->plan = g_strdup(src->plan);
        p->netns = g_strdup(src->netns);
        p->network = g_strdup(src->network);
        p->unit = g_strdup(src->unit);
        p->conf_path = g_strdup(src->conf_path);
        p->lease_path = g_strdup(src->lease_path);
        p->pid_path = g_strdup(src->pid_path);
        return p;
}

void vmnet_dnsmasq_paths_free(VmnetDnsmasqPaths *p)
{
        if (!p)
                return;
        g_free(p->plan);
        g_free(p->netns);
        g_free(p->network);
        g_free(p->unit);
        g_free(p->conf_path);
        g_free(p->lease_path);
        g_free(p->pid_path);
        g_free(p);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
        return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char **vmnet_dnsmasq_list_networks(const char *plan_name, const char *netns)
{
        g_autofree char *dir = scoped_dir(vmnet_state_dir(), netns, plan_name);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        while (d && (name = g_dir_read_name(d)))
                if (g_str_has_suffix(name, ".conf") && strlen(name) > 5)
                        g_ptr_array_add(names, g_strndup(name, strlen(name) - 5));
        g_ptr_array_sort(names, cmp_str);
        g_ptr_array_set_free_func(names, NULL);
        g_ptr_array_add(names, NULL);
        return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}

VmnetDnsmasqSupervisor vmnet_dnsmasq_supervisor(void)
{
        static gsize once;
        static VmnetDnsmasqSupervisor detected;
        const char *forced = vmnet_test_hook(VMNET_HOOK_DNSMASQ_SUPERVISOR);

        if (g_strcmp0(forced, "fork") == 0)
                return VMNET_DNSMASQ_BY_VMNET;
        if (g_strcmp0(forced, "systemd") == 0)
                return VMNET_DNSMASQ_BY_SYSTEMD;
        /* Once: a run must not start an instance one way and look for it the other. */
        if (g_once_init_enter(&once)) {
                detected = vmnet_systemd_booted() && vmnet_systemd_bus_reachable()
                                   ? VMNET_DNSMASQ_BY_SYSTEMD
                                   : VMNET_DNSMASQ_BY_VMNET;
                g_once_init_leave(&once, 1);
        }
        return detected;
}

static void append_escaped(GString *out, const char *s)
{
        for (const char *c = s; *c; c++) {
                if (g_ascii_isalnum(*c) || *c == '_' || *c == '.' || *c == '-')
                        g_string_append_c(out, *c);
                else
                        g_string_append_printf(out, "\\x%02x", (guchar)*c);
        }
}

char *vmnet_dnsmasq_unit_name(const char *plan_name, const char *netns, const char *network)
{
        GString *out = g_string_new("vmnet-dnsmasq-");

        /* ':' cannot be in a name (vmnet-plan(5), --netns), so the fields stay apart. */
        if (netns) {
                append_escaped(out, netns);
                g_string_append_c(out, ':');
        }
        append_escaped(out, plan_name);
        g_string_append_c(out, ':');
        append_escaped(out, network);
        g_string_append(out, ".service");
        return g_string_free(out, FALSE);
}

const char *vmnet_dnsmasq_binary(void)
{
        const char *b = vmnet_test_hook(VMNET_HOOK_DNSMASQ);

        return b ? b : DNSMASQ_DEFAULT;
}

/* Is pid a process that has not exited (a zombie has)? */
static gboolean pid_alive(int pid)
{
        g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
        g_autofree char *stat = NULL;
        const char *paren;

        if (!g_file_get_contents(stat_path, &stat, NULL, NULL))
                return FALSE;
        /* "pid (comm) S ...": the state letter follows the last ')'. */
        paren = strrchr(stat, ')');
        return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* Is pid a live process whose command line has --conf-file=conf? */
static gboolean pid_serves(int pid, const char *conf)
{
        g_autofree char *cmdline_path = g_strdup_printf("/proc/%d/cmdline", pid);
        g_autofree char *cmdline = NULL;
        g_autofree char *want = g_strconcat("--conf-file=", conf, NULL);
        gsize len;

        if (!pid_alive(pid))
                return FALSE;
        if (!g_file_get_contents(cmdline_path, &cmdline, &len, NULL))
                return FALSE;
        for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1)
                if (g_str_equal(cmdline + off, want))
                        return TRUE;
        return FALSE;
}

static int read_pid_file(const char *path)
{
        g_autofree char *text = NULL;
        gint64 pid;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return 0;
        pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
        return pid > 1 && pid <= G_MAXINT ? (int)pid : 0;
}

int vmnet_dnsmasq_running_pid(const VmnetDnsmasqPaths *p)
{
        int pid;

        if (vmnet_dnsmasq_supervisor() == VMNET_DNSMASQ_BY_SYSTEMD) {
                g_autofree char *state = NULL;

                /* systemd reads the pid file (PIDFile=) and knows whether the unit is up. */
                if (!vmnet_systemd_unit_state(p->unit, &state, &pid, NULL) ||
                    !g_str_equal(state, "active"))
                        return 0;
        } else {
                pid = read_pid_file(p->pid_path);
        }
        return pid && pid_serves(pid, p->conf_path) ? pid : 0;
}

gboolean vmnet_dnsmasq_read_file(const char *path, char **content, GError **error)
{
        g_autoptr(GError) e = NULL;

        *content = NULL;
        if (g_file_get_contents(path, content, NULL, &e))
                return TRUE;
        if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                return TRUE;
        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "%s", e->message);
        return FALSE;
}

gboolean vmnet_dnsmasq_write_file(const char *path, const char *content, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) e = NULL;

        if (!content) {
                if (g_unlink(path) < 0 && errno != ENOENT) {
                        int err = errno;

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "removing %s: %s", path,
                                    g_strerror(err));
                        return FALSE;
                }
                return TRUE;
        }
        if (!vmnet_own_dir(dir, error))
                return FALSE;
        if (!g_file_set_contents_full(path, content, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                      &e)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "writing %s: %s", path,
                            e->message);
                return FALSE;
        }
        return TRUE;
}

/*
 * The directory of a file dnsmasq writes, as vmnet's own; and no link at the
 * file itself, which dnsmasq would follow (it opens its lease file with
 * fopen(); its pid file it removes first and creates with O_EXCL).
 */
static gboolean mkdir_for(const char *path, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(path);
        struct stat st;

        if (!vmnet_own_dir(dir, error))
                return FALSE;
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO,
                            "%s: %s, which dnsmasq would write through; remove it", path,
                            S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
                return FALSE;
        }
        return TRUE;
}

/* An instance started and not waited for yet. */
typedef struct {
        GPid pid;   /* forked: dnsmasq's first process (0 under systemd) */
        int err_fd; /* forked: the read end of its stderr, -1 when closed */
} Started;

struct _VmnetDnsmasqBatch {
        VmnetSystemdJobs *jobs; /* systemd: opened by the batch's first start */
        GHashTable *started;    /* unit name (unique per instance) -> Started* */
};

/* Reaps a forked first process (its exit status in *status); -1 with errno when it cannot. */
static int reap(Started *s, int *status)
{
        pid_t r;

        if (s->err_fd >= 0)
                close(s->err_fd);
        s->err_fd = -1;
        if (!s->pid)
                return 0;
        while ((r = waitpid(s->pid, status, 0)) < 0 && errno == EINTR) {
        }
        s->pid = 0;
        return r < 0 ? -1 : 0;
}

static void started_free(gpointer p)
{
        Started *s = p;
        int status;

        /* Waited for by no one (the caller's error): no zombie, no open pipe. */
        reap(s, &status);
        g_free(s);
}

VmnetDnsmasqBatch *vmnet_dnsmasq_batch_new(void)
{
        VmnetDnsmasqBatch *b = g_new0(VmnetDnsmasqBatch, 1);

        b->started = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, started_free);
        return b;
}

void vmnet_dnsmasq_batch_free(VmnetDnsmasqBatch *b)
{
        if (!b)
                return;
        g_hash_table_unref(b->started);
        g_clear_pointer(&b->jobs, vmnet_systemd_jobs_free);
        g_free(b);
}

/*
 * Starts p's dnsmasq and returns at once; its stderr is a pipe read by
 * fork_wait(). posix_spawn(), not fork(): glibc's clones without copying
 * vmnet's address space, which costs more than dnsmasq's own start where
 * page faults are dear (the test VM's emulated CPU: ~115 ms a start with
 * g_spawn's fork, for the 30 ms of a fork and exec from a shell). The
 * child gets what g_spawn gave it: stdin and stdout /dev/null, no other
 * descriptor of vmnet's (so the daemon holds neither vmnet's lock,
 * libvirt's socket nor another instance's stderr), and no blocked or
 * ignored signal, which would survive exec (reapply --watch waits on a
 * signalfd with SIGTERM, SIGINT and SIGHUP blocked; SIGPIPE is handled):
 * or destroy's SIGTERM would never reach dnsmasq.
 */
static gboolean fork_start(const VmnetDnsmasqPaths *p, Started *s, GError **error)
{
        g_autofree char *conf_arg = g_strconcat("--conf-file=", p->conf_path, NULL);
        const char *argv[] = { vmnet_dnsmasq_binary(), conf_arg, NULL };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, dfl;
        int err_pipe[2];
        pid_t pid;
        int r;

        if (pipe2(err_pipe, O_CLOEXEC) < 0) {
                int err = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "running %s: pipe: %s",
                            argv[0], g_strerror(err));
                return FALSE;
        }
        sigemptyset(&none);
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        sigaddset(&dfl, SIGTERM);
        sigaddset(&dfl, SIGINT);
        sigaddset(&dfl, SIGHUP);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &dfl);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
        posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(err_pipe[1]);
        if (r != 0) {
                close(err_pipe[0]);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED, "running %s: %s", argv[0],
                            g_strerror(r));
                return FALSE;
        }
        s->pid = pid;
        s->err_fd = err_pipe[0];
        return TRUE;
}

/*
 * dnsmasq forks: the first process exits once the daemon has read its
 * configuration and bound its sockets, with a non-zero status and a
 * message on stderr when it could not. The daemon keeps no copy of
 * stderr, so the pipe ends when the first process does.
 */
static gboolean fork_wait(const VmnetDnsmasqPaths *p, Started *s, GError **error)
{
        g_autoptr(GString) err_out = g_string_new(NULL);
        g_autoptr(GError) e = NULL;
        char buf[4096];
        int status = 0;

        for (;;) {
                ssize_t n = read(s->err_fd, buf, sizeof(buf));

                if (n > 0)
                        g_string_append_len(err_out, buf, n);
                else if (n == 0 || errno != EINTR)
                        break;
        }
        if (reap(s, &status) < 0) {
                int err = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "dnsmasq for network %s: waiting for it: %s", p->network,
                            g_strerror(err));
                return FALSE;
        }
        if (!g_spawn_check_wait_status(status, &e)) {
                g_strstrip(err_out->str);
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "dnsmasq for network %s did not start (%s): %s", p->network,
                            e->message, *err_out->str ? err_out->str : "no message");
                return FALSE;
        }
        return TRUE;
}

/*
 * Queues p's transient unit's start job on the batch's connection to
 * systemd; systemd_wait() waits for it, which ends when dnsmasq has
 * daemonized (Type=forking). dnsmasq's own message about a failure is in
 * the unit's journal, which the error names.
 */
static gboolean systemd_start(VmnetDnsmasqBatch *b, const VmnetDnsmasqPaths *p, GError **error)
{
        g_autofree char *what = g_strdup_printf("vmnet: dnsmasq of network %s of plan %s%s%s",
                                                p->network, p->plan,
                                                p->netns ? " in network namespace " : "",
                                                p->netns ? p->netns : "");
        g_autoptr(GVariant) props = vmnet_render_dnsmasq_unit(what, vmnet_dnsmasq_binary(),
                                                              p->conf_path, p->pid_path, p->netns);
        g_autoptr(GError) e = NULL;

        if (!b->jobs)
                b->jobs = vmnet_systemd_jobs_new(&e);
        if (!b->jobs ||
            !vmnet_systemd_jobs_start_transient(b->jobs, p->unit, props, 30, &e)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "dnsmasq for network %s did not start: %s", p->network, e->message);
                return FALSE;
        }
        return TRUE;
}

static gboolean systemd_wait(VmnetDnsmasqBatch *b, const VmnetDnsmasqPaths *p, GError **error)
{
        g_autoptr(GError) e = NULL;

        if (!vmnet_systemd_jobs_wait(b->jobs, p->unit, &e)) {
                g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                            "dnsmasq for network %s did not start: %s", p->network, e->message);
                return FALSE;
        }
        return TRUE;
}

gboolean vmnet_dnsmasq_batch_start(VmnetDnsmasqBatch *b, const VmnetDnsmasqPaths *p,
                                   GError **error)
{
        Started *s;

        g_return_val_if_fail(!g_hash_table_contains(b->started, p->unit), FALSE);
        if (!mkdir_for(p->pid_path, error) || !mkdir_for(p->lease_path, error))
                return FALSE;
        s = g_new0(Started, 1);
        s->err_fd = -1;
        if (vmnet_dnsmasq_supervisor() == VMNET_DNSMASQ_BY_SYSTEMD ? !systemd_start(b, p, error)
                                                                    : !fork_start(p, s, error)) {
                g_free(s);
                return FALSE;
        }
        g_hash_table_insert(b->started, g_strdup(p->unit), s);
        return TRUE;
}

gboolean vmnet_dnsmasq_batch_wait(VmnetDnsmasqBatch *b, const VmnetDnsmasqPaths *p,
                                  GError **error)
{
        Started *s = g_hash_table_lookup(b->started, p->unit);
        gboolean ok;
        gint64 deadline;

        g_return_val_if_fail(s != NULL, FALSE);
        ok = s->pid ? fork_wait(p, s, error) : systemd_wait(b, p, error);
        g_hash_table_remove(b->started, p->unit);
        if (!ok)
                return FALSE;
        /* The pid file is written before the first process exits; allow a moment all the same. */
        deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
        while (!vmnet_dnsmasq_running_pid(p)) {
                if (g_get_monotonic_time() > deadline) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "dnsmasq for network %s started but is not running "
                                    "(pid file %s)",
                                    p->network, p->pid_path);
                        return FALSE;
                }
                g_usleep(20 * 1000);
        }
        return TRUE;
}

gboolean vmnet_dnsmasq_start(const VmnetDnsmasqPaths *p, GError **error)
{
        g_autoptr(VmnetDnsmasqBatch) b = vmnet_dnsmasq_batch_new();

        return vmnet_dnsmasq_batch_start(b, p, error) && vmnet_dnsmasq_batch_wait(b, p, error);
}

gboolean vmnet_dnsmasq_stop(const VmnetDnsmasqPaths *p, GError **error)
{
        int pid;

        if (vmnet_dnsmasq_supervisor() == VMNET_DNSMASQ_BY_SYSTEMD) {
                g_autoptr(GError) e = NULL;

                if (!vmnet_systemd_stop_unit(p->unit, 30, &e)) {
                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "stopping dnsmasq for network %s: %s", p->network,
                                    e->message);
                        return FALSE;
                }
        }
        /* A dnsmasq a vmnet without systemd forked (the pid file alone says so). */
        pid = read_pid_file(p->pid_path);
        if (pid && !pid_serves(pid, p->conf_path))
                pid = 0;

        if (pid) {
                gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

                if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
                        int err = errno;

                        g_set_error(error, VMNET_ERROR, VMNET_ERROR_FAILED,
                                    "stopping dnsmasq for network %s (pid %d): %s", p->network,
                                    pid, g_strerror(err));
                        return FALSE;
                }
                /*
                 * Wait for the exit itself: an exiting process loses its
                 * command line before it stops running, and a restart
                 * must not race the old instance for its sockets.
                 */
                while (pid_alive(pid)) {
                        if (g_get_monotonic_time() > deadline) {
                                kill(pid, SIGKILL);
                                deadline = G_MAXINT64;
                        }
                        g_usleep(20 * 1000);
                }
        }
        if (g_unlink(p->pid_path) < 0 && errno != ENOENT) {
                int err = errno;

                g_set_error(error, VMNET_ERROR, VMNET_ERROR_IO, "removing %s: %s", p->pid_path,
                            g_strerror(err));
                return FALSE;
        }
        return TRUE;
}

GPtrArray *vmnet_dnsmasq_parse_leases(const char *text)
{
        GPtrArray *leases = g_ptr_array_new_with_free_func((GDestroyNotify)vmnet_lease_free);
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

        for (char **line = lines; *line; line++) {
                g_auto(GStrv) f = g_strsplit_set(g_strstrip(*line), " \t", -1);
                VmnetLease *l;
                guint64 expiry;

                /* "EXPIRY MAC IP HOSTNAME CLIENTID"; DHCPv6 has "duid ..." and IAIDs instead of MACs. */
                if (g_strv_length(f) < 4 || !g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXINT64,
                                                                       &expiry, NULL))
                        continue;
                l = g_new0(VmnetLease, 1);
                if (!vmnet_mac_parse(f[1], &l->mac) || !vmnet_addr_parse(f[2], &l->ip)) {
                        vmnet_lease_free(l);
                        continue;
                }
                l->expiry = (gint64)expiry;
                l->hostname = g_str_equal(f[3], "*") ? NULL : g_strdup(f[3]);
                l->client_id = f[4] && !g_str_equal(f[4], "*") ? g_strdup(f[4]) : NULL;
                g_ptr_array_add(leases, l);
        }
        return leases;
}

GPtrArray *vmnet_dnsmasq_read_leases(const char *path, GError **error)
{
        g_autofree char *text = NULL;

        if (!vmnet_dnsmasq_read_file(path, &text, error))
                return NULL;
        return vmnet_dnsmasq_parse_leases(text);
}

GHashTable *vmnet_dnsmasq_read_plan_leases(const VmnetPlan *plan, const char *netns)
{
        GHashTable *all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify)g_ptr_array_unref);

        for (guint i = 0; i < plan->networks->len; i++) {
                const VmnetNetwork *n = g_ptr_array_index(plan->networks, i);
                g_autoptr(VmnetDnsmasqPaths) p = vmnet_dnsmasq_paths(plan->name, netns, n->name);
                GPtrArray *leases;

                if (!g_file_test(p->lease_path, G_FILE_TEST_EXISTS))
                        continue;
                leases = vmnet_dnsmasq_read_leases(p->lease_path, NULL);
                if (leases)
                        g_hash_table_insert(all, g_strdup(n->name), leases);
        }
        return all;
}
