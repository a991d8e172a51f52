/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of merge/: event → owner attribution, reorder window, order
 * of output, queue limits, expiry, fragments, wildcard sockets, owners. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event/comment.h"
#include "event/record.h"
#include "merge/merge.h"
#include "extcap/offline.h"
#include "extcap/packet_sink.h"
#include "merge/tag_comment.h"
#include "pcapng/reader.h"
#include "test_util.h"

#define MS (1000ull * 1000)
#define T0 (1700000000ull * 1000 * MS) /* an epoch-like base */
#define OUT_MAX 4096

/* ---- output recorder ---- */

struct out {
	bool is_event;
	uint64_t ts;
	uint16_t type;		/* event */
	uint32_t spid, rpid;	/* packet: 0 when untagged */
	uint16_t stype, rtype;
	char scomm[EVENT_COMM_MAX + 1];
	uint32_t iface;
};

static struct out outs[OUT_MAX];
static unsigned nout;
static unsigned records_given; /* events handed over with their record */
static struct merge *reenter; /* when set, the callback tries to re-enter */
static int reenter_result;

static void on_event(const struct event *ev, const uint8_t *record, size_t record_len, void *ctx)
{
	(void)ctx;
	CHECK(record != NULL); /* every event fits a record */
	if (record) {
		uint8_t again[RECORD_MAX_LEN];
		int n = record_encode(ev, again, sizeof(again));

		/* The record handed along is the event's own encoding. */
		CHECK(n >= 0 && (size_t)n == record_len && memcmp(again, record, record_len) == 0);
		records_given++;
	}
	if (nout < OUT_MAX)
		outs[nout++] = (struct out){ .is_event = true, .ts = ev->ts_ns, .type = ev->type };
}

/* When set, on_packet keeps each packet's comment from both caches. */
static struct tag_comment_cache *full_comments, *brief_comments, *compact_comments;
static char full_text[EVENT_COMMENT_MAX], brief_text[EVENT_COMMENT_MAX];
/* Compact mode: each packet's text and the Identity records it asked for. */
#define COMPACT_MAX 4
static char compact_text[COMPACT_MAX][EVENT_COMMENT_MAX];
static struct event compact_ids[2 * COMPACT_MAX];
static unsigned n_compact, n_compact_ids;
/* test_packet_sink: the merge's packets go through this sink too. */
static struct packet_sink *test_sink;
static const struct pcapng_packet_meta *test_original;
static uint32_t test_sink_if;

static void on_packet(const struct merge_packet *pkt, const struct merge_tag *tag, void *ctx)
{
	struct out o = { .ts = pkt->ts_ns, .iface = pkt->iface };
	const struct tag_comment *tc;

	(void)ctx;
	if (test_sink)
		CHECK(packet_sink_write(test_sink, test_sink_if, pkt, tag, test_original) == 0);
	if (full_comments && (tc = tag_comment_get(full_comments, pkt, tag)))
		snprintf(full_text, sizeof(full_text), "%s", tc->text);
	if (brief_comments && (tc = tag_comment_get(brief_comments, pkt, tag)))
		snprintf(brief_text, sizeof(brief_text), "%s", tc->text);
	if (compact_comments && n_compact < COMPACT_MAX &&
	    (tc = tag_comment_get(compact_comments, pkt, tag))) {
		uint8_t rec[RECORD_MAX_LEN];

		snprintf(compact_text[n_compact++], sizeof(compact_text[0]), "%s", tc->text);
		for (unsigned i = 0; i < tc->n_announce && n_compact_ids < 2 * COMPACT_MAX; i++) {
			int n = tag_comment_identity_record(compact_comments, tc->announce[i],
							    pkt->ts_ns, rec, sizeof(rec));

			if (!CHECK(n > 0 && record_decode(rec, (size_t)n,
							  &compact_ids[n_compact_ids++], NULL) == 0))
				n_compact_ids--;
		}
	}
	if (tag->sender) {
		o.spid = tag->sender->pid;
		o.stype = tag->sender_event;
		if (owner_str(tag->sender, ITEM_COMM))
			snprintf(o.scomm, sizeof(o.scomm), "%s", owner_str(tag->sender, ITEM_COMM));
	}
	if (tag->receiver) {
		o.rpid = tag->receiver->pid;
		o.rtype = tag->receiver_event;
	}
	if (reenter) {
		struct event ev = { 0 };

		reenter_result = merge_push_event(reenter, &ev);
	}
	if (nout < OUT_MAX)
		outs[nout++] = o;
}

static struct merge *new_merge(void (*tweak)(struct merge_config *cfg))
{
	struct merge_config cfg;
	struct merge *m = NULL;

	merge_config_init(&cfg);
	cfg.flows.capacity = 1024;
	cfg.flows.seed = 1;
	cfg.on_event = on_event;
	cfg.on_packet = on_packet;
	if (tweak)
		tweak(&cfg);
	if (merge_new(&cfg, &m) < 0)
		abort();
	nout = 0;
	return m;
}

static bool output_ordered(void)
{
	for (unsigned i = 1; i < nout; i++)
		if (outs[i].ts < outs[i - 1].ts)
			return false;
	return true;
}

/* ---- packets and events ---- */

struct ep {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

static struct ep ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	return (struct ep){ .family = AF_INET, .addr = { a, b, c, d }, .port = port };
}

static struct ep ep6(uint8_t last, uint16_t port)
{
	return (struct ep){ .family = AF_INET6, .addr = { 0xfd, 0x00, [15] = last }, .port = port };
}

/* Packets built but not yet pushed must not share bytes: a small ring. */
static uint8_t pktbufs[16][256];
static unsigned pktbuf_next;

/* A raw-IP (LINKTYPE_RAW) TCP or UDP packet from s to d. frag: IPv4
 * flags/offset field. */
