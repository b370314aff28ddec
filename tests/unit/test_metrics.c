/* Unit tests for the Prometheus renderer: the exact text for fabricated counters (two workers, one of them
 * with unknown descriptors), totals equal to the sums of the per-worker series, truncation reporting the
 * length needed, and the collector reading slots (a dead worker counts nothing) and this process's own fds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/core/metrics.h"
#include "server/core/stats.h"
#include "common/util/counter.h"
#include "common/util/version.h"

/* The scrape of fabricate()'s counters, without the last family (c1m_build_info: see expected_two()). */
static const char expected_counters[] =
	"# HELP c1m_connections Connections open now, all workers.\n"
	"# TYPE c1m_connections gauge\n"
	"c1m_connections 1500\n"
	"# HELP c1m_worker_connections Connections open now in one worker process.\n"
	"# TYPE c1m_worker_connections gauge\n"
	"c1m_worker_connections{worker=\"0\"} 1000\n"
	"c1m_worker_connections{worker=\"1\"} 500\n"
	"# HELP c1m_accepted_total Connections accepted.\n"
	"# TYPE c1m_accepted_total counter\n"
	"c1m_accepted_total 2000\n"
	"# HELP c1m_closed_total Connections closed, including those lost with a crashed worker.\n"
	"# TYPE c1m_closed_total counter\n"
	"c1m_closed_total 500\n"
	"# HELP c1m_lost_total Connections that died with a crashed worker process.\n"
	"# TYPE c1m_lost_total counter\n"
	"c1m_lost_total 7\n"
	"# HELP c1m_idle_closed_total Connections closed by --idle-timeout.\n"
	"# TYPE c1m_idle_closed_total counter\n"
	"c1m_idle_closed_total 9\n"
	"# HELP c1m_errors_total Failed accepts (emfile, enfile, accept) and connections closed by an error (read, "
	"write, reset).\n"
	"# TYPE c1m_errors_total counter\n"
	"c1m_errors_total{kind=\"emfile\"} 11\n"
	"c1m_errors_total{kind=\"enfile\"} 12\n"
	"c1m_errors_total{kind=\"accept\"} 13\n"
	"c1m_errors_total{kind=\"read\"} 14\n"
	"c1m_errors_total{kind=\"write\"} 15\n"
	"c1m_errors_total{kind=\"reset\"} 16\n"
	"# HELP c1m_received_bytes_total Bytes read from clients.\n"
	"# TYPE c1m_received_bytes_total counter\n"
	"c1m_received_bytes_total 18446744073709551615\n"
	"# HELP c1m_sent_bytes_total Bytes of echo queued back to clients.\n"
	"# TYPE c1m_sent_bytes_total counter\n"
	"c1m_sent_bytes_total 123456789012\n"
	"# HELP c1m_accept_pauses_total Times a worker stopped accepting: EMFILE or ENFILE, or its connection cap "
	"reached.\n"
	"# TYPE c1m_accept_pauses_total counter\n"
	"c1m_accept_pauses_total 3\n"
	"# HELP c1m_resident_memory_bytes Resident memory of all worker processes.\n"
	"# TYPE c1m_resident_memory_bytes gauge\n"
	"c1m_resident_memory_bytes 35651584\n"
	"# HELP c1m_worker_resident_memory_bytes Resident memory of one worker process.\n"
	"# TYPE c1m_worker_resident_memory_bytes gauge\n"
	"c1m_worker_resident_memory_bytes{worker=\"0\"} 25165824\n"
	"c1m_worker_resident_memory_bytes{worker=\"1\"} 10485760\n"
	"# HELP c1m_open_fds File descriptors open in one worker process.\n"
	"# TYPE c1m_open_fds gauge\n"
	"c1m_open_fds{worker=\"0\"} 1105\n"
	"# HELP c1m_max_fds Open-file limit (RLIMIT_NOFILE) of one worker process.\n"
	"# TYPE c1m_max_fds gauge\n"
	"c1m_max_fds{worker=\"0\"} 20000\n"
	"# HELP c1m_workers Worker processes configured.\n"
	"# TYPE c1m_workers gauge\n"
	"c1m_workers 2\n"
	"# HELP c1m_workers_running Worker processes running now.\n"
	"# TYPE c1m_workers_running gauge\n"
	"c1m_workers_running 2\n"
	"# HELP c1m_worker_restarts_total Times a worker process was started again after it died.\n"
	"# TYPE c1m_worker_restarts_total counter\n"
	"c1m_worker_restarts_total 1\n";

/* expected_counters and then the build info, whose label is the version this build was configured with. */
static const char *expected_two(void)
{
	static char text[8192];

	snprintf(text, sizeof(text), "%s# HELP c1m_build_info The c1m version this server runs (the value is always "
		 "1).\n# TYPE c1m_build_info gauge\nc1m_build_info{version=\"%s\"} 1\n", expected_counters,
		 version_project());
	return text;
}

static void fabricate(struct stats_totals *t, struct metrics_worker w[2])
{
	memset(t, 0, sizeof(*t));
	t->conns = 999999; /* must not be used: the gauge is the sum over the workers */
	t->accepted = 2000;
	t->closed = 500;
	t->lost = 7;
	t->idle_closed = 9;
	t->err_emfile = 11;
	t->err_enfile = 12;
	t->err_accept = 13;
	t->err_read = 14;
	t->err_write = 15;
	t->err_reset = 16;
	t->bytes_in = UINT64_MAX;
	t->bytes_out = 123456789012ULL;
	t->accept_pauses = 3;
	t->rss_bytes = 1; /* likewise summed from the workers */
	t->restarts = 1;
	memset(w, 0, 2 * sizeof(w[0]));
	w[0].running = true;
	w[0].conns = 1000;
	w[0].rss_bytes = 24u << 20;
	w[0].fds_known = true;
	w[0].open_fds = 1105;
	w[0].max_fds = 20000;
	w[1].running = true;
	w[1].conns = 500;
	w[1].rss_bytes = 10u << 20;
	w[1].fds_known = false; /* e.g. the read raced with its death: no series rather than a wrong one */
}

