/* fmt.c: the canonical layout of a .stk file (stk fmt).
 *
 * The layout is computed from the tokens the parser kept, comments included, as hclwrite does
 * for terraform fmt: the file keeps its tokens in the same order and the same line breaks
 * between them; only the whitespace around them is recomputed. Strings and heredocs are
 * "units" copied as written, since their bytes are their value. The AST adds what tokens
 * alone cannot tell: which blocks follow one another and want a blank line between them.
 *
 * Each output line gets its indentation from the brackets open before it, the '=' of a run of
 * single-line attributes is aligned, and so are the end-of-line comments of consecutive
 * lines. Before the text is handed back it is parsed again, and its tokens and its tree (but
 * for offsets) compared with the original ones, so that a bug here can never change what a
 * file means. */
#include "parser/fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexer/lexer.h"
#include "parser/parse.h"
#include "parser/parser.h"

/* A token, or a whole string or heredoc (with what is interpolated in it). */
struct unit {
	size_t first, last;     /* tokens */
	int kind;               /* the first token's: OQUOTE or HEREDOC_BEGIN for a string */
	uint32_t off, end;
	uint32_t line, end_line;
	int delta;              /* +1 for an opening bracket, -1 for a closing one */
};

/* One line of output: units first..first+n-1; the last one may be an end-of-line comment. */
struct fline {
	size_t first, n;
	size_t ncode;           /* units before the trailing comment (n when there is none) */
	size_t eq;              /* with assign: the '=' is unit first+eq */
	unsigned indent;        /* in levels of two spaces */
	unsigned blank : 1;     /* a blank line goes before this one */
	unsigned assign : 1;    /* a single-line "name = value": its '=' lines up with others */
	unsigned multi : 1;     /* holds a unit that spans lines (heredoc, block comment) */
	size_t lead_cols;       /* columns before the '=' (with the indentation), or of the code */
	size_t rest_cols;       /* columns from the '=' on */
	size_t eq_pad;          /* spaces before the '=' */
	size_t comment_pad;     /* spaces before the trailing comment */
};

struct fmt {
	const struct ast_file *f;
	const char *text;
	struct lex_token *toks; /* the file's tokens without the end-of-file one */
	size_t ntoks;
	struct buf units;       /* struct unit */
	struct buf lines;       /* struct fline */
	struct buf scratch;     /* text rendered only to be measured */
};

#define UNIT(fm, i) (&buf_at(&(fm)->units, struct unit, (i)))
#define LINE(fm, i) (&buf_at(&(fm)->lines, struct fline, (i)))
#define NUNITS(fm) buf_count(&(fm)->units, struct unit)
#define NLINES(fm) buf_count(&(fm)->lines, struct fline)

static int is_line_comment(const char *text, const struct unit *u)
{
	return u->kind == LEX_COMMENT && (text[u->off] == '#' || text[u->off + 1] == '/');
}

/* Appends p[0..n), dropping the characters of trim that stand right before a newline (and,
 * with at_end, at the very end). */
static void add_trimmed(struct buf *out, const char *p, size_t n, const char *trim, int at_end)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		size_t k;

		if (i < n && p[i] != '\n')
			continue;
		if (i == n && !at_end) {
			buf_add(out, p + start, n - start);
			break;
		}
		for (k = i; k > start && p[k - 1] && strchr(trim, p[k - 1]); k--)
			;
		buf_add(out, p + start, k - start);
		if (i < n)
			buf_addch(out, '\n');
		start = i + 1;
	}
}

/* Heredoc text with LF line ends: the CR of a CR LF goes, since the scanner reads CR LF there
 * as LF. Not after another CR: CR CR LF is a CR, then the line end, and stays as it is. */
static void add_heredoc_text(struct buf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n' && (i == 0 || p[i - 1] != '\r')))
			buf_addch(out, p[i]);
}

/* A token's text as the output holds it: comments lose trailing whitespace on each line,
 * heredoc text the CR of its CR LF line ends; everything else is exact. */
static void add_token(struct buf *out, const char *text, const struct lex_token *t,
		      int in_heredoc)
{
	const char *p = text + t->span.off;
	size_t n = t->span.end - t->span.off;

	if (t->kind == LEX_COMMENT)
		add_trimmed(out, p, n, " \t\r\f\v", 1);
	else if (t->kind == TLIT && in_heredoc)
		add_heredoc_text(out, p, n);
	else
		buf_add(out, p, n);
}

