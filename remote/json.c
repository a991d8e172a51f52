/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Event → JSON text with json-c, keys in ntopng's eBPF style. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "remote/json.h"
#include "remote/message.h"

#define NS_PER_S UINT64_C(1000000000)
#define NS_PER_US UINT64_C(1000)
#define US_PER_MS 1000.0
/* The longest text field (cmdline) with every byte replaced by U+FFFD. */
#define SANITIZED_MAX (EVENT_CMDLINE_MAX * 3 + 1)
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

static bool is_udp_type(unsigned type)
{
	return type == EVENT_UDP_SEND || type == EVENT_UDP_RECV || type == EVENT_UDP_OPEN;
}

/* json-c writes string bytes as they are; JSON must be UTF-8, and event
 * text comes from processes (comm, cmdline) that may not be. */
static void sanitize(char *out, const char *s, size_t max)
{
	size_t len = strnlen(s, max), i = 0, o = 0;

	while (i < len) {
		size_t n = 1;

		if ((uint8_t)s[i] >= 0x80) {
			/* The longest valid sequence starting here, 2..4 bytes. */
			for (n = 4; n > 1; n--)
				if (i + n <= len && remote_utf8_valid((const uint8_t *)s + i, n))
					break;
			if (n == 1) {
				memcpy(out + o, UTF8_REPLACEMENT, 3);
				o += 3;
				i++;
				continue;
			}
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

static int add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* At most max bytes of s: a caller may have filled a field to its end. */
static int add_strn(struct json_object *obj, const char *key, const char *s, size_t max)
{
	char clean[SANITIZED_MAX];

	sanitize(clean, s, max < EVENT_CMDLINE_MAX ? max : EVENT_CMDLINE_MAX);
	return add(obj, key, json_object_new_string(clean));
}

static int add_str(struct json_object *obj, const char *key, const char *s)
{
	return add_strn(obj, key, s, EVENT_CMDLINE_MAX);
}

static int add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	return add(obj, key, json_object_new_uint64(v));
}

/* Items that map to one key of the top-level object or of a sub-object,
 * and where their field is in struct event. */
struct item_key {
	unsigned item;
	int where; /* WHERE_* below */
	const char *key;
	size_t offset, width;
};

enum { WHERE_TOP, WHERE_PROCESS, WHERE_FATHER, WHERE_CONTAINER, WHERE_K8S, WHERE_MAX };

#define FIELD(f) offsetof(struct event, f), sizeof(((struct event *)0)->f)

/* clang-format off */
static const struct item_key int_keys[] = {
	{ ITEM_PID, WHERE_PROCESS, "PID", FIELD(pid) },
	{ ITEM_TID, WHERE_PROCESS, "TID", FIELD(tid) },
	{ ITEM_UID, WHERE_PROCESS, "UID", FIELD(uid) },
	{ ITEM_GID, WHERE_PROCESS, "GID", FIELD(gid) },
	{ ITEM_PPID, WHERE_FATHER, "PID", FIELD(ppid) },
	{ ITEM_CGROUP_ID, WHERE_TOP, "CGROUP_ID", FIELD(cgroup_id) },
	{ ITEM_NETNS, WHERE_TOP, "NETNS", FIELD(netns) },
	{ ITEM_IFINDEX, WHERE_TOP, "IF_INDEX", FIELD(ifindex) },
	{ ITEM_PROTO, WHERE_TOP, "PROTOCOL", FIELD(proto) },
	{ ITEM_LPORT, WHERE_TOP, "L4_SRC_PORT", FIELD(lport) },
	{ ITEM_RPORT, WHERE_TOP, "L4_DST_PORT", FIELD(rport) },
	{ ITEM_LATENCY_US, WHERE_TOP, "LATENCY_US", FIELD(latency_us) },
	{ ITEM_BYTES_SENT, WHERE_TOP, "BYTES_SENT", FIELD(bytes_sent) },
	{ ITEM_BYTES_RECEIVED, WHERE_TOP, "BYTES_RECEIVED", FIELD(bytes_received) },
	{ ITEM_RETRANSMITS, WHERE_TOP, "RETRAN_PKTS", FIELD(retransmits) },
	{ ITEM_SRTT_US, WHERE_TOP, "SRTT_US", FIELD(srtt_us) },
	{ ITEM_ERROR, WHERE_TOP, "ERRNO", FIELD(error) },
	{ ITEM_PACKETS, WHERE_TOP, "PACKETS", FIELD(packets) },
	{ ITEM_BYTES, WHERE_TOP, "BYTES", FIELD(bytes) },
	{ ITEM_SOCK_COOKIE, WHERE_TOP, "SOCKET_COOKIE", FIELD(sock_cookie) },
	{ 0, 0, NULL, 0, 0 },
};

static const struct item_key str_keys[] = {
	{ ITEM_COMM, WHERE_PROCESS, "COMM", FIELD(comm) },
	{ ITEM_THREAD, WHERE_PROCESS, "THREAD_COMM", FIELD(thread) },
	{ ITEM_CMDLINE, WHERE_PROCESS, "CMDLINE", FIELD(cmdline) },
	{ ITEM_USER, WHERE_PROCESS, "UID_NAME", FIELD(user) },
	{ ITEM_GROUP, WHERE_PROCESS, "GID_NAME", FIELD(group) },
	{ ITEM_PCOMM, WHERE_FATHER, "COMM", FIELD(pcomm) },
	{ ITEM_CGROUP, WHERE_TOP, "CGROUP", FIELD(cgroup) },
	{ ITEM_IFNAME, WHERE_TOP, "IF_NAME", FIELD(ifname) },
	{ ITEM_CONTAINER_ID, WHERE_CONTAINER, "ID", FIELD(container_id) },
	{ ITEM_CONTAINER, WHERE_CONTAINER, "NAME", FIELD(container) },
	{ ITEM_RUNTIME, WHERE_CONTAINER, "RUNTIME", FIELD(runtime) },
	{ ITEM_IMAGE, WHERE_CONTAINER, "IMAGE", FIELD(image) },
	{ ITEM_POD, WHERE_K8S, "POD", FIELD(pod) },
	{ ITEM_NAMESPACE, WHERE_K8S, "NS", FIELD(namespace_) },
	{ 0, 0, NULL, 0, 0 },
};
/* clang-format on */

static uint64_t load_int(const struct event *ev, const struct item_key *k)
{
	const char *p = (const char *)ev + k->offset;
	uint64_t v64 = 0;
	uint32_t v32 = 0;
	uint16_t v16 = 0;
	uint8_t v8 = 0;

	switch (k->width) {
	case sizeof(v8):
		memcpy(&v8, p, sizeof(v8));
		return v8;
	case sizeof(v16):
		memcpy(&v16, p, sizeof(v16));
		return v16;
	case sizeof(v32):
		memcpy(&v32, p, sizeof(v32));
		return v32;
	default:
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
}

static int add_addresses(struct json_object *top, const struct event *ev)
{
	bool v6 = ev->family == AF_INET6;
	char text[INET6_ADDRSTRLEN];
	int r = 0;

	if (!EVENT_HAS(ev, ITEM_LADDR) && !EVENT_HAS(ev, ITEM_RADDR))
		return 0;
	if (ev->family != AF_INET && ev->family != AF_INET6)
		return 0;
	r = add(top, "IP_PROTOCOL_VERSION", json_object_new_int(v6 ? 6 : 4));
	if (r == 0 && EVENT_HAS(ev, ITEM_LADDR) &&
	    inet_ntop(ev->family, ev->laddr, text, sizeof(text)))
		r = add_str(top, v6 ? "IPV6_SRC_ADDR" : "IPV4_SRC_ADDR", text);
	if (r == 0 && EVENT_HAS(ev, ITEM_RADDR) &&
	    inet_ntop(ev->family, ev->raddr, text, sizeof(text)))
		r = add_str(top, v6 ? "IPV6_DST_ADDR" : "IPV4_DST_ADDR", text);
	return r;
}

static int add_header(struct json_object *top, const struct event *ev, const char *host)
{
	const char *name = event_type_name(ev->type), *ntop = event_type_ntop_name(ev->type);
	char text[64];
	int r;

	snprintf(text, sizeof(text), "%" PRIu64 ".%06" PRIu64, ev->ts_ns / NS_PER_S,
		 ev->ts_ns % NS_PER_S / NS_PER_US);
	r = add_str(top, "timestamp", text);
	if (r == 0)
		r = add_u64(top, "TIMESTAMP_NS", ev->ts_ns);
	if (r == 0)
		r = add_strn(top, "HOST", host, EVENT_NAME_MAX);
	if (r == 0)
		r = add_u64(top, "SEQ", ev->seq);
	if (r == 0 && name)
		r = add_str(top, "EVENT_TYPE", name);
	if (r == 0)
		r = add_u64(top, "EVENT_TYPE_ID", ev->type);
	if (r == 0 && ntop)
		r = add_str(top, is_udp_type(ev->type) ? "UDP_EVENT_TYPE" : "TCP_EVENT_TYPE", ntop);
	if (r == 0 && EVENT_HAS(ev, ITEM_LATENCY_US)) {
		snprintf(text, sizeof(text), "%.3f", ev->latency_us / US_PER_MS);
		r = add_str(top, "NW_LATENCY_MS", text);
	}
	return r;
}

static int build(struct json_object *objs[WHERE_MAX], const struct event *ev, const char *host)
{
	const struct item_key *k;
	int r;

	r = add_header(objs[WHERE_TOP], ev, host);
	if (r == 0)
		r = add_addresses(objs[WHERE_TOP], ev);
	for (k = int_keys; r == 0 && k->key; k++)
		if (EVENT_HAS(ev, k->item))
			r = add_u64(objs[k->where], k->key, load_int(ev, k));
	for (k = str_keys; r == 0 && k->key; k++)
		if (EVENT_HAS(ev, k->item))
			r = add_strn(objs[k->where], k->key, (const char *)ev + k->offset,
				     k->width - 1);
	/* ntopng's PROCESS_PATH: the full path where known, else the task name. */
	if (r == 0 && (EVENT_HAS(ev, ITEM_EXE) || EVENT_HAS(ev, ITEM_COMM)))
		r = EVENT_HAS(ev, ITEM_EXE)
			? add_strn(objs[WHERE_PROCESS], "PROCESS_PATH", ev->exe, EVENT_EXE_MAX)
			: add_strn(objs[WHERE_PROCESS], "PROCESS_PATH", ev->comm, EVENT_COMM_MAX);
	if (r == 0 && EVENT_HAS(ev, ITEM_PCOMM))
		r = add_strn(objs[WHERE_FATHER], "PROCESS_PATH", ev->pcomm, EVENT_COMM_MAX);
	return r;
}

/* Attach a sub-object under key when it got any member; else drop it. */
static int attach(struct json_object *parent, const char *key, struct json_object **child)
{
	struct json_object *c = *child;

	*child = NULL;
	if (json_object_object_length(c) == 0) {
		json_object_put(c);
		return 0;
	}
	return add(parent, key, c);
}

int remote_event_json(const struct event *ev, const char *host, char *buf, size_t size)
{
	struct json_object *objs[WHERE_MAX] = {NULL};
	const char *text;
	size_t len;
	int i, r = 0;

	for (i = 0; i < WHERE_MAX; i++) {
		objs[i] = json_object_new_object();
		if (!objs[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = build(objs, ev, host ? host : "");
	if (r == 0)
		r = attach(objs[WHERE_CONTAINER], "K8S", &objs[WHERE_K8S]);
	if (r == 0)
		r = attach(objs[WHERE_TOP], "LOCAL_PROCESS", &objs[WHERE_PROCESS]);
	if (r == 0)
		r = attach(objs[WHERE_TOP], "LOCAL_FATHER_PROCESS", &objs[WHERE_FATHER]);
	if (r == 0)
		r = attach(objs[WHERE_TOP], "LOCAL_CONTAINER", &objs[WHERE_CONTAINER]);
	if (r < 0)
		goto out;
	text = json_object_to_json_string_ext(objs[WHERE_TOP], JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	len = strlen(text);
	if (len > size || len > INT32_MAX) {
		r = -ENOSPC;
		goto out;
	}
	memcpy(buf, text, len);
	r = (int)len;
out:
	for (i = 0; i < WHERE_MAX; i++)
		if (objs[i])
			json_object_put(objs[i]);
	return r;
}
