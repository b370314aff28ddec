/* TLS for c1m-client: the process's SSL_CTX, a client SSL per connection, failures in words, and the
 * recv()/send() of a held TLS connection (see tls.h). */
#include "client/tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/util/sbuf.h"

/* OpenSSL's first queued error as text into err after what; clears the queue. */
static void ctx_error(const char *what, char *err, size_t errlen)
{
	char text[256];
	unsigned long e = ERR_peek_error();

	if (e)
		ERR_error_string_n(e, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "unknown OpenSSL error");
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, text);
}

/* The CA file: readable and holding at least one certificate, so a typo fails at start and not as 5,000
 * verify failures. */
static int load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
	char what[96];

	if (access(ca, R_OK) < 0) {
		snprintf(err, errlen, "--ca %s: cannot read it: %s", ca, strerror(errno));
		return -1;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(what, sizeof(what), "--ca %.60s: no PEM certificate loaded", ca);
		ctx_error(what, err, errlen);
		return -1;
	}
	return 0;
}

SSL_CTX *tls_ctx_new(const struct tls_opts *o, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;

	if (!ctx) {
		ctx_error("SSL_CTX_new", err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* every connection is a new client: no session cache, so each one pays a full handshake */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->ca) {
		if (load_ca(ctx, o->ca, err, errlen) < 0)
			goto fail;
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ctx_error("the system's CA paths", err, errlen);
		goto fail;
	}
	/* the certificate must name the server: its host name, else its address */
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (o->verify_host && X509_VERIFY_PARAM_set1_host(param, o->verify_host, 0) != 1) {
		ctx_error("the host name to verify", err, errlen);
		goto fail;
	}
	if (!o->verify_host && o->verify_ip && X509_VERIFY_PARAM_set1_ip_asc(param, o->verify_ip) != 1) {
		ctx_error("the address to verify", err, errlen);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void tls_ctx_free(SSL_CTX **ctx)
{
	SSL_CTX_free(*ctx);
	*ctx = NULL;
}

SSL *tls_conn_new(SSL_CTX *ctx, const char *sni)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl && sni && SSL_set_tlsext_host_name(ssl, sni) != 1) {
		SSL_free(ssl);
		ssl = NULL;
	}
	ERR_clear_error();
	return ssl;
}

void tls_describe(unsigned long e, const SSL *ssl, char *out, size_t outlen)
{
	char text[160];
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	struct sbuf sb;

	sbuf_init(&sb, out, outlen);
	if (e) {
		ERR_error_string_n(e, text, sizeof(text));
		sbuf_printf(&sb, "%s", text);
	} else {
		sbuf_printf(&sb, "TLS error without an OpenSSL error code");
	}
	if (v != X509_V_OK)
		sbuf_printf(&sb, " (%s)", X509_verify_cert_error_string(v));
}

/* The return convention of recv()/send() for an SSL_read/SSL_write result r. */
static ssize_t io_result(SSL *ssl, int r, char *note, size_t notelen)
{
	int saved = errno, e = SSL_get_error(ssl, r);
	unsigned long code;

	if (r > 0)
		return r;
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (saved == 0)
			return 0;   /* EOF without close_notify */
		errno = saved;
		return -1;
	default:
		code = ERR_peek_error();
		if (note)
			tls_describe(code, NULL, note, notelen);
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

ssize_t tls_recv(SSL *ssl, void *buf, size_t len, char *note, size_t notelen)
{
	int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;

	errno = 0;
	return io_result(ssl, SSL_read(ssl, buf, n), note, notelen);
}

ssize_t tls_send(SSL *ssl, const void *buf, size_t len, char *note, size_t notelen)
{
	int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;

	errno = 0;
	return io_result(ssl, SSL_write(ssl, buf, n), note, notelen);
}
