/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names of event types and items (value↔name tables) and bounded string copy. */
#include <string.h>

#include "event/event.h"

struct value_name {
	unsigned value;
	const char *name;
};

/* Generated from EVENT_TYPES and EVENT_ITEMS (event.h). */
static const struct value_name event_type_names[] = {
#define TYPE_NAME(id, value, name, ntop, text) { id, name },
	EVENT_TYPES(TYPE_NAME)
#undef TYPE_NAME
	{ 0, NULL },
};

static const struct value_name event_type_texts[] = {
#define TYPE_TEXT(id, value, name, ntop, text) { id, text },
	EVENT_TYPES(TYPE_TEXT)
#undef TYPE_TEXT
	{ 0, NULL },
};

static const struct value_name event_type_ntop[] = {
#define TYPE_NTOP(id, value, name, ntop, text) { id, ntop },
	EVENT_TYPES(TYPE_NTOP)
#undef TYPE_NTOP
	{ 0, NULL },
};

static const struct value_name event_item_names[] = {
#define ITEM_NAME(id, value, name) { id, name },
	EVENT_ITEMS(ITEM_NAME)
#undef ITEM_NAME
	{ 0, NULL },
};

static const char *value_to_name(const struct value_name *table, unsigned value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return NULL;
}

static unsigned name_to_value(const struct value_name *table, const char *name)
{
	if (!name)
		return 0;
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table->value;
	return 0;
}

const char *event_type_name(unsigned type)
{
	return value_to_name(event_type_names, type);
}

unsigned event_type_from_name(const char *name)
{
	return name_to_value(event_type_names, name);
}

const char *event_type_description(unsigned type)
{
	return value_to_name(event_type_texts, type);
}

const char *event_type_ntop_name(unsigned type)
{
	return value_to_name(event_type_ntop, type);
}

const char *event_item_name(unsigned item)
{
	return value_to_name(event_item_names, item);
}

/* Length of the UTF-8 sequence a lead byte starts; 0 for other bytes. */
static size_t utf8_sequence_length(unsigned char c)
{
	if (c >= 0xc0 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf7)
		return 4;
	return 0;
}

/* The copy stops at the first NUL in src[0..len) because fixed kernel
 * buffers (comm) arrive NUL-padded. A cut never splits a UTF-8 sequence:
 * when the sequence that the first dropped byte belongs to started in the
 * kept part, the cut moves back to its lead byte (at most 3 bytes), so
 * valid UTF-8 stays valid; bytes that are not UTF-8 are cut plainly. */
bool event_copy_str(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n, lead;

	n = src ? strnlen(src, len) : 0;
	if (size == 0)
		return n > 0;
	if (n < size) {
		if (n)
			memcpy(dst, src, n);
		dst[n] = '\0';
		return false;
	}
	n = size - 1;
	lead = n;
	while (lead > 0 && n - lead < 3 && (s[lead] & 0xc0) == 0x80)
		lead--;
	if (lead < n && lead + utf8_sequence_length(s[lead]) > n)
		n = lead;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}
