/* Private to the load generator's four files (see loadgen.h): the one connection struct and the
 * generator's state, and the functions the files call across.
 *
 * Memory: a connection is one struct conn (48 bytes) with one owner, the loadgen's array of connections
 * indexed by attempt number; it is made in conn_new() (loadgen_ramp.c) and freed only in conn_free()
 * (loadgen.c), and changes state only through conn_set_state(). While connecting and echoing it owns a
 * bufferevent; once the echo is verified the bufferevent (and its two evbuffers) is released and a bare
 * struct event watches the socket for EOF or error only, which is all a held connection needs. In a
 * latency phase the same event also carries the phase's reads and writes (loadgen_phase.c).
 *
 * Protocols (proto.h): echo keeps everything in struct conn. Any other protocol's per-connection receive
 * state (its parser) and the write offset of a message longer than 255 bytes live in lg->side, one entry of
 * proto_side_size() bytes per attempt, allocated only when the protocol is not echo.
 *
 * TLS (--tls): after the TCP connect the socket bufferevent is replaced by an OpenSSL one
 * (bufferevent_openssl_socket_new, without BEV_OPT_CLOSE_ON_FREE) for the TLS handshake and the protocol's
 * handshake; when that is verified the bufferevent is released as before and only its SSL stays, in
 * lg->ssl[slot], and the held connection's one struct event carries SSL_read/SSL_write (conn_recv and
 * conn_send below) instead of recv/send. Keeping the OpenSSL bufferevent for the connection's life would
 * have been the other way: it would cost a bufferevent, two evbuffers and the event callbacks of its own per
 * held connection and a second copy of the phase and hold code written against evbuffers; this way the
 * phase code is the same for both, the handshake is libevent's, and a plain connection is what it was: no
 * byte in struct conn (lg->ssl is allocated only with TLS) and one predictable test per recv/send call,
 * never per byte. An SSL buffers decrypted bytes the socket no longer signals, so after a read that leaves
 * some (SSL_pending) the event is made active again. */
#ifndef C1M_LOADGEN_INT_H
#define C1M_LOADGEN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/model/diag.h"
#include "common/sys/procfs.h"
#include "client/loadgen.h"
#include "client/proto.h"
#include "client/sched.h"
#include "client/tbucket.h"

#define LOADGEN_BATCH        256  /* connects started per loop iteration at most, so replies are not starved */
#define LOADGEN_TAIL_POLL_MS 5    /* latency phase: after the last send, how often replies are checked */
#define LOADGEN_SEND_BATCH   4096 /* messages scheduled per tick at most, so replies are read in between */
#define LOADGEN_RECV_CHUNK   2048 /* bytes read per readable event in the phase (stack buffer) */
#define LOADGEN_KA_SLICES    10   /* keepalive: each tenth of the period serves a tenth of the connections */

enum conn_state {
	CONN_CONNECTING,  /* connect() issued, handshake pending; owns a bufferevent */
	CONN_ECHOING,     /* line (handshake) written, echo (reply) pending; owns a bufferevent */
	CONN_HOLDING,     /* echo (handshake reply) verified; owns a read-only struct event */
	CONN_ACTIVE,      /* in a latency phase: owns the struct event, read (and write while behind) */
};

struct conn {
	struct loadgen *lg;          /* owner */
	union {
		struct bufferevent *bev; /* CONNECTING, ECHOING */
		struct event *ev;        /* HOLDING, ACTIVE */
	} io;
	union {
		uint64_t t_ns;           /* CONNECTING, ECHOING: connect() time, then when the line was written */
		struct {
			uint32_t wr_seq; /* frames of this phase written completely */
			uint32_t rd_seq; /* replies matched completely (struct match_rx.seq) */
		} ph;                    /* ACTIVE */
	} u;
	uint64_t id;                 /* n of the line sent; the conn field of the phase's frames */
	uint32_t slot;               /* attempt number: index in lg->conns, local connection of the phase */
	int fd;                      /* the socket; closed only in conn_free */
	uint8_t state;               /* enum conn_state */
	uint8_t matched;             /* ECHOING: echo bytes verified (other protocols: 1 once a reply byte came);
	                                ACTIVE: bytes of reply rd_seq matched (echo only) */
	uint8_t wr_off;              /* ACTIVE: bytes of frame wr_seq written (echo; others: proto_side) */
	uint8_t want_write;          /* ACTIVE: the event also waits for EV_WRITE */
};