/* Writes a unit. Inside a string or heredoc the whitespace between tokens (in ${ }, after the
 * heredoc marker, before the closing marker) is kept, less any at the end of a line. */
static void emit_unit(struct fmt *fm, const struct unit *u, struct buf *out)
{
	struct buf open = BUF_INIT; /* int: the strings and heredocs open here */
	size_t depth;

	if (u->first == u->last) {
		add_token(out, fm->text, &fm->toks[u->first], 0);
		return;
	}
	for (size_t k = u->first; k <= u->last; k++) {
		const struct lex_token *t = &fm->toks[k];

		if (k > u->first) {
			uint32_t from = fm->toks[k - 1].span.end;
			add_trimmed(out, fm->text + from, t->span.off - from, " \t\r\f\v", 0);
		}
		depth = buf_count(&open, int);
		add_token(out, fm->text, t,
			  depth && buf_at(&open, int, depth - 1) == HEREDOC_BEGIN);
		if (t->kind == OQUOTE || t->kind == HEREDOC_BEGIN)
			buf_push(&open, int, t->kind);
		else if ((t->kind == CQUOTE || t->kind == HEREDOC_END) && depth)
			open.len -= sizeof(int);
	}
	buf_release(&open);
}

/* The index of the unit before unit i that is not a comment, or SIZE_MAX. */
static size_t prev_code(struct fmt *fm, size_t i)
{
	while (i-- > 0)
		if (UNIT(fm, i)->kind != LEX_COMMENT)
			return i;
	return SIZE_MAX;
}

/* Can an expression end with unit i? Then a '-' after it subtracts and a '[' indexes. */
static int ends_value(struct fmt *fm, size_t i)
{
	size_t p;

	switch (UNIT(fm, i)->kind) {
	case IDENT: case NUMBER: case OQUOTE: case STRING: case HEREDOC_BEGIN:
	case KW_TRUE: case KW_FALSE: case KW_NULL:
	case ')': case ']': case '}':
		return 1;
	case '*': case KW_FOR: case KW_IN: case KW_IF:
		/* a.* and a.in are traversals */
		p = prev_code(fm, i);
		return p != SIZE_MAX && UNIT(fm, p)->kind == '.';
	default:
		return 0;
	}
}

/* Does a space go between units i-1 and i on one line? terraform fmt's rules. */
static int space_before(struct fmt *fm, size_t i)
{
	const struct unit *a = UNIT(fm, i - 1), *b = UNIT(fm, i);
	size_t ai = i - 1, p;

	if (b->kind == ',')
		return 0;
	if (a->kind == ',')
		return 1;
	if (a->kind == '.' || b->kind == '.' || b->kind == ELLIPSIS)
		return 0;
	if (a->kind == '!')
		return 0;
	if (a->kind == '-') {
		/* a minus after something that cannot end a value negates */
		p = prev_code(fm, ai);
		return p != SIZE_MAX && ends_value(fm, p);
	}
	if (a->kind == '(' || a->kind == '[' || b->kind == ')' || b->kind == ']')
		return 0;
	if (a->kind == '{' && b->kind == '}')
		return 0;
	if (a->kind == '{' || b->kind == '}')
		return 1;
	if (b->kind == '(' && a->kind == IDENT)
		return 0;       /* a call: the grammar reads "f (x)" as one too */
	if (b->kind == '[' && ends_value(fm, ai))
		return 0;       /* an index: likewise "x [0]" */
	return 1;
}

/* Appends units [from, to) with the spaces between them. */
static void render(struct fmt *fm, size_t from, size_t to, struct buf *out)
{
	for (size_t i = from; i < to; i++) {
		if (i > from && space_before(fm, i))
			buf_addch(out, ' ');
		emit_unit(fm, UNIT(fm, i), out);
	}
}

/* Columns of units [from, to) as rendered: code points, as editors count them. */
static size_t measure(struct fmt *fm, size_t from, size_t to)
{
	size_t cols = 0;

	buf_reset(&fm->scratch);
	render(fm, from, to, &fm->scratch);
	for (size_t i = 0; i < fm->scratch.len; i++)
		if (((unsigned char)fm->scratch.data[i] & 0xC0) != 0x80)
			cols++;
	return cols;
}