static struct merge_packet raw_packet(uint64_t ts, uint8_t proto, struct ep s, struct ep d,
				      uint16_t frag, uint16_t id)
{
	uint8_t *pktbuf = pktbufs[pktbuf_next++ % 16], *p = pktbuf;
	uint32_t l3len, l4 = proto == 6 ? 20 : 8;

	memset(pktbuf, 0, sizeof(pktbufs[0]));
	if (s.family == AF_INET) {
		l3len = 20;
		p[0] = 0x45;
		p[2] = 0;
		p[3] = (uint8_t)(20 + l4);
		p[4] = (uint8_t)(id >> 8);
		p[5] = (uint8_t)id;
		p[6] = (uint8_t)(frag >> 8);
		p[7] = (uint8_t)frag;
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, s.addr, 4);
		memcpy(p + 16, d.addr, 4);
	} else {
		l3len = 40;
		p[0] = 0x60;
		p[5] = (uint8_t)l4;
		p[6] = proto;
		p[7] = 64;
		memcpy(p + 8, s.addr, 16);
		memcpy(p + 24, d.addr, 16);
	}
	p += l3len;
	p[0] = (uint8_t)(s.port >> 8);
	p[1] = (uint8_t)s.port;
	p[2] = (uint8_t)(d.port >> 8);
	p[3] = (uint8_t)d.port;
	if (proto == 6) {
		p[12] = 0x50;
		p[13] = 0x02;
	} else {
		p[5] = 8;
	}
	return (struct merge_packet){ .ts_ns = ts,
				      .data = pktbuf,
				      .caplen = l3len + l4,
				      .len = l3len + l4,
				      .linktype = PACKET_LINKTYPE_RAW };
}

static struct merge_packet tcp_packet(uint64_t ts, struct ep s, struct ep d)
{
	return raw_packet(ts, 6, s, d, 0, 1);
}

static struct event event_of(uint16_t type, uint64_t ts, uint32_t pid, const char *comm,
			     uint8_t proto, struct ep local, struct ep remote)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.ts_ns = ts;
	ev.pid = ev.tid = pid;
	ev.uid = 1000;
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	snprintf(ev.cmdline, sizeof(ev.cmdline), "%s --flag", comm);
	ev.present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_UID) |
		     EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_CMDLINE);
	ev.proto = proto;
	ev.family = local.family;
	memcpy(ev.laddr, local.addr, 16);
	memcpy(ev.raddr, remote.addr, 16);
	ev.lport = local.port;
	ev.rport = remote.port;
	ev.present |= EVENT_BIT(ITEM_PROTO) | EVENT_BIT(ITEM_LADDR) | EVENT_BIT(ITEM_LPORT);
	if (remote.port)
		ev.present |= EVENT_BIT(ITEM_RADDR) | EVENT_BIT(ITEM_RPORT);
	return ev;
}

static struct ep client, server;

/* ---- tests ---- */

/* --packet-comment brief: only pid, tid, comm, container, pod, namespace;
 * the full comment has every item, the same pid/tid option either way. */
static void test_comment_brief(void)
{
	struct merge *m = new_merge(NULL);
	struct event conn = event_of(EVENT_TCP_CONNECT, T0, 100, "curl", 6, client, server);
	struct event acc = event_of(EVENT_TCP_ACCEPT, T0 + MS, 200, "nginx", 6, server, client);
	struct merge_packet p = tcp_packet(T0 + 2 * MS, client, server);

	snprintf(acc.container, sizeof(acc.container), "web");
	snprintf(acc.pod, sizeof(acc.pod), "shop-1");
	snprintf(acc.exe, sizeof(acc.exe), "/usr/sbin/nginx");
	acc.present |= EVENT_BIT(ITEM_CONTAINER) | EVENT_BIT(ITEM_POD) | EVENT_BIT(ITEM_EXE);
	if (!CHECK(tag_comment_cache_new(COMMENT_FULL, &full_comments) == 0 &&
		   tag_comment_cache_new(COMMENT_BRIEF, &brief_comments) == 0))
		goto out;
	full_text[0] = brief_text[0] = '\0';
	merge_push_event(m, &conn);
	merge_push_event(m, &acc);
	merge_push_packet(m, &p);
	merge_flush(m);
	CHECK_STR(full_text, "ebpf:1 src.pid=100 src.tid=100 src.uid=1000 src.comm=curl "
			     "src.cmdline=curl%20--flag dst.pid=200 dst.tid=200 dst.uid=1000 "
			     "dst.comm=nginx dst.exe=/usr/sbin/nginx dst.cmdline=nginx%20--flag "
			     "dst.container=web dst.pod=shop-1");
	CHECK_STR(brief_text, "ebpf:1 src.pid=100 src.tid=100 src.comm=curl dst.pid=200 "
			      "dst.tid=200 dst.comm=nginx dst.container=web dst.pod=shop-1");
out:
	full_comments = tag_comment_cache_free(full_comments);
	brief_comments = tag_comment_cache_free(brief_comments);
	merge_free(m);
}

/* The compact comment names each side as comm[pid]@pod#identity, and the
 * first packet of a pair asks for both Identity records, later ones for
 * none; the records hold exactly what the full comment carries. */
static void test_comment_compact(void)
{
	struct merge *m = new_merge(NULL);
	struct event conn = event_of(EVENT_TCP_CONNECT, T0, 100, "curl", 6, client, server);
	struct event acc = event_of(EVENT_TCP_ACCEPT, T0 + MS, 200, "nginx", 6, server, client);
	struct merge_packet p1 = tcp_packet(T0 + 2 * MS, client, server);
	struct merge_packet p2 = tcp_packet(T0 + 3 * MS, server, client);
	struct event full_src, full_dst, tag_src, tag_dst;
	char want[256];

	snprintf(acc.container, sizeof(acc.container), "web");
	snprintf(acc.pod, sizeof(acc.pod), "shop-1");
	snprintf(acc.exe, sizeof(acc.exe), "/usr/sbin/nginx");
	acc.present |= EVENT_BIT(ITEM_CONTAINER) | EVENT_BIT(ITEM_POD) | EVENT_BIT(ITEM_EXE);
	n_compact = n_compact_ids = 0;
	if (!CHECK(tag_comment_cache_new(COMMENT_FULL, &full_comments) == 0 &&
		   tag_comment_cache_new(COMMENT_COMPACT, &compact_comments) == 0))
		goto out;
	merge_push_event(m, &conn);
	merge_push_event(m, &acc);
	merge_push_packet(m, &p1);
	merge_push_packet(m, &p2);
	merge_flush(m);
	if (!CHECK(n_compact == 2 && n_compact_ids == 2))
		goto out;
	CHECK(compact_ids[0].type == EVENT_IDENTITY && compact_ids[1].type == EVENT_IDENTITY);
	CHECK(compact_ids[0].pid == 100 && compact_ids[1].pid == 200);
	CHECK(compact_ids[0].identity != compact_ids[1].identity);
	snprintf(want, sizeof(want), "ebpf:1 src=curl[100]#%llx dst=nginx[200]@shop-1#%llx",
		 (unsigned long long)compact_ids[0].identity,
		 (unsigned long long)compact_ids[1].identity);
	CHECK_STR(compact_text[0], want);
	snprintf(want, sizeof(want), "ebpf:1 src=nginx[200]@shop-1#%llx dst=curl[100]#%llx",
		 (unsigned long long)compact_ids[1].identity,
		 (unsigned long long)compact_ids[0].identity);
	CHECK_STR(compact_text[1], want);
	/* Parsed back: the tag gives pid, comm and identity; the Identity
	 * record gives every item of the full comment, and nothing else. */
	CHECK(event_comment_parse(compact_text[0], &tag_src, &tag_dst, NULL) == 0);
	CHECK(tag_src.present == (EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_COMM) |
				  EVENT_BIT(ITEM_IDENTITY)));
	CHECK(tag_dst.pid == 200 && strcmp(tag_dst.comm, "nginx") == 0 &&
	      tag_dst.identity == compact_ids[1].identity);
	/* full_text is the last packet's, p2: nginx sends to curl. */
	CHECK(event_comment_parse(full_text, &full_src, &full_dst, NULL) == 0);
	CHECK_EQ_U64(compact_ids[1].present, full_src.present | EVENT_BIT(ITEM_IDENTITY));
	CHECK_EQ_U64(compact_ids[0].present, full_dst.present | EVENT_BIT(ITEM_IDENTITY));
	CHECK_STR(compact_ids[1].exe, full_src.exe);
	CHECK_STR(compact_ids[1].pod, full_src.pod);
	CHECK_STR(compact_ids[0].cmdline, full_dst.cmdline);
