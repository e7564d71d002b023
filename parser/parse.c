#include "parser/parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/pieces.h"
#include "parser/parser.h"

int yyparse(struct parse_ctx *ctx);

static struct parse_bracket *bracket_top(struct parse_ctx *ctx)
{
	size_t n = buf_count(&ctx->brackets, struct parse_bracket);
	return n ? &buf_at(&ctx->brackets, struct parse_bracket, n - 1) : NULL;
}

static size_t bracket_depth(struct parse_ctx *ctx)
{
	return buf_count(&ctx->brackets, struct parse_bracket);
}

static void bracket_pop(struct parse_ctx *ctx)
{
	ctx->brackets.len -= sizeof(struct parse_bracket);
}

/* What is known about the expression being written inside the innermost bracket. */
static struct parse_level *level(struct parse_ctx *ctx)
{
	if (!ctx->brackets.len)
		return &ctx->base;
	return &((struct parse_bracket *)(void *)(ctx->brackets.data + ctx->brackets.len) - 1)->lvl;
}

static int closed_by_brace(enum parse_bracket_kind k)
{
	return k == PB_BLOCK || k == PB_OBJECT || k == PB_INTERP || k == PB_DIRECTIVE;
}

static int wants_value(int kind);

/* Each prefix operator nests one level deeper: a long run of them would fill bison's stack
 * before the tree's depth limit could see it. A run of AST_MAX_DEPTH is too deep whatever
 * follows, so it ends the parse there. */
static void prefix_op(struct parse_ctx *ctx, const struct span *sp)
{
	if (ctx->recovering || ctx->stopped)
		return;
	if (ctx->prefix_run && ctx->prev_span.off == ctx->prefix_last) {
		ctx->prefix_run++;
	} else {
		ctx->prefix_run = 1;
		ctx->prefix_start = *sp;
	}
	ctx->prefix_last = sp->off;
	if (ctx->prefix_run >= AST_MAX_DEPTH) {
		struct span at = span_join(&ctx->prefix_start, sp);
		diag_error(ctx->diag, &at, "expression nested more than %d levels deep", AST_MAX_DEPTH);
		ctx->stopped = 1;
	}
}

/* Keeps the stack of open brackets, which recovery and messages ("the block opened at 3:20")
 * rely on. A '{' right after a name or a quoted label opens a block body. It also follows the
 * '?' waiting for their ':' and the parts of a for expression, for messages. */
static void track_brackets(struct parse_ctx *ctx, int kind, const struct span *sp)
{
	struct parse_bracket b;
	struct parse_bracket *top;
	struct parse_level *l;
	enum parse_bracket_kind k;
	int n;

	switch (kind) {
	case '{':
		/* (inside brackets, it can only be a map) */
		k = (ctx->prev_kind == IDENT || ctx->prev_kind == CQUOTE || ctx->prev_kind == STRING) &&
		    (!(top = bracket_top(ctx)) || top->kind == PB_BLOCK) ? PB_BLOCK : PB_OBJECT;
		break;
	case TINTERP:
		k = PB_INTERP;
		break;
	case TDIRECTIVE:
		k = PB_DIRECTIVE;
		break;
	case '[':
		k = PB_LIST;
		break;
	case '(':
		k = PB_PAREN;
		break;
	case '}':
	case TCLOSE_STRIP:
		/* a '}' also closes any '[' or '(' left open inside it */
		while ((top = bracket_top(ctx)) && !closed_by_brace(top->kind))
			bracket_pop(ctx);
		if (bracket_top(ctx))
			bracket_pop(ctx);
		return;
	case ']':
		if ((top = bracket_top(ctx)) && top->kind == PB_LIST)
			bracket_pop(ctx);
		return;
	case ')':
		if ((top = bracket_top(ctx)) && top->kind == PB_PAREN)
			bracket_pop(ctx);
		return;
	case CQUOTE:
		/* the quote that ends a string left open inside "${": the '${' close with it */
		/* (the scanner still holds the count: this is the token it returned last) */
		for (n = ctx->lex.closed_interps; n > 0 && (top = bracket_top(ctx)); bracket_pop(ctx))
			if (top->kind == PB_INTERP || top->kind == PB_DIRECTIVE)
				n--;
		return;
	case '?':
		l = level(ctx);
		l->nq++;
		l->q = *sp;
		return;
	case ':':
		l = level(ctx);
		if (l->nq)
			l->nq--;
		else if (l->for_stage == 2)
			l->for_stage = 3;
		return;
	case '=':
		ctx->eq_end = sp->end;
		/* fall through */
	case ',':
		/* a new value starts */
		level(ctx)->nq = 0;
		return;
	case '-':
		if (!wants_value(ctx->prev_kind))
			return;
		/* fall through */
	case '!':
		prefix_op(ctx, sp);
		return;
	case KW_FOR:
		top = bracket_top(ctx);
		if (top && (top->kind == PB_LIST || top->kind == PB_OBJECT) &&
		    (ctx->prev_kind == '[' || ctx->prev_kind == '{'))
			top->lvl.for_stage = 1;
		return;
	case KW_IN:
		l = level(ctx);
		if (l->for_stage == 1)
			l->for_stage = 2;
		return;
	case ARROW:
		l = level(ctx);
		if (l->for_stage == 3)
			l->for_stage = 4;
		return;
	default:
		return;
	}
	memset(&b, 0, sizeof b);
	b.kind = k;
	b.call = kind == '(' && ctx->prev_kind == IDENT;
	b.open = *sp;
	buf_push(&ctx->brackets, struct parse_bracket, b);
}

