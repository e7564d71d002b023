#include "parser/parse.h"

#include <stdlib.h>
#include <string.h>

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

/* Keeps the stack of open brackets, which recovery and messages ("the block opened at 3:20")
 * rely on. A '{' right after a name or a quoted label opens a block body. */
static void track_brackets(struct parse_ctx *ctx, int kind, const struct span *sp)
{
	struct parse_bracket b = { PB_PAREN, *sp };
	struct parse_bracket *top;

	switch (kind) {
	case '{':
		b.kind = (ctx->prev_kind == IDENT || ctx->prev_kind == CQUOTE || ctx->prev_kind == STRING) ?
			 PB_BLOCK : PB_OBJECT;
		break;
	case TINTERP:
		b.kind = PB_INTERP;
		break;
	case '[':
		b.kind = PB_LIST;
		break;
	case '(':
		b.kind = PB_PAREN;
		break;
	case '}':
		/* a '}' also closes any '[' or '(' left open inside it */
		while ((top = bracket_top(ctx)) && top->kind != PB_BLOCK && top->kind != PB_OBJECT &&
		       top->kind != PB_INTERP)
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
	default:
		return;
	}
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

/* Where recovery may resume: the next attribute or block at the body's own depth (the first
 * name on a line), the '}' that closes the body, or the end of the file. */
static int is_sync_point(struct parse_ctx *ctx, int kind, unsigned bol, size_t depth)
{
	if (kind == END || depth < ctx->sync_depth)
		return 1;
	if (kind == '}' && depth == ctx->sync_depth && ctx->sync_depth > 0)
		return 1;
	return bol && depth == ctx->sync_depth &&
	       (kind == IDENT || kind == KW_FOR || kind == KW_IN || kind == KW_IF);
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
	if (ctx->look_kind > 0)
		track_brackets(ctx, ctx->look_kind, &ctx->look_span);
	for (;;) {
		int kind;
		unsigned bol;
		size_t depth;

		if (ctx->stopped) {
			*lloc = span_end(&ctx->look_span);
			ctx->look_kind = END;
			return END;
		}
		kind = lex_next(&ctx->lex, lval, lloc);
		if (ctx->keep_tokens)
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
		if (kind == IDENT)
			ctx->look_text = lval->str;
		if (depth >= PARSE_MAX_NESTING && (kind == '{' || kind == '[' || kind == '(' ||
						   kind == TINTERP)) {
			diag_error(ctx->diag, lloc, "nested more than %d levels deep", PARSE_MAX_NESTING);
			diag_hint(ctx->diag, "split the value into locals");
			ctx->stopped = 1;
		}
		if (ctx->recovering) {
			if (!is_sync_point(ctx, kind, bol, depth)) {
				track_brackets(ctx, kind, lloc);
				continue;
			}
			ctx->recovering = 0;
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

int parse_recover(struct parse_ctx *ctx)
{
	if (is_sync_point(ctx, ctx->look_kind, look_bol(ctx), ctx->look_depth)) {
		ctx->recovering = 0;
		return 1;
	}
	ctx->recovering = 1;
	return 0;
}

static const char *bracket_what(enum parse_bracket_kind k)
{
	switch (k) {
	case PB_BLOCK: return "block";
	case PB_OBJECT: return "map";
	case PB_LIST: return "list";
	case PB_PAREN: return "'('";
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

/* The lookahead in the user's words: "name 'foo'", "number", "'}'". */
static void describe_lookahead(struct parse_ctx *ctx, struct buf *b)
{
	if (ctx->look_kind == IDENT && ctx->look_text)
		buf_printf(b, "'%s'", ctx->look_text);
	else if (ctx->look_kind == NUMBER || ctx->look_kind == OQUOTE || ctx->look_kind == STRING ||
		 ctx->look_kind == HEREDOC_BEGIN || ctx->look_kind == END)
		buf_addstr(b, lex_token_name(ctx->look_kind));
	else
		buf_addstr(b, lex_token_name(ctx->look_kind));
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

void parse_syntax_error(struct parse_ctx *ctx, const struct span *loc, const char *msg)
{
	struct buf m = BUF_INIT, exp = BUF_INIT, found = BUF_INIT;
	struct parse_bracket *open = bracket_top(ctx);
	struct span at = *loc;
	int kind = ctx->look_kind;

	if (ctx->stopped)
		goto out;
	ctx->syntax_errors++;
	if (strstr(msg, "memory exhausted")) {
		diag_error(ctx->diag, loc, "nested too deeply");
		goto out;
	}
	expected_list(msg, &exp);
	if (exp.len && strcmp(exp.data, "a name, a string or '{'") == 0) {
		buf_reset(&exp);
		buf_addstr(&exp, "a label or '{'");
	}
	describe_lookahead(ctx, &found);
	if (kind == END) {
		/* point just after the last token, where the missing text belongs */
		at = span_end(ctx->prev_span.src ? &ctx->prev_span : loc);
		if (open) {
			buf_printf(&m, "expected %s to close the %s opened at %u:%u",
				   bracket_closer(open->kind), bracket_what(open->kind),
				   span_line(&open->open), span_col(&open->open));
		} else if (wants_value(ctx->prev_kind)) {
			buf_printf(&m, "expected a value after %s, found the end of the file",
				   lex_token_name(ctx->prev_kind));
		} else if (exp.len) {
			buf_printf(&m, "expected %s, found the end of the file", exp.data);
		} else {
			buf_addstr(&m, "the file ends too soon");
		}
	} else if (kind == '=' && ctx->prev_kind == IDENT && prev_bol(ctx) &&
		   ctx->prev2_kind == '=') {
		/* "a =" then "b = 1" on the next line: the value of a is missing */
		at = ctx->prev2_span;
		buf_addstr(&m, "expected a value after '='");
	} else if (kind == CQUOTE && ctx->prev_kind == TINTERP) {
		buf_addstr(&m, "expected an expression inside ${ }");
	} else if (wants_value(ctx->prev_kind) && !exp.len) {
		if (ctx->prev_kind == TINTERP)
			buf_printf(&m, "expected an expression inside ${ }, found %s", found.data);
		else
			buf_printf(&m, "expected a value after %s, found %s",
				   lex_token_name(ctx->prev_kind), found.data);
	} else if (exp.len && strcmp(exp.data, "'='") == 0 && ctx->prev_kind == IDENT) {
		buf_printf(&m, "expected '=' after '%s', found %s", ctx->prev_text ? ctx->prev_text : "",
			   found.data);
	} else if (exp.len && strstr(exp.data, "'='") && strstr(exp.data, "'{'") &&
		   ctx->prev_kind == IDENT) {
		buf_printf(&m, "expected '=' or a block after '%s', found %s",
			   ctx->prev_text ? ctx->prev_text : "", found.data);
	} else if (open && open->kind != PB_BLOCK && exp.len &&
		   strstr(exp.data, bracket_closer(open->kind))) {
		buf_printf(&m, "expected %s to close the %s opened at %u:%u, found %s",
			   bracket_closer(open->kind), bracket_what(open->kind), span_line(&open->open),
			   span_col(&open->open), found.data);
	} else if (exp.len) {
		buf_printf(&m, "expected %s, found %s", exp.data, found.data);
	} else if (open && (open->kind == PB_LIST || open->kind == PB_PAREN)) {
		buf_printf(&m, "expected ',' or %s in the %s opened at %u:%u, found %s",
			   bracket_closer(open->kind), bracket_what(open->kind), span_line(&open->open),
			   span_col(&open->open), found.data);
	} else if (open && open->kind == PB_OBJECT) {
		buf_printf(&m, "expected a key, ',' or '}' in the map opened at %u:%u, found %s",
			   span_line(&open->open), span_col(&open->open), found.data);
	} else if (open && open->kind == PB_INTERP) {
		buf_printf(&m, "expected '}' to close the interpolation opened at %u:%u, found %s",
			   span_line(&open->open), span_col(&open->open), found.data);
	} else {
		buf_printf(&m, "%s is not expected here", found.data);
	}
	if (kind == END)
		ctx->eof_reported = 1;
	diag_error(ctx->diag, &at, "%s", m.data);
	if (kind == NUMBER && ctx->prev_kind == IDENT && exp.len && strstr(exp.data, "'='"))
		diag_hint(ctx->diag, "an argument is written name = value");
	else if (kind == '=' && ctx->prev_kind == '=')
		diag_hint(ctx->diag, "comparison is written ==");
	else if (kind == IDENT && wants_value(ctx->prev_kind) == 0 && open && open->kind == PB_LIST)
		diag_hint(ctx->diag, "separate list items with commas");
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

char *parse_join_names(struct parse_ctx *ctx, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = arena_alloc(&ctx->file->arena, la + lb + 2);

	memcpy(s, a, la);
	s[la] = '.';
	memcpy(s + la + 1, b, lb);
	return s;
}

struct ast_file *parse_source(struct diag_ctx *diag, const struct source *src, int keep_tokens)
{
	struct parse_ctx ctx;
	struct ast_file *file = ast_file_new(src);

	memset(&ctx, 0, sizeof ctx);
	ctx.diag = diag;
	ctx.file = file;
	ctx.keep_tokens = keep_tokens;
	ctx.look_kind = -1;
	ctx.prev_kind = -1;
	ctx.prev2_kind = -1;
	if (lex_init(&ctx.lex, src, diag, &file->arena)) {
		diag_error(diag, NULL, "cannot start the scanner for %s", src->name);
		goto out;
	}
	yyparse(&ctx);
	lex_release(&ctx.lex);
	/* recovery can end at the end of the file with a block still open, where bison stays
	 * quiet: the user still has to hear about the missing '}' */
	if (!ctx.eof_reported && !ctx.stopped && ctx.syntax_errors && bracket_depth(&ctx)) {
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
	return file;
}

const char *lex_token_name(int kind)
{
	static char one[8][4];
	static unsigned next;

	switch (kind) {
	case END: return "end of file";
	case IDENT: return "a name";
	case NUMBER: return "a number";
	case OQUOTE:
	case STRING: return "a string";
	case CQUOTE: return "the end of the string";
	case TLIT: return "text";
	case TINTERP: return "'${'";
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