out:
	full_comments = tag_comment_cache_free(full_comments);
	compact_comments = tag_comment_cache_free(compact_comments);
	merge_free(m);
}

static void test_event_after_packet_in_window(void)
{
	struct merge *m = new_merge(NULL);
	struct merge_packet syn = tcp_packet(T0 + 1000 * MS, client, server);
	struct event conn = event_of(EVENT_TCP_CONNECT, T0 + 999 * MS, 100, "curl", 6, client,
				     server);
	struct merge_stats st;

	records_given = 0;
	CHECK(merge_push_packet(m, &syn) == 0);
	CHECK(merge_advance(m, T0 + 1020 * MS) == 0); /* not yet due */
	CHECK(nout == 0);
	/* The connect event reaches user space after its SYN. */
	CHECK(merge_push_event(m, &conn) == 0);
	CHECK(merge_next_deadline(m) == T0 + 999 * MS + MERGE_WINDOW_DEFAULT_NS);
	CHECK(merge_advance(m, T0 + 1050 * MS) == 2);
	CHECK(nout == 2);
	CHECK(outs[0].is_event && outs[0].type == EVENT_TCP_CONNECT);
	CHECK(!outs[1].is_event && outs[1].spid == 100 && outs[1].rpid == 0);
	CHECK_STR(outs[1].scomm, "curl");
	CHECK(outs[1].stype == EVENT_TCP_CONNECT);
	CHECK(merge_next_deadline(m) == UINT64_MAX);

	/* Server side accepts: later packets carry both ends. */
	struct event acc = event_of(EVENT_TCP_ACCEPT, T0 + 1001 * MS, 200, "nginx", 6, server,
				    client);
	struct merge_packet synack = tcp_packet(T0 + 1002 * MS, server, client);

	CHECK(merge_push_event(m, &acc) == 0);
	CHECK(merge_push_packet(m, &synack) == 0);
	CHECK(merge_flush(m) == 2);
	CHECK(nout == 4 && outs[3].spid == 200 && outs[3].rpid == 100);
	CHECK(records_given == 2); /* both events, with their records */
	CHECK(outs[3].stype == EVENT_TCP_ACCEPT && outs[3].rtype == EVENT_TCP_CONNECT);
	CHECK(output_ordered());

	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.packets_in, 2);
	CHECK_EQ_U64(st.packets_out, 2);
	CHECK_EQ_U64(st.packets_held, 1);      /* the SYN; the SYN-ACK found both */
	CHECK_EQ_U64(st.packets_timed_out, 1); /* the SYN never got its receiver */
	CHECK_EQ_U64(st.packets_tagged_sender, 1);
	CHECK_EQ_U64(st.packets_tagged_both, 1);
	CHECK_EQ_U64(st.events_in, 2);
	CHECK_EQ_U64(st.events_out, 2);
	CHECK_EQ_U64(st.events_late, 0);
	CHECK_EQ_U64(st.flows_live, 1);
	CHECK_EQ_U64(st.owners_live, 2);
	merge_free(m);
}

static void test_event_beyond_window(void)
{
	struct merge *m = new_merge(NULL);
	struct merge_packet syn = tcp_packet(T0 + 1000 * MS, client, server);
	struct event conn = event_of(EVENT_TCP_CONNECT, T0 + 999 * MS, 100, "curl", 6, client,
				     server);
	struct merge_stats st;

	merge_push_packet(m, &syn);
	CHECK(merge_advance(m, T0 + 1050 * MS) == 1); /* exactly the window */
	CHECK(nout == 1 && outs[0].spid == 0);
	/* Too late: emitted at once, out of order, counted; applied anyway. */
	merge_push_event(m, &conn);
	CHECK(nout == 2 && outs[1].is_event);
	struct merge_packet ack = tcp_packet(T0 + 1100 * MS, client, server);

	merge_push_packet(m, &ack);
	merge_flush(m);
	CHECK(nout == 3 && outs[2].spid == 100);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.events_late, 1);
	CHECK_EQ_U64(st.packets_untagged, 1);
	CHECK_EQ_U64(st.packets_timed_out, 2);
	merge_free(m);
}

/* Random interleaving with delivery jitter below the window: everything
 * comes out, in timestamp order, nothing late, every packet tagged. */
