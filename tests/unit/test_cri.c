/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of enrich/cri: the ContainerStatus decoder on messages built
 * here field by field (the kubelet's labels beat the runtime's name,
 * unknown fields of every wire type are skipped, cut or impossible
 * messages are refused), and the call's refusals before any I/O. */
#include <errno.h>
#include <string.h>

#include "enrich/cri.h"
#include "test_util.h"

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void put_varint(struct msg *m, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;

		v >>= 7;
		m->b[m->n++] = (uint8_t)(c | (v ? 0x80 : 0));
	} while (v);
}

static void put_bytes(struct msg *m, uint32_t field, const void *data, size_t len)
{
	put_varint(m, (uint64_t)field << 3 | 2);
	put_varint(m, len);
	memcpy(m->b + m->n, data, len);
	m->n += len;
}

static void put_str(struct msg *m, uint32_t field, const char *s)
{
	put_bytes(m, field, s, strlen(s));
}

static void put_msg(struct msg *m, uint32_t field, const struct msg *sub)
{
	put_bytes(m, field, sub->b, sub->n);
}

static void put_label(struct msg *m, uint32_t field, const char *k, const char *v)
{
	struct msg e = { .n = 0 };

	put_str(&e, 1, k);
	put_str(&e, 2, v);
	put_msg(m, field, &e);
}

/* A ContainerStatusResponse as containerd answers for a kubelet's
 * container, with fields this decoder does not read on the way. */
static void status_response(struct msg *out, bool with_k8s_name)
{
	struct msg st = { .n = 0 }, meta = { .n = 0 }, image = { .n = 0 }, info = { .n = 0 };

	put_str(&meta, 1, "app-runtime-name");
	put_varint(&meta, 2 << 3); /* attempt = 3 (varint) */
	put_varint(&meta, 3);
	put_str(&image, 1, "registry.example/shop/web:1.2");
	put_str(&st, 1, "0ef380c2b5635a1c927953ae15e944df95d14b743877025789f473a4390268c0");
	put_msg(&st, 2, &meta);
	put_varint(&st, 3 << 3); /* state = CONTAINER_RUNNING */
	put_varint(&st, 1);
	put_varint(&st, 4 << 3 | 1); /* a fixed64 field, skipped */
	memset(st.b + st.n, 0xff, 8);
	st.n += 8;
	put_varint(&st, 99 << 3 | 5); /* an unknown fixed32 field */
	memset(st.b + st.n, 0, 4);
	st.n += 4;
	put_msg(&st, 8, &image);
	put_str(&st, 9, "sha256:0123");
	put_label(&st, 12, "io.kubernetes.pod.name", "web-7d4b9c");
	put_label(&st, 12, "io.kubernetes.pod.namespace", "shop");
	if (with_k8s_name)
		put_label(&st, 12, "io.kubernetes.container.name", "web");
	put_label(&st, 12, "app", "x");
	put_label(&st, 13, "io.kubernetes.pod.name", "not-a-label");
	out->n = 0;
	put_msg(out, 1, &st);
	put_label(&info, 1, "info", "{}");
	put_msg(out, 2, &info);
}

static void test_decode(void)
{
	struct container_info info;
	struct msg m;

	status_response(&m, true);
	CHECK(cri_decode_status(m.b, m.n, &info) == 0);
	CHECK_STR(info.id, "0ef380c2b5635a1c927953ae15e944df95d14b743877025789f473a4390268c0");
	CHECK_STR(info.name, "web"); /* the kubelet's label beats metadata.name */
	CHECK_STR(info.pod, "web-7d4b9c");
	CHECK_STR(info.namespace_, "shop"); /* annotations (13) are not labels */
	CHECK_STR(info.image, "registry.example/shop/web:1.2");

	status_response(&m, false);
	CHECK(cri_decode_status(m.b, m.n, &info) == 0);
	CHECK_STR(info.name, "app-runtime-name");

	/* Cut anywhere inside: refused, never read past the end. */
	status_response(&m, true);
	for (size_t cut = 1; cut < m.n; cut++) {
		struct container_info junk;
		int r = cri_decode_status(m.b, cut, &junk);

		if (r != -EBADMSG && r != 0) {
			CHECK(false);
			break;
		}
	}
	/* No status field at all, a group wire type, a varint too long. */
	{
		static const uint8_t empty[] = { 0x10, 0x01 };
		static const uint8_t group[] = { 0x0b };
		static const uint8_t longv[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
		static const uint8_t huge_len[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };

		CHECK(cri_decode_status(empty, sizeof(empty), &info) == -EBADMSG);
		CHECK(cri_decode_status(group, sizeof(group), &info) == -EBADMSG);
		CHECK(cri_decode_status(longv, sizeof(longv), &info) == -EBADMSG);
		CHECK(cri_decode_status(huge_len, sizeof(huge_len), &info) == -EBADMSG);
	}
}

static void test_call_refusals(void)
{
	struct container_info info;
	const char *why = NULL;

	CHECK(cri_container_status("/nonexistent.sock", "../etc", 200, CONTAINER_RUNTIME_CONTAINERD,
				   &info, &why) == -EINVAL);
	CHECK(why && strstr(why, "plain"));
	CHECK(cri_container_status("/nonexistent/cri.sock", "abc", 200,
				   CONTAINER_RUNTIME_CONTAINERD, &info, &why) < 0);
	CHECK(why != NULL);
}

int main(void)
{
	test_decode();
	test_call_refusals();
	return test_summary();
}
