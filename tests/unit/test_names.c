/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Drift test of the event-type and item names: the C tables (EVENT_TYPES,
 * EVENT_ITEMS in event/event.h) against the copies in dissector/ebpf.lua
 * (event_names, items) and in docs/event-format.md (the item and type
 * tables). Every id must carry the same name in all three, and none may
 * be missing or extra. Usage: test_names EBPF.LUA EVENT-FORMAT.MD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "test_util.h"

#define IDS 64

struct names {
	char type[IDS][64];
	char item[IDS][64];
};

static void put(char (*table)[64], unsigned id, const char *name, size_t len, const char *where)
{
	if (id >= IDS || len >= 64) {
		fprintf(stderr, "%s: id %u or name out of range\n", where, id);
		test_count(0);
		return;
	}
	if (table[id][0]) {
		fprintf(stderr, "%s: id %u listed twice\n", where, id);
		test_count(0);
	}
	memcpy(table[id], name, len);
	table[id][len] = '\0';
}

/* ebpf.lua: `[N] = "Name",` inside `local event_names = {`, and
 * `[N] = { name = "x", ...` inside `local items = {`. */
static int read_lua(const char *path, struct names *n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	enum { NONE, TYPES, ITEMS } in = NONE;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned id;
		int at = 0;
		char *q, *e;

		if (strncmp(line, "local event_names = {", 21) == 0)
			in = TYPES;
		else if (strncmp(line, "local items = {", 15) == 0)
			in = ITEMS;
		else if (line[0] == '}')
			in = NONE;
		if (in == NONE || sscanf(line, " [%u] = %n", &id, &at) != 1 || !at)
			continue;
		q = line + at;
		if (in == ITEMS) {
			q = strstr(q, "name = \"");
			if (!q)
				continue;
			q += 7;
		}
		if (*q != '"' || !(e = strchr(q + 1, '"')))
			continue;
		put(in == TYPES ? n->type : n->item, id, q + 1, (size_t)(e - q - 1), path);
	}
	fclose(f);
	return 0;
}

/* event-format.md: the rows `| N | name | ...` of the item table (header
 * "| id | name | type |") and of the type table (header "| value | name
 * (`ebpf.event`) |"); a table ends at the first line that is not a row. */
static int read_doc(const char *path, struct names *n)
{
	FILE *f = fopen(path, "r");
	char line[1024], (*table)[64] = NULL;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned id;
		int at = 0;
		char *q, *e;

		if (strncmp(line, "| id | name | type |", 20) == 0)
			table = n->item;
		else if (strncmp(line, "| value | name (`ebpf.event`) |", 31) == 0)
			table = n->type;
		else if (line[0] != '|')
			table = NULL;
		if (!table || sscanf(line, "| %u | %n", &id, &at) != 1 || !at)
			continue;
		q = line + at;
		e = strchr(q, ' ');
		if (e)
			put(table, id, q, (size_t)(e - q), path);
	}
	fclose(f);
	return 0;
}

static void compare(const char *what, const char *where, char (*table)[64],
		    const char *(*name_of)(unsigned))
{
	for (unsigned id = 1; id < IDS; id++) {
		const char *c = name_of(id);

		if (!c && !table[id][0])
			continue;
		if (!c || !table[id][0] || strcmp(c, table[id]) != 0)
			fprintf(stderr, "%s %u: C says '%s', %s says '%s'\n", what, id,
				c ? c : "(none)", where, table[id][0] ? table[id] : "(none)");
		test_count(c && strcmp(c, table[id]) == 0);
	}
}

int main(int argc, char **argv)
{
	static struct names lua, doc;

	if (argc != 3) {
		fprintf(stderr, "usage: test_names EBPF.LUA EVENT-FORMAT.MD\n");
		return 2;
	}
	CHECK(read_lua(argv[1], &lua) == 0);
	CHECK(read_doc(argv[2], &doc) == 0);
	/* The readers found the tables at all. */
	CHECK(lua.type[EVENT_TCP_CONNECT][0] && lua.item[ITEM_PID][0]);
	CHECK(doc.type[EVENT_TCP_CONNECT][0] && doc.item[ITEM_PID][0]);
	compare("event type", "ebpf.lua", lua.type, event_type_name);
	compare("item", "ebpf.lua", lua.item, event_item_name);
	compare("event type", "event-format.md", doc.type, event_type_name);
	compare("item", "event-format.md", doc.item, event_item_name);
	/* Every table entry has a name, description and ntopng word. */
	for (unsigned t = 1; t < EVENT_TYPE_MAX; t++)
		CHECK(event_type_name(t) && event_type_description(t) && event_type_ntop_name(t));
	for (unsigned i = 1; i < ITEM_MAX; i++)
		CHECK(event_item_name(i) != NULL);
	return test_summary();
}
