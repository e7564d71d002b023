/* lexer.h: the flex scanner's state and the token record kept for stk fmt.
 * Ownership: a lex_state borrows its source and diag context; it owns nothing else. */
#ifndef STK_LEXER_H
#define STK_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/diag.h"

/* Token kinds the scanner returns beyond bison's (never passed to the parser). */
#define LEX_COMMENT 10000
/* A character that is not part of the language, already reported: the parser recovers from it
 * as from a syntax error, without a message of its own. Not recorded for stk fmt. */
#define LEX_INVALID 10001

/* What opened each level of the scanner's code start condition (see lexer.l). */
enum lex_nest { LEX_NEST_BRACE = 1, LEX_NEST_STRING, LEX_NEST_HEREDOC, LEX_NEST_CODE };
#define LEX_MAX_NEST 128

struct lex_token {
	int kind;              /* a bison token kind, a character, or LEX_COMMENT */
	struct span span;
	unsigned bol : 1;      /* first token on its line */
};

struct lex_state {
	const struct source *src;
	struct diag_ctx *diag;
	struct arena *arena;       /* where token text goes: the tree's arena */
	uint32_t off;              /* where the next token starts */
	int brace_depth;           /* '{' and '${' opened in the code start condition */
	unsigned char nest[LEX_MAX_NEST]; /* enum lex_nest of each, while brace_depth fits */
	int last;                  /* the kind of the token returned last */
	int closed_interps;        /* the CQUOTE just returned also closed this many '${' */
	unsigned str_error : 1;    /* the open string has had an error that ends it */
	unsigned swallowed : 1;    /* a comment or heredoc ran to the end of the file */
	char *heredoc_marker;      /* open heredoc's closing marker */
	int heredoc_strip;
	struct span heredoc_open;
	struct span string_open;
	void *scanner;             /* yyscan_t */
	const char *in, *in_end;   /* what the scanner has yet to read of the source (YY_INPUT) */
};

union YYSTYPE;
struct span;

/* Scanner setup and the raw token function; the parser calls parse.c's wrapper. */
int lex_init(struct lex_state *ls, const struct source *src, struct diag_ctx *diag,
	     struct arena *arena);
/* The same for the bytes [start, end) of src, as if the token before start had been last
 * (0 for none): one piece of a file parsed in pieces (parse.c). */
int lex_init_range(struct lex_state *ls, const struct source *src, uint32_t start, uint32_t end,
		   int last, struct diag_ctx *diag, struct arena *arena);
void lex_release(struct lex_state *ls);
int lex_next(struct lex_state *ls, union YYSTYPE *lval, struct span *lloc);

/* Reports the first invalid UTF-8 sequence in [p, p+n), which starts at span's position.
 * Returns 0 when valid. */
int lex_check_utf8(struct lex_state *ls, const char *p, size_t n, const struct span *at);

/* "'}'", "a name", "end of file": a token kind in the user's words. */
const char *lex_token_name(int kind);

#endif
