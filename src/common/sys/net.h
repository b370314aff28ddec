/* Listening-socket helpers shared by c1m-server and c1m-epoll: one generic constructor that sets every option
 * the 1M-connection case depends on (nonblocking, close-on-exec, SO_REUSEADDR, optional SO_REUSEPORT and an
 * explicit backlog, never a library default of 128), plus thin wrappers for a range of ports. */
#ifndef C1M_NET_H
#define C1M_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util/addr.h"

/* Creates, binds and listens one TCP socket on a numeric IPv4/IPv6 address. On success *fd_out is a
 * nonblocking, close-on-exec listening socket. An IPv6 socket has IPV6_V6ONLY off, so "::" takes IPv4
 * connections too (their peers seen as ::ffff:A.B.C.D), whatever net.ipv6.bindv6only is. */
int net_listen(const char *addr, uint16_t port, int backlog, bool reuseport, int *fd_out, char *err, size_t errlen);

/* The local port fd is bound to (the one the kernel chose for port 0). Returns 0 or -1 with err. */
int net_local_port(int fd, uint16_t *port, char *err, size_t errlen);

/* Opens count listeners on port_base .. port_base+count-1 into fds[0..count-1]. All or nothing: on failure
 * the ones already opened are closed and every fds[i] is -1. */
int net_listen_range(const char *addr, uint16_t port_base, unsigned count, int backlog, bool reuseport, int *fds,
		     char *err, size_t errlen);

/* Closes fds[0..count-1] that are >= 0 and sets them to -1. */
void net_close_range(int *fds, unsigned count);

/* Checks that no other socket holds addr:port_base .. +count-1: binds each port WITHOUT SO_REUSEPORT (so a
 * second server using SO_REUSEPORT cannot silently share our ports) and closes it again. Run it once in the
 * supervisor before the workers bind with SO_REUSEPORT. */
int net_ports_free(const char *addr, uint16_t port_base, unsigned count, char *err, size_t errlen);

/* Accept-side socket tuning for a freshly accepted connection: TCP_NODELAY (echo replies are small and
 * latency is what c1m measures). Returns 0 or -1 with err. */
int net_tune_accepted(int fd, char *err, size_t errlen);

/* Resolves a host name once (getaddrinfo; the caller prints the result). family AF_INET or AF_INET6 asks
 * for that family only, AF_UNSPEC takes the first answer of either, in the resolver's order. 0, or -1 with
 * a message naming the host and the resolver's reason. */
int net_resolve(const char *name, int family, struct addr_ip *out, char *err, size_t errlen);

#endif
