/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `ebpfdump [options] -- COMMAND [ARGS]`: the command whose events are
 * captured. It is forked before the programs are loaded (its pid is the
 * in-kernel filter, with its descendants) and waits, still a copy of
 * ebpfdump, until command_release(): only then does it run COMMAND, so its
 * first system call is already observed. Does not print. */
#ifndef EBPFDUMP_EXTCAP_COMMAND_H
#define EBPFDUMP_EXTCAP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How ebpfdump exits when COMMAND could not be run, as env(1) does:
 * 127 not found, 126 found but not runnable. */
#define COMMAND_EXIT_NOT_FOUND 127
#define COMMAND_EXIT_CANNOT_RUN 126

struct command;

/* Fork the waiting child. stdout_is_output: ebpfdump writes its capture
 * to stdout (--fifo -), so the command's stdout goes to stderr instead.
 * The caller has SIGCHLD blocked (it reads it from a signalfd); the child
 * starts COMMAND with every signal unblocked and default dispositions.
 * Returns 0 or -errno. */
int command_start(char *const argv[], bool stdout_is_output, struct command **ret);
pid_t command_pid(const struct command *cmd);
/* Let the child run COMMAND. Returns 0 once it runs it, or -errno of the
 * failed exec (-ENOENT: not found), with the child reaped. */
int command_release(struct command *cmd);
/* Reap the child if it has exited (never blocks). Returns true when it
 * has, with its status as a shell gives it: the exit code, or 128 + the
 * signal that ended it. */
bool command_reap(struct command *cmd, int *ret_status);
/* Ends a child that is still running: SIGTERM, SIGKILL after wait_ms,
 * then reaped. Returns its status as command_reap() does. */
int command_end(struct command *cmd, int wait_ms);
/* Frees; a child still waiting to run COMMAND exits without running it.
 * NULL-safe. Returns NULL. */
struct command *command_free(struct command *cmd);

#endif
