/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CRI client: ContainerStatus over gRPC (HTTP/2, libcurl), protobuf by hand. */
#define CURL_DISABLE_TYPECHECK /* calls go through the table below */
#include "enrich/cri.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event/event.h"

/* gRPC status codes (grpc/status.h), ABI. */
#define GRPC_OK 0
#define GRPC_NOT_FOUND 5
#define GRPC_UNIMPLEMENTED 12

/* Protobuf wire types. */
#define WIRE_VARINT 0
#define WIRE_I64 1
#define WIRE_LEN 2
#define WIRE_I32 5

/* ---- protobuf ---- */

struct pb {
	const uint8_t *p, *end;
};

static int pb_varint(struct pb *b, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (b->p == b->end)
			return -EBADMSG;
		c = *b->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* The next field: its number, and for WIRE_LEN its bytes in *sub; other
 * wire types are skipped (*sub empty). Returns 1, 0 at the end, or
 * -EBADMSG. */
static int pb_next(struct pb *b, uint32_t *field, struct pb *sub)
{
	uint64_t key, n;

	if (b->p == b->end)
		return 0;
	if (pb_varint(b, &key) < 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -EBADMSG;
	*field = (uint32_t)(key >> 3);
	sub->p = sub->end = b->p;
	switch (key & 7) {
	case WIRE_VARINT:
		return pb_varint(b, &n) < 0 ? -EBADMSG : 1;
	case WIRE_I64:
		n = 8;
		break;
	case WIRE_I32:
		n = 4;
		break;
	case WIRE_LEN:
		if (pb_varint(b, &n) < 0)
			return -EBADMSG;
		if (n > (uint64_t)(b->end - b->p))
			return -EBADMSG;
		sub->p = b->p;
		sub->end = b->p + n;
		b->p += n;
		return 1;
	default:
		return -EBADMSG; /* groups: not in proto3 */
	}
	if (n > (uint64_t)(b->end - b->p))
		return -EBADMSG;
	b->p += n;
	return 1;
}

static void pb_copy(char *dst, size_t size, const struct pb *s)
{
	event_copy_str(dst, size, (const char *)s->p, (size_t)(s->end - s->p));
}

static bool pb_equals(const struct pb *s, const char *text)
{
	size_t n = strlen(text);

	return (size_t)(s->end - s->p) == n && memcmp(s->p, text, n) == 0;
}

/* The first string field numbered `want` of a message (ContainerMetadata
 * name, ImageSpec image). */
static int pb_string_field(struct pb m, uint32_t want, char *dst, size_t size)
{
	struct pb sub;
	uint32_t f;
	int r;

	while ((r = pb_next(&m, &f, &sub)) > 0) {
		if (f == want) {
			pb_copy(dst, size, &sub);
			return 0;
		}
	}
	return r;
}

/* A map<string, string> entry: key 1, value 2. */
static int pb_label(struct pb e, struct container_info *info, char *k8s_name, size_t size)
{
	struct pb key = { 0 }, value = { 0 }, sub;
	uint32_t f;
	int r;

	while ((r = pb_next(&e, &f, &sub)) > 0) {
		if (f == 1)
			key = sub;
		else if (f == 2)
			value = sub;
	}
	if (r < 0)
		return r;
	if (!key.p)
		return 0;
	if (pb_equals(&key, "io.kubernetes.pod.name"))
		pb_copy(info->pod, sizeof(info->pod), &value);
	else if (pb_equals(&key, "io.kubernetes.pod.namespace"))
		pb_copy(info->namespace_, sizeof(info->namespace_), &value);
	else if (pb_equals(&key, "io.kubernetes.container.name"))
		pb_copy(k8s_name, size, &value);
	return 0;
}

int cri_decode_status(const uint8_t *msg, size_t len, struct container_info *ret)
{
	struct pb resp = { msg, msg + len }, status = { 0 }, sub;
	char k8s_name[EVENT_NAME_MAX + 1] = "";
	struct container_info info;
	uint32_t f;
	int r;

	memset(&info, 0, sizeof(info));
	/* ContainerStatusResponse: status = 1 */
	while ((r = pb_next(&resp, &f, &sub)) > 0)
		if (f == 1)
			status = sub;
	if (r < 0 || !status.p)
		return -EBADMSG;
	/* ContainerStatus: id 1, metadata 2 (name 1), image 8 (image 1),
	 * labels 12 */
	while ((r = pb_next(&status, &f, &sub)) > 0) {
		switch (f) {
		case 1:
			pb_copy(info.id, sizeof(info.id), &sub);
			break;
		case 2:
			r = pb_string_field(sub, 1, info.name, sizeof(info.name));
			break;
		case 8:
			r = pb_string_field(sub, 1, info.image, sizeof(info.image));
			break;
		case 12:
			r = pb_label(sub, &info, k8s_name, sizeof(k8s_name));
			break;
		default:
			break;
		}
		if (r < 0)
			return -EBADMSG;
	}
	if (r < 0)
		return -EBADMSG;
	/* The kubelet's container name label beats the runtime's name. */
	if (k8s_name[0])
		memcpy(info.name, k8s_name, sizeof(info.name));
	*ret = info;
	return 0;
}

/* ---- gRPC over libcurl ---- */

struct call {
	uint8_t *buf;
	size_t len;
	bool too_large;
	int grpc_status; /* -1 until a grpc-status header or trailer */
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct call *c = userdata;
	size_t add = size * n;
	uint8_t *nb;

	if (c->len + add > CRI_RESPONSE_MAX + 5) {
		c->too_large = true;
		return 0; /* curl stops: CURLE_WRITE_ERROR */
	}
	nb = realloc(c->buf, c->len + add);
	if (!nb)
		return 0;
	c->buf = nb;
	memcpy(c->buf + c->len, data, add);
	c->len += add;
	return add;
}

/* Headers and trailers alike: gRPC's status comes in either. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct call *c = userdata;
	size_t len = size * n;
	static const char key[] = "grpc-status:";

	if (len > sizeof(key) - 1 && strncasecmp(data, key, sizeof(key) - 1) == 0)
		c->grpc_status = atoi(data + sizeof(key) - 1);
	return len;
}

/* libcurl is opened at the first CRI call, not linked: every ebpfdump
 * process (hundreds while Wireshark lists container interfaces) would
 * otherwise load it and its 32 libraries, for a call only hosts with a CRI
 * runtime make (docs/architecture.md, Libraries). */
#define CURLLIB_SONAME "libcurl.so.4"
#define CURLLIB_FUNCTIONS(X)                                                                 \
	X(curl_global_init) X(curl_version_info) X(curl_easy_init) X(curl_easy_setopt)       \
	X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_cleanup) X(curl_slist_append) \
	X(curl_slist_free_all)

static struct {
#define CURLLIB_POINTER(name) __typeof__(name) *name;
	CURLLIB_FUNCTIONS(CURLLIB_POINTER)
#undef CURLLIB_POINTER
} lib;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static const char *curl_missing = "libcurl is not available (install libcurl4)";

static void curl_setup(void)
{
	curl_version_info_data *v;
	void *h = dlopen(CURLLIB_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
#define CURLLIB_RESOLVE(name)                                            \
	lib.name = (__typeof__(name) *)dlsym(h, #name);                  \
	if (!lib.name)                                                   \
		goto missing;
	CURLLIB_FUNCTIONS(CURLLIB_RESOLVE)
#undef CURLLIB_RESOLVE
	if (lib.curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK)
		goto missing;
	v = lib.curl_version_info(CURLVERSION_NOW);
	if (!v || !(v->features & CURL_VERSION_HTTP2)) {
		curl_missing = "libcurl without HTTP/2";
		return; /* kept open: curl_global_init ran */
	}
	curl_missing = NULL;
	return;
missing:
	dlclose(h);
}

void cri_prepare(void)
{
	pthread_once(&curl_once, curl_setup);
}

static bool plain_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CRI_ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

int cri_container_status(const char *socket_path, const char *id, unsigned timeout_ms,
			 enum container_runtime runtime, struct container_info *ret,
			 const char **ret_reason)
{
	/* gRPC wants its content type and "TE: trailers"; no 100-continue */
	static const char *const headers[] = { "Content-Type: application/grpc", "TE: trailers",
					       "Expect:" };
	uint8_t req[5 + 2 + 1 + CRI_ID_MAX];
	struct call c = { .grpc_status = -1 };
	struct curl_slist *hdr = NULL;
	const char *reason = NULL;
	size_t idlen, mlen;
	uint32_t blen;
	CURLcode cr;
	CURL *h = NULL;
	long http = 0;
	int r;

	if (!socket_path || !id || !plain_id(id)) {
		reason = "container id is not a plain name";
		r = -EINVAL;
		goto out;
	}
	pthread_once(&curl_once, curl_setup);
	if (curl_missing) {
		reason = curl_missing;
		r = -ENOTSUP;
		goto out;
	}
	/* ContainerStatusRequest { container_id = 1 } in a gRPC frame:
	 * not compressed, big-endian length. */
	idlen = strlen(id);
	mlen = 2 + idlen;
	req[0] = 0;
	req[1] = 0;
	req[2] = 0;
	req[3] = 0;
	req[4] = (uint8_t)mlen;
	req[5] = 0x0a; /* field 1, length-delimited */
	req[6] = (uint8_t)idlen;
	memcpy(req + 7, id, idlen);

	h = lib.curl_easy_init();
	if (!h) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct curl_slist *more = lib.curl_slist_append(hdr, headers[i]);

		if (!more) {
			r = -ENOMEM;
			goto out;
		}
		hdr = more;
	}
	lib.curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	lib.curl_easy_setopt(h, CURLOPT_URL,
			     "http://localhost/runtime.v1.RuntimeService/ContainerStatus");
	lib.curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	lib.curl_easy_setopt(h, CURLOPT_POST, 1L);
	lib.curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)req);
	lib.curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(5 + mlen));
	lib.curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	lib.curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	lib.curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lib.curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	lib.curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	lib.curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	lib.curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	cr = lib.curl_easy_perform(h);
	if (cr != CURLE_OK) {
		switch (cr) {
		case CURLE_OPERATION_TIMEDOUT:
			reason = "no complete answer in time";
			r = -ETIMEDOUT;
			break;
		case CURLE_COULDNT_CONNECT:
			reason = "cannot connect";
			r = -ECONNREFUSED;
			break;
		case CURLE_WRITE_ERROR:
			reason = c.too_large ? "answer too large" : "out of memory";
			r = c.too_large ? -EMSGSIZE : -ENOMEM;
			break;
		default:
			reason = "not an HTTP/2 gRPC answer";
			r = -EBADMSG;
			break;
		}
		goto out;
	}
	lib.curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	if (http != 200 || c.grpc_status < 0) {
		reason = "not a gRPC answer";
		r = -EBADMSG;
		goto out;
	}
	if (c.grpc_status == GRPC_NOT_FOUND) {
		reason = "no such container";
		r = -ESRCH;
		goto out;
	}
	if (c.grpc_status != GRPC_OK) {
		reason = c.grpc_status == GRPC_UNIMPLEMENTED ? "CRI v1 not served there"
							      : "gRPC error";
		r = -EBADMSG;
		goto out;
	}
	if (c.len < 5 || c.buf[0] != 0) {
		reason = "malformed gRPC message";
		r = -EBADMSG;
		goto out;
	}
	blen = (uint32_t)c.buf[1] << 24 | (uint32_t)c.buf[2] << 16 | (uint32_t)c.buf[3] << 8 |
	       c.buf[4];
	if (blen != c.len - 5 || cri_decode_status(c.buf + 5, blen, ret) < 0) {
		reason = "malformed ContainerStatus";
		r = -EBADMSG;
		goto out;
	}
	ret->runtime = runtime;
	if (!ret->id[0])
		event_copy_str(ret->id, sizeof(ret->id), id, idlen);
	r = 0;
out:
	if (hdr)
		lib.curl_slist_free_all(hdr);
	if (h)
		lib.curl_easy_cleanup(h);
	free(c.buf);
	if (ret_reason)
		*ret_reason = reason;
	return r;
}
