/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offline merge driver: two capture readers, a two-way merge by timestamp
 * into the merge engine, and the pcapng writer as the sink.
 */
#include "extcap/offline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "event/comment.h"
#include "event/record.h"
#include "extcap/packet_sink.h"
#include "merge/tag_comment.h"
#include "pcapng/reader.h"
#include "pcapng/writer.h"
#include "util/error.h"

/* Exported-PDU tags (Wireshark wsutil/exported_pdu_tlvs.h): big-endian
 * u16 tag, u16 length, value; the list ends with END_OF_OPT. */
#define EXP_PDU_TAG_END_OF_OPT 0
#define EXP_PDU_TAG_DISSECTOR_NAME 12
#define EXP_PDU_TAG_HEAD 4u

/* The events interface, as the live program names it. */
#define EVENTS_IFNAME "ebpfevents"
#define EVENTS_IFDESC "eBPF Events"
/* Snaplen of the events interface: a largest record plus its tags. */
#define EVENTS_SNAPLEN (RECORD_MAX_LEN + 64u)

#define NO_INTERFACE UINT32_MAX
/* merge_packet.iface with this bit names a meta slot (output interface ids
 * stay below PCAPNG_MAX_INTERFACES). */
#define IFACE_META 0x80000000u
#define NO_SLOT UINT32_MAX

_Static_assert(PCAPNG_MAX_INTERFACES < IFACE_META, "interface ids must not reach the meta bit");

struct meta_slot {
	uint32_t out_if;
	uint32_t next_free;
	bool has_pid;
	uint32_t pid, tid;
	char *comment; /* NULL when none */
};

struct offline {
	const char *packets_path, *events_path, *out_path;
	struct reader *packets, *events;
	struct pcapng_writer *w;
	struct merge *m;
	struct offline_stats st;
	uint32_t if_events;
	bool has_if_events; /* not with OFFLINE_NO_EVENT_FRAMES */
	uint32_t *if_map; /* reader interface index → output id */
	uint32_t if_map_len;
	uint32_t *if_snaplen; /* output id → snaplen (0: none) */
	int write_error;      /* first one, from inside the callbacks */
	int input_error;      /* first bad-input error */
	char *err;
	size_t errlen;

	/* lookahead of each input */
	struct reader_packet pkt;
	bool have_pkt;
	struct event ev;
	bool have_ev;
	uint64_t last_pkt_ts;

	/* A packet's own comment and pid/tid do not travel through the
	 * merge, which hands back only merge_packet.iface: packets that
	 * carry them get iface = IFACE_META | slot, the slot holding the
	 * output interface and the metadata until the packet is written.
	 * The merge's queue limits bound how many slots are in use. */
	struct meta_slot *slots;
	uint32_t n_slots, free_slot;

	struct tag_comment_cache *comments;
	struct packet_sink sink; /* writes the merged packets */
};

#define set_err(o, ...) ((void)error_set((o)->err, (o)->errlen, 0, __VA_ARGS__))

int offline_event_record(const uint8_t *data, uint32_t caplen, uint32_t *ret_off)
{
	uint32_t pos = 0;
	bool ours = false;

	for (;;) {
		uint16_t tag, len;

		if (caplen - pos < EXP_PDU_TAG_HEAD)
			return -EBADMSG;
		tag = (uint16_t)(data[pos] << 8 | data[pos + 1]);
		len = (uint16_t)(data[pos + 2] << 8 | data[pos + 3]);
		pos += EXP_PDU_TAG_HEAD;
		if (len > caplen - pos)
			return -EBADMSG;
		if (tag == EXP_PDU_TAG_DISSECTOR_NAME) {
			/* NUL padding counts in the length. */
			size_t n = strnlen((const char *)data + pos, len);

			ours = n == strlen(PCAPNG_EVENT_DISSECTOR) &&
			       memcmp(data + pos, PCAPNG_EVENT_DISSECTOR, n) == 0;
		}
		pos += len;
		if (tag == EXP_PDU_TAG_END_OF_OPT)
			break;
	}
	if (!ours)
		return -ENOMSG;
	*ret_off = pos;
	return 0;
}

/* ---- output (merge callbacks) ---- */

static void note_write(struct offline *o, int r)
{
	if (r < 0 && !o->write_error) {
		o->write_error = r;
		set_err(o, "cannot write %s: %s", strcmp(o->out_path, "-") ? o->out_path : "stdout",
			strerror(-r));
	}
}

