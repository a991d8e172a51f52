/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the event record codec, the name tables and the golden
 * example of docs/event-format.md.
 *
 * Usage: test_record GROUP [DOC]   GROUP: names roundtrip golden reject fuzz
 *        test_record --print-golden  (the doc's example table, generated)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "event/event.h"
#include "event/item.h"
#include "event/record.h"
#include "tests/unit/test_util.h"

#define FUZZ_SEED UINT64_C(0x9e3779b97f4a7c15)
#define FUZZ_ROUNDS 100000
#define DOC_MAX (256 * 1024)
#define GOLDEN_BEGIN "<!-- golden-record:begin -->"
#define GOLDEN_END "<!-- golden-record:end -->"
#define GOLDEN_BYTES_PER_LINE 8

/* The worked example of docs/event-format.md: a TCP_Connect of curl. The
 * doc's table must list exactly these bytes (checked by test_golden) and
 * record_encode must produce them. */
/* clang-format off */
static const char golden_hex[] =
	"4542011800010000000000920000000717979cfe3d85cd15"
	"0001000400001092"
	"0002000400001092"
	"00030004000003e8"
	"00040004000003e8"
	"000500046375726c"
	"0006000d2f7573722f62696e2f6375726c"
	"0008000400001004"
	"0009000462617368"
	"000e0004f0000000"
	"0011000106"
	"00120004c000020a"
	"00130004c6336407"
	"00140002d431"
	"0015000201bb"
	"001600040000055f";

static void golden_event(struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = EVENT_TCP_CONNECT;
	ev->seq = 7;
	ev->ts_ns = UINT64_C(1700000000123456789);
	ev->pid = ev->tid = 4242;
	ev->uid = ev->gid = 1000;
	strcpy(ev->comm, "curl");
	strcpy(ev->exe, "/usr/bin/curl");
	ev->ppid = 4100;
	strcpy(ev->pcomm, "bash");
	ev->netns = UINT32_C(4026531840);
	ev->proto = 6;
	ev->family = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", ev->laddr);
	inet_pton(AF_INET, "198.51.100.7", ev->raddr);
	ev->lport = 54321;
	ev->rport = 443;
	ev->latency_us = 1375;
	ev->present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_UID) |
		      EVENT_BIT(ITEM_GID) | EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_EXE) |
		      EVENT_BIT(ITEM_PPID) | EVENT_BIT(ITEM_PCOMM) | EVENT_BIT(ITEM_NETNS) |
		      EVENT_BIT(ITEM_PROTO) | EVENT_BIT(ITEM_LADDR) | EVENT_BIT(ITEM_RADDR) |
		      EVENT_BIT(ITEM_LPORT) | EVENT_BIT(ITEM_RPORT) | EVENT_BIT(ITEM_LATENCY_US);
}

/* Every item present, every string at its limit when long is set. */
static void full_event(struct event *ev, int family, bool long_strings)
{
	unsigned id;

	memset(ev, 0, sizeof(*ev));
	ev->type = EVENT_TCP_CLOSE;
	ev->seq = UINT32_C(0xfedcba98);
	ev->ts_ns = UINT64_C(0x0123456789abcdef);
	for (id = 1; id < ITEM_MAX; id++) {
		const struct item_codec *c = &item_codecs[id];
		char *field = (char *)ev + c->offset;

		if (c->kind == ITEM_KIND_INT) {
			/* distinct bytes in every position catch byte-order slips */
			item_store_int(ev, c, UINT64_C(0x8877665544332211) + id);
		} else if (c->kind == ITEM_KIND_STR) {
			size_t n = long_strings ? c->width - 1 : 3 + id % 5, i;

			for (i = 0; i < n; i++)
				field[i] = (char)('a' + (i + id) % 26);
			field[n] = '\0';
		}
		EVENT_SET(ev, id);
	}
	strcpy(ev->comm, long_strings ? "ünïcødé-ñam" : "we ird=%");
	ev->family = (uint8_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "10.1.2.3", ev->laddr);
		inet_pton(AF_INET, "10.4.5.6", ev->raddr);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", ev->laddr);
		inet_pton(AF_INET6, "fe80::1234:5678:9abc:def0", ev->raddr);
	}
}

static size_t hex_to_bytes(const char *hex, uint8_t *out, size_t size)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < size; hex += 2) {
		unsigned v;

		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* Decode buf from an exact-size heap copy, so any overread is an
 * out-of-bounds access that valgrind and ASan report. */
static int decode_exact(const uint8_t *buf, size_t len, struct event *ev, const char **reason)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		abort();
	if (len)
		memcpy(copy, buf, len);
	r = record_decode(copy, len, ev, reason);
	free(copy);
	return r;
}

static void test_names(void)
{
	char small[5], big[32];
	unsigned id;

	CHECK_STR(event_type_name(EVENT_TCP_CONNECT), "TCP_Connect");
	CHECK_STR(event_type_name(EVENT_TCP_CONNECT_FAILED), "TCP_Connect_Failed");
	CHECK_STR(event_type_name(EVENT_UDP_OPEN), "UDP_Open");
	CHECK_STR(event_type_name(0), NULL);
	CHECK_STR(event_type_name(EVENT_TYPE_MAX), NULL);
	for (id = 1; id < EVENT_TYPE_MAX; id++)
		CHECK_EQ_U64(event_type_from_name(event_type_name(id)), id);
	CHECK_EQ_U64(event_type_from_name("tcp_connect"), 0);
	CHECK_EQ_U64(event_type_from_name(NULL), 0);

	for (id = 1; id < ITEM_MAX; id++) {
		CHECK(event_item_name(id) != NULL);
		CHECK(item_codecs[id].kind != ITEM_KIND_UNKNOWN);
	}
	CHECK_STR(event_item_name(ITEM_ERROR), "errno");
	CHECK_STR(event_item_name(ITEM_SOCK_COOKIE), "socket_cookie");
	CHECK_STR(event_item_name(ITEM_NAMESPACE), "namespace");
	CHECK_STR(event_item_name(0), NULL);
	CHECK_STR(event_item_name(ITEM_MAX), NULL);

	CHECK(!event_copy_str(small, sizeof(small), "abcd", 4));
	CHECK_STR(small, "abcd");
	CHECK(event_copy_str(small, sizeof(small), "abcde", 5));
	CHECK_STR(small, "abcd");
	/* NUL-padded kernel buffers stop at the NUL */
	CHECK(!event_copy_str(small, sizeof(small), "ab\0zzzzzz", 9));
	CHECK_STR(small, "ab");
	CHECK(!event_copy_str(small, sizeof(small), "abcdef", 0));
	CHECK_STR(small, "");
	/* a cut never splits a UTF-8 sequence: "aé" + "€" = 61 c3a9 e282ac */
	CHECK(event_copy_str(small, sizeof(small), "a\xc3\xa9\xe2\x82\xac", 6));
	CHECK_STR(small, "a\xc3\xa9");
	CHECK(event_copy_str(small, sizeof(small), "abc\xc3\xa9", 5));
	CHECK_STR(small, "abc");
	CHECK(event_copy_str(small, sizeof(small), "ab\xf0\x9f\x98\x80", 6));
	CHECK_STR(small, "ab");
	/* not UTF-8: continuation bytes without a lead are cut plainly */
	CHECK(event_copy_str(small, sizeof(small), "\x80\x80\x80\x80\x80\x80", 6));
	CHECK_EQ_U64(strlen(small), 4);
	CHECK(event_copy_str(big, 1, "x", 1));
	CHECK_STR(big, "");
	CHECK(event_copy_str(big, 0, "x", 1));
}

static bool roundtrip_one(const struct event *ev, const char *what)
{
	uint8_t buf[RECORD_MAX_LEN], again[RECORD_MAX_LEN];
	struct event out;
	const char *reason = NULL;
	int len, len2;

	len = record_encode(ev, buf, sizeof(buf));
	if (!CHECK(len >= (int)RECORD_HEADER_LEN)) {
		fprintf(stderr, "  %s: encode returned %d\n", what, len);
		return false;
	}
	CHECK_EQ_U64(record_peek_length(buf, (size_t)len), len);
	if (!CHECK(decode_exact(buf, (size_t)len, &out, &reason) == 0)) {
		fprintf(stderr, "  %s: rejected: %s\n", what, reason);
		return false;
	}
	if (!CHECK(memcmp(&out, ev, sizeof(out)) == 0))
		fprintf(stderr, "  %s: decoded event differs\n", what);
	CHECK_EQ_U64(out.present, ev->present);
	CHECK_STR(out.comm, ev->comm);
	CHECK_STR(out.cmdline, ev->cmdline);
	CHECK_EQ_U64(out.family, ev->family);
	CHECK_EQ_U64(out.bytes_received, ev->bytes_received);
	len2 = record_encode(&out, again, sizeof(again));
	CHECK(len2 == len && memcmp(buf, again, (size_t)len) == 0);
	return true;
}

static void test_roundtrip(void)
{
	uint8_t buf[RECORD_MAX_LEN], guard[64 + RECORD_HEADER_LEN + 64];
	struct event ev, out;
	int len, n;

	full_event(&ev, AF_INET, false);
	roundtrip_one(&ev, "full IPv4");
	full_event(&ev, AF_INET6, false);
	roundtrip_one(&ev, "full IPv6");
	full_event(&ev, AF_INET6, true);
	roundtrip_one(&ev, "full IPv6, strings at their limits");
	/* the largest record of today's model, as docs/event-format.md says */
	CHECK_EQ_U64(record_encode(&ev, buf, sizeof(buf)), 4477);

	/* the encoder writes big-endian at the documented widths */
	full_event(&ev, AF_INET, false);
	len = record_encode(&ev, buf, sizeof(buf));
	CHECK(len > 0 && memcmp(buf + RECORD_HEADER_LEN, "\x00\x01\x00\x04\x44\x33\x22\x12", 8) == 0);

	/* minimal: header only, unknown type kept as a number */
	memset(&ev, 0, sizeof(ev));
	ev.type = 999;
	ev.ts_ns = 1;
	roundtrip_one(&ev, "minimal");
	len = record_encode(&ev, buf, sizeof(buf));
	CHECK_EQ_U64(len, RECORD_HEADER_LEN);

	/* only one address: its length alone sets the family */
	memset(&ev, 0, sizeof(ev));
	ev.family = AF_INET6;
	ev.raddr[15] = 1;
	EVENT_SET(&ev, ITEM_RADDR);
	roundtrip_one(&ev, "raddr only");

	/* strings longer than the model's limit are truncated on decode */
	{
		static const char item[] = "\x00\x05\x00\x14"
					   "abcdefghijklmnopqrst";
		size_t rec_len = RECORD_HEADER_LEN + sizeof(item) - 1;

		memset(&ev, 0, sizeof(ev));
		len = record_encode(&ev, buf, sizeof(buf));
		memcpy(buf + len, item, sizeof(item) - 1);
		buf[8] = 0, buf[9] = 0, buf[10] = 0, buf[11] = (uint8_t)rec_len;
		CHECK(decode_exact(buf, rec_len, &out, NULL) == 0);
		CHECK_STR(out.comm, "abcdefghijklmnop");
		CHECK(EVENT_HAS(&out, ITEM_COMM));
	}

	/* encoder: addresses need a family */
	memset(&ev, 0, sizeof(ev));
	EVENT_SET(&ev, ITEM_LADDR);
	CHECK_EQ_U64(record_encode(&ev, buf, sizeof(buf)), -EINVAL);

	/* encoder: every size too small is -ENOSPC and nothing is written
	 * past it (guard bytes after the given size stay untouched) */
	full_event(&ev, AF_INET6, false);
	len = record_encode(&ev, buf, sizeof(buf));
	for (n = 0; n < len; n++) {
		uint8_t *b = malloc((size_t)n + sizeof(guard));
		int r;

		memset(b, 0xa5, (size_t)n + sizeof(guard));
		r = record_encode(&ev, b, (size_t)n);
		memset(guard, 0xa5, sizeof(guard));
		if (!CHECK(r == -ENOSPC && memcmp(b + n, guard, sizeof(guard)) == 0))
			fprintf(stderr, "  size %d: %d\n", n, r);
		free(b);
	}
	CHECK_EQ_U64(record_encode(&ev, buf, (size_t)len), len);

	/* stream framing */
	CHECK_EQ_U64(record_peek_length(buf, 12), len);
	CHECK_EQ_U64(record_peek_length(buf, 11), -EBADMSG);
	buf[0] ^= 1;
	CHECK_EQ_U64(record_peek_length(buf, 12), -EBADMSG);
	buf[0] ^= 1;
	buf[8] = 0, buf[9] = 0, buf[10] = 0, buf[11] = 23;
	CHECK_EQ_U64(record_peek_length(buf, 12), -EBADMSG);
	buf[10] = 0x40, buf[11] = 1;
	CHECK_EQ_U64(record_peek_length(buf, 12), -EBADMSG);
	buf[11] = 0;
	CHECK_EQ_U64(record_peek_length(buf, 12), RECORD_MAX_LEN);
}

/* The annotation of one value for the doc's table. */
static void describe_value(unsigned id, const uint8_t *v, size_t len, char *out, size_t size)
{
	const struct item_codec *c = id < ITEM_MAX ? &item_codecs[id] : NULL;
	uint64_t x = 0;
	size_t i;

	if (!c || c->kind == ITEM_KIND_UNKNOWN) {
		snprintf(out, size, "unknown item");
	} else if (c->kind == ITEM_KIND_INT) {
		for (i = 0; i < len; i++)
			x = x << 8 | v[i];
		snprintf(out, size, "%s = %" PRIu64, event_item_name(id), x);
	} else if (c->kind == ITEM_KIND_STR) {
		snprintf(out, size, "%s = \"%.*s\"", event_item_name(id), (int)len, (const char *)v);
	} else {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(len == 4 ? AF_INET : AF_INET6, v, a, sizeof(a));
		snprintf(out, size, "%s = %s", event_item_name(id), a);
	}
}

static void print_row(size_t off, const uint8_t *b, size_t n, const char *meaning)
{
	char hex[GOLDEN_BYTES_PER_LINE * 3 + 1] = "";
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(hex + i * 3, "%02x%s", b[i], i + 1 < n ? " " : "");
	printf("| %04zx | %-*s | %s |\n", off, GOLDEN_BYTES_PER_LINE * 3 - 1, hex, meaning);
}

/* Bytes of one field, wrapped at GOLDEN_BYTES_PER_LINE per row. */
static void print_field(const uint8_t *rec, size_t off, size_t n, const char *meaning)
{
	size_t done = 0;

	do {
		size_t k = n - done < GOLDEN_BYTES_PER_LINE ? n - done : GOLDEN_BYTES_PER_LINE;

		print_row(off + done, rec + off + done, k, done ? "(continued)" : meaning);
		done += k;
	} while (done < n);
}

static int print_golden(void)
{
	uint8_t rec[RECORD_MAX_LEN];
	char meaning[256];
	struct event ev;
	size_t pos;
	int len;

	golden_event(&ev);
	len = record_encode(&ev, rec, sizeof(rec));
	if (len < 0)
		return 1;
	printf("%s\n", GOLDEN_BEGIN);
	printf("| offset | bytes | meaning |\n|---|---|---|\n");
	print_field(rec, 0, 2, "magic 0x4542 (\"EB\")");
	print_field(rec, 2, 1, "version 1");
	print_field(rec, 3, 1, "header length 24");
	snprintf(meaning, sizeof(meaning), "event type %u (%s)", ev.type, event_type_name(ev.type));
	print_field(rec, 4, 2, meaning);
	print_field(rec, 6, 2, "flags 0");
	snprintf(meaning, sizeof(meaning), "total length %d", len);
	print_field(rec, 8, 4, meaning);
	snprintf(meaning, sizeof(meaning), "sequence number %u", ev.seq);
	print_field(rec, 12, 4, meaning);
	snprintf(meaning, sizeof(meaning), "timestamp %" PRIu64 " ns (2023-11-14 22:13:20.123456789 UTC)",
		 ev.ts_ns);
	print_field(rec, 16, 8, meaning);
	for (pos = RECORD_HEADER_LEN; pos < (size_t)len;) {
		unsigned id = (unsigned)(rec[pos] << 8 | rec[pos + 1]);
		size_t vlen = (size_t)(rec[pos + 2] << 8 | rec[pos + 3]);

		snprintf(meaning, sizeof(meaning), "item id %u (%s), value length %zu", id,
			 event_item_name(id), vlen);
		print_field(rec, pos, 4, meaning);
		describe_value(id, rec + pos + 4, vlen, meaning, sizeof(meaning));
		print_field(rec, pos + 4, vlen, meaning);
		pos += 4 + vlen;
	}
	printf("%s\n", GOLDEN_END);
	return 0;
}

/* The bytes of the doc's table: rows "| offset | hex bytes | meaning |"
 * between the markers; offsets must run on without gaps. */
static bool doc_golden_bytes(const char *doc_path, uint8_t *out, size_t size, size_t *ret_len)
{
	FILE *f = fopen(doc_path, "r");
	char line[512];
	bool inside = false, ok = false;
	size_t n = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned off, byte;
		char *p;
		int used;

		if (strstr(line, GOLDEN_BEGIN)) {
			inside = true;
			continue;
		}
		if (strstr(line, GOLDEN_END)) {
			ok = inside;
			break;
		}
		if (!inside || sscanf(line, "| %x |%n", &off, &used) != 1)
			continue;
		if (off != n) {
			fprintf(stderr, "doc row at offset %04x, expected %04zx\n", off, n);
			break;
		}
		p = line + used;
		while (n < size && sscanf(p, " %2x%n", &byte, &used) == 1 && used == 3) {
			out[n++] = (uint8_t)byte;
			p += used;
		}
	}
	fclose(f);
	*ret_len = n;
	return ok;
}

/* The doc also shows the record as one hex string: the test's own copy. */
static bool doc_contains(const char *doc_path, const char *needle)
{
	FILE *f = fopen(doc_path, "r");
	char *text = malloc(DOC_MAX + 1);
	bool found = false;
	size_t n;

	if (f && text) {
		n = fread(text, 1, DOC_MAX, f);
		text[n] = '\0';
		found = strstr(text, needle) != NULL;
	}
	if (f)
		fclose(f);
	free(text);
	return found;
}

static void test_golden(const char *doc_path)
{
	uint8_t expect[RECORD_MAX_LEN], got[RECORD_MAX_LEN], doc[RECORD_MAX_LEN];
	size_t expect_len = hex_to_bytes(golden_hex, expect, sizeof(expect)), doc_len = 0;
	struct event ev, out;
	int len;

	golden_event(&ev);
	len = record_encode(&ev, got, sizeof(got));
	CHECK_EQ_U64(len, expect_len);
	CHECK_EQ_U64(expect_len * 2, strlen(golden_hex));
	if (!CHECK(len == (int)expect_len && memcmp(got, expect, expect_len) == 0)) {
		int i;

		fprintf(stderr, "  encoder produced: ");
		for (i = 0; i < len; i++)
			fprintf(stderr, "%02x", got[i]);
		fprintf(stderr, "\n");
	}
	CHECK(record_decode(expect, expect_len, &out, NULL) == 0 && memcmp(&out, &ev, sizeof(ev)) == 0);

	/* the doc's path is an argument: ctest passes the source tree's copy */
	if (!CHECK(doc_path != NULL))
		return;
	CHECK(doc_golden_bytes(doc_path, doc, sizeof(doc), &doc_len));
	CHECK(doc_contains(doc_path, golden_hex));
	CHECK_EQ_U64(doc_len, expect_len);
	CHECK(doc_len == expect_len && memcmp(doc, expect, expect_len) == 0);
}

