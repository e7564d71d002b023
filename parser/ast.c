#include "parser/ast.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* Arrays in nodes grow by doubling: n is the count, and the capacity is the power of two at or
 * above n starting from first (itself a power of two), so it need not be stored. */
static void *grow_array(struct arena *a, void *items, size_t n, size_t size, size_t first)
{
	if (n >= first && (n & (n - 1)) == 0)
		return arena_grow(a, items, n * size, n * 2 * size);
	if (n == 0)
		return arena_alloc(a, first * size);
	return items;
}

static unsigned max_u(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

static unsigned depth_of(const struct ast_expr *e)
{
	return e ? e->depth : 0;
}

struct ast_expr *ast_expr_new(struct arena *a, enum ast_expr_kind kind, const struct span *span)
{
	struct ast_expr *e = arena_alloc(a, sizeof *e);

	e->kind = kind;
	e->depth = 1;
	if (span)
		e->span = *span;
	return e;
}

struct ast_expr *ast_error(struct arena *a, const struct span *span)
{
	return ast_expr_new(a, AST_ERROR, span);
}

struct ast_expr *ast_bool(struct arena *a, int v, const struct span *span)
{
	struct ast_expr *e = ast_expr_new(a, AST_BOOL, span);
	e->u.boolean = v;
	return e;
}

struct ast_expr *ast_null(struct arena *a, const struct span *span)
{
	return ast_expr_new(a, AST_NULL, span);
}

struct ast_expr *ast_number(struct arena *a, double v, const struct span *span)
{
	struct ast_expr *e = ast_expr_new(a, AST_NUMBER, span);
	e->u.number = v;
	return e;
}

struct ast_expr *ast_string(struct arena *a, char *s, size_t len, const struct span *span)
{
	struct ast_expr *e = ast_expr_new(a, AST_STRING, span);
	e->u.string.s = s;
	e->u.string.len = len;
	return e;
}

struct ast_expr *ast_template_new(struct arena *a, const struct span *span)
{
	return ast_expr_new(a, AST_TEMPLATE, span);
}

void ast_template_add(struct arena *a, struct ast_expr *t, struct ast_expr *part)
{
	size_t n = t->u.tmpl.n;
	struct ast_expr *last = n ? t->u.tmpl.parts[n - 1] : NULL;

	/* adjacent literal pieces (text, then an escape) become one part */
	if (last && last->kind == AST_STRING && part->kind == AST_STRING) {
		size_t len = last->u.string.len + part->u.string.len;
		last->u.string.s = arena_grow(a, last->u.string.s, last->u.string.len + 1, len + 1);
		memcpy(last->u.string.s + last->u.string.len, part->u.string.s, part->u.string.len);
		last->u.string.s[len] = '\0';
		last->u.string.len = len;
		last->span = span_join(&last->span, &part->span);
		return;
	}
	t->u.tmpl.parts = grow_array(a, t->u.tmpl.parts, n, sizeof *t->u.tmpl.parts, 4);
	t->u.tmpl.parts[n] = part;
	t->u.tmpl.n = n + 1;
	t->depth = max_u(t->depth, part->depth + 1);
}

/* The length of the white space character at s[0..len), or 0: what Go's unicode.IsSpace
 * takes, which HCL strips from <<- lines (U+0085, U+00A0 and the Unicode space separators
 * besides ASCII's). */
static size_t space_char(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;

	if (len >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (len >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (len < 3)
		return 0;
	if ((s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) ||                  /* U+1680 */
	    (s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xA8 ||  /* U+2000-200A, */
					      s[2] == 0xA9 || s[2] == 0xAF)) ||  /* 2028, 2029, 202F */
	    (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) ||                  /* U+205F */
	    (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80))                    /* U+3000 */
		return 3;
	return 0;
}

/* The white space that starts s[0..len): its length in bytes, and in characters in *chars. */
static size_t indent_of(const char *s, size_t len, size_t *chars)
{
	size_t i = 0, k;

	*chars = 0;
	while (i < len && (k = space_char(s + i, len - i)) > 0) {
		i += k;
		++*chars;
	}
	return i;
}

/* The bytes that the first n characters of the indentation at s take. */
static size_t indent_bytes(const char *s, size_t len, size_t n)
{
	size_t i = 0;

	while (n-- > 0)
		i += space_char(s + i, len - i);
	return i;
}

/* <<-EOT: removes the smallest indentation of the lines from every line, as HCL's
 * flushHeredocTemplateParts does. A line of only white space, up to its line feed, neither
 * counts nor loses any: HCL leaves it alone. White space before an interpolation counts; a
 * line that starts with an interpolation has none. Indentation is counted in characters,
 * white space being what Go's unicode.IsSpace takes (space_char). */
static void strip_heredoc(struct arena *a, struct ast_expr *t)
{
	size_t min = (size_t)-1, chars;
	int bol = 1;

	for (size_t i = 0; i < t->u.tmpl.n; i++) {
		struct ast_expr *p = t->u.tmpl.parts[i];
		if (p->kind != AST_STRING) {
			if (bol)
				min = 0;
			bol = 0;
			continue;
		}
		const char *s = p->u.string.s;
		size_t len = p->u.string.len, k = 0;
		while (k < len) {
			const char *nl = memchr(s + k, '\n', len - k);
			size_t end = nl ? (size_t)(nl - s) : len;
			if (bol) {
				size_t ind = indent_of(s + k, end - k, &chars);
				int blank = (k + ind == end) && nl;
				if (!blank && chars < min)
					min = chars;
			}
			if (!nl) {
				bol = 0;
				break;
			}
			bol = 1;
			k = end + 1;
		}
	}
	if (min == (size_t)-1 || min == 0)
		return;
	bol = 1;
	for (size_t i = 0; i < t->u.tmpl.n; i++) {
		struct ast_expr *p = t->u.tmpl.parts[i];
		if (p->kind != AST_STRING) {
			bol = 0;
			continue;
		}
		struct buf out = BUF_INIT;
		const char *s = p->u.string.s;
		size_t len = p->u.string.len, k = 0;
		while (k < len) {
			const char *nl = memchr(s + k, '\n', len - k);
			size_t end = nl ? (size_t)(nl - s) + 1 : len;
			/* every line that counted has min characters of white space or more */
			if (bol && !(nl && k + indent_of(s + k, end - 1 - k, &chars) == end - 1))
				k += indent_bytes(s + k, end - k, min);
			buf_add(&out, s + k, end - k);
			bol = nl != NULL;
			k = end;
		}
		p->u.string.len = out.len;
		p->u.string.s = arena_strndup(a, buf_cstr(&out), out.len);
		buf_release(&out);
	}
}

struct ast_expr *ast_template_mark(struct arena *a, enum ast_mark which, struct ast_expr *arg,
				   int lstrip, int rstrip, const struct span *span)
{
	struct ast_expr *e = ast_expr_new(a, AST_TMPL_MARK, span);

	e->u.mark.arg = arg;
	e->u.mark.which = (unsigned char)which;
	e->u.mark.lstrip = lstrip != 0;
	e->u.mark.rstrip = rstrip != 0;
	e->depth = depth_of(arg) + 1;
	return e;
}

static void set_text(struct arena *a, struct ast_expr *p, size_t from, size_t to)
{
	p->u.string.s = arena_strndup(a, p->u.string.s + from, to - from);
	p->u.string.len = to - from;
}

/* The white space after a ~}. In a heredoc (and a template file) HCL's literals end at each
 * line break, and ~} trims only the one after it: its white space up to and with the first
 * line break. A quoted string's literal is one, escapes and all. */
static void trim_left(struct arena *a, struct ast_expr *p, int heredoc)
{
	const char *s = p->u.string.s;
	size_t len = p->u.string.len, i = 0, k;

	while (i < len && (k = space_char(s + i, len - i)) > 0) {
		i += k;
		if (heredoc && s[i - 1] == '\n')
			break;
	}
	set_text(a, p, i, len);
}

/* The white space before a ${~ or %{~: of the last literal of a heredoc's, the line it ends
 * (with its line break, when it ends right after one), as HCL does. */
static void trim_right(struct arena *a, struct ast_expr *p, int heredoc)
{
	const char *s = p->u.string.s;
	size_t len = p->u.string.len, from = 0, end, i, k;

	if (heredoc) {
		size_t j = len && s[len - 1] == '\n' ? len - 1 : len;
		while (j > 0 && s[j - 1] != '\n')
			j--;
		from = j;
	}
	/* forwards: a space of several bytes is known by its first */
	for (end = i = from; i < len;) {
		k = space_char(s + i, len - i);
		i += k ? k : 1;
		if (!k)
			end = i;
	}
	set_text(a, p, 0, end);
}

/* Applies the strip markers to the literals beside them; a neighbour that is not a literal
 * keeps its value, as in HCL. Returns whether t holds any mark. */
static int apply_strips(struct arena *a, struct ast_expr *t)
{
	int marks = 0;

	for (size_t i = 0; i < t->u.tmpl.n; i++) {
		struct ast_expr *p = t->u.tmpl.parts[i];
		if (p->kind != AST_TMPL_MARK)
			continue;
		marks = 1;
		if (p->u.mark.lstrip && i > 0 && t->u.tmpl.parts[i - 1]->kind == AST_STRING)
			trim_right(a, t->u.tmpl.parts[i - 1], t->u.tmpl.heredoc);
		if (p->u.mark.rstrip && i + 1 < t->u.tmpl.n && t->u.tmpl.parts[i + 1]->kind == AST_STRING)
			trim_left(a, t->u.tmpl.parts[i + 1], t->u.tmpl.heredoc);
	}
	return marks;
}

/* An %{ if } or %{ for } not closed yet, while ast_template_finish nests the directives. */
struct tmpl_open {
	struct ast_expr *open;  /* its mark; NULL for the template itself */
	struct ast_expr *then;  /* the body before any %{ else } */
	struct ast_expr *body;  /* where the parts go now */
	struct ast_expr *els;   /* the %{ else } mark, once seen */
};

static const char *mark_word(const struct ast_expr *m)
{
	static const char *const words[] = {
		[AST_MARK_INTERP] = "${", [AST_MARK_IF] = "if", [AST_MARK_ELSE] = "else",
		[AST_MARK_ENDIF] = "endif", [AST_MARK_FOR] = "for", [AST_MARK_ENDFOR] = "endfor",
	};
	return words[m->u.mark.which];
}

static struct ast_expr *body_new(struct arena *a, const struct span *at)
{
	struct span sp = span_end(at);
	struct ast_expr *b = ast_template_new(a, &sp);

	b->u.tmpl.body = 1;
	return b;
}

/* Closes the innermost open directive with the mark end (or at the end of the template, NULL)
 * and adds what it makes to the body around it. */
static void close_directive(struct arena *a, struct buf *stack, const struct ast_expr *end,
			    const struct span *tmpl_span)
{
	size_t n = buf_count(stack, struct tmpl_open);
	struct tmpl_open o = buf_at(stack, struct tmpl_open, n - 1);
	struct tmpl_open *outer = &buf_at(stack, struct tmpl_open, n - 2);
	struct span sp = span_join(&o.open->span, end ? &end->span : tmpl_span);
	struct ast_expr *e;

	if (o.body != o.then)
		o.body->span.end = end ? end->span.off : sp.end;
	if (o.open->u.mark.which == AST_MARK_IF) {
		o.then->span.end = o.els ? o.els->span.off : end ? end->span.off : sp.end;
		e = ast_cond(a, o.open->u.mark.arg, o.then, o.els ? o.body : body_new(a, end ? &end->span : &sp));
		e->span = sp;
	} else {
		o.then->span.end = end ? end->span.off : sp.end;
		e = o.open->u.mark.arg;
		e->u.for_->value = o.then;
		e->u.for_->tmpl = 1;
		e = ast_close(e, &sp);
	}
	stack->len -= sizeof(struct tmpl_open);
	ast_template_add(a, outer->body, e);
}

/* The innermost open directive, or NULL. */
static struct tmpl_open *open_top(struct buf *stack)
{
	size_t n = buf_count(stack, struct tmpl_open);
	return n > 1 ? &buf_at(stack, struct tmpl_open, n - 1) : NULL;
}

static void else_mark(struct arena *a, struct diag_ctx *d, struct buf *stack, struct ast_expr *m)
{
	struct tmpl_open *top = open_top(stack);

	if (!top) {
		diag_error(d, &m->span, "%%{ else } without a matching %%{ if }");
	} else if (top->open->u.mark.which == AST_MARK_FOR) {
		diag_error(d, &m->span, "%%{ else } inside the %%{ for } opened at %u:%u",
			   span_line(&top->open->span), span_col(&top->open->span));
		diag_hint(d, "only %%{ if } takes an %%{ else }; end the for with %%{ endfor } first");
	} else if (top->els) {
		diag_error(d, &m->span, "a second %%{ else } for the %%{ if } opened at %u:%u",
			   span_line(&top->open->span), span_col(&top->open->span));
		diag_hint(d, "the first %%{ else } is at %u:%u", span_line(&top->els->span),
			  span_col(&top->els->span));
	} else {
		top->els = m;
		top->body = body_new(a, &m->span);
	}
}

/* An %{ endif } or %{ endfor }: it closes the innermost directive of its kind. Any opened
 * inside that one were never closed; with none of its kind open, it is out of place. */
static void end_mark(struct arena *a, struct diag_ctx *d, struct buf *stack, struct ast_expr *m)
{
	enum ast_mark want = m->u.mark.which == AST_MARK_ENDIF ? AST_MARK_IF : AST_MARK_FOR;
	const char *word = want == AST_MARK_IF ? "if" : "for";
	size_t n = buf_count(stack, struct tmpl_open), j = n;
	struct tmpl_open *top = open_top(stack);

	if (!top) {
		diag_error(d, &m->span, "%%{ %s } without a matching %%{ %s }", mark_word(m), word);
		return;
	}
	while (j > 1 && buf_at(stack, struct tmpl_open, j - 1).open->u.mark.which != want)
		j--;
	if (j == 1) {
		diag_error(d, &m->span, "%%{ %s } cannot close the %%{ %s } opened at %u:%u",
			   mark_word(m), mark_word(top->open), span_line(&top->open->span),
			   span_col(&top->open->span));
		diag_hint(d, "end the %s with %%{ end%s }", mark_word(top->open), mark_word(top->open));
		close_directive(a, stack, m, NULL);
		return;
	}
	while (buf_count(stack, struct tmpl_open) > j) {
		top = open_top(stack);
		diag_error(d, &top->open->span, "%%{ %s } is never closed", mark_word(top->open));
		diag_hint(d, "end it with %%{ end%s } before the %%{ %s } at %u:%u", mark_word(top->open),
			  mark_word(m), span_line(&m->span), span_col(&m->span));
		close_directive(a, stack, m, NULL);
	}
	close_directive(a, stack, m, NULL);
}

/* Nests the directives of t's parts. Iterative: a template can open any number of them, and
 * the depth limit (AST_MAX_DEPTH) sees the nested result. Returns NULL after an error. */
static struct ast_expr *nest_directives(struct arena *a, struct diag_ctx *d, struct ast_expr *t)
{
	struct buf stack = BUF_INIT;
	struct tmpl_open root = { NULL, NULL, NULL, NULL }, o;
	struct ast_expr *r = ast_template_new(a, &t->span);
	unsigned errors = d->errors;

	r->u.tmpl.heredoc = t->u.tmpl.heredoc;
	r->u.tmpl.strip = t->u.tmpl.strip;
	root.body = r;
	buf_push(&stack, struct tmpl_open, root);
	for (size_t i = 0; i < t->u.tmpl.n; i++) {
		struct ast_expr *p = t->u.tmpl.parts[i];
		struct tmpl_open *top = &buf_at(&stack, struct tmpl_open, buf_count(&stack, struct tmpl_open) - 1);

		if (p->kind != AST_TMPL_MARK) {
			ast_template_add(a, top->body, p);
			continue;
		}
		switch ((enum ast_mark)p->u.mark.which) {
		case AST_MARK_INTERP:
			ast_template_add(a, top->body, p->u.mark.arg);
			break;
		case AST_MARK_IF:
		case AST_MARK_FOR:
			memset(&o, 0, sizeof o);
			o.open = p;
			o.then = o.body = body_new(a, &p->span);
			buf_push(&stack, struct tmpl_open, o);
			break;
		case AST_MARK_ELSE:
			else_mark(a, d, &stack, p);
			break;
		case AST_MARK_ENDIF:
		case AST_MARK_ENDFOR:
			end_mark(a, d, &stack, p);
			break;
		}
	}
	while (buf_count(&stack, struct tmpl_open) > 1) {
		struct tmpl_open *top = open_top(&stack);
		diag_error(d, &top->open->span, "%%{ %s } is never closed", mark_word(top->open));
		diag_hint(d, "end it with %%{ end%s }", mark_word(top->open));
		close_directive(a, &stack, NULL, &t->span);
	}
	buf_release(&stack);
	return d->errors == errors ? r : NULL;
}

struct ast_expr *ast_template_finish(struct arena *a, struct diag_ctx *d, struct ast_expr *t)
{
	struct ast_expr *s;
	int marks = apply_strips(a, t);

	if (t->u.tmpl.heredoc && t->u.tmpl.strip)
		strip_heredoc(a, t);
	if (marks) {
		struct ast_expr *r = nest_directives(a, d, t);
		if (!r)
			return ast_error(a, &t->span);
		t = r;
	}
	if (t->u.tmpl.n > 1 || (t->u.tmpl.n == 1 && t->u.tmpl.parts[0]->kind != AST_STRING))
		return t;
	if (t->u.tmpl.n == 1)
		s = t->u.tmpl.parts[0];
	else
		s = ast_string(a, arena_strdup(a, ""), 0, NULL);
	s->span = t->span;
	return s;
}

struct ast_expr *ast_var(struct arena *a, char *name, const struct span *span)
{
	struct ast_expr *e = ast_expr_new(a, AST_VAR, span);
	e->u.var.name = name;
	return e;
}

/* A traversal after [*] applies to each element: it is rebuilt on the splat's item. */
static struct ast_expr *splat_target(struct ast_expr *obj)
{
	return obj->kind == AST_SPLAT ? obj : NULL;
}

struct ast_expr *ast_getattr(struct arena *a, struct ast_expr *obj, char *name,
			     const struct span *name_span)
{
	struct ast_expr *sp = splat_target(obj);
	struct ast_expr *base = sp ? sp->u.splat.each : obj;
	struct ast_expr *e = ast_expr_new(a, AST_GETATTR, &base->span);

	e->u.getattr.obj = base;
	e->u.getattr.name = name;
	e->span = span_join(&base->span, name_span);
	e->depth = base->depth + 1;
	if (!sp)
		return e;
	sp->u.splat.each = e;
	sp->span = span_join(&sp->span, name_span);
	sp->depth = max_u(sp->depth, e->depth + 1);
	return sp;
}

struct ast_expr *ast_index(struct arena *a, struct ast_expr *obj, struct ast_expr *key,
			   const struct span *end)
{
	struct ast_expr *sp = splat_target(obj);
	struct ast_expr *base = sp ? sp->u.splat.each : obj;
	struct ast_expr *e = ast_expr_new(a, AST_INDEX, &base->span);

	e->u.index.obj = base;
	e->u.index.key = key;
	e->span = span_join(&base->span, end);
	e->depth = max_u(base->depth, key->depth) + 1;
	if (!sp)
		return e;
	sp->u.splat.each = e;
	sp->span = span_join(&sp->span, end);
	sp->depth = max_u(sp->depth, e->depth + 1);
	return sp;
}

struct ast_expr *ast_splat(struct arena *a, struct ast_expr *src, const struct span *end)
{
	struct ast_expr *e = ast_expr_new(a, AST_SPLAT, &src->span);

	e->span = span_join(&src->span, end);
	e->u.splat.src = src;
	e->u.splat.each = ast_expr_new(a, AST_SPLAT_ITEM, end);
	e->depth = src->depth + 1;
	return e;
}

struct ast_expr *ast_call(struct arena *a, const struct span *span)
{
	return ast_expr_new(a, AST_CALL, span);
}

struct span ast_name_span(const struct ast_expr *e)
{
	struct span s = e->span;
	uint32_t n;

	if (e->kind == AST_GETATTR) {
		n = (uint32_t)strlen(e->u.getattr.name);
		s.off = s.end - n;
	} else if (e->kind == AST_CALL && e->u.call.name) {
		n = (uint32_t)strlen(e->u.call.name);
		s.end = s.off + n;
	}
	return s;
}

void ast_call_add(struct arena *a, struct ast_expr *call, struct ast_expr *arg)
{
	size_t n = call->u.call.n;
	call->u.call.args = grow_array(a, call->u.call.args, n, sizeof *call->u.call.args, 4);
	call->u.call.args[n] = arg;
	call->u.call.n = n + 1;
	call->depth = max_u(call->depth, arg->depth + 1);
}

struct ast_expr *ast_list_new(struct arena *a)
{
	return ast_expr_new(a, AST_LIST, NULL);
}

void ast_list_add(struct arena *a, struct ast_expr *list, struct ast_expr *item)
{
	size_t n = list->u.list.n;
	list->u.list.items = grow_array(a, list->u.list.items, n, sizeof *list->u.list.items, 4);
	list->u.list.items[n] = item;
	list->u.list.n = n + 1;
	list->depth = max_u(list->depth, item->depth + 1);
}

struct ast_expr *ast_object_new(struct arena *a)
{
	return ast_expr_new(a, AST_OBJECT, NULL);
}

void ast_object_add(struct arena *a, struct ast_expr *obj, struct ast_expr *key,
		    struct ast_expr *value)
{
	size_t n = obj->u.object.n;
	obj->u.object.items = grow_array(a, obj->u.object.items, n, sizeof *obj->u.object.items, 4);
	obj->u.object.items[n].key = key;
	obj->u.object.items[n].value = value;
	obj->u.object.n = n + 1;
	obj->depth = max_u(obj->depth, max_u(key->depth, value->depth) + 1);
}

struct ast_expr *ast_unary(struct arena *a, enum ast_op op, struct ast_expr *operand,
			   const struct span *op_span)
{
	struct ast_expr *e = ast_expr_new(a, AST_UNARY, op_span);
	e->u.unary.op = op;
	e->u.unary.operand = operand;
	e->span = span_join(op_span, &operand->span);
	e->depth = operand->depth + 1;
	return e;
}

struct ast_expr *ast_binary(struct arena *a, enum ast_op op, struct ast_expr *lhs,
			    struct ast_expr *rhs)
{
	struct ast_expr *e = ast_expr_new(a, AST_BINARY, &lhs->span);
	e->u.binary.op = op;
	e->u.binary.lhs = lhs;
	e->u.binary.rhs = rhs;
	e->span = span_join(&lhs->span, &rhs->span);
	e->depth = max_u(lhs->depth, rhs->depth) + 1;
	return e;
}

struct ast_expr *ast_cond(struct arena *a, struct ast_expr *c, struct ast_expr *t,
			  struct ast_expr *f)
{
	struct ast_expr *e = ast_expr_new(a, AST_COND, &c->span);
	e->u.cond.cond = c;
	e->u.cond.then = t;
	e->u.cond.otherwise = f;
	e->span = span_join(&c->span, &f->span);
	e->depth = max_u(c->depth, max_u(t->depth, f->depth)) + 1;
	return e;
}

struct ast_expr *ast_paren(struct arena *a, struct ast_expr *inner, const struct span *span)
{
	struct ast_expr *e = ast_expr_new(a, AST_PAREN, span);
	e->u.paren.inner = inner;
	e->depth = inner->depth + 1;
	return e;
}

struct ast_expr *ast_for(struct arena *a, char *key_var, const struct span *key_span,
			 char *val_var, const struct span *val_span, struct ast_expr *coll)
{
	struct ast_expr *e = ast_expr_new(a, AST_FOR, val_span);
	struct ast_for *f = arena_alloc(a, sizeof *f);

	f->key_var = key_var;
	f->val_var = val_var;
	f->key_span = key_span ? *key_span : *val_span;
	f->val_span = *val_span;
	f->coll = coll;
	e->u.for_ = f;
	return e;
}

struct ast_expr *ast_close(struct ast_expr *e, const struct span *span)
{
	e->span = *span;
	if (e->kind == AST_FOR) {
		const struct ast_for *f = e->u.for_;
		unsigned d = max_u(depth_of(f->coll), depth_of(f->key));
		d = max_u(d, max_u(depth_of(f->value), depth_of(f->cond)));
		e->depth = d + 1;
	}
	return e;
}

struct ast_item *ast_attr(struct arena *a, char *name, const struct span *name_span,
			  struct ast_expr *value)
{
	struct ast_item *it = arena_alloc(a, sizeof *it);

	it->kind = AST_ATTR;
	it->name = name;
	it->name_span = *name_span;
	it->value = value;
	it->span = span_join(name_span, &value->span);
	return it;
}

struct ast_item *ast_block_new(struct arena *a, char *type, const struct span *type_span)
{
	struct ast_item *it = arena_alloc(a, sizeof *it);

	it->kind = AST_BLOCK;
	it->name = type;
	it->name_span = *type_span;
	it->span = *type_span;
	return it;
}

void ast_block_add_label(struct arena *a, struct ast_item *block, enum ast_label_kind kind,
			 char *text, const struct span *span)
{
	size_t n = block->nlabels;
	block->labels = grow_array(a, block->labels, n, sizeof *block->labels, 2);
	block->labels[n].kind = kind;
	block->labels[n].text = text;
	block->labels[n].span = *span;
	block->nlabels = n + 1;
}

void ast_body_add(struct arena *a, struct ast_body *body, struct ast_item *item)
{
	body->items = grow_array(a, body->items, body->n, sizeof *body->items, 4);
	body->items[body->n++] = item;
}

struct ast_file *ast_file_new(const struct source *src)
{
	struct ast_file *f = xcalloc(1, sizeof *f);

	f->src = src;
	arena_init(&f->arena);
	return f;
}

void ast_file_free(struct ast_file *f)
{
	if (!f)
		return;
	arena_release(&f->arena);
	free(f->tokens);
	free(f);
}

const char *ast_static_string(const struct ast_expr *e)
{
	if (!e)
		return NULL;
	if (e->kind == AST_STRING)
		return e->u.string.s;
	if (e->kind != AST_TEMPLATE)
		return NULL;
	if (e->u.tmpl.n == 0)
		return "";
	if (e->u.tmpl.n == 1 && e->u.tmpl.parts[0]->kind == AST_STRING)
		return e->u.tmpl.parts[0]->u.string.s;
	return NULL;
}

/* at, key: ast_traversal_text_as's; NULL for none */
static int traversal_text(const struct ast_expr *e, struct buf *b, const struct ast_expr *at, const char *key)
{
	switch (e->kind) {
	case AST_VAR:
		buf_addstr(b, e->u.var.name);
		return 0;
	case AST_SPLAT_ITEM:
		return 0;
	case AST_GETATTR:
		if (traversal_text(e->u.getattr.obj, b, at, key))
			return -1;
		buf_addch(b, '.');
		buf_addstr(b, e->u.getattr.name);
		return 0;
	case AST_INDEX: {
		const struct ast_expr *k = e->u.index.key;
		const char *s = ast_static_string(k);
		if (traversal_text(e->u.index.obj, b, at, key))
			return -1;
		if (e == at)
			buf_addstr(b, key);
		else if (k->kind == AST_NUMBER)
			buf_printf(b, "[%g]", k->u.number);
		else if (s)
			buf_printf(b, "[\"%s\"]", s);
		else
			buf_addstr(b, "[...]");
		return 0;
	}
	case AST_SPLAT:
		if (traversal_text(e->u.splat.src, b, at, key))
			return -1;
		buf_addstr(b, "[*]");
		return traversal_text(e->u.splat.each, b, at, key);
	default:
		return -1;
	}
}

char *ast_traversal_text(const struct ast_expr *e)
{
	return ast_traversal_text_as(e, NULL, NULL);
}

char *ast_traversal_text_as(const struct ast_expr *e, const struct ast_expr *at, const char *key)
{
	struct buf b = BUF_INIT;

	if (traversal_text(e, &b, at, key)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

const struct ast_expr *ast_traversal_computed(const struct ast_expr *e)
{
	const struct ast_expr *found = NULL;

	while (e->kind == AST_GETATTR || e->kind == AST_INDEX) {
		if (e->kind == AST_GETATTR) {
			e = e->u.getattr.obj;
			continue;
		}
		if (e->u.index.key->kind != AST_NUMBER && !ast_static_string(e->u.index.key)) {
			if (found)
				return NULL;
			found = e;
		}
		e = e->u.index.obj;
	}
	return e->kind == AST_VAR ? found : NULL;
}

const char *ast_op_text(enum ast_op op)
{
	static const char *const text[] = {
		[AST_OP_NOT] = "!", [AST_OP_NEG] = "-", [AST_OP_MUL] = "*", [AST_OP_DIV] = "/",
		[AST_OP_MOD] = "%", [AST_OP_ADD] = "+", [AST_OP_SUB] = "-", [AST_OP_LT] = "<",
		[AST_OP_LE] = "<=", [AST_OP_GT] = ">", [AST_OP_GE] = ">=", [AST_OP_EQ] = "==",
		[AST_OP_NE] = "!=", [AST_OP_AND] = "&&", [AST_OP_OR] = "||",
	};
	return text[op];
}

const struct ast_item *ast_body_find(const struct ast_body *body, const char *name)
{
	for (size_t i = 0; i < body->n; i++)
		if (ast_same_name(body->items[i]->name, name))
			return body->items[i];
	return NULL;
}

/* spans: print offsets; without them the dump is what the file means */
static void dump_span(struct buf *out, const struct span *s, int spans)
{
	if (spans)
		buf_printf(out, "@%u-%u", s->off, s->end);
}

static void dump_expr(struct buf *out, const struct ast_expr *e, int depth, int spans);

static void dump_exprs(struct buf *out, struct ast_expr *const *v, size_t n, int depth,
		       int spans)
{
	for (size_t i = 0; i < n; i++)
		dump_expr(out, v[i], depth, spans);
}

static void dump_expr(struct buf *out, const struct ast_expr *e, int depth, int spans)
{
	buf_addchars(out, ' ', (size_t)depth * 2);
	if (!e) {
		buf_addstr(out, "-\n");
		return;
	}
	buf_printf(out, "%d d%u ", (int)e->kind, e->depth);
	dump_span(out, &e->span, spans);
	switch (e->kind) {
	case AST_BOOL:
		buf_printf(out, " %d\n", e->u.boolean);
		break;
	case AST_NUMBER:
		buf_printf(out, " %.17g\n", e->u.number);
		break;
	case AST_STRING:
		buf_printf(out, " %zu:", e->u.string.len);
		buf_add(out, e->u.string.s, e->u.string.len);
		buf_addch(out, '\n');
		break;
	case AST_TEMPLATE:
		buf_printf(out, " heredoc %u strip %u%s\n", e->u.tmpl.heredoc, e->u.tmpl.strip,
			   e->u.tmpl.body ? " body" : "");
		dump_exprs(out, e->u.tmpl.parts, e->u.tmpl.n, depth + 1, spans);
		break;
	case AST_VAR:
		buf_printf(out, " %s\n", e->u.var.name);
		break;
	case AST_GETATTR:
		buf_printf(out, " .%s\n", e->u.getattr.name);
		dump_expr(out, e->u.getattr.obj, depth + 1, spans);
		break;
	case AST_INDEX:
		buf_addch(out, '\n');
		dump_expr(out, e->u.index.obj, depth + 1, spans);
		dump_expr(out, e->u.index.key, depth + 1, spans);
		break;
	case AST_SPLAT:
		buf_addch(out, '\n');
		dump_expr(out, e->u.splat.src, depth + 1, spans);
		dump_expr(out, e->u.splat.each, depth + 1, spans);
		break;
	case AST_CALL:
		buf_printf(out, " %s() expand %d\n", e->u.call.name, e->u.call.expand);
		dump_exprs(out, e->u.call.args, e->u.call.n, depth + 1, spans);
		break;
	case AST_LIST:
		buf_addch(out, '\n');
		dump_exprs(out, e->u.list.items, e->u.list.n, depth + 1, spans);
		break;
	case AST_OBJECT:
		buf_addch(out, '\n');
		for (size_t i = 0; i < e->u.object.n; i++) {
			dump_expr(out, e->u.object.items[i].key, depth + 1, spans);
			dump_expr(out, e->u.object.items[i].value, depth + 1, spans);
		}
		break;
	case AST_UNARY:
		buf_printf(out, " %s\n", ast_op_text(e->u.unary.op));
		dump_expr(out, e->u.unary.operand, depth + 1, spans);
		break;
	case AST_BINARY:
		buf_printf(out, " %s\n", ast_op_text(e->u.binary.op));
		dump_expr(out, e->u.binary.lhs, depth + 1, spans);
		dump_expr(out, e->u.binary.rhs, depth + 1, spans);
		break;
	case AST_COND:
		buf_addch(out, '\n');
		dump_expr(out, e->u.cond.cond, depth + 1, spans);
		dump_expr(out, e->u.cond.then, depth + 1, spans);
		dump_expr(out, e->u.cond.otherwise, depth + 1, spans);
		break;
	case AST_FOR: {
		const struct ast_for *f = e->u.for_;
		buf_printf(out, " %s,%s map %d group %d%s ", f->key_var ? f->key_var : "-", f->val_var,
			   f->is_map, f->group, f->tmpl ? " tmpl" : "");
		dump_span(out, &f->key_span, spans);
		dump_span(out, &f->val_span, spans);
		buf_addch(out, '\n');
		dump_expr(out, f->coll, depth + 1, spans);
		dump_expr(out, f->key, depth + 1, spans);
		dump_expr(out, f->value, depth + 1, spans);
		dump_expr(out, f->cond, depth + 1, spans);
		break;
	}
	case AST_PAREN:
		buf_addch(out, '\n');
		dump_expr(out, e->u.paren.inner, depth + 1, spans);
		break;
	case AST_TMPL_MARK:
		buf_printf(out, " mark %u strip %u %u\n", e->u.mark.which, e->u.mark.lstrip,
			   e->u.mark.rstrip);
		dump_expr(out, e->u.mark.arg, depth + 1, spans);
		break;
	default:
		buf_addch(out, '\n');
		break;
	}
}

static void dump_body(struct buf *out, const struct ast_body *b, int depth, int spans)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct ast_item *it = b->items[i];

		buf_addchars(out, ' ', (size_t)depth * 2);
		buf_printf(out, "%s %s ", it->kind == AST_ATTR ? "attr" : "block", it->name);
		dump_span(out, &it->name_span, spans);
		dump_span(out, &it->span, spans);
		if (it->kind == AST_ATTR) {
			buf_addch(out, '\n');
			dump_expr(out, it->value, depth + 1, spans);
			continue;
		}
		for (size_t j = 0; j < it->nlabels; j++) {
			buf_printf(out, " %d:%s", (int)it->labels[j].kind, it->labels[j].text);
			dump_span(out, &it->labels[j].span, spans);
		}
		buf_addch(out, '\n');
		dump_body(out, &it->body, depth + 1, spans);
	}
}

void ast_dump(const struct ast_file *f, struct buf *out)
{
	dump_body(out, &f->body, 0, 1);
}

void ast_dump_values(const struct ast_file *f, struct buf *out)
{
	dump_body(out, &f->body, 0, 0);
}