static void on_event(const struct event *ev, const uint8_t *record, size_t record_len, void *ctx)
{
	struct offline *o = ctx;

	if (o->write_error || !o->has_if_events)
		return;
	if (!record) {
		/* Cannot happen for a record that decoded: same limits. */
		o->st.events_bad++;
		return;
	}
	note_write(o, pcapng_write_event(o->w, o->if_events, ev->ts_ns, record, record_len));
	if (!o->write_error)
		o->st.events_written++;
}

/* Output interface for a reader interface, added on first use. */
static int out_interface(struct offline *o, uint32_t idx, uint32_t *ret)
{
	struct reader_interface ri;
	struct pcapng_interface pi;
	uint32_t id;
	int r;

	if (idx >= o->if_map_len) {
		uint32_t n = reader_interface_count(o->packets);
		uint32_t *map, *snap;

		if (idx >= n)
			return -EINVAL;
		map = realloc(o->if_map, n * sizeof(*map));
		if (!map)
			return -ENOMEM;
		o->if_map = map;
		for (uint32_t i = o->if_map_len; i < n; i++)
			map[i] = NO_INTERFACE;
		snap = realloc(o->if_snaplen, (n + 1) * sizeof(*snap));
		if (!snap)
			return -ENOMEM;
		o->if_snaplen = snap;
		o->if_map_len = n;
	}
	if (o->if_map[idx] != NO_INTERFACE) {
		*ret = o->if_map[idx];
		return 0;
	}
	r = reader_get_interface(o->packets, idx, &ri);
	if (r < 0)
		return r;
	pi = (struct pcapng_interface){
	    .linktype = (uint16_t)ri.linktype,
	    .snaplen = ri.snaplen,
	    .name = ri.name[0] ? ri.name : NULL,
	    .description = ri.description[0] ? ri.description : NULL,
	};
	r = pcapng_add_interface(o->w, &pi, &id);
	if (r < 0)
		return r;
	/* ids are dense: 0 is the events interface, if there is one */
	if (id <= o->if_map_len)
		o->if_snaplen[id] = ri.snaplen;
	o->if_map[idx] = id;
	o->st.packet_interfaces++;
	*ret = id;
	return 0;
}

