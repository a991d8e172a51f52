/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User-space event pipeline throughput on one core, no kernel: synthetic
 * records through decode → enrich → merge → record encode → pcapng writer,
 * the path every kernel event takes in extcap/capture.c.
 *
 * The records look like the kernel's (pid, tid, uid, gid, comm, netns,
 * cgroup id, 5-tuple; connect/accept/close over FLOWS flows and PROCESSES
 * processes). Enrichment reads a fake /proc tree made in a temporary
 * directory, so every process is found and then cached, as on a host with
 * long-lived processes. Each stage is timed cumulatively (decode alone,
 * + enrich, + merge, + writer) so the cost of each stage is the
 * difference; prints events/s per stage and the merge's counters.
 *
 * usage: pipeline_bench [events [output]]  (defaults 4000000, /dev/null)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enrich/proc.h"
#include "event/event.h"
#include "event/record.h"
#include "merge/merge.h"
#include "pcapng/writer.h"

#define RECORDS 65536u	 /* distinct pre-encoded records, replayed */
#define PROCESSES 1000u /* distinct pids: fits ENRICH_PROC_CACHE_SIZE */
#define FLOWS 16384u
#define EVENT_GAP_NS 500u /* 2 M/s of event time */
#define ADVANCE_EVERY 256u /* merge_advance() as often as a busy event loop */
#define T0 (1700000000ull * 1000 * 1000 * 1000)
#define ROOT_MAX 256 /* fake /proc directory name */
#define PATH_MAX_BENCH (ROOT_MAX + 64)

enum stage { STAGE_DECODE, STAGE_ENRICH, STAGE_MERGE, STAGE_WRITE, STAGE_COUNT };
static const char *const stage_name[STAGE_COUNT] = {
	"decode", "decode+enrich", "decode+enrich+merge", "decode+enrich+merge+encode+write",
};

struct sink {
	struct pcapng_writer *w;
	uint32_t if_id;
	uint64_t emitted, written, errors;
	int write;
};

static uint8_t *records;
static uint32_t record_off[RECORDS], record_len[RECORDS];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	close(fd);
	return r;
}

/* A /proc with PROCESSES entries: pid N has exe → /usr/bin/svcN and a
 * command line of a realistic length. */
static int make_fake_proc(const char *root)
{
	char path[PATH_MAX_BENCH], target[64], cmd[128];

	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (uint32_t i = 0; i < PROCESSES; i++) {
		uint32_t pid = 1000 + i;
		int n;

		snprintf(path, sizeof(path), "%s/%u", root, pid);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
		snprintf(target, sizeof(target), "/usr/bin/svc%u", i);
		unlink(path);
		if (symlink(target, path) < 0)
			return -errno;
		snprintf(path, sizeof(path), "%s/%u/cmdline", root, pid);
		n = snprintf(cmd, sizeof(cmd), "/usr/bin/svc%u%c--port%c%u%c--verbose", i, 0, 0,
			     8000 + i, 0);
		if (write_file(path, cmd, (size_t)n + 1) < 0)
			return -EIO;
	}
	return 0;
}

static void remove_fake_proc(const char *root)
{
	char path[PATH_MAX_BENCH];

	for (uint32_t i = 0; i < PROCESSES; i++) {
		snprintf(path, sizeof(path), "%s/%u/exe", root, 1000 + i);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%u/cmdline", root, 1000 + i);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%u", root, 1000 + i);
		rmdir(path);
	}
	rmdir(root);
}

