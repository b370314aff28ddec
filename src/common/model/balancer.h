/* The capacity model of the balancer tier: an L4 balancer (HAProxy in TCP mode, tuning/haproxy/) in front of
 * several c1m-server hosts. It accepts N client connections and opens one connection of its own to a backend
 * for each, in one process, so it needs 2 fds per connection under one open-file limit, its maxconn must
 * admit N, and toward the backends it is a client: each (source address, backend address, backend port)
 * offers the local port range once, so sources x backends x ports x range width caps it (about 28,000
 * connections for one source and one backend port with the default range 32768-60999). balancer_evaluate
 * turns those limits, fs.nr_open, fs.file-max, conntrack (two flows per connection) and memory into the
 * checks of a limits report, so the doctor's table and JSON render it as for the other roles. Pure. */
#ifndef C1M_MODEL_BALANCER_H
#define C1M_MODEL_BALANCER_H

#include "common/model/limits.h"

#define BALANCER_FDS_PER_CONN   2u    /* the client's socket and the backend's */
#define BALANCER_FD_RESERVE     200u  /* fds HAProxy holds besides connections: listeners, pollers, logs; it
                                         asked for 2 x maxconn + 116 with tuning/haproxy's 100 ports */
#define BALANCER_FLOWS_PER_CONN 2u    /* conntrack entries: client -> balancer and balancer -> backend */
#define BALANCER_USER_CONN_BYTES 4096u /* HAProxy's user-space bytes per idle proxied connection, an estimate
                                         (session, stream, two connections); buffers exist only while data
                                         moves */

/* Pure: the checks of p (role LIMITS_ROLE_BALANCER) against the machine v, into r (r->workers_* stay 0,
 * r->sources_needed is the source addresses that fit N toward the backends). */
void balancer_evaluate(const struct limits_plan *p, const struct limits_values *v, struct limits_report *r);

/* Pure: the fd limit HAProxy runs with: p->fd_limit if given, else what it can raise itself to here
 * (fs.nr_open with CAP_SYS_RESOURCE, else the hard limit). */
uint64_t balancer_fd_limit(const struct limits_plan *p, const struct limits_values *v);

/* Pure: connections an fd limit admits: (fds - BALANCER_FD_RESERVE) / BALANCER_FDS_PER_CONN, 0 if none. */
uint64_t balancer_fd_capacity(uint64_t fds);

#endif
