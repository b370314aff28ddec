/* What c1m-doctor --explain reads from the machine after a failed run: the kernel log (/dev/kmsg, else the
 * dmesg command), every process's open files against its limit (/proc/PID), the local ports held per
 * (source, destination) in /proc/net/tcp{,6}, uptime, and the two files a user hands it (a --baseline of
 * the TcpExt counters and c1m-client's --from report). The counters themselves come from kstate_read().
 * Nothing here prints: what cannot be read is left out or reported through err, and main() decides. The
 * parsers live in the model (explain.h) so they can be tested and fuzzed without a machine. */
#ifndef C1M_DOCTOR_READ_H
#define C1M_DOCTOR_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "common/model/explain.h"
#include "common/sys/kstate.h"

#define DOCTOR_KMSG_MAX       (1u << 20) /* the kernel's ring buffer is 256 KiB by default; leave room */
#define DOCTOR_CLIENT_JSON_MAX (1u << 20) /* a c1m-client report is a few KiB; explanations make it longer */

/* The kernel log as dmesg prints it ("[sec.usec] text" lines): from /dev/kmsg, or from running dmesg when
 * that cannot be read. buf (len > 0) is always NUL-terminated; returns the bytes read, 0 = no log. */
size_t doctor_read_kmsg(char *buf, size_t len);

/* Seconds since boot from /proc/uptime; 0 when unreadable. */
double doctor_read_uptime(void);

/* Every other process's open files against its soft limit. Other users' processes need root; what cannot
 * be read is left out. Returns a malloc'd array of *n entries (NULL when none); *checked = /proc was read. */
struct explain_proc *doctor_read_procs(unsigned *n, bool *checked);

/* Feeds /proc/net/tcp and tcp6 of this network namespace to explain_tuples_scan(). Returns false if neither
 * could be opened. */
bool doctor_read_tuples(struct explain_tuples *t);

/* --baseline FILE: the counters saved by --save-baseline. Returns 0, or -1 with err naming the flag and file. */
int doctor_read_baseline(const char *path, struct kstate_tcpext *base, char *err, size_t errlen);

/* --from FILE: c1m-client's JSON report. Returns 0, or -1 with err naming the flag and file. */
int doctor_read_client(const char *path, struct explain_client *cl, char *err, size_t errlen);

#endif
