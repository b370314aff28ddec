/* The c1m-server worker: one libevent event_base, one evconnlistener per port (SO_REUSEPORT, shared with the
 * other workers), one bufferevent per connection echoing with evbuffer_add_buffer(). The accept policy is
 * the shared one (acceptctl.h); this worker supplies its libevent mechanics. */
#ifndef C1M_ECHO_H
#define C1M_ECHO_H

#include "server/core/srvmain.h"

#define ECHO_HOUSEKEEP_MS   1000u /* RSS refresh period */
#define ECHO_USER_CONN_BYTES 1100u /* user memory per idle connection: struct echo_conn plus the bufferevent
                                      and its two empty evbuffers, for the limits plan */

/* srvmain_ops.worker_main for the server; slot is the worker's struct stats_slot. */
int echo_worker_main(unsigned index, void *slot, const struct srvmain_config *cfg);

#endif
