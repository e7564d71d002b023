/* parser.y: the .stk grammar. Layout-insensitive: an attribute ends where its expression can
 * go no further, so `{ type = string  sensitive = true }` is two attributes. */
%define api.pure full
%locations
%define parse.error detailed
%define api.location.type {struct span}
%expect 0
%param {struct parse_ctx *ctx}

%code requires {
#include "common/diag.h"
#include "parser/ast.h"
struct parse_ctx;
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct parse_ctx *ctx);
void yyerror(YYLTYPE *lloc, struct parse_ctx *ctx, const char *msg);
}

%code {
#include <stdlib.h>
#include <string.h>

#include "parser/parse.h"

/* An empty rule sits where the previous symbol ended. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                           \
	do {                                                                  \
		if (N) {                                                      \
			(Cur) = YYRHSLOC(Rhs, 1);                             \
			(Cur).end = YYRHSLOC(Rhs, N).end;                     \
		} else {                                                      \
			(Cur) = YYRHSLOC(Rhs, 0);                             \
			(Cur).off = (Cur).end;                                \
		}                                                             \
	} while (0)

int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct parse_ctx *ctx)
{
	return parse_lex(lval, lloc, ctx);
}

void yyerror(YYLTYPE *lloc, struct parse_ctx *ctx, const char *msg)
{
	parse_syntax_error(ctx, lloc, msg);
}

#define A (&ctx->file->arena)
#define D(e) parse_depth(ctx, (e))

/* A node deeper than AST_MAX_DEPTH becomes an error node, so no later walk over the tree can
 * recurse without bound; the rest of the file is not parsed. */
static struct ast_expr *parse_depth(struct parse_ctx *ctx, struct ast_expr *e)
{
	if (e->depth <= AST_MAX_DEPTH)
		return e;
	if (!ctx->stopped)
		diag_error(ctx->diag, &e->span, "expression nested more than %d levels deep",
			   AST_MAX_DEPTH);
	ctx->stopped = 1;
	return ast_error(A, &e->span);
}

static struct ast_expr *template_part(struct parse_ctx *ctx, char *s, const YYLTYPE *loc)
{
	return ast_string(A, s, strlen(s), loc);
}
}

%union {
	char *str;
	double num;
	int flag;
	struct ast_expr *expr;
	struct ast_item *item;
	struct ast_body *body;
}

%token END 0            "end of file"
%token <str> IDENT      "name"
%token <num> NUMBER     "number"
%token <str> STRING     "plain string"
%token OQUOTE           "string"
%token CQUOTE           "end of string"
%token <str> TLIT       "text"
%token <flag> TINTERP   "'${'"
%token <flag> TDIRECTIVE "'%{'"
%token TCLOSE_STRIP     "'~}'"
%token <flag> HEREDOC_BEGIN "heredoc"
%token HEREDOC_END      "end of heredoc"
%token KW_FOR           "'for'"
%token KW_IN            "'in'"
%token KW_IF            "'if'"
%token KW_TRUE          "'true'"
%token KW_FALSE         "'false'"
%token KW_NULL          "'null'"
%token ELLIPSIS         "'...'"
%token ARROW            "'=>'"
%token EQ               "'=='"
%token NE               "'!='"
%token LE               "'<='"
%token GE               "'>='"
%token AND              "'&&'"
%token OR               "'||'"

%type <str> name obj_ident dotted
%type <expr> expr postfix primary string heredoc tparts tpart interp list object
%type <expr> obj_key call arg_list list_seq obj_seq for_list for_map opt_cond
%type <expr> for_head
%type <expr> directive
%type <flag> opt_group tclose
%type <item> item attribute block block_head
%type <body> body

/* No %destructor: every value lives in the file's arena (see ast.h), so what error recovery
 * discards is freed with the tree, and nothing can leak. */

/* `{ a = b (c) = d }`: the name before '(' calls a function. A parenthesised key after a
 * value that ends in a name needs a comma before it. */
%precedence BARE_NAME
%precedence '('
%right '?' ':'
%left OR
%left AND
%left EQ NE
%left '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%'
%precedence '!' UNARY

%%

file:
	body END {
		ctx->file->body = *$1;
	}
	;

body:
	%empty { $$ = arena_alloc(A, sizeof *$$); }
	| body item {
		if ($2)
			ast_body_add(A, $1, $2);
		$$ = $1;
	}
	;

