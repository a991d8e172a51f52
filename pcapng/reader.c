/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture file reader: pcap and pcapng parsed from one read buffer, with
 * every length checked against the block that carries it.
 *
 * Formats as the pcap and pcapng specifications define them
 * (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng). A pcapng block is
 * read whole into the buffer before any field of it is looked at, so the
 * parsers below only ever see a complete block of known length.
 */
#include "pcapng/reader.h"
#include "util/error.h"

#include <byteswap.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* pcap file header magics, as read in host order. */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_MODIFIED 0xa1b2cd34u /* Kuznetsov's patched libpcap */
#define PCAP_HEADER_LEN 24u
#define PCAP_RECORD_LEN 16u
#define PCAP_VERSION_MAJOR 2u
/* The link type is the low 16 bits; higher bits carry FCS information. */
#define PCAP_LINKTYPE_MASK 0xffffu

/* pcapng block types. */
#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 0x00000001u
#define BLOCK_OPB 0x00000002u /* obsolete Packet Block */
#define BLOCK_SPB 0x00000003u
#define BLOCK_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define PCAPNG_VERSION_MAJOR 1u

#define BLOCK_HEAD 8u /* type, total length */
#define BLOCK_TAIL 4u /* total length again */
#define BLOCK_MIN (BLOCK_HEAD + BLOCK_TAIL)
#define SHB_FIXED 16u /* byte-order magic, major, minor, section length */
#define IDB_FIXED 8u  /* linktype, reserved, snaplen */
#define EPB_FIXED 20u /* interface id, ts high, ts low, caplen, origlen */
#define OPB_FIXED 20u /* interface id (16), drops (16), ts high, ts low, caplen, origlen */
#define SPB_FIXED 4u  /* origlen */
#define OPT_HEAD 4u

/* Option codes used here (meaning depends on the block). */
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define IF_TSOFFSET 14
#define EPB_PROCESSID_THREADID 8

#define TSRESOL_DEFAULT 6 /* microseconds when an IDB says nothing */
#define TSRESOL_POW2 0x80u

/* Bytes asked of read() at once, and the buffer's starting size. */
#define READ_CHUNK (1u << 20)
/* Comments: the option length is 16 bits. */
#define COMMENT_MAX 65535u

#define PAD4(x) (((uint64_t)(x) + 3u) & ~(uint64_t)3u)
#define NSEC_PER_SEC 1000000000ull

/* How to turn a timestamp in an interface's units into ns. */
struct ts_conv {
	bool pow2;
	uint8_t exp;	  /* units are 10^-exp or 2^-exp seconds */
	int64_t offset_s; /* if_tsoffset */
};

struct reader_if {
	int linktype;
	uint32_t snaplen;
	uint32_t section, id;
	struct ts_conv ts;
	char *name, *description; /* NULL when absent */
};

struct reader {
	int fd;
	bool close_fd;
	enum reader_format format;
	bool swapped; /* file (or current section) byte order is not ours */
	bool eof;     /* read() returned 0 */
	int error;    /* sticky */
	char reason[READER_REASON_MAX];

	uint8_t *buf;
	size_t cap, start, end; /* unread data is buf[start..end) */
	uint64_t offset;	/* file offset of buf[start] */

	/* pcap */
	bool pcap_ns;

	/* pcapng */
	uint32_t section;	/* current section, 0 for the first */
	uint32_t section_first; /* index of the current section's interface 0 */
	struct reader_if *ifs;
	uint32_t n_ifs, cap_ifs;
	char *comment; /* COMMENT_MAX + 1 bytes */
};

/* Every later call returns the first failure; reader_error() says it. */
#define fail(r, code, ...) \
	((r)->error = error_set((r)->reason, sizeof((r)->reason), (code), __VA_ARGS__))

static uint16_t get16(const struct reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return r->swapped ? bswap_16(v) : v;
}

static uint32_t get32(const struct reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return r->swapped ? bswap_32(v) : v;
}

static uint64_t get64(const struct reader *r, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return r->swapped ? bswap_64(v) : v;
}

