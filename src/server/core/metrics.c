/* The --metrics endpoint (see metrics.h): the pure renderer, the per-worker /proc reader, and an evhttp
 * server on the supervisor's event loop. A scrape is answered in one callback: read the slots, render into a
 * buffer the server keeps (it grows to the largest scrape once, then is reused), hand the bytes to evhttp.
 * Nothing here blocks: evhttp writes the reply as the scraper reads it. */
#include "server/core/metrics.h"

#include "common/sys/net.h"
#include "common/util/counter.h"
#include "common/util/sbuf.h"
#include "common/util/version.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

/* --- rendering (pure) ----------------------------------------------------------------------------------- */

static void metrics_family(struct sbuf *o, const char *name, const char *type, const char *help)
{
	sbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_value(struct sbuf *o, const char *name, uint64_t v)
{
	sbuf_printf(o, "%s %" PRIu64 "\n", name, v);
}

static void metrics_labelled(struct sbuf *o, const char *name, const char *label, const char *lv,
			     uint64_t v)
{
	sbuf_printf(o, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, lv, v);
}

static void metrics_worker_value(struct sbuf *o, const char *name, unsigned index, uint64_t v)
{
	sbuf_printf(o, "%s{worker=\"%u\"} %" PRIu64 "\n", name, index, v);
}

static void metrics_counter(struct sbuf *o, const char *name, const char *help, uint64_t v)
{
	metrics_family(o, name, "counter", help);
	metrics_value(o, name, v);
}

size_t metrics_render(const struct stats_totals *t, const struct metrics_worker *w, unsigned n, char *buf,
		      size_t len)
{
	uint64_t conns = 0, rss = 0, running = 0;
	struct sbuf o;
	unsigned i;

	sbuf_init(&o, buf, len);
	for (i = 0; i < n; i++) {
		conns += w[i].conns;
		rss += w[i].rss_bytes;
		running += w[i].running ? 1 : 0;
	}

	metrics_family(&o, "c1m_connections", "gauge", "Connections open now, all workers.");
	metrics_value(&o, "c1m_connections", conns);
	metrics_family(&o, "c1m_worker_connections", "gauge", "Connections open now in one worker process.");
	for (i = 0; i < n; i++)
		metrics_worker_value(&o, "c1m_worker_connections", i, w[i].conns);

	metrics_counter(&o, "c1m_accepted_total", "Connections accepted.", t->accepted);
	metrics_counter(&o, "c1m_closed_total", "Connections closed, including those lost with a crashed worker.",
			t->closed);
	metrics_counter(&o, "c1m_lost_total", "Connections that died with a crashed worker process.", t->lost);
	metrics_counter(&o, "c1m_idle_closed_total", "Connections closed by --idle-timeout.", t->idle_closed);

	metrics_family(&o, "c1m_errors_total", "counter",
		       "Failed accepts (emfile, enfile, accept) and connections closed by an error (read, write, "
		       "reset).");
	metrics_labelled(&o, "c1m_errors_total", "kind", "emfile", t->err_emfile);
	metrics_labelled(&o, "c1m_errors_total", "kind", "enfile", t->err_enfile);
	metrics_labelled(&o, "c1m_errors_total", "kind", "accept", t->err_accept);
	metrics_labelled(&o, "c1m_errors_total", "kind", "read", t->err_read);
	metrics_labelled(&o, "c1m_errors_total", "kind", "write", t->err_write);
	metrics_labelled(&o, "c1m_errors_total", "kind", "reset", t->err_reset);

	metrics_counter(&o, "c1m_received_bytes_total", "Bytes read from clients.", t->bytes_in);
	metrics_counter(&o, "c1m_sent_bytes_total", "Bytes of echo queued back to clients.", t->bytes_out);
	metrics_counter(&o, "c1m_accept_pauses_total",
			"Times a worker stopped accepting: EMFILE or ENFILE, or its connection cap reached.",
			t->accept_pauses);

	metrics_family(&o, "c1m_resident_memory_bytes", "gauge", "Resident memory of all worker processes.");
	metrics_value(&o, "c1m_resident_memory_bytes", rss);
	metrics_family(&o, "c1m_worker_resident_memory_bytes", "gauge", "Resident memory of one worker process.");
	for (i = 0; i < n; i++)
		metrics_worker_value(&o, "c1m_worker_resident_memory_bytes", i, w[i].rss_bytes);

	metrics_family(&o, "c1m_open_fds", "gauge", "File descriptors open in one worker process.");
	for (i = 0; i < n; i++)
		if (w[i].fds_known)
			metrics_worker_value(&o, "c1m_open_fds", i, w[i].open_fds);
	metrics_family(&o, "c1m_max_fds", "gauge", "Open-file limit (RLIMIT_NOFILE) of one worker process.");
	for (i = 0; i < n; i++)
		if (w[i].fds_known)
			metrics_worker_value(&o, "c1m_max_fds", i, w[i].max_fds);

	metrics_family(&o, "c1m_workers", "gauge", "Worker processes configured.");
	metrics_value(&o, "c1m_workers", n);
	metrics_family(&o, "c1m_workers_running", "gauge", "Worker processes running now.");
	metrics_value(&o, "c1m_workers_running", running);
	metrics_counter(&o, "c1m_worker_restarts_total", "Times a worker process was started again after it died.",
			t->restarts);
	/* The info-metric idiom: the value is always 1, the version is the label a dashboard joins on. */
	metrics_family(&o, "c1m_build_info", "gauge", "The c1m version this server runs (the value is always 1).");
	metrics_labelled(&o, "c1m_build_info", "version", version_project(), 1);
	return sbuf_needed(&o);
}

/* --- collection (impure) -------------------------------------------------------------------------------- */

int metrics_read_fds(int pid, uint64_t *open_fds, uint64_t *max_fds, char *err, size_t errlen)
{
	char path[64];
	struct stat sb;
	struct rlimit rl;
	struct dirent *de;
	uint64_t count = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) < 0) {
		snprintf(err, errlen, "prlimit(%d, RLIMIT_NOFILE): %s", pid, strerror(errno));
		return -1;
	}
	if (stat(path, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Before Linux 6.2 the size is 0; a process with no descriptors at all also counts the slow way, to 0. */
	if (sb.st_size > 0) {
		count = (uint64_t)sb.st_size;
	} else {
		d = opendir(path);
		if (d == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				count++;
		closedir(d);
	}
	*open_fds = count;
	*max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	return 0;
}

void metrics_collect(const void *slots, size_t stride, unsigned n, struct stats_totals *t,
		     struct metrics_worker *w)
{
	char err[128];
	unsigned i;

	stats_sum(slots, stride, n, t);
	for (i = 0; i < n; i++) {
		const struct stats_slot *s = (const struct stats_slot *)(const void *)((const char *)slots +
											 (size_t)i * stride);
		/* The supervisor clears the pid when it reaps the worker, and it reaps on this same thread, so
		 * a pid seen here is a live worker or an unreaped zombie, never a recycled pid. */
		int32_t pid = counter_get_i32(&s->pid);

		memset(&w[i], 0, sizeof(w[i]));
		w[i].running = pid > 0;
		if (!w[i].running)
			continue; /* what a dead worker held is gone, whatever its slot still says */
		w[i].conns = counter_get(&s->conns);
		w[i].rss_bytes = counter_get(&s->rss_bytes);
		w[i].fds_known = metrics_read_fds(pid, &w[i].open_fds, &w[i].max_fds, err, sizeof(err)) == 0;
	}
}

/* --- HTTP endpoint -------------------------------------------------------------------------------------- */

struct metrics_server {
	struct evhttp *http;
	uint16_t port;               /* bound port */
	const void *slots;           /* the workers' shared slots (read only here) */
	size_t stride;               /* bytes between slots */
	unsigned n;                  /* workers */
	struct metrics_worker *w;    /* n entries, refilled per scrape */
	char *buf;                   /* rendered text, reused across scrapes */
	size_t buf_len;              /* bytes of buf */
};

static void metrics_reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	if (body == NULL) {
		evhttp_send_reply(req, code, reason, NULL);
		return;
	}
	evbuffer_add(body, text, strlen(text));
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
}

/* Renders into ms->buf, growing it when the text no longer fits (more workers running than last time). */
static int metrics_render_scrape(struct metrics_server *ms, size_t *out_len)
{
	struct stats_totals t;
	size_t need;

	metrics_collect(ms->slots, ms->stride, ms->n, &t, ms->w);
	need = metrics_render(&t, ms->w, ms->n, ms->buf, ms->buf_len);
	if (need >= ms->buf_len) {
		char *nb = realloc(ms->buf, need + 1);

		if (nb == NULL)
			return -1;
		ms->buf = nb;
		ms->buf_len = need + 1;
		need = metrics_render(&t, ms->w, ms->n, ms->buf, ms->buf_len);
	}
	*out_len = need;
	return 0;
}

static void metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics_server *ms = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evbuffer *body;
	size_t len;

	if (path == NULL || strcmp(path, METRICS_PATH) != 0) {
		metrics_reply_text(req, HTTP_NOTFOUND, "Not Found", "not found; metrics are at " METRICS_PATH "\n");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
		metrics_reply_text(req, 405, "Method Not Allowed", "only GET is supported\n");
		return;
	}
	body = evbuffer_new();
	if (body == NULL || metrics_render_scrape(ms, &len) < 0) {
		if (body != NULL)
			evbuffer_free(body);
		metrics_reply_text(req, HTTP_INTERNAL, "Internal Server Error", "out of memory\n");
		return;
	}
	evbuffer_add(body, ms->buf, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* A listening socket of our own rather than evhttp_bind_socket(): the error names the step that failed, and
 * the accepted connections are close-on-exec by our flags, not by the library's choice. SO_REUSEADDR (set by
 * net_listen): a restarted server must not wait out TIME_WAIT connections of the previous one's scrapes. */
static int metrics_listen(const char *addr, uint16_t port, uint16_t *bound, char *err, size_t errlen)
{
	int fd;

	if (net_listen(addr, port, METRICS_BACKLOG, false, &fd, err, errlen) < 0)
		return -1;
	if (net_local_port(fd, bound, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct metrics_server *metrics_server_new(struct event_base *base, const char *addr, uint16_t port,
					  const void *slots, size_t stride, unsigned n, char *err, size_t errlen)
{
	struct metrics_server *ms = calloc(1, sizeof(*ms));
	struct evconnlistener *lev = NULL;
	int fd = -1;

	if (ms == NULL || (ms->w = calloc(n != 0 ? n : 1, sizeof(*ms->w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ms->slots = slots;
	ms->stride = stride;
	ms->n = n;
	fd = metrics_listen(addr, port, &ms->port, err, errlen);
	if (fd < 0)
		goto fail;
	ms->http = evhttp_new(base);
	/* Backlog 0: already listening. The connections it accepts are close-on-exec and closed with it. */
	lev = ms->http != NULL ? evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
						    0, fd) : NULL;
	if (lev == NULL) {
		snprintf(err, errlen, "cannot set up the HTTP server");
		goto fail;
	}
	fd = -1; /* the listener owns it now */
	if (evhttp_bind_listener(ms->http, lev) == NULL) {
		snprintf(err, errlen, "cannot set up the HTTP server");
		goto fail;
	}
	lev = NULL; /* and evhttp owns the listener */
	/* Let every method reach the callback, so that a POST gets 405 and not libevent's generic refusal. */
	evhttp_set_allowed_methods(ms->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
				   EVHTTP_REQ_PATCH);
	evhttp_set_timeout(ms->http, METRICS_TIMEOUT_S);
	evhttp_set_max_headers_size(ms->http, 16384);
	evhttp_set_max_body_size(ms->http, 4096);
	evhttp_set_gencb(ms->http, metrics_request_cb, ms);
	return ms;
fail:
	if (lev != NULL)
		evconnlistener_free(lev);
	if (fd >= 0)
		close(fd);
	metrics_server_free(&ms);
	return NULL;
}

uint16_t metrics_server_port(const struct metrics_server *ms)
{
	return ms->port;
}

void metrics_server_free(struct metrics_server **msp)
{
	struct metrics_server *ms = *msp;

	if (ms == NULL)
		return;
	if (ms->http != NULL)
		evhttp_free(ms->http);
	free(ms->w);
	free(ms->buf);
	free(ms);
	*msp = NULL;
}
