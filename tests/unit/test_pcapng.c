/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the pcapng writer: writes captures, parses them back block
 * by block, and drives the fifo (reader killed) and full-disk cases.
 *
 * Modes (pcapng_readback.sh runs them and checks the files with tshark):
 *   write FILE     the reference capture, then a raw parse of FILE
 *   stdout         the reference capture on stdout ("-")
 *   limits DIR     argument checks, size limits, string truncation
 *   fifo DIR       tshark reads DIR/fifo; kill it; writes get -EPIPE
 *   enospc FILE    write until -ENOSPC (FILE on a small tmpfs)
 *   shortwrite DIR a slow pipe reader and a 200 us timer: short writes,
 *                  EINTR and EAGAIN still give the exact bytes
 *   bench DIR      time per packet to /dev/null and to DIR/bench.pcapng
 * Exit 0 when every check passed, 77 when a needed tool is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcapng/writer.h"
#include "tests/unit/test_util.h"

#define EXIT_SKIP 77
/* Whole files the parser reads back: far more than any test writes. */
#define PARSE_FILE_MAX (64u * 1024u * 1024u)
#define PARSE_MAX_EPB 64

/* The reference capture. pcapng_readback.sh checks the same values with
 * tshark and capinfos; change both together. */
#define REF_APP "ebpfdump-test 0.1"
#define REF_TS0 UINT64_C(1700000000123456789) /* > 2^32: exercises high/low halves */
#define REF_COMMENT "pid=4242 tid=4243 comm=curl container=web-1"
#define REF_UTF8_COMMENT "comm=caf\xc3\xa9 \xe2\x9c\x93"
#define REF_ETH_SNAPLEN 256

struct ref_frame {
	uint32_t if_id;
	uint64_t ts_ns;
	uint32_t len;	  /* bytes handed in */
	uint32_t origlen; /* handed in */
	uint32_t caplen;  /* expected in the file */
	bool event;
	const char *comment;
	bool has_pid;
	uint32_t pid, tid;
};

static const struct ref_frame ref_frames[] = {
    {0, REF_TS0, 74, 74, 74, false, REF_COMMENT, true, 4242, 4243},
    {1, REF_TS0 + 100000000, 32, 0, 44, true, NULL, false, 0, 0},
    {0, REF_TS0 + 200000000, 64, 1514, 64, false, NULL, false, 0, 0},
    {0, REF_TS0 + 300000001, 61, 61, 61, false, REF_UTF8_COMMENT, false, 0, 0},
    {1, REF_TS0 + 400000002, 31, 0, 43, true, NULL, false, 0, 0},
    {0, REF_TS0 + 500000003, 300, 300, REF_ETH_SNAPLEN, false, NULL, true, 7, 7},
};
#define REF_N_FRAMES (sizeof(ref_frames) / sizeof(ref_frames[0]))

static const struct pcapng_interface ref_ifaces[] = {
    {LINKTYPE_ETHERNET, REF_ETH_SNAPLEN, "veth-test0", "Test veth", "tcp or udp"},
    {LINKTYPE_WIRESHARK_UPPER_PDU, 0, "ebpfevents", "eBPF Events", NULL},
};

static const struct pcapng_stats ref_stats[] = {
    {REF_TS0 - 1000, REF_TS0 + 600000000, 5, 2, true},
    {REF_TS0 - 1000, REF_TS0 + 600000000, 2, 0, true},
};

/* A minimal Ethernet/IPv4/UDP frame of len bytes (>= 42), bytes after
 * the UDP header counting up, so truncation and padding show. */
static void make_frame(uint8_t *f, uint32_t len)
{
	/* clang-format off: one protocol header per line */
	static const uint8_t head[42] = {
	    0x02, 0,	0,    0,    0,	0x02, 0x02, 0, 0,    0,	   0, 0x01, 0x08, 0x00, /* eth */
	    0x45, 0,	0,    0,    0,	0x01, 0x40, 0, 0x40, 0x11, 0, 0,		/* ip */
	    10,	  0,	0,    1,    10, 0,    0,    2, /* ip addrs */
	    0x30, 0x39, 0x30, 0x3a, 0,	0,    0,    0, /* udp 12345 → 12346 */
	};
	/* clang-format on */
	uint32_t ip_len = len - 14, udp_len = len - 34;

	memcpy(f, head, sizeof(head));
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;
	for (uint32_t i = sizeof(head); i < len; i++)
		f[i] = (uint8_t)i;
}

/* A record as event/record.h lays it out: 24-byte header, then a PID item
 * (len 32) or a COMM item "abc" (len 31). */
