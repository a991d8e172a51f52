/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The packet sink: see packet_sink.h. */
#include "extcap/packet_sink.h"

#include <string.h>

void packet_sink_init(struct packet_sink *s, struct pcapng_writer *w,
		      struct tag_comment_cache *comments, const uint32_t *if_events)
{
	s->w = w;
	s->comments = comments;
	s->has_events = if_events != NULL;
	s->if_events = if_events ? *if_events : 0;
	s->packets_written = s->identities_written = s->comments_missing = 0;
}

/* Ours first, so that it survives the writer's PCAPNG_MAX_STRING cut; the
 * original is cut here instead, on a UTF-8 character boundary. */
static const char *with_original(struct packet_sink *s, const char *ours, size_t len,
				 const char *original)
{
	size_t room, olen;

	if (!original || !*original || len + 2 >= sizeof(s->combined))
		return ours;
	room = sizeof(s->combined) - len - 2;
	olen = strlen(original);
	if (olen > room) {
		olen = room;
		while (olen > 0 && ((unsigned char)original[olen] & 0xC0) == 0x80)
			olen--;
	}
	memcpy(s->combined, ours, len);
	s->combined[len] = '\n';
	memcpy(s->combined + len + 1, original, olen);
	s->combined[len + 1 + olen] = '\0';
	return s->combined;
}

/* Compact comments: each process's details, once, on the events interface,
 * before its first packet and with its time stamp. */
static int announce(struct packet_sink *s, const struct tag_comment *tc, uint64_t ts_ns)
{
	for (unsigned i = 0; i < tc->n_announce && s->has_events; i++) {
		int n = tag_comment_identity_record(s->comments, tc->announce[i], ts_ns, s->identity,
						    sizeof(s->identity));
		int r;

		if (n < 0)
			continue; /* cannot happen: an identity fits a record */
		r = pcapng_write_event(s->w, s->if_events, ts_ns, s->identity, (size_t)n);
		if (r < 0)
			return r;
		s->identities_written++;
	}
	return 0;
}

int packet_sink_write(struct packet_sink *s, uint32_t if_packet, const struct merge_packet *pkt,
		      const struct merge_tag *tag, const struct pcapng_packet_meta *original)
{
	struct pcapng_packet_meta meta = { 0 };
	int r;

	if (original)
		meta = *original;
	if (s->comments && (tag->sender || tag->receiver)) {
		const struct tag_comment *tc = tag_comment_get(s->comments, pkt, tag);

		if (!tc) {
			s->comments_missing++;
		} else {
			r = announce(s, tc, pkt->ts_ns);
			if (r < 0)
				return r;
			meta.comment = with_original(s, tc->text, tc->text_len, meta.comment);
			meta.comment_len = meta.comment == tc->text ? tc->text_len : 0;
			if (tc->has_pid) {
				meta.has_pid = true;
				meta.pid = tc->pid;
				meta.tid = tc->tid;
			}
		}
	}
	r = pcapng_write_packet(s->w, if_packet, pkt->ts_ns, pkt->data, pkt->caplen, pkt->len,
				&meta);
	if (r < 0)
		return r;
	s->packets_written++;
	return 0;
}
