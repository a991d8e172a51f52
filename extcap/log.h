/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The program's logger: errors always reach stderr as one line; debug
 * lines only with --debug (stderr) or --debug-file. stdout is never used:
 * it belongs to the extcap protocol. */
#ifndef EBPFDUMP_LOG_H
#define EBPFDUMP_LOG_H

#include <stdbool.h>

/* Returns 0 or -errno when debug_file cannot be opened. */
int log_setup(bool debug, const char *debug_file);
void log_close(void);
bool log_debug_enabled(void);

__attribute__((format(printf, 1, 2))) void log_error(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_warn(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_info(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_debug(const char *fmt, ...);

#endif