static uint32_t make_record(uint8_t *r, uint32_t len, uint64_t ts)
{
	memset(r, 0, len);
	r[0] = 0x45, r[1] = 0x42, r[2] = 1, r[3] = 24;
	r[5] = 1; /* TCP_Connect */
	r[11] = (uint8_t)len;
	r[15] = 7; /* seq */
	for (int i = 0; i < 8; i++)
		r[16 + i] = (uint8_t)(ts >> (56 - 8 * i));
	if (len == 32) {
		r[25] = 1, r[27] = 4; /* ITEM_PID, 4 bytes: 4242 */
		r[30] = 0x10, r[31] = 0x92;
	} else {
		r[25] = 5, r[27] = 3; /* ITEM_COMM, 3 bytes */
		memcpy(r + 28, "abc", 3);
	}
	return len;
}

static int write_reference(struct pcapng_writer *w)
{
	uint8_t frame[512];
	uint32_t ids[2];
	int r;

	for (unsigned i = 0; i < 2; i++) {
		r = pcapng_add_interface(w, &ref_ifaces[i], &ids[i]);
		if (r < 0)
			return r;
		CHECK_EQ_U64(ids[i], i);
	}
	for (unsigned i = 0; i < REF_N_FRAMES; i++) {
		const struct ref_frame *f = &ref_frames[i];

		if (f->event) {
			make_record(frame, f->len, f->ts_ns);
			r = pcapng_write_event(w, f->if_id, f->ts_ns, frame, f->len);
		} else {
			struct pcapng_packet_meta meta = {f->comment, f->has_pid, f->pid, f->tid, 0};

			make_frame(frame, f->len);
			r = pcapng_write_packet(w, f->if_id, f->ts_ns, frame, f->len, f->origlen,
						&meta);
		}
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < 2; i++) {
		r = pcapng_write_stats(w, i, REF_TS0 + 700000000, &ref_stats[i]);
		if (r < 0)
			return r;
	}
	return pcapng_writer_flush(w);
}

/* ---- raw parser: just enough pcapng to check what the writer wrote ---- */

struct parsed_epb {
	uint32_t if_id, caplen, origlen;
	uint64_t ts;
	const uint8_t *data;
	const char *comment; /* points into the file; comment_len bytes */
	size_t comment_len;
	bool has_pid;
	uint32_t pid, tid;
};