static size_t avail(const struct reader *r)
{
	return r->end - r->start;
}

/* Make need bytes available at buf + start. Returns 0, 1 when the file
 * ends first (avail() tells how much there is), or a negative errno. */
static int fill(struct reader *r, size_t need)
{
	if (avail(r) >= need)
		return 0;
	if (r->cap - r->start < need) {
		/* Slide what is left to the front; grow only for a block
		 * larger than the buffer. need is bounded by the callers
		 * (READER_BLOCK_MAX at most). */
		if (r->start) {
			memmove(r->buf, r->buf + r->start, avail(r));
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap < need) {
			size_t cap = r->cap;
			uint8_t *p;

			while (cap < need)
				cap *= 2;
			p = realloc(r->buf, cap);
			if (!p)
				return fail(r, -ENOMEM, "out of memory for a block of %zu bytes",
					    need);
			r->buf = p;
			r->cap = cap;
		}
	}
	while (avail(r) < need && !r->eof) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(r, -errno, "read error at offset %llu: %s",
				    (unsigned long long)(r->offset + avail(r)), strerror(errno));
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return avail(r) >= need ? 0 : 1;
}

static void consume(struct reader *r, size_t n)
{
	r->start += n;
	r->offset += n;
}

/* ---- timestamps ---- */

/* units in the interface's resolution → ns since the epoch. */
static int ts_to_ns(struct reader *r, const struct ts_conv *c, uint64_t units, uint64_t at,
		    uint64_t *ret)
{
	unsigned __int128 ns;
	__int128 total;

	if (!c->pow2 && c->exp == 9) {
		ns = units;
	} else if (c->pow2) {
		ns = ((unsigned __int128)units * NSEC_PER_SEC) >> c->exp;
	} else if (c->exp < 9) {
		uint64_t mult = 1;

		for (unsigned i = c->exp; i < 9; i++)
			mult *= 10;
		ns = (unsigned __int128)units * mult;
	} else {
		unsigned __int128 div = 1;

		/* 10^(exp-9) beyond 10^20 makes any 64-bit count 0 ns. */
		for (unsigned i = 9; i < c->exp && div <= UINT64_MAX; i++)
			div *= 10;
		ns = div > UINT64_MAX ? 0 : units / div;
	}
	total = (__int128)ns + (__int128)c->offset_s * (__int128)NSEC_PER_SEC;
	if (total < 0 || total > (__int128)UINT64_MAX)
		return fail(r, -EBADMSG, "packet at offset %llu: timestamp out of range",
			    (unsigned long long)at);
	*ret = (uint64_t)total;
	return 0;
}

/* ---- pcap ---- */

static int pcap_open(struct reader *r, uint32_t magic)
{
	const uint8_t *h;
	struct reader_if *ifc;
	uint16_t major, minor;
	int rc;

	rc = fill(r, PCAP_HEADER_LEN);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(r, -EBADMSG,
			    "truncated pcap file header: %u bytes needed, %zu in the file",
			    PCAP_HEADER_LEN, avail(r));
	h = r->buf + r->start;
	r->swapped = magic == bswap_32(PCAP_MAGIC_US) || magic == bswap_32(PCAP_MAGIC_NS);
	r->pcap_ns = magic == PCAP_MAGIC_NS || magic == bswap_32(PCAP_MAGIC_NS);
	major = get16(r, h + 4);
	minor = get16(r, h + 6);
	if (major != PCAP_VERSION_MAJOR)
		return fail(r, -EPROTONOSUPPORT, "pcap version %u.%u is not supported (only 2.x)",
			    major, minor);

	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return fail(r, -ENOMEM, "out of memory");
	ifc->snaplen = get32(r, h + 16);
	ifc->linktype = (int)(get32(r, h + 20) & PCAP_LINKTYPE_MASK);
	ifc->ts.exp = r->pcap_ns ? 9 : 6;
	r->ifs = ifc;
	r->n_ifs = r->cap_ifs = 1;
	r->format = READER_FORMAT_PCAP;
	consume(r, PCAP_HEADER_LEN);
	return 0;
}