/* The depth inside the innermost block body open before the lookahead. */
static size_t innermost_block(struct parse_ctx *ctx)
{
	for (size_t i = bracket_depth(ctx); i > 0; i--)
		if (buf_at(&ctx->brackets, struct parse_bracket, i - 1).kind == PB_BLOCK)
			return i;
	return 0;
}

/* Does the previous token leave an expression to be written? */
static int wants_value(int kind)
{
	switch (kind) {
	case '=': case ':': case ',': case '(': case '[': case '?': case '+': case '-':
	case '*': case '/': case '%': case '<': case '>': case '!': case EQ: case NE:
	case LE: case GE: case AND: case OR: case TINTERP: case KW_IN: case KW_IF: case ARROW:
		return 1;
	default:
		return 0;
	}
}

/* Where recovery may resume: the next attribute or block at the body's own depth (the first
 * name on a line), the '}' that closes the body, or the end of the file. A line that starts
 * with a number or a string is a mistake of its own, to report, unless the line before wants
 * a value. */
static int is_sync_point(struct parse_ctx *ctx, int kind, unsigned bol, size_t depth)
{
	if (kind == END || depth < ctx->sync_depth)
		return 1;
	if (kind == '}') {
		/* the '}' that closes the body, even with a '[' or '(' left open before it, if it
		 * starts its line (when it is not the token of the error itself) */
		size_t i = bracket_depth(ctx);
		while (i > 0 && !closed_by_brace(buf_at(&ctx->brackets, struct parse_bracket, i - 1).kind))
			i--;
		return ctx->sync_depth > 0 && i == ctx->sync_depth &&
		       (bol || i == depth || !ctx->recovering);
	}
	if (!bol || depth != ctx->sync_depth)
		return 0;
	switch (kind) {
	case IDENT: case KW_FOR: case KW_IN: case KW_IF:
		return 1;
	case NUMBER: case STRING: case OQUOTE:
		return !wants_value(ctx->prev_kind);
	default:
		return 0;
	}
}

static void record_token(struct parse_ctx *ctx, int kind, const struct span *sp)
{
	struct lex_token t;
	size_t n = buf_count(&ctx->tokens, struct lex_token);

	t.kind = kind;
	t.span = *sp;
	t.bol = n == 0 || source_has_newline(sp->src, buf_at(&ctx->tokens, struct lex_token, n - 1).span.end,
					     sp->off);
	buf_push(&ctx->tokens, struct lex_token, t);
}

int parse_lex(union YYSTYPE *lval, struct span *lloc, struct parse_ctx *ctx)
{
	/* the stack follows the tokens the parser has consumed: the lookahead's own bracket
	 * is applied only when the next token is read, so messages name what was open */
	/* (names, strings, numbers and '.', half the tokens, change nothing there) */
	if (ctx->look_kind > 0 && ctx->look_kind != IDENT && ctx->look_kind != STRING &&
	    ctx->look_kind != NUMBER && ctx->look_kind != '.')
		track_brackets(ctx, ctx->look_kind, &ctx->look_span);
	for (;;) {
		int kind;
		unsigned bol, errors = ctx->diag->errors;
		size_t depth;

		if (ctx->stopped) {
			*lloc = span_end(&ctx->look_span);
			ctx->look_kind = END;
			return END;
		}
		kind = lex_next(&ctx->lex, lval, lloc);
		/* a character the scanner rejected (and reported) is no token for fmt */
		if (kind == LEX_INVALID)
			kind = YYerror;
		else if (ctx->keep_tokens)
			record_token(ctx, kind, lloc);
		if (kind == LEX_COMMENT)
			continue;
		/* "first on its line" matters only while recovering; messages work it out later */
		bol = ctx->recovering &&
		      (ctx->look_kind == -1 || source_has_newline(lloc->src, ctx->look_span.end, lloc->off));
		depth = bracket_depth(ctx);
		/* the lookahead becomes the previous token */
		ctx->prev2_kind = ctx->prev_kind;
		ctx->prev2_span = ctx->prev_span;
		ctx->prev_kind = ctx->look_kind;
		ctx->prev_span = ctx->look_span;
		ctx->prev_text = ctx->look_text;
		ctx->look_text = NULL;
		ctx->look_kind = kind;
		ctx->look_span = *lloc;
		ctx->look_depth = depth;
		ctx->prev_lexerr = ctx->look_lexerr;
		ctx->look_lexerr = ctx->diag->errors != errors;
		if (kind == IDENT)
			ctx->look_text = lval->str;
		if (depth >= PARSE_MAX_NESTING && (kind == '{' || kind == '[' || kind == '(' ||
						   kind == TINTERP || kind == TDIRECTIVE)) {
			diag_error(ctx->diag, lloc, "nested more than %d levels deep", PARSE_MAX_NESTING);
			diag_hint(ctx->diag, "split the value into locals");
			ctx->stopped = 1;
		}
		if (ctx->recovering) {
			if (!is_sync_point(ctx, kind, bol, depth)) {
				track_brackets(ctx, kind, lloc);
				ctx->skipped_off = lloc->off;
				continue;
			}
			ctx->recovering = 0;
			level(ctx)->nq = 0;
		}
		if (kind == YYerror) {
			/* bison recovers without a message: the scanner gave it */
			ctx->syntax_errors++;
			ctx->err_kind = kind;
			ctx->err_off = lloc->off;
			ctx->sync_depth = innermost_block(ctx);
			return kind;
		}
		return kind;
	}
}

