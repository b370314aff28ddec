/* Failure kinds and their explanations. The mapping from errno is the one place that decides which
 * bucket a failure is counted in, so the client's report and the doctor agree. The explanations are
 * the write-up's four failures (too many open files, cannot assign requested address, connection
 * timed out, killed) plus the rest, each told with this machine's numbers and the line that fixes it;
 * where two causes are possible (a timed-out connect: conntrack full or listen queue overflow) the
 * text says which one the numbers point at, or that neither does. */
#include "common/model/diag.h"
#include "common/model/capacity.h"
#include "common/util/sbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[DIAG_KIND_COUNT] = {
	[DIAG_EMFILE] = "EMFILE",
	[DIAG_ENFILE] = "ENFILE",
	[DIAG_EADDRNOTAVAIL] = "EADDRNOTAVAIL",
	[DIAG_ETIMEDOUT] = "ETIMEDOUT",
	[DIAG_ECONNREFUSED] = "ECONNREFUSED",
	[DIAG_ECONNRESET] = "ECONNRESET",
	[DIAG_EPIPE] = "EPIPE",
	[DIAG_ENOMEM] = "ENOMEM",
	[DIAG_ENOBUFS] = "ENOBUFS",
	[DIAG_PEER_CLOSED] = "peer_closed",
	[DIAG_ECHO_MISMATCH] = "echo_mismatch",
	[DIAG_ECHO_TIMEOUT] = "echo_timeout",
	[DIAG_CONNECT_TIMEOUT] = "connect_timeout",
	[DIAG_HANDSHAKE_CLOSED] = "handshake_closed",
	[DIAG_HANDSHAKE_REFUSED] = "handshake_refused",
	[DIAG_BAD_REPLY] = "bad_reply",
	[DIAG_SERVER_CLOSE] = "server_close",
	[DIAG_TLS] = "tls",
	[DIAG_OTHER] = "other",
};

enum diag_kind diag_from_errno(int e)
{
	switch (e) {
	case EMFILE:        return DIAG_EMFILE;
	case ENFILE:        return DIAG_ENFILE;
	case EADDRNOTAVAIL: return DIAG_EADDRNOTAVAIL;
	case ETIMEDOUT:     return DIAG_ETIMEDOUT;
	case ECONNREFUSED:  return DIAG_ECONNREFUSED;
	case ECONNRESET:    return DIAG_ECONNRESET;
	case EPIPE:         return DIAG_EPIPE;
	case ENOMEM:        return DIAG_ENOMEM;
	case ENOBUFS:       return DIAG_ENOBUFS;
	default:            return DIAG_OTHER;
	}
}

const char *diag_kind_name(enum diag_kind k)
{
	if ((unsigned)k >= DIAG_KIND_COUNT)
		return "invalid";
	return kind_names[k];
}

enum diag_kind diag_kind_from_name(const char *name)
{
	unsigned i;

	if (name == NULL)
		return DIAG_KIND_COUNT;
	for (i = 0; i < DIAG_KIND_COUNT; i++)
		if (strcmp(kind_names[i], name) == 0)
			return (enum diag_kind)i;
	return DIAG_KIND_COUNT;
}

/* The snapshot's values replace the start-time ones they describe; limits that do not move (the port range,
 * the sysctls, cgroups) stay as read at start. */
static void diag_overlay(struct limits_values *l, const struct kstate *k)
{
	if (k->nofile_present) {
		l->nofile_soft = k->nofile_soft;
		l->nofile_hard = k->nofile_hard;
	}
	if (k->file_nr_present) {
		l->file_nr_used = k->file_nr_used;
		l->file_max = k->file_max;
	}
	if (k->conntrack_present) {
		l->conntrack_present = true;
		l->conntrack_count = k->conntrack_count;
		l->conntrack_max = k->conntrack_max;
		l->conntrack_in_use = k->conntrack_count > 0;
	}
	if (k->sockstat_present) {
		l->sockstat_present = true;
		l->tcp_inuse = k->tcp_inuse;
		l->tcp_mem_used = k->tcp_mem_used;
	}
	if (k->meminfo_present)
		l->mem_available = k->mem_available;
}

