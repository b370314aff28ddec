/* Unit tests for the client's TLS context (tls.h): what --ca, --insecure and the system's CAs make of it,
 * the errors for an unreadable or certificate-less --ca, and the words for a TLS failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "client/tls.h"

static void test_ctx_modes(void **state)
{
	struct tls_opts o = { .on = true, .insecure = true };
	char err[256];
	SSL_CTX *ctx;
	SSL *ssl;

	(void)state;
	ctx = tls_ctx_new(&o, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	assert_true(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS);
	assert_true(SSL_CTX_get_mode(ctx) & SSL_MODE_ENABLE_PARTIAL_WRITE);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	ssl = tls_conn_new(ctx, "localhost");
	assert_non_null(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), "localhost");
	SSL_free(ssl);
	ssl = tls_conn_new(ctx, NULL);
	assert_non_null(ssl);
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	SSL_free(ssl);
	tls_ctx_free(&ctx);
	assert_null(ctx);

	/* verified: the system's CAs, the certificate must name the host (or the address) */
	o.insecure = false;
	o.verify_host = "localhost";
	ctx = tls_ctx_new(&o, err, sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	tls_ctx_free(&ctx);
	o.verify_host = NULL;
	o.verify_ip = "127.0.0.1";
	ctx = tls_ctx_new(&o, err, sizeof(err));
	assert_non_null(ctx);
	tls_ctx_free(&ctx);
	o.verify_ip = "not an address";
	assert_null(tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "the address to verify"));
}

static void test_ca_file(void **state)
{
	struct tls_opts o = { .on = true, .ca = "/nonexistent/ca.pem" };
	char err[256], path[] = "/tmp/c1m-test-tls-XXXXXX";
	int fd;

	(void)state;
	assert_null(tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "--ca /nonexistent/ca.pem: cannot read it"));
	assert_non_null(strstr(err, "No such file"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a certificate\n", 18), 18);
	close(fd);
	o.ca = path;
	assert_null(tls_ctx_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "no PEM certificate loaded"));
	assert_int_equal(ERR_peek_error(), 0);   /* the queue is left empty for the connections */
	unlink(path);
}

static void test_describe(void **state)
{
	char out[TLS_NOTE_LEN];
	unsigned long e = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED);

	(void)state;
	tls_describe(e, NULL, out, sizeof(out));
	assert_non_null(strstr(out, "certificate verify failed"));
	tls_describe(0, NULL, out, sizeof(out));
	assert_string_equal(out, "TLS error without an OpenSSL error code");
	tls_describe(e, NULL, out, 8);   /* cut, never overrun */
	assert_int_equal(strlen(out), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_modes),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