struct parsed {
	uint8_t *file;
	size_t size;
	unsigned n_shb, n_idb, n_isb, n_epb, n_other;
	uint16_t linktype[4];
	uint32_t snaplen[4];
	int tsresol[4];
	char filter[4][64];
	uint8_t filter_kind[4];
	uint64_t isb_recv[4], isb_drop[4], isb_start[4], isb_end[4];
	char userappl[64];
	struct parsed_epb epb[PARSE_MAX_EPB];
};

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t get_u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint64_t get_ts(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static void copy_str(char *dst, size_t size, const uint8_t *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

/* Walk options in [p, end): every option padded, endofopt last if any. */
static bool parse_options(struct parsed *ps, uint32_t type, const uint8_t *p, const uint8_t *end,
			  unsigned idx)
{
	bool ended = false;

	while (p < end) {
		uint16_t code, len;

		if (!CHECK(!ended) || !CHECK(end - p >= 4))
			return false;
		code = get_u16(p), len = get_u16(p + 2);
		p += 4;
		if (!CHECK((size_t)(end - p) >= ((len + 3u) & ~3u)))
			return false;
		for (unsigned i = len; i < ((len + 3u) & ~3u); i++)
			CHECK(p[i] == 0); /* padding is zeroed, no garbage */
		if (code == 0) {
			CHECK(len == 0);
			ended = true;
		} else if (type == 0x0A0D0D0A && code == 4) {
			copy_str(ps->userappl, sizeof(ps->userappl), p, len);
		} else if (type == 1 && idx < 4 && code == 9 && CHECK(len == 1)) {
			ps->tsresol[idx] = p[0];
		} else if (type == 1 && idx < 4 && code == 11 && CHECK(len >= 1)) {
			ps->filter_kind[idx] = p[0];
			copy_str(ps->filter[idx], sizeof(ps->filter[idx]), p + 1, len - 1u);
		} else if (type == 5 && idx < 4 && (code == 2 || code == 3) && CHECK(len == 8)) {
			*(code == 2 ? &ps->isb_start[idx] : &ps->isb_end[idx]) = get_ts(p);
		} else if (type == 5 && idx < 4 && (code == 4 || code == 5) && CHECK(len == 8)) {
			*(code == 4 ? &ps->isb_recv[idx] : &ps->isb_drop[idx]) = get_u64(p);
		} else if (type == 6 && code == 1) {
			ps->epb[idx].comment = (const char *)p;
			ps->epb[idx].comment_len = len;
		} else if (type == 6 && code == 8 && CHECK(len == 8)) {
			ps->epb[idx].has_pid = true;
			ps->epb[idx].pid = get_u32(p);
			ps->epb[idx].tid = get_u32(p + 4);
		}
		p += (len + 3u) & ~3u;
	}
	/* A non-empty option list ends with opt_endofopt. */
	return CHECK(ended || p == end);
}

static bool parse_file(const char *path, struct parsed *ps)
{
	const uint8_t *p, *end;
	struct stat st;
	int fd;

	memset(ps, 0, sizeof(*ps));
	fd = open(path, O_RDONLY);
	if (!CHECK(fd >= 0) || !CHECK(fstat(fd, &st) == 0) ||
	    !CHECK(st.st_size > 0 && (size_t)st.st_size <= PARSE_FILE_MAX)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	ps->size = (size_t)st.st_size;
	ps->file = malloc(ps->size);
	if (!CHECK(ps->file) || !CHECK(read(fd, ps->file, ps->size) == (ssize_t)ps->size)) {
		close(fd);
		return false;
	}
	close(fd);

	p = ps->file, end = ps->file + ps->size;
	while (p < end) {
		uint32_t type, total;
		const uint8_t *body, *bend;

		if (!CHECK(end - p >= 12))
			return false;
		type = get_u32(p), total = get_u32(p + 4);
		if (!CHECK(total % 4 == 0 && total >= 12 && total <= (size_t)(end - p)) ||
		    !CHECK(get_u32(p + total - 4) == total))
			return false;
		body = p + 8, bend = p + total - 4;
		if (type == 0x0A0D0D0A) {
			CHECK(ps->n_shb == 0 && p == ps->file);
			CHECK(get_u32(body) == 0x1A2B3C4D);
			CHECK(get_u16(body + 4) == 1 && get_u16(body + 6) == 0);
			CHECK(get_u64(body + 8) == UINT64_MAX);
			parse_options(ps, type, body + 16, bend, 0);
			ps->n_shb++;
		} else if (type == 1) {
			unsigned i = ps->n_idb++;

			if (i < 4) {
				ps->linktype[i] = get_u16(body);
				ps->snaplen[i] = get_u32(body + 4);
				parse_options(ps, type, body + 8, bend, i);
			}
		} else if (type == 5) {
			uint32_t id = get_u32(body);

			CHECK(id < ps->n_idb);
			parse_options(ps, type, body + 12, bend, id);
			ps->n_isb++;
		} else if (type == 6 && CHECK(ps->n_epb < PARSE_MAX_EPB)) {
			struct parsed_epb *e = &ps->epb[ps->n_epb];
			uint32_t padded;

			e->if_id = get_u32(body);
			e->ts = get_ts(body + 4);
			e->caplen = get_u32(body + 12);
			e->origlen = get_u32(body + 16);
			e->data = body + 20;
			padded = (e->caplen + 3u) & ~3u;
			if (!CHECK(20 + padded <= (size_t)(bend - body)))
				return false;
			for (uint32_t i = e->caplen; i < padded; i++)
				CHECK(e->data[i] == 0);
			parse_options(ps, type, body + 20 + padded, bend, ps->n_epb);
			ps->n_epb++;
		} else {
			ps->n_other++;
		}
		p += total;
	}
	return true;
}

static void check_reference(const char *path)
{
	static const uint8_t tags[] = {0, 12, 0, 4, 'e', 'b', 'p', 'f', 0, 0, 0, 0};
	struct parsed *ps = calloc(1, sizeof(*ps));
	uint8_t expect[512];

	if (!CHECK(ps) || !parse_file(path, ps)) {
		free(ps ? ps->file : NULL);
		free(ps);
		return;
	}
	CHECK_EQ_U64(ps->n_shb, 1);
	CHECK_STR(ps->userappl, REF_APP);
	CHECK_EQ_U64(ps->n_idb, 2);
	CHECK_EQ_U64(ps->n_isb, 2);
	CHECK_EQ_U64(ps->n_other, 0);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ_U64(ps->linktype[i], ref_ifaces[i].linktype);
		CHECK_EQ_U64(ps->snaplen[i], ref_ifaces[i].snaplen);
		CHECK_EQ_U64(ps->tsresol[i], 9);
		CHECK_EQ_U64(ps->isb_recv[i], ref_stats[i].received);
		CHECK_EQ_U64(ps->isb_drop[i], ref_stats[i].dropped);
		CHECK_EQ_U64(ps->isb_start[i], ref_stats[i].start_ns);
		CHECK_EQ_U64(ps->isb_end[i], ref_stats[i].end_ns);
	}
	CHECK_STR(ps->filter[0], "tcp or udp");
	CHECK_EQ_U64(ps->filter_kind[0], 0);
	CHECK_STR(ps->filter[1], "");

	CHECK_EQ_U64(ps->n_epb, REF_N_FRAMES);
	for (unsigned i = 0; i < REF_N_FRAMES && i < ps->n_epb; i++) {
		const struct ref_frame *f = &ref_frames[i];
		const struct parsed_epb *e = &ps->epb[i];

		CHECK_EQ_U64(e->if_id, f->if_id);
		CHECK_EQ_U64(e->ts, f->ts_ns);
		CHECK_EQ_U64(e->caplen, f->caplen);
		CHECK_EQ_U64(e->origlen, f->event ? f->caplen : f->origlen);
		if (f->event) {
			make_record(expect, f->len, f->ts_ns);
			CHECK(memcmp(e->data, tags, sizeof(tags)) == 0);
			CHECK(memcmp(e->data + sizeof(tags), expect, f->len) == 0);
		} else {
			make_frame(expect, f->len);
			CHECK(memcmp(e->data, expect, e->caplen) == 0);
		}
		if (f->comment)
			CHECK(e->comment_len == strlen(f->comment) &&
			      memcmp(e->comment, f->comment, e->comment_len) == 0);
		else
			CHECK(!e->comment);
		CHECK_EQ_U64(e->has_pid, f->has_pid);
		CHECK_EQ_U64(e->pid, f->pid);
		CHECK_EQ_U64(e->tid, f->tid);
	}
	free(ps->file);
	free(ps);
}

static int mode_write(const char *path)
{
	struct pcapng_writer *w = NULL;
	int r;

	r = pcapng_writer_open_path(path, REF_APP, &w);
	if (!CHECK(r == 0))
		return test_summary();
	CHECK_EQ_U64(write_reference(w), 0);
	w = pcapng_writer_close(w);
	CHECK(w == NULL);
	check_reference(path);
	return test_summary();
}

static int mode_stdout(void)
{
	struct pcapng_writer *w = NULL;
	int r;

	r = pcapng_writer_open_path("-", REF_APP, &w);
	if (r == 0)
		r = write_reference(w);
	if (r == 0)
		r = pcapng_writer_flush(w);
	pcapng_writer_close(w);
	if (r < 0)
		fprintf(stderr, "writing to stdout: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}

/* ---- limits and argument checks ---- */

static int mode_limits(const char *dir)
{
	struct pcapng_interface eth = {LINKTYPE_ETHERNET, 0, "eth", NULL, NULL};
	struct pcapng_interface ev = {LINKTYPE_WIRESHARK_UPPER_PDU, 64, "ev", NULL, NULL};
	struct pcapng_stats st = {0, 0, 1, 0, false};
	struct pcapng_writer *w = NULL;
	char path[4096], *longstr;
	uint8_t *big;
	struct parsed *ps;
	uint32_t id_eth = 99, id_ev = 99, id;
	size_t n;

	snprintf(path, sizeof(path), "%s/limits.pcapng", dir);
	big = calloc(1, PCAPNG_MAX_CAPLEN + 1);
	longstr = malloc(PCAPNG_MAX_STRING + 16);
	ps = calloc(1, sizeof(*ps));
	if (!big || !longstr || !ps)
		return 1;

	CHECK(pcapng_writer_open(-1, false, REF_APP, &w) == -EINVAL);
	CHECK(w == NULL);
	CHECK(pcapng_writer_open_path("/nonexistent-dir/x.pcapng", REF_APP, &w) == -ENOENT);
	CHECK(w == NULL);
	CHECK(pcapng_writer_close(NULL) == NULL);
	if (!CHECK(pcapng_writer_open_path(path, NULL, &w) == 0))
		return test_summary();

	CHECK(pcapng_add_interface(w, &eth, &id_eth) == 0);
	CHECK(pcapng_add_interface(w, &ev, &id_ev) == 0);
	CHECK(pcapng_add_interface(w, NULL, &id) == -EINVAL);

	/* Bad arguments are refused and leave the writer usable. */
	CHECK(pcapng_write_packet(w, 7, 1, big, 10, 10, NULL) == -EINVAL);
	CHECK(pcapng_write_packet(w, id_eth, 1, big, 10, 9, NULL) == -EINVAL);
	CHECK(pcapng_write_packet(w, id_eth, 1, NULL, 10, 10, NULL) == -EINVAL);
	CHECK(pcapng_write_packet(w, id_eth, 1, big, PCAPNG_MAX_CAPLEN + 1, PCAPNG_MAX_CAPLEN + 1,
				  NULL) == -EINVAL);
	CHECK(pcapng_write_event(w, id_eth, 1, big, 10) == -EINVAL); /* not UPPER_PDU */
	CHECK(pcapng_write_event(w, id_ev, 1, big, 64) == -EINVAL);  /* tags + 64 > snaplen */
	CHECK(pcapng_write_event(w, id_ev, 1, big, PCAPNG_MAX_CAPLEN) == -EINVAL);
	CHECK(pcapng_write_stats(w, 9, 1, &st) == -EINVAL);

	/* Largest packet accepted; an empty one too. */
	CHECK(pcapng_write_packet(w, id_eth, 2, big, PCAPNG_MAX_CAPLEN, PCAPNG_MAX_CAPLEN, NULL) ==
	      0);
	CHECK(pcapng_write_packet(w, id_eth, 3, big, 0, 0, NULL) == 0);
	CHECK(pcapng_write_event(w, id_ev, 4, big, 52) == 0); /* exactly snaplen */

	/* Over-long comment: cut at the limit, here inside a 3-byte UTF-8
	 * character that straddles it, so the cut moves back to its start. */
	memset(longstr, 'a', PCAPNG_MAX_STRING + 16);
	memcpy(longstr + PCAPNG_MAX_STRING - 1, "\xe2\x9c\x93", 3);
	longstr[PCAPNG_MAX_STRING + 15] = 0;
	{
		struct pcapng_packet_meta meta = {longstr, false, 0, 0, 0};

		CHECK(pcapng_write_packet(w, id_eth, 5, big, 20, 20, &meta) == 0);
		/* Exactly at the limit: kept whole. */
		longstr[PCAPNG_MAX_STRING] = 0;
		memset(longstr + PCAPNG_MAX_STRING - 1, 'b', 1);
		CHECK(pcapng_write_packet(w, id_eth, 6, big, 20, 20, &meta) == 0);
	}
	/* Many interfaces: up to the limit, then -E2BIG. */
	for (n = 2; n < PCAPNG_MAX_INTERFACES; n++)
		if (pcapng_add_interface(w, &eth, &id) < 0)
			break;
	CHECK_EQ_U64(n, PCAPNG_MAX_INTERFACES);
	CHECK(pcapng_add_interface(w, &eth, &id) == -E2BIG);
	CHECK(pcapng_write_packet(w, PCAPNG_MAX_INTERFACES - 1, 7, big, 1, 1, NULL) == 0);
	CHECK(pcapng_writer_flush(w) == 0);
	w = pcapng_writer_close(w);

	if (parse_file(path, ps)) {
		CHECK_EQ_U64(ps->n_epb, 6);
		CHECK_EQ_U64(ps->epb[0].caplen, PCAPNG_MAX_CAPLEN);
		CHECK_EQ_U64(ps->epb[1].caplen, 0);
		CHECK_EQ_U64(ps->epb[2].caplen, 64);
		CHECK_EQ_U64(ps->epb[3].comment_len, PCAPNG_MAX_STRING - 1);
		CHECK_EQ_U64(ps->epb[4].comment_len, PCAPNG_MAX_STRING);
		CHECK_EQ_U64(ps->epb[5].if_id, PCAPNG_MAX_INTERFACES - 1);
		CHECK_EQ_U64(ps->n_idb, PCAPNG_MAX_INTERFACES);
		CHECK(ps->userappl[0] == 0); /* NULL shb_app: option left out */
	}
	unlink(path);
	free(ps->file);
	free(ps);
	free(big);
	free(longstr);
	return test_summary();
}

/* ---- secrets: a Decryption Secrets Block (--tls, Go key logs) ---- */

static int mode_secrets(const char *dir)
{
	static const char line[] = "CLIENT_RANDOM 00 11\n"; /* 20 bytes: padding to 20 */
	struct pcapng_interface eth = {LINKTYPE_ETHERNET, 0, "eth", NULL, NULL};
	struct pcapng_writer *w = NULL;
	uint8_t frame[64] = {0}, buf[512];
	char path[4096], cmd[4200];
	uint32_t id = 99, off, type, len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/secrets.pcapng", dir);
	if (!CHECK(pcapng_writer_open_path(path, REF_APP, &w) == 0))
		return test_summary();
	CHECK(pcapng_add_interface(w, &eth, &id) == 0);
	CHECK(pcapng_write_secrets(w, PCAPNG_SECRETS_TLS, NULL, 3) == -EINVAL);
	CHECK(pcapng_write_secrets(w, PCAPNG_SECRETS_TLS, line, PCAPNG_MAX_CAPLEN + 1) == -EINVAL);
	CHECK(pcapng_write_secrets(w, PCAPNG_SECRETS_TLS, line, sizeof(line) - 2) == 0); /* pad 1 */
	make_frame(frame, sizeof(frame));
	CHECK(pcapng_write_packet(w, id, 1, frame, sizeof(frame), sizeof(frame), NULL) == 0);
	w = pcapng_writer_close(w);

	/* The blocks in order: SHB, IDB, DSB, EPB; the DSB's fields. */
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd >= 0)
		close(fd);
	if (!CHECK(n > 0))
		return test_summary();
	off = get_u32(buf + 4);			     /* past the SHB */
	off += get_u32(buf + off + 4);		     /* past the IDB */
	if (!CHECK(off + 16 < (uint32_t)n))
		return test_summary();
	type = get_u32(buf + off);
	len = get_u32(buf + off + 4);
	CHECK_EQ_U64(type, 0x0000000A);
	CHECK_EQ_U64(len, 12 + 8 + 20);		     /* 19 bytes padded to 20 */
	CHECK_EQ_U64(get_u32(buf + off + 8), 0x544c534b);
	CHECK_EQ_U64(get_u32(buf + off + 12), sizeof(line) - 2);
	CHECK(memcmp(buf + off + 16, line, sizeof(line) - 2) == 0);
	CHECK(buf[off + 16 + 19] == 0);
	CHECK_EQ_U64(get_u32(buf + off + len - 4), len);
	CHECK_EQ_U64(get_u32(buf + off + len), 6); /* the EPB follows */
	/* Wireshark reads past it (it takes the block as key material). */
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' 2>/dev/null | grep -q .", path);
	CHECK(system(cmd) == 0);
	unlink(path);
	return test_summary();
}

/* ---- fifo: reader goes away ---- */

/* tshark's one-line summary of the test frame names its UDP ports. */
static bool tshark_printed_frame(const char *path)
{
	char buf[1024];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, "12345") && strstr(buf, "12346") && strchr(buf, '\n');
}

static int mode_fifo(const char *dir)
{
	struct pcapng_interface eth = {LINKTYPE_ETHERNET, 0, "eth", NULL, NULL};
	char fifo[4096], out[4096];
	struct pcapng_writer *w = NULL;
	uint8_t frame[64];
	uint32_t id;
	int status, r, waited;
	pid_t pid;

	if (access("/usr/bin/tshark", X_OK) != 0)
		return EXIT_SKIP;
	/* The program is expected to ignore SIGPIPE; a write to a fifo
	 * without reader must then come back as -EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(out, sizeof(out), "%s/tshark.out", dir);
	if (!CHECK(mkfifo(fifo, 0600) == 0))
		return test_summary();

	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		if (fd < 0 || null < 0)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(null, STDERR_FILENO); /* only packet lines in out */
		execl("/usr/bin/tshark", "tshark", "-l", "-n", "-r", fifo, (char *)NULL);
		_exit(127);
	}
	if (!CHECK(pid > 0))
		return test_summary();
	setpgid(pid, pid);
	/* If tshark never opens the fifo, open() blocks: a watchdog ends us. */
	alarm(40);

	r = pcapng_writer_open_path(fifo, REF_APP, &w);
	if (!CHECK(r == 0))
		goto out;
	CHECK(pcapng_add_interface(w, &eth, &id) == 0);
	make_frame(frame, sizeof(frame));
	CHECK(pcapng_write_packet(w, id, REF_TS0, frame, sizeof(frame), sizeof(frame), NULL) == 0);

	/* Written through: tshark prints the packet while the writer is still
	 * open and nothing was flushed. */
	for (waited = 0; waited < 3000 && !tshark_printed_frame(out); waited++)
		usleep(10000);
	CHECK(tshark_printed_frame(out));

	kill(-pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
	pid = -1;

	r = pcapng_write_packet(w, id, REF_TS0 + 1, frame, sizeof(frame), sizeof(frame), NULL);
	CHECK_EQ_U64(-r, EPIPE);
	/* Sticky: every later call says the same and writes nothing. */
	CHECK_EQ_U64(-pcapng_write_packet(w, id, REF_TS0 + 2, frame, 10, 10, NULL), EPIPE);
	CHECK_EQ_U64(-pcapng_add_interface(w, &eth, &id), EPIPE);
	CHECK_EQ_U64(-pcapng_writer_flush(w), EPIPE);
out:
	w = pcapng_writer_close(w);
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	alarm(0);
	unlink(fifo);
	unlink(out);
	return test_summary();
}

/* ---- full disk ---- */

static int mode_enospc(const char *path)
{
	struct pcapng_interface eth = {LINKTYPE_ETHERNET, 0, "eth", NULL, NULL};
	struct pcapng_interface ev = {LINKTYPE_WIRESHARK_UPPER_PDU, 0, "ev", NULL, NULL};
	struct pcapng_packet_meta meta = {REF_COMMENT, true, 1, 2, 0};
	struct pcapng_stats st = {1, 2, 3, 4, true};
	struct pcapng_writer *w = NULL;
	uint8_t frame[1500];
	uint32_t id, id_ev;
	unsigned accepted = 0;
	int r = 0;

	if (!CHECK(pcapng_writer_open_path(path, REF_APP, &w) == 0))
		return test_summary();
	CHECK(pcapng_add_interface(w, &eth, &id) == 0);
	CHECK(pcapng_add_interface(w, &ev, &id_ev) == 0);
	make_frame(frame, sizeof(frame));
	/* 100k frames of 1.5 kB are far more than the small tmpfs holds. */
	while (accepted < 100000) {
		r = pcapng_write_packet(w, id, REF_TS0 + accepted, frame, sizeof(frame),
					sizeof(frame), &meta);
		if (r < 0)
			break;
		accepted++;
	}
	CHECK_EQ_U64(-r, ENOSPC);
	CHECK(accepted > 0);
	CHECK_EQ_U64(-pcapng_write_packet(w, id, 1, frame, 60, 60, NULL), ENOSPC);
	CHECK_EQ_U64(-pcapng_write_event(w, id_ev, 1, frame, 40), ENOSPC);
	CHECK_EQ_U64(-pcapng_write_stats(w, id, 1, &st), ENOSPC);
	CHECK_EQ_U64(-pcapng_add_interface(w, &eth, &id), ENOSPC);
	CHECK_EQ_U64(-pcapng_writer_flush(w), ENOSPC);
	w = pcapng_writer_close(w);
	printf("accepted %u\n", accepted);
	return test_summary();
}

/* ---- short writes, EINTR, EAGAIN ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* The reference capture plus big packets, so that blocks exceed the pipe
 * buffer and writes are cut short. */
static int write_big(struct pcapng_writer *w, const uint8_t *big)
{
	struct pcapng_interface nolimit = {LINKTYPE_ETHERNET, 0, "big", NULL, NULL};
	uint32_t id;
	int r = write_reference(w);

	if (r == 0)
		r = pcapng_add_interface(w, &nolimit, &id);
	for (uint32_t i = 0; i < 24 && r == 0; i++) {
		uint32_t len = PCAPNG_MAX_CAPLEN - i * 4099; /* odd lengths: padding */

		r = pcapng_write_packet(w, id, REF_TS0 + i, big, len, len, NULL);
	}
	return r == 0 ? pcapng_writer_flush(w) : r;
}

static bool same_file(const char *a, const char *b)
{
	struct parsed pa = {0}, pb = {0};
	bool same = parse_file(a, &pa) && parse_file(b, &pb) && pa.size == pb.size &&
		    memcmp(pa.file, pb.file, pa.size) == 0;

	free(pa.file);
	free(pb.file);
	return same;
}

/* Through a pipe whose reader is slow while a 200 us timer interrupts
 * every write, blocking and non-blocking: the bytes that arrive must be
 * exactly what the buffered writer puts in a regular file. */
/* Bytes waiting in a non-blocking pipe's read end (drains it). */
static size_t pipe_drain(int fd)
{
	uint8_t buf[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

/* pcapng_writer_hold() on a pipe: blocks wait for the flush, then go out
 * together; unheld, each goes out at once again. */
static void check_hold(void)
{
	struct pcapng_interface eth = {LINKTYPE_ETHERNET, 0, "eth", NULL, NULL};
	struct pcapng_packet_meta meta = {REF_COMMENT, true, 1, 2, 0};
	struct pcapng_writer *w = NULL;
	uint8_t frame[100];
	size_t one;
	uint32_t id;
	int pfd[2];

	make_frame(frame, sizeof(frame));
	if (!CHECK(pipe(pfd) == 0))
		return;
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
	if (!CHECK(pcapng_writer_open(pfd[1], true, REF_APP, &w) == 0 &&
		   pcapng_add_interface(w, &eth, &id) == 0)) {
		pcapng_writer_close(w);
		close(pfd[0]);
		return;
	}
	CHECK(pipe_drain(pfd[0]) > 0); /* SHB and IDB went out at once */
	CHECK(pcapng_write_packet(w, id, REF_TS0, frame, sizeof(frame), sizeof(frame), &meta) == 0);
	one = pipe_drain(pfd[0]);
	CHECK(one > sizeof(frame)); /* write-through: the EPB is there */

	pcapng_writer_hold(w, true);
	for (int i = 0; i < 3; i++)
		CHECK(pcapng_write_packet(w, id, REF_TS0 + 1 + i, frame, sizeof(frame),
					  sizeof(frame), &meta) == 0);
	CHECK(pipe_drain(pfd[0]) == 0); /* held */
	CHECK(pcapng_writer_flush(w) == 0);
	CHECK(pipe_drain(pfd[0]) == 3 * one); /* all three, whole */

	pcapng_writer_hold(w, false);
	CHECK(pcapng_write_packet(w, id, REF_TS0 + 4, frame, sizeof(frame), sizeof(frame), &meta) ==
	      0);
	CHECK(pipe_drain(pfd[0]) == one);
	pcapng_writer_close(w);
	close(pfd[0]);
}

static int mode_shortwrite(const char *dir)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: EINTR */
	struct itimerval tick = {{0, 200}, {0, 200}}, off = {{0, 0}, {0, 0}};
	char ref[4096], got[4096];
	struct pcapng_writer *w = NULL;
	uint8_t *big = malloc(PCAPNG_MAX_CAPLEN);

	if (!big)
		return 1;
	for (uint32_t i = 0; i < PCAPNG_MAX_CAPLEN; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 9));
	snprintf(ref, sizeof(ref), "%s/ref.pcapng", dir);
	snprintf(got, sizeof(got), "%s/pipe.pcapng", dir);
	CHECK(pcapng_writer_open_path(ref, REF_APP, &w) == 0 && write_big(w, big) == 0);
	w = pcapng_writer_close(w);

	check_hold();
	sigaction(SIGALRM, &sa, NULL);
	for (int nonblock = 0; nonblock < 2; nonblock++) {
		int pfd[2], status;
		pid_t pid;

		if (!CHECK(pipe(pfd) == 0))
			break;
		pid = fork();
		if (pid == 0) {
			/* Slow reader: small reads with pauses keep the pipe full. */
			int out = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			char chunk[3000];
			ssize_t n;

			close(pfd[1]);
			while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0) {
				if (write(out, chunk, (size_t)n) != n)
					_exit(1);
				usleep(20);
			}
			_exit(n == 0 ? 0 : 1);
		}
		close(pfd[0]);
		if (nonblock)
			fcntl(pfd[1], F_SETFL, fcntl(pfd[1], F_GETFL) | O_NONBLOCK);
		alarms = 0;
		setitimer(ITIMER_REAL, &tick, NULL);
		CHECK(pcapng_writer_open(pfd[1], true, REF_APP, &w) == 0 && write_big(w, big) == 0);
		setitimer(ITIMER_REAL, &off, NULL);
		w = pcapng_writer_close(w); /* closes pfd[1]: reader sees EOF */
		CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0);
		CHECK(alarms > 10); /* the writes really were interrupted */
		CHECK(same_file(ref, got));
		printf("%s pipe: %d timer interrupts during the writes\n",
		       nonblock ? "non-blocking" : "blocking", (int)alarms);
	}
	unlink(ref);
	unlink(got);
	free(big);
	return test_summary();
}