/* Record i: flow i % FLOWS; connect, accept and two closes in turn. */
static void fill_event(struct event *ev, uint32_t i)
{
	static const uint16_t types[4] = { EVENT_TCP_CONNECT, EVENT_TCP_ACCEPT, EVENT_TCP_CLOSE,
					   EVENT_TCP_CLOSE };
	uint32_t flow = i / 4 % FLOWS, kind = i % 4;
	bool server = kind == 1 || kind == 3;
	uint32_t pid = server ? 1000 : 1001 + flow % (PROCESSES - 1);
	uint8_t client[4] = { 10, 1, (uint8_t)(flow >> 8), (uint8_t)flow };
	uint8_t srv[4] = { 10, 2, 0, 1 };
	uint16_t cport = (uint16_t)(20000 + flow), sport = 443;

	memset(ev, 0, sizeof(*ev));
	ev->type = types[kind];
	ev->ts_ns = T0 + (uint64_t)i * EVENT_GAP_NS;
	ev->pid = pid;
	ev->tid = pid;
	ev->uid = server ? 0 : 1000;
	ev->gid = ev->uid;
	ev->ppid = 1;
	snprintf(ev->comm, sizeof(ev->comm), "svc%u", pid - 1000);
	snprintf(ev->pcomm, sizeof(ev->pcomm), "systemd");
	ev->cgroup_id = 4242;
	ev->netns = 4026531840u;
	ev->proto = 6;
	ev->family = AF_INET;
	memcpy(ev->laddr, server ? srv : client, 4);
	memcpy(ev->raddr, server ? client : srv, 4);
	ev->lport = server ? sport : cport;
	ev->rport = server ? cport : sport;
	ev->present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_UID) |
		      EVENT_BIT(ITEM_GID) | EVENT_BIT(ITEM_PPID) | EVENT_BIT(ITEM_COMM) |
		      EVENT_BIT(ITEM_PCOMM) | EVENT_BIT(ITEM_CGROUP_ID) | EVENT_BIT(ITEM_NETNS) |
		      EVENT_BIT(ITEM_PROTO) | EVENT_BIT(ITEM_LADDR) | EVENT_BIT(ITEM_RADDR) |
		      EVENT_BIT(ITEM_LPORT) | EVENT_BIT(ITEM_RPORT);
	if (ev->type == EVENT_TCP_CONNECT) {
		ev->latency_us = 35;
		EVENT_SET(ev, ITEM_LATENCY_US);
	}
	if (ev->type == EVENT_TCP_CLOSE) {
		ev->bytes_sent = 1234;
		ev->bytes_received = 5678;
		ev->srtt_us = 40;
		EVENT_SET(ev, ITEM_BYTES_SENT);
		EVENT_SET(ev, ITEM_BYTES_RECEIVED);
		EVENT_SET(ev, ITEM_SRTT_US);
	}
}

static int make_records(void)
{
	static struct event ev;
	size_t off = 0;

	records = malloc((size_t)RECORDS * 256);
	if (!records)
		return -ENOMEM;
	for (uint32_t i = 0; i < RECORDS; i++) {
		int n;

		fill_event(&ev, i);
		n = record_encode(&ev, records + off, 256);
		if (n < 0)
			return n;
		record_off[i] = (uint32_t)off;
		record_len[i] = (uint32_t)n;
		off += (size_t)n;
	}
	return 0;
}

/* As extcap/capture.c: the record the merge hands over is written. */
static void on_event(const struct event *ev, const uint8_t *record, size_t rec_len, void *ctx)
{
	struct sink *s = ctx;

	s->emitted++;
	if (!s->write)
		return;
	if (!record || pcapng_write_event(s->w, s->if_id, ev->ts_ns, record, rec_len) < 0)
		s->errors++;
	else
		s->written++;
}

