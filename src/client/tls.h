/* TLS for c1m-client (--tls): the one SSL_CTX of a process, built at start from the options, a client SSL
 * per connection, the words for a TLS failure, and recv()/send() over an SSL for the held connection.
 * The handshake itself runs in libevent's OpenSSL bufferevent (loadgen_ramp.c); see loadgen_int.h for why
 * the held connection keeps only its SSL. OpenSSL 3. */
#ifndef C1M_TLS_H
#define C1M_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* OpenSSL's own tags for SSL and SSL_CTX, so this header (and client_opts.h) needs no OpenSSL header */
struct ssl_st;
struct ssl_ctx_st;

#define TLS_SNI_MAX  255        /* bytes of a server name (RFC 6066 caps the DNS name at 255) */
#define TLS_NOTE_LEN 128        /* a TLS failure in words (fits PROTO_NOTE_LEN) */

/* What the command line asked for. */
struct tls_opts {
	bool on;                    /* --tls */
	bool insecure;              /* --insecure: the server's certificate is not verified */
	const char *ca;             /* --ca FILE (PEM), NULL = the system's default CA paths */
	const char *sni;            /* --sni NAME; NULL = none (main defaults it to a HOST name) */
	const char *verify_host;    /* the name the certificate must carry, NULL = verify_ip */
	const char *verify_ip;      /* the address the certificate must carry when there is no name */
};

/* The process's client context: TLS 1.2 or later, SSL_MODE_RELEASE_BUFFERS (an idle connection keeps no
 * record buffers), partial writes like send(), a missing close_notify read as EOF; the peer verified
 * against o->ca or the system's CAs and the host name or address, unless o->insecure. Reads the CA file,
 * so an unreadable or empty one is an error here, at start. NULL with err on failure. */
struct ssl_ctx_st *tls_ctx_new(const struct tls_opts *o, char *err, size_t errlen);

void tls_ctx_free(struct ssl_ctx_st **ctx);

/* A client SSL of ctx with the server name sni (NULL = no SNI). NULL when out of memory. */
struct ssl_st *tls_conn_new(struct ssl_ctx_st *ctx, const char *sni);

/* The failure in words: OpenSSL's text for e (ERR_error_string_n, e.g. "error:0A000086:SSL
 * routines::certificate verify failed") and, when the peer's certificate failed to verify, why
 * ("unable to get local issuer certificate"). ssl may be NULL. */
void tls_describe(unsigned long e, const struct ssl_st *ssl, char *out, size_t outlen);

/* recv() and send() over an established SSL, with their return convention: bytes, 0 at the peer's
 * close (close_notify or EOF), -1 with errno: EAGAIN when OpenSSL waits for the socket, EPROTO for a
 * TLS error (its text in note, which may be NULL), the socket's errno otherwise. */
ssize_t tls_recv(struct ssl_st *ssl, void *buf, size_t len, char *note, size_t notelen);
ssize_t tls_send(struct ssl_st *ssl, const void *buf, size_t len, char *note, size_t notelen);

#endif
