/* c1m-server: the libevent echo server. Startup, limits checks and supervision are the shared supervisor's
 * (srvmain.c); what a worker runs is echo.c. */
#include "server/echo.h"
#include "server/core/srvmain.h"
#include "server/core/stats.h"

int main(int argc, char **argv)
{
	static const struct srvmain_ops ops = {
		.prog = "c1m-server",
		.slot_size = sizeof(struct stats_slot),
		.user_bytes_per_conn = ECHO_USER_CONN_BYTES,
		.worker_main = echo_worker_main,
	};

	return srvmain_run(argc, argv, &ops);
}