static void test_order_random(void)
{
	enum { FLOWS = 20, PER_FLOW = 30 };
	struct merge *m = new_merge(NULL);
	struct item {
		uint64_t ts, arrival;
		int flow, kind; /* 0 event connect, 1 event accept, 2 packet */
	} items[FLOWS * (PER_FLOW + 2)];
	unsigned n = 0, packets = 0;
	struct merge_stats st;

	srand(7);
	for (int f = 0; f < FLOWS; f++) {
		uint64_t start = T0 + (uint64_t)(rand() % 1000) * MS;

		items[n++] = (struct item){ start, 0, f, 0 };
		items[n++] = (struct item){ start + 1 * MS, 0, f, 1 };
		for (int p = 0; p < PER_FLOW; p++)
			items[n++] = (struct item){ start + (uint64_t)p * 3 * MS + 500000, 0, f,
						    2 };
	}
	/* Events arrive up to 40 ms late, packets up to 5 ms late. */
	for (unsigned i = 0; i < n; i++)
		items[i].arrival =
		    items[i].ts + (uint64_t)(rand() % (items[i].kind == 2 ? 5 : 40)) * MS;
	for (unsigned i = 1; i < n; i++) /* sort by arrival */
		for (unsigned j = i; j > 0 && items[j].arrival < items[j - 1].arrival; j--) {
			struct item t = items[j];

			items[j] = items[j - 1];
			items[j - 1] = t;
		}
	for (unsigned i = 0; i < n; i++) {
		struct ep c =
		    ep4(10, 1, 0, (uint8_t)items[i].flow, (uint16_t)(30000 + items[i].flow));
		struct ep s = ep4(10, 2, 0, 1, 443);

		merge_advance(m, items[i].arrival);
		if (items[i].kind == 0) {
			struct event ev = event_of(EVENT_TCP_CONNECT, items[i].ts,
						   1000 + (uint32_t)items[i].flow, "cli", 6, c, s);

			merge_push_event(m, &ev);
		} else if (items[i].kind == 1) {
			struct event ev =
			    event_of(EVENT_TCP_ACCEPT, items[i].ts, 5000, "srv", 6, s, c);

			merge_push_event(m, &ev);
		} else {
			struct merge_packet p = (items[i].ts & 1) ? tcp_packet(items[i].ts, c, s)
								 : tcp_packet(items[i].ts, s, c);

			merge_push_packet(m, &p);
			packets++;
		}
	}
	merge_flush(m);
	CHECK(nout == n);
	CHECK(output_ordered());
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.events_late, 0);
	CHECK_EQ_U64(st.packets_late, 0);
	CHECK_EQ_U64(st.packets_tagged_both, packets);
	CHECK_EQ_U64(st.released_early, 0);
	merge_free(m);
}

static void small_queue(struct merge_config *cfg)
{
	cfg->hold_max = 4;
}

static void queue_of_five(struct merge_config *cfg)
{
	cfg->hold_max = 5;
}

/* The model's next item out of held[0..n): the oldest by (timestamp,
 * arrival). */
static unsigned model_oldest(const uint64_t *ts, const uint32_t *held, unsigned n)
{
	unsigned best = 0;

	for (unsigned k = 1; k < n; k++)
		if (ts[held[k]] < ts[held[best]] ||
		    (ts[held[k]] == ts[held[best]] && held[k] < held[best]))
			best = k;
	return best;
}

/* The exact output order, against a model of the documented rules: items
 * leave by (timestamp, arrival); over hold_max the oldest leaves early;
 * an item older than one already out is emitted at once (late). Many
 * ties and out-of-order arrivals, so both parts of the queue (the FIFO of
 * in-order arrivals and the heap of the others) and their fronts' ties are
 * exercised, and the FIFO's ring wraps around many times. */
static void test_queue_order_exact(void)
{
	enum { N = 3000, HOLD = 5 };
	static uint64_t ts[N];
	static uint32_t want[N], held[HOLD + 1];
	struct merge *m = new_merge(queue_of_five);
	unsigned nwant = 0, nheld = 0, wrong = 0;
	uint64_t last = 0;
	bool emitted = false;

	srand(5);
	for (unsigned i = 0; i < N; i++)
		ts[i] = T0 + (uint64_t)(i / 4 + rand() % 6) * MS; /* mostly rising, ties */
	for (unsigned i = 0; i < N; i++) {
		struct merge_packet p = tcp_packet(ts[i], client, server);

		p.iface = i;
		merge_push_packet(m, &p);
		/* the model */
		if (emitted && ts[i] < last) {
			want[nwant++] = i;
			continue;
		}
		held[nheld++] = i;
		while (nheld > HOLD) {
			unsigned best = model_oldest(ts, held, nheld);

			want[nwant++] = held[best];
			if (!emitted || ts[held[best]] > last)
				last = ts[held[best]];
			emitted = true;
			held[best] = held[--nheld];
		}
	}
	merge_flush(m);
	while (nheld > 0) {
		unsigned best = model_oldest(ts, held, nheld);

		want[nwant++] = held[best];
		held[best] = held[--nheld];
	}
	CHECK(nout == N && nwant == N);
	for (unsigned i = 0; i < N && i < nout; i++)
		if (outs[i].iface != want[i])
			wrong++;
	CHECK(wrong == 0);
	merge_free(m);
}

static void test_hold_limit(void)
{
	struct merge *m = new_merge(small_queue);
	struct merge_stats st;

	for (int i = 0; i < 10; i++) {
		struct merge_packet p = tcp_packet(T0 + (uint64_t)i * MS, client, server);

		CHECK(merge_push_packet(m, &p) == 0);
	}
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.held_now, 4);
	CHECK_EQ_U64(st.released_early, 6);
	CHECK(nout == 6 && outs[5].ts == T0 + 5 * MS);
	merge_flush(m);
	CHECK(nout == 10 && output_ordered());
	merge_free(m);

	/* The byte limit too. */
	struct merge_config cfg;

	merge_config_init(&cfg);
	cfg.hold_bytes_max = 1;
	cfg.on_packet = on_packet;
	m = NULL;
	CHECK(merge_new(&cfg, &m) == 0);
	nout = 0;
	struct merge_packet p = tcp_packet(T0, client, server);

	merge_push_packet(m, &p);
	CHECK(nout == 1);
	merge_free(m);

	cfg.hold_max = 0;
	CHECK(merge_new(&cfg, &m) == -EINVAL);
	cfg.hold_max = 1;
	cfg.window_ns = MERGE_WINDOW_MAX_NS + 1;
	CHECK(merge_new(&cfg, &m) == -EINVAL);
}

