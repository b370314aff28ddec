/* The command line of c1m-floor (bench/floor.c), the floor probe: what the kernel alone does on this host,
 * measured beside c1m's own figures. Two probes: "message" (K loopback TCP pairs in P processes, blocking
 * send/recv round trips, no epoll, no library) and "connect" (P client processes doing nonblocking
 * connect + one echo against S raw-epoll listener processes on SO_REUSEPORT ports, the process layout
 * c1m-server --workers auto and c1m-client --workers auto use for the same N). Pure: the parse reads no
 * machine state, and the plan takes the open-file limit as a number, so a unit test can hand it any. */
#ifndef C1M_BENCH_FLOOR_OPTS_H
#define C1M_BENCH_FLOOR_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util/addr.h"

#define FLOOR_SIZE_DEFAULT        32u        /* bytes of one message each way */
#define FLOOR_SIZE_MAX            4096u
#define FLOOR_DURATION_DEFAULT_MS 5000u      /* message probe length */
#define FLOOR_DURATION_MAX_MS     3600000u
#define FLOOR_PORTS_DEFAULT       100u       /* as c1m-server's --ports */
#define FLOOR_PORT_DEFAULT        8081u      /* as c1m-server's --port */
#define FLOOR_CONCURRENCY_DEFAULT 1024u      /* as c1m-client's --concurrency */
#define FLOOR_TIMEOUT_DEFAULT_MS  120000u    /* connect probe deadline */
#define FLOOR_PAIRS_MAX           UINT64_C(100000000)

enum floor_mode {
	FLOOR_NONE = 0,              /* only --help or --version */
	FLOOR_MESSAGE,               /* round trips over held pairs */
	FLOOR_CONNECT,               /* connections per second */
};

struct floor_options {
	enum floor_mode mode;
	uint64_t pairs;              /* message: loopback TCP pairs, all processes */
	unsigned procs;              /* message: processes; 0 = auto (as few as the fd limit allows) */
	uint64_t duration_ms;        /* message: how long the round trips run, milliseconds */
	unsigned size;               /* bytes of a message each way (both probes) */
	uint64_t conns;              /* connect: connections, all client processes */
	unsigned clients;            /* connect: client processes; 0 = auto (c1m-client's --workers auto) */
	unsigned servers;            /* connect: listener processes; 0 = auto (c1m-server's --workers auto) */
	unsigned ports;              /* connect: listening ports, used round-robin */
	uint16_t port_base;          /* connect: first port */
	unsigned concurrency;        /* connect: connections between connect() and echo, all clients */
	uint64_t timeout_ms;         /* connect: deadline of the whole ramp, milliseconds */
	struct addr_range sources;   /* connect: source addresses bound round-robin; count 0 = the kernel's */
	bool help, version;
};

/* Pure: argv[1] is the probe ("message" or "connect"), then its options. Defaults first, then every option
 * checked; an option of the other probe is an error. 0, or -1 with a message naming the option. */
int floor_opts_parse(int argc, char *const argv[], struct floor_options *o, char *err, size_t errlen);

/* Pure: resolves the automatic process counts for nofile (the hard open-file limit: the probe raises its
 * soft limit to it) through capacity_plan, the function --workers auto in the servers and the client
 * call, and checks that each process's share fits its descriptors. 0, or -1 with the count to use. */
int floor_opts_plan(struct floor_options *o, uint64_t nofile, char *err, size_t errlen);

/* The usage text of c1m-floor. */
const char *floor_opts_usage(void);

#endif