static int pcap_next(struct reader *r, struct reader_packet *ret)
{
	uint32_t sec, frac, caplen, len;
	uint64_t at = r->offset;
	const uint8_t *h;
	int rc;

	rc = fill(r, PCAP_RECORD_LEN);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (avail(r) == 0)
			return 0;
		return fail(
		    r, -EBADMSG,
		    "truncated record header at offset %llu: %u bytes needed, %zu in the file",
		    (unsigned long long)at, PCAP_RECORD_LEN, avail(r));
	}
	h = r->buf + r->start;
	sec = get32(r, h);
	frac = get32(r, h + 4);
	caplen = get32(r, h + 8);
	len = get32(r, h + 12);
	if (caplen > READER_BLOCK_MAX - PCAP_RECORD_LEN)
		return fail(r, -EBADMSG,
			    "record at offset %llu: captured length %u over the %u-byte limit",
			    (unsigned long long)at, caplen, READER_BLOCK_MAX - PCAP_RECORD_LEN);
	rc = fill(r, PCAP_RECORD_LEN + (size_t)caplen);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(r, -EBADMSG,
			    "truncated record at offset %llu: %u bytes of packet data announced, "
			    "%zu in the file",
			    (unsigned long long)at, caplen, avail(r) - PCAP_RECORD_LEN);
	memset(ret, 0, sizeof(*ret));
	ret->interface = 0;
	ret->linktype = r->ifs[0].linktype;
	ret->has_ts = true;
	/* A fraction over one second is out of spec; adding it as is keeps
	 * the packet where its writer meant it. */
	ret->ts_ns = (uint64_t)sec * NSEC_PER_SEC + (r->pcap_ns ? frac : (uint64_t)frac * 1000u);
	ret->data = r->buf + r->start + PCAP_RECORD_LEN;
	ret->caplen = caplen;
	ret->len = len;
	ret->offset = at;
	consume(r, PCAP_RECORD_LEN + (size_t)caplen);
	return 1;
}

/* ---- pcapng ---- */

/* One block, complete in the buffer. */
struct block {
	uint32_t type;
	uint32_t len;	     /* total length */
	const uint8_t *body; /* after the 8-byte header */
	uint32_t body_len;   /* len - 12 */
	uint64_t offset;
};

/* Option walker over opts[0..len): calls back per option; stops at
 * opt_endofopt or the end. Returns 0 or -EBADMSG with a reason. */
typedef int (*option_fn)(struct reader *r, const struct block *b, uint16_t code,
			 const uint8_t *value, uint16_t len, void *ctx);

static int walk_options(struct reader *r, const struct block *b, uint32_t from, option_fn fn,
			void *ctx)
{
	uint32_t pos = from;

	while (pos < b->body_len) {
		uint16_t code, len;
		int rc;

		if (b->body_len - pos < OPT_HEAD)
			return fail(r, -EBADMSG,
				    "block at offset %llu: option header cut by the block end",
				    (unsigned long long)b->offset);
		code = get16(r, b->body + pos);
		len = get16(r, b->body + pos + 2);
		pos += OPT_HEAD;
		if (code == OPT_ENDOFOPT)
			break;
		if (len > b->body_len - pos)
			return fail(
			    r, -EBADMSG,
			    "block at offset %llu: option %u of %u bytes runs past the block",
			    (unsigned long long)b->offset, code, len);
		rc = fn(r, b, code, b->body + pos, len, ctx);
		if (rc < 0)
			return rc;
		/* The padding may be missing after the last option only. */
		pos += (uint32_t)PAD4(len) < b->body_len - pos ? (uint32_t)PAD4(len)
							       : b->body_len - pos;
	}
	return 0;
}

static char *copy_name(const uint8_t *value, uint16_t len)
{
	size_t n = strnlen((const char *)value, len);
	char *s;

	if (n > READER_NAME_MAX)
		n = READER_NAME_MAX;
	s = malloc(n + 1);
	if (s) {
		memcpy(s, value, n);
		s[n] = '\0';
	}
	return s;
}