static void test_open_and_close_linger(void)
{
	struct merge *m = new_merge(NULL);
	struct event open = event_of(EVENT_TCP_OPEN, T0, 300, "sshd", 6, server, client);
	struct event close = event_of(EVENT_TCP_CLOSE, T0 + 10 * MS, 300, "sshd", 6, server,
				      client);
	struct merge_stats st;

	merge_push_event(m, &open);
	struct merge_packet p1 = tcp_packet(T0 + 5 * MS, client, server);

	merge_push_packet(m, &p1);
	merge_push_event(m, &close);
	/* Packets after the close are still tagged during the linger. */
	struct merge_packet p2 = tcp_packet(T0 + 1000 * MS, client, server);

	merge_push_packet(m, &p2);
	merge_advance(m, T0 + 1100 * MS);
	CHECK(nout == 4 && outs[1].rpid == 300 && outs[3].rpid == 300);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.flows_expired, 0);
	/* Linger (2 s) plus window after the close: gone, and its owner. */
	merge_advance(m, T0 + 10 * MS + MERGE_LINGER_DEFAULT_NS + MERGE_WINDOW_DEFAULT_NS);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.flows_expired, 1);
	CHECK_EQ_U64(st.flows_live, 0);
	CHECK_EQ_U64(st.owners_live, 0);
	struct merge_packet p3 = tcp_packet(T0 + 3000 * MS, client, server);

	merge_push_packet(m, &p3);
	merge_flush(m);
	CHECK(nout == 5 && outs[4].rpid == 0);

	/* A new connection on a closed tuple reopens it. */
	struct event c2 = event_of(EVENT_TCP_CONNECT, T0 + 4000 * MS, 301, "curl", 6, client,
				   server);
	struct event cl2 = event_of(EVENT_TCP_CLOSE, T0 + 4001 * MS, 301, "curl", 6, client,
				    server);
	struct event c3 = event_of(EVENT_TCP_CONNECT, T0 + 4002 * MS, 302, "curl", 6, client,
				   server);

	merge_push_event(m, &c2);
	merge_push_event(m, &cl2);
	merge_push_event(m, &c3);
	merge_advance(m, T0 + 4002 * MS + MERGE_LINGER_DEFAULT_NS + MERGE_WINDOW_DEFAULT_NS);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.flows_live, 1);
	CHECK_EQ_U64(st.owners_live, 1); /* 301 replaced by 302 */
	merge_free(m);
}

static void tiny_table(struct merge_config *cfg)
{
	cfg->flows.capacity = 2;
}

static void test_eviction_and_owners(void)
{
	struct merge *m = new_merge(tiny_table);
	struct merge_stats st;

	for (int i = 0; i < 3; i++) {
		struct ep c = ep4(10, 9, 0, (uint8_t)i, 40000);
		struct event ev = event_of(EVENT_TCP_CONNECT, T0 + (uint64_t)i, 100 + (uint32_t)i,
					   "w", 6, c, server);

		merge_push_event(m, &ev);
	}
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.flows_evicted, 1);
	CHECK_EQ_U64(st.flows_live, 2);
	CHECK_EQ_U64(st.owners_live, 2); /* the evicted flow's owner was freed */
	/* The evicted flow (first) is untagged; the others are. */
	struct merge_packet p0 = tcp_packet(T0 + 10, ep4(10, 9, 0, 0, 40000), server);
	struct merge_packet p2 = tcp_packet(T0 + 11, ep4(10, 9, 0, 2, 40000), server);

	merge_push_packet(m, &p0);
	merge_push_packet(m, &p2);
	merge_flush(m);
	CHECK(nout == 5 && outs[3].spid == 0 && outs[4].spid == 102);

	/* One process, many flows: one shared owner. */
	merge_free(m);
	m = new_merge(NULL);
	for (int i = 0; i < 50; i++) {
		struct ep c = ep4(10, 9, 1, (uint8_t)i, 40000);
		struct event ev = event_of(EVENT_TCP_CONNECT, T0 + (uint64_t)i, 777, "same", 6, c,
					   server);

		merge_push_event(m, &ev);
	}
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.flows_live, 50);
	CHECK_EQ_U64(st.owners_live, 1);
	merge_free(m);
}

static void test_both_local_ipv6_and_mapped(void)
{
	struct merge *m = new_merge(NULL);
	struct ep a = ep6(1, 5555), b = ep6(2, 80);
	struct event ca = event_of(EVENT_TCP_CONNECT, T0, 10, "pod-a", 6, a, b);
	struct event cb = event_of(EVENT_TCP_ACCEPT, T0 + 1, 20, "pod-b", 6, b, a);

	merge_push_event(m, &ca);
	merge_push_event(m, &cb);
	struct merge_packet p1 = tcp_packet(T0 + 2, a, b), p2 = tcp_packet(T0 + 3, b, a);

	merge_push_packet(m, &p1);
	merge_push_packet(m, &p2);
	merge_flush(m);
	CHECK(nout == 4);
	CHECK(outs[2].spid == 10 && outs[2].rpid == 20);
	CHECK(outs[3].spid == 20 && outs[3].rpid == 10);

	/* An AF_INET6 socket talking IPv4 reports ::ffff:a.b.c.d. */
	struct ep m6 = { .family = AF_INET6,
			 .addr = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 },
			 .port = 8080 };
	struct ep peer6 = { .family = AF_INET6,
			    .addr = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 },
			    .port = 50000 };
	struct event acc = event_of(EVENT_TCP_ACCEPT, T0 + 10, 30, "java", 6, m6, peer6);

	merge_push_event(m, &acc);
	struct merge_packet p3 =
	    tcp_packet(T0 + 11, ep4(10, 0, 0, 1, 50000), ep4(10, 0, 0, 2, 8080));

	merge_push_packet(m, &p3);
	merge_flush(m);
	CHECK(nout == 6 && outs[5].rpid == 30);
	merge_free(m);
}

static void test_udp_wildcard(void)
{
	struct merge *m = new_merge(NULL);
	struct ep any53 = ep4(0, 0, 0, 0, 53), none = { .family = AF_INET };
	struct event bound = event_of(EVENT_UDP_OPEN, T0, 53, "dnsd", 17, any53, none);
	struct ep cl = ep4(10, 0, 0, 9, 5000), me = ep4(10, 0, 0, 1, 53);

	merge_push_event(m, &bound);
	struct merge_packet q = raw_packet(T0 + 1, 17, cl, me, 0, 1);
	struct merge_packet r = raw_packet(T0 + 2, 17, me, cl, 0, 2);
	/* TCP to the same port is another protocol: untagged. */
	struct merge_packet t = tcp_packet(T0 + 3, cl, me);

	merge_push_packet(m, &q);
	merge_push_packet(m, &r);
	merge_push_packet(m, &t);
	merge_flush(m);
	CHECK(nout == 4);
	CHECK(outs[1].rpid == 53 && outs[1].spid == 0);
	CHECK(outs[2].spid == 53 && outs[2].stype == EVENT_UDP_OPEN);
	CHECK(outs[3].spid == 0 && outs[3].rpid == 0);

	/* An unbound client socket sending to a server: laddr 0.0.0.0. */
	struct ep cl0 = ep4(0, 0, 0, 0, 6000), srv = ep4(192, 0, 2, 1, 123);
	struct event send = event_of(EVENT_UDP_SEND, T0 + 10, 60, "ntpdate", 17, cl0, srv);

	merge_push_event(m, &send);
	struct merge_packet u = raw_packet(T0 + 11, 17, ep4(10, 0, 0, 1, 6000), srv, 0, 3);

	merge_push_packet(m, &u);
	merge_flush(m);
	CHECK(nout == 6 && outs[5].spid == 60);
	merge_free(m);
}

