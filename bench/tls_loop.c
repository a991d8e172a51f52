/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TLS call cost: an OpenSSL 3 client writes N records of SIZE bytes to an
 * OpenSSL server thread over a TCP loopback connection, each with one
 * SSL_write and one SSL_read (and the read(2)/write(2) they make).
 * Prints calls=N ns_per_call=... (one SSL_write plus the matching
 * SSL_read), for bench/tls_overhead.sh to compare with --tls on and off.
 *
 * usage: tls_loop CERT KEY [N [SIZE]]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long n_calls = 100000, size = 100;
static SSL_CTX *server_ctx;
static int listen_fd;

static void die(const char *what)
{
	fprintf(stderr, "tls_loop: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void *server(void *arg)
{
	char buf[16384];
	int fd = accept(listen_fd, NULL, NULL);
	SSL *ssl;

	(void)arg;
	if (fd < 0)
		die("accept");
	ssl = SSL_new(server_ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		die("SSL_accept");
	for (long got = 0; got < n_calls * size;) {
		int r = SSL_read(ssl, buf, (int)sizeof(buf));

		if (r <= 0)
			die("SSL_read");
		got += r;
	}
	SSL_write(ssl, "k", 1); /* done */
	SSL_free(ssl);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct timespec t0, t1;
	char *msg, ack;
	SSL_CTX *cctx;
	pthread_t th;
	SSL *ssl;
	int fd, one = 1;

	if (argc < 3)
		die("usage: tls_loop CERT KEY [N [SIZE]]");
	if (argc > 3)
		n_calls = atol(argv[3]);
	if (argc > 4)
		size = atol(argv[4]);
	if (n_calls <= 0 || size <= 0 || size > 16384)
		die("N > 0 and 0 < SIZE <= 16384");
	server_ctx = SSL_CTX_new(TLS_server_method());
	if (!server_ctx ||
	    SSL_CTX_use_certificate_file(server_ctx, argv[1], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(server_ctx, argv[2], SSL_FILETYPE_PEM) != 1)
		die("cannot load the certificate and key");
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listen_fd, 1) < 0 || getsockname(listen_fd, (struct sockaddr *)&a, &alen) < 0)
		die("listen");
	pthread_create(&th, NULL, server, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cctx = SSL_CTX_new(TLS_client_method());
	ssl = SSL_new(cctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		die("SSL_connect");
	msg = malloc((size_t)size);
	if (!msg)
		die("out of memory");
	for (long i = 0; i < size; i++)
		msg[i] = (char)('a' + i % 26);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n_calls; i++)
		if (SSL_write(ssl, msg, (int)size) != size)
			die("SSL_write");
	if (SSL_read(ssl, &ack, 1) != 1)
		die("SSL_read (ack)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	printf("calls=%ld size=%ld ns_per_call=%.0f\n", n_calls, size,
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		   (double)n_calls);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	SSL_CTX_free(server_ctx);
	free(msg);
	close(fd);
	close(listen_fd);
	return 0;
}