static void test_render_exact(void **state)
{
	struct stats_totals t;
	struct metrics_worker w[2];
	char buf[8192];
	size_t n;

	(void)state;
	fabricate(&t, w);
	n = metrics_render(&t, w, 2, buf, sizeof(buf));
	assert_string_equal(buf, expected_two());
	assert_int_equal(n, strlen(expected_two()));
}

/* Every family appears once, its HELP line, then its TYPE line, then only its own samples; the text ends in a
 * newline. This is what promtool and the Prometheus parser insist on. */
static void test_render_shape(void **state)
{
	struct stats_totals t;
	struct metrics_worker w[2];
	char buf[8192], *line, *save = NULL;
	char seen[32][64], family[64] = "";
	unsigned nseen = 0, i;
	bool want_type = false;

	(void)state;
	fabricate(&t, w);
	metrics_render(&t, w, 2, buf, sizeof(buf));
	assert_int_equal(buf[strlen(buf) - 1], '\n');
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[64];

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_false(want_type);
			assert_int_equal(sscanf(line + 7, "%63s", name), 1);
			assert_int_equal(strncmp(name, "c1m_", 4), 0);
			for (i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], name);
			assert_true(nseen < 32);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(family, sizeof(family), "%s", name);
			want_type = true;
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_true(want_type);
			assert_int_equal(sscanf(line + 7, "%63s", name), 1);
			assert_string_equal(name, family);
			want_type = false;
		} else {
			assert_false(want_type);
			assert_int_equal(sscanf(line, "%63[a-z0-9_]", name), 1);
			assert_string_equal(name, family);
		}
	}
	assert_int_equal(nseen, 18);
}

/* Truncation: the return is the full length, the buffer holds a NUL-terminated prefix. */
static void test_render_truncated(void **state)
{
	struct stats_totals t;
	struct metrics_worker w[2];
	char small[64];
	size_t n;

	(void)state;
	fabricate(&t, w);
	memset(small, 'x', sizeof(small));
	n = metrics_render(&t, w, 2, small, sizeof(small));
	assert_int_equal(n, strlen(expected_two()));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(strncmp(small, expected_two(), sizeof(small) - 1), 0);
	assert_int_equal(metrics_render(&t, w, 2, NULL, 0), strlen(expected_two()));
}

/* No workers running: totals 0, no descriptor samples, the families still declared. */
static void test_render_none_running(void **state)
{
	struct stats_totals t;
	struct metrics_worker w[1];
	char buf[8192];

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(w, 0, sizeof(w));
	metrics_render(&t, w, 1, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\nc1m_connections 0\n"));
	assert_non_null(strstr(buf, "\nc1m_worker_connections{worker=\"0\"} 0\n"));
	assert_non_null(strstr(buf, "# TYPE c1m_open_fds gauge\n# HELP c1m_max_fds"));
	assert_null(strstr(buf, "c1m_open_fds{"));
	assert_non_null(strstr(buf, "\nc1m_workers_running 0\n"));
	assert_non_null(strstr(buf, "\nc1m_build_info{version=\""));
}

/* Collector: a slot whose pid is 0 (reaped) contributes nothing live; a slot with our own pid gets our real
 * descriptor count and limit. */
static void test_collect(void **state)
{
	struct pad {
		struct stats_slot s;
		char more[100];
	} slots[2];
	struct stats_totals t;
	struct metrics_worker w[2];
	struct rlimit rl;
	uint64_t open_fds, max_fds;
	char err[128];

	(void)state;
	memset(slots, 0, sizeof(slots));
	stats_slot_adopt(&slots[0].s, (int32_t)getpid());
	counter_set(&slots[0].s.conns, 42);
	counter_add(&slots[0].s.accepted, 50);
	counter_set(&slots[0].s.rss_bytes, 4096);
	stats_slot_adopt(&slots[1].s, 12345);
	counter_set(&slots[1].s.conns, 9); /* held by a worker that died: gone */
	counter_add(&slots[1].s.accepted, 9);
	atomic_store(&slots[1].s.pid, 0);
	metrics_collect(slots, sizeof(slots[0]), 2, &t, w);
	assert_int_equal(t.accepted, 59);
	assert_true(w[0].running);
	assert_int_equal(w[0].conns, 42);
	assert_int_equal(w[0].rss_bytes, 4096);
	assert_true(w[0].fds_known);
	assert_true(w[0].open_fds >= 3);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(w[0].max_fds, (uint64_t)rl.rlim_cur);
	assert_false(w[1].running);
	assert_int_equal(w[1].conns, 0);
	assert_false(w[1].fds_known);

	/* One more descriptor open is one more counted. */
	assert_int_equal(metrics_read_fds(getpid(), &open_fds, &max_fds, err, sizeof(err)), 0);
	{
		int fd = dup(0);
		uint64_t open2;

		assert_true(fd >= 0);
		assert_int_equal(metrics_read_fds(getpid(), &open2, &max_fds, err, sizeof(err)), 0);
		assert_int_equal(open2, open_fds + 1);
		close(fd);
	}
	/* A pid that cannot exist. */
	assert_int_equal(metrics_read_fds(0x3fffffff, &open_fds, &max_fds, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_render_shape),
		cmocka_unit_test(test_render_truncated),
		cmocka_unit_test(test_render_none_running),
		cmocka_unit_test(test_collect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