/* TCP_Listen names the listener's owner for a connection's packets that
 * nobody accepted yet; an accept within the window wins; the listener's
 * side is no reason to leave early; IPv6 "::" covers IPv4; a closed
 * listener names nobody once its linger is over. */
static void pass_tagged(struct merge_config *cfg);

static void test_tcp_listener(void)
{
	struct merge *m = new_merge(pass_tagged);
	struct ep any80 = ep4(0, 0, 0, 0, 80), none = { .family = AF_INET };
	struct ep cl = ep4(192, 0, 2, 7, 40000), web = ep4(10, 0, 0, 1, 80);
	struct event listen = event_of(EVENT_TCP_LISTEN, T0, 10, "nginx", 6, any80, none);
	struct merge_stats st;

	merge_push_event(m, &listen);
	CHECK(nout == 1);
	/* SYN in, SYN-ACK out: the listener's side waits (pass_tagged or
	 * not), nobody accepts within the window, so they keep the
	 * listener's owner. */
	struct merge_packet syn = tcp_packet(T0 + 1 * MS, cl, web);
	struct merge_packet synack = tcp_packet(T0 + 2 * MS, web, cl);

	merge_push_packet(m, &syn);
	merge_push_packet(m, &synack);
	CHECK(nout == 1);
	merge_advance(m, T0 + 2 * MS + MERGE_WINDOW_DEFAULT_NS);
	CHECK(nout == 3);
	CHECK(outs[1].rpid == 10 && outs[1].rtype == EVENT_TCP_LISTEN && outs[1].spid == 0);
	CHECK(outs[2].spid == 10 && outs[2].stype == EVENT_TCP_LISTEN);

	/* A local client's connection: its SYN is tagged on both sides at
	 * once, but the listener's side is not final, so it waits, and the
	 * worker that accepts within the window names it. */
	struct ep cl2 = ep4(10, 0, 0, 1, 40001);
	struct event conn = event_of(EVENT_TCP_CONNECT, T0 + 99 * MS, 30, "curl", 6, cl2, web);
	struct merge_packet syn2 = tcp_packet(T0 + 100 * MS, cl2, web);
	struct event acc = event_of(EVENT_TCP_ACCEPT, T0 + 130 * MS, 11, "nginx", 6, web, cl2);

	merge_push_event(m, &conn);
	merge_push_packet(m, &syn2);
	CHECK(nout == 4);
	merge_push_event(m, &acc);
	merge_advance(m, T0 + 200 * MS);
	CHECK(nout == 6 && outs[4].spid == 30 && outs[4].rpid == 11 &&
	      outs[4].rtype == EVENT_TCP_ACCEPT);

	/* Dual stack: a listener on [::]:8080 takes IPv4 connections. */
	struct ep any6 = { .family = AF_INET6, .port = 8080 }, none6 = { .family = AF_INET6 };
	struct event listen6 = event_of(EVENT_TCP_LISTEN, T0 + 300 * MS, 20, "java", 6, any6, none6);
	struct merge_packet syn4 = tcp_packet(T0 + 301 * MS, cl, ep4(10, 0, 0, 1, 8080));
	struct merge_packet syn6 = tcp_packet(T0 + 302 * MS, ep6(9, 40002), ep6(1, 8080));

	merge_push_event(m, &listen6);
	merge_push_packet(m, &syn4);
	merge_push_packet(m, &syn6);
	merge_advance(m, T0 + 400 * MS);
	CHECK(nout == 9 && outs[7].rpid == 20 && outs[8].rpid == 20);

	/* Closed: once its linger is over, the port names nobody. */
	struct event unlisten =
		event_of(EVENT_TCP_LISTEN_CLOSE, T0 + 500 * MS, 10, "nginx", 6, any80, none);
	struct merge_packet late = tcp_packet(T0 + 500 * MS + 2 * MERGE_LINGER_DEFAULT_NS, cl, web);

	merge_push_event(m, &unlisten);
	merge_advance(m, T0 + 500 * MS + 2 * MERGE_LINGER_DEFAULT_NS);
	merge_push_packet(m, &late);
	merge_flush(m);
	CHECK(nout == 11 && outs[10].rpid == 0 && outs[10].spid == 0);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.packets_held, 6);
	merge_free(m);
}

static void test_fragments(void)
{
	struct merge *m = new_merge(NULL);
	struct ep a = ep4(10, 0, 0, 1, 7000), b = ep4(10, 0, 0, 2, 7001);
	struct event ev = event_of(EVENT_UDP_SEND, T0, 70, "bigudp", 17, a, b);
	struct merge_stats st;

	merge_push_event(m, &ev);
	/* First fragment (MF, offset 0) then a later one (offset 1480). */
	struct merge_packet f1 = raw_packet(T0 + 1, 17, a, b, 0x2000, 0x4242);

	merge_push_packet(m, &f1);
	struct merge_packet f2 = raw_packet(T0 + 2, 17, a, b, 185, 0x4242);

	merge_push_packet(m, &f2);
	/* A later fragment arriving before its first fragment (other id). */
	struct merge_packet g2 = raw_packet(T0 + 3, 17, a, b, 185, 0x4343);

	merge_push_packet(m, &g2);
	struct merge_packet g1 = raw_packet(T0 + 4, 17, a, b, 0x2000, 0x4343);

	merge_push_packet(m, &g1);
	/* A later fragment nobody announced: untagged. */
	struct merge_packet h2 = raw_packet(T0 + 5, 17, a, b, 185, 0x4444);

	merge_push_packet(m, &h2);
	merge_flush(m);
	CHECK(nout == 6);
	CHECK(outs[1].spid == 70 && outs[2].spid == 70 && outs[3].spid == 70 &&
	      outs[4].spid == 70 && outs[5].spid == 0);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.packets_frag_tagged, 2);
	CHECK_EQ_U64(st.parse_errors[PACKET_NO_PORTS_FRAGMENT], 3);
	merge_free(m);
}

