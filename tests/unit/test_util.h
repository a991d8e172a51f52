/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tiny assertion helpers for C unit tests: count checks, report failures.
 *
 * A failed check prints "file:line: what" to stderr and the test goes on,
 * so one run shows every failure. End main() with `return test_summary();`
 * which prints "N passed, N failed" and returns the exit status (0 only
 * when nothing failed). Include from one file per test program.
 */
#ifndef EBPFDUMP_TEST_UTIL_H
#define EBPFDUMP_TEST_UTIL_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned test_passed, test_failed;

/* Count one check; returns ok so callers can skip checks that depend on it. */
static inline int test_count(int ok)
{
	if (ok)
		test_passed++;
	else
		test_failed++;
	return ok;
}

static inline int test_check(int ok, const char *file, int line, const char *what)
{
	if (!ok)
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	return test_count(ok);
}

#define CHECK(cond) test_check(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_EQ_U64(a, b)                                                                         \
	({                                                                                         \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                   \
		if (a_ != b_)                                                                      \
			fprintf(stderr, "%s:%d: %s == %" PRIu64 ", expected %s == %" PRIu64 "\n",  \
				__FILE__, __LINE__, #a, a_, #b, b_);                               \
		test_count(a_ == b_);                                                              \
	})

/* NULL compares equal only to NULL. */
#define CHECK_STR(a, b)                                                                            \
	({                                                                                         \
		const char *a_ = (a), *b_ = (b);                                                   \
		int ok_ = (a_ && b_) ? strcmp(a_, b_) == 0 : a_ == b_;                             \
		if (!ok_)                                                                          \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,        \
				__LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
		test_count(ok_);                                                                   \
	})

static inline int test_summary(void)
{
	printf("%u passed, %u failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif
