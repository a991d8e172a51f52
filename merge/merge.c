/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Merge engine: event → flow owners, reorder queue, packet tagging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event/record.h"
#include "util/hash.h"
#include "merge/merge.h"

#define FRAG_HASH_SEED UINT64_C(0x6672616763616368)

enum held_kind { HELD_PACKET = 1, HELD_EVENT = 2 };

/* A queued item; the packet or event follows it in the same allocation. */
struct held {
	uint64_t ts_ns;
	uint64_t seq;	 /* arrival order breaks timestamp ties */
	uint32_t bytes;	 /* allocation size, for the byte limit */
	uint8_t kind;	 /* enum held_kind */
	uint8_t waiting; /* packet lacked an owner when pushed */
};

struct held_packet {
	struct held h;
	struct merge_packet pkt; /* pkt.data points at data[] */
	struct packet_info info;
	int parse_error;
	uint32_t flow_hint; /* flow_table_index of its flow at push, or FLOW_NONE */
	uint8_t data[];
};

/* A held event is kept as its encoded record (event/record.h, ~150 bytes
 * for a typical event instead of the 5 KB struct event): 35 times more
 * events fit the hold limits, and copying it is cheaper than the struct. */
struct held_event {
	struct held h;
	uint32_t len;
	uint8_t rec[];
};

/* First fragment's ports, found again by the later fragments' IP id. */
struct frag_slot {
	uint64_t ts_ns;
	uint32_t id;
	uint8_t used, family, proto;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

/* The queue keeps the keys next to the pointers: ordering compares them
 * without touching the items themselves. */
struct heap_slot {
	uint64_t ts_ns, seq;
	struct held *h;
};

struct merge {
	struct merge_config cfg;
	struct flow_table *flows;
	struct owner_cache *owners;
	/* The reorder queue, ordered by (ts, seq), in two parts. Items
	 * arrive nearly in timestamp order, so most join the FIFO, a ring
	 * whose (ts, seq) never decrease: O(1) in and out, and it is read in
	 * address order, where a heap of 65,536 items misses the cache at
	 * most of its 16 levels on every pop. Only an item older than the
	 * FIFO's newest goes to the min-heap. The next item out is the
	 * smaller of the two fronts. Each has hold_max + 1 slots. */
	struct heap_slot *fifo;
	uint32_t fifo_head, fifo_len;
	struct heap_slot *heap;
	uint32_t heap_len;
	uint64_t held_bytes;
	uint64_t seq;
	uint64_t last_out_ts; /* largest timestamp emitted */
	bool emitted;
	bool busy; /* inside a push/advance/flush: callbacks must not re-enter */
	/* Entries with an unspecified address or port (unconnected or
	 * wildcard-bound sockets); when there are none, packets skip the
	 * extra socket-level lookups. */
	uint32_t wildcards;
	uint32_t last_flow; /* flow_table_index of the last packet's flow: the next one's hint */
	struct frag_slot *frags;
	struct merge_stats stats;
	uint8_t *enc;	    /* RECORD_MAX_LEN bytes: an event being held is encoded here */
	struct event *dec; /* a held event decoded again for emission */
};

void merge_config_init(struct merge_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window_ns = MERGE_WINDOW_DEFAULT_NS;
	cfg->linger_ns = MERGE_LINGER_DEFAULT_NS;
	cfg->hold_max = MERGE_HOLD_MAX_DEFAULT;
	cfg->hold_bytes_max = MERGE_HOLD_BYTES_DEFAULT;
	cfg->flows.capacity = FLOW_TABLE_CAPACITY_DEFAULT;
}

/* The ring slot of the i-th item of the FIFO. */
static uint32_t fifo_index(const struct merge *m, uint32_t i)
{
	uint32_t slots = m->cfg.hold_max + 1, pos = m->fifo_head + i;

	return pos >= slots ? pos - slots : pos;
}

static uint32_t queue_len(const struct merge *m)
{
	return m->fifo_len + m->heap_len;
}

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static bool addr_zero(const uint8_t *a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i])
			return false;
	return true;
}

static bool key_wildcard(const struct flow_key *k)
{
	size_t len = addr_len(k->family);

	return !k->port_a || !k->port_b || addr_zero(k->addr_a, len) || addr_zero(k->addr_b, len);
}

static void flow_release(struct flow *flow, void *ctx)
{
	struct merge *m = ctx;

	owner_unref(m->owners, flow->owner[0]);
	owner_unref(m->owners, flow->owner[1]);
	if (key_wildcard(&flow->key))
		m->wildcards--;
}

int merge_new(const struct merge_config *cfg, struct merge **ret)
{
	struct flow_table_config fcfg;
	struct merge *m;
	int r;

	if (!cfg || cfg->hold_max == 0 || cfg->hold_max > MERGE_HOLD_MAX_LIMIT ||
	    cfg->hold_bytes_max == 0 || cfg->window_ns > MERGE_WINDOW_MAX_NS ||
	    cfg->linger_ns > MERGE_LINGER_MAX_NS)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->last_flow = FLOW_NONE;
	r = owner_cache_new(&cfg->owners, &m->owners);
	if (r < 0)
		goto fail;
	fcfg = cfg->flows;
	fcfg.release = flow_release;
	fcfg.ctx = m;
	r = flow_table_new(&fcfg, &m->flows);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	m->heap = calloc((size_t)cfg->hold_max + 1, sizeof(*m->heap));
	m->fifo = calloc((size_t)cfg->hold_max + 1, sizeof(*m->fifo));
	m->frags = calloc(MERGE_FRAG_SLOTS, sizeof(*m->frags));
	m->enc = malloc(RECORD_MAX_LEN);
	m->dec = malloc(sizeof(*m->dec));
	if (!m->heap || !m->fifo || !m->frags || !m->enc || !m->dec)
		goto fail;
	*ret = m;
	return 0;
fail:
	merge_free(m);
	return r;
}

struct merge *merge_free(struct merge *m)
{
	if (!m)
		return NULL;
	for (uint32_t i = 0; m->heap && i < m->heap_len; i++)
		free(m->heap[i].h);
	for (uint32_t i = 0; m->fifo && i < m->fifo_len; i++)
		free(m->fifo[fifo_index(m, i)].h);
	free(m->heap);
	free(m->fifo);
	/* Flows first: their release drops owner references. */
	flow_table_free(m->flows);
	owner_cache_free(m->owners);
	free(m->frags);
	free(m->enc);
	free(m->dec);
	free(m);
	return NULL;
}

/* ---- events → flow table ---- */

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* The event's key and the side its local endpoint is on. A dual-stack
 * AF_INET6 socket talking IPv4 reports ::ffff:a.b.c.d addresses while the
 * packets are IPv4: such events are keyed as IPv4. */
static bool event_key(const struct event *ev, struct flow_key *key, unsigned *ret_side)
{
	uint8_t laddr[16] = { 0 }, raddr[16] = { 0 };
	uint8_t family = ev->family;
	uint16_t rport = 0;

	if (!EVENT_HAS(ev, ITEM_PROTO) || !EVENT_HAS(ev, ITEM_LADDR) || !EVENT_HAS(ev, ITEM_LPORT))
		return false;
	if (family != AF_INET && family != AF_INET6)
		return false;
	memcpy(laddr, ev->laddr, addr_len(family));
	if (EVENT_HAS(ev, ITEM_RADDR))
		memcpy(raddr, ev->raddr, addr_len(family));
	if (EVENT_HAS(ev, ITEM_RPORT))
		rport = ev->rport;
	if (family == AF_INET6 && (v4mapped(laddr) || addr_zero(laddr, 16)) &&
	    (v4mapped(raddr) || addr_zero(raddr, 16)) && (v4mapped(laddr) || v4mapped(raddr))) {
		family = AF_INET;
		memmove(laddr, laddr + 12, 4);
		memset(laddr + 4, 0, 12);
		memmove(raddr, raddr + 12, 4);
		memset(raddr + 4, 0, 12);
	}
	*ret_side = flow_key_init(key, family, ev->proto, laddr, ev->lport, raddr, rport);
	return true;
}

/* Events of these types come from the process that owns the socket, so
 * they set (or replace: fd passing, tuple reuse) the endpoint's owner.
 * Others (close, retransmit, types from newer sources) only fill a gap:
 * they may fire in softirq context on some kernels. */
static bool type_sets_owner(unsigned type)
{
	switch (type) {
	case EVENT_TCP_CONNECT:
	case EVENT_TCP_CONNECT_FAILED:
	case EVENT_TCP_ACCEPT:
	case EVENT_TCP_OPEN:
	case EVENT_UDP_SEND:
	case EVENT_UDP_RECV:
	case EVENT_UDP_OPEN:
	case EVENT_TCP_LISTEN:
		return true;
	default:
		return false;
	}
}

static bool type_closes(unsigned type)
{
	return type == EVENT_TCP_CLOSE || type == EVENT_TCP_CONNECT_FAILED ||
	       type == EVENT_TCP_LISTEN_CLOSE;
}

static void apply_key(struct merge *m, const struct event *ev, const struct flow_key *key,
		      unsigned side);

static void apply_event(struct merge *m, const struct event *ev)
{
	bool identity = (ev->present & OWNER_ITEMS) != 0;
	bool closes = type_closes(ev->type);
	struct flow_key key;
	unsigned side;

	if (!event_key(ev, &key, &side) || (!identity && !closes)) {
		m->stats.events_unattributed++;
		return;
	}
	apply_key(m, ev, &key, side);
	/* A listener on the IPv6 wildcard address takes IPv4 connections
	 * too (unless IPV6_V6ONLY, which the event does not tell): its
	 * owner stands for IPv4 packets to the port as well. */
	if ((ev->type == EVENT_TCP_LISTEN || ev->type == EVENT_TCP_LISTEN_CLOSE) &&
	    key.family == AF_INET6 && addr_zero(key.addr_a, 16) && addr_zero(key.addr_b, 16)) {
		static const uint8_t any[16];

		side = flow_key_init(&key, AF_INET, ev->proto, any, ev->lport, any, 0);
		apply_key(m, ev, &key, side);
	}
}

static void apply_key(struct merge *m, const struct event *ev, const struct flow_key *key,
		      unsigned side)
{
	bool identity = (ev->present & OWNER_ITEMS) != 0;
	bool sets = type_sets_owner(ev->type), closes = type_closes(ev->type);
	struct flow *f;

	if (identity) {
		if (flow_table_insert(m->flows, key, &f) == 1 && key_wildcard(key))
			m->wildcards++;
		if (sets || !f->owner[side]) {
			struct owner *o;

			/* The identity the endpoint already has (every
			 * UDP_Send of a socket, a reused tuple): interning
			 * would answer the same owner, so skip its hashing.
			 * Over the owner limits the endpoint stays as it was
			 * (counted in owners_failed). */
			if (f->owner[side] && owner_matches(f->owner[side], ev)) {
				f->owner_type[side] = (uint8_t)ev->type;
			} else if (owner_intern(m->owners, ev, &o) == 0) {
				owner_unref(m->owners, f->owner[side]);
				f->owner[side] = o;
				f->owner_type[side] = (uint8_t)ev->type;
			}
		}
	} else {
		f = flow_table_lookup(m->flows, key);
		if (!f) {
			m->stats.events_unattributed++;
			return;
		}
	}
	if (closes)
		flow_table_close(m->flows, f, ev->ts_ns);
	else if (sets && (f->state & FLOW_STATE_CLOSED) && ev->ts_ns > f->closed_ts)
		flow_table_reopen(m->flows, f); /* a new connection on the same tuple */
}

/* ---- packets → owners ---- */

static void frag_slot_key(const struct packet_info *info, uint64_t *ret_hash)
{
	uint64_t h = hash_bytes(FRAG_HASH_SEED, info->src, sizeof(info->src));

	h = hash_bytes(h, info->dst, sizeof(info->dst));
	/* IPv4 ids are per (src, dst, proto); IPv6 ids per (src, dst), and a
	 * later fragment names the fragmentable part's first header, which
	 * need not be the L4 protocol. */
	h = hash_u64(h, (uint64_t)info->ip_id << 16 | (uint64_t)info->family << 8 |
				(info->family == AF_INET ? info->proto : 0));
	*ret_hash = h;
}

static struct frag_slot *frag_find_slot(struct merge *m, const struct packet_info *info)
{
	uint64_t h;

	frag_slot_key(info, &h);
	return &m->frags[h & (MERGE_FRAG_SLOTS - 1)];
}

static void frag_remember(struct merge *m, const struct packet_info *info, uint64_t ts)
{
	struct frag_slot *s;

	if (info->reason != PACKET_OK || !(info->flags & PACKET_F_FIRST_FRAGMENT))
		return;
	s = frag_find_slot(m, info);
	s->used = 1;
	s->ts_ns = ts;
	s->id = info->ip_id;
	s->family = info->family;
	s->proto = info->proto;
	s->sport = info->sport;
	s->dport = info->dport;
	memcpy(s->src, info->src, sizeof(s->src));
	memcpy(s->dst, info->dst, sizeof(s->dst));
}

static void frag_resolve(struct merge *m, struct packet_info *info, uint64_t ts)
{
	const struct frag_slot *s;
	uint64_t age;

	if (info->reason != PACKET_NO_PORTS_FRAGMENT)
		return;
	s = frag_find_slot(m, info);
	if (!s->used || s->id != info->ip_id || s->family != info->family ||
	    (info->family == AF_INET && s->proto != info->proto) ||
	    memcmp(s->src, info->src, sizeof(s->src)) || memcmp(s->dst, info->dst, sizeof(s->dst)))
		return;
	age = ts > s->ts_ns ? ts - s->ts_ns : s->ts_ns - ts;
	if (age > MERGE_FRAG_TTL_NS)
		return; /* ids wrap; an old slot may name another datagram */
	info->proto = s->proto;
	info->sport = s->sport;
	info->dport = s->dport;
	info->reason = PACKET_OK;
	info->flags |= PACKET_F_PORTS_BY_ID;
	m->stats.packets_frag_tagged++;
}

/* The owner of endpoint (local, lport) among socket-level entries: events
 * of unconnected or wildcard-bound sockets name no full 5-tuple. */
static struct flow *flow_get(struct merge *m, const struct flow_key *key, bool touch)
{
	return touch ? flow_table_lookup(m->flows, key) : flow_table_find(m->flows, key);
}

static void socket_owner(struct merge *m, const struct packet_info *info, const uint8_t *local,
			 uint16_t lport, const uint8_t *remote, uint16_t rport, bool touch,
			 const struct owner **ret, uint16_t *ret_type)
{
	static const uint8_t any[16];
	const struct {
		const uint8_t *laddr, *raddr;
		uint16_t rport;
	} tries[] = {
		{ any, remote, rport }, /* unbound socket sending to remote */
		{ local, any, 0 },	/* bound to the address, unconnected */
		{ any, any, 0 },	/* bound to the wildcard address */
	};

	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct flow_key key;
		unsigned side = flow_key_init(&key, info->family, info->proto, tries[i].laddr,
					      lport, tries[i].raddr, tries[i].rport);
		struct flow *f = flow_get(m, &key, touch);

		if (f && f->owner[side]) {
			*ret = f->owner[side];
			*ret_type = f->owner_type[side];
			return;
		}
	}
}

/* touch: count this packet as use of the flow (LRU). Done once, when the
 * packet arrives; the lookup again at its release only reads, starting at
 * *hint, where the flow was at arrival (then *hint is only read). When
 * touching, *hint is set for that later lookup. */
static void lookup_tag(struct merge *m, const struct packet_info *info, bool touch, uint32_t *hint,
		       struct merge_tag *tag)
{
	struct flow_key key;
	struct flow *f;
	unsigned s;

	if (touch)
		*hint = FLOW_NONE;
	if (info->reason != PACKET_OK)
		return;
	s = flow_key_init(&key, info->family, info->proto, info->src, info->sport, info->dst,
			  info->dport);
	if (touch) {
		f = flow_table_lookup_hint(m->flows, &key, m->last_flow);
		*hint = flow_table_index(m->flows, f);
		if (f)
			m->last_flow = *hint;
	} else {
		f = flow_table_find_hint(m->flows, &key, *hint);
	}
	if (f) {
		tag->sender = f->owner[s];
		tag->sender_event = f->owner_type[s];
		tag->receiver = f->owner[s ^ 1];
		tag->receiver_event = f->owner_type[s ^ 1];
	}
	if (!m->wildcards)
		return;
	if (!tag->sender)
		socket_owner(m, info, info->src, info->sport, info->dst, info->dport, touch,
			     &tag->sender, &tag->sender_event);
	if (!tag->receiver)
		socket_owner(m, info, info->dst, info->dport, info->src, info->sport, touch,
			     &tag->receiver, &tag->receiver_event);
}

/* Could an owner still show up for this packet? A side named after a
 * listening socket's owner may still get the process that accepts the
 * connection (a pre-forked worker, another thread): such a packet waits
 * for the window like an untagged one, and keeps the listener's owner
 * only if nobody accepted the connection by then. */
static bool tag_complete(const struct packet_info *info, const struct merge_tag *tag)
{
	if (info->reason != PACKET_OK && info->reason != PACKET_NO_PORTS_FRAGMENT)
		return true;
	return tag->sender && tag->receiver && tag->sender_event != EVENT_TCP_LISTEN &&
	       tag->receiver_event != EVENT_TCP_LISTEN;
}

/* ---- output ---- */

static void note_output(struct merge *m, uint64_t ts)
{
	if (!m->emitted || ts > m->last_out_ts)
		m->last_out_ts = ts;
	m->emitted = true;
}

static void emit_packet(struct merge *m, const struct merge_packet *pkt,
			const struct merge_tag *tag, bool waiting)
{
	if (tag->sender && tag->receiver)
		m->stats.packets_tagged_both++;
	else if (tag->sender)
		m->stats.packets_tagged_sender++;
	else if (tag->receiver)
		m->stats.packets_tagged_receiver++;
	else
		m->stats.packets_untagged++;
	if (waiting) {
		if (tag->sender && tag->receiver)
			m->stats.packets_rescued++;
		else
			m->stats.packets_timed_out++;
	}
	note_output(m, pkt->ts_ns);
	m->stats.packets_out++;
	if (m->cfg.on_packet)
		m->cfg.on_packet(pkt, tag, m->cfg.ctx);
}

/* rec: ev's record when held; otherwise it is encoded here, for the sink. */
static void emit_event(struct merge *m, const struct event *ev, const uint8_t *rec, size_t len)
{
	if (!rec) {
		int n = record_encode(ev, m->enc, RECORD_MAX_LEN);

		rec = n < 0 ? NULL : m->enc;
		len = n < 0 ? 0 : (size_t)n;
	}
	note_output(m, ev->ts_ns);
	m->stats.events_out++;
	if (m->cfg.on_event)
		m->cfg.on_event(ev, rec, len, m->cfg.ctx);
}

static bool slot_before(const struct heap_slot *a, const struct heap_slot *b)
{
	return a->ts_ns < b->ts_ns || (a->ts_ns == b->ts_ns && a->seq < b->seq);
}

static void heap_push(struct merge *m, const struct heap_slot *item)
{
	struct heap_slot slot = *item;
	uint32_t i = m->heap_len++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!slot_before(&slot, &m->heap[parent]))
			break;
		m->heap[i] = m->heap[parent];
		i = parent;
	}
	m->heap[i] = slot;
}

static void queue_push(struct merge *m, struct held *h)
{
	struct heap_slot slot = { .ts_ns = h->ts_ns, .seq = h->seq, .h = h };

	/* seq grows with every arrival, so only the timestamp can put the
	 * new item before the FIFO's last one. */
	if (m->fifo_len == 0 || h->ts_ns >= m->fifo[fifo_index(m, m->fifo_len - 1)].ts_ns)
		m->fifo[fifo_index(m, m->fifo_len++)] = slot;
	else
		heap_push(m, &slot);
	if (queue_len(m) > m->stats.held_peak)
		m->stats.held_peak = queue_len(m);
}

/* The oldest queued item's slot; NULL when the queue is empty. */
static const struct heap_slot *queue_first(const struct merge *m)
{
	const struct heap_slot *f = m->fifo_len ? &m->fifo[m->fifo_head] : NULL;

	if (!m->heap_len)
		return f;
	if (!f || slot_before(&m->heap[0], f))
		return &m->heap[0];
	return f;
}

static struct held *heap_pop(struct merge *m)
{
	struct held *top = m->heap[0].h;
	struct heap_slot last = m->heap[--m->heap_len];
	uint32_t i = 0, n = m->heap_len;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && slot_before(&m->heap[c + 1], &m->heap[c]))
			c++;
		if (!slot_before(&m->heap[c], &last))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (n)
		m->heap[i] = last;
	return top;
}

/* Take the oldest item; the queue must not be empty. */
static struct held *queue_pop(struct merge *m)
{
	struct held *h;

	if (!m->fifo_len || queue_first(m) != &m->fifo[m->fifo_head])
		return heap_pop(m);
	h = m->fifo[m->fifo_head].h;
	m->fifo_head = fifo_index(m, 1);
	m->fifo_len--;
	/* The next one out was queued long ago and is most likely out of
	 * the cache: start loading it while this one is handled. */
	if (m->fifo_len)
		__builtin_prefetch(m->fifo[m->fifo_head].h);
	return h;
}

static void release_one(struct merge *m)
{
	struct held *h = queue_pop(m);

	m->held_bytes -= h->bytes;
	if (h->kind == HELD_PACKET) {
		struct held_packet *hp = (struct held_packet *)h;
		struct merge_tag tag = { .parse_error = hp->parse_error, .info = &hp->info };

		/* The first fragment may have come after this later one. */
		frag_resolve(m, &hp->info, hp->h.ts_ns);
		lookup_tag(m, &hp->info, false, &hp->flow_hint, &tag);
		emit_packet(m, &hp->pkt, &tag, hp->h.waiting);
	} else {
		struct held_event *he = (struct held_event *)h;
		const char *why = NULL;

		/* It was encoded by us a moment ago: decoding cannot fail
		 * unless memory was corrupted. */
		if (record_decode(he->rec, he->len, m->dec, &why) == 0)
			emit_event(m, m->dec, he->rec, he->len);
		else
			m->stats.dropped++;
	}
	free(h);
}

static void enforce_limits(struct merge *m)
{
	while (queue_len(m) > 0 &&
	       (queue_len(m) > m->cfg.hold_max || m->held_bytes > m->cfg.hold_bytes_max)) {
		release_one(m);
		m->stats.released_early++;
	}
}

static void enqueue(struct merge *m, struct held *h, uint64_t ts, uint32_t bytes, uint8_t kind)
{
	h->ts_ns = ts;
	h->seq = m->seq++;
	h->bytes = bytes;
	h->kind = kind;
	m->held_bytes += bytes;
	queue_push(m, h);
	enforce_limits(m);
}

/* An item may skip the queue when nothing queued is older or equal. */
static bool queue_clear_before(const struct merge *m, uint64_t ts)
{
	const struct heap_slot *first = queue_first(m);

	return !first || first->ts_ns > ts;
}

static bool is_late(const struct merge *m, uint64_t ts)
{
	return m->emitted && ts < m->last_out_ts;
}

int merge_push_packet(struct merge *m, const struct merge_packet *pkt)
{
	struct packet_info info;
	struct merge_tag tag = { .info = &info };
	struct held_packet *hp;
	uint32_t hint;
	bool complete;
	uint32_t bytes;
	int r = 0;

	if (m->busy)
		return -EBUSY;
	if (!pkt || (!pkt->data && pkt->caplen))
		return -EINVAL;
	if (pkt->caplen > MERGE_CAPLEN_MAX)
		return -EMSGSIZE;
	m->busy = true;
	m->stats.packets_in++;

	tag.parse_error = packet_parse(pkt->linktype, pkt->data, pkt->caplen, &info);
	if (info.reason != PACKET_OK && info.reason < PACKET_REASON_MAX)
		m->stats.parse_errors[info.reason]++;
	frag_remember(m, &info, pkt->ts_ns);
	frag_resolve(m, &info, pkt->ts_ns);
	lookup_tag(m, &info, true, &hint, &tag);
	complete = tag_complete(&info, &tag);

	if (is_late(m, pkt->ts_ns)) {
		m->stats.packets_late++;
		emit_packet(m, pkt, &tag, false);
		goto out;
	}
	if (m->cfg.pass_tagged && complete && queue_clear_before(m, pkt->ts_ns)) {
		emit_packet(m, pkt, &tag, false);
		goto out;
	}

	bytes = (uint32_t)sizeof(*hp) + pkt->caplen;
	hp = malloc(bytes);
	if (!hp) {
		m->stats.dropped++;
		r = -ENOMEM;
		goto out;
	}
	hp->pkt = *pkt;
	if (pkt->caplen)
		memcpy(hp->data, pkt->data, pkt->caplen);
	hp->pkt.data = hp->data;
	hp->info = info;
	hp->parse_error = tag.parse_error;
	hp->flow_hint = hint;
	hp->h.waiting = !complete;
	if (!complete)
		m->stats.packets_held++;
	enqueue(m, &hp->h, pkt->ts_ns, bytes, HELD_PACKET);
out:
	m->busy = false;
	return r;
}

int merge_push_event(struct merge *m, const struct event *ev)
{
	struct held_event *he;
	int r = 0, len;

	if (m->busy)
		return -EBUSY;
	if (!ev)
		return -EINVAL;
	m->busy = true;
	m->stats.events_in++;
	apply_event(m, ev);

	if (is_late(m, ev->ts_ns)) {
		m->stats.events_late++;
		emit_event(m, ev, NULL, 0);
		goto out;
	}
	if (m->cfg.pass_tagged && queue_clear_before(m, ev->ts_ns)) {
		emit_event(m, ev, NULL, 0);
		goto out;
	}
	len = record_encode(ev, m->enc, RECORD_MAX_LEN);
	if (len < 0) { /* cannot happen: every event fits a record */
		emit_event(m, ev, NULL, 0);
		goto out;
	}
	he = malloc(sizeof(*he) + (size_t)len);
	if (!he) {
		m->stats.dropped++;
		r = -ENOMEM;
		goto out;
	}
	he->len = (uint32_t)len;
	memcpy(he->rec, m->enc, (size_t)len);
	he->h.waiting = 0;
	enqueue(m, &he->h, ev->ts_ns, sizeof(*he) + (size_t)len, HELD_EVENT);
out:
	m->busy = false;
	return r;
}

/* settle_ns: may the queue's first item leave before its window ends?
 * An event may, and a packet whose owners are all known by now (at its
 * push, or since: the event it waited for has come). */
static bool ready_early(struct merge *m, struct held *h)
{
	struct held_packet *hp = (struct held_packet *)h;
	struct merge_tag tag = { .info = &hp->info };
	uint32_t hint;

	if (h->kind != HELD_PACKET || !h->waiting)
		return true;
	hint = hp->flow_hint;
	lookup_tag(m, &hp->info, false, &hint, &tag);
	return tag_complete(&hp->info, &tag);
}

int merge_advance(struct merge *m, uint64_t now_ns)
{
	const struct heap_slot *first;
	uint64_t due;
	int n = 0;

	if (m->busy)
		return -EBUSY;
	m->busy = true;
	due = now_ns < m->cfg.window_ns ? 0 : now_ns - m->cfg.window_ns;
	while ((first = queue_first(m)) && n < INT32_MAX &&
	       ((now_ns >= m->cfg.window_ns && first->ts_ns <= due) ||
		(m->cfg.settle_ns && now_ns - first->ts_ns >= m->cfg.settle_ns &&
		 first->ts_ns <= now_ns && ready_early(m, first->h)))) {
		release_one(m);
		n++;
	}
	if (now_ns < m->cfg.window_ns) {
		m->busy = false;
		return n;
	}
	/* A flow closed at c is dropped once c + linger is behind the
	 * release point, so no packet still queued can need it. */
	if (due >= m->cfg.linger_ns)
		m->stats.flows_expired += flow_table_expire(m->flows, due - m->cfg.linger_ns);
	m->busy = false;
	return n;
}

int merge_flush(struct merge *m)
{
	int n = 0;

	if (m->busy)
		return -EBUSY;
	m->busy = true;
	while (queue_len(m) > 0 && n < INT32_MAX) {
		release_one(m);
		n++;
	}
	m->busy = false;
	return n;
}

uint64_t merge_next_deadline(const struct merge *m)
{
	const struct heap_slot *first = queue_first(m);
	uint64_t ts;

	if (!first)
		return UINT64_MAX;
	ts = first->ts_ns;
	return ts > UINT64_MAX - m->cfg.window_ns ? UINT64_MAX : ts + m->cfg.window_ns;
}

void merge_get_stats(const struct merge *m, struct merge_stats *ret)
{
	struct flow_table_stats fs;
	struct owner_cache_stats os;

	*ret = m->stats;
	flow_table_get_stats(m->flows, &fs);
	owner_cache_get_stats(m->owners, &os);
	ret->held_now = queue_len(m);
	ret->held_bytes_now = m->held_bytes;
	ret->flows_live = fs.count;
	ret->flows_inserted = fs.inserted;
	ret->flows_evicted = fs.evicted;
	ret->flows_expired = fs.expired;
	ret->flows_bytes = fs.bytes;
	ret->owners_live = os.live;
	ret->owners_bytes = os.bytes;
	ret->owners_failed = os.failed;
}

bool merge_tag_event(const struct merge_packet *pkt, const struct merge_tag *tag, bool receiver,
		     struct event *ret)
{
	const struct owner *o = receiver ? tag->receiver : tag->sender;
	const struct packet_info *info = tag->info;

	memset(ret, 0, sizeof(*ret));
	if (!o)
		return false;
	owner_to_event(o, ret);
	ret->type = receiver ? tag->receiver_event : tag->sender_event;
	ret->ts_ns = pkt->ts_ns;
	if (info && (info->family == AF_INET || info->family == AF_INET6)) {
		size_t len = addr_len(info->family);

		ret->family = info->family;
		memcpy(ret->laddr, receiver ? info->dst : info->src, len);
		memcpy(ret->raddr, receiver ? info->src : info->dst, len);
		ret->proto = info->proto;
		ret->present |=
		    EVENT_BIT(ITEM_LADDR) | EVENT_BIT(ITEM_RADDR) | EVENT_BIT(ITEM_PROTO);
		if (info->reason == PACKET_OK) {
			ret->lport = receiver ? info->dport : info->sport;
			ret->rport = receiver ? info->sport : info->dport;
			ret->present |= EVENT_BIT(ITEM_LPORT) | EVENT_BIT(ITEM_RPORT);
		}
	}
	return true;
}
