/* jsonload.c FILE: reads FILE and parses it with jansson's json_loadb, with the flags stk's
 * state loader uses (planner/state.c), then frees it. bench/plan/run.sh times it on the
 * matching state: the floor under `stk plan` of parsing the state's JSON with jansson alone,
 * before stk turns it into values or reads any configuration. Not part of the C build. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	FILE *f;
	char *text;
	long n;
	json_t *root;
	json_error_t err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(argv[1]);
		return 1;
	}
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
		perror(argv[1]);
		return 1;
	}
	fclose(f);
	root = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!root) {
		fprintf(stderr, "%s:%d:%d: %s\n", argv[1], err.line, err.column, err.text);
		return 1;
	}
	json_decref(root);
	free(text);
	return 0;
}
