/* Shared pieces of the libFuzzer targets in tests/fuzz: the entry point's prototype (the project builds
 * with -Werror=missing-prototypes), turning the raw input into the NUL-terminated text or argv the parsers
 * take, and a check for the error-message contract every parser shares. The copies are allocated to the
 * exact size so AddressSanitizer catches a parser that reads one byte past the text it was given. */
#ifndef C1M_FUZZ_UTIL_H
#define C1M_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_ARGS 64   /* argv entries built from one input; more are dropped */
#define FUZZ_ERR_LEN  256  /* the size callers of the parsers use for err */

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

/* Aborts with a message: a violated invariant is a finding like a crash. */
void fuzz_fail(const char *what, const char *detail);

#endif