static int idb_option(struct reader *r, const struct block *b, uint16_t code, const uint8_t *value,
		      uint16_t len, void *ctx)
{
	struct reader_if *ifc = ctx;
	char **name = NULL;

	switch (code) {
	case IF_NAME:
		name = &ifc->name;
		break;
	case IF_DESCRIPTION:
		name = &ifc->description;
		break;
	case IF_TSRESOL:
		if (len != 1)
			return fail(r, -EBADMSG,
				    "interface block at offset %llu: if_tsresol of %u bytes",
				    (unsigned long long)b->offset, len);
		ifc->ts.pow2 = (value[0] & TSRESOL_POW2) != 0;
		ifc->ts.exp = value[0] & (uint8_t)~TSRESOL_POW2;
		return 0;
	case IF_TSOFFSET:
		if (len != 8)
			return fail(r, -EBADMSG,
				    "interface block at offset %llu: if_tsoffset of %u bytes",
				    (unsigned long long)b->offset, len);
		ifc->ts.offset_s = (int64_t)get64(r, value);
		return 0;
	default:
		return 0;
	}
	if (*name) /* the first one wins */
		return 0;
	*name = copy_name(value, len);
	return *name ? 0 : fail(r, -ENOMEM, "out of memory");
}

static int pcapng_idb(struct reader *r, const struct block *b)
{
	struct reader_if *ifc;
	int rc;

	if (b->body_len < IDB_FIXED)
		return fail(r, -EBADMSG, "interface block at offset %llu: %u bytes, too short",
			    (unsigned long long)b->offset, b->len);
	if (r->n_ifs >= READER_INTERFACES_MAX)
		return fail(r, -EBADMSG, "interface block at offset %llu: over %u interfaces",
			    (unsigned long long)b->offset, READER_INTERFACES_MAX);
	if (r->n_ifs == r->cap_ifs) {
		uint32_t cap = r->cap_ifs ? r->cap_ifs * 2 : 8;
		struct reader_if *p;

		if (cap > READER_INTERFACES_MAX)
			cap = READER_INTERFACES_MAX;
		p = realloc(r->ifs, cap * sizeof(*p));
		if (!p)
			return fail(r, -ENOMEM, "out of memory");
		r->ifs = p;
		r->cap_ifs = cap;
	}
	ifc = &r->ifs[r->n_ifs];
	memset(ifc, 0, sizeof(*ifc));
	ifc->linktype = get16(r, b->body);
	ifc->snaplen = get32(r, b->body + 4);
	ifc->section = r->section;
	ifc->id = r->n_ifs - r->section_first;
	ifc->ts.exp = TSRESOL_DEFAULT;
	/* Counted before the options so that a failure frees the names. */
	r->n_ifs++;
	rc = walk_options(r, b, IDB_FIXED, idb_option, ifc);
	return rc;
}

struct packet_opts {
	struct reader_packet *pkt;
	char *comment;
};

static int packet_option(struct reader *r, const struct block *b, uint16_t code,
			 const uint8_t *value, uint16_t len, void *ctx)
{
	struct packet_opts *o = ctx;

	if (code == OPT_COMMENT && !o->pkt->comment) {
		size_t n = strnlen((const char *)value, len);

		memcpy(o->comment, value, n);
		o->comment[n] = '\0';
		o->pkt->comment = o->comment;
	} else if (code == EPB_PROCESSID_THREADID && b->type == BLOCK_EPB &&
		   (len == 4 || len == 8)) {
		o->pkt->has_pid = true;
		o->pkt->pid = get32(r, value);
		o->pkt->tid = len == 8 ? get32(r, value + 4) : 0;
	}
	return 0;
}

