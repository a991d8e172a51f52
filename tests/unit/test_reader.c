/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the capture file reader (pcapng/reader): files from our
 * writer, hand-built pcap and pcapng files (both byte orders, several
 * sections, every timestamp resolution kind, every packet block kind and
 * skipped blocks), truncation at every offset, bad input with its reason,
 * mutation fuzzing, pipes; and a dump mode for the shell tests.
 *
 *   test_reader unit          every C check
 *   test_reader fuzz [N]      N mutated files (default 20000)
 *   test_reader write FILE    the writer reference file (for tcpdump/tshark)
 *   test_reader dump FILE [--no-ts]
 *        one line per packet: "iface linktype ts_ns caplen len hash pid/tid
 *        comment" (hash: FNV-1a 64 of the bytes; "-" for no pid/tid or no
 *        comment; --no-ts leaves out ts_ns); exit 1
 *        with "error: REASON" on stderr when the file is bad
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcapng/reader.h"
#include "pcapng/writer.h"
#include "test_util.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define MAX_EXPECT 64
#define MAX_BOUNDS 64

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* ---- a byte builder for hand-made files ---- */

struct bb {
	uint8_t *p;
	size_t len, cap;
	bool be;		   /* write integers big-endian */
	size_t bounds[MAX_BOUNDS]; /* offsets where a block or record ends */
	unsigned n_bounds;
};

static void bb_need(struct bb *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	while (b->len + n > b->cap)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		abort();
}