void diag_context_init(struct diag_context *c, const struct limits_values *lim, const struct kstate *now,
		       unsigned ports, unsigned sources)
{
	memset(c, 0, sizeof(*c));
	c->ports = ports;
	c->sources = sources;
	c->dst_addrs = 1;
	if (lim != NULL) {
		c->lim = *lim;
		c->lim_valid = true;
	}
	if (now == NULL || !now->valid)
		return;
	c->tcpext = now->tcpext;
	if (c->lim_valid)
		diag_overlay(&c->lim, now);
}


/* conntrack is "near full" from 90%: entries of closing flows linger, so it drops before 100%. */
static bool conntrack_full(const struct limits_values *l)
{
	return l->conntrack_present && l->conntrack_max > 0 &&
	       l->conntrack_count >= l->conntrack_max / 10 * 9;
}

static void explain_timeout(struct sbuf *o, const struct diag_context *c, bool own_deadline)
{
	const struct limits_values *l = &c->lim;
	bool ct = c->lim_valid && conntrack_full(l);
	bool lq = c->tcpext.present && c->tcpext.listen_overflows > 0;

	if (own_deadline)
		sbuf_printf(o, "Connect deadline expired: the SYN was never answered, so the handshake did not complete. ");
	else
		sbuf_printf(o, "Connection timed out (ETIMEDOUT): during connect this means the SYN was never answered "
		    "(on an established connection, that sent data was never acknowledged). ");
	sbuf_printf(o, "Two known causes drop SYNs silently: a full conntrack table or an overflowing listen queue. ");
	if (c->lim_valid && l->conntrack_present)
		sbuf_printf(o, "nf_conntrack: %" PRIu64 " of %" PRIu64 " entries in use%s. ", l->conntrack_count,
		    l->conntrack_max, ct ? " (full)" : "");
	else if (c->lim_valid)
		sbuf_printf(o, "nf_conntrack is not loaded, so it cannot be the cause. ");
	if (c->tcpext.present)
		sbuf_printf(o, "ListenOverflows %" PRIu64 ", ListenDrops %" PRIu64 " (since boot). ",
		    c->tcpext.listen_overflows, c->tcpext.listen_drops);
	if (ct)
		sbuf_printf(o, "The numbers point at conntrack: every new connection needs an entry and the table is full "
		    "(dmesg says 'nf_conntrack: table full, dropping packet'). Fix: "
		    "sysctl -w net.netfilter.nf_conntrack_max=%" PRIu64 "%s",
		    capacity_conntrack_max(c->target),
		    lq ? ". Listen queues also overflowed since boot; if that counter grew during the run, "
			 "raise net.core.somaxconn and accept faster (more workers)." : ".");
	else if (lq)
		sbuf_printf(o, "The numbers point at the listen queue: the server accepts slower than clients connect, so "
		    "the kernel drops SYNs when a listener's accept queue is full. Fix: "
		    "sysctl -w net.core.somaxconn=%" PRIu64 " and more server workers, or a lower --rate. "
		    "The counter is cumulative since boot: compare it before and after a run "
		    "(c1m-doctor --explain --baseline).",
		    (uint64_t)65535);
	else
		sbuf_printf(o, "Neither counter shows a drop, so the cause is elsewhere: a server that stopped reading "
		    "(paused listeners), a firewall rule, or a machine too busy to answer within the deadline.");
}