/* The interface a packet block names, by its id inside the section. */
static int packet_interface(struct reader *r, const struct block *b, uint32_t id,
			    const struct reader_if **ret)
{
	uint32_t n = r->n_ifs - r->section_first;

	if (id >= n)
		return fail(
		    r, -EBADMSG,
		    "packet block at offset %llu names interface %u, but the section defines %u",
		    (unsigned long long)b->offset, id, n);
	*ret = &r->ifs[r->section_first + id];
	return 0;
}

/* EPB and OPB: fixed part, data, options. */
static int pcapng_packet(struct reader *r, const struct block *b, struct reader_packet *ret)
{
	const struct reader_if *ifc = NULL;
	struct packet_opts o = {.pkt = ret, .comment = r->comment};
	/* Both have the time stamp at 4, caplen at 12 and the original
	 * length at 16; an OPB's interface id is 16 bits, then a drop count. */
	uint32_t fixed = b->type == BLOCK_EPB ? EPB_FIXED : OPB_FIXED;
	uint32_t id, caplen;
	uint64_t units;
	int rc;

	if (b->body_len < fixed)
		return fail(r, -EBADMSG, "packet block at offset %llu: %u bytes, too short",
			    (unsigned long long)b->offset, b->len);
	id = b->type == BLOCK_EPB ? get32(r, b->body) : get16(r, b->body);
	rc = packet_interface(r, b, id, &ifc);
	if (rc < 0)
		return rc;
	caplen = get32(r, b->body + 12);
	if (caplen > b->body_len - fixed)
		return fail(r, -EBADMSG,
			    "packet block at offset %llu: captured length %u past the block end",
			    (unsigned long long)b->offset, caplen);
	memset(ret, 0, sizeof(*ret));
	units = (uint64_t)get32(r, b->body + 4) << 32 | get32(r, b->body + 8);
	rc = ts_to_ns(r, &ifc->ts, units, b->offset, &ret->ts_ns);
	if (rc < 0)
		return rc;
	ret->interface = (uint32_t)(ifc - r->ifs);
	ret->linktype = ifc->linktype;
	ret->has_ts = true;
	ret->data = b->body + fixed;
	ret->caplen = caplen;
	ret->len = get32(r, b->body + 16);
	ret->offset = b->offset;
	if (PAD4(caplen) < b->body_len - fixed)
		rc = walk_options(r, b, fixed + (uint32_t)PAD4(caplen), packet_option, &o);
	return rc < 0 ? rc : 1;
}

static int pcapng_spb(struct reader *r, const struct block *b, struct reader_packet *ret)
{
	const struct reader_if *ifc = NULL;
	uint32_t len, caplen;
	int rc;

	if (b->body_len < SPB_FIXED)
		return fail(r, -EBADMSG, "simple packet block at offset %llu: %u bytes, too short",
			    (unsigned long long)b->offset, b->len);
	rc = packet_interface(r, b, 0, &ifc);
	if (rc < 0)
		return rc;
	len = get32(r, b->body);
	/* The captured length is not stored: the smallest of the original
	 * length, the snaplen and what the block holds. */
	caplen = b->body_len - SPB_FIXED;
	if (len < caplen)
		caplen = len;
	if (ifc->snaplen && ifc->snaplen < caplen)
		caplen = ifc->snaplen;
	memset(ret, 0, sizeof(*ret));
	ret->interface = (uint32_t)(ifc - r->ifs);
	ret->linktype = ifc->linktype;
	ret->data = b->body + SPB_FIXED;
	ret->caplen = caplen;
	ret->len = len;
	ret->offset = b->offset;
	return 1;
}

static int shb_parse(struct reader *r, const struct block *b)
{
	uint16_t major, minor;

	/* b->body starts at the byte-order magic, checked by the caller. */
	major = get16(r, b->body + 4);
	minor = get16(r, b->body + 6);
	if (major != PCAPNG_VERSION_MAJOR)
		return fail(
		    r, -EPROTONOSUPPORT,
		    "section at offset %llu: pcapng version %u.%u is not supported (only 1.x)",
		    (unsigned long long)b->offset, major, minor);
	return 0;
}

/* Read the next whole block into the buffer. Returns 1 with *b filled,
 * 0 at a clean end, or a negative errno. */