/* ---- speed ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench_one(const char *path, unsigned n, const char *label)
{
	struct pcapng_interface eth = {LINKTYPE_ETHERNET, 0, "eth", NULL, NULL};
	struct pcapng_packet_meta meta = {REF_COMMENT, true, 1, 2, 0};
	struct pcapng_writer *w = NULL;
	uint8_t frame[128];
	uint64_t t0;
	uint32_t id;
	int r;

	make_frame(frame, sizeof(frame));
	r = pcapng_writer_open_path(path, REF_APP, &w);
	if (r < 0)
		return r;
	r = pcapng_add_interface(w, &eth, &id);
	t0 = now_ns();
	for (unsigned i = 0; i < n && r == 0; i++)
		r = pcapng_write_packet(w, id, REF_TS0 + i, frame, sizeof(frame), sizeof(frame),
					&meta);
	if (r == 0)
		r = pcapng_writer_flush(w);
	printf("%-28s %u packets of 128 B + comment + pid/tid: %.0f ns/packet\n", label, n,
	       (double)(now_ns() - t0) / n);
	pcapng_writer_close(w);
	return r;
}

static int mode_bench(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/bench.pcapng", dir);
	CHECK(bench_one("/dev/null", 1000000, "write-through (/dev/null)") == 0);
	CHECK(bench_one(path, 1000000, "buffered (regular file)") == 0);
	unlink(path);
	return test_summary();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : NULL;

	if (strcmp(mode, "stdout") == 0)
		return mode_stdout();
	if (!arg) {
		fprintf(stderr,
			"usage: %s write FILE | stdout | limits DIR | secrets DIR | fifo DIR | "
			"enospc FILE | shortwrite DIR | bench DIR\n",
			argv[0]);
		return 2;
	}
	if (strcmp(mode, "write") == 0)
		return mode_write(arg);
	if (strcmp(mode, "limits") == 0)
		return mode_limits(arg);
	if (strcmp(mode, "secrets") == 0)
		return mode_secrets(arg);
	if (strcmp(mode, "fifo") == 0)
		return mode_fifo(arg);
	if (strcmp(mode, "enospc") == 0)
		return mode_enospc(arg);
	if (strcmp(mode, "shortwrite") == 0)
		return mode_shortwrite(arg);
	if (strcmp(mode, "bench") == 0)
		return mode_bench(arg);
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