/* The paragraphs whose words do not depend on this machine. */
static const char *const fixed_texts[DIAG_KIND_COUNT] = {
	[DIAG_ECONNREFUSED] = "Connection refused (ECONNREFUSED): the server host answered the SYN with a reset, so "
		"nothing was listening on that port: the server is down, was not started with that port, or its "
		"listeners were closed or paused. Check that c1m-server runs and listens on every port the client "
		"uses (ss -ltn).",
	[DIAG_EPIPE] = "Broken pipe (EPIPE): we wrote to a connection the peer had already closed. The server closed "
		"or lost the connection first; look at why the server side ended it (its errors, restarts).",
	[DIAG_PEER_CLOSED] = "The peer closed the connection (EOF) while we still expected data: the server closed it "
		"(idle timeout, shutdown, or a worker exiting), or a balancer in front of it did because it could "
		"not connect to a backend (HAProxy logs \"Connect() failed for backend\"). Check the server's log "
		"and whether a worker ended, or the balancer's log.",
	[DIAG_ECHO_MISMATCH] = "Echo mismatch: the bytes that came back differ from the bytes sent. This is a bug in "
		"the server or client (buffer reuse, partial write handling), not a system limit.",
	[DIAG_OTHER] = "Another error, not one of the known limits; the errno text in the report names it.",
};

/* The protocol's name for the texts about someone else's server. */
static const char *proto_word(const struct diag_context *c)
{
	return c->proto != NULL && c->proto[0] ? c->proto : "protocol's";
}

static void times(struct sbuf *o, const struct diag_context *c)
{
	if (c->count)
		sbuf_printf(o, " (%" PRIu64 " time%s)", c->count, c->count == 1 ? "" : "s");
}

/* Accepted, then closed or reset before a byte of the handshake reply. c1m cannot see the server's side: a
 * connection limit is named as a possibility, with the number of connections it did hold. */
static void explain_handshake_closed(struct sbuf *o, const struct diag_context *c)
{
	sbuf_printf(o, "The server accepted the TCP connection, then closed or reset it before sending a byte of the "
	    "reply to the %s handshake", proto_word(c));
	times(o, c);
	sbuf_printf(o, ". ");
	if (c->verified)
		sbuf_printf(o, "It did serve %" PRIu64 " connection%s, so it is up and speaks the protocol. ", c->verified,
		    c->verified == 1 ? "" : "s");
	sbuf_printf(o, "c1m cannot see the server's side, so this is possibly its own connection limit");
	if (c->verified)
		sbuf_printf(o, " (it would stop near %" PRIu64 " connections plus what it keeps for itself)", c->verified);
	sbuf_printf(o, ": nginx worker_connections, Redis maxclients, Mosquitto max_connections, HAProxy maxconn; or "
	    "its deny rules, an accept filter, or a crash. The server's log says which (nginx: \"worker_connections "
	    "are not enough\"; mosquitto: \"denied: max_connections exceeded\"). If it is the limit, raise it (and the server's open-file limit with it) or test "
	    "fewer connections.");
}

/* Failing statuses as "503 x 12, 429 x 3". */
static void codes_list(struct sbuf *o, const struct diag_context *c)
{
	bool any = false;
	unsigned i;

	for (i = 0; i < DIAG_CODES; i++) {
		if (c->codes[i] == 0)
			continue;
		sbuf_printf(o, "%s%u x %" PRIu64, any ? ", " : "", c->codes[i], c->code_counts[i]);
		any = true;
	}
	if (c->codes_other)
		sbuf_printf(o, "%sother codes x %" PRIu64, any ? ", " : "", c->codes_other);
}

static bool has_code(const struct diag_context *c, unsigned lo, unsigned hi)
{
	unsigned i;

	for (i = 0; i < DIAG_CODES; i++)
		if (c->codes[i] >= lo && c->codes[i] <= hi)
			return true;
	return false;
}

