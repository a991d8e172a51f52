/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the merged-packet EPB comment (event/comment.h). */
#include <errno.h>
#include <stdlib.h>

#include "event/comment.h"
#include "event/item.h"
#include "tests/unit/test_util.h"

#define FUZZ_SEED UINT64_C(0x243f6a8885a308d3)
#define FUZZ_ROUNDS 20000

static void simple_pair(struct event *src, struct event *dst)
{
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	src->pid = 4242;
	strcpy(src->comm, "curl");
	src->present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_COMM);
	dst->pid = 80;
	dst->uid = 33;
	strcpy(dst->comm, "nginx");
	dst->present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_UID) | EVENT_BIT(ITEM_COMM);
}

/* Every comment item present, with strings full of bytes that need care. */
static void odd_event(struct event *ev, unsigned salt, bool at_limit)
{
	static const char odd[] = "a b=c%d\te\n\x01\x7f"
				  "\xc3\xa9\xe2\x82\xac"
				  "+ok/";
	unsigned id;

	memset(ev, 0, sizeof(*ev));
	for (id = 1; id < ITEM_MAX; id++) {
		const struct item_codec *c = &item_codecs[id];
		char *field = (char *)ev + c->offset;

		if (!(EVENT_COMMENT_ITEMS & EVENT_BIT(id)))
			continue;
		if (c->kind == ITEM_KIND_INT) {
			item_store_int(ev, c,
				       c->width == 8 ? UINT64_MAX - salt : UINT32_MAX - salt - id);
		} else if (at_limit) {
			size_t i;

			/* every byte needs %XX: the longest possible comment */
			for (i = 0; i < c->width - 1; i++)
				field[i] = (char)(0x80 + (i + salt) % 0x40);
			field[c->width - 1] = '\0';
		} else {
			snprintf(field, c->width, "%s%u", odd, id + salt);
		}
		EVENT_SET(ev, id);
	}
}

static void test_format(void)
{
	struct event src, dst;
	char buf[EVENT_COMMENT_MAX];
	int len, n;

	simple_pair(&src, &dst);
	len = event_comment_format(&src, &dst, buf, sizeof(buf));
	CHECK_STR(buf, "ebpf:1 src.pid=4242 src.comm=curl dst.pid=80 dst.uid=33 dst.comm=nginx");
	CHECK_EQ_U64(len, strlen(buf));
	CHECK_EQ_U64(event_comment_format(NULL, &dst, buf, sizeof(buf)), strlen(buf));
	CHECK_STR(buf, "ebpf:1 dst.pid=80 dst.uid=33 dst.comm=nginx");
	CHECK_EQ_U64(event_comment_format(NULL, NULL, buf, sizeof(buf)), 6);
	CHECK_STR(buf, "ebpf:1");

	/* items the comment does not carry stay out */
	src.lport = 1234;
	EVENT_SET(&src, ITEM_LPORT);
	CHECK_EQ_U64(event_comment_format(&src, NULL, buf, sizeof(buf)), strlen(buf));
	CHECK_STR(buf, "ebpf:1 src.pid=4242 src.comm=curl");

	/* percent-encoding of '%', ' ', '=', controls and non-ASCII */
	memset(&src, 0, sizeof(src));
	strcpy(src.cmdline, "a b=c%d\t\xc3\xa9~!");
	EVENT_SET(&src, ITEM_CMDLINE);
	event_comment_format(&src, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "ebpf:1 src.cmdline=a%20b%3Dc%25d%09%C3%A9~!");
	strcpy(src.cmdline, "");
	event_comment_format(&src, NULL, buf, sizeof(buf));
	CHECK_STR(buf, "ebpf:1 src.cmdline=");

	/* every size too small: -ENOSPC, no write past size */
	simple_pair(&src, &dst);
	len = event_comment_format(&src, &dst, buf, sizeof(buf));
	for (n = 0; n <= len; n++) {
		char *b = malloc((size_t)n + 16);

		memset(b, '#', (size_t)n + 16);
		CHECK_EQ_U64(event_comment_format(&src, &dst, b, (size_t)n), -ENOSPC);
		CHECK(memcmp(b + n, "################", 16) == 0);
		free(b);
	}
	CHECK_EQ_U64(event_comment_format(&src, &dst, buf, (size_t)len + 1), len);

	/* the worst case fits EVENT_COMMENT_MAX */
	odd_event(&src, 1, true);
	odd_event(&dst, 2, true);
	len = event_comment_format(&src, &dst, buf, sizeof(buf));
	CHECK(len > 0 && len < EVENT_COMMENT_MAX);
	printf("longest comment: %d bytes (EVENT_COMMENT_MAX %d)\n", len, EVENT_COMMENT_MAX);
}

