/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stand-alone driver for the fuzz targets when libFuzzer is not there (gcc
 * builds, CI): replays every seed file, then a deterministic series of
 * mutated seeds, through LLVMFuzzerTestOneInput.
 *
 * Accepts the libFuzzer flags the tests use so one command line serves
 * both builds: -runs=N (mutations, default FUZZ_DRIVER_RUNS_DEFAULT),
 * -max_total_time=S (stop mutating after S seconds), -seed=N; any other
 * "-flag" is ignored. Other arguments are seed files or directories (a
 * directory that cannot be opened is skipped: libFuzzer's output corpus
 * may not exist yet). The same seed gives the same inputs, so a failure
 * is reproduced by the same command; the input that crashed is written to
 * ./crash-driver before the target runs it.
 */
#define _GNU_SOURCE /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds read at most: corpora are small, this only bounds a mistake. */
#define FUZZ_DRIVER_SEEDS_MAX 4096u
/* Largest seed read and largest mutated input. */
#define FUZZ_DRIVER_INPUT_MAX (256u * 1024u)
#define FUZZ_DRIVER_RUNS_DEFAULT 20000ul
/* Mutations stacked on one input: 1..this. */
#define FUZZ_DRIVER_STACK_MAX 8u

struct seed {
	uint8_t *data;
	size_t len;
};

static struct seed seeds[FUZZ_DRIVER_SEEDS_MAX];
static size_t n_seeds;
static uint64_t rng_state;

/* xorshift64*: deterministic, good enough to pick mutations. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static int add_seed_file(const char *path)
{
	struct seed *s;
	FILE *f;

	if (n_seeds >= FUZZ_DRIVER_SEEDS_MAX)
		return -ENOSPC;
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	s = &seeds[n_seeds];
	s->data = malloc(FUZZ_DRIVER_INPUT_MAX);
	if (!s->data) {
		fclose(f);
		return -ENOMEM;
	}
	s->len = fread(s->data, 1, FUZZ_DRIVER_INPUT_MAX, f);
	fclose(f);
	n_seeds++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order, so runs are reproducible. */
static void add_seed_dir(const char *dir)
{
	char *names[FUZZ_DRIVER_SEEDS_MAX];
	size_t n = 0, i;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)) && n < FUZZ_DRIVER_SEEDS_MAX) {
		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			add_seed_file(names[i]);
		free(names[i]);
	}
}

static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x40};

/* One mutation of buf (len bytes, room for FUZZ_DRIVER_INPUT_MAX). */
static size_t mutate(uint8_t *buf, size_t len)
{
	size_t pos = below(len), n;

	switch (rng() % 9) {
	case 0: /* flip a bit */
		if (len)
			buf[pos] ^= (uint8_t)(1u << (rng() % 8));
		break;
	case 1: /* an interesting byte */
		if (len)
			buf[pos] = interesting[below(sizeof(interesting))];
		break;
	case 2: /* a random byte */
		if (len)
			buf[pos] = (uint8_t)rng();
		break;
	case 3: /* truncate */
		len = below(len + 1);
		break;
	case 4: /* delete a run */
		n = below(len - pos + 1);
		memmove(buf + pos, buf + pos + n, len - pos - n);
		len -= n;
		break;
	case 5: /* insert random bytes */
		n = 1 + below(16);
		if (len + n > FUZZ_DRIVER_INPUT_MAX)
			break;
		memmove(buf + pos + n, buf + pos, len - pos);
		for (size_t i = 0; i < n; i++)
			buf[pos + i] = (uint8_t)rng();
		len += n;
		break;
	case 6: /* duplicate a run (repeats headers, items, blocks) */
		n = below(len - pos + 1);
		if (len + n > FUZZ_DRIVER_INPUT_MAX)
			break;
		memmove(buf + pos + n, buf + pos, len - pos);
		len += n;
		break;
	case 7: /* a 16- or 32-bit field set to an edge value, either order */
		if (len >= 4 && pos + 4 <= len) {
			static const uint32_t edge[] = {0, 1, 0xffff, 0x10000, 0x7fffffff,
							0xffffffff, 0x8000, 24, 4096};
			uint32_t v = edge[below(sizeof(edge) / sizeof(edge[0]))];

			if (rng() & 1) {
				buf[pos] = (uint8_t)(v >> 24);
				buf[pos + 1] = (uint8_t)(v >> 16);
				buf[pos + 2] = (uint8_t)(v >> 8);
				buf[pos + 3] = (uint8_t)v;
			} else {
				buf[pos] = (uint8_t)v;
				buf[pos + 1] = (uint8_t)(v >> 8);
				buf[pos + 2] = (uint8_t)(v >> 16);
				buf[pos + 3] = (uint8_t)(v >> 24);
			}
		}
		break;
	default: /* splice in part of another seed */
		if (n_seeds) {
			const struct seed *o = &seeds[below(n_seeds)];
			size_t from = below(o->len);

			n = below(o->len - from + 1);
			if (pos + n > FUZZ_DRIVER_INPUT_MAX)
				break;
			memcpy(buf + pos, o->data + from, n);
			if (pos + n > len)
				len = pos + n;
		}
		break;
	}
	return len;
}