static void explain_handshake_refused(struct sbuf *o, const struct diag_context *c)
{
	sbuf_printf(o, "The server answered the %s handshake with a refusal", proto_word(c));
	times(o, c);
	sbuf_printf(o, ": it accepted the connection but would not serve it. ");
	if (has_code(c, 1, ~0u) || c->codes_other) {
		sbuf_printf(o, "Failing statuses by code (handshakes and messages): ");
		codes_list(o, c);
		sbuf_printf(o, ". ");
	}
	if (c->first_bad != NULL && c->first_bad[0])
		sbuf_printf(o, "The first: %s. ", c->first_bad);
	if (has_code(c, 503, 503))
		sbuf_printf(o, "503 (Service Unavailable) is what a server answers when it is overloaded or at a limit "
		    "(nginx limit_conn and limit_req answer 503 by default, HAProxy when no backend server is "
		    "free): possibly its limit, which its log names. ");
	if (has_code(c, 429, 429))
		sbuf_printf(o, "429 (Too Many Requests) is a rate limit on the server's side. ");
	if (has_code(c, 400, 428) || has_code(c, 430, 499))
		sbuf_printf(o, "A 4xx status rejects the request itself: check --path, --method and --header. ");
	if (has_code(c, 500, 502) || has_code(c, 504, 599))
		sbuf_printf(o, "A 5xx status is the server's own failure (502/504: a proxy whose backend failed). ");
	sbuf_printf(o, "The status and the server's log say which; c1m cannot know more than the reply.");
}

/* The escaped first bytes look like another protocol than the one asked for: say which, as a possibility. */
static void explain_bad_reply(struct sbuf *o, const struct diag_context *c)
{
	const char *b = c->first_bad != NULL ? c->first_bad : "";
	bool http = c->proto != NULL && strcmp(c->proto, "http") == 0;

	sbuf_printf(o, "A reply that is not valid for the %s protocol", c->proto != NULL ? c->proto : "echo");
	times(o, c);
	sbuf_printf(o, ": the server speaks another protocol on that port, or sent bytes no request asked for. ");
	if (b[0])
		sbuf_printf(o, "The first: %s. ", b);
	if (strstr(b, "\\x15\\x03") != NULL || strstr(b, "\\x16\\x03") != NULL)
		sbuf_printf(o, "Those bytes look like a TLS record: the port possibly expects TLS (add --tls). ");
	else if (!http && strstr(b, "HTTP/") != NULL)
		sbuf_printf(o, "Those bytes look like HTTP: the server possibly speaks HTTP (--proto http). ");
	else if (http && (strstr(b, "'-ERR") != NULL || strstr(b, "'+") != NULL))
		sbuf_printf(o, "Those bytes look like a Redis reply: the port is possibly a Redis server. ");
	sbuf_printf(o, "Check --proto and the port, and what the server sends (e.g. curl -v, openssl s_client).");
}

static void explain_server_close(struct sbuf *o, const struct diag_context *c)
{
	sbuf_printf(o, "The server answered with 'Connection: close' and so ended the keep-alive connection c1m holds");
	if (c->count)
		sbuf_printf(o, ": c1m counted %" PRIu64 " such repl%s, each the end of one connection", c->count,
		    c->count == 1 ? "y" : "ies");
	sbuf_printf(o, ". Servers do this after a number of requests on one connection or when told to shed "
	    "connections (nginx keepalive_requests, default 1000 in nginx 1.22, and keepalive_timeout; HAProxy "
	    "'option httpclose'), and always when the request asked for it (--header 'Connection: close'); the "
	    "server's configuration says which. For a test of held connections raise keepalive_requests above "
	    "the messages per connection.");
}

/* What c1m saw of a failed TLS handshake: OpenSSL's words for its side, and what they possibly mean on the
 * server's, which c1m cannot see. */
