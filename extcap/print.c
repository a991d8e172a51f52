/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "extcap/print.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "packet/parse.h"
#include "merge/owner.h"

static bool colour;

void print_set_colour(bool on)
{
	colour = on;
}

/* SGR sequences, or "" without colour. */
#define SGR(code) (colour ? "\033[" code "m" : "")
#define SGR_RESET SGR("0")

/* The colour of an event type's name. */
static const char *type_colour(unsigned type)
{
	switch (type) {
	case EVENT_TCP_CONNECT_FAILED:
	case EVENT_TCP_RETRANSMIT:
		return SGR("31"); /* red */
	case EVENT_TCP_CONNECT:
	case EVENT_TCP_ACCEPT:
		return SGR("32"); /* green */
	case EVENT_TCP_CLOSE:
		return SGR("2"); /* dim */
	default:
		return "";
	}
}

/* "12:00:01.000123" in local time. */
static void time_of_day(uint64_t ts_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ts_ns / 1000000000u);
	struct tm tm;

	if (!localtime_r(&secs, &tm)) {
		snprintf(buf, len, "%" PRIu64, ts_ns);
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ts_ns % 1000000000u / 1000u));
}

/* s with every byte outside printable ASCII as \xHH, cut to fit. */
static const char *safe(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; s && *s && o + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
	return buf;
}

/* "10.0.0.1:80" or "[fd00::1]:80". */
static const char *endpoint(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}

int print_event(FILE *f, const struct event *ev)
{
	char when[32], who[96], name[80], where[160], l[64], r[64], more[160] = "";
	const char *type = event_type_name(ev->type);

	time_of_day(ev->ts_ns, when, sizeof(when));
	if (EVENT_HAS(ev, ITEM_PID))
		snprintf(who, sizeof(who), "%s[%u]",
			 EVENT_HAS(ev, ITEM_COMM) ? safe(ev->comm, name, sizeof(name)) : "?",
			 ev->pid);
	else
		snprintf(who, sizeof(who), "-");
	where[0] = '\0';
	if (EVENT_HAS(ev, ITEM_LPORT) && EVENT_HAS(ev, ITEM_RPORT) && ev->rport)
		snprintf(where, sizeof(where), " %s → %s",
			 endpoint(ev->family, ev->laddr, ev->lport, l, sizeof(l)),
			 endpoint(ev->family, ev->raddr, ev->rport, r, sizeof(r)));
	else if (EVENT_HAS(ev, ITEM_LPORT)) /* listening or unconnected: no peer */
		snprintf(where, sizeof(where), " %s",
			 endpoint(ev->family, ev->laddr, ev->lport, l, sizeof(l)));
	if (EVENT_HAS(ev, ITEM_ERROR))
		snprintf(more, sizeof(more), " %s", strerror((int)ev->error));
	else if (ev->type == EVENT_TCP_CONNECT_FAILED)
		snprintf(more, sizeof(more), " abandoned by the application");
	else if (EVENT_HAS(ev, ITEM_LATENCY_US))
		snprintf(more, sizeof(more), " %u µs", ev->latency_us);
	else if (EVENT_HAS(ev, ITEM_BYTES_SENT))
		snprintf(more, sizeof(more), " sent %" PRIu64 " B, received %" PRIu64 " B",
			 ev->bytes_sent, ev->bytes_received);
	else if (EVENT_HAS(ev, ITEM_PACKETS))
		snprintf(more, sizeof(more), " %" PRIu64 " datagrams, %" PRIu64 " B", ev->packets,
			 ev->bytes);
	if (EVENT_HAS(ev, ITEM_CONTAINER)) {
		size_t n = strlen(more);

		snprintf(more + n, sizeof(more) - n, " container=%s",
			 safe(ev->container, name, sizeof(name)));
	}
	return fprintf(f, "%s %s%s%s %s%s%s%s%s\n", when, SGR("1"), who, SGR_RESET,
		       type_colour(ev->type), type ? type : "event", SGR_RESET, where, more);
}

/* "curl[1234]" or "?" */
static const char *process(const struct owner *o, char *buf, size_t len)
{
	char name[80];
	const char *comm = o ? owner_str(o, ITEM_COMM) : NULL;

	if (!o)
		return "?";
	snprintf(buf, len, "%s[%u]", comm ? safe(comm, name, sizeof(name)) : "?", o->pid);
	return buf;
}

int print_packet(FILE *f, const struct merge_packet *pkt, const struct merge_tag *tag,
		 const char *ifname)
{
	const struct packet_info *in = tag->info;
	char when[32 + 4 * 16], s[64], d[64], flags[8] = "", from[96], to[96], ifn[4 * 16];
	const char *proto;
	size_t n;

	time_of_day(pkt->ts_ns, when, sizeof(when));
	/* Several interfaces: each line says which one, after the time. */
	n = strlen(when);
	if (ifname)
		snprintf(when + n, sizeof(when) - n, " %s", safe(ifname, ifn, sizeof(ifn)));
	if (!in || tag->parse_error < 0)
		return fprintf(f, "%s packet %u B\n", when, pkt->len);
	proto = in->proto == 6 ? "TCP" : in->proto == 17 ? "UDP" : "IP";
	if (in->proto == 6) {
		n = 0;
		flags[n++] = '[';
		if (in->tcp_flags & 0x02)
			flags[n++] = 'S';
		if (in->tcp_flags & 0x01)
			flags[n++] = 'F';
		if (in->tcp_flags & 0x04)
			flags[n++] = 'R';
		if (in->tcp_flags & 0x08)
			flags[n++] = 'P';
		if (in->tcp_flags & 0x10)
			flags[n++] = '.'; /* ACK, as tcpdump writes it */
		flags[n++] = ']';
		flags[n] = '\0';
	}
	return fprintf(f, "%s %s %s → %s%s%s %u B %s%s%s → %s%s%s\n", when, proto,
		       endpoint(in->family, in->src, in->sport, s, sizeof(s)),
		       endpoint(in->family, in->dst, in->dport, d, sizeof(d)), flags[0] ? " " : "",
		       flags, pkt->len, SGR("1"), process(tag->sender, from, sizeof(from)),
		       SGR_RESET, SGR("1"), process(tag->receiver, to, sizeof(to)), SGR_RESET);
}
