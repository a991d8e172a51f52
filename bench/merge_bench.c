/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Micro benchmark of parse + merge: packets/s with 1M tracked flows, RSS
 * and bytes per flow. Synthetic data; prints one line per measurement.
 *
 * usage: merge_bench [flows [packets]]   (defaults 1048576 and 4000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "merge/merge.h"

#define PROCESSES 1000 /* distinct owners the flows are spread over */
#define US 1000ull
#define T0 (1700000000ull * 1000 * 1000 * 1000)

struct counts {
	uint64_t packets, both, events;
};

static void on_event(const struct event *ev, const uint8_t *record, size_t record_len, void *ctx)
{
	(void)ev;
	(void)record;
	(void)record_len;
	((struct counts *)ctx)->events++;
}

static void on_packet(const struct merge_packet *pkt, const struct merge_tag *tag, void *ctx)
{
	struct counts *c = ctx;

	(void)pkt;
	c->packets++;
	c->both += tag->sender && tag->receiver;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Flow i: client 10.x.y.z:(1024 + i % 60000) ↔ server 172.16.0.1:443. */
static void flow_endpoints(uint32_t i, uint8_t client[4], uint16_t *cport)
{
	client[0] = 10;
	client[1] = (uint8_t)(i >> 16);
	client[2] = (uint8_t)(i >> 8);
	client[3] = (uint8_t)i;
	*cport = (uint16_t)(1024 + i % 60000);
}

static const uint8_t server_addr[4] = { 172, 16, 0, 1 };

static void fill_event(struct event *ev, uint16_t type, uint64_t ts, uint32_t i, bool server)
{
	uint8_t client[4];
	uint16_t cport;
	uint32_t pid = server ? 1 : 100 + i % PROCESSES;

	flow_endpoints(i, client, &cport);
	ev->type = type;
	ev->ts_ns = ts;
	ev->pid = ev->tid = pid;
	snprintf(ev->comm, sizeof(ev->comm), server ? "server" : "client%u", pid);
	snprintf(ev->cmdline, sizeof(ev->cmdline), "/usr/bin/%s --port 443", ev->comm);
	ev->present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_COMM) |
		      EVENT_BIT(ITEM_CMDLINE) | EVENT_BIT(ITEM_PROTO) | EVENT_BIT(ITEM_LADDR) |
		      EVENT_BIT(ITEM_RADDR) | EVENT_BIT(ITEM_LPORT) | EVENT_BIT(ITEM_RPORT);
	ev->family = AF_INET;
	ev->proto = 6;
	memcpy(server ? ev->raddr : ev->laddr, client, 4);
	memcpy(server ? ev->laddr : ev->raddr, server_addr, 4);
	ev->lport = server ? 443 : cport;
	ev->rport = server ? cport : 443;
}

/* Ethernet + IPv4 + TCP, 1514 bytes like a full data segment. */
#define FRAME_LEN 1514
static void fill_frame(uint8_t *f, uint32_t i, bool to_server)
{
	uint8_t client[4];
	uint16_t cport, sport, dport;

	flow_endpoints(i, client, &cport);
	sport = to_server ? cport : 443;
	dport = to_server ? 443 : cport;
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[16] = (FRAME_LEN - 14) >> 8;
	f[17] = (FRAME_LEN - 14) & 0xff;
	f[23] = 6;
	memcpy(f + 26, to_server ? client : server_addr, 4);
	memcpy(f + 30, to_server ? server_addr : client, 4);
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[46] = 0x50;
	f[47] = 0x10;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* bursty: 64 flows active at a time, moving on every 4096 packets, as
 * real traffic clusters; otherwise uniform over all flows (worst case). */
static int run(uint32_t flows, uint64_t packets, bool pass_tagged, bool unknown, bool bursty)
{
	static uint8_t frame[FRAME_LEN];
	struct counts counts = { 0 };
	struct merge_config cfg;
	struct merge_stats st;
	struct merge *m = NULL;
	struct event *ev = calloc(1, sizeof(*ev));
	long rss0 = rss_kib(), rss1;
	uint64_t ts = T0;
	double t0, t1, t2;
	int r;

	merge_config_init(&cfg);
	cfg.flows.capacity = flows;
	cfg.pass_tagged = pass_tagged;
	cfg.on_event = on_event;
	cfg.on_packet = on_packet;
	cfg.ctx = &counts;
	r = merge_new(&cfg, &m);
	if (r < 0 || !ev) {
		fprintf(stderr, "merge_new: %s\n", strerror(-r));
		return 1;
	}

	/* Both ends local: a connect and an accept per flow. */
	t0 = now_s();
	for (uint32_t i = 0; i < flows; i++) {
		fill_event(ev, EVENT_TCP_CONNECT, ts, i, false);
		merge_push_event(m, ev);
		fill_event(ev, EVENT_TCP_ACCEPT, ts + 1, i, true);
		merge_push_event(m, ev);
		ts += 20 * US; /* 50k events/s: the window holds ~5000 */
		if ((i & 63) == 0)
			merge_advance(m, ts);
	}
	merge_flush(m);
	t1 = now_s();
	rss1 = rss_kib();
	merge_get_stats(m, &st);
	if (!pass_tagged && !unknown && !bursty)
		printf("events: %u flows via %llu events in %.2f s = %.0f events/s; "
		       "flows %llu, owners %llu (%llu B)\n",
		       flows, (unsigned long long)st.events_in, t1 - t0,
		       (double)st.events_in / (t1 - t0), (unsigned long long)st.flows_live,
		       (unsigned long long)st.owners_live, (unsigned long long)st.owners_bytes);
	if (!pass_tagged && !unknown && !bursty)
		printf("memory: table %llu B allocated = %.1f B/flow (entry %zu B + bucket 4 B); "
		       "RSS +%ld KiB with %llu flows = %.1f B/flow incl. owners and malloc\n",
		       (unsigned long long)st.flows_bytes, (double)st.flows_bytes / flows,
		       sizeof(struct flow), rss1 - rss0, (unsigned long long)st.flows_live,
		       (double)(rss1 - rss0) * 1024 / (double)st.flows_live);

	memset(frame, 0, sizeof(frame));
	t1 = now_s();
	for (uint64_t n = 0; n < packets; n++) {
		uint32_t i = bursty ? (uint32_t)((n / 4096 * 64 + next_random() % 64) % flows)
				    : next_random() % flows;
		struct merge_packet p = {
			.ts_ns = ts,
			.data = frame,
			.caplen = FRAME_LEN,
			.len = FRAME_LEN,
			.linktype = PACKET_LINKTYPE_ETHERNET,
		};

		/* unknown: addresses outside every tracked flow */
		fill_frame(frame, unknown ? i + flows : i, n & 1);
		merge_push_packet(m, &p);
		ts += US; /* 1M packets per second of stream time */
		if ((n & 255) == 0)
			merge_advance(m, ts);
	}
	merge_flush(m);
	t2 = now_s();
	merge_get_stats(m, &st);
	printf("packets (%s, %s%s): %llu in %.2f s = %.2f Mpps; tagged both %llu, held %llu, "
	       "peak queue %llu\n",
	       pass_tagged ? "pass_tagged" : "hold all", unknown ? "unknown flows" : "known flows",
	       bursty ? ", bursty" : ", uniform",
	       (unsigned long long)packets, t2 - t1, (double)packets / (t2 - t1) / 1e6,
	       (unsigned long long)(counts.both), (unsigned long long)st.packets_held,
	       (unsigned long long)st.held_peak);
	merge_free(m);
	free(ev);
	return counts.packets == packets ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint32_t flows =
	    argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : FLOW_TABLE_CAPACITY_DEFAULT;
	uint64_t packets = argc > 2 ? strtoull(argv[2], NULL, 0) : 4000000;
	static uint8_t frame[FRAME_LEN];
	struct packet_info info;
	double t0, t1;
	int r = 0;

	if (flows == 0 || flows > FLOW_TABLE_CAPACITY_MAX) {
		fprintf(stderr, "flows must be 1..%u\n", FLOW_TABLE_CAPACITY_MAX);
		return 2;
	}
	fill_frame(frame, 1, true);
	t0 = now_s();
	for (uint64_t n = 0; n < packets; n++) {
		frame[37] = (uint8_t)n; /* keep the compiler from hoisting */
		packet_parse(PACKET_LINKTYPE_ETHERNET, frame, FRAME_LEN, &info);
	}
	t1 = now_s();
	printf("parse only: %.1f Mpps\n", (double)packets / (t1 - t0) / 1e6);

	r |= run(flows, packets, false, false, false);
	r |= run(flows, packets, true, false, false);
	r |= run(flows, packets / 4, false, true, false);
	r |= run(flows, packets, false, false, true);
	r |= run(flows, packets, true, false, true);
	return r;
}
