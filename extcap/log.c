/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The program's logger (see log.h). */
#include "extcap/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static bool debug_on, quiet;
static bool progress_shown; /* a progress line, without its newline, is on stderr */
static FILE *debug_file;
static log_sink_fn notice_sink;
static void *notice_sink_ctx;

void log_set_notice_sink(log_sink_fn fn, void *ctx)
{
	notice_sink = fn;
	notice_sink_ctx = ctx;
}

int log_setup(bool debug, const char *path)
{
	debug_on = debug || path;
	if (path) {
		debug_file = fopen(path, "ae");
		if (!debug_file)
			return -errno;
		setvbuf(debug_file, NULL, _IOLBF, 0);
	}
	return 0;
}

void log_close(void)
{
	if (debug_file)
		fclose(debug_file);
	debug_file = NULL;
}

void log_progress(const char *line)
{
	/* Carriage return, then erase to the end of the line (ECMA-48 EL). */
	if (progress_shown || line)
		fputs("\r\033[K", stderr);
	progress_shown = line != NULL;
	if (line)
		fputs(line, stderr);
	fflush(stderr);
}

void log_set_quiet(bool on)
{
	quiet = on;
}

bool log_debug_enabled(void)
{
	return debug_on;
}

static void vlog(const char *level, bool always_stderr, const char *fmt, va_list ap)
{
	va_list copy;

	if (debug_file) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		va_copy(copy, ap);
		fprintf(debug_file, "%lld.%06ld %s: ", (long long)ts.tv_sec, ts.tv_nsec / 1000,
			level);
		vfprintf(debug_file, fmt, copy);
		fputc('\n', debug_file);
		va_end(copy);
	}
	if (notice_sink && always_stderr) {
		char text[1024];

		va_copy(copy, ap);
		vsnprintf(text, sizeof(text), fmt, copy);
		va_end(copy);
		notice_sink(level, text, notice_sink_ctx);
		/* Notices stop here: on stderr they would be taken for errors. */
		if (level[0] != 'e')
			return;
	}
	if (quiet && level[0] == 'i' && !(debug_on && !debug_file))
		return; /* -q: warnings and errors only */
	if (always_stderr || (debug_on && !debug_file)) {
		log_progress(NULL);
		fprintf(stderr, "ebpfdump: ");
		if (level[0] != 'e' && level[0] != 'i')
			fprintf(stderr, "%s: ", level);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

#define DEFINE_LOG(name, level, always)                                                           \
	void name(const char *fmt, ...)                                                           \
	{                                                                                         \
		va_list ap;                                                                       \
		if (!(always) && !debug_on)                                                       \
			return;                                                                   \
		va_start(ap, fmt);                                                                \
		vlog(level, always, fmt, ap);                                                     \
		va_end(ap);                                                                       \
	}

DEFINE_LOG(log_error, "error", true)
DEFINE_LOG(log_warn, "warning", true)
DEFINE_LOG(log_info, "info", true)
DEFINE_LOG(log_debug, "debug", false)
