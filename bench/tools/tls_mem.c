/* The heap one held TLS connection costs c1m-client: N connections to one HTTPS server on 127.0.0.1, each
 * made with c1m-client's own SSL_CTX (tls_ctx_new: verified against CA, SNI localhost) and left as the
 * loadgen leaves it after its handshake, one GET and its response read, then the server's session tickets
 * read too; only the SSL is kept. It prints malloc's heap in use per connection (mallinfo2), with
 * SSL_MODE_RELEASE_BUFFERS as c1m-client sets it ("release") or without it ("keep"). Blocking I/O: the
 * loadgen's event loop adds nothing per connection once it holds one. Not part of the build (a measurement
 * behind a README figure); build and run:
 *   cc -O2 -Isrc -o /tmp/tls_mem bench/tools/tls_mem.c src/client/tls.c src/common/util/sbuf.c -lssl -lcrypto
 *   /tmp/tls_mem release|keep PORT CA_PEM N */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "client/tls.h"

/* One connection through its GET and response; the SSL is returned, NULL on failure. */
static SSL *one(SSL_CTX *ctx, const struct sockaddr_in *sa)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct timeval tv = { 0, 20000 };
	char buf[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	SSL *ssl;

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("connect");
		return NULL;
	}
	ssl = tls_conn_new(ctx, "localhost");
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, get, (int)sizeof(get) - 1) <= 0 || SSL_read(ssl, buf, sizeof(buf)) <= 0) {
		ERR_print_errors_fp(stderr);
		return NULL;
	}
	/* the session tickets a TLS 1.3 server sends after the handshake: read until 20 ms of quiet */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)SSL_read(ssl, buf, sizeof(buf));
	ERR_clear_error();
	return ssl;
}

int main(int argc, char **argv)
{
	struct tls_opts o = { .on = true, .sni = "localhost", .verify_host = "localhost" };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct mallinfo2 before, after;
	char err[256];
	SSL_CTX *ctx;
	SSL **held;
	int n, i;

	if (argc != 5 || (strcmp(argv[1], "release") != 0 && strcmp(argv[1], "keep") != 0) ||
	    (n = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: tls_mem release|keep PORT CA_PEM N\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	o.ca = argv[3];
	ctx = tls_ctx_new(&o, err, sizeof(err));
	held = calloc((size_t)n, sizeof(*held));
	if (!ctx || !held) {
		fprintf(stderr, "tls_mem: %s\n", ctx ? "out of memory" : err);
		return 1;
	}
	if (strcmp(argv[1], "keep") == 0)
		SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_free(one(ctx, &sa));   /* OpenSSL's one-time allocations (providers, error strings) first */
	before = mallinfo2();
	for (i = 0; i < n; i++)
		if (!(held[i] = one(ctx, &sa)))
			return 1;
	after = mallinfo2();
	printf("%s: %d TLS connections, %zu bytes of heap in use per connection\n", argv[1], n,
	       (after.uordblks - before.uordblks) / (size_t)n);
	return 0;
}