static void test_non_ip_and_ethernet(void)
{
	struct merge *m = new_merge(NULL);
	uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
	struct merge_packet p = { .ts_ns = T0, .data = arp, .caplen = sizeof(arp),
				  .len = sizeof(arp), .linktype = 1, .iface = 3 };
	struct merge_stats st;

	CHECK(merge_push_packet(m, &p) == 0);
	p.linktype = 9999;
	p.ts_ns++;
	CHECK(merge_push_packet(m, &p) == 0);
	p.caplen = MERGE_CAPLEN_MAX + 1;
	CHECK(merge_push_packet(m, &p) == -EMSGSIZE);

	/* A VLAN-tagged Ethernet frame of a known flow is tagged. */
	struct event ev = event_of(EVENT_TCP_CONNECT, T0 + 5, 90, "eth", 6, client, server);
	struct merge_packet raw = tcp_packet(T0 + 6, client, server);
	uint8_t frame[18 + 40] = { [12] = 0x81, [13] = 0x00, [14] = 0, [15] = 7, [16] = 0x08,
				   [17] = 0x00 };

	memcpy(frame + 18, raw.data, raw.caplen);
	raw.data = frame;
	raw.caplen = raw.len = 18 + 40;
	raw.linktype = 1;
	merge_push_event(m, &ev);
	merge_push_packet(m, &raw);
	merge_flush(m);
	CHECK(nout == 4);
	CHECK(outs[0].spid == 0 && outs[0].rpid == 0 && outs[0].iface == 3);
	CHECK(outs[3].spid == 90);
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.parse_errors[PACKET_NOT_IP], 1);
	CHECK_EQ_U64(st.parse_errors[PACKET_UNSUPPORTED_LINKTYPE], 1);
	CHECK_EQ_U64(st.packets_untagged, 2);
	/* Never taggable frames do not wait; the tagged frame's receiver is
	 * unknown, so it did. */
	CHECK_EQ_U64(st.packets_held, 1);
	merge_free(m);
}

static void pass_tagged(struct merge_config *cfg)
{
	cfg->pass_tagged = true;
}

static void settle_1ms(struct merge_config *cfg)
{
	cfg->settle_ns = MS;
}

/* settle_ns (the offline merge's): a SYN that waited for its owners leaves
 * settle_ns after its time once they are known, not a window later; an
 * item older than one already queued is put back in order within
 * settle_ns; a packet whose owner never comes keeps the whole window and
 * holds back what follows it. */
static void test_settle(void)
{
	struct merge *m = new_merge(settle_1ms);
	struct merge_packet syn = tcp_packet(T0, client, server);
	struct event a = event_of(EVENT_TCP_CONNECT, T0 + 20000, 1, "a", 6, client, server);
	struct event b = event_of(EVENT_TCP_ACCEPT, T0 + 30000, 2, "b", 6, server, client);
	struct merge_packet p2 = tcp_packet(T0 + 50000, server, client);
	struct merge_packet p1 = tcp_packet(T0 + 40000, client, server); /* unsorted */
	struct merge_packet u = tcp_packet(T0 + 2 * MS, ep4(1, 1, 1, 1, 1), ep4(2, 2, 2, 2, 2));
	struct merge_packet q = tcp_packet(T0 + 3 * MS, client, server);
	struct merge_stats st;

	merge_push_packet(m, &syn);
	merge_advance(m, T0);
	merge_push_event(m, &a);
	merge_push_event(m, &b);
	merge_push_packet(m, &p2);
	merge_push_packet(m, &p1);
	merge_advance(m, T0 + 50000);
	CHECK(nout == 0); /* everything younger than settle_ns */
	merge_advance(m, T0 + MS + 50000);
	/* SYN, the two events, then p1 before p2 */
	CHECK(nout == 5 && output_ordered());
	CHECK(outs[0].spid == 1 && outs[0].rpid == 2);
	merge_push_packet(m, &u);
	merge_push_packet(m, &q);
	merge_advance(m, T0 + 10 * MS);
	CHECK(nout == 5); /* u may still get an owner: it and q wait */
	merge_advance(m, T0 + 2 * MS + MERGE_WINDOW_DEFAULT_NS);
	CHECK(nout == 7 && output_ordered());
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.packets_late, 0);
	merge_free(m);
}

static void test_pass_tagged(void)
{
	struct merge *m = new_merge(pass_tagged);
	struct event a = event_of(EVENT_TCP_CONNECT, T0, 1, "a", 6, client, server);
	struct event b = event_of(EVENT_TCP_ACCEPT, T0 + 1, 2, "b", 6, server, client);
	struct merge_stats st;

	merge_push_event(m, &a);
	merge_push_event(m, &b);
	CHECK(nout == 2); /* nothing older queued: straight out */
	struct merge_packet p = tcp_packet(T0 + 2, client, server);

	merge_push_packet(m, &p);
	CHECK(nout == 3 && outs[2].spid == 1 && outs[2].rpid == 2);
	/* An unknown flow waits; a tagged packet behind it waits too. */
	struct merge_packet u = tcp_packet(T0 + 3, ep4(1, 1, 1, 1, 1), ep4(2, 2, 2, 2, 2));
	struct merge_packet q = tcp_packet(T0 + 4, client, server);

	merge_push_packet(m, &u);
	merge_push_packet(m, &q);
	CHECK(nout == 3);
	merge_advance(m, T0 + 4 + MERGE_WINDOW_DEFAULT_NS);
	CHECK(nout == 5 && output_ordered());
	merge_get_stats(m, &st);
	CHECK_EQ_U64(st.packets_held, 1);
	CHECK_EQ_U64(st.held_peak, 2);
	merge_free(m);
}

