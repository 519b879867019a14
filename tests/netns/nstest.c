/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/netns/nstest.h"

gboolean vmnet_nstest_available(void)
{
        int status = 0;
        pid_t pid;

        if (geteuid() != 0)
                return FALSE;
        pid = fork();
        if (pid < 0)
                return FALSE;
        if (pid == 0)
                _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
        if (waitpid(pid, &status, 0) < 0)
                return FALSE;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static pid_t runner_pid;

void vmnet_nstest_enter(void)
{
        ck_assert_msg(runner_pid != 0 && getpid() != runner_pid,
                      "refusing to unshare the test runner itself");
        ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET) failed");
        g_free(vmnet_nstest_sh("ip link set lo up"));
}

static int run(const char *cmd, char **out, gboolean report)
{
        g_autofree char *stdout_buf = NULL, *stderr_buf = NULL;
        g_autoptr(GError) error = NULL;
        const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        int status = 0;

        ck_assert_msg(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   &stdout_buf, &stderr_buf, &status, &error),
                      "spawning sh: %s", error ? error->message : "");
        if (out)
                *out = g_strchomp(g_steal_pointer(&stdout_buf));
        if (report && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                fprintf(stderr, "command failed: %s\n%s", cmd, stderr_buf ? stderr_buf : "");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

char *vmnet_nstest_sh(const char *fmt, ...)
{
        g_autofree char *cmd = NULL;
        char *out = NULL;
        va_list ap;
        int rc;

        va_start(ap, fmt);
        cmd = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        rc = run(cmd, &out, TRUE);
        ck_assert_msg(rc == 0, "`%s` exited with %d", cmd, rc);
        return out;
}

int vmnet_nstest_sh_status(const char *fmt, ...)
{
        g_autofree char *cmd = NULL;
        g_autofree char *out = NULL;
        va_list ap;

        va_start(ap, fmt);
        cmd = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        return run(cmd, &out, FALSE);
}

int vmnet_nstest_run(Suite *s, gboolean need_netns)
{
        SRunner *sr;
        int failed;

        sr = srunner_create(s);
        if (need_netns && !vmnet_nstest_available()) {
                printf("SKIP: these tests need root and unshare(CLONE_NEWNET)\n");
                srunner_free(sr);
                return 77;
        }
        runner_pid = getpid();
        /* Each test unshares its own process: it must never be the runner (CK_FORK=no). */
        srunner_set_fork_status(sr, CK_FORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
