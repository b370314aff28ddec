/* libFuzzer target: the JSON reader (common/util/json.h) on any bytes, two ways. json_r_skip validates one
 * value of any shape; a walk through json_r_object / json_r_array reads every string, number and literal
 * with the typed readers. Both must agree on whether the text is JSON, and the writer must render what
 * the walk read. The text is handed over in a buffer of exactly its length (no NUL by contract). */
#include "fuzz_util.h"

#include "common/util/json.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	unsigned depth;              /* callbacks nest as deep as the input, bounded here */
	struct json_w *w;
};

static int walk_value(struct json_r *j, const char *key, void *arg);

static int walk_value(struct json_r *j, const char *key, void *arg)
{
	struct walk *k = arg;
	char s[32];
	double d;
	bool b;
	int rc;

	json_r_ws(j);
	if (json_r_peek(j, '{') || json_r_peek(j, '[')) {
		bool obj = json_r_peek(j, '{');

		if (k->depth == JSON_MAX_DEPTH)
			return json_r_fail(j, "nested too deep");
		k->depth++;
		if (obj)
			json_w_object_begin(k->w, key);
		else
			json_w_array_begin(k->w, key);
		rc = obj ? json_r_object(j, walk_value, k) : json_r_array(j, walk_value, k);
		if (obj)
			json_w_object_end(k->w);
		else
			json_w_array_end(k->w);
		k->depth--;
		return rc;
	}
	if (json_r_peek(j, '"')) {
		if (json_r_string(j, s, sizeof(s), NULL) < 0)
			return -1;
		json_w_string(k->w, key, s);
		return 0;
	}
	if (json_r_at_number(j)) {
		if (json_r_double(j, &d) < 0)
			return -1;
		json_w_double(k->w, key, d, 3);
		return 0;
	}
	if (json_r_peek(j, 'n'))
		return json_r_skip(j);
	if (json_r_bool(j, &b) < 0)
		return -1;
	json_w_bool(k->w, key, b);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[1 << 16];
	char *text = malloc(size > 0 ? size : 1), err1[FUZZ_ERR_LEN] = "", err2[FUZZ_ERR_LEN] = "";
	bool nl = memchr(data, '\n', size) != NULL;
	struct json_r j;
	struct json_w w;
	struct walk k = { 0, &w };
	int skipped, walked;

	if (text == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	json_r_init(&j, text, size, "fuzz", err1, sizeof(err1));
	skipped = json_r_skip(&j) == 0 && json_r_end(&j) == 0 ? 0 : -1;
	if (skipped < 0)
		fuzz_check_err("json_r_skip", err1, sizeof(err1), nl);
	json_w_init(&w, out, sizeof(out));
	json_r_init(&j, text, size, "fuzz", err2, sizeof(err2));
	walked = walk_value(&j, NULL, &k) == 0 && json_r_end(&j) == 0 ? 0 : -1;
	if (walked < 0)
		fuzz_check_err("json walk", err2, sizeof(err2), nl);
	if (skipped != walked)
		fuzz_fail("json", "json_r_skip and the typed walk disagree on whether the text is JSON");
	if (walked == 0 && json_w_finish(&w) < 0 && w.sb.used + 1 < sizeof(out))
		fuzz_fail("json", "the writer refused the structure the reader accepted");
	free(text);
	return 0;
}