/* The phase's state lives in the bytes the connect timestamp no longer needs: no growth per connection. */
_Static_assert(sizeof(struct conn) == 48, "struct conn is 48 bytes on LP64");

/* What the phase costs this process and the machine (the saturation judge's input), read at its begin and
 * its end: 0 where unreadable. */
struct loadgen_usage {
	uint64_t ns;                 /* clock_now_ns() */
	uint64_t cpu_us;             /* this process's user + system CPU */
	uint64_t wakeups;            /* its context switches, voluntary and not */
	uint64_t machine_busy;       /* the machine's busy CPU ticks (procfs_read_stat_cpu) */
	uint64_t machine_total;      /* its ticks in all */
};

struct loadgen {
	struct event_base *base;     /* not owned */
	struct loadgen_config cfg;
	struct loadgen_stats *st;    /* not owned; possibly shared memory */
	struct tbucket tb;
	struct event *pump_ev;       /* timer: start more connections */
	struct event *hold_ev;       /* timer: end of the hold */
	struct event *ctl_ev;        /* latency: poll of the shared control, every LOADGEN_CTL_POLL_MS */
	struct event *tick_ev;       /* latency: the send timer, armed for the next message's time (see phase_arm) */
	struct event *ka_ev;         /* keepalive timer of the protocol while holding; NULL = none */
	uint32_t ka_slice;           /* the slice of connections (slot % LOADGEN_KA_SLICES) its next tick serves */
	const struct proto_ops *ops; /* the protocol (echo when cfg.proto is NULL) */
	const struct proto_cfg *pcfg; /* its options (cfg.proto; NULL for echo, whose table reads none) */
	unsigned char *side;         /* per attempt, side_size bytes (struct proto_side); NULL for echo */
	struct ssl_st **ssl;         /* --tls: per attempt, its SSL once the TCP connect completed; NULL = no TLS */
	size_t side_size;            /* proto_side_size(ops) */
	struct conn **conns;         /* by attempt number [0, next); NULL = failed or closed */
	uint64_t nconns;             /* live connections */
	uint64_t next;               /* attempts started so far */
	uint64_t goal;               /* attempts of the current step (cfg.target without a latency phase) */
	bool step_opens;             /* the current step has attempts to start (goal above next at its start) */
	uint64_t in_flight;          /* CONNECTING + ECHOING */
	uint64_t pump_due_ns;        /* when pump_ev fires, 0 = not pending */
	int reserve_fd;              /* /dev/null, released so kstate_read can open files at EMFILE */
	struct procfs_rss rss;       /* resident memory, for the phase's bytes per connection */
	bool ramp_over;              /* every attempt of the step resolved */
	bool finished;               /* everything closed */
	/* latency phase */
	uint32_t step;               /* step being worked on, 0 = none yet */
	bool phase_on;               /* between phase_begin and phase_end */
	struct sched sched;          /* the running phase's schedule */
	uint64_t t0;                 /* its start, clock_now_ns() */
	uint64_t next_msg;           /* local messages scheduled so far */
	uint64_t deadline_ns;        /* end of the straggler wait */
	struct loadgen_usage usage0; /* this process's CPU and the machine's at phase_begin */
};

/* loadgen.c: the lifecycle and the connection's one owner */
void conn_set_state(struct conn *c, enum conn_state to);
/* The one place a connection is freed; *cp is set to NULL. */
void conn_free(struct conn **cp);
/* Counts the failure of kind k (errno e), frees c, and lets the ramp go on. */
void conn_fail(struct conn *c, enum diag_kind k, int e);
void loadgen_record_failure(struct loadgen *lg, enum diag_kind k, int e, bool immediate);
void loadgen_publish_state(struct loadgen *lg, enum loadgen_step_state s);
void loadgen_check_progress(struct loadgen *lg);
void loadgen_finish(struct loadgen *lg);
/* The protocol state of c (only when lg->side is set). */
struct proto_side *conn_side(const struct conn *c);
/* Keeps the first protocol note of the run (a bad or refused reply) in the stats, for the report. */
void loadgen_note(struct loadgen *lg, const char *note);

