/* c1m-epoll: the raw-epoll single-reactor baseline. Startup, limits checks and supervision are c1m-server's,
 * through the shared supervisor (srvmain.c), so the two servers differ only in what a worker runs: here the
 * original write-up's reactor of event blocks with a fixed 4 KB buffer per slot (epecho.c, reactor.c) instead
 * of libevent. That slot is the baseline's real user memory per connection, whether used or not, so it is
 * what the limits plan counts, and --high-watermark is refused. */
#include "server/epoll/epecho.h"
#include "server/epoll/reactor.h"
#include "server/core/srvmain.h"
#include "server/core/stats.h"

int main(int argc, char **argv)
{
	static const struct srvmain_ops ops = {
		.prog = "c1m-epoll",
		.slot_size = sizeof(struct stats_slot),
		.user_bytes_per_conn = sizeof(struct reactor_event),
		.fixed_buffer = REACTOR_BUFFER_LENGTH,
		.conn_slot_bytes = sizeof(struct reactor_event),
		.worker_main = epecho_worker_main,
	};

	return srvmain_run(argc, argv, &ops);
}
