/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The program's logger: errors always reach stderr as one line, warnings
 * and information too unless a notice sink takes them; debug
 * lines only with --debug (stderr) or --debug-file. stdout is never used:
 * it belongs to the extcap protocol. */
#ifndef EBPFDUMP_LOG_H
#define EBPFDUMP_LOG_H

#include <stdbool.h>

/* Returns 0 or -errno when debug_file cannot be opened. */
int log_setup(bool debug, const char *debug_file);
void log_close(void);
bool log_debug_enabled(void);

/* Where warnings and information go instead of stderr, and errors too
 * (errors still reach stderr): under Wireshark, whose extcap support shows
 * anything on stderr in an error dialog ("Error by extcap pipe"), notices
 * belong in the toolbar's log. level is "error", "warning" or "info";
 * text has no newline. NULL restores stderr. */
typedef void (*log_sink_fn)(const char *level, const char *text, void *ctx);
void log_set_notice_sink(log_sink_fn fn, void *ctx);

__attribute__((format(printf, 1, 2))) void log_error(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_warn(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_info(const char *fmt, ...);
/* -q: info messages no longer reach stderr (the debug file keeps them);
 * warnings and errors still do. */
void log_set_quiet(bool on);
/* Replace the progress line on stderr (a terminal: the caller checks) by
 * line, or erase it (NULL). Messages erase it before they print. */
void log_progress(const char *line);
__attribute__((format(printf, 1, 2))) void log_debug(const char *fmt, ...);

#endif