static void explain_tls(struct sbuf *o, const struct diag_context *c)
{
	const char *b = c->first_bad != NULL && strstr(c->first_bad, "TLS: ") != NULL ? c->first_bad : "";

	sbuf_printf(o, "The TLS handshake (or a TLS record after it) failed");
	times(o, c);
	sbuf_printf(o, "; a connection counts as established only once its TLS handshake completed. ");
	if (b[0])
		sbuf_printf(o, "The first: %s. ", b);
	if (strstr(b, "certificate verify failed") != NULL)
		sbuf_printf(o, "c1m could not verify the server's certificate against --ca (or the system's CAs) and the "
		    "name it must carry (--sni, else HOST); OpenSSL's reason is in brackets: a certificate from another "
		    "CA, a self-signed or expired one, or one for another name. Give the CA that signed it (--ca) or "
		    "the name in it (--sni); --insecure skips the check, for a test only.");
	else if (strstr(b, "wrong version number") != NULL || strstr(b, "packet length too long") != NULL ||
		 strstr(b, "record layer failure") != NULL || strstr(b, "unknown protocol") != NULL)
		sbuf_printf(o, "The server's reply was not a TLS record: the port possibly does not speak TLS (drop "
		    "--tls, or give the server's TLS port).");
	else if (strstr(b, "unexpected message") != NULL)
		sbuf_printf(o, "The server's reply was a TLS record out of place in a handshake: possibly a server that "
		    "echoes what it gets (c1m-server and c1m-epoll send the ClientHello back), so the port does not "
		    "speak TLS.");
	else if (strstr(b, "alert") != NULL)
		sbuf_printf(o, "The server ended the handshake with the alert named above: possibly it accepts none of "
		    "the TLS versions or cipher suites c1m offers (TLS 1.2 and 1.3), or not the server name (--sni). "
		    "Its error log says why.");
	else if (strstr(b, "closed the connection during the handshake") != NULL)
		sbuf_printf(o, "The server closed the connection before the handshake was done: possibly its own "
		    "connection limit (nginx worker_connections), no certificate for that name, or a crash; c1m "
		    "cannot see its side, its error log says which.");
	else if (strstr(b, "not complete within") != NULL)
		sbuf_printf(o, "The server accepted the TCP connection but did not finish the handshake before the "
		    "connect deadline: a TLS handshake costs the server a key exchange and a signature, so a busy "
		    "server possibly falls behind (try a lower --rate or --concurrency, more server workers, or a "
		    "longer --connect-timeout), or the port waits for something other than TLS.");
	else
		sbuf_printf(o, "OpenSSL's words say what failed on c1m's side; the server's error log says why on its "
		    "side.");
}

static void explain_emfile(struct sbuf *o, const struct diag_context *c)
{
	const struct limits_values *l = &c->lim;

	sbuf_printf(o, "Too many open files (EMFILE): this process reached its own file-descriptor limit. ");
	if (c->lim_valid)
		sbuf_printf(o, "Soft limit %" PRIu64 ", hard limit %" PRIu64 "; one process can hold about %u "
		    "sockets. ", l->nofile_soft, l->nofile_hard, limits_fds_per_process(l));
	sbuf_printf(o, "Raise the soft limit with 'ulimit -n <hard>' (c1m does this itself at start); raise the hard "
	    "limit with '* hard nofile 1048576' in /etc/security/limits.conf, or LimitNOFILE=1048576 "
	    "in the systemd unit. ");
	if (c->lim_valid && !l->nofile_hard_raisable)
		sbuf_printf(o, "Here the hard limit cannot be raised (no CAP_SYS_RESOURCE), so spread the "
		    "connections over more worker processes (--workers).");
	else
		sbuf_printf(o, "Or spread the connections over more worker processes (--workers).");
}

static void explain_enfile(struct sbuf *o, const struct diag_context *c)
{
	const struct limits_values *l = &c->lim;

	sbuf_printf(o, "Too many open files in system (ENFILE): the whole machine reached fs.file-max. ");
	if (c->lim_valid)
		sbuf_printf(o, "fs.file-max is %" PRIu64 " and %" PRIu64 " are in use. Fix: "
		    "sysctl -w fs.file-max=%" PRIu64 ".", l->file_max, l->file_nr_used,
		    l->file_max * 2 > 2097152 ? l->file_max * 2 : 2097152);
	else
		sbuf_printf(o, "Fix: sysctl -w fs.file-max=2097152.");
}