static void build_units(struct fmt *fm)
{
	for (size_t i = 0; i < fm->ntoks; i++) {
		struct unit u;
		const struct lex_token *t = &fm->toks[i];

		memset(&u, 0, sizeof u);
		u.first = u.last = i;
		u.kind = t->kind;
		if (t->kind == OQUOTE || t->kind == HEREDOC_BEGIN) {
			/* strings nest through ${ }: find the one that closes this one */
			size_t depth = 0, j;
			for (j = i; j < fm->ntoks; j++) {
				int k = fm->toks[j].kind;
				if (k == OQUOTE || k == HEREDOC_BEGIN)
					depth++;
				else if ((k == CQUOTE || k == HEREDOC_END) && --depth == 0)
					break;
			}
			u.last = j < fm->ntoks ? j : fm->ntoks - 1;
		}
		switch (t->kind) {
		case '{': case '[': case '(':
			u.delta = 1;
			break;
		case '}': case ']': case ')':
			u.delta = -1;
			break;
		}
		u.off = t->span.off;
		u.line = span_line(&t->span);
		u.end = fm->toks[u.last].span.end;
		u.end_line = span_end_line(&fm->toks[u.last].span);
		buf_push(&fm->units, struct unit, u);
		i = u.last;
	}
}

/* Splits the units into lines where the source has line breaks; finds each line's trailing
 * comment and whether it is an attribute whose '=' can line up with its neighbours'. */
static void build_lines(struct fmt *fm)
{
	size_t n = NUNITS(fm);

	for (size_t i = 0; i < n;) {
		struct fline l;
		size_t j = i + 1;
		int lead_net = 0, rest_net = 0, lead_multi = 0;

		while (j < n && UNIT(fm, j)->line <= UNIT(fm, j - 1)->end_line)
			j++;
		memset(&l, 0, sizeof l);
		l.first = i;
		l.n = j - i;
		l.ncode = l.n;
		if (l.n > 1 && is_line_comment(fm->text, UNIT(fm, j - 1)))
			l.ncode--;
		for (size_t k = i; k < j; k++)
			if (UNIT(fm, k)->end_line > UNIT(fm, k)->line)
				l.multi = 1;
		for (size_t k = 1; k < l.ncode; k++) {
			if (UNIT(fm, i + k)->kind != '=')
				continue;
			for (size_t m = 0; m < k; m++) {
				lead_net += UNIT(fm, i + m)->delta;
				if (UNIT(fm, i + m)->end_line > UNIT(fm, i + m)->line)
					lead_multi = 1;
			}
			for (size_t m = k; m < l.ncode; m++) {
				const struct unit *u = UNIT(fm, i + m);
				rest_net += u->delta;
				/* a "${" left open at the end of the line counts as a bracket
				 * for terraform fmt; a heredoc does not */
				if (u->kind == OQUOTE && u->end_line > u->line)
					rest_net++;
			}
			/* "x = [" starts a multi-line value: terraform leaves it out of the run */
			if (!lead_net && !rest_net && !lead_multi) {
				l.assign = 1;
				l.eq = k;
			}
			break;
		}
		buf_push(&fm->lines, struct fline, l);
		i = j;
	}
}

/* Closes n brackets on the stack of per-line bracket counts. Returns whether the last line
 * touched keeps some of its brackets open ("}, {" inside "[{"). */
static int close_brackets(struct buf *stack, size_t n)
{
	while (n > 0 && stack->len) {
		unsigned *top = &buf_at(stack, unsigned, buf_count(stack, unsigned) - 1);
		if (n < *top) {
			*top -= (unsigned)n;
			return 1;
		}
		n -= *top;
		stack->len -= sizeof(unsigned);
	}
	return 0;
}

/* One level per line that opens brackets (however many: "[{" is one level), as terraform fmt
 * does. A line starting with closing brackets stands at the level they return to. */
