/* Load generator, --tls: the TLS handshake after the TCP connect (in libevent's OpenSSL bufferevent), its
 * failures in words, and the held connection's SSL_read/SSL_write (see loadgen_int.h for the design). */
#include "client/loadgen_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/util/clock.h"
#include "common/util/sbuf.h"

/* The first TLS note of the run, with the connection's id. */
static void tls_note(struct conn *c, const char *what)
{
	char line[PROTO_NOTE_LEN];
	struct sbuf sb;

	sbuf_init(&sb, line, sizeof(line));
	sbuf_printf(&sb, "connection %llu: TLS: %s", (unsigned long long)c->id, what);
	loadgen_note(c->lg, line);
}

int loadgen_tls_start(struct conn *c, bufferevent_data_cb read_cb, bufferevent_event_cb event_cb)
{
	struct loadgen *lg = c->lg;
	uint64_t now = clock_now_ns(), deadline = c->u.t_ns + (uint64_t)lg->cfg.connect_timeout_ms * CLOCK_NS_PER_MS;
	SSL *ssl = tls_conn_new(lg->cfg.tls, lg->cfg.sni);
	struct bufferevent *bev = NULL;
	struct timeval tv;

	if (ssl)   /* without BEV_OPT_CLOSE_ON_FREE: freeing it leaves the fd and the SSL to conn_free */
		bev = bufferevent_openssl_socket_new(lg->base, c->fd, ssl, BUFFEREVENT_SSL_CONNECTING, 0);
	if (!bev) {
		if (ssl)
			SSL_free(ssl);
		conn_fail(c, DIAG_ENOMEM, ENOMEM);
		return -1;
	}
	/* the socket bufferevent's events leave the event map when this callback returns */
	bufferevent_free(c->io.bev);
	c->io.bev = bev;
	lg->ssl[c->slot] = ssl;
	bufferevent_setcb(bev, read_cb, NULL, event_cb, c);
	/* the handshake has what is left of the connect deadline */
	tv = clock_timeval_ns(deadline > now ? deadline - now : CLOCK_NS_PER_US);
	bufferevent_set_timeouts(bev, &tv, &tv);
	return 0;
}

bool loadgen_tls_failed(struct conn *c, struct bufferevent *bev, short what, int e)
{
	struct loadgen *lg = c->lg;
	SSL *ssl = lg->ssl[c->slot];
	unsigned long code, codes[8], first = 0;
	char what_s[TLS_NOTE_LEN];
	bool handshake = c->state == CONN_CONNECTING;
	unsigned n = 0;

	if (!ssl)
		return false;   /* the TCP connect itself failed: its errno says how */
	/* libevent keeps SSL_get_error's code, then OpenSSL's queue, and hands them out last first: the first
	 * error of OpenSSL's (a library in it) is the one that says what happened */
	while ((code = bufferevent_get_openssl_error(bev)) != 0)
		if (n < sizeof(codes) / sizeof(codes[0]))
			codes[n++] = code;
	while (n-- > 0)
		if (ERR_GET_LIB(codes[n]) != 0) {
			first = codes[n];
			break;
		}
	if (first) {
		tls_describe(first, ssl, what_s, sizeof(what_s));
	} else if (!handshake) {
		return false;   /* after the handshake: the protocol's failure, as without TLS */
	} else if (what & BEV_EVENT_TIMEOUT) {
		snprintf(what_s, sizeof(what_s), "handshake not complete within the connect deadline");
	} else if (what & BEV_EVENT_EOF || e == 0) {
		snprintf(what_s, sizeof(what_s), "the server closed the connection during the handshake");
	} else {
		snprintf(what_s, sizeof(what_s), "%s during the handshake", strerror(e));
	}
	tls_note(c, what_s);
	ERR_clear_error();
	conn_fail(c, DIAG_TLS, e);
	return true;
}

void loadgen_tls_kick(struct conn *c)
{
	if (SSL_pending(c->lg->ssl[c->slot]) > 0)
		event_active(c->io.ev, EV_READ, 1);
}

void loadgen_tls_free(struct conn *c)
{
	SSL *ssl = c->lg->ssl[c->slot];

	if (!ssl)
		return;
	if (c->state == CONN_HOLDING || c->state == CONN_ACTIVE)
		(void)SSL_shutdown(ssl);   /* close_notify, best effort: the socket closes next */
	SSL_free(ssl);
	ERR_clear_error();
	c->lg->ssl[c->slot] = NULL;
}

ssize_t loadgen_tls_recv(struct conn *c, void *buf, size_t len)
{
	char note[TLS_NOTE_LEN];
	ssize_t n = tls_recv(c->lg->ssl[c->slot], buf, len, note, sizeof(note));
	int e = errno;

	if (n > 0)
		loadgen_tls_kick(c);   /* decrypted bytes the socket will not signal again */
	else if (n < 0 && e == EPROTO)
		tls_note(c, note);
	errno = e;
	return n;
}

ssize_t loadgen_tls_send(struct conn *c, const void *buf, size_t len)
{
	char note[TLS_NOTE_LEN];
	ssize_t n = tls_send(c->lg->ssl[c->slot], buf, len, note, sizeof(note));
	int e = errno;

	if (n < 0 && e == EPROTO)
		tls_note(c, note);
	errno = e;
	return n;
}

void loadgen_io_fail(struct conn *c, int e)
{
	conn_fail(c, c->lg->ssl && e == EPROTO ? DIAG_TLS : diag_from_errno(e), e);
}
