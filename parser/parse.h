/* parse.h: parsing one source into an AST, with every syntax error collected.
 * Ownership: the returned ast_file belongs to the caller (ast_file_free); it borrows src. */
#ifndef STK_PARSE_H
#define STK_PARSE_H

#include "common/diag.h"
#include "lexer/lexer.h"
#include "parser/ast.h"

/* Brackets nested deeper than this are a diagnostic and end the parse of that file. */
#define PARSE_MAX_NESTING 100

enum parse_bracket_kind { PB_BLOCK, PB_OBJECT, PB_LIST, PB_PAREN, PB_INTERP };

struct parse_bracket {
	enum parse_bracket_kind kind;
	struct span open;
};

struct parse_ctx {
	struct diag_ctx *diag;
	struct lex_state lex;
	struct ast_file *file;
	int keep_tokens;
	struct buf tokens;      /* struct lex_token, when keep_tokens */
	struct buf brackets;    /* struct parse_bracket: what is open at the lookahead */
	int look_kind;          /* the token last handed to the parser */
	struct span look_span;
	size_t look_depth;      /* bracket depth before the lookahead */
	const char *look_text;  /* its name, for IDENT (in the tree's arena) */
	int prev_kind;          /* the token before it */
	struct span prev_span;
	const char *prev_text;
	int prev2_kind;         /* and the one before that */
	struct span prev2_span;
	int recovering;         /* skipping to the next attribute or block after an error */
	size_t sync_depth;
	int stopped;            /* nesting limit hit: the rest of the file is not parsed */
	unsigned syntax_errors;
	int eof_reported;
};

/* Parses src; the result holds every item that parsed (possibly none). Errors go to diag.
 * keep_tokens records every token, comments included, in the result (for stk fmt). */
struct ast_file *parse_source(struct diag_ctx *diag, const struct source *src, int keep_tokens);

/* Called by the grammar. */
union YYSTYPE;
int parse_lex(union YYSTYPE *lval, struct span *lloc, struct parse_ctx *ctx);
void parse_syntax_error(struct parse_ctx *ctx, const struct span *loc, const char *msg);
/* In the action of an error production: whether the lookahead may stay (else yyclearin). */
int parse_recover(struct parse_ctx *ctx);
void parse_label_string(struct parse_ctx *ctx, struct ast_item *block, struct ast_expr *t);
/* "aws" "vpc" -> "aws.vpc", in the tree's arena. */
char *parse_join_names(struct parse_ctx *ctx, const char *a, const char *b);

#endif