item:
	attribute
	| block
	| error {
		/* skip to the next attribute or block, whose own errors are reported again */
		switch (parse_recover(ctx, yychar != YYEMPTY)) {
		case PARSE_SKIP:
			yyclearin;
			yyerrok;
			break;
		case PARSE_RESUME:
			yyerrok;
			break;
		default:
			break;
		}
		$$ = NULL;
	}
	;

/* Keywords are ordinary names where only a name can stand. */
name:
	IDENT
	| KW_FOR { $$ = arena_strdup(A, "for"); }
	| KW_IN { $$ = arena_strdup(A, "in"); }
	| KW_IF { $$ = arena_strdup(A, "if"); }
	;

attribute:
	name '=' expr { $$ = ast_attr(A, $1, &@1, $3); }
	;

block:
	block_head '{' body '}' {
		$$ = $1;
		$$->body = *$3;
		$$->span = span_join(&@1, &@4);
	}
	;

/* A block's labels are on the line of its type (parse_block_head): the grammar alone would
 * read `variable x` and the `variable y {` under it as one header. */
block_head:
	IDENT {
		$$ = ast_block_new(A, $1, &@1);
		ctx->head = $$;
		ctx->head_span = @$;
	}
	| block_head IDENT {
		if (parse_block_head(ctx, $1, &@1, IDENT, $2, &@2))
			YYERROR;
		$$ = $1;
		ast_block_add_label(A, $$, AST_LABEL_IDENT, $2, &@2);
		ctx->head_span = @$;
	}
	| block_head dotted {
		if (parse_block_head(ctx, $1, &@1, IDENT, $2, &@2))
			YYERROR;
		$$ = $1;
		ast_block_add_label(A, $$, AST_LABEL_DOTTED, $2, &@2);
		ctx->head_span = @$;
	}
	| block_head string {
		if (parse_block_head(ctx, $1, &@1, STRING, NULL, &@2))
			YYERROR;
		$$ = $1;
		parse_label_string(ctx, $$, $2);
		ctx->head_span = @$;
	}
	;

dotted:
	IDENT '.' IDENT {
		$$ = parse_join_names(ctx, $1, $3);
	}
	| dotted '.' IDENT {
		$$ = parse_join_names(ctx, $1, $3);
	}
	;

expr:
	postfix
	| expr '?' expr ':' expr { $$ = D(ast_cond(A, $1, $3, $5)); }
	| expr OR expr { $$ = D(ast_binary(A, AST_OP_OR, $1, $3)); }
	| expr AND expr { $$ = D(ast_binary(A, AST_OP_AND, $1, $3)); }
	| expr EQ expr { $$ = D(ast_binary(A, AST_OP_EQ, $1, $3)); }
	| expr NE expr { $$ = D(ast_binary(A, AST_OP_NE, $1, $3)); }
	| expr '<' expr { $$ = D(ast_binary(A, AST_OP_LT, $1, $3)); }
	| expr LE expr { $$ = D(ast_binary(A, AST_OP_LE, $1, $3)); }
	| expr '>' expr { $$ = D(ast_binary(A, AST_OP_GT, $1, $3)); }
	| expr GE expr { $$ = D(ast_binary(A, AST_OP_GE, $1, $3)); }
	| expr '+' expr { $$ = D(ast_binary(A, AST_OP_ADD, $1, $3)); }
	| expr '-' expr { $$ = D(ast_binary(A, AST_OP_SUB, $1, $3)); }
	| expr '*' expr { $$ = D(ast_binary(A, AST_OP_MUL, $1, $3)); }
	| expr '/' expr { $$ = D(ast_binary(A, AST_OP_DIV, $1, $3)); }
	| expr '%' expr { $$ = D(ast_binary(A, AST_OP_MOD, $1, $3)); }
	| '!' expr { $$ = D(ast_unary(A, AST_OP_NOT, $2, &@1)); }
	| '-' expr %prec UNARY { $$ = D(ast_unary(A, AST_OP_NEG, $2, &@1)); }
	;

postfix:
	primary
	| postfix '.' name { $$ = D(ast_getattr(A, $1, $3, &@3)); }
	| postfix '[' expr ']' { $$ = D(ast_index(A, $1, $3, &@4)); }
	/* HCL's legacy index: x.0 is x[0] */
	| postfix '.' NUMBER { $$ = D(ast_index(A, $1, ast_number(A, $3, &@3), &@3)); }
	| postfix '[' '*' ']' { $$ = D(ast_splat(A, $1, &@4)); }
	| postfix '.' '*' { $$ = D(ast_splat(A, $1, &@3)); }
	;