static int pcapng_read_block(struct reader *r, struct block *b)
{
	uint64_t at = r->offset;
	const uint8_t *h;
	uint32_t type, len, tail;
	int rc;

	rc = fill(r, BLOCK_HEAD);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (avail(r) == 0)
			return 0;
		return fail(
		    r, -EBADMSG,
		    "truncated block header at offset %llu: %u bytes needed, %zu in the file",
		    (unsigned long long)at, BLOCK_HEAD, avail(r));
	}
	h = r->buf + r->start;
	memcpy(&type, h, sizeof(type)); /* the SHB type reads the same both ways */
	if (type == BLOCK_SHB) {
		uint32_t magic;

		/* A new section may change the byte order: the magic after
		 * the header says which, before its length can be read. */
		rc = fill(r, BLOCK_HEAD + 4);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return fail(
			    r, -EBADMSG,
			    "truncated section header at offset %llu: %zu bytes in the file",
			    (unsigned long long)at, avail(r));
		h = r->buf + r->start;
		memcpy(&magic, h + BLOCK_HEAD, sizeof(magic));
		if (magic == BYTE_ORDER_MAGIC)
			r->swapped = false;
		else if (magic == bswap_32(BYTE_ORDER_MAGIC))
			r->swapped = true;
		else
			return fail(r, -EBADMSG,
				    "section header at offset %llu: bad byte-order magic 0x%08x",
				    (unsigned long long)at, magic);
	} else {
		type = get32(r, h);
	}
	len = get32(r, h + 4);
	if (len < BLOCK_MIN || (type == BLOCK_SHB && len < BLOCK_MIN + SHB_FIXED))
		return fail(r, -EBADMSG, "block at offset %llu: total length %u is too small",
			    (unsigned long long)at, len);
	if (len % 4)
		return fail(r, -EBADMSG,
			    "block at offset %llu: total length %u is not a multiple of 4",
			    (unsigned long long)at, len);
	if (len > READER_BLOCK_MAX)
		return fail(r, -EBADMSG,
			    "block at offset %llu: total length %u over the %u-byte limit",
			    (unsigned long long)at, len, READER_BLOCK_MAX);
	rc = fill(r, len);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(r, -EBADMSG,
			    "truncated block at offset %llu: %u bytes announced, %zu in the file",
			    (unsigned long long)at, len, avail(r));
	h = r->buf + r->start;
	tail = get32(r, h + len - BLOCK_TAIL);
	if (tail != len)
		return fail(r, -EBADMSG,
			    "block at offset %llu: trailing length %u differs from the leading %u",
			    (unsigned long long)at, tail, len);
	b->type = type;
	b->len = len;
	b->body = h + BLOCK_HEAD;
	b->body_len = len - BLOCK_MIN;
	b->offset = at;
	return 1;
}

static int pcapng_next(struct reader *r, struct reader_packet *ret)
{
	for (;;) {
		struct block b;
		int rc = pcapng_read_block(r, &b);

		if (rc <= 0)
			return rc;
		/* The block stays in the buffer until the next fill, which
		 * happens only in the next call: packet data may point in. */
		consume(r, b.len);
		switch (b.type) {
		case BLOCK_SHB:
			rc = shb_parse(r, &b);
			if (rc < 0)
				return rc;
			r->section++; /* the first SHB was read by reader_open */
			r->section_first = r->n_ifs;
			break;
		case BLOCK_IDB:
			rc = pcapng_idb(r, &b);
			if (rc < 0)
				return rc;
			break;
		case BLOCK_EPB:
		case BLOCK_OPB:
			return pcapng_packet(r, &b, ret);
		case BLOCK_SPB:
			return pcapng_spb(r, &b, ret);
		default:
			/* ISB, NRB, DSB, custom and unknown blocks: the
			 * specification says to skip what one does not use. */
			break;
		}
	}
}

/* ---- API ---- */

