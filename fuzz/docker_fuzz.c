/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: what the Docker client makes of an engine's answer: HTTP
 * framing (status line, Content-Length, chunked encoding, end at close)
 * and the JSON of an inspect and of a list answer (enrich/docker.c).
 *
 * docker.c is compiled into this file so that its static parsing steps are
 * reachable without a socket. Input: byte 0 says where the answer is split
 * into two reads (as a socket may deliver it); the rest is the raw answer.
 * Checks: the framed body lies inside the answer (chunked: a new buffer),
 * and the extracted names are NUL-terminated.
 */
#include "enrich/docker.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_info(const struct container_info *info)
{
	if (!memchr(info->id, '\0', sizeof(info->id)) ||
	    !memchr(info->name, '\0', sizeof(info->name)) ||
	    !memchr(info->pod, '\0', sizeof(info->pod)) ||
	    !memchr(info->namespace_, '\0', sizeof(info->namespace_)) ||
	    !memchr(info->image, '\0', sizeof(info->image)) ||
	    !memchr(info->sandbox_id, '\0', sizeof(info->sandbox_id)))
		abort();
}

/* The inspect and list walks of docker_inspect / docker_list. */
static void parse_body(const char *body, size_t len)
{
	struct json_object *o = NULL, *config;
	struct container_info info;

	if (parse_json(body, len, &o) < 0)
		return;
	if (json_object_is_type(o, json_type_object)) {
		config = member(o, "Config");
		fill_info(&info, member(o, "Id"), member(o, "Name"), member(config, "Image"),
			  member(config, "Labels"));
		check_info(&info);
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n && i < DOCKER_LIST_MAX; i++) {
			struct json_object *c = json_object_array_get_idx(o, i), *names, *name;

			if (!c || !json_object_is_type(c, json_type_object))
				continue;
			names = member(c, "Names");
			name = names && json_object_is_type(names, json_type_array)
				       ? json_object_array_get_idx(names, 0)
				       : NULL;
			fill_info(&info, member(c, "Id"), name, member(c, "Image"),
				  member(c, "Labels"));
			check_info(&info);
		}
	}
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_answer a;
	size_t split;
	int r;

	if (size < 1)
		return 0;
	split = data[0];
	data++;
	size--;
	if (split > size)
		split = size;
	memset(&a, 0, sizeof(a));
	a.cap = size ? size : 1;
	a.buf = malloc(a.cap);
	if (!a.buf)
		abort();
	memcpy(a.buf, data, size);
	/* first read, then the rest and the close */
	a.len = split;
	r = answer_complete(&a, 0, false);
	if (r == 0) {
		a.len = size;
		r = answer_complete(&a, split, true);
	}
	if (r > 0) {
		if (!a.body_owned &&
		    (a.body < a.buf || a.body + a.body_len > a.buf + a.len))
			abort();
		parse_body(a.body, a.body_len);
	}
	answer_done(&a);
	return 0;
}