struct reject_case {
	const char *name;
	const char *hex; /* the whole record */
	const char *reason;
};
/* clang-format on */

/* Header of a record of total length L (hex, 4 bytes) with the given
 * version and header length bytes. */
#define HDR(ver, hlen, total)                                                                      \
	"4542" ver hlen "0001"                                                                     \
	"0000" total "00000001"                                                                    \
	"0000000000000001"

/* clang-format off */
static const struct reject_case reject_cases[] = {
	{ "empty", "", "truncated header" },
	{ "23 bytes", "4542011800010000000000180000000100000000000000", "truncated header" },
	{ "bad magic", "4543011800010000000000180000000100000000000000000001", "bad magic" },
	{ "version 2", HDR("02", "18", "00000018"), "unsupported version 2" },
	{ "version 0", HDR("00", "18", "00000018"), "unsupported version 0" },
	{ "version 255", HDR("ff", "18", "00000018"), "unsupported version 255" },
	{ "header length 23", HDR("01", "17", "00000018"), "header length < 24" },
	{ "header length past end", HDR("01", "20", "00000018"),
	  "header length larger than total length" },
	{ "total too small", HDR("01", "18", "00000017"),
	  "total length does not match the buffer length" },
	{ "total too large", HDR("01", "18", "00000019"),
	  "total length does not match the buffer length" },
	{ "total over max", HDR("01", "18", "00004001"), "total length larger than RECORD_MAX_LEN" },
	{ "item header truncated", HDR("01", "18", "0000001b") "000100", "item header truncated" },
	{ "item value past end", HDR("01", "18", "0000001e") "000100040000", "item value past the end" },
	{ "pid 3 bytes", HDR("01", "18", "0000001f") "00010003000000", "item pid: integer of the wrong width" },
	{ "proto 2 bytes", HDR("01", "18", "0000001e") "001100020006", "item proto: integer of the wrong width" },
	{ "lport 4 bytes", HDR("01", "18", "00000020") "0014000400000050", "item lport: integer of the wrong width" },
	{ "cgroup_id 4 bytes", HDR("01", "18", "00000020") "000c000400000050",
	  "item cgroup_id: integer of the wrong width" },
	{ "errno empty", HDR("01", "18", "0000001c") "001b0000", "item errno: integer of the wrong width" },
	{ "laddr 5 bytes", HDR("01", "18", "00000021") "001200050a00000100", "item laddr: address length is not 4 or 16" },
	{ "raddr empty", HDR("01", "18", "0000001c") "00130000", "item raddr: address length is not 4 or 16" },
	{ "mixed families", HDR("01", "18", "00000034") "001200040a000001" "0013001000000000000000000000000000000001",
	  "LADDR and RADDR of different families" },
	{ "comm with NUL", HDR("01", "18", "00000020") "0005000461006200", "item comm: string contains NUL" },
	{ "host with NUL", HDR("01", "18", "0000001d") "0021000100", "item host: string contains NUL" },
	{ NULL, NULL, NULL },
};
/* clang-format on */

struct accept_case {
	const char *name;
	const char *hex;
};

/* clang-format off */
static const struct accept_case accept_cases[] = {
	{ "unknown type", "4542011803e7000000000018000000010000000000000001" },
	{ "flags ignored", "454201180001ffff00000018000000010000000000000001" },
	{ "longer header skipped", "4542011c0001000000000024000000010000000000000001deadbeef" "0001000400000005" },
	{ "unknown item skipped", HDR("01", "18", "0000002b") "003f0003abcdef" "ffff0000" "0001000400000005" },
	{ "duplicate: last wins", HDR("01", "18", "00000044") "0001000400000004" "001200040a000001"
	  "0012001000000000000000000000000000000001" "0001000400000005" },
	{ NULL, NULL },
};
/* clang-format on */