static void indent_lines(struct fmt *fm)
{
	struct buf stack = BUF_INIT; /* unsigned: brackets still open, per opening line */

	for (size_t li = 0; li < NLINES(fm); li++) {
		struct fline *l = LINE(fm, li);
		size_t k = 0, closers = 0;
		int net = 0, partial;

		while (k < l->n && UNIT(fm, l->first + k)->delta < 0)
			closers++, k++;
		partial = close_brackets(&stack, closers);
		l->indent = (unsigned)buf_count(&stack, unsigned) - (partial ? 1 : 0);
		for (; k < l->n; k++)
			net += UNIT(fm, l->first + k)->delta;
		if (net > 0 && partial)
			buf_at(&stack, unsigned, buf_count(&stack, unsigned) - 1) += (unsigned)net;
		else if (net > 0)
			buf_push(&stack, unsigned, (unsigned)net);
		else if (net < 0)
			close_brackets(&stack, (size_t)-net);
	}
	buf_release(&stack);
}

/* At most one blank line where the source had some, none at the start of the file, right
 * after an opening bracket or right before a closing one. */
static void mark_blanks(struct fmt *fm)
{
	for (size_t li = 1; li < NLINES(fm); li++) {
		struct fline *l = LINE(fm, li), *prev = LINE(fm, li - 1);
		const struct unit *first = UNIT(fm, l->first);
		const struct unit *last = UNIT(fm, prev->first + prev->n - 1);
		const struct unit *last_code = UNIT(fm, prev->first + prev->ncode - 1);

		l->blank = first->line > last->end_line + 1 && last_code->delta <= 0 &&
			   first->delta >= 0;
	}
}

