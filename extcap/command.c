/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include "extcap/command.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct command {
	pid_t pid;
	int go_fd;   /* parent's end: one byte lets the child run COMMAND */
	int fail_fd; /* parent's end: the child's errno when exec failed */
	bool reaped;
	int status;
};

static int shell_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(char *const argv[], bool stdout_is_output, int go_fd, int fail_fd)
{
	sigset_t none;
	char go = 0;
	int err;

	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* End of file instead of the byte: ebpfdump gave up, or died. */
	while (read(go_fd, &go, 1) < 0 && errno == EINTR)
		;
	if (go != 'g')
		_exit(COMMAND_EXIT_CANNOT_RUN);
	if (stdout_is_output && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(COMMAND_EXIT_CANNOT_RUN);
	/* Nothing of ebpfdump's (the output, BPF objects, sockets) reaches
	 * COMMAND; fail_fd closes at a successful exec. */
	syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
	execvp(argv[0], argv);
	err = errno;
	while (write(fail_fd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(err == ENOENT ? COMMAND_EXIT_NOT_FOUND : COMMAND_EXIT_CANNOT_RUN);
}

int command_start(char *const argv[], bool stdout_is_output, struct command **ret)
{
	struct command *cmd;
	int go[2], fail[2];

	*ret = NULL;
	if (!argv || !argv[0])
		return -EINVAL;
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	if (pipe2(go, O_CLOEXEC) < 0) {
		free(cmd);
		return -errno;
	}
	if (pipe2(fail, O_CLOEXEC) < 0) {
		int e = errno;

		close(go[0]);
		close(go[1]);
		free(cmd);
		return -e;
	}
	cmd->pid = fork();
	if (cmd->pid < 0) {
		int e = errno;

		close(go[0]);
		close(go[1]);
		close(fail[0]);
		close(fail[1]);
		free(cmd);
		return -e;
	}
	if (cmd->pid == 0) {
		close(go[1]);
		close(fail[0]);
		child(argv, stdout_is_output, go[0], fail[1]);
	}
	close(go[0]);
	close(fail[1]);
	cmd->go_fd = go[1];
	cmd->fail_fd = fail[0];
	*ret = cmd;
	return 0;
}

pid_t command_pid(const struct command *cmd)
{
	return cmd ? cmd->pid : 0;
}

static void reap_blocking(struct command *cmd)
{
	int wstatus;

	if (cmd->reaped)
		return;
	while (waitpid(cmd->pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			wstatus = 0;
			break;
		}
	}
	cmd->status = shell_status(wstatus);
	cmd->reaped = true;
}

int command_release(struct command *cmd)
{
	ssize_t n;
	int err = 0;

	if (!cmd || cmd->go_fd < 0)
		return -EINVAL;
	n = write(cmd->go_fd, "g", 1);
	close(cmd->go_fd);
	cmd->go_fd = -1;
	if (n != 1)
		return -EIO;
	/* Closed at a successful exec: end of file. Else the exec's errno. */
	do
		n = read(cmd->fail_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(cmd->fail_fd);
	cmd->fail_fd = -1;
	if (n == (ssize_t)sizeof(err)) {
		reap_blocking(cmd);
		return -err;
	}
	return 0;
}

bool command_reap(struct command *cmd, int *ret_status)
{
	int wstatus;
	pid_t r;

	if (!cmd)
		return false;
	if (!cmd->reaped) {
		do
			r = waitpid(cmd->pid, &wstatus, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r != cmd->pid)
			return false;
		cmd->status = shell_status(wstatus);
		cmd->reaped = true;
	}
	if (ret_status)
		*ret_status = cmd->status;
	return true;
}

int command_end(struct command *cmd, int wait_ms)
{
	int status = 1;

	if (!cmd)
		return status;
	if (command_reap(cmd, &status))
		return status;
	kill(cmd->pid, SIGTERM);
	for (int waited = 0; waited < wait_ms; waited += 10) {
		if (command_reap(cmd, &status))
			return status;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	kill(cmd->pid, SIGKILL);
	reap_blocking(cmd);
	return cmd->status;
}

struct command *command_free(struct command *cmd)
{
	if (!cmd)
		return NULL;
	if (cmd->go_fd >= 0) {
		/* Never released: the child sees end of file and exits. */
		close(cmd->go_fd);
		reap_blocking(cmd);
	}
	if (cmd->fail_fd >= 0)
		close(cmd->fail_fd);
	free(cmd);
	return NULL;
}