/* Is the lookahead (or the token before it) the first on its line? */
static int look_bol(struct parse_ctx *ctx)
{
	return ctx->prev_kind == -1 ||
	       source_has_newline(ctx->look_span.src, ctx->prev_span.end, ctx->look_span.off);
}

static int prev_bol(struct parse_ctx *ctx)
{
	return ctx->prev2_kind == -1 ||
	       source_has_newline(ctx->prev_span.src, ctx->prev2_span.end, ctx->prev_span.off);
}

int parse_recover(struct parse_ctx *ctx, int has_lookahead)
{
	int kind = ctx->look_kind;
	int reported = kind == ctx->err_kind && ctx->look_span.off == ctx->err_off;

	/* the parse ended at a depth limit: bison stops at the end of the file */
	if (ctx->stopped)
		return PARSE_KEEP;
	/* bison also recovers without calling yyerror, within three tokens of an error */
	ctx->sync_depth = innermost_block(ctx);
	ctx->recovering = 0;
	/* no lookahead: the error came from an action (parse_block_head); skip from the next token */
	if (!has_lookahead || kind == YYerror || !is_sync_point(ctx, kind, look_bol(ctx), ctx->look_depth) ||
	    (reported && kind != IDENT && kind != KW_FOR && kind != KW_IN && kind != KW_IF &&
	     kind != '}' && kind != END)) {
		ctx->recovering = 1;
		return PARSE_SKIP;
	}
	level(ctx)->nq = 0;
	/* the token just reported stays, without a second report: bison takes it, or stops at
	 * the end of the file; a new one is parsed as the next item, its errors reported */
	return reported ? PARSE_KEEP : PARSE_RESUME;
}

static const char *bracket_what(enum parse_bracket_kind k)
{
	switch (k) {
	case PB_BLOCK: return "block";
	case PB_OBJECT: return "map";
	case PB_LIST: return "list";
	case PB_PAREN: return "'('";
	case PB_DIRECTIVE: return "directive";
	default: return "interpolation";
	}
}

static const char *bracket_closer(enum parse_bracket_kind k)
{
	switch (k) {
	case PB_LIST: return "']'";
	case PB_PAREN: return "')'";
	default: return "'}'";
	}
}

/* A token kind in the user's words, with the name itself for a name. */
static void describe(int kind, const char *text, struct buf *b)
{
	if (kind == IDENT && text)
		buf_printf(b, "'%s'", text);
	else if (kind == CQUOTE)
		buf_addstr(b, "'\"'");
	else
		buf_addstr(b, lex_token_name(kind));
}

/* bison's detailed message is "syntax error, unexpected X[, expecting A or B ...]": the
 * expected list is all it adds to what the context already knows. */
static void expected_list(const char *msg, struct buf *out)
{
	/* bison's names for tokens, in the words of a sentence */
	static const char *const words[][2] = {
		{ "name", "a name" }, { "string", "a string" }, { "number", "a number" },
		{ "heredoc", "a heredoc" }, { "text", "text" },
	};
	const char *p = strstr(msg, ", expecting ");
	struct buf items = BUF_INIT;
	size_t n = 0;

	if (!p)
		return;
	p += strlen(", expecting ");
	while (*p) {
		const char *q = strstr(p, " or ");
		size_t len = q ? (size_t)(q - p) : strlen(p);
		char *item = xstrndup(p, len);
		/* a plain string is a string to the user */
		if (strcmp(item, "plain string") == 0) {
			free(item);
		} else {
			for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
				if (strcmp(item, words[i][0]) == 0) {
					free(item);
					item = xstrdup(words[i][1]);
					break;
				}
			buf_push(&items, char *, item);
			n++;
		}
		if (!q)
			break;
		p = q + 4;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addstr(out, i + 1 == n ? " or " : ", ");
		buf_addstr(out, buf_at(&items, char *, i));
		free(buf_at(&items, char *, i));
	}
	buf_release(&items);
}

/* Can the token end a value? */
static int ends_value(int kind)
{
	switch (kind) {
	case NUMBER: case STRING: case CQUOTE: case HEREDOC_END: case IDENT: case KW_TRUE:
	case KW_FALSE: case KW_NULL: case ']': case '}': case ')': case '*': case TCLOSE_STRIP:
		return 1;
	default:
		return 0;
	}
}