static void put_bytes(struct bb *b, const void *v, size_t n)
{
	bb_need(b, n);
	if (n)
		memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put_uint(struct bb *b, uint64_t v, unsigned width)
{
	uint8_t tmp[8];

	for (unsigned i = 0; i < width; i++) {
		unsigned shift = b->be ? 8 * (width - 1 - i) : 8 * i;

		tmp[i] = (uint8_t)(v >> shift);
	}
	put_bytes(b, tmp, width);
}

#define put8(b, v) put_uint(b, v, 1)
#define put16(b, v) put_uint(b, v, 2)
#define put32(b, v) put_uint(b, v, 4)
#define put64(b, v) put_uint(b, v, 8)

static void pad4(struct bb *b)
{
	while (b->len % 4)
		put8(b, 0);
}

static void set32(struct bb *b, size_t at, uint32_t v)
{
	size_t save = b->len;

	b->len = at;
	put32(b, v);
	b->len = save;
}

static size_t block_begin(struct bb *b, uint32_t type)
{
	size_t start = b->len;

	put32(b, type);
	put32(b, 0); /* length, set at the end */
	return start;
}

static void block_end(struct bb *b, size_t start)
{
	uint32_t total;

	pad4(b);
	total = (uint32_t)(b->len - start + 4);
	set32(b, start + 4, total);
	put32(b, total);
	if (b->n_bounds < MAX_BOUNDS)
		b->bounds[b->n_bounds++] = b->len;
}

static void opt(struct bb *b, uint16_t code, const void *v, uint16_t len)
{
	put16(b, code);
	put16(b, len);
	put_bytes(b, v, len);
	pad4(b);
}

static void opt_end(struct bb *b)
{
	put16(b, 0);
	put16(b, 0);
}

static void shb(struct bb *b, bool be, uint16_t major)
{
	size_t s;

	b->be = be;
	s = block_begin(b, 0x0A0D0D0A);
	put32(b, 0x1A2B3C4D);
	put16(b, major);
	put16(b, 0);
	put64(b, UINT64_MAX);
	opt(b, 1, "section comment", 15);
	opt_end(b);
	block_end(b, s);
}

/* IDB with optional name, tsresol (< 0: none), tsoffset (has_off). */
static void idb(struct bb *b, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol,
		bool has_off, int64_t off)
{
	size_t s = block_begin(b, 1);

	put16(b, linktype);
	put16(b, 0);
	put32(b, snaplen);
	if (name)
		opt(b, 2, name, (uint16_t)strlen(name));
	if (tsresol >= 0) {
		uint8_t v = (uint8_t)tsresol;

		opt(b, 9, &v, 1);
	}
	if (has_off) {
		put16(b, 14);
		put16(b, 8);
		put64(b, (uint64_t)off);
	}
	opt_end(b);
	block_end(b, s);
}

static void frame_bytes(uint8_t *f, uint32_t n, uint8_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

static void epb(struct bb *b, uint32_t if_id, uint64_t units, const uint8_t *data, uint32_t caplen,
		uint32_t len, const char *comment, bool pid, uint32_t p, uint32_t t)
{
	size_t s = block_begin(b, 6);

	put32(b, if_id);
	put32(b, (uint32_t)(units >> 32));
	put32(b, (uint32_t)units);
	put32(b, caplen);
	put32(b, len);
	put_bytes(b, data, caplen);
	pad4(b);
	if (comment || pid) {
		if (comment)
			opt(b, 1, comment, (uint16_t)strlen(comment));
		if (pid) {
			put16(b, 8);
			put16(b, 8);
			put32(b, p);
			put32(b, t);
		}
		opt_end(b);
	}
	block_end(b, s);
}

static void opb(struct bb *b, uint16_t if_id, uint64_t units, const uint8_t *data, uint32_t caplen,
		uint32_t len, const char *comment)
{
	size_t s = block_begin(b, 2);

	put16(b, if_id);
	put16(b, 0); /* drops */
	put32(b, (uint32_t)(units >> 32));
	put32(b, (uint32_t)units);
	put32(b, caplen);
	put32(b, len);
	put_bytes(b, data, caplen);
	pad4(b);
	if (comment) {
		opt(b, 1, comment, (uint16_t)strlen(comment));
		opt_end(b);
	}
	block_end(b, s);
}

static void spb(struct bb *b, const uint8_t *data, uint32_t len)
{
	size_t s = block_begin(b, 3);

	put32(b, len);
	put_bytes(b, data, len);
	block_end(b, s);
}

static void other_block(struct bb *b, uint32_t type, uint32_t body)
{
	size_t s = block_begin(b, type);

	for (uint32_t i = 0; i < body; i++)
		put8(b, (uint8_t)i);
	block_end(b, s);
}

/* ---- expected packets ---- */

struct expect {
	uint32_t iface;
	int linktype;
	bool has_ts;
	uint64_t ts_ns;
	uint32_t caplen, len;
	uint64_t hash;
	const char *comment;
	bool has_pid;
	uint32_t pid, tid;
};

struct fixture {
	struct bb b;
	struct expect exp[MAX_EXPECT];
	unsigned n;
};

static void expect(struct fixture *fx, uint32_t iface, int linktype, bool has_ts, uint64_t ts,
		   const uint8_t *data, uint32_t caplen, uint32_t len, const char *comment,
		   bool has_pid, uint32_t pid, uint32_t tid)
{
	fx->exp[fx->n++] =
	    (struct expect){iface,   linktype, has_ts, ts, caplen, len, fnv(data, caplen),
			    comment, has_pid,  pid,    tid};
}

/* Section 1 little-endian, section 2 big-endian, every block kind. */
static void build_pcapng(struct fixture *fx)
{
	struct bb *b = &fx->b;
	uint8_t f[300];

	shb(b, false, 1);
	idb(b, 1, 0, "eth-us", -1, false, 0);	/* microseconds by default */
	idb(b, 101, 0, "raw-ns", 9, true, 100); /* ns, +100 s */
	other_block(b, 4, 12);			/* NRB: skipped */
	frame_bytes(f, 60, 1);
	epb(b, 0, 1700000000123456ull, f, 60, 60, "hello", true, 4242, 4243);
	expect(fx, 0, 1, true, 1700000000123456000ull, f, 60, 60, "hello", true, 4242, 4243);
	frame_bytes(f, 41, 2);
	epb(b, 1, 5, f, 41, 1500, NULL, false, 0, 0);
	expect(fx, 1, 101, true, 100000000005ull, f, 41, 1500, NULL, false, 0, 0);
	other_block(b, 5, 16);		/* ISB */
	other_block(b, 0x00000BAD, 9);	/* custom */
	other_block(b, 0x40000BAD, 0);	/* custom, do not copy */
	other_block(b, 0x7eadbeef, 20); /* unknown */
	frame_bytes(f, 33, 3);
	opb(b, 0, 1700000001000001ull, f, 33, 33, "old block");
	expect(fx, 0, 1, true, 1700000001000001000ull, f, 33, 33, "old block", false, 0, 0);
	frame_bytes(f, 70, 4);
	spb(b, f, 70);
	expect(fx, 0, 1, false, 0, f, 70, 70, NULL, false, 0, 0);
	frame_bytes(f, 0, 5);
	epb(b, 0, 0, f, 0, 0, NULL, false, 0, 0); /* empty packet, time 0 */
	expect(fx, 0, 1, true, 0, f, 0, 0, NULL, false, 0, 0);

	shb(b, true, 1);
	idb(b, 1, 0, "eth-pow2", 0x80 | 20, false, 0); /* 2^-20 s */
	idb(b, 113, 64, NULL, 3, true, -5);	       /* ms, -5 s, snaplen 64 */
	frame_bytes(f, 54, 6);
	epb(b, 0, 3ull << 20 | 1ull << 19, f, 54, 54, NULL, true, 7, 8);
	expect(fx, 2, 1, true, 3500000000ull, f, 54, 54, NULL, true, 7, 8);
	other_block(b, 0x0000000A, 24); /* DSB */
	frame_bytes(f, 64, 7);
	epb(b, 1, 1700000000123ull, f, 64, 1000, "caf\xc3\xa9", false, 0, 0);
	expect(fx, 3, 113, true, 1700000000123000000ull - 5000000000ull, f, 64, 1000, "caf\xc3\xa9",
	       false, 0, 0);
	frame_bytes(f, 200, 8);
	spb(b, f, 200); /* interface 0 of section 2: no snaplen */
	expect(fx, 2, 1, false, 0, f, 200, 200, NULL, false, 0, 0);
}

/* pcap: be selects the byte order, ns the nanosecond magic. */
static void build_pcap(struct fixture *fx, bool be, bool ns)
{
	struct bb *b = &fx->b;
	uint8_t f[200];
	uint64_t unit = ns ? 1 : 1000;

	b->be = be;
	put32(b, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(b, 2);
	put16(b, 4);
	put32(b, 0);
	put32(b, 0);
	put32(b, 65535);
	put32(b, 1 | 0x04000000u); /* FCS bits above the link type */
	b->bounds[b->n_bounds++] = b->len;
	for (unsigned i = 0; i < 3; i++) {
		uint32_t n = 60 + 50 * i, frac = 123456 + i;

		frame_bytes(f, n, (uint8_t)i);
		put32(b, 1700000000 + i);
		put32(b, frac);
		put32(b, n);
		put32(b, n + i);
		put_bytes(b, f, n);
		b->bounds[b->n_bounds++] = b->len;
		expect(fx, 0, 1, true, (1700000000ull + i) * 1000000000ull + frac * unit, f, n,
		       n + i, NULL, false, 0, 0);
	}
}

/* A memfd holding bytes; the reader gets it with close_fd. */
static int memfd_with(const uint8_t *p, size_t n)
{
	int fd = memfd_create("reader-test", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static bool same_packet(const struct reader_packet *p, const struct expect *e)
{
	bool c_ok = e->comment ? p->comment && strcmp(p->comment, e->comment) == 0 : !p->comment;

	return p->interface == e->iface && p->linktype == e->linktype && p->has_ts == e->has_ts &&
	       p->ts_ns == e->ts_ns && p->caplen == e->caplen && p->len == e->len &&
	       fnv(p->data, p->caplen) == e->hash && c_ok && p->has_pid == e->has_pid &&
	       p->pid == e->pid && p->tid == e->tid;
}

/* Read all of fd; returns packets read (matching fx in order, else -1000)
 * and the final code in *ret_code, reason in reason. */
static int read_all(int fd, const struct fixture *fx, int *ret_code, char *reason, size_t rlen)
{
	struct reader *r;
	struct reader_packet p;
	int n = 0, rc;

	rc = reader_open_fd(fd, true, &r, reason, rlen);
	if (rc < 0) {
		close(fd);
		*ret_code = rc;
		return -1;
	}
	while ((rc = reader_next(r, &p)) == 1) {
		if (fx && ((unsigned)n >= fx->n || !same_packet(&p, &fx->exp[n]))) {
			fprintf(stderr, "packet %d differs (ts %llu caplen %u)\n", n,
				(unsigned long long)p.ts_ns, p.caplen);
			n = -1000;
			break;
		}
		n++;
	}
	*ret_code = rc;
	snprintf(reason, rlen, "%s", reader_error(r));
	reader_close(r);
	return n;
}

static void check_whole(const struct fixture *fx, const char *what)
{
	char reason[READER_REASON_MAX];
	int code, n;

	n = read_all(memfd_with(fx->b.p, fx->b.len), fx, &code, reason, sizeof(reason));
	if (!CHECK_EQ_U64(n, fx->n) || !CHECK_EQ_U64(code, 0))
		fprintf(stderr, "%s: %s\n", what, reason);
}

/* Every prefix: a clean end exactly at block boundaries (with the packets
 * before it), otherwise an error whose reason says "truncated". */
static void check_truncations(const struct fixture *fx, const char *what)
{
	unsigned bad = 0;

	for (size_t k = 0; k < fx->b.len; k++) {
		char reason[READER_REASON_MAX] = "";
		bool boundary = false;
		int code, n;

		for (unsigned i = 0; i < fx->b.n_bounds; i++)
			if (fx->b.bounds[i] == k)
				boundary = true;
		n = read_all(memfd_with(fx->b.p, k), NULL, &code, reason, sizeof(reason));
		if (n < 0) {
			/* open failed: only inside the file header */
			if (k >= fx->b.bounds[0] || !strstr(reason, k ? "truncated" : "empty")) {
				fprintf(stderr, "%s: prefix %zu: open failed: %s\n", what, k,
					reason);
				bad++;
			}
			continue;
		}
		if (boundary ? code != 0 : (code != -EBADMSG || !strstr(reason, "truncated"))) {
			fprintf(stderr, "%s: prefix %zu: code %d reason \"%s\"\n", what, k, code,
				reason);
			bad++;
		}
	}
	CHECK_EQ_U64(bad, 0);
}

/* ---- bad input, one defect each, with the reason expected ---- */

struct bad_case {
	const char *name;
	int code;
	const char *reason;
};

static void check_bad(const char *name, const struct bb *b, int want_code, const char *want)
{
	char reason[READER_REASON_MAX] = "";
	int code, n;

	n = read_all(memfd_with(b->p, b->len), NULL, &code, reason, sizeof(reason));
	(void)n;
	if (!CHECK(code == want_code && strstr(reason, want)))
		fprintf(stderr, "%s: code %d reason \"%s\", expected %d \"%s\"\n", name, code,
			reason, want_code, want);
}

static void test_bad(void)
{
	uint8_t f[64] = {0};
	struct bb b = {0};

	check_bad("empty", &b, -EBADMSG, "empty file");
	put_bytes(&b, "GET / HTTP/1.1\r\n", 16);
	check_bad("text", &b, -EBADMSG, "not a pcap or pcapng file (starts with 47 45 54 20)");
	b.len = 0;
	put_bytes(&b, "ab", 2);
	check_bad("two bytes", &b, -EBADMSG, "truncated file: 2 bytes");

	b.len = 0;
	put32(&b, 0xa1b2cd34);
	put_bytes(&b, f, 20);
	check_bad("kuznetsov", &b, -EPROTONOSUPPORT, "modified (Kuznetsov)");

	b.len = 0;
	put32(&b, 0xa1b2c3d4);
	put16(&b, 3);
	put16(&b, 0);
	put_bytes(&b, f, 16);
	check_bad("pcap 3.0", &b, -EPROTONOSUPPORT, "pcap version 3.0");

	b.len = 0;
	put32(&b, 0xa1b2c3d4);
	put_bytes(&b, f, 10);
	check_bad("pcap header cut", &b, -EBADMSG, "truncated pcap file header");

	b.len = 0;
	put32(&b, 0xa1b2c3d4);
	put16(&b, 2);
	put16(&b, 4);
	put_bytes(&b, f, 16);
	put32(&b, 1);
	put32(&b, 0);
	put32(&b, READER_BLOCK_MAX);
	put32(&b, 10);
	check_bad("pcap huge record", &b, -EBADMSG, "over the 16777200-byte limit");

	b.len = 0;
	shb(&b, false, 2);
	check_bad("pcapng 2.0", &b, -EPROTONOSUPPORT, "pcapng version 2.0");

	b.len = 0;
	shb(&b, false, 1);
	b.p[8] = 0x55; /* byte-order magic */
	check_bad("bad bom", &b, -EBADMSG, "bad byte-order magic");

	b.len = 0;
	shb(&b, false, 1);
	put32(&b, 1);
	put32(&b, 30);
	put_bytes(&b, f, 24);
	check_bad("len % 4", &b, -EBADMSG, "total length 30 is not a multiple of 4");

	b.len = 0;
	shb(&b, false, 1);
	put32(&b, 1);
	put32(&b, 8);
	put32(&b, 8);
	check_bad("len < 12", &b, -EBADMSG, "total length 8 is too small");

	b.len = 0;
	shb(&b, false, 1);
	put32(&b, 6);
	put32(&b, READER_BLOCK_MAX + 4);
	check_bad("huge block", &b, -EBADMSG, "over the 16777216-byte limit");

	b.len = 0;
	shb(&b, false, 1);
	{
		size_t s = block_begin(&b, 1);

		put32(&b, 1);
		put32(&b, 0);
		block_end(&b, s);
		b.p[b.len - 4] ^= 4; /* trailer */
	}
	check_bad("trailer", &b, -EBADMSG, "trailing length 16 differs from the leading 20");

	b.len = 0;
	shb(&b, false, 1);
	epb(&b, 0, 0, f, 10, 10, NULL, false, 0, 0);
	check_bad("no interface", &b, -EBADMSG, "names interface 0, but the section defines 0");

	b.len = 0;
	shb(&b, false, 1);
	idb(&b, 1, 0, NULL, -1, false, 0);
	shb(&b, false, 1); /* a new section forgets the interfaces */
	epb(&b, 0, 0, f, 10, 10, NULL, false, 0, 0);
	check_bad("interface of the previous section", &b, -EBADMSG,
		  "names interface 0, but the section defines 0");

	b.len = 0;
	shb(&b, false, 1);
	idb(&b, 1, 0, NULL, -1, false, 0);
	{
		size_t s = block_begin(&b, 6);

		put32(&b, 0);
		put32(&b, 0);
		put32(&b, 0);
		put32(&b, 100); /* caplen past the block */
		put32(&b, 100);
		put_bytes(&b, f, 8);
		block_end(&b, s);
	}
	check_bad("caplen", &b, -EBADMSG, "captured length 100 past the block end");

	b.len = 0;
	shb(&b, false, 1);
	idb(&b, 1, 0, NULL, -1, false, 0);
	{
		size_t s = block_begin(&b, 6);

		put32(&b, 0);
		put32(&b, 0);
		put32(&b, 0);
		put32(&b, 4);
		put32(&b, 4);
		put_bytes(&b, f, 4);
		put16(&b, 1);
		put16(&b, 40); /* comment longer than what is left */
		put_bytes(&b, "abcd", 4);
		block_end(&b, s);
	}
	check_bad("option", &b, -EBADMSG, "option 1 of 40 bytes runs past the block");

	b.len = 0;
	shb(&b, false, 1);
	{
		size_t s = block_begin(&b, 1);
		uint8_t two[2] = {6, 6};

		put16(&b, 1);
		put16(&b, 0);
		put32(&b, 0);
		opt(&b, 9, two, 2);
		block_end(&b, s);
	}
	check_bad("tsresol", &b, -EBADMSG, "if_tsresol of 2 bytes");

	b.len = 0;
	shb(&b, false, 1);
	idb(&b, 1, 0, NULL, 9, true, -10);
	epb(&b, 0, 5, f, 4, 4, NULL, false, 0, 0);
	check_bad("ts < 0", &b, -EBADMSG, "timestamp out of range");

	b.len = 0;
	shb(&b, false, 1);
	idb(&b, 1, 0, NULL, 0, false, 0); /* seconds */
	epb(&b, 0, UINT64_MAX / 2, f, 4, 4, NULL, false, 0, 0);
	check_bad("ts overflow", &b, -EBADMSG, "timestamp out of range");
	free(b.p);

	/* Read errors and open errors. */
	{
		char reason[READER_REASON_MAX];
		struct reader *r = NULL;
		int code;

		code = reader_open("/nonexistent/x.pcap", &r, reason, sizeof(reason));
		CHECK(code == -ENOENT && strstr(reason, "cannot open /nonexistent/x.pcap"));
		code = reader_open("/", &r, reason, sizeof(reason));
		if (!CHECK(code == -EISDIR && strstr(reason, "read error at offset 0")))
			fprintf(stderr, "dir: %d %s\n", code, reason);
	}
}

/* Extreme but valid timestamp resolutions. */
static void test_resolutions(void)
{
	static const struct {
		int tsresol;
		uint64_t units, ns;
	} cases[] = {
	    {0, 3, 3000000000ull},		    /* seconds */
	    {6, 1, 1000},			    /* us */
	    {9, 12345, 12345},			    /* ns */
	    {10, 12345, 1234},			    /* 100 ps */
	    {12, 1000000000000ull, 1000000000ull},  /* ps */
	    {19, UINT64_MAX, 1844674407ull},	    /* 10^-19 */
	    {100, UINT64_MAX, 0},		    /* 10^-100: below 1 ns */
	    {0x80, 2, 2000000000ull},		    /* 2^0 */
	    {0x80 | 30, 1ull << 30, 1000000000ull}, /* 2^-30 */
	    {0x80 | 127, UINT64_MAX, 0},	    /* 2^-127 */
	    {0x80 | 1, 3, 1500000000ull},	    /* 2^-1 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bb b = {0};
		struct reader *r;
		struct reader_packet p;
		uint8_t f[4] = {0};
		char reason[READER_REASON_MAX];

		shb(&b, i % 2 == 1, 1);
		idb(&b, 1, 0, NULL, cases[i].tsresol, false, 0);
		epb(&b, 0, cases[i].units, f, 4, 4, NULL, false, 0, 0);
		if (!CHECK(reader_open_fd(memfd_with(b.p, b.len), true, &r, reason,
					  sizeof(reason)) == 0))
			continue;
		if (CHECK(reader_next(r, &p) == 1) && !CHECK_EQ_U64(p.ts_ns, cases[i].ns))
			fprintf(stderr, "tsresol 0x%x\n", cases[i].tsresol);
		reader_close(r);
		free(b.p);
	}
}

/* A block larger than the read buffer, after a skipped larger one. */
static void test_big_blocks(void)
{
	const uint32_t big = 3u << 20;
	struct bb b = {0};
	struct reader *r;
	struct reader_packet p;
	uint8_t *f = malloc(big);
	char reason[READER_REASON_MAX];

	frame_bytes(f, big, 9);
	shb(&b, false, 1);
	idb(&b, 1, 0, NULL, 9, false, 0);
	other_block(&b, 0x00000BAD, 5u << 20);
	epb(&b, 0, 1, f, big, big, NULL, false, 0, 0);
	epb(&b, 0, 2, f, 10, 10, NULL, false, 0, 0);
	if (CHECK(reader_open_fd(memfd_with(b.p, b.len), true, &r, reason, sizeof(reason)) == 0)) {
		CHECK(reader_next(r, &p) == 1 && p.caplen == big &&
		      fnv(p.data, big) == fnv(f, big));
		CHECK(reader_next(r, &p) == 1 && p.caplen == 10 && p.ts_ns == 2);
		CHECK(reader_next(r, &p) == 0);
		reader_close(r);
	}
	free(f);
	free(b.p);
}

/* Our writer's output read back: every field, every interface. */
static void test_writer_roundtrip(const char *path)
{
	static const struct pcapng_interface ifs[] = {
	    {LINKTYPE_ETHERNET, 0, "veth-a", "Test veth", "tcp"},
	    {LINKTYPE_WIRESHARK_UPPER_PDU, 0, "ebpfevents", "eBPF Events", NULL},
	    {LINKTYPE_RAW, 128, "raw", NULL, NULL},
	};
	struct pcapng_writer *w;
	struct reader *r;
	struct reader_packet p;
	struct reader_interface ri;
	char reason[READER_REASON_MAX], comment[64];
	uint8_t f[3000];
	uint32_t ids[3];
	unsigned bad = 0, n = 0;
	int code;

	if (!CHECK(pcapng_writer_open_path(path, "test_reader", &w) == 0))
		return;
	for (unsigned i = 0; i < 3; i++)
		CHECK(pcapng_add_interface(w, &ifs[i], &ids[i]) == 0);
	srand(7);
	for (unsigned i = 0; i < 1000; i++) {
		uint32_t len = (uint32_t)rand() % sizeof(f), iface = i % 3;
		uint64_t ts = 1700000000000000000ull + (uint64_t)i * 1234567;

		frame_bytes(f, len, (uint8_t)i);
		snprintf(comment, sizeof(comment), "pkt %u \xe2\x9c\x93", i);
		if (iface == 1) {
			code = pcapng_write_event(w, ids[1], ts, f, len % 1000);
		} else {
			struct pcapng_packet_meta meta = {i % 2 ? comment : NULL, i % 4 == 0, i,
							  i + 1, 0};

			code = pcapng_write_packet(w, ids[iface], ts, f, len, len + i % 5, &meta);
		}
		CHECK(code == 0);
	}
	pcapng_writer_close(w);

	if (!CHECK(reader_open(path, &r, reason, sizeof(reason)) == 0)) {
		fprintf(stderr, "%s\n", reason);
		return;
	}
	CHECK(reader_format(r) == READER_FORMAT_PCAPNG);
	srand(7);
	while ((code = reader_next(r, &p)) == 1) {
		uint32_t len = (uint32_t)rand() % sizeof(f), iface = n % 3, caplen = len;
		uint64_t ts = 1700000000000000000ull + (uint64_t)n * 1234567;
		bool ok;

		frame_bytes(f, len, (uint8_t)n);
		snprintf(comment, sizeof(comment), "pkt %u \xe2\x9c\x93", n);
		if (iface == 1) {
			/* 12 bytes of exported-PDU tags, then the "record" */
			ok = p.caplen == 12 + len % 1000 && p.len == p.caplen &&
			     fnv(p.data + 12, len % 1000) == fnv(f, len % 1000) && !p.comment &&
			     !p.has_pid;
		} else {
			if (iface == 2 && caplen > 128)
				caplen = 128;
			ok = p.caplen == caplen && p.len == len + n % 5 &&
			     fnv(p.data, caplen) == fnv(f, caplen) &&
			     (n % 2 ? p.comment && !strcmp(p.comment, comment) : !p.comment) &&
			     p.has_pid == (n % 4 == 0) &&
			     (!p.has_pid || (p.pid == n && p.tid == n + 1));
		}
		ok = ok && p.ts_ns == ts && p.has_ts && p.interface == iface &&
		     p.linktype == ifs[iface].linktype;
		if (!ok && bad++ < 5)
			fprintf(stderr, "roundtrip packet %u differs\n", n);
		n++;
	}
	CHECK_EQ_U64(code, 0);
	CHECK_EQ_U64(n, 1000);
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(reader_interface_count(r), 3);
	if (CHECK(reader_get_interface(r, 0, &ri) == 0)) {
		CHECK_STR(ri.name, "veth-a");
		CHECK_STR(ri.description, "Test veth");
		CHECK_EQ_U64(ri.linktype, LINKTYPE_ETHERNET);
	}
	if (CHECK(reader_get_interface(r, 2, &ri) == 0)) {
		CHECK_STR(ri.name, "raw");
		CHECK_STR(ri.description, "");
		CHECK_EQ_U64(ri.snaplen, 128);
	}
	CHECK(reader_get_interface(r, 3, &ri) == -ENOENT);
	reader_close(r);
}

/* The same file through a pipe, written in small pieces. */
struct pipe_writer {
	const struct fixture *fx;
	int fd;
	bool ok;
};

/* Writes the fixture into the pipe in 7-byte pieces, pausing now and then,
 * so that the reader sees short reads. A thread, not a child process:
 * nothing of the test's heap outlives it. */
static void *pipe_writer_run(void *arg)
{
	struct pipe_writer *w = arg;

	w->ok = true;
	for (size_t i = 0; i < w->fx->b.len && w->ok; i += 7) {
		size_t k = w->fx->b.len - i < 7 ? w->fx->b.len - i : 7;

		w->ok = write(w->fd, w->fx->b.p + i, k) == (ssize_t)k;
		if (i % 70 == 0)
			usleep(100);
	}
	close(w->fd);
	return NULL;
}

static void test_pipe(const struct fixture *fx)
{
	char reason[READER_REASON_MAX];
	struct pipe_writer w = { .fx = fx };
	int fds[2], code, n;
	pthread_t tid;

	/* A reader that stops early closes its end: the writer gets EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (!CHECK(pipe(fds) == 0))
		return;
	w.fd = fds[1];
	if (!CHECK(pthread_create(&tid, NULL, pipe_writer_run, &w) == 0)) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	n = read_all(fds[0], fx, &code, reason, sizeof(reason));
	pthread_join(tid, NULL);
	CHECK(w.ok);
	CHECK_EQ_U64(n, fx->n);
	CHECK_EQ_U64(code, 0);
}

static void test_fixtures(void)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	static const struct {
		bool be, ns;
		const char *name;
	} pcaps[] = {
	    {false, false, "pcap us LE"},
	    {true, false, "pcap us BE"},
	    {false, true, "pcap ns LE"},
	    {true, true, "pcap ns BE"},
	};

	build_pcapng(fx);
	check_whole(fx, "pcapng");
	check_truncations(fx, "pcapng");
	test_pipe(fx);
	free(fx->b.p);
	for (size_t i = 0; i < sizeof(pcaps) / sizeof(pcaps[0]); i++) {
		memset(fx, 0, sizeof(*fx));
		build_pcap(fx, pcaps[i].be, pcaps[i].ns);
		check_whole(fx, pcaps[i].name);
		check_truncations(fx, pcaps[i].name);
		free(fx->b.p);
	}
	free(fx);
}

/* Mutations of the fixture: never a crash or a hang, always a reason. */
static void test_fuzz(unsigned rounds)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	unsigned no_reason = 0, runaway = 0;
	uint8_t *m;

	build_pcapng(fx);
	m = malloc(fx->b.len);
	srand(12345);
	for (unsigned i = 0; i < rounds; i++) {
		char reason[READER_REASON_MAX] = "";
		struct reader *r;
		struct reader_packet p;
		unsigned flips = 1 + (unsigned)rand() % 4, packets = 0;
		size_t len = fx->b.len;
		int code;

		memcpy(m, fx->b.p, len);
		for (unsigned k = 0; k < flips; k++) {
			size_t at = (size_t)rand() % len;

			if (rand() % 3 == 0 && at + 4 <= len) {
				/* an interesting 32-bit value: lengths live there */
				static const uint32_t vals[] = {
				    0, 1, 4, 12, 0xffffffff, 0x7fffffff, 0x1000000, 28};
				uint32_t v = vals[rand() % 8];

				memcpy(m + at, &v, 4);
			} else {
				m[at] ^= (uint8_t)(1u << (rand() % 8));
			}
		}
		if (rand() % 4 == 0)
			len = (size_t)rand() % len;
		code = reader_open_fd(memfd_with(m, len), true, &r, reason, sizeof(reason));
		if (code < 0) {
			if (!reason[0])
				no_reason++;
			continue;
		}
		while ((code = reader_next(r, &p)) == 1) {
			volatile uint64_t sink = fnv(p.data, p.caplen);

			(void)sink;
			if (p.comment)
				sink = strlen(p.comment);
			if (++packets > 1000) {
				runaway++;
				break;
			}
		}
		if (code < 0 && !reader_error(r)[0])
			no_reason++;
		reader_close(r);
	}
	CHECK_EQ_U64(no_reason, 0);
	CHECK_EQ_U64(runaway, 0);
	free(m);
	free(fx->b.p);
	free(fx);
}

static int dump(const char *path, bool no_ts)
{
	char reason[READER_REASON_MAX];
	struct reader *r;
	struct reader_packet p;
	int code;

	code = reader_open(path, &r, reason, sizeof(reason));
	if (code < 0) {
		fprintf(stderr, "error: %s\n", reason);
		return 1;
	}
	while ((code = reader_next(r, &p)) == 1) {
		printf("%u %d ", p.interface, p.linktype);
		if (!no_ts)
			printf("%llu ", (unsigned long long)p.ts_ns);
		printf("%u %u %016llx ", p.caplen, p.len,
		       (unsigned long long)fnv(p.data, p.caplen));
		if (p.has_pid)
			printf("%u/%u ", p.pid, p.tid);
		else
			printf("- ");
		printf("%s\n", p.comment ? p.comment : "-");
	}
	if (code < 0)
		fprintf(stderr, "error: %s\n", reader_error(r));
	reader_close(r);
	return code < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "unit";

	if (!strcmp(mode, "dump") && argc >= 3)
		return dump(argv[2], argc > 3 && !strcmp(argv[3], "--no-ts"));
	if (!strcmp(mode, "write") && argc == 3) {
		test_writer_roundtrip(argv[2]);
		return test_summary();
	}
	if (!strcmp(mode, "fuzz")) {
		test_fuzz(argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 20000);
		return test_summary();
	}
	if (!strcmp(mode, "unit")) {
		char path[] = "/tmp/test_reader.XXXXXX";
		int fd = mkstemp(path);

		if (fd < 0)
			return 1;
		close(fd);
		test_fixtures();
		test_bad();
		test_resolutions();
		test_big_blocks();
		test_writer_roundtrip(path);
		unlink(path);
		return test_summary();
	}
	fprintf(stderr, "usage: test_reader unit | fuzz [N] | write FILE | dump FILE [--no-ts]\n");
	return 2;
}
