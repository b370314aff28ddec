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
	}
	free(text);
	return 0;
}