primary:
	NUMBER { $$ = ast_number(A, $1, &@1); }
	| KW_TRUE { $$ = ast_bool(A, 1, &@1); }
	| KW_FALSE { $$ = ast_bool(A, 0, &@1); }
	| KW_NULL { $$ = ast_null(A, &@1); }
	| string
	| heredoc
	| IDENT %prec BARE_NAME { $$ = ast_var(A, $1, &@1); }
	| call
	| list
	| object
	| for_list
	| for_map
	| '(' expr ')' { $$ = D(ast_paren(A, $2, &@$)); }
	/* '${' outside a string, or inside ${ }: the scanner reported it; read it as parentheses */
	| TINTERP expr '}' { $$ = D(ast_paren(A, $2, &@$)); }
	;

/* A string of plain text, the most common kind by far, needs no template node. */
string:
	STRING { $$ = ast_string(A, $1, strlen($1), &@$); }
	| OQUOTE CQUOTE { $$ = ast_string(A, arena_strdup(A, ""), 0, &@$); }
	| OQUOTE TLIT CQUOTE { $$ = ast_string(A, $2, strlen($2), &@$); }
	| OQUOTE tparts CQUOTE { $$ = D(ast_template_finish(A, ctx->diag, ast_close($2, &@$))); }
	;

heredoc:
	HEREDOC_BEGIN HEREDOC_END { $$ = ast_string(A, arena_strdup(A, ""), 0, &@$); }
	| HEREDOC_BEGIN TLIT HEREDOC_END {
		$$ = ast_template_new(A, &@$);
		ast_template_add(A, $$, template_part(ctx, $2, &@2));
		$$->u.tmpl.heredoc = 1;
		$$->u.tmpl.strip = $1 ? 1 : 0;
		$$ = D(ast_template_finish(A, ctx->diag, $$));
	}
	| HEREDOC_BEGIN tparts HEREDOC_END {
		$$ = ast_close($2, &@$);
		$$->u.tmpl.heredoc = 1;
		$$->u.tmpl.strip = $1 ? 1 : 0;
		$$ = D(ast_template_finish(A, ctx->diag, $$));
	}
	;

/* Two parts or more, or one interpolation or directive: "a${b}", "${b}", "a\n" (text, then an
 * escape). The directives come as they are written; ast_template_finish nests them. */
tparts:
	TLIT tpart {
		$$ = ast_template_new(A, &@$);
		ast_template_add(A, $$, template_part(ctx, $1, &@1));
		ast_template_add(A, $$, $2);
	}
	| interp { $$ = ast_template_new(A, &@$); ast_template_add(A, $$, $1); }
	| directive { $$ = ast_template_new(A, &@$); ast_template_add(A, $$, $1); }
	| tparts tpart { $$ = $1; ast_template_add(A, $$, $2); }
	;

tpart:
	TLIT { $$ = template_part(ctx, $1, &@1); }
	| interp
	| directive
	;

/* A strip marker ~ (the flags) needs a mark to be seen by ast_template_finish. */
interp:
	TINTERP expr tclose {
		$$ = $1 || $3 ? ast_template_mark(A, AST_MARK_INTERP, $2, $1, $3, &@$) : $2;
	}
	;

tclose:
	'}' { $$ = 0; }
	| TCLOSE_STRIP { $$ = 1; }
	;

/* else, endif and endfor are names, not keywords: parse_directive tells them. */
directive:
	TDIRECTIVE KW_IF expr tclose {
		$$ = ast_template_mark(A, AST_MARK_IF, $3, $1, $4, &@$);
	}
	| TDIRECTIVE KW_FOR IDENT KW_IN expr tclose {
		$$ = ast_template_mark(A, AST_MARK_FOR, ast_for(A, NULL, NULL, $3, &@3, $5), $1, $6, &@$);
	}
	| TDIRECTIVE KW_FOR IDENT ',' IDENT KW_IN expr tclose {
		$$ = ast_template_mark(A, AST_MARK_FOR, ast_for(A, $3, &@3, $5, &@5, $7), $1, $8, &@$);
	}
	| TDIRECTIVE IDENT tclose { $$ = parse_directive(ctx, $2, &@2, NULL, 0, $1, $3, &@$); }
	| TDIRECTIVE IDENT expr tclose { $$ = parse_directive(ctx, $2, &@2, $3, 0, $1, $4, &@$); }
	| TDIRECTIVE IDENT KW_IF expr tclose {
		$$ = parse_directive(ctx, $2, &@2, $4, 1, $1, $5, &@$);
	}
	;

