/* Shared pieces of the libFuzzer targets in tests/fuzz: the entry point's prototype (the project builds
 * with -Werror=missing-prototypes), turning the raw input into the NUL-terminated text or argv the parsers
 * take, a check for the error-message contract every parser shares, and the split-feed driver of the
 * protocol parsers (proto_http, proto_resp, proto_mqtt). The copies are allocated to the
 * exact size so AddressSanitizer catches a parser that reads one byte past the text it was given. */
#ifndef C1M_FUZZ_UTIL_H
#define C1M_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/proto.h"

#define FUZZ_MAX_ARGS   64  /* argv entries built from one input; more are dropped */
#define FUZZ_ERR_LEN    256 /* the size callers of the parsers use for err */
#define FUZZ_MAX_EVENTS 64  /* events of one stream recorded in a trace; more are only counted */

/* What a protocol parser (proto.h's feed functions) made of one reply stream. */
struct fuzz_trace {
	size_t end[FUZZ_MAX_EVENTS];        /* stream offset after each PROTO_DONE */
	unsigned code[FUZZ_MAX_EVENTS];
	bool closing[FUZZ_MAX_EVENTS];
	unsigned n;                         /* PROTO_DONE events */
	enum proto_status last;             /* PROTO_ERROR or PROTO_REFUSED when the stream ended on one */
	size_t stop_at;                     /* then: the offending byte, or the offset after the refusal */
	unsigned stop_code;                 /* then: ev->code */
	char stop_note[PROTO_NOTE_LEN];     /* then: ev->note */
};

/* One feed function over the caller's state (a parser's feed with its arguments bound). */
typedef enum proto_status (*fuzz_feed_fn)(void *st, const char *data, size_t len, size_t *used,
					  struct proto_event *ev);

/* libFuzzer calls this once per input; the return value must be 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd NUL-terminated copy of data[0..size) (embedded NULs stay and end the string early). */
char *fuzz_text(const uint8_t *data, size_t size);

/* Splits data on NUL bytes into argv[1..], with argv[0] = prog; returns argc. The strings live in one
 * malloc'd block stored in *block (free it). argv[argc] is NULL, as for main(). */
int fuzz_argv(const uint8_t *data, size_t size, const char *prog, char *argv[FUZZ_MAX_ARGS + 2], char **block);

/* Aborts (a finding) unless err holds a non-empty single line that fits errlen: parsers promise one line
 * of text naming what was wrong. Messages quote the offending value, so a newline is allowed when the
 * input itself held one (input_has_newline). err must have been set to "" before the call. */
void fuzz_check_err(const char *what, const char *err, size_t errlen, bool input_has_newline);

/* The next chunk of a stream split as TCP may split it: advances *seed (a linear congruential step) and
 * returns 1..64 bytes, at most left. */
size_t fuzz_chunk(unsigned *seed, size_t left);

/* Feeds data[0..len) to feed with state st (initialised by the caller) as one read (seed 0) or in chunks of
 * 1..64 bytes chosen by seed (as TCP may split it), until the end or the first PROTO_ERROR or
 * PROTO_REFUSED, into t. Aborts (naming what) when the contract of proto.h breaks: *used beyond the bytes
 * given, a PARTIAL that leaves bytes, a DONE that consumes none, a note that is not NUL-terminated. */
void fuzz_split_feed(const char *what, fuzz_feed_fn feed, void *st, const char *data, size_t len, unsigned seed,
		     struct fuzz_trace *t);

/* Aborts unless a and b (the same stream split differently) hold the same events at the same offsets with
 * the same codes, and stop (or not) at the same byte. */
void fuzz_trace_compare(const char *what, const struct fuzz_trace *a, const struct fuzz_trace *b);

/* Aborts with a message: a violated invariant is a finding like a crash. */
void fuzz_fail(const char *what, const char *detail);

#endif