/* loadgen_tls.c, --tls only (lg->ssl set). After the TCP connect of c: its SSL and an OpenSSL bufferevent
 * with the same callbacks replace the socket bufferevent, with what is left of the connect deadline; 0, or
 * -1 when that failed (c freed). */
int loadgen_tls_start(struct conn *c, bufferevent_data_cb read_cb, bufferevent_event_cb event_cb);
/* An event of c's bufferevent that is TLS's failure (an OpenSSL error; in the handshake also a timeout,
 * EOF or reset): its note, DIAG_TLS, c freed, true. False (nothing done) for the others. */
bool loadgen_tls_failed(struct conn *c, struct bufferevent *bev, short what, int e);
/* Activates c's held event when its SSL holds decrypted bytes the socket will not signal. */
void loadgen_tls_kick(struct conn *c);
/* Frees c's SSL (after a close_notify when it was held); conn_free calls it. */
void loadgen_tls_free(struct conn *c);

/* A held connection's bytes: recv()/send() on the socket, or with TLS through its SSL (loadgen_tls.c),
 * with recv()'s and send()'s return convention. */
ssize_t loadgen_tls_recv(struct conn *c, void *buf, size_t len);
ssize_t loadgen_tls_send(struct conn *c, const void *buf, size_t len);

static inline ssize_t conn_recv(struct conn *c, void *buf, size_t len)
{
	if (c->lg->ssl)
		return loadgen_tls_recv(c, buf, len);
	return recv(c->fd, buf, len, 0);
}

static inline ssize_t conn_send(struct conn *c, const void *buf, size_t len)
{
	if (c->lg->ssl)
		return loadgen_tls_send(c, buf, len);
	return send(c->fd, buf, len, MSG_NOSIGNAL);
}

/* A failed recv()/send() of a held connection with errno e: a TLS error (EPROTO from the SSL) counts as
 * DIAG_TLS, anything else by its errno. */
void loadgen_io_fail(struct conn *c, int e);

/* loadgen_ramp.c: connects and the echo check */
void loadgen_schedule_pump(struct loadgen *lg, uint64_t delay_ns);
void loadgen_pump(struct loadgen *lg);
void loadgen_pump_cb(evutil_socket_t fd, short what, void *arg);

/* loadgen_phase.c: the held connection's event and the latency phase */
void loadgen_io_cb(evutil_socket_t fd, short what, void *arg);
void loadgen_ctl_poll(struct loadgen *lg);
/* Starts the poll of the shared control, every LOADGEN_CTL_POLL_MS (not while a phase runs). */
void loadgen_ctl_arm(struct loadgen *lg);
void loadgen_ctl_cb(evutil_socket_t fd, short what, void *arg);
void loadgen_tick_cb(evutil_socket_t fd, short what, void *arg);
/* The frame numbered seq of connection c in the running phase (its scheduled time from the schedule). */
void loadgen_phase_frame(const struct conn *c, uint32_t seq, struct match_frame *f);
/* Adds or removes EV_WRITE on an active connection; -1 (connection freed) if libevent refuses. */
int loadgen_set_want_write(struct conn *c, bool want);
/* Writes every message of c that has come due; -1 if the connection failed (and was freed). */
int loadgen_conn_write(struct conn *c, uint64_t now);

/* loadgen_proto.c: the phase and the hold of protocols other than echo, through their table */
int loadgen_write_proto(struct conn *c, uint64_t now);
void loadgen_read_proto(struct conn *c);
void loadgen_idle_proto(struct conn *c);
void loadgen_keepalive_cb(evutil_socket_t fd, short what, void *arg);

#endif
