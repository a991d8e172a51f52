/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --print: one line per event or packet for people at a shell, e.g.
 *   12:00:01.000123 curl[1234] TCP_Connect 10.0.0.1:43210 → 10.0.0.2:80 102 µs
 *   12:00:01.000150 TCP 10.0.0.1:43210 → 10.0.0.2:80 [S] 74 B curl[1234] → python3[99]
 *   12:00:01.000150 eth0 TCP ...   (when packets come from several interfaces)
 * (TCP flags as tcpdump writes them: S F R P, and . for ACK). A side no
 * event named is "?".
 * Local time of day; names escaped (\xHH for bytes that are not printable
 * ASCII), so a hostile process name cannot drive the terminal. */
#ifndef EBPFDUMP_EXTCAP_PRINT_H
#define EBPFDUMP_EXTCAP_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "event/event.h"
#include "merge/merge.h"

/* Colours (ANSI SGR): the process names bold, failed connections and
 * retransmissions red, new connections green, closes dim. Off by default;
 * the capture turns them on when stdout is a terminal and NO_COLOR is
 * unset or empty (no-color.org), so pipes and files get plain lines. */
void print_set_colour(bool on);

/* Returns what fprintf returns for the line (negative on error). */
int print_event(FILE *f, const struct event *ev);
/* ifname: the packet's interface, said on the line when the capture has
 * several (NULL: not said). */
int print_packet(FILE *f, const struct merge_packet *pkt, const struct merge_tag *tag,
		 const char *ifname);

#endif