static bool events_equal(const struct event *a, const struct event *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void test_roundtrip(void)
{
	static char buf[EVENT_COMMENT_MAX];
	static struct event src, dst, out_src, out_dst;
	const char *reason = NULL;
	int salt;

	for (salt = 0; salt < 3; salt++) {
		odd_event(&src, (unsigned)salt, salt == 2);
		odd_event(&dst, (unsigned)salt + 7, salt == 2);
		CHECK(event_comment_format(&src, &dst, buf, sizeof(buf)) > 0);
		/* nothing but printable ASCII in the line, one space per pair */
		CHECK(strspn(buf, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ") == strlen(buf));
		if (!CHECK(event_comment_parse(buf, &out_src, &out_dst, &reason) == 0))
			fprintf(stderr, "  rejected: %s\n", reason);
		CHECK(events_equal(&out_src, &src));
		CHECK(events_equal(&out_dst, &dst));
	}
	simple_pair(&src, &dst);
	event_comment_format(&src, &dst, buf, sizeof(buf));
	CHECK(event_comment_parse(buf, &out_src, NULL, NULL) == 0 && events_equal(&out_src, &src));
	CHECK(event_comment_parse(buf, NULL, &out_dst, NULL) == 0 && events_equal(&out_dst, &dst));
}

struct parse_case {
	const char *name;
	const char *comment;
	int result;
	const char *reason;
};

/* clang-format off */
static const struct parse_case parse_cases[] = {
	{ "no comment line", "captured at home", -ENOMSG, NULL },
	{ "empty", "", -ENOMSG, NULL },
	{ "newer version", "ebpf:2 src.pid=1", -ENOMSG, NULL },
	{ "tag prefix only", "ebpf:10 src.pid=1", -ENOMSG, NULL },
	{ "tag not at line start", "x ebpf:1 src.pid=1", -ENOMSG, NULL },
	{ "tag alone", "ebpf:1", 0, NULL },
	{ "second line", "user note\nebpf:1 src.pid=1", 0, NULL },
	{ "crlf", "ebpf:1 src.pid=1\r\nmore", 0, NULL },
	{ "unknown keys skipped", "ebpf:1 flow.id=9 src.lport=80 src.future=x src.=1 src.pid=1", 0, NULL },
	{ "pair without =", "ebpf:1 src.pid", -EBADMSG, "pair without '='" },
	{ "truncated percent", "ebpf:1 src.comm=ab%4", -EBADMSG, "truncated percent-encoding" },
	{ "bad percent", "ebpf:1 src.comm=ab%4g", -EBADMSG, "bad percent-encoding" },
	{ "NUL", "ebpf:1 dst.comm=a%00b", -EBADMSG, "value contains NUL" },
	{ "empty int", "ebpf:1 src.pid=", -EBADMSG, "integer value is empty" },
	{ "negative int", "ebpf:1 src.pid=-1", -EBADMSG, "integer value is not decimal" },
	{ "hex int", "ebpf:1 src.uid=0x10", -EBADMSG, "integer value is not decimal" },
	{ "u32 overflow", "ebpf:1 src.pid=4294967296", -EBADMSG, "integer value out of range" },
	{ "u64 overflow", "ebpf:1 src.cgroup_id=18446744073709551616", -EBADMSG,
	  "integer value out of range" },
	{ "u64 max", "ebpf:1 src.cgroup_id=18446744073709551615", 0, NULL },
	{ "long zeros", "ebpf:1 src.pid=000000000000000000000000001", -EBADMSG,
	  "integer value out of range" },
	{ NULL, NULL, 0, NULL },
};
/* clang-format on */

static void test_parse(void)
{
	const struct parse_case *pc;
	struct event src, dst, keep;
	char *big;

	for (pc = parse_cases; pc->name; pc++) {
		const char *reason = NULL;
		int r;

		memset(&src, 0x5a, sizeof(src));
		memcpy(&keep, &src, sizeof(src));
		r = event_comment_parse(pc->comment, &src, &dst, &reason);
		if (!CHECK(r == pc->result))
			fprintf(stderr, "  case \"%s\": %d (%s)\n", pc->name, r, reason);
		CHECK_STR(reason, pc->reason);
		if (r != 0)
			CHECK(memcmp(&src, &keep, sizeof(src)) == 0);
	}

	CHECK(
	    event_comment_parse("note\nebpf:1 src.pid=12 src.comm=a%20b dst.comm=%c3%a9 src.pid=13",
				&src, &dst, NULL) == 0);
	CHECK_EQ_U64(src.pid, 13); /* the last of a repeated key wins */
	CHECK_STR(src.comm, "a b");
	CHECK_STR(dst.comm, "\xc3\xa9"); /* lowercase hex is accepted */
	CHECK_EQ_U64(src.present, EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_COMM));
	CHECK_EQ_U64(dst.present, EVENT_BIT(ITEM_COMM));

	/* raw bytes a writer would have escaped are tolerated, separators are not */
	CHECK(event_comment_parse("ebpf:1  src.comm=\xc3\xa9=x\tdst.pid=7 ", &src, &dst, NULL) ==
	      0);
	CHECK_STR(src.comm, "\xc3\xa9=x");
	CHECK_EQ_U64(dst.pid, 7);

	/* a value longer than its field is truncated at a character boundary */
	CHECK(event_comment_parse("ebpf:1 src.comm=abcdefghijklmno%C3%A9z", &src, NULL, NULL) == 0);
	CHECK_STR(src.comm, "abcdefghijklmno");
	big = malloc(EVENT_COMMENT_MAX + 64);
	memset(big, 'x', EVENT_COMMENT_MAX + 63);
	big[EVENT_COMMENT_MAX + 63] = '\0';
	memcpy(big, "ebpf:1 src.cmdline=", 19);
	CHECK(event_comment_parse(big, &src, NULL, NULL) == -EBADMSG);
	big[EVENT_COMMENT_MAX - 1] = '\0';
	CHECK(event_comment_parse(big, &src, NULL, NULL) == 0);
	CHECK_EQ_U64(strlen(src.cmdline), EVENT_CMDLINE_MAX);
	free(big);
}

/* Compact tags: format and parse back, the tag's delimiters inside a name
 * escaped, and each malformed tag rejected with its reason. */
static void test_compact(void)
{
	static const struct {
		const char *comment, *reason;
	} bad[] = {
	    {"ebpf:1 src=curl#1f", "process tag without [pid]"},
	    {"ebpf:1 src=curl[12]", "process tag without #identity"},
	    {"ebpf:1 dst=curl[12]#", "process tag identity is not 1 to 16 hex digits"},
	    {"ebpf:1 dst=curl[12]#12345678901234567", "process tag identity is not 1 to 16 hex digits"},
	    {"ebpf:1 src=curl[12]#1g", "process tag identity is not 1 to 16 hex digits"},
	    {"ebpf:1 src=curl[1x]#1f", "integer value is not decimal"},
	    {"ebpf:1 src=curl[4294967296]#1f", "integer value out of range"},
	    {"ebpf:1 src=curl[12]web#1f", "process tag: text between [pid] and #identity without '@'"},
	    {"ebpf:1 src=cu%0g[12]#1f", "bad percent-encoding"},
	    {"ebpf:1 src=curl[12]@w%00#1f", "value contains NUL"},
	};
	struct event a, b, pa, pb;
	char buf[512];
	const char *reason;
	unsigned i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(a.comm, sizeof(a.comm), "a[1]#@ b%%");
	a.pid = 4242;
	a.identity = 0x1f3a0c;
	a.present = EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_IDENTITY);
	snprintf(b.comm, sizeof(b.comm), "nginx");
	snprintf(b.container, sizeof(b.container), "web");
	snprintf(b.pod, sizeof(b.pod), "shop#1");
	b.identity = UINT64_MAX;
	b.present = EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_CONTAINER) | EVENT_BIT(ITEM_POD) |
		    EVENT_BIT(ITEM_IDENTITY);
	CHECK(event_comment_format_compact(&a, &b, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "ebpf:1 src=a%5B1%5D%23%40%20b%25[4242]#1f3a0c "
		       "dst=nginx[]@shop%231#ffffffffffffffff");
	CHECK(event_comment_parse(buf, &pa, &pb, NULL) == 0);
	CHECK_STR(pa.comm, a.comm);
	CHECK(pa.pid == 4242 && pa.identity == 0x1f3a0c && pa.present == a.present);
	/* no pid in the tag: none parsed; the pod is for human readers only */
	CHECK(pb.identity == UINT64_MAX && strcmp(pb.comm, "nginx") == 0 && !pb.pod[0]);
	CHECK_EQ_U64(pb.present, EVENT_BIT(ITEM_COMM) | EVENT_BIT(ITEM_IDENTITY));
	CHECK(event_comment_format_compact(NULL, &b, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "ebpf:1 dst=nginx[]@shop%231#ffffffffffffffff");
	CHECK(event_comment_format_compact(NULL, &b, buf, 20) == -ENOSPC);
	b.present &= ~EVENT_BIT(ITEM_IDENTITY);
	CHECK(event_comment_format_compact(&a, &b, buf, sizeof(buf)) == -EINVAL);
	/* tags and pairs mix; the last value wins */
	CHECK(event_comment_parse("ebpf:1 src=x[1]#a src.pid=2 src.exe=/bin/x", &pa, NULL, NULL) ==
	      0);
	CHECK(pa.pid == 2 && pa.identity == 0xa && strcmp(pa.exe, "/bin/x") == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason = NULL;
		if (!CHECK(event_comment_parse(bad[i].comment, &pa, &pb, &reason) == -EBADMSG))
			fprintf(stderr, "  accepted: %s\n", bad[i].comment);
		CHECK_STR(reason, bad[i].reason);
	}
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

/* Mutated comments never crash, get a stable verdict, and what parses
 * formats and parses back to the same events. */
static void test_fuzz(void)
{
	static char valid[EVENT_COMMENT_MAX], buf[EVENT_COMMENT_MAX], again[EVENT_COMMENT_MAX];
	static struct event src, dst, s2, d2;
	static const char alphabet[] = "%= \n\r\t.0123456789abcdefAF\x01\xff";
	unsigned failed_before = test_failed, accepted = 0, i;
	size_t len;

	odd_event(&src, 5, false);
	simple_pair(&s2, &dst);
	len = (size_t)event_comment_format(&src, &dst, valid, sizeof(valid));
	rng_state = FUZZ_SEED;
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		uint64_t r = rng_next();
		unsigned k, n = 1 + (unsigned)(r & 3);
		char *copy;
		int r1, r2;

		memcpy(buf, valid, len + 1);
		for (k = 0; k < n; k++) {
			uint64_t x = rng_next();

			buf[(x >> 32) % len] = alphabet[(x & 0xff) % (sizeof(alphabet) - 1)];
		}
		if ((r >> 8) % 8 == 0)
			buf[(r >> 16) % len] = '\0';
		/* exact-size heap copy so overreads are caught by valgrind/ASan */
		copy = strdup(buf);
		r1 = event_comment_parse(copy, &s2, &d2, NULL);
		r2 = event_comment_parse(copy, &src, &dst, NULL);
		free(copy);
		test_count(r1 == r2 && (r1 == 0 || r1 == -EBADMSG || r1 == -ENOMSG));
		if (r1 != 0)
			continue;
		accepted++;
		test_count(events_equal(&s2, &src) && events_equal(&d2, &dst));
		test_count(event_comment_format(&src, &dst, again, sizeof(again)) > 0 &&
			   event_comment_parse(again, &s2, &d2, NULL) == 0 &&
			   events_equal(&s2, &src) && events_equal(&d2, &dst));
	}
	CHECK_EQ_U64(test_failed, failed_before);
	CHECK(accepted > FUZZ_ROUNDS / 20 && accepted < FUZZ_ROUNDS * 19 / 20);
	printf("fuzz: %u of %u mutated comments accepted\n", accepted, FUZZ_ROUNDS);
}

int main(void)
{
	test_format();
	test_roundtrip();
	test_parse();
	test_compact();
	test_fuzz();
	return test_summary();
}