static void explain_eaddrnotavail(struct sbuf *o, const struct diag_context *c)
{
	const struct limits_values *l = &c->lim;
	unsigned ports = c->ports ? c->ports : 1, sources = c->sources ? c->sources : 1;
	unsigned dst = c->dst_addrs ? c->dst_addrs : 1;
	uint64_t width, cap;

	sbuf_printf(o, "Cannot assign requested address (EADDRNOTAVAIL): the local ports for one source/destination "
	    "pair are used up. Each connection needs a unique (source address, source port, destination "
	    "address, destination port). ");
	if (c->lim_valid) {
		width = limits_port_range_width(l);
		cap = (uint64_t)sources * dst * ports * width;
		sbuf_printf(o, "ip_local_port_range %u-%u gives %" PRIu64 " ports per pair; with %u source%s, %u "
		    "destination address%s and %u server port%s the capacity is %" PRIu64 " connections. ",
		    l->port_lo, l->port_hi, width, sources, sources == 1 ? "" : "s", dst,
		    dst == 1 ? "" : "es", ports, ports == 1 ? "" : "s", cap);
	}
	if (c->ipv6)
		sbuf_printf(o, "Fix: more server ports (--ports), more client source addresses (--sources "
		    "2001:2::1-2001:2::8, once they are on an interface: lo has only ::1), or a wider range: sysctl -w "
		    "net.ipv4.ip_local_port_range=\"1024 65535\" (the key covers IPv6 too).");
	else
		sbuf_printf(o, "Fix: more server ports (--ports), more client source addresses (--sources "
		    "127.0.0.2-127.0.0.9), or a wider range: sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\".");
}

static void explain_econnreset(struct sbuf *o, const struct diag_context *c)
{
	sbuf_printf(o, "Connection reset by peer (ECONNRESET): the other end aborted the connection. Usually the "
	    "server (or a balancer in front of it) closed it or crashed (check that its workers are alive), ");
	if (c->lim_valid && c->lim.tcp_abort_on_overflow)
		sbuf_printf(o, "or, since net.ipv4.tcp_abort_on_overflow is 1 here, its accept queue overflowed and "
		    "the kernel answered with a reset (ListenOverflows %" PRIu64 "); fix: "
		    "sysctl -w net.core.somaxconn=65535 and accept faster. ", c->tcpext.listen_overflows);
	else
		sbuf_printf(o, "or the kernel reset it for lack of memory (TCPAbortOnMemory %" PRIu64 "). ",
		    c->tcpext.abort_on_memory);
	sbuf_printf(o, "The server's own log and exit status say which.");
}

static void explain_nomem(struct sbuf *o, const struct diag_context *c, enum diag_kind k)
{
	const struct limits_values *l = &c->lim;

	sbuf_printf(o, "%s: the kernel could not allocate memory for socket buffers. ",
	    k == DIAG_ENOMEM ? "Out of memory (ENOMEM)" : "No buffer space available (ENOBUFS)");
	if (c->lim_valid) {
		if (l->sockstat_present && l->tcp_mem_present)
			sbuf_printf(o, "TCP uses %" PRIu64 " pages now; tcp_mem is %" PRIu64 " %" PRIu64 " %" PRIu64
			    " pages (low, pressure, hard). ", l->tcp_mem_used, l->tcp_mem[0], l->tcp_mem[1],
			    l->tcp_mem[2]);
		else if (l->sockstat_present)
			sbuf_printf(o, "TCP uses %" PRIu64 " pages now; tcp_mem is machine-wide, not visible in this "
			    "network namespace (read it in the root namespace). ", l->tcp_mem_used);
		sbuf_printf(o, "MemAvailable %" PRIu64 " MiB. ", l->mem_available >> 20);
	}
	if (c->tcpext.present)
		sbuf_printf(o, "TCPMemoryPressures %" PRIu64 ", TCPAbortOnMemory %" PRIu64 " (since boot). ",
		    c->tcpext.memory_pressures, c->tcpext.abort_on_memory);
	sbuf_printf(o, "Fix: raise net.ipv4.tcp_mem if memory is free, or shrink per-socket buffers "
	    "(sysctl -w net.ipv4.tcp_rmem=\"1024 4096 16384\" and the same for tcp_wmem); if the OOM killer "
	    "acted (dmesg: 'Out of memory: Killed process'), the box needs more memory for this many "
	    "connections.");
}

