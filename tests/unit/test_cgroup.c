/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Golden tests of enrich/cgroup.h: every cgroup path form of every runtime
 * (tests/fixtures/containers/cgroup_paths.tsv) and whole /proc/PID/cgroup
 * files (cgroup_files.tsv), one driver for both tables.
 *
 * Usage: test_cgroup FIXTURE_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/cgroup.h"
#include "test_util.h"

/* Longest fixture line. */
#define LINE_MAX_LEN 8192
#define FIELDS_MAX 8

/* Split a line at tabs in place; "-" stands for an empty field. */
static int split(char *line, char **fields)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\n")] = '\0';
	while (n < FIELDS_MAX) {
		char *tab = strchr(p, '\t');

		if (tab)
			*tab = '\0';
		fields[n++] = strcmp(p, "-") == 0 ? "" : p;
		if (!tab)
			break;
		p = tab + 1;
	}
	return n;
}

/* "\n" in the contents column stands for a newline. */
static size_t unescape(char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] == 'n') {
			s[o++] = '\n';
			i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static const char *runtime_word(int r, const struct cgroup_identity *id)
{
	if (r == -ENOENT)
		return "none";
	if (r < 0)
		return "error";
	if (id->runtime == CONTAINER_RUNTIME_UNKNOWN)
		return "unknown";
	return container_runtime_name(id->runtime);
}

static const char *flags_word(int r, const struct cgroup_identity *id)
{
	if (r < 0)
		return "";
	if (id->flags & CGROUP_F_RUNTIME_GUESSED)
		return "guessed";
	if (id->flags & CGROUP_F_MONITOR)
		return "monitor";
	return "";
}

static void check_row(const char *where, int r, const struct cgroup_identity *id, char **f)
{
	int ok = 1;

	ok &= strcmp(runtime_word(r, id), f[0]) == 0;
	if (r == 0) {
		ok &= strcmp(id->id, f[1]) == 0;
		ok &= strcmp(id->pod_uid, f[2]) == 0;
	}
	ok &= strcmp(flags_word(r, id), f[3]) == 0;
	if (!ok)
		fprintf(stderr,
			"%s: got runtime=%s id=%s pod_uid=%s flags=%s, expected %s %s %s %s\n",
			where, runtime_word(r, id), r == 0 ? id->id : "", r == 0 ? id->pod_uid : "",
			flags_word(r, id), f[0], f[1], f[2], f[3]);
	test_count(ok);
}

static FILE *open_fixture(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		fprintf(stderr, "cannot open %s\n", path);
	return f;
}

static unsigned run_paths(const char *dir)
{
	static char line[LINE_MAX_LEN];
	unsigned rows = 0, lineno = 0;
	FILE *f = open_fixture(dir, "cgroup_paths.tsv");

	if (!CHECK(f))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *fields[FIELDS_MAX], where[64];
		struct cgroup_identity id;
		int r;

		lineno++;
		if (line[0] == '#')
			continue;
		if (split(line, fields) < 5) {
			fprintf(stderr, "cgroup_paths.tsv:%u: too few columns\n", lineno);
			test_count(0);
			continue;
		}
		memset(&id, 0x5a, sizeof(id));
		r = cgroup_identify_path(fields[0], strlen(fields[0]), &id);
		snprintf(where, sizeof(where), "cgroup_paths.tsv:%u", lineno);
		check_row(where, r, &id, fields + 1);
		rows++;
	}
	fclose(f);
	return rows;
}

static unsigned run_files(const char *dir)
{
	static char line[LINE_MAX_LEN];
	unsigned rows = 0, lineno = 0;
	FILE *f = open_fixture(dir, "cgroup_files.tsv");

	if (!CHECK(f))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *fields[FIELDS_MAX], where[96];
		struct cgroup_identity id;
		size_t len;
		int r;

		lineno++;
		if (line[0] == '#')
			continue;
		if (split(line, fields) < 6) {
			fprintf(stderr, "cgroup_files.tsv:%u: too few columns\n", lineno);
			test_count(0);
			continue;
		}
		len = unescape(fields[1]);
		memset(&id, 0, sizeof(id));
		r = cgroup_identify_proc_file(fields[1], len, &id);
		snprintf(where, sizeof(where), "cgroup_files.tsv:%u (%s)", lineno, fields[0]);
		check_row(where, r, &id, fields + 2);
		rows++;
	}
	fclose(f);
	return rows;
}

/* Properties no table row shows well. */
static void run_edges(void)
{
	static char big[CGROUP_PATH_MAX + 2];
	const char *id64 = "dea789073b3ac558481126ebdbd6500f8bf2bfa959fef6c79c40d435159bfea4";
	struct cgroup_identity id, before;
	char buf[256];

	/* Failure leaves *ret untouched. */
	memset(&id, 0x33, sizeof(id));
	before = id;
	CHECK(cgroup_identify_path("/user.slice", 11, &id) == -ENOENT);
	CHECK(memcmp(&id, &before, sizeof(id)) == 0);
	CHECK(cgroup_identify_path(NULL, 0, &id) == -EINVAL);

	/* Over-long input is refused, not cut to something that matches. */
	memset(big, '/', sizeof(big) - 1);
	snprintf(buf, sizeof(buf), "/docker/%s", id64);
	memcpy(big + sizeof(big) - 1 - strlen(buf), buf, strlen(buf));
	CHECK(cgroup_identify_path(big, sizeof(big) - 1, &id) == -EINVAL);
	CHECK(cgroup_identify_path(big + 2, sizeof(big) - 3, &id) == 0);

	/* The length is honoured: no reading past it. */
	snprintf(buf, sizeof(buf), "/docker/%sXYZ", id64);
	CHECK(cgroup_identify_path(buf, strlen(buf) - 3, &id) == 0);
	CHECK_STR(id.id, id64);
	CHECK(cgroup_identify_path(buf, strlen(buf) - 4, &id) == -ENOENT);

	/* A systemd unit at the length limit fits; one over does not. */
	memset(buf, 'u', sizeof(buf));
	memcpy(buf + CGROUP_IDENTITY_MAX - 8, ".service", 8);
	CHECK(cgroup_identify_path(buf, CGROUP_IDENTITY_MAX, &id) == 0);
	CHECK_EQ_U64(strlen(id.id), CGROUP_IDENTITY_MAX);
	memcpy(buf + CGROUP_IDENTITY_MAX - 7, ".service", 8);
	CHECK(cgroup_identify_path(buf, CGROUP_IDENTITY_MAX + 1, &id) == -ENOENT);

	CHECK_STR(container_runtime_name(CONTAINER_RUNTIME_CRIO), "cri-o");
	CHECK_STR(container_runtime_name(CONTAINER_RUNTIME_UNKNOWN), "");
	CHECK(container_runtime_name(CONTAINER_RUNTIME_MAX) == NULL);
	CHECK(cgroup_is_container_id(id64, 64));
	CHECK(!cgroup_is_container_id(id64, 63));
}

int main(int argc, char **argv)
{
	unsigned paths, files;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
		return 2;
	}
	paths = run_paths(argv[1]);
	files = run_files(argv[1]);
	/* A fixture that silently lost its rows would pass vacuously. */
	CHECK(paths >= 40);
	CHECK(files >= 10);
	run_edges();
	printf("%u path rows, %u file rows\n", paths, files);
	return test_summary();
}
