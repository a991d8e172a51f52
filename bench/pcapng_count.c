/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counts what a pcapng file holds, for the benchmarks: packets per
 * interface, event frames per event type, and the received/dropped counters
 * of the interface statistics blocks (which pcapng/reader.c skips).
 *
 * Reads host-byte-order files of one or more sections (what ebpfdump and
 * tcpdump write here). Prints one "key=value" line per figure:
 *   if<N>_linktype=L if<N>_packets=P if<N>_isb_received=R if<N>_isb_dropped=D
 *   events_total=E events_<TypeName>=C
 *
 * usage: pcapng_count FILE
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/record.h"

#define BLOCK_MAX (16u * 1024u * 1024u) /* as pcapng/reader.h */
#define IFACES_MAX 256u
#define PDU_TAGS_MAX 64u		/* exported-PDU tags before the record */

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 1u
#define BT_ISB 5u
#define BT_EPB 6u
#define ISB_IFRECV 4u
#define ISB_IFDROP 5u

struct iface {
	uint16_t linktype;
	uint64_t packets, isb_received, isb_dropped;
	int has_isb;
};

static struct iface ifaces[IFACES_MAX];
static unsigned n_ifaces;
static uint64_t events_by_type[EVENT_TYPE_MAX + 1], events_bad;

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An event frame: exported-PDU tags (big-endian type, length; tag 0 ends
 * them), then one record whose header carries the event type. */
static void count_event(const uint8_t *d, uint32_t len)
{
	uint32_t off = 0;

	for (unsigned i = 0; i < PDU_TAGS_MAX && off + 4 <= len; i++) {
		uint16_t tag = be16(d + off), tlen = be16(d + off + 2);

		off += 4 + ((tlen + 3u) & ~3u);
		if (tag == 0)
			break;
	}
	if (off + RECORD_HEADER_LEN > len || be16(d + off) != RECORD_MAGIC) {
		events_bad++;
		return;
	}
	uint16_t type = be16(d + off + 4);

	events_by_type[type < EVENT_TYPE_MAX ? type : EVENT_TYPE_MAX]++;
}

static void isb(const uint8_t *b, uint32_t blen)
{
	uint32_t id = get32(b), off = 12;

	if (id >= n_ifaces)
		return;
	ifaces[id].has_isb = 1;
	while (off + 4 <= blen) {
		uint16_t code, olen;

		memcpy(&code, b + off, 2);
		memcpy(&olen, b + off + 2, 2);
		if (code == 0 || off + 4 + olen > blen)
			break;
		if (olen == 8 && (code == ISB_IFRECV || code == ISB_IFDROP)) {
			uint64_t v;

			memcpy(&v, b + off + 4, 8);
			if (code == ISB_IFRECV)
				ifaces[id].isb_received = v;
			else
				ifaces[id].isb_dropped = v;
		}
		off += 4 + ((olen + 3u) & ~3u);
	}
}

int main(int argc, char **argv)
{
	uint8_t hdr[8], *body = NULL;
	uint64_t total = 0;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapng_count FILE\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	body = malloc(BLOCK_MAX);
	if (!f || !body) {
		fprintf(stderr, "pcapng_count: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (fread(hdr, 1, 8, f) == 8) {
		uint32_t type = get32(hdr), len = get32(hdr + 4);

		if (len < 12 || len > BLOCK_MAX || len % 4) {
			fprintf(stderr, "pcapng_count: bad block length %u\n", len);
			return 1;
		}
		if (fread(body, 1, len - 8, f) != len - 8)
			break; /* torn last block of a capture still running */
		len -= 12; /* body without the trailing length */
		if (type == BT_SHB) {
			if (len < 4 || get32(body) != 0x1A2B3C4Du) {
				fprintf(stderr, "pcapng_count: not host byte order\n");
				return 1;
			}
			n_ifaces = 0; /* interface ids restart per section */
		} else if (type == BT_IDB && len >= 8 && n_ifaces < IFACES_MAX) {
			memcpy(&ifaces[n_ifaces].linktype, body, 2);
			n_ifaces++;
		} else if (type == BT_EPB && len >= 20) {
			uint32_t id = get32(body), caplen = get32(body + 12);

			if (id < n_ifaces && caplen <= len - 20) {
				ifaces[id].packets++;
				if (ifaces[id].linktype == 252)
					count_event(body + 20, caplen);
			}
		} else if (type == BT_ISB && len >= 12) {
			isb(body, len);
		}
	}
	for (unsigned i = 0; i < n_ifaces; i++) {
		printf("if%u_linktype=%u\nif%u_packets=%llu\n", i, ifaces[i].linktype, i,
		       (unsigned long long)ifaces[i].packets);
		if (ifaces[i].has_isb)
			printf("if%u_isb_received=%llu\nif%u_isb_dropped=%llu\n", i,
			       (unsigned long long)ifaces[i].isb_received, i,
			       (unsigned long long)ifaces[i].isb_dropped);
	}
	for (unsigned t = 0; t <= EVENT_TYPE_MAX; t++)
		total += events_by_type[t];
	printf("events_total=%llu\n", (unsigned long long)total);
	for (unsigned t = 1; t <= EVENT_TYPE_MAX; t++)
		if (events_by_type[t])
			printf("events_%s=%llu\n", event_type_name(t) ?: "unknown",
			       (unsigned long long)events_by_type[t]);
	if (events_bad)
		printf("events_malformed=%llu\n", (unsigned long long)events_bad);
	free(body);
	fclose(f);
	return 0;
}