static void explain_echo_timeout(struct sbuf *o, const struct diag_context *c)
{
	const struct limits_values *l = &c->lim;

	sbuf_printf(o, "Echo timeout: the connection is open but the reply did not arrive within the deadline. "
	    "The server is overloaded (CPU, too few workers), a worker stalled, or the server stopped "
	    "accepting (at its open-file limit the kernel completes handshakes nobody accepts). ");
	if (c->lim_valid && l->sockstat_present && l->tcp_mem_present && l->tcp_mem_used > l->tcp_mem[1])
		sbuf_printf(o, "TCP is in memory pressure (%" PRIu64 " pages > tcp_mem[1] %" PRIu64 "), which "
		    "shrinks buffers and delays data. ", l->tcp_mem_used, l->tcp_mem[1]);
	if (c->proto != NULL)
		sbuf_printf(o, "Against a %s server, a connection limit that stops accepting rather than closing is "
		    "possible too (HAProxy at maxconn leaves new connections in the kernel's queue unanswered); its "
		    "log and its own statistics say which. ", c->proto);
	sbuf_printf(o, "Compare the server's per-worker counters and CPU use during the run.");
}

int diag_explain(enum diag_kind k, const struct diag_context *c, char *buf, size_t len)
{
	struct sbuf o;

	if (buf == NULL || len == 0 || (unsigned)k >= DIAG_KIND_COUNT)
		return -1;
	sbuf_init(&o, buf, len);
	switch (k) {
	case DIAG_EMFILE:
		explain_emfile(&o, c);
		break;
	case DIAG_ENFILE:
		explain_enfile(&o, c);
		break;
	case DIAG_EADDRNOTAVAIL:
		explain_eaddrnotavail(&o, c);
		break;
	case DIAG_ETIMEDOUT:
	case DIAG_CONNECT_TIMEOUT:
		explain_timeout(&o, c, k == DIAG_CONNECT_TIMEOUT);
		break;
	case DIAG_ECONNRESET:
		explain_econnreset(&o, c);
		break;
	case DIAG_ENOMEM:
	case DIAG_ENOBUFS:
		explain_nomem(&o, c, k);
		break;
	case DIAG_ECHO_TIMEOUT:
		explain_echo_timeout(&o, c);
		break;
	case DIAG_HANDSHAKE_CLOSED:
		explain_handshake_closed(&o, c);
		break;
	case DIAG_HANDSHAKE_REFUSED:
		explain_handshake_refused(&o, c);
		break;
	case DIAG_BAD_REPLY:
		explain_bad_reply(&o, c);
		break;
	case DIAG_SERVER_CLOSE:
		explain_server_close(&o, c);
		break;
	case DIAG_TLS:
		explain_tls(&o, c);
		break;
	default:
		if (fixed_texts[k] == NULL)
			return -1;
		sbuf_printf(&o, "%s", fixed_texts[k]);
		if (k == DIAG_PEER_CLOSED && c->proto != NULL && c->verified)
			sbuf_printf(&o, " Against a %s server, possibly its idle timeout (nginx "
			    "keepalive_timeout, default 75 s; Redis timeout; an MQTT broker without keepalives), or its "
			    "connection limit: at worker_connections nginx closes idle keep-alive connections to make "
			    "room for new ones, and logs \"worker_connections are not enough, reusing connections\". "
			    "The server's log says which.",
			    c->proto);
		break;
	}
	return sbuf_done(&o) < 0 ? -1 : 0;
}