static int slot_get(struct offline *o, uint32_t *ret)
{
	uint32_t i = o->free_slot;

	if (i == NO_SLOT) {
		uint32_t n = o->n_slots ? o->n_slots * 2 : 64;
		struct meta_slot *p;

		if (n > IFACE_META - 1)
			return -ENOMEM;
		p = realloc(o->slots, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->slots = p;
		for (uint32_t k = o->n_slots; k < n; k++)
			p[k] = (struct meta_slot){.next_free = k + 1 < n ? k + 1 : o->free_slot};
		o->free_slot = o->n_slots;
		o->n_slots = n;
		i = o->free_slot;
	}
	o->free_slot = o->slots[i].next_free;
	*ret = i;
	return 0;
}

static void slot_put(struct offline *o, uint32_t i)
{
	free(o->slots[i].comment);
	o->slots[i] = (struct meta_slot){.next_free = o->free_slot};
	o->free_slot = i;
}

static void on_packet(const struct merge_packet *pkt, const struct merge_tag *tag, void *ctx)
{
	struct offline *o = ctx;
	struct pcapng_packet_meta meta = {0};
	const struct meta_slot *slot = NULL;
	uint32_t out_if = pkt->iface;

	if (pkt->iface & IFACE_META) {
		slot = &o->slots[pkt->iface & ~IFACE_META];
		out_if = slot->out_if;
		meta.comment = slot->comment;
		meta.has_pid = slot->has_pid;
		meta.pid = slot->pid;
		meta.tid = slot->tid;
	}
	if (!o->write_error)
		note_write(o, packet_sink_write(&o->sink, out_if, pkt, tag, &meta));
	if (slot)
		slot_put(o, pkt->iface & ~IFACE_META);
}

/* ---- input ---- */

static void input_failed(struct offline *o, const char *path, struct reader *r, int code)
{
	if (o->input_error)
		return;
	o->input_error = code;
	if (!o->write_error)
		set_err(o, "%s: %s", path, reader_error(r));
}

static void next_packet(struct offline *o)
{
	int r;

	o->have_pkt = false;
	if (!o->packets)
		return;
	r = reader_next(o->packets, &o->pkt);
	if (r < 0) {
		input_failed(o, o->packets_path, o->packets, r);
		return;
	}
	if (r == 0)
		return;
	o->st.packets_read++;
	if (!o->pkt.has_ts) {
		o->pkt.ts_ns = o->last_pkt_ts;
		o->st.packets_no_ts++;
	}
	o->last_pkt_ts = o->pkt.ts_ns;
	o->have_pkt = true;
}

static void next_event(struct offline *o)
{
	struct reader_packet f;
	int r;

	o->have_ev = false;
	while (o->events) {
		const char *reason;
		uint32_t off;

		r = reader_next(o->events, &f);
		if (r < 0) {
			input_failed(o, o->events_path, o->events, r);
			return;
		}
		if (r == 0)
			return;
		if (f.linktype != LINKTYPE_WIRESHARK_UPPER_PDU) {
			o->st.events_file_other++;
			continue;
		}
		r = offline_event_record(f.data, f.caplen, &off);
		if (r == -ENOMSG) {
			o->st.events_file_other++;
			continue;
		}
		if (r < 0 || record_decode(f.data + off, f.caplen - off, &o->ev, &reason) < 0) {
			o->st.events_bad++;
			continue;
		}
		o->st.events_read++;
		o->have_ev = true;
		return;
	}
}

static int push_packet(struct offline *o)
{
	struct merge_packet mp;
	uint32_t id, caplen = o->pkt.caplen, len = o->pkt.len, slot = NO_SLOT;
	int r;

	r = out_interface(o, o->pkt.interface, &id);
	if (r < 0) {
		note_write(o, r);
		return r;
	}
	if (caplen > PCAPNG_MAX_CAPLEN || (o->if_snaplen[id] && caplen > o->if_snaplen[id])) {
		caplen = caplen > PCAPNG_MAX_CAPLEN ? PCAPNG_MAX_CAPLEN : caplen;
		o->st.packets_cut++;
	}
	if (len < caplen) {
		len = caplen;
		o->st.packets_bad_len++;
	}
	mp = (struct merge_packet){
	    .ts_ns = o->pkt.ts_ns,
	    .data = o->pkt.data,
	    .caplen = caplen,
	    .len = len,
	    .linktype = o->pkt.linktype,
	    .iface = id,
	};
	if (o->pkt.comment || o->pkt.has_pid) {
		r = slot_get(o, &slot);
		if (r < 0)
			return r;
		o->slots[slot] = (struct meta_slot){
		    .out_if = id,
		    .next_free = NO_SLOT,
		    .has_pid = o->pkt.has_pid,
		    .pid = o->pkt.pid,
		    .tid = o->pkt.tid,
		    .comment = o->pkt.comment ? strdup(o->pkt.comment) : NULL,
		};
		if (o->pkt.comment && !o->slots[slot].comment) {
			slot_put(o, slot);
			return -ENOMEM;
		}
		mp.iface = IFACE_META | slot;
	}
	r = merge_push_packet(o->m, &mp);
	if (r == -ENOMEM && slot != NO_SLOT) {
		/* Dropped (and counted) by the merge: never comes back. */
		slot_put(o, slot);
	}
	return r == -ENOMEM ? 0 : r;
}

static int run(struct offline *o)
{
	uint64_t now = 0;
	int r;

	next_packet(o);
	next_event(o);
	while ((o->have_pkt || o->have_ev) && !o->write_error) {
		uint64_t ts;

		if (o->have_pkt && (!o->have_ev || o->pkt.ts_ns <= o->ev.ts_ns)) {
			ts = o->pkt.ts_ns;
			r = push_packet(o);
			if (r < 0)
				return r;
			next_packet(o);
		} else {
			ts = o->ev.ts_ns;
			r = merge_push_event(o->m, &o->ev);
			if (r < 0 && r != -ENOMEM)
				return r;
			next_event(o);
		}
		/* The stream's own clock: the newest time seen. */
		if (ts > now)
			now = ts;
		r = merge_advance(o->m, now);
		if (r < 0)
			return r;
	}
	if (o->write_error)
		return o->write_error;
	r = merge_flush(o->m);
	if (r < 0)
		return r;
	if (o->write_error)
		return o->write_error;
	r = pcapng_writer_flush(o->w);
	if (r < 0) {
		note_write(o, r);
		return r;
	}
	return 0;
}

static int open_input(struct offline *o, const char *what, const char *path, struct reader **ret)
{
	char reason[READER_REASON_MAX];
	int r;

	r = reader_open(path, ret, reason, sizeof(reason));
	if (r < 0)
		set_err(o, "%s file %s: %s", what, path, reason);
	return r;
}

/* Whether path b names the file a names (both exist). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
		return false;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int offline_merge(const char *packets_path, const char *events_path, const char *out_path,
		  const struct merge_config *cfg, enum comment_mode comment, unsigned flags,
		  struct offline_stats *stats, char *err, size_t errlen)
{
	struct pcapng_interface events_if = {
	    .linktype = LINKTYPE_WIRESHARK_UPPER_PDU,
	    .snaplen = EVENTS_SNAPLEN,
	    .name = EVENTS_IFNAME,
	    .description = EVENTS_IFDESC,
	};
	struct merge_config mc;
	struct offline *o;
	char app[64];
	int r;

	if (!packets_path || !events_path || !out_path ||
	    (comment == COMMENT_COMPACT && (flags & OFFLINE_NO_EVENT_FRAMES)))
		return -EINVAL;
	if (err && errlen)
		err[0] = '\0';
	/* Large scratch buffers: keep them off the stack. */
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->packets_path = packets_path;
	o->events_path = events_path;
	o->out_path = out_path;
	o->err = err;
	o->errlen = errlen;
	o->free_slot = NO_SLOT;
	if (tag_comment_cache_new(comment, &o->comments) < 0) {
		free(o);
		return -ENOMEM;
	}

	r = open_input(o, "packets", packets_path, &o->packets);
	if (r < 0)
		goto out;
	r = open_input(o, "events", events_path, &o->events);
	if (r < 0)
		goto out;

	if (cfg)
		mc = *cfg;
	else
		merge_config_init(&mc);
	mc.on_event = on_event;
	mc.on_packet = on_packet;
	mc.ctx = o;
	/* Both inputs are read in time order: what needs no owner leaves
	 * after OFFLINE_SETTLE_NS, not the whole window (whose ~13 MB of
	 * packets at 1 packet/us, touched page by page, cost a fifth of a
	 * 200,000-packet merge). */
	if (!mc.settle_ns)
		mc.settle_ns = OFFLINE_SETTLE_NS;
	r = merge_new(&mc, &o->m);
	if (r < 0) {
		set_err(o, "cannot set up the merge: %s", strerror(-r));
		goto out;
	}

	/* Writing over an input would lose it as it is read. */
	if (same_file(out_path, packets_path) || same_file(out_path, events_path)) {
		r = -EEXIST;
		set_err(o, "output %s is also an input file: choose another output", out_path);
		goto out;
	}
	snprintf(app, sizeof(app), "ebpfdump %s (offline merge)", EBPFDUMP_VERSION);
	r = pcapng_writer_open_path(out_path, app, &o->w);
	if (r < 0) {
		set_err(o, "cannot open %s for writing: %s", out_path, strerror(-r));
		goto out;
	}
	o->has_if_events = !(flags & OFFLINE_NO_EVENT_FRAMES);
	if (o->has_if_events) {
		r = pcapng_add_interface(o->w, &events_if, &o->if_events);
		if (r < 0) {
			note_write(o, r);
			goto out;
		}
	}
	packet_sink_init(&o->sink, o->w, o->comments, o->has_if_events ? &o->if_events : NULL);

	r = run(o);
	if (r < 0 && !o->write_error && !o->input_error)
		set_err(o, "merge failed: %s", strerror(-r));
	if (r == 0 && o->input_error)
		r = o->input_error;
	if (r == 0 && !o->st.events_read && !o->st.events_bad && o->st.events_file_other) {
		r = -EINVAL;
		set_err(o, "events file %s holds no event frames, only %llu other frames: is it a "
			   "packet capture? The order is --merge PACKETS EVENTS",
			events_path, (unsigned long long)o->st.events_file_other);
	}
out:
	if (o->m)
		merge_get_stats(o->m, &o->st.merge);
	o->st.packets_written = o->sink.packets_written;
	o->st.identities_written = o->sink.identities_written;
	o->st.comments_missing = o->sink.comments_missing;
	if (stats)
		*stats = o->st;
	if (o->w) {
		int fr = pcapng_writer_flush(o->w);

		if (fr < 0 && r == 0) {
			note_write(o, fr);
			r = fr;
		}
	}
	o->w = pcapng_writer_close(o->w);
	o->m = merge_free(o->m);
	o->packets = reader_close(o->packets);
	o->events = reader_close(o->events);
	for (uint32_t i = 0; i < o->n_slots; i++)
		free(o->slots[i].comment);
	o->comments = tag_comment_cache_free(o->comments);
	free(o->slots);
	free(o->if_map);
	free(o->if_snaplen);
	free(o);
	return r;
}
