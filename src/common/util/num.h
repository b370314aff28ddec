/* Numbers and durations from the command line, parsed one way for every binary: strict decimal (no sign,
 * no blanks, no exponent, no trailing text, no overflow), byte counts with a binary suffix, and seconds
 * with up to three decimals into milliseconds. Pure; on failure err holds a phrase for the caller to put
 * after the flag's name: "'1e3' is not a whole number", "70000 is out of range 1..65535". */
#ifndef C1M_UTIL_NUM_H
#define C1M_UTIL_NUM_H

#include <stddef.h>
#include <stdint.h>

/* A whole number in lo..hi. */
int num_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen);
/* Bytes in lo..hi, with an optional k/K (1024) or m/M (1048576) suffix: "64k". */
int num_parse_bytes(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen);
/* Seconds with up to three decimals ("10", "0.5", "2.125"), in milliseconds, at most max_ms. */
int num_parse_ms(const char *s, uint64_t max_ms, uint64_t *out_ms, char *err, size_t errlen);

/* Writes v as exactly `width` decimal digits, zero-padded, without a NUL: the per-message formatting of the
 * latency phase, which must not go through printf. Returns -1 (out untouched) if v needs more digits, or width is 0 or above 20. */
int num_put_fixed(char *out, unsigned width, uint64_t v);

#endif