/* Can the token start a value (and so be the next item of a list)? */
static int starts_value(int kind)
{
	switch (kind) {
	case NUMBER: case STRING: case OQUOTE: case HEREDOC_BEGIN: case IDENT: case KW_TRUE:
	case KW_FALSE: case KW_NULL: case '[': case '{': case '(': case '!':
		return 1;
	default:
		return 0;
	}
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/* The source right after a token, blanks skipped. */
static const char *text_after(const struct span *sp)
{
	const char *p = sp->src->text + sp->end;
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Does the string opened by this quote run to the end of its line? The scanner reports it. */
static int string_unclosed(const struct span *sp)
{
	const char *p = sp->src->text + sp->end, *end = sp->src->text + sp->src->len;

	for (; p < end && *p != '\n'; p++) {
		if (*p == '"')
			return 0;
		if (*p == '\\' && p + 1 < end && p[1] != '\n')
			p++;
	}
	return 1;
}

/* Is the token followed by '=' (not '==' or '=>') or '{', as a new attribute or block is? */
static int starts_item(const struct span *sp)
{
	const char *p = text_after(sp);
	return *p == '{' || (*p == '=' && p[1] != '=' && p[1] != '>');
}

static int is_vars_file(const struct source *src)
{
	size_t n = strlen(src->name);
	return n >= 8 && strcmp(src->name + n - 8, ".stkvars") == 0;
}

/* A block header broke across lines before next (a label on the next line, or a token that
 * cannot follow a header). Which mistake it is depends on what the header holds. */
static void header_break(struct parse_ctx *ctx, const struct ast_item *head,
			 const struct span *head_span, int next_kind, const char *next_text,
			 const struct span *next)
{
	const char *text = head_span->src->text + head_span->off;
	int len = (int)(head_span->end - head_span->off);
	struct buf found = BUF_INIT;
	struct span at;

	if (head->nlabels == 0) {
		describe(next_kind, next_text, &found);
		diag_error(ctx->diag, next, "expected '=' or a block after '%s', found %s", head->name,
			   found.data);
	} else if (head->nlabels == 1 && head->labels[0].kind == AST_LABEL_STRING &&
		   (innermost_block(ctx) > 0 || is_vars_file(head_span->src))) {
		/* `default "a"` in a block (where blocks take no labels), or in a .stkvars file of
		 * attributes: the string is a value */
		diag_error(ctx->diag, &head->labels[0].span, "expected '=' after '%s', found a string",
			   head->name);
		diag_hint(ctx->diag, "an argument is written name = value");
	} else {
		at = span_end(head_span);
		if (len > 60) {
			text = head->name;
			len = (int)strlen(head->name);
		}
		diag_error(ctx->diag, &at, "expected '{' after '%.*s'", len, text);
		diag_hint(ctx->diag, "a block is written %.*s { ... }", len, text);
	}
	buf_release(&found);
}

int parse_block_head(struct parse_ctx *ctx, struct ast_item *head, const struct span *head_span,
		     int next_kind, const char *next_text, const struct span *next)
{
	if (!source_has_newline(head_span->src, head_span->end, next->off) || ctx->stopped)
		return 0;
	header_break(ctx, head, head_span, next_kind, next_text, next);
	/* recovery skips what follows, from the lookahead on */
	ctx->syntax_errors++;
	ctx->err_kind = ctx->look_kind;
	ctx->err_off = ctx->look_span.off;
	ctx->sync_depth = innermost_block(ctx);
	return 1;
}

void parse_syntax_error(struct parse_ctx *ctx, const struct span *loc, const char *msg)
{
	struct buf m = BUF_INIT, exp = BUF_INIT, found = BUF_INIT;
	struct parse_bracket *open = bracket_top(ctx);
	struct parse_level *lvl = level(ctx);
	struct span at = *loc;
	int kind = ctx->look_kind;
	int in_head, bol, generic = 0, reported = 0;

	ctx->err_kind = kind;
	ctx->err_off = ctx->look_span.off;
	if (ctx->stopped)
		goto out;
	ctx->syntax_errors++;
	if (strstr(msg, "memory exhausted")) {
		/* only an expression far deeper than AST_MAX_DEPTH fills bison's stack */
		/* at the value of the last '=' */
		if (ctx->eq_end && ctx->eq_end <= loc->off) {
			struct span eq = { loc->src, ctx->eq_end, ctx->eq_end };
			at.off = (uint32_t)(text_after(&eq) - loc->src->text);
			at.end = at.off + 1;
		}
		diag_error(ctx->diag, &at, "expression nested more than %d levels deep", AST_MAX_DEPTH);
		ctx->stopped = 1;
		goto out;
	}
	if (kind == END && ctx->lex.swallowed) {
		/* an unclosed comment or heredoc took the rest of the file: its error says it all */
		ctx->eof_reported = 1;
		goto out;
	}
	expected_list(msg, &exp);
	if (exp.len && strcmp(exp.data, "a name, a string or '{'") == 0) {
		buf_reset(&exp);
		buf_addstr(&exp, "a label or '{'");
	}
	/* in a block header, which ends with the token before the lookahead */
	in_head = exp.len && strcmp(exp.data, "a label or '{'") == 0 && ctx->head &&
		  ctx->head_span.end == ctx->prev_span.end;
	describe(kind, ctx->look_text, &found);
	bol = look_bol(ctx);
	/* the scanner's error at this token (or just before it, on its line) says it all, and
	 * so will its error for a string the lookahead opens and never closes */
	if (kind != END && (ctx->look_lexerr || (ctx->prev_lexerr && !bol) ||
			    (kind == OQUOTE && string_unclosed(&ctx->look_span))))
		goto recover;
	if (kind == END) {
		/* point just after the last token, where the missing text belongs */
		at = span_end(ctx->prev_span.src ? &ctx->prev_span : loc);
		/* `a =` at the end of the file lacks its value, then the closing brackets */
		int no_value = wants_value(ctx->prev_kind) && ctx->prev_span.off != ctx->skipped_off;

		if (no_value)
			diag_error(ctx->diag, &at, "expected a value after %s, found the end of the file",
				   lex_token_name(ctx->prev_kind));
		if (open) {
			buf_printf(&m, "expected %s to close the %s opened at %u:%u",
				   bracket_closer(open->kind), bracket_what(open->kind),
				   span_line(&open->open), span_col(&open->open));
		} else if (no_value) {
			reported = 1;
		} else if (in_head && ctx->head->nlabels == 0) {
			buf_printf(&m, "expected '=' or a block after '%s', found the end of the file",
				   ctx->head->name);
		} else if (exp.len) {
			buf_printf(&m, "expected %s, found the end of the file", exp.data);
		} else {
			buf_addstr(&m, "the file ends too soon");
		}
	} else if (kind == '=' && ctx->prev_kind == IDENT && prev_bol(ctx) &&
		   ((wants_value(ctx->prev2_kind) && ctx->prev2_kind != '(' && ctx->prev2_kind != '[' &&
		     ctx->prev2_kind != ',' && ctx->prev2_kind != TINTERP) ||
		    ctx->prev2_kind == '.')) {
		/* "a = 1 +" then "b = 1" on the next line: what the line before lacks */
		at = ctx->prev2_span;
		if (ctx->prev2_kind == '.')
			buf_addstr(&m, "expected an attribute name after '.'");
		else
			buf_printf(&m, "expected a value after %s", lex_token_name(ctx->prev2_kind));
	} else if (kind == '=' && ctx->prev_kind == IDENT && prev_bol(ctx) && open &&
		   (open->kind == PB_LIST || open->kind == PB_PAREN)) {
		/* "f(1," then "b = 1": the bracket was left open on the line before */
		at = ctx->prev_span;
		buf_printf(&m, "expected %s to close the %s opened at %u:%u, found '%s'",
			   bracket_closer(open->kind), bracket_what(open->kind), span_line(&open->open),
			   span_col(&open->open), ctx->prev_text ? ctx->prev_text : "");
	} else if (in_head && bol) {
		header_break(ctx, ctx->head, &ctx->head_span, kind, ctx->look_text, &ctx->look_span);
		reported = 1;
	} else if (in_head && ctx->head->nlabels == 0) {
		if (starts_value(kind) || kind == '-') {
			buf_printf(&m, "expected '=' after '%s', found %s", ctx->head->name, found.data);
			diag_error(ctx->diag, &at, "%s", m.data);
			diag_hint(ctx->diag, "an argument is written name = value");
			reported = 1;
		} else if (kind == '}' || kind == ']' || kind == ')') {
			buf_printf(&m, "expected '=' or a block after '%s', found %s", ctx->head->name,
				   found.data);
		} else {
			buf_printf(&m, "expected a label or '{', found %s", found.data);
		}
	} else if (kind == CQUOTE && ctx->prev_kind == TINTERP) {
		buf_addstr(&m, "expected an expression inside ${ }");
	} else if (ctx->prev_kind == TDIRECTIVE) {
		buf_printf(&m, "expected a directive after '%%{' (if, for, else, endif or endfor), found %s",
			   found.data);
		diag_error(ctx->diag, &at, "%s", m.data);
		diag_hint(ctx->diag, "for the text %%{, write %%%%{");
		reported = 1;
	} else if (kind == ',' && open && open->kind == PB_OBJECT && !lvl->for_stage) {
		buf_printf(&m, "expected a key or '}' in the map opened at %u:%u, found ','",
			   span_line(&open->open), span_col(&open->open));
	} else if (kind == ',' && lvl->for_stage != 1 &&
		   (ctx->prev_kind == '(' || ctx->prev_kind == '[' || ctx->prev_kind == ',')) {
		/* `[,]`, `f(1, , 2)`: a comma only follows an item */
		buf_printf(&m, "expected a value after %s, found ','", lex_token_name(ctx->prev_kind));
	} else if (kind == ELLIPSIS && (ctx->prev_kind == '(' || ctx->prev_kind == ',') && open &&
		   open->kind == PB_PAREN && open->call) {
		diag_error(ctx->diag, &at, "expected an argument before '...'");
		diag_hint(ctx->diag, "'...' expands the last argument, a list, into arguments: "
			  "max(var.numbers...)");
		reported = 1;
	} else if (open && (open->kind == PB_LIST || open->kind == PB_PAREN) &&
		   (ctx->prev_kind == '[' || ctx->prev_kind == '(' || ctx->prev_kind == ',') &&
		   (kind == '}' || kind == ']' || kind == ')') &&
		   strcmp(found.data, bracket_closer(open->kind)) != 0) {
		/* `x = [` then the block's '}' */
		buf_printf(&m, "expected %s to close the %s opened at %u:%u, found %s",
			   bracket_closer(open->kind), bracket_what(open->kind), span_line(&open->open),
			   span_col(&open->open), found.data);
	} else if (wants_value(ctx->prev_kind) && !exp.len) {
		if (ctx->prev_kind == TINTERP)
			buf_printf(&m, "expected an expression inside ${ }, found %s", found.data);
		else
			buf_printf(&m, "expected a value after %s, found %s",
				   lex_token_name(ctx->prev_kind), found.data);
	} else if (lvl->nq && kind != ':') {
		buf_printf(&m, "expected ':' for the '?' at %u:%u, found %s", span_line(&lvl->q),
			   span_col(&lvl->q), found.data);
	} else if (lvl->for_stage == 2 && (starts_value(kind) || kind == '}' || kind == ']')) {
		buf_printf(&m, "expected ':' after the collection of the for expression, found %s",
			   found.data);
	} else if (lvl->for_stage == 3 && open && open->kind == PB_OBJECT &&
		   (starts_value(kind) || kind == '}')) {
		buf_printf(&m, "expected '=>' after the key of the for expression, found %s",
			   found.data);
	} else if (exp.len && strcmp(exp.data, "'='") == 0 && ctx->prev_kind == IDENT) {
		buf_printf(&m, "expected '=' after '%s', found %s", ctx->prev_text ? ctx->prev_text : "",
			   found.data);
	} else if (exp.len && strstr(exp.data, "'='") && strstr(exp.data, "'{'") &&
		   ctx->prev_kind == IDENT) {
		buf_printf(&m, "expected '=' or a block after '%s', found %s",
			   ctx->prev_text ? ctx->prev_text : "", found.data);
	} else if (open && open->kind == PB_OBJECT && !lvl->for_stage &&
		   (!exp.len || strcmp(exp.data, "'}'") == 0)) {
		/* a comma only follows an item */
		buf_printf(&m, "expected %s in the map opened at %u:%u, found %s",
			   ctx->prev_kind == '{' || ctx->prev_kind == ',' ? "a key or '}'" :
									      "a key, ',' or '}'",
			   span_line(&open->open), span_col(&open->open), found.data);
	} else if (open && (open->kind == PB_LIST || open->kind == PB_PAREN) && !lvl->for_stage &&
		   (!exp.len || strstr(exp.data, bracket_closer(open->kind)))) {
		/* the next item without a comma, or the bracket left open before the next line */
		if ((open->kind == PB_LIST || open->call) && starts_value(kind) &&
		    !(bol && starts_item(&ctx->look_span))) {
			buf_printf(&m, "expected ',' or %s in the %s opened at %u:%u, found %s",
				   bracket_closer(open->kind), bracket_what(open->kind),
				   span_line(&open->open), span_col(&open->open), found.data);
			diag_error(ctx->diag, &at, "%s", m.data);
			diag_hint(ctx->diag, open->kind == PB_LIST ? "separate list items with commas" :
					     "separate arguments with commas");
			reported = 1;
		} else {
			buf_printf(&m, "expected %s to close the %s opened at %u:%u, found %s",
				   bracket_closer(open->kind), bracket_what(open->kind),
				   span_line(&open->open), span_col(&open->open), found.data);
		}
	} else if (open && open->kind != PB_BLOCK && exp.len &&
		   strstr(exp.data, bracket_closer(open->kind))) {
		buf_printf(&m, "expected %s to close the %s opened at %u:%u, found %s",
			   bracket_closer(open->kind), bracket_what(open->kind), span_line(&open->open),
			   span_col(&open->open), found.data);
	} else if (exp.len) {
		buf_printf(&m, "expected %s, found %s", exp.data, found.data);
	} else if (open && open->kind == PB_OBJECT) {
		buf_printf(&m, "expected a key, ',' or '}' in the map opened at %u:%u, found %s",
			   span_line(&open->open), span_col(&open->open), found.data);
	} else if (open && open->kind == PB_INTERP) {
		buf_printf(&m, "expected '}' to close the interpolation opened at %u:%u, found %s",
			   span_line(&open->open), span_col(&open->open), found.data);
	} else {
		buf_printf(&m, "%s is not expected here", found.data);
		generic = 1;
	}
	if (kind == END)
		ctx->eof_reported = 1;
	/* the branches that gave their own message and hint are done */
	if (reported)
		goto recover;
	diag_error(ctx->diag, &at, "%s", m.data);
	if (kind == NUMBER && ctx->prev_kind == IDENT && exp.len && strstr(exp.data, "'='"))
		diag_hint(ctx->diag, open && open->kind == PB_OBJECT ? "a map item is written key = value" :
				     "an argument is written name = value");
	else if (kind == '=' && (ctx->prev_kind == '=' ||
				 (generic && !bol && ends_value(ctx->prev_kind) && ctx->prev_kind != '}') ||
				 (open && (open->kind == PB_LIST || open->kind == PB_PAREN) &&
				  ends_value(ctx->prev_kind) && !in_head &&
				  !(ctx->prev_kind == IDENT && prev_bol(ctx)))))
		diag_hint(ctx->diag, "comparison is written ==");
	else if (generic && bol && (!open || open->kind == PB_BLOCK) && starts_item(&ctx->look_span) &&
		 *text_after(&ctx->look_span) == '=') {
		/* `1 = 2`, `"a" = 3`: a line that reads as an argument */
		const char *name = ctx->look_span.src->text + ctx->look_span.off + 1;
		int len = (int)(ctx->look_span.end - ctx->look_span.off) - 2;
		const char *v = text_after(&ctx->look_span) + 1;
		int vl;

		while (*v == ' ' || *v == '\t')
			v++;
		vl = (int)strcspn(v, "\r\n");
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if (kind == STRING && len > 0 && (int)strspn(name, NAME_CHARS) == len && vl > 0 && vl <= 40)
			diag_hint(ctx->diag, "argument names are not quoted: %.*s = %.*s", len, name, vl, v);
		else if (kind == STRING || kind == NUMBER)
			diag_hint(ctx->diag, "an argument is written name = value");
	}
recover:
	/* a name that starts a line inside an unclosed '(' or '[', as a new attribute or block
	 * does (or "name =" there): the bracket was never closed, and parsing resumes with that
	 * item, or the next */
	ctx->sync_depth = innermost_block(ctx);
	if ((((kind == IDENT || kind == KW_FOR || kind == KW_IN || kind == KW_IF) && bol &&
	      starts_item(&ctx->look_span)) ||
	     (kind == '=' && ctx->prev_kind == IDENT && prev_bol(ctx))) &&
	    bracket_depth(ctx) > ctx->sync_depth) {
		size_t i = bracket_depth(ctx);
		while (i > ctx->sync_depth &&
		       !closed_by_brace(buf_at(&ctx->brackets, struct parse_bracket, i - 1).kind))
			i--;
		if (i == ctx->sync_depth) {
			ctx->brackets.len = i * sizeof(struct parse_bracket);
			ctx->look_depth = i;
		}
	}
	buf_release(&m);
	buf_release(&exp);
	buf_release(&found);
	return;
out:
	buf_release(&m);
	buf_release(&exp);
	buf_release(&found);
	/* resume at the next attribute or block of the innermost block body */
	ctx->sync_depth = innermost_block(ctx);
}

void parse_label_string(struct parse_ctx *ctx, struct ast_item *block, struct ast_expr *t)
{
	const char *s = ast_static_string(t);

	if (!s) {
		diag_error(ctx->diag, &t->span, "a block label cannot contain ${...}");
		diag_hint(ctx->diag, "labels are fixed names; use an argument inside the block");
		s = "";
	}
	ast_block_add_label(&ctx->file->arena, block, AST_LABEL_STRING,
			    arena_strdup(&ctx->file->arena, s), &t->span);
}

struct ast_expr *parse_directive(struct parse_ctx *ctx, const char *word, const struct span *word_span,
				 const struct ast_expr *extra, int after_if, int lstrip, int rstrip,
				 const struct span *span)
{
	static const struct { const char *word; enum ast_mark which; } words[] = {
		{ "else", AST_MARK_ELSE }, { "endif", AST_MARK_ENDIF }, { "endfor", AST_MARK_ENDFOR },
	};
	struct arena *a = &ctx->file->arena;

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strcmp(word, words[i].word) != 0)
			continue;
		if (!extra)
			return ast_template_mark(a, words[i].which, NULL, lstrip, rstrip, span);
		if (after_if && words[i].which == AST_MARK_ELSE) {
			struct span at = span_join(word_span, &extra->span);
			diag_error(ctx->diag, &at, "a template has no %%{ else if }");
			diag_hint(ctx->diag, "write %%{ else }%%{ if ... }...%%{ endif }%%{ endif }, or a "
				  "conditional inside ${ }");
		} else {
			diag_error(ctx->diag, &extra->span, "%%{ %s } takes nothing after %s", word, word);
		}
		/* it still closes what it closes: no second error for that */
		return ast_template_mark(a, words[i].which, NULL, lstrip, rstrip, span);
	}
	if (!ctx->stopped) {
		diag_error(ctx->diag, word_span, "unknown template directive '%s'", word);
		diag_hint(ctx->diag, "the directives are if, else, endif, for and endfor; for the text "
			  "%%{, write %%%%{");
	}
	return ast_template_mark(a, AST_MARK_INTERP, ast_error(a, span), 0, 0, span);
}

