/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libzmq, opened at first use.
 *
 * Linking libzmq makes every ebpfdump process load it and the fifteen
 * libraries it needs (C++ runtime, Kerberos, PGM, NORM, sodium): 9 ms of a
 * 17 ms start-up on the development VM, paid by each of the hundreds of
 * questions Wireshark asks while listing interfaces (one --extcap-config per
 * container interface). Only the remote features need ZeroMQ, so remote/
 * opens it with dlopen() when one of them starts.
 *
 * Include this instead of <zmq.h> in remote/'s sources: the zmq_* names
 * used there call through the table below. Every entry point that can be
 * the first to touch ZeroMQ calls zmqlib_open() first. */
#ifndef EBPFDUMP_REMOTE_ZMQLIB_H
#define EBPFDUMP_REMOTE_ZMQLIB_H

#include <stddef.h>
#include <zmq.h>

/* The soname opened; Debian's libzmq5 package installs it. */
#define ZMQLIB_SONAME "libzmq.so.5"

#define ZMQLIB_FUNCTIONS(X) \
	X(zmq_bind) X(zmq_close) X(zmq_connect) X(zmq_ctx_new) X(zmq_ctx_term) \
	X(zmq_curve_keypair) X(zmq_curve_public) X(zmq_getsockopt) X(zmq_has) \
	X(zmq_msg_close) X(zmq_msg_data) X(zmq_msg_gets) X(zmq_msg_init) X(zmq_msg_more) \
	X(zmq_msg_recv) X(zmq_msg_size) X(zmq_send) X(zmq_setsockopt) X(zmq_socket) \
	X(zmq_socket_monitor) X(zmq_strerror)

struct zmqlib {
#define ZMQLIB_POINTER(name) __typeof__(name) *name;
	ZMQLIB_FUNCTIONS(ZMQLIB_POINTER)
#undef ZMQLIB_POINTER
};
extern struct zmqlib zmqlib;

/* Opens libzmq and resolves every function once; later calls return at
 * once. Returns 0, or -ENOENT with "ZeroMQ is not available: <dlerror>
 * (install libzmq5)" in err. */
int zmqlib_open(char *err, size_t errlen);

#ifndef ZMQLIB_DEFINE
#define zmq_bind zmqlib.zmq_bind
#define zmq_close zmqlib.zmq_close
#define zmq_connect zmqlib.zmq_connect
#define zmq_ctx_new zmqlib.zmq_ctx_new
#define zmq_ctx_term zmqlib.zmq_ctx_term
#define zmq_curve_keypair zmqlib.zmq_curve_keypair
#define zmq_curve_public zmqlib.zmq_curve_public
#define zmq_getsockopt zmqlib.zmq_getsockopt
#define zmq_has zmqlib.zmq_has
#define zmq_msg_close zmqlib.zmq_msg_close
#define zmq_msg_data zmqlib.zmq_msg_data
#define zmq_msg_gets zmqlib.zmq_msg_gets
#define zmq_msg_init zmqlib.zmq_msg_init
#define zmq_msg_more zmqlib.zmq_msg_more
#define zmq_msg_recv zmqlib.zmq_msg_recv
#define zmq_msg_size zmqlib.zmq_msg_size
#define zmq_send zmqlib.zmq_send
#define zmq_setsockopt zmqlib.zmq_setsockopt
#define zmq_socket zmqlib.zmq_socket
#define zmq_socket_monitor zmqlib.zmq_socket_monitor
#define zmq_strerror zmqlib.zmq_strerror
#endif

#endif
