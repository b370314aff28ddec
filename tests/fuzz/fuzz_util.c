/* Helpers shared by the fuzz targets (see fuzz_util.h). Nothing here is fuzzed itself; it only shapes the
 * input and turns a broken contract into an abort libFuzzer reports with the input that caused it. */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int fuzz_argv(const uint8_t *data, size_t size, const char *prog, char *argv[FUZZ_MAX_ARGS + 2], char **block)
{
	char *s = fuzz_text(data, size);
	size_t i, start = 0;
	int argc = 0;

	argv[argc++] = (char *)prog;
	/* Every NUL (and the end) closes one argument, so "" arguments are possible, as on a real command
	 * line ('c1m-client ""'). An input without any byte is a bare program name. */
	for (i = 0; size > 0 && i <= size && argc <= FUZZ_MAX_ARGS; i++) {
		if (i == size || s[i] == '\0') {
			argv[argc++] = s + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	*block = s;
	return argc;
}

void fuzz_check_err(const char *what, const char *err, size_t errlen, bool input_has_newline)
{
	size_t n = strnlen(err, errlen);

	if (n == errlen)
		fuzz_fail(what, "error message is not NUL-terminated within errlen");
	if (n == 0)
		fuzz_fail(what, "failed without an error message");
	if (!input_has_newline && memchr(err, '\n', n) != NULL)
		fuzz_fail(what, "error message spans several lines");
}

void fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz invariant broken in %s: %s\n", what, detail);
	abort();
}

size_t fuzz_chunk(unsigned *seed, size_t left)
{
	size_t n;

	*seed = *seed * 1103515245u + 12345u;
	n = 1 + (*seed >> 16) % 64;
	return n < left ? n : left;
}

void fuzz_split_feed(const char *what, fuzz_feed_fn feed, void *st, const char *data, size_t len, unsigned seed,
		     struct fuzz_trace *t)
{
	struct proto_event ev;
	size_t pos = 0, n, off, used;
	enum proto_status s;

	memset(t, 0, sizeof(*t));
	t->last = PROTO_PARTIAL;
	while (pos < len) {
		n = seed ? fuzz_chunk(&seed, len - pos) : len - pos;
		for (off = 0; off < n;) {
			s = feed(st, data + pos + off, n - off, &used, &ev);
			if (memchr(ev.note, '\0', sizeof(ev.note)) == NULL)
				fuzz_fail(what, "note not NUL-terminated");
			if (used > n - off)
				fuzz_fail(what, "*used beyond the bytes given");
			if (s == PROTO_ERROR || s == PROTO_REFUSED) {
				t->last = s;
				t->stop_at = pos + off + used;
				t->stop_code = ev.code;
				memcpy(t->stop_note, ev.note, sizeof(t->stop_note));
				return;
			}
			if (s == PROTO_PARTIAL) {
				if (used != n - off)
					fuzz_fail(what, "PARTIAL without consuming every byte");
				off = n;
				continue;
			}
			if (s != PROTO_DONE || used == 0)
				fuzz_fail(what, "a reply completed without consuming a byte");
			off += used;
			if (t->n < FUZZ_MAX_EVENTS) {
				t->end[t->n] = pos + off;
				t->code[t->n] = ev.code;
				t->closing[t->n] = ev.closing;
			}
			t->n++;
		}
		pos += n;
	}
}

void fuzz_trace_compare(const char *what, const struct fuzz_trace *a, const struct fuzz_trace *b)
{
	unsigned i, n = a->n < FUZZ_MAX_EVENTS ? a->n : FUZZ_MAX_EVENTS;

	if (a->n != b->n || a->last != b->last || (a->last != PROTO_PARTIAL && a->stop_at != b->stop_at))
		fuzz_fail(what, "the same stream framed differently when split differently");
	if (a->last == PROTO_REFUSED && a->stop_code != b->stop_code)
		fuzz_fail(what, "a refusal with another code when split differently");
	for (i = 0; i < n; i++)
		if (a->end[i] != b->end[i] || a->code[i] != b->code[i] || a->closing[i] != b->closing[i])
			fuzz_fail(what, "a reply ended elsewhere, or with another status, when split");
}