static void test_tag_event_and_reentry(void)
{
	struct merge *m = new_merge(NULL);
	struct event ev = event_of(EVENT_TCP_CONNECT, T0, 4242, "curl", 6, client, server);
	struct merge_packet p = tcp_packet(T0 + 1, server, client);
	struct merge_tag tag = { 0 };
	struct packet_info info;
	struct event out;
	struct owner_cache *oc;
	struct owner *o;

	/* merge_tag_event: the receiver side seen from its own end. */
	CHECK(owner_cache_new(NULL, &oc) == 0);
	CHECK(owner_intern(oc, &ev, &o) == 0);
	packet_parse(p.linktype, p.data, p.caplen, &info);
	tag.receiver = o;
	tag.receiver_event = EVENT_TCP_CONNECT;
	tag.info = &info;
	CHECK(!merge_tag_event(&p, &tag, false, &out) && out.present == 0);
	CHECK(merge_tag_event(&p, &tag, true, &out));
	CHECK(out.pid == 4242 && out.type == EVENT_TCP_CONNECT && out.ts_ns == T0 + 1);
	CHECK_STR(out.comm, "curl");
	CHECK_STR(out.cmdline, "curl --flag");
	CHECK(out.lport == client.port && out.rport == server.port);
	CHECK(memcmp(out.laddr, client.addr, 4) == 0 && out.family == AF_INET);
	CHECK(EVENT_HAS(&out, ITEM_PID) && EVENT_HAS(&out, ITEM_LPORT) &&
	      !EVENT_HAS(&out, ITEM_EXE));
	CHECK(owner_str(o, ITEM_EXE) == NULL && owner_str(o, ITEM_PID) == NULL);

	/* Interning: equal identities share, a different tid does not. */
	struct owner *o2, *o3;
	struct event ev2 = ev;

	CHECK(owner_intern(oc, &ev2, &o2) == 0 && o2 == o);
	CHECK(owner_matches(o, &ev2));
	ev2.tid = 4243;
	CHECK(!owner_matches(o, &ev2));
	CHECK(owner_intern(oc, &ev2, &o3) == 0 && o3 != o);
	CHECK(owner_matches(o3, &ev2) && !owner_matches(o3, &ev));
	/* Serials tell owners apart even where an address is reused. */
	CHECK(o->serial != 0 && o3->serial != 0 && o3->serial != o->serial);
	owner_unref(oc, o3);
	struct event noid = { 0 };

	CHECK(!owner_matches(o, &noid));
	CHECK(owner_intern(oc, &noid, &o3) == -ENOENT);
	owner_unref(oc, o);
	owner_unref(oc, o2);
	owner_cache_free(oc);

	/* A full owner cache refuses new identities, counted. */
	struct owner_cache_config occ = { .max_owners = 1 };

	CHECK(owner_cache_new(&occ, &oc) == 0);
	CHECK(owner_intern(oc, &ev, &o) == 0);
	CHECK(owner_intern(oc, &ev2, &o2) == -ENOSPC);
	owner_unref(oc, o);
	CHECK(owner_intern(oc, &ev2, &o2) == 0);
	owner_cache_free(oc);

	/* Callbacks cannot re-enter. */
	reenter = m;
	merge_push_event(m, &ev);
	merge_push_packet(m, &p);
	merge_flush(m);
	reenter = NULL;
	CHECK(reenter_result == -EBUSY);
	merge_free(m);
}

/* The packet sink (live capture and offline merge alike): compact
 * comments with the packet's own comment on the next line, each process's
 * Identity frame once and before its first packet, the sender's pid/tid
 * option; read back from the pcapng it wrote. */
static void test_packet_sink(void)
{
	static struct packet_sink sink;
	struct merge *m = new_merge(NULL);
	struct event conn = event_of(EVENT_TCP_CONNECT, T0, 100, "curl", 6, client, server);
	struct event acc = event_of(EVENT_TCP_ACCEPT, T0 + MS, 200, "nginx", 6, server, client);
	struct merge_packet p1 = tcp_packet(T0 + 2 * MS, client, server);
	struct merge_packet p2 = tcp_packet(T0 + 3 * MS, server, client);
	struct pcapng_packet_meta orig = { .comment = "seen by tcpdump", .has_pid = true, .pid = 7 };
	struct pcapng_interface ev_if = { .linktype = 252, .snaplen = 65535, .name = "ebpfevents" };
	struct pcapng_interface pk_if = { .linktype = PACKET_LINKTYPE_RAW, .snaplen = 65535 };
	struct tag_comment_cache *cache = NULL;
	struct pcapng_writer *w = NULL;
	struct reader *r = NULL;
	struct reader_packet rp;
	struct event ids[2];
	char want[256];
	uint32_t if_events, n_ids = 0, n_pk = 0, off;
	FILE *f = tmpfile();

	if (!CHECK(f && tag_comment_cache_new(COMMENT_COMPACT, &cache) == 0 &&
		   pcapng_writer_open(fileno(f), false, "test", &w) == 0 &&
		   pcapng_add_interface(w, &ev_if, &if_events) == 0 &&
		   pcapng_add_interface(w, &pk_if, &test_sink_if) == 0))
		goto out;
	packet_sink_init(&sink, w, cache, &if_events);
	test_sink = &sink;
	test_original = &orig;
	merge_push_event(m, &conn);
	merge_push_event(m, &acc);
	merge_push_packet(m, &p1);
	merge_push_packet(m, &p2);
	merge_flush(m);
	test_sink = NULL;
	CHECK(sink.packets_written == 2 && sink.identities_written == 2 && !sink.comments_missing);
	w = pcapng_writer_close(w);
	if (!CHECK(lseek(fileno(f), 0, SEEK_SET) == 0 &&
		   reader_open_fd(dup(fileno(f)), true, &r, NULL, 0) == 0))
		goto out;
	while (reader_next(r, &rp) > 0) {
		if (rp.interface == if_events) {
			/* both Identity frames come before the first packet */
			if (CHECK(n_pk == 0 && n_ids < 2) &&
			    CHECK(offline_event_record(rp.data, rp.caplen, &off) == 0))
				CHECK(record_decode(rp.data + off, rp.caplen - off, &ids[n_ids++], NULL) == 0);
			continue;
		}
		if (!CHECK(n_ids == 2 && n_pk < 2))
			break;
		snprintf(want, sizeof(want), "ebpf:1 src=%s[%u]#%llx dst=%s[%u]#%llx\nseen by tcpdump",
			 n_pk ? "nginx" : "curl", n_pk ? 200 : 100,
			 (unsigned long long)ids[n_pk ? 1 : 0].identity, n_pk ? "curl" : "nginx",
			 n_pk ? 100 : 200, (unsigned long long)ids[n_pk ? 0 : 1].identity);
		CHECK_STR(rp.comment ? rp.comment : "", want);
		CHECK(rp.has_pid && rp.pid == (n_pk ? 200u : 100u)); /* the sender's, not tcpdump's 7 */
		n_pk++;
	}
	CHECK(n_ids == 2 && n_pk == 2);
	CHECK(ids[0].type == EVENT_IDENTITY && ids[0].pid == 100 && ids[1].pid == 200);
out:
	test_sink = NULL;
	test_original = NULL;
	reader_close(r);
	pcapng_writer_close(w);
	tag_comment_cache_free(cache);
	merge_free(m);
	if (f)
		fclose(f);
}

int main(void)
{
	client = ep4(10, 0, 0, 1, 45678);
	server = ep4(10, 0, 0, 2, 443);

	test_event_after_packet_in_window();
	test_comment_brief();
	test_comment_compact();
	test_event_beyond_window();
	test_order_random();
	test_queue_order_exact();
	test_hold_limit();
	test_open_and_close_linger();
	test_eviction_and_owners();
	test_both_local_ipv6_and_mapped();
	test_udp_wildcard();
	test_tcp_listener();
	test_fragments();
	test_non_ip_and_ethernet();
	test_pass_tagged();
	test_settle();
	test_tag_event_and_reentry();
	test_packet_sink();
	return test_summary();
}