char *parse_join_names(struct parse_ctx *ctx, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = arena_alloc(&ctx->file->arena, la + lb + 2);

	memcpy(s, a, la);
	s[la] = '.';
	memcpy(s + la + 1, b, lb);
	return s;
}

/* Parses [start, end) of src into file. Returns the kind of the last token before the end
 * of the range, or -1 when the parse stopped early (the nesting limit) or none was read. */
static int parse_range(struct diag_ctx *diag, const struct source *src, uint32_t start, uint32_t end,
		       int last, int keep_tokens, struct ast_file *file)
{
	struct parse_ctx ctx;
	int last_kind = -1;

	memset(&ctx, 0, sizeof ctx);
	ctx.diag = diag;
	ctx.file = file;
	ctx.keep_tokens = keep_tokens;
	ctx.look_kind = -1;
	ctx.prev_kind = -1;
	ctx.prev2_kind = -1;
	ctx.skipped_off = UINT32_MAX;
	if (lex_init_range(&ctx.lex, src, start, end, last, diag, &file->arena)) {
		diag_error(diag, NULL, "cannot start the scanner for %s", src->name);
		goto out;
	}
	yyparse(&ctx);
	lex_release(&ctx.lex);
	/* the grammar reads END twice: its own, then bison's end of input */
	if (!ctx.stopped && !ctx.lex.swallowed && ctx.look_kind == END)
		last_kind = ctx.prev_kind == END ? ctx.prev2_kind : ctx.prev_kind;
	/* recovery can end at the end of the file with a block still open, where bison stays
	 * quiet: the user still has to hear about the missing '}' */
	if (!ctx.eof_reported && !ctx.stopped && !ctx.lex.swallowed && ctx.syntax_errors &&
	    bracket_depth(&ctx)) {
		struct parse_bracket *open = bracket_top(&ctx);
		struct span at = span_end(ctx.look_kind == END && ctx.prev_span.src ? &ctx.prev_span :
					  &ctx.look_span);
		diag_error(diag, &at, "expected %s to close the %s opened at %u:%u",
			   bracket_closer(open->kind), bracket_what(open->kind),
			   span_line(&open->open), span_col(&open->open));
	}
out:
	if (keep_tokens) {
		file->ntokens = buf_count(&ctx.tokens, struct lex_token);
		file->tokens = (struct lex_token *)(void *)buf_detach(&ctx.tokens, NULL);
	}
	buf_release(&ctx.tokens);
	buf_release(&ctx.brackets);
	return last_kind;
}

