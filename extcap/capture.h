/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capture: one epoll loop wiring the sources (kernel events) through
 * enrichment to the pcapng sink, until a signal, --duration, or the reader
 * of the output goes away. */
#ifndef EBPFDUMP_CAPTURE_H
#define EBPFDUMP_CAPTURE_H

#include "extcap/options.h"

/* Exit codes of the program. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUN 1   /* could not start, or stopped by an error */
#define EXIT_FAILURE_USAGE 2 /* bad command line */

/* Runs the capture described by o; returns an exit code. Every failure is
 * logged as one line naming the cause and what to do. */
int capture_run(const struct options *o);

/* A capture that could not even start (a bad command line), run by
 * Wireshark: open the toolbar's control pipes (either may be NULL) and, when
 * fifo is a fifo, wait a few seconds for its reader (Wireshark's dumpcap);
 * wait for the toolbar's "initialized", hand the reader a valid empty
 * capture and close everything. Wireshark then shows the error printed on
 * stderr instead of waiting forever. Nothing is created or truncated. */
void capture_release_reader(const char *fifo, const char *control_in, const char *control_out);

#endif
