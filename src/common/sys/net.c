/* Listening sockets for c1m-server and c1m-epoll. Everything goes through net_listen(), which sets the options
 * explicitly instead of trusting library defaults: libevent's evconnlistener_new_bind() and many samples use
 * a backlog of 128 (or -1, which libevent maps to 128), which drops SYNs long before 1M connections. */
#include "common/sys/net.h"

#include "common/util/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A numeric IPv4 or IPv6 address into ss (util/addr's parser); no DNS, the server never resolves names. */
static int net_parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addr_ip a;
	char why[128];

	if (addr_parse_ip(addr, &a, why, sizeof(why)) < 0)
		return -1;
	*sl = addr_sockaddr(&a, port, ss);
	return 0;
}

/* The one generic constructor: listen says whether to call listen(2) (net_ports_free() only binds). */
static int net_generic_socket(const char *addr, uint16_t port, int backlog, bool reuseport, bool do_listen,
			      int *fd_out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, zero = 0;

	*fd_out = -1;
	if (net_parse_addr(addr, port, &ss, &sl) < 0) {
		snprintf(err, errlen, "'%s' is not a numeric IPv4 or IPv6 address", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* SO_REUSEADDR: a restarted server must not wait for TIME_WAIT sockets of its previous run. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "setsockopt SO_REUSEADDR: %s", strerror(errno));
		goto err;
	}
	/* IPv6: "::" serves IPv4 clients too (as ::ffff:a.b.c.d) whatever net.ipv6.bindv6only says */
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
		snprintf(err, errlen, "setsockopt IPV6_V6ONLY: %s", strerror(errno));
		goto err;
	}
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "setsockopt SO_REUSEPORT: %s", strerror(errno));
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;

		if (e == EADDRINUSE)
			snprintf(err, errlen, "bind %s port %u: %s (another process listens there; pick another "
				 "--port)", addr, (unsigned)port, strerror(e));
		else
			snprintf(err, errlen, "bind %s port %u: %s", addr, (unsigned)port, strerror(e));
		goto err;
	}
	if (do_listen && listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen %s port %u backlog %d: %s", addr, (unsigned)port, backlog,
			 strerror(errno));
		goto err;
	}
	*fd_out = fd;
	return 0;
err:
	close(fd);
	return -1;
}

int net_listen(const char *addr, uint16_t port, int backlog, bool reuseport, int *fd_out, char *err, size_t errlen)
{
	if (backlog <= 0) {
		snprintf(err, errlen, "listen backlog %d: must be positive (net.core.somaxconn or --backlog)", backlog);
		*fd_out = -1;
		return -1;
	}
	return net_generic_socket(addr, port, backlog, reuseport, true, fd_out, err, errlen);
}

int net_local_port(int fd, uint16_t *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));   /* getsockname fills it; the analyzer cannot know that */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int net_listen_range(const char *addr, uint16_t port_base, unsigned count, int backlog, bool reuseport, int *fds,
		     char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < count; i++)
		fds[i] = -1;
	if ((unsigned long)port_base + count - 1 > 65535) {
		snprintf(err, errlen, "ports %u..%lu: past 65535", (unsigned)port_base,
			 (unsigned long)port_base + count - 1);
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (net_listen(addr, (uint16_t)(port_base + i), backlog, reuseport, &fds[i], err, errlen) < 0) {
			net_close_range(fds, count);
			return -1;
		}
	}
	return 0;
}

void net_close_range(int *fds, unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
}

int net_ports_free(const char *addr, uint16_t port_base, unsigned count, char *err, size_t errlen)
{
	unsigned i;
	int fd;

	if ((unsigned long)port_base + count - 1 > 65535) {
		snprintf(err, errlen, "ports %u..%lu: past 65535", (unsigned)port_base,
			 (unsigned long)port_base + count - 1);
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (net_generic_socket(addr, (uint16_t)(port_base + i), 0, false, false, &fd, err, errlen) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int net_tune_accepted(int fd, char *err, size_t errlen)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "setsockopt TCP_NODELAY: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int net_resolve(const char *name, int family, struct addr_ip *out, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s'%s%s: %s", name, family ? " to an " : "",
			 family ? addr_family_name(family) : "", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		memset(out, 0, sizeof(*out));
		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			out->family = AF_INET;
			memcpy(out->b, &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr, 4);
			break;
		}
		if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			out->family = AF_INET6;
			memcpy(out->b, &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr, 16);
			break;
		}
	}
	freeaddrinfo(res);
	if (ai == NULL) {
		snprintf(err, errlen, "cannot resolve '%s': no IPv4 or IPv6 address", name);
		return -1;
	}
	return 0;
}