static int run(enum stage stage, uint64_t events, const char *proc_root, const char *out,
	       double *ret_rate, struct merge_stats *ret_stats)
{
	static struct event ev; /* 5 KB: as capture.c, not on the stack */
	struct pcapng_interface iface = { .linktype = LINKTYPE_WIRESHARK_UPPER_PDU,
					  .name = "ebpfevents" };
	struct enrich_proc *proc = NULL;
	struct merge_config cfg;
	struct merge *m = NULL;
	struct sink *s = calloc(1, sizeof(*s));
	uint64_t bad = 0, ts = T0;
	const char *why;
	double t0, t;
	int r;

	if (!s)
		return -ENOMEM;
	s->write = stage >= STAGE_WRITE;
	r = enrich_proc_new(proc_root, &proc);
	if (r < 0)
		goto out;
	merge_config_init(&cfg);
	cfg.on_event = on_event;
	cfg.ctx = s;
	r = merge_new(&cfg, &m);
	if (r < 0)
		goto out;
	r = pcapng_writer_open_path(out, "pipeline_bench", &s->w);
	if (r < 0)
		goto out;
	r = pcapng_add_interface(s->w, &iface, &s->if_id);
	if (r < 0)
		goto out;
	/* As extcap/capture.c: one write() per loop pass, here every
	 * ADVANCE_EVERY events (a pass of the capture loop drains more). */
	pcapng_writer_hold(s->w, true);

	t0 = now_s();
	for (uint64_t i = 0; i < events; i++) {
		uint32_t k = (uint32_t)(i % RECORDS);

		if (record_decode(records + record_off[k], record_len[k], &ev, &why) < 0) {
			bad++;
			continue;
		}
		ts = T0 + i * EVENT_GAP_NS; /* replayed records move on in time */
		ev.ts_ns = ts;
		if (stage >= STAGE_ENRICH)
			enrich_proc_event(proc, &ev);
		if (stage >= STAGE_MERGE) {
			merge_push_event(m, &ev);
			if (i % ADVANCE_EVERY == 0)
				merge_advance(m, ts);
		}
		if (i % ADVANCE_EVERY == 0 && s->write && pcapng_writer_flush(s->w) < 0)
			s->errors++;
	}
	if (stage >= STAGE_MERGE)
		merge_flush(m);
	r = pcapng_writer_flush(s->w);
	t = now_s() - t0;
	*ret_rate = (double)(events - bad) / t;
	merge_get_stats(m, ret_stats);
	if (bad || s->errors)
		r = -EBADMSG;
out:
	merge_free(m);
	pcapng_writer_close(s->w);
	enrich_proc_free(proc);
	free(s);
	return r;
}

int main(int argc, char **argv)
{
	uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	const char *out = argc > 2 ? argv[2] : "/dev/null";
	char proc_root[ROOT_MAX];
	struct merge_stats st;
	double rate;
	int r;

	if (events == 0 || events > (1ull << 40)) {
		fprintf(stderr, "usage: pipeline_bench [events [output]]\n");
		return 2;
	}
	snprintf(proc_root, sizeof(proc_root), "%s/pipeline_bench_proc.%d",
		 getenv("TMPDIR") ?: "/tmp", (int)getpid());
	r = make_fake_proc(proc_root);
	if (r == 0)
		r = make_records();
	if (r < 0) {
		fprintf(stderr, "pipeline_bench: setup failed: %s\n", strerror(-r));
		remove_fake_proc(proc_root);
		return 1;
	}
	printf("pipeline_bench: %llu events, %u distinct records (avg %u bytes), %u processes, "
	       "%u flows, output %s\n",
	       (unsigned long long)events, RECORDS,
	       (unsigned)((record_off[RECORDS - 1] + record_len[RECORDS - 1]) / RECORDS), PROCESSES,
	       FLOWS, out);
	for (int s = 0; s < STAGE_COUNT; s++) {
		r = run((enum stage)s, events, proc_root, out, &rate, &st);
		if (r < 0) {
			fprintf(stderr, "pipeline_bench: %s: %s\n", stage_name[s], strerror(-r));
			break;
		}
		printf("%-34s %10.0f events/s  (%.0f ns/event)\n", stage_name[s], rate, 1e9 / rate);
	}
	if (r == 0)
		printf("merge: events_out=%llu released_early=%llu held_peak=%llu dropped=%llu\n",
		       (unsigned long long)st.events_out, (unsigned long long)st.released_early,
		       (unsigned long long)st.held_peak, (unsigned long long)st.dropped);
	if (r == 0)
		printf("pipeline_events_per_s=%.0f target=2000000 %s\n", rate,
		       rate >= 2e6 ? "MET" : "NOT MET");
	remove_fake_proc(proc_root);
	free(records);
	return r < 0 ? 1 : 0;
}