int reader_open_fd(int fd, bool close_fd, struct reader **ret, char *err, size_t errlen)
{
	struct reader *r;
	uint32_t magic;
	int rc;

	if (fd < 0 || !ret)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->buf = malloc(READ_CHUNK);
	r->comment = malloc(COMMENT_MAX + 1);
	if (!r->buf || !r->comment) {
		rc = fail(r, -ENOMEM, "out of memory");
		goto fail;
	}
	r->cap = READ_CHUNK;

	rc = fill(r, sizeof(magic));
	if (rc < 0)
		goto fail;
	if (rc > 0) {
		if (avail(r))
			rc = fail(r, -EBADMSG, "truncated file: %zu bytes, not a capture file",
				  avail(r));
		else
			rc = fail(r, -EBADMSG, "empty file");
		goto fail;
	}
	memcpy(&magic, r->buf, sizeof(magic));
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS || magic == bswap_32(PCAP_MAGIC_US) ||
	    magic == bswap_32(PCAP_MAGIC_NS)) {
		rc = pcap_open(r, magic);
	} else if (magic == BLOCK_SHB) {
		struct block b;

		r->format = READER_FORMAT_PCAPNG;
		rc = pcapng_read_block(r, &b);
		if (rc > 0) {
			rc = shb_parse(r, &b);
			consume(r, b.len);
		}
	} else if (magic == PCAP_MAGIC_MODIFIED || magic == bswap_32(PCAP_MAGIC_MODIFIED)) {
		rc = fail(r, -EPROTONOSUPPORT, "modified (Kuznetsov) pcap format is not supported");
	} else {
		rc =
		    fail(r, -EBADMSG, "not a pcap or pcapng file (starts with %02x %02x %02x %02x)",
			 r->buf[0], r->buf[1], r->buf[2], r->buf[3]);
	}
	if (rc < 0)
		goto fail;
	r->close_fd = close_fd;
	*ret = r;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", r->reason);
	r->close_fd = false; /* on failure the fd stays the caller's */
	reader_close(r);
	return rc;
}

int reader_open(const char *path, struct reader **ret, char *err, size_t errlen)
{
	int fd, rc;

	if (!path || !ret)
		return -EINVAL;
	if (strcmp(path, "-") == 0)
		return reader_open_fd(STDIN_FILENO, false, ret, err, errlen);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = reader_open_fd(fd, true, ret, err, errlen);
	if (rc < 0)
		close(fd);
	return rc;
}

int reader_next(struct reader *r, struct reader_packet *ret)
{
	if (!r || !ret)
		return -EINVAL;
	if (r->error)
		return r->error;
	return r->format == READER_FORMAT_PCAP ? pcap_next(r, ret) : pcapng_next(r, ret);
}

const char *reader_error(const struct reader *r)
{
	return r && r->error ? r->reason : "";
}

enum reader_format reader_format(const struct reader *r)
{
	return r->format;
}

uint32_t reader_interface_count(const struct reader *r)
{
	return r ? r->n_ifs : 0;
}

int reader_get_interface(const struct reader *r, uint32_t idx, struct reader_interface *ret)
{
	const struct reader_if *ifc = NULL;

	if (!r || !ret)
		return -EINVAL;
	if (idx >= r->n_ifs)
		return -ENOENT;
	ifc = &r->ifs[idx];
	memset(ret, 0, sizeof(*ret));
	ret->linktype = ifc->linktype;
	ret->snaplen = ifc->snaplen;
	ret->section = ifc->section;
	ret->id = ifc->id;
	if (ifc->name)
		snprintf(ret->name, sizeof(ret->name), "%s", ifc->name);
	if (ifc->description)
		snprintf(ret->description, sizeof(ret->description), "%s", ifc->description);
	return 0;
}

struct reader *reader_close(struct reader *r)
{
	if (!r)
		return NULL;
	for (uint32_t i = 0; i < r->n_ifs; i++) {
		free(r->ifs[i].name);
		free(r->ifs[i].description);
	}
	free(r->ifs);
	free(r->buf);
	free(r->comment);
	if (r->close_fd)
		close(r->fd);
	free(r);
	return NULL;
}