/* Keep the input about to run, so a crash leaves it behind. */
static void save_input(const uint8_t *data, size_t len)
{
	FILE *f = fopen("crash-driver", "wb");

	if (!f)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

static void run_one(const uint8_t *data, size_t len, int keep)
{
	/* an exact-size copy, so that the sanitizers see any overread */
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	if (len)
		memcpy(copy, data, len);
	if (keep)
		save_input(copy, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

int main(int argc, char **argv)
{
	unsigned long runs = FUZZ_DRIVER_RUNS_DEFAULT, max_time = 0, i;
	int keep = getenv("FUZZ_DRIVER_KEEP") != NULL;
	uint8_t *buf;
	time_t start = time(NULL);

	rng_state = 0x9e3779b97f4a7c15ull;
	for (int a = 1; a < argc; a++) {
		struct stat st;

		if (strncmp(argv[a], "-runs=", 6) == 0)
			runs = strtoul(argv[a] + 6, NULL, 10);
		else if (strncmp(argv[a], "-max_total_time=", 16) == 0)
			max_time = strtoul(argv[a] + 16, NULL, 10);
		else if (strncmp(argv[a], "-seed=", 6) == 0)
			rng_state = strtoull(argv[a] + 6, NULL, 10) | 1;
		else if (argv[a][0] == '-')
			continue;
		else if (stat(argv[a], &st) == 0 && S_ISDIR(st.st_mode))
			add_seed_dir(argv[a]);
		else if (add_seed_file(argv[a]) < 0)
			fprintf(stderr, "cannot read seed %s\n", argv[a]);
	}
	buf = malloc(FUZZ_DRIVER_INPUT_MAX);
	if (!buf)
		return 1;
	for (i = 0; i < n_seeds; i++)
		run_one(seeds[i].data, seeds[i].len, keep);
	run_one(NULL, 0, keep);
	for (i = 0; i < runs; i++) {
		size_t len = 0;
		unsigned stack = 1 + (unsigned)below(FUZZ_DRIVER_STACK_MAX);

		if (max_time && (unsigned long)(time(NULL) - start) >= max_time)
			break;
		if (n_seeds) {
			const struct seed *s = &seeds[below(n_seeds)];

			memcpy(buf, s->data, s->len);
			len = s->len;
		}
		while (stack--)
			len = mutate(buf, len);
		run_one(buf, len, keep);
	}
	printf("driver: %zu seeds, %lu mutated inputs, %ld s\n", n_seeds, i,
	       (long)(time(NULL) - start));
	for (i = 0; i < n_seeds; i++)
		free(seeds[i].data);
	free(buf);
	return 0;
}