/*
 * A big file is parsed in pieces, side by side, one thread each: a configuration of 100k
 * resources is one 50 MB file as often as fifty. The pieces are cut where a top-level block
 * seems to start: after a line holding only '}', at the next line that starts with a letter.
 * A cut inside a heredoc, a comment or a string leaves the piece before it unfinished, which
 * it reports. So the pieces stand only when every one parses without a word (no error, no
 * warning) and every one but the last ends on '}': then each cut was between two top-level
 * items, the scanner was in its first state there, and the items are the ones a single pass
 * reads. Otherwise the pieces are thrown away and the file is parsed again in one pass, which
 * gives its messages exactly as always.
 */
#define PARSE_PIECE_MIN (1u << 20)  /* bytes: below this a thread costs more than it saves */
#define PARSE_PIECES_MAX 16

struct parse_piece {
	const struct source *src;
	uint32_t start, end;
	struct diag_ctx diag;
	struct ast_file *file;
	int last_kind;
};

static void *parse_piece_run(void *arg)
{
	struct parse_piece *pc = arg;

	pc->last_kind = parse_range(&pc->diag, pc->src, pc->start, pc->end, pc->start ? '}' : 0, 0,
				    pc->file);
	return NULL;
}

/* The start of the first top-level item that seems to follow a line "}" in [from, to), or 0. */
static uint32_t piece_cut(const struct source *src, size_t from, size_t to)
{
	const char *t = src->text, *p = t + from, *lim = t + to;

	while (p < lim && (p = memchr(p, '}', (size_t)(lim - p))) != NULL) {
		const char *q = p + 1;

		if (p == t || p[-1] != '\n') {
			p++;
			continue;
		}
		while (q < lim && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
			q++;
		if (q < lim && q[-1] == '\n' && (((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') || *q == '_'))
			return (uint32_t)(q - t);
		p = q;
	}
	return 0;
}

int parse_threads = 0;
size_t parse_piece_min = PARSE_PIECE_MIN;

/* Parses src in pieces when it is big enough and they all stand; returns NULL when not. */
static struct ast_file *parse_pieces(const struct source *src)
{
	struct parse_piece pieces[PARSE_PIECES_MAX];
	size_t n = pieces_count(src->len, parse_threads, parse_piece_min, PARSE_PIECES_MAX), np = 0, items = 0;
	struct ast_file *file = NULL;
	uint32_t at = 0;
	int ok = 1;

	if (n < 2)
		return NULL;
	for (size_t i = 1; i <= n; i++) {
		uint32_t cut = i == n ? (uint32_t)src->len :
			       piece_cut(src, src->len * i / n, src->len * (i + 1) / n);
		if (cut <= at)
			continue;
		memset(&pieces[np], 0, sizeof pieces[np]);
		pieces[np].src = src;
		pieces[np].start = at;
		pieces[np].end = cut;
		diag_init(&pieces[np].diag);
		pieces[np].diag.max_errors = 1;
		pieces[np].file = ast_file_new(src);
		np++;
		at = cut;
	}
	if (np < 2)
		goto out;
	pieces_run(parse_piece_run, pieces, sizeof *pieces, np, 1);
	for (size_t i = 0; i < np; i++) {
		struct parse_piece *pc = &pieces[i];
		if (pc->diag.errors || pc->diag.warnings || pc->diag.diags.len ||
		    (i + 1 < np && pc->last_kind != '}'))
			ok = 0;
		items += pc->file->body.n;
	}
	if (!ok)
		goto out;
	file = ast_file_new(src);
	file->body.items = arena_alloc(&file->arena, (items ? items : 1) * sizeof *file->body.items);
	for (size_t i = 0; i < np; i++) {
		struct ast_body *b = &pieces[i].file->body;
		if (b->n)
			memcpy(file->body.items + file->body.n, b->items, b->n * sizeof *b->items);
		file->body.n += b->n;
		arena_adopt(&file->arena, &pieces[i].file->arena);
	}
	file->pieces = (unsigned)np;
out:
	for (size_t i = 0; i < np; i++) {
		ast_file_free(pieces[i].file);
		diag_release(&pieces[i].diag);
	}
	return file;
}

void parse_expect(size_t len)
{
	if (len >= 2 * (size_t)parse_piece_min)
		pieces_warm(pieces_count(len, parse_threads, parse_piece_min, PARSE_PIECES_MAX));
}

struct ast_file *parse_source(struct diag_ctx *diag, const struct source *src, int keep_tokens)
{
	struct ast_file *file = NULL;

	if (!keep_tokens && src->len >= 2 * (size_t)parse_piece_min)
		file = parse_pieces(src);
	if (!file) {
		file = ast_file_new(src);
		file->pieces = 1;
		parse_range(diag, src, 0, (uint32_t)src->len, 0, keep_tokens, file);
	}
	return file;
}

const char *lex_token_name(int kind)
{
	/* per thread: files are parsed side by side (parse_pieces) */
	static _Thread_local char one[8][4];
	static _Thread_local unsigned next;

	switch (kind) {
	case END: return "end of file";
	case IDENT: return "a name";
	case NUMBER: return "a number";
	case OQUOTE:
	case STRING: return "a string";
	case CQUOTE: return "the end of the string";
	case TLIT: return "text";
	case TINTERP: return "'${'";
	case TDIRECTIVE: return "'%{'";
	case TCLOSE_STRIP: return "'~}'";
	case HEREDOC_BEGIN: return "a heredoc";
	case HEREDOC_END: return "the end of the heredoc";
	case KW_FOR: return "'for'";
	case KW_IN: return "'in'";
	case KW_IF: return "'if'";
	case KW_TRUE: return "'true'";
	case KW_FALSE: return "'false'";
	case KW_NULL: return "'null'";
	case ELLIPSIS: return "'...'";
	case ARROW: return "'=>'";
	case EQ: return "'=='";
	case NE: return "'!='";
	case LE: return "'<='";
	case GE: return "'>='";
	case AND: return "'&&'";
	case OR: return "'||'";
	case LEX_COMMENT: return "a comment";
	default:
		if (kind > 0 && kind < 128) {
			char *s = one[next++ % 8];
			s[0] = '\'';
			s[1] = (char)kind;
			s[2] = '\'';
			s[3] = '\0';
			return s;
		}
		return "a token";
	}
}
