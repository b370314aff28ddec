/* libFuzzer target: the JSON report of c1m-client that `c1m-doctor --explain --from FILE` reads
 * (explain_client_parse), a small hand-written JSON reader. The text is not NUL-terminated by contract,
 * so it is handed over in a buffer of exactly its length. */
#include "fuzz_util.h"

#include "common/model/explain.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size > 0 ? size : 1), err[FUZZ_ERR_LEN] = "";
	bool nl = memchr(data, '\n', size) != NULL;
	struct explain_client c;
	static struct diag_context ctx;
	static char text_out[DIAG_EXPLAIN_LEN];
	unsigned k;

	if (text == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	if (explain_client_parse(text, size, &c, err, sizeof(err)) < 0) {
		fuzz_check_err("explain_client_parse", err, sizeof(err), nl);
	} else {
		if (memchr(c.host, '\0', sizeof(c.host)) == NULL)
			fuzz_fail("explain_client_parse", "host is not NUL-terminated");
		if ((unsigned)c.first_cause > DIAG_KIND_COUNT)
			fuzz_fail("explain_client_parse", "first_cause out of range");
		if (memchr(c.proto, '\0', sizeof(c.proto)) == NULL ||
		    memchr(c.proto_note, '\0', sizeof(c.proto_note)) == NULL)
			fuzz_fail("explain_client_parse", "proto or proto_note is not NUL-terminated");
		/* what the report says of someone else's server, into every kind's explanation */
		memset(&ctx, 0, sizeof(ctx));
		explain_client_context(&c, &ctx);
		for (k = 0; k < DIAG_KIND_COUNT; k++) {
			ctx.count = c.failures[k];
			if (diag_explain((enum diag_kind)k, &ctx, text_out, sizeof(text_out)) < 0 ||
			    memchr(text_out, '\0', sizeof(text_out)) == NULL)
				fuzz_fail("diag_explain", "an explanation did not fit its buffer");
		}
	}
	free(text);
	return 0;
}