call:
	IDENT '(' ')' {
		$$ = ast_call(A, &@2);
		$$->u.call.name = $1;
		$$ = D(ast_close($$, &@$));
	}
	| IDENT '(' arg_list ')' {
		$3->u.call.name = $1;
		$$ = D(ast_close($3, &@$));
	}
	| IDENT '(' arg_list ',' ')' {
		$3->u.call.name = $1;
		$$ = D(ast_close($3, &@$));
	}
	| IDENT '(' arg_list ELLIPSIS ')' {
		$3->u.call.name = $1;
		$3->u.call.expand = 1;
		$$ = D(ast_close($3, &@$));
	}
	;

/* Commas go between arguments, list items and map items, with one allowed after the last:
 * not alone, and not two in a row. */
arg_list:
	expr { $$ = ast_call(A, &@$); ast_call_add(A, $$, $1); }
	| arg_list ',' expr { $$ = $1; ast_call_add(A, $$, $3); }
	;

list:
	'[' ']' { $$ = D(ast_close(ast_list_new(A), &@$)); }
	| '[' list_seq ']' { $$ = D(ast_close($2, &@$)); }
	| '[' list_seq ',' ']' { $$ = D(ast_close($2, &@$)); }
	;

list_seq:
	expr { $$ = ast_list_new(A); ast_list_add(A, $$, $1); }
	| list_seq ',' expr { $$ = $1; ast_list_add(A, $$, $3); }
	;

/* Items are separated by commas, newlines or nothing: the key of the next item ends the
 * value before it. */
object:
	'{' '}' { $$ = D(ast_close(ast_object_new(A), &@$)); }
	| '{' obj_seq '}' { $$ = D(ast_close($2, &@$)); }
	| '{' obj_seq ',' '}' { $$ = D(ast_close($2, &@$)); }
	;

obj_seq:
	obj_key '=' expr { $$ = ast_object_new(A); ast_object_add(A, $$, $1, $3); }
	| obj_key ':' expr { $$ = ast_object_new(A); ast_object_add(A, $$, $1, $3); }
	| obj_seq obj_key '=' expr { $$ = $1; ast_object_add(A, $$, $2, $4); }
	| obj_seq obj_key ':' expr { $$ = $1; ast_object_add(A, $$, $2, $4); }
	| obj_seq ',' obj_key '=' expr { $$ = $1; ast_object_add(A, $$, $3, $5); }
	| obj_seq ',' obj_key ':' expr { $$ = $1; ast_object_add(A, $$, $3, $5); }
	;

obj_key:
	obj_ident { $$ = ast_string(A, $1, strlen($1), &@1); }
	| string
	| NUMBER { $$ = ast_number(A, $1, &@1); }
	| '(' expr ')' { $$ = D(ast_paren(A, $2, &@$)); }
	;

/* A bare name is the key's text, as in HCL: { true = 1 } has the key "true". */
obj_ident:
	IDENT
	| KW_IN { $$ = arena_strdup(A, "in"); }
	| KW_IF { $$ = arena_strdup(A, "if"); }
	| KW_TRUE { $$ = arena_strdup(A, "true"); }
	| KW_FALSE { $$ = arena_strdup(A, "false"); }
	| KW_NULL { $$ = arena_strdup(A, "null"); }
	;

for_head:
	KW_FOR IDENT KW_IN expr ':' { $$ = ast_for(A, NULL, NULL, $2, &@2, $4); }
	| KW_FOR IDENT ',' IDENT KW_IN expr ':' { $$ = ast_for(A, $2, &@2, $4, &@4, $6); }
	;

opt_cond:
	%empty { $$ = NULL; }
	| KW_IF expr { $$ = $2; }
	;

opt_group:
	%empty { $$ = 0; }
	| ELLIPSIS { $$ = 1; }
	;

for_list:
	'[' for_head expr opt_cond ']' {
		$$ = $2;
		$$->u.for_->value = $3;
		$$->u.for_->cond = $4;
		$$ = D(ast_close($$, &@$));
	}
	;

for_map:
	'{' for_head expr ARROW expr opt_group opt_cond '}' {
		$$ = $2;
		$$->u.for_->key = $3;
		$$->u.for_->value = $5;
		$$->u.for_->group = $6;
		$$->u.for_->cond = $7;
		$$->u.for_->is_map = 1;
		$$ = D(ast_close($$, &@$));
	}
	;

%%
