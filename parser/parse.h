/* parse.h: parsing one source into an AST, with every syntax error collected.
 * Ownership: the returned ast_file belongs to the caller (ast_file_free); it borrows src. */
#ifndef STK_PARSE_H
#define STK_PARSE_H

#include "common/diag.h"
#include "lexer/lexer.h"
#include "parser/ast.h"

/* Brackets nested deeper than this are a diagnostic and end the parse of that file. */
#define PARSE_MAX_NESTING 100

enum parse_bracket_kind { PB_BLOCK, PB_OBJECT, PB_LIST, PB_PAREN, PB_INTERP, PB_DIRECTIVE };

/* What messages need to know about the expression being written at one bracket level. */
struct parse_level {
	unsigned nq;            /* '?' still waiting for their ':' */
	struct span q;          /* the last '?' */
	int for_stage;          /* a for expression: 1 after 'for', 2 'in', 3 ':', 4 '=>' */
};

struct parse_bracket {
	enum parse_bracket_kind kind;
	int call;               /* PB_PAREN: a function's arguments */
	struct span open;
	struct parse_level lvl; /* inside it */
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
	int look_lexerr;        /* the scanner reported an error in the lookahead */
	int prev_lexerr;        /* or in the token before it */
	size_t look_depth;      /* bracket depth before the lookahead */
	const char *look_text;  /* its name, for IDENT (in the tree's arena) */
	int prev_kind;          /* the token before it */
	struct span prev_span;
	const char *prev_text;
	int prev2_kind;         /* and the one before that */
	struct span prev2_span;
	int recovering;         /* skipping to the next attribute or block after an error */
	size_t sync_depth;
	uint32_t skipped_off;   /* the last token recovery skipped */
	uint32_t err_off;       /* the token the last error was reported at */
	int err_kind;
	struct parse_level base;/* the level outside every bracket */
	unsigned prefix_run;    /* consecutive prefix operators: '!' and unary '-' */
	struct span prefix_start;
	uint32_t prefix_last;   /* where the last of them starts */
	uint32_t eq_end;        /* where the last '=' ends */
	struct ast_item *head;  /* the block header being read, and its span so far */
	struct span head_span;
	int stopped;            /* nesting limit hit: the rest of the file is not parsed */
	unsigned syntax_errors;
	int eof_reported;
};

/* Parses src; the result holds every item that parsed (possibly none). Errors go to diag.
 * keep_tokens records every token, comments included, in the result (for stk fmt).
 * A file of at least 2 x parse_piece_min bytes is parsed in pieces on up to parse_threads
 * threads (0: $STK_PARSE_THREADS, else one per processor); the result is the same. */
struct ast_file *parse_source(struct diag_ctx *diag, const struct source *src, int keep_tokens);
/* A file of len bytes is about to be read and parsed: starts the threads that would parse
 * it in pieces now (pieces_warm), so that their processors are awake when it is read. */
void parse_expect(size_t len);
extern int parse_threads;
extern size_t parse_piece_min;

/* Called by the grammar. */
union YYSTYPE;
int parse_lex(union YYSTYPE *lval, struct span *lloc, struct parse_ctx *ctx);
void parse_syntax_error(struct parse_ctx *ctx, const struct span *loc, const char *msg);
/* In the action of the error production, with whether bison holds a lookahead: what to do
 * with it. PARSE_SKIP: clear it (yyclearin) and let parse_lex skip to the next attribute or
 * block; PARSE_RESUME: keep it, and report errors again (yyerrok); PARSE_KEEP: keep it, the
 * token that was just reported (bison then drops it, or stops at the end of the file). */
enum { PARSE_SKIP, PARSE_KEEP, PARSE_RESUME };
int parse_recover(struct parse_ctx *ctx, int has_lookahead);
void parse_label_string(struct parse_ctx *ctx, struct ast_item *block, struct ast_expr *t);
/* A block header so far, and the label after it. A block's labels are on the line of its
 * type: returns 1, with the error reported, when next starts another line. */
int parse_block_head(struct parse_ctx *ctx, struct ast_item *head, const struct span *head_span,
		     int next_kind, const char *next_text, const struct span *next);
/* %{ WORD } or %{ WORD extra } (%{ WORD if extra } with after_if): the mark of an %{ else },
 * %{ endif } or %{ endfor }, with anything after it reported. Any other word is reported, and
 * its mark holds an AST_ERROR. */
struct ast_expr *parse_directive(struct parse_ctx *ctx, const char *word, const struct span *word_span,
				 const struct ast_expr *extra, int after_if, int lstrip, int rstrip,
				 const struct span *span);
/* "aws" "vpc" -> "aws.vpc", in the tree's arena. */
char *parse_join_names(struct parse_ctx *ctx, const char *a, const char *b);

#endif