static void test_reject(void)
{
	const struct reject_case *rc;
	const struct accept_case *ac;
	uint8_t buf[RECORD_MAX_LEN + 8];
	struct event ev, untouched;
	unsigned v;

	for (rc = reject_cases; rc->name; rc++) {
		size_t len = hex_to_bytes(rc->hex, buf, sizeof(buf));
		const char *reason = NULL;
		int r;

		CHECK_EQ_U64(len * 2, strlen(rc->hex));
		memset(&ev, 0x5a, sizeof(ev));
		memcpy(&untouched, &ev, sizeof(ev));
		r = decode_exact(buf, len, &ev, &reason);
		if (!CHECK(r == -EBADMSG))
			fprintf(stderr, "  case \"%s\" was accepted\n", rc->name);
		CHECK_STR(reason, rc->reason);
		CHECK(memcmp(&ev, &untouched, sizeof(ev)) == 0);
	}
	/* the version is named for every value */
	for (v = 0; v < 256; v++) {
		char want[32];
		const char *reason = NULL;

		if (v == RECORD_VERSION)
			continue;
		hex_to_bytes(HDR("01", "18", "00000018"), buf, sizeof(buf));
		buf[2] = (uint8_t)v;
		snprintf(want, sizeof(want), "unsupported version %u", v);
		CHECK(record_decode(buf, RECORD_HEADER_LEN, &ev, &reason) == -EBADMSG);
		CHECK_STR(reason, want);
	}
	/* a buffer longer than RECORD_MAX_LEN, consistent total: too large */
	{
		const char *reason = NULL;

		memset(buf, 0, sizeof(buf));
		hex_to_bytes(HDR("01", "18", "00004008"), buf, sizeof(buf));
		CHECK(record_decode(buf, RECORD_MAX_LEN + 8, &ev, &reason) == -EBADMSG);
		CHECK_STR(reason, "total length larger than RECORD_MAX_LEN");
	}

	for (ac = accept_cases; ac->name; ac++) {
		size_t len = hex_to_bytes(ac->hex, buf, sizeof(buf));
		const char *reason = NULL;

		CHECK_EQ_U64(len * 2, strlen(ac->hex));
		if (!CHECK(decode_exact(buf, len, &ev, &reason) == 0))
			fprintf(stderr, "  case \"%s\": %s\n", ac->name, reason);
	}
	hex_to_bytes(accept_cases[0].hex, buf, sizeof(buf));
	CHECK(record_decode(buf, RECORD_HEADER_LEN, &ev, NULL) == 0 && ev.type == 999 &&
	      ev.present == 0 && ev.seq == 1 && ev.ts_ns == 1);
	hex_to_bytes(accept_cases[2].hex, buf, sizeof(buf));
	CHECK(record_decode(buf, 36, &ev, NULL) == 0 && ev.pid == 5 &&
	      ev.present == EVENT_BIT(ITEM_PID));
	hex_to_bytes(accept_cases[3].hex, buf, sizeof(buf));
	CHECK(record_decode(buf, 43, &ev, NULL) == 0 && ev.pid == 5 &&
	      ev.present == EVENT_BIT(ITEM_PID));
	hex_to_bytes(accept_cases[4].hex, buf, sizeof(buf));
	CHECK(record_decode(buf, 68, &ev, NULL) == 0 && ev.pid == 5 && ev.family == AF_INET6 &&
	      ev.laddr[15] == 1 && ev.laddr[0] == 0);
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64*: deterministic across runs and machines */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

/* Decode twice (same verdict and reason), and re-encode what was accepted:
 * the result must decode to the same event. */
static void fuzz_one(const uint8_t *buf, size_t len, unsigned *accepted)
{
	struct event a, b;
	const char *ra = NULL, *rb = NULL;
	uint8_t re[RECORD_MAX_LEN];
	int r1, r2, n;

	r1 = decode_exact(buf, len, &a, &ra);
	r2 = decode_exact(buf, len, &b, &rb);
	if (!test_count(r1 == r2 && (r1 == 0 || r1 == -EBADMSG) && ra == rb &&
			(r1 == 0 || (ra && *ra)))) {
		fprintf(stderr, "fuzz: inconsistent verdict %d/%d\n", r1, r2);
		return;
	}
	if (r1 != 0)
		return;
	(*accepted)++;
	n = record_encode(&a, re, sizeof(re));
	if (!test_count(n > 0 && record_decode(re, (size_t)n, &b, NULL) == 0 &&
			memcmp(&a, &b, sizeof(a)) == 0))
		fprintf(stderr, "fuzz: accepted record does not round-trip\n");
}

static void test_fuzz(void)
{
	uint8_t valid[RECORD_MAX_LEN], buf[RECORD_MAX_LEN + 64];
	unsigned failed_before = test_failed, accepted = 0, i;
	struct event ev;
	size_t len, cut;

	full_event(&ev, AF_INET6, false);
	len = (size_t)record_encode(&ev, valid, sizeof(valid));

	/* every truncation is rejected, and for the right reason */
	for (cut = 0; cut < len; cut++) {
		const char *reason = NULL;

		CHECK(decode_exact(valid, cut, &ev, &reason) == -EBADMSG);
		CHECK_STR(reason, cut < RECORD_HEADER_LEN
				      ? "truncated header"
				      : "total length does not match the buffer length");
	}

	rng_state = FUZZ_SEED;
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		uint64_t r = rng_next();
		unsigned k, flips = 1 + (unsigned)(r & 3);
		size_t n = len;

		memcpy(buf, valid, len);
		for (k = 0; k < flips; k++) {
			uint64_t x = rng_next();
			size_t at = (size_t)(x >> 32) % n;

			switch ((x >> 8) & 3) {
			case 0:
				buf[at] ^= (uint8_t)(1u << (x & 7));
				break;
			case 1:
				buf[at] = (uint8_t)x;
				break;
			case 2:
				/* aim at the header and the item framing too */
				buf[(x >> 16) % 28] = (uint8_t)x;
				break;
			default:
				buf[at] = (x & 1) ? 0xff : 0x00;
				break;
			}
		}
		/* now and then resize the buffer, fixing the total to match half of those times */
		if ((r >> 8) % 4 == 0) {
			n = (size_t)((r >> 16) % (len + 40));
			if (n > len)
				memset(buf + len, (int)(r >> 40), n - len);
			if ((r >> 12) & 1 && n >= 12) {
				buf[8] = (uint8_t)(n >> 24), buf[9] = (uint8_t)(n >> 16);
				buf[10] = (uint8_t)(n >> 8), buf[11] = (uint8_t)n;
			}
		}
		fuzz_one(buf, n, &accepted);
	}
	CHECK_EQ_U64(test_failed, failed_before);
	/* the mutations must exercise both verdicts to mean anything */
	CHECK(accepted > FUZZ_ROUNDS / 20 && accepted < FUZZ_ROUNDS * 19 / 20);
	printf("fuzz: %u of %u mutations accepted\n", accepted, FUZZ_ROUNDS);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "all";
	bool all = strcmp(group, "all") == 0;

	if (strcmp(group, "--print-golden") == 0)
		return print_golden();
	if (all || strcmp(group, "names") == 0)
		test_names();
	if (all || strcmp(group, "roundtrip") == 0)
		test_roundtrip();
	if (all || strcmp(group, "golden") == 0)
		test_golden(argc > 2 ? argv[2] : NULL);
	if (all || strcmp(group, "reject") == 0)
		test_reject();
	if (all || strcmp(group, "fuzz") == 0)
		test_fuzz();
	if (test_passed + test_failed == 0) {
		fprintf(stderr, "unknown group %s\n", group);
		return 2;
	}
	return test_summary();
}