/* The first line that starts at or after off. */
static size_t line_from(struct fmt *fm, uint32_t off)
{
	size_t lo = 0, hi = NLINES(fm);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (UNIT(fm, LINE(fm, mid)->first)->off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A blank line after block a's '}' when the next block b starts on a later line, unless one
 * already stands between them (say before the comments that introduce b). */
static void separate_blocks(struct fmt *fm, const struct ast_item *a, const struct ast_item *b)
{
	size_t first = line_from(fm, a->span.end);

	if (first >= NLINES(fm) || UNIT(fm, LINE(fm, first)->first)->off > b->span.off)
		return;
	for (size_t li = first; li < NLINES(fm); li++) {
		if (UNIT(fm, LINE(fm, li)->first)->off > b->span.off)
			break;
		if (LINE(fm, li)->blank)
			return;
	}
	LINE(fm, first)->blank = 1;
}

static void mark_block_gaps(struct fmt *fm, const struct ast_body *body)
{
	for (size_t i = 0; i < body->n; i++) {
		const struct ast_item *it = body->items[i];

		if (it->kind != AST_BLOCK)
			continue;
		mark_block_gaps(fm, &it->body);
		if (i + 1 < body->n && body->items[i + 1]->kind == AST_BLOCK)
			separate_blocks(fm, it, body->items[i + 1]);
	}
}

/* Lines up the '=' of each run of consecutive attribute lines, then the trailing comments of
 * each run of consecutive lines that have one. A blank line ends both kinds of run. */
static void align(struct fmt *fm)
{
	size_t n = NLINES(fm), start, width;

	for (size_t li = 0; li < n; li++) {
		struct fline *l = LINE(fm, li);

		l->eq_pad = 1;
		l->comment_pad = 1;
		if (l->assign) {
			l->lead_cols = 2 * l->indent + measure(fm, l->first, l->first + l->eq);
			l->rest_cols = measure(fm, l->first + l->eq, l->first + l->ncode);
		} else {
			l->lead_cols = 2 * l->indent + measure(fm, l->first, l->first + l->ncode);
		}
	}
	for (size_t li = 0; li < n; li = start) {
		start = li + 1;
		if (!LINE(fm, li)->assign)
			continue;
		width = 0;
		for (start = li; start < n && LINE(fm, start)->assign &&
		     (start == li || !LINE(fm, start)->blank); start++)
			if (LINE(fm, start)->lead_cols > width)
				width = LINE(fm, start)->lead_cols;
		for (size_t k = li; k < start; k++)
			LINE(fm, k)->eq_pad = width - LINE(fm, k)->lead_cols + 1;
	}
	for (size_t li = 0; li < n; li = start) {
		struct fline *l;

		start = li + 1;
		l = LINE(fm, li);
		if (l->ncode == l->n || l->multi)
			continue;
		width = 0;
		for (start = li; start < n; start++) {
			size_t w;
			l = LINE(fm, start);
			if (l->ncode == l->n || l->multi || (start > li && l->blank))
				break;
			w = l->lead_cols + (l->assign ? l->eq_pad + l->rest_cols : 0);
			if (w > width)
				width = w;
		}
		for (size_t k = li; k < start; k++) {
			size_t w;
			l = LINE(fm, k);
			w = l->lead_cols + (l->assign ? l->eq_pad + l->rest_cols : 0);
			l->comment_pad = width - w + 1;
		}
	}
}

static void emit_lines(struct fmt *fm, struct buf *out)
{
	for (size_t li = 0; li < NLINES(fm); li++) {
		const struct fline *l = LINE(fm, li);

		if (l->blank)
			buf_addch(out, '\n');
		buf_addchars(out, ' ', 2 * l->indent);
		if (l->assign) {
			render(fm, l->first, l->first + l->eq, out);
			buf_addchars(out, ' ', l->eq_pad);
			render(fm, l->first + l->eq, l->first + l->ncode, out);
		} else {
			render(fm, l->first, l->first + l->ncode, out);
		}
		if (l->ncode < l->n) {
			buf_addchars(out, ' ', l->comment_pad);
			emit_unit(fm, UNIT(fm, l->first + l->ncode), out);
		}
		buf_addch(out, '\n');
	}
}

/* A token's text for comparison: as add_token writes it. */
static void token_text(struct buf *b, const char *text, const struct lex_token *t)
{
	buf_reset(b);
	add_token(b, text, t, 1);
}

/* Does text parse, without errors, to the tokens of f (as add_token writes them), and to the
 * same tree but for its offsets: the values of its strings and heredocs among the rest? */
static int same_tokens(struct fmt *fm, const char *text, size_t len)
{
	struct diag_ctx diag;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct ast_file *g;
	struct source *src;
	char *copy = xmalloc(len + 1);
	size_t i = 0, j = 0;
	int ok = 0;

	memcpy(copy, text, len);
	copy[len] = '\0';
	diag_init(&diag);
	src = diag_add_source(&diag, fm->f->src ? fm->f->src->name : "-", copy, len);
	g = parse_source(&diag, src, 1);
	if (diag.errors)
		goto out;
	for (;;) {
		while (j < g->ntokens && g->tokens[j].kind == END)
			j++;
		if (i == fm->ntoks || j == g->ntokens)
			break;
		if (fm->toks[i].kind != g->tokens[j].kind)
			goto out;
		token_text(&a, fm->text, &fm->toks[i]);
		token_text(&b, src->text, &g->tokens[j]);
		if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
			goto out;
		i++;
		j++;
	}
	if (i != fm->ntoks || j != g->ntokens)
		goto out;
	buf_reset(&a);
	buf_reset(&b);
	ast_dump_values(fm->f, &a);
	ast_dump_values(g, &b);
	ok = a.len == b.len && (!a.len || memcmp(a.data, b.data, a.len) == 0);
out:
	buf_release(&a);
	buf_release(&b);
	ast_file_free(g);
	diag_release(&diag);
	return ok;
}

int fmt_format(const struct ast_file *f, struct buf *out)
{
	struct fmt fm;
	struct buf text = BUF_INIT;
	int ret = -1;

	memset(&fm, 0, sizeof fm);
	fm.f = f;
	/* without the tokens (keep_tokens), the comments would be lost */
	if (!f->src || !f->tokens)
		return -1;
	fm.text = f->src->text;
	fm.toks = xcalloc(f->ntokens + 1, sizeof *fm.toks);
	for (size_t i = 0; i < f->ntokens; i++)
		if (f->tokens[i].kind != END)
			fm.toks[fm.ntoks++] = f->tokens[i];
	build_units(&fm);
	build_lines(&fm);
	indent_lines(&fm);
	mark_blanks(&fm);
	mark_block_gaps(&fm, &f->body);
	align(&fm);
	/* the lexer skips a byte order mark; the file keeps it, since it is not layout */
	if (f->src->len >= 3 && memcmp(f->src->text, "\xEF\xBB\xBF", 3) == 0)
		buf_add(&text, f->src->text, 3);
	emit_lines(&fm, &text);
	if (!same_tokens(&fm, text.data ? text.data : "", text.len))
		goto out;
	buf_add(out, text.data ? text.data : "", text.len);
	ret = 0;
out:
	free(fm.toks);
	buf_release(&fm.units);
	buf_release(&fm.lines);
	buf_release(&fm.scratch);
	buf_release(&text);
	return ret;
}
