#!/bin/sh
# tests/cli.sh: the command line: help, usage errors, exit codes, where output goes.
# Prints `ok NAME` or `FAIL NAME` with the reasons, then `N passed, N failed`.
#
# Environment: STK (the binary), STK_SRCDIR (the repository root), NO_COLOR=1.

case $0 in
*/*) T_LIB=${0%/*}/lib.sh ;;
*) T_LIB=./lib.sh ;;
esac
# shellcheck source=tests/lib.sh
. "$T_LIB" || exit 99

t_init "$0"

# Scratch configurations.
mkdir "$T_TMP/valid" "$T_TMP/empty" "$T_TMP/broken"
cat >"$T_TMP/valid/main.stk" <<'EOF'
variable region {
  type    = string
  default = "us-east-1"
}

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
}

output vpc_id {
  value = aws.vpc.main.id
}
EOF
cat >"$T_TMP/broken/main.stk" <<'EOF'
locals {
  a = [1, 2
}
EOF
echo "no configuration here" >"$T_TMP/empty/README"

commands='validate fmt version'
version_re='^stk [0-9]+\.[0-9]+\.[0-9]+$'
success='Success! The configuration is valid.'

# ---- version -------------------------------------------------------------------------------

t_begin "version prints 'stk X.Y.Z'"
t_run "$STK" version
t_expect_status 0
t_expect_match out "$version_re"
t_expect_lines out 1
t_expect_empty err
t_end

t_begin "--version prints the version"
t_run "$STK" --version
t_expect_status 0
t_expect_match out "$version_re"
t_end

t_begin "version --help prints its usage"
t_run "$STK" version --help
t_expect_status 0
t_expect_has out "Usage: stk version"
t_end

t_begin "version with an argument is a usage error"
t_run "$STK" version extra
t_expect_status 1
t_expect_has err "extra"
t_expect_empty out
t_end

# ---- help ----------------------------------------------------------------------------------

for form in --help help -h; do
	t_begin "'stk $form' exits 0 and lists the commands"
	t_run "$STK" "$form"
	t_expect_status 0
	t_expect_has out "Usage: stk"
	for c in $commands; do
		t_expect_match out "^  $c "
	done
	t_expect_empty err
	t_end
done

t_begin "'stk help validate' prints the usage of validate"
t_run "$STK" help validate
t_expect_status 0
t_expect_has out "Usage: stk validate"
t_end

for form in --help -help -h; do
	t_begin "'stk validate $form' exits 0 with its usage"
	t_run "$STK" validate "$form"
	t_expect_status 0
	t_expect_has out "Usage: stk validate"
	t_expect_empty err
	t_end
done

t_begin "'stk fmt --help' exits 0 with its usage"
t_run "$STK" fmt --help
t_expect_status 0
t_expect_has out "Usage: stk fmt"
t_end

# ---- usage errors --------------------------------------------------------------------------

t_begin "stk alone exits 1 with the usage on stderr"
t_run "$STK"
t_expect_status 1
t_expect_empty out
t_expect_has err "Usage: stk"
for c in $commands; do
	t_expect_match err "^  $c "
done
t_end

t_begin "an unknown command exits 1"
t_run "$STK" frobnicate
t_expect_status 1
t_expect_empty out
t_expect_has err "unknown command 'frobnicate'"
t_expect_lacks err "did you mean"
t_end

t_begin "a misspelt command suggests the right one"
t_run "$STK" valdate
t_expect_status 1
t_expect_empty out
t_expect_has err "unknown command 'valdate'"
t_expect_has err "did you mean 'validate'?"
t_end

t_begin "a misspelt command with a swapped letter suggests the right one"
t_run "$STK" vesrion
t_expect_status 1
t_expect_has err "did you mean 'version'?"
t_end

t_begin "an unknown flag before the command exits 1"
t_run "$STK" --frobnicate
t_expect_status 1
t_expect_empty out
t_expect_has err "unknown flag '--frobnicate'"
t_end

t_begin "an unknown flag of validate exits 1 with its usage"
t_run "$STK" validate --frobnicate "$T_TMP/valid"
t_expect_status 1
t_expect_empty out
t_expect_has err "unknown flag '--frobnicate'"
t_expect_has err "Usage: stk validate"
t_end

t_begin "validate takes one directory"
t_run "$STK" validate "$T_TMP/valid" "$T_TMP/empty"
t_expect_status 1
t_expect_empty out
t_expect_has err "Usage: stk validate"
t_end

# ---- validate ------------------------------------------------------------------------------

t_begin "validate of a valid directory succeeds"
t_run "$STK" validate "$T_TMP/valid"
t_expect_status 0
t_expect_has out "$success"
t_expect_lines out 1
t_expect_empty err
t_end

t_begin "validate with a trailing slash succeeds"
t_run "$STK" validate "$T_TMP/valid/"
t_expect_status 0
t_expect_has out "$success"
t_end

t_begin "validate names a file with one slash after its directory, whatever slashes end it"
mkdir -p "$T_TMP/slashes"
printf 'locals {\n  a =\n}\n' >"$T_TMP/slashes/main.stk"
t_run "$STK" validate "$T_TMP/slashes///"
t_expect_status 1
t_expect_has err "$T_TMP/slashes/main.stk:3:1: error"
t_run "$STK" validate "$T_TMP/slashes/"
t_expect_has err "$T_TMP/slashes/main.stk:3:1: error"
T_STATUS=0
(cd "$T_TMP/slashes" && t_timeout 20 "$STK" validate .//) <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 1
t_expect_has err "main.stk:3:1: error"
t_expect_lacks err "./main.stk"
t_end

t_begin "validate without an argument reads the current directory"
T_STATUS=0
(cd "$T_TMP/valid" && t_timeout 20 "$STK" validate) <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 0
t_expect_has out "$success"
t_end

t_begin "validate of a single file succeeds"
t_run "$STK" validate "$T_TMP/valid/main.stk"
t_expect_status 0
t_expect_has out "$success"
t_end

t_begin "validate of a missing directory exits 1 and names it"
t_run "$STK" validate "$T_TMP/no-such-dir"
t_expect_status 1
t_expect_empty out
t_expect_has err "$T_TMP/no-such-dir"
t_expect_has err "No such file or directory"
t_expect_lacks err "$success"
t_end

t_begin "validate of a directory without .stk files exits 1"
t_run "$STK" validate "$T_TMP/empty"
t_expect_status 1
t_expect_empty out
t_expect_has err "no .stk files"
t_end

t_begin "errors go to stderr, with file:line:col, and exit 1"
t_run "$STK" validate "$T_TMP/broken"
t_expect_status 1
t_expect_empty out
t_expect_has err "$T_TMP/broken/main.stk:3:1: error: "
t_expect_lacks err "$success"
t_end

# The providers and the HTTP layer are a module of their own (stk-net.so), loaded on the first
# request: a command that makes none works without it, and one that needs it says what is
# missing. STK_NET_MODULE names the module to load instead of looking for it.
t_begin "commands that make no request work without stk-net.so; one that does says it is missing"
mkdir -p "$T_TMP/nonet"
cat >"$T_TMP/nonet/main.stk" <<'EOF2'
resource host.file motd {
  filename = "motd.txt"
  content  = "hello"
}
EOF2
t_run env STK_NET_MODULE="$T_TMP/nonet/missing.so" "$STK" validate "$T_TMP/nonet"
t_expect_status 0
t_run env STK_NET_MODULE="$T_TMP/nonet/missing.so" STK_STATE="$T_TMP/nonet/stk.state" \
	"$STK" plan -refresh=false "$T_TMP/nonet"
t_expect_status 0
t_expect_has out "Plan: 1 to add"
t_run env STK_NET_MODULE="$T_TMP/nonet/missing.so" STK_STATE="$T_TMP/nonet/stk.state" \
	"$STK" apply -auto-approve "$T_TMP/nonet"
t_expect_status 1
t_expect_has err "cannot load stk's providers: $T_TMP/nonet/missing.so"
t_expect_has err "STK_NET_MODULE"
t_end

# stack.tags is an expression of the root module: a resource that uses it depends on what its
# tags name.
t_begin "stack.tags makes the edges of what the stack's tags name"
mkdir -p "$T_TMP/stacktags"
cat >"$T_TMP/stacktags/main.stk" <<'EOF2'
stack "demo" {
  tags = { Env = var.env, Self = stack.name }
}

variable env {
  default = "prod"
}

resource aws.vpc main {
  cidr_block = "10.0.0.0/16"
  tags       = merge(stack.tags, { Name = "main" })
}
EOF2
t_run "$STK" graph "$T_TMP/stacktags"
t_expect_status 0
t_expect_has out '"aws.vpc.main" -> "var.env";'
t_end

# A module call's count may need a root variable: graph takes -var and -var-file as plan does
# (it had neither, so such a configuration could not be graphed at all).
t_begin "stk graph works out a counted module call from -var and -var-file"
mkdir -p "$T_TMP/graphvar/mod"
printf 'variable name { type = string }\noutput name { value = var.name }\n' >"$T_TMP/graphvar/mod/main.stk"
cat >"$T_TMP/graphvar/main.stk" <<'EOF2'
variable n { type = number }

module copy {
  count  = var.n
  source = "./mod"
  name   = "copy${count.index}"
}
EOF2
t_run "$STK" graph "$T_TMP/graphvar"
t_expect_status 1
t_expect_has err "the count of a module call needs var.n, which has no value"
t_run "$STK" graph -var n=2 "$T_TMP/graphvar"
t_expect_status 0
t_expect_has out '"module.copy[1].output.name" -> "module.copy[1].var.name";'
t_expect_lacks out 'module.copy[2]'
echo 'n = 3' >"$T_TMP/graphvar.stkvars"
t_run "$STK" graph "$T_TMP/graphvar" -var-file="$T_TMP/graphvar.stkvars"
t_expect_status 0
t_expect_has out '"module.copy[2].var.name"'
t_end

# A dynamic block's for_each and content refer to things like any argument: they are edges.
# Its iterator is not (named local here, it must not make an edge to a local).
t_begin "stk graph has the references made inside dynamic blocks"
mkdir -p "$T_TMP/graphdyn"
cat >"$T_TMP/graphdyn/main.stk" <<'EOF2'
resource aws.vpc main { cidr_block = "10.0.0.0/16" }
resource aws.vpc peer { cidr_block = "10.1.0.0/16" }
locals { ports = [80, 443] }

resource aws.security_group web {
  name = "web"
  dynamic "ingress" {
    for_each = local.ports
    iterator = port
    content {
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = [aws.vpc.main.cidr_block]
    }
  }
  dynamic "egress" {
    for_each = [aws.vpc.peer.cidr_block]
    content {
      from_port   = 0
      to_port     = 0
      protocol    = "-1"
      cidr_blocks = [egress.value]
    }
  }
}
EOF2
t_run "$STK" graph "$T_TMP/graphdyn"
t_expect_status 0
t_expect_has out '"aws.security_group.web" -> "local.ports";'
t_expect_has out '"aws.security_group.web" -> "aws.vpc.main";'
t_expect_has out '"aws.security_group.web" -> "aws.vpc.peer";'
t_expect_lacks out '"port'
t_end

# stack.tags inside the stack's own tags could only go round forever: the check says so (the
# plan used to recurse until the stack overflowed).
t_begin "stack.tags in the stack's own tags is an error"
mkdir -p "$T_TMP/stackloop"
cat >"$T_TMP/stackloop/main.stk" <<'EOF2'
stack "demo" {
  tags = { Env = "prod", Again = stack.tags.Env }
}
EOF2
t_run "$STK" validate "$T_TMP/stackloop"
t_expect_status 1
t_expect_has err "main.stk:2:34: error: stack.tags refers to itself"
t_end

# The state's passphrase (a root variable) is worked out before the configuration is
# checked, from a graph of it: a provider setting that is not a provider's name must not
# crash that graph (it did: a NULL provider), and the state commands go on.
t_begin "a state command reads a configuration with a bad provider setting without crashing"
mkdir -p "$T_TMP/badprov"
cat >"$T_TMP/badprov/main.stk" <<'EOF2'
stack "demo" {
  encryption {
    passphrase = var.pw
  }
}

variable pw {
  default = "correct horse battery staple"
}

resource aws.vpc main {
  provider   = "aws"
  cidr_block = "10.0.0.0/16"
}
EOF2
(cd "$T_TMP/badprov" && "$STK" state list) >"$T_TMP/out" 2>"$T_TMP/err"
status=$?
[ "$status" -eq 0 ] || t_why "stk state list exited $status: $(head -5 "$T_TMP/err")"
t_run "$STK" validate "$T_TMP/badprov"
t_expect_status 1
t_expect_has err "main.stk:12:"
t_end

# A plan of 9000 creates has its text made side by side, in shares of at least 4096 changes
# (planner/render.c); it must be the text one thread makes, byte for byte.
t_begin "a big plan's text, rendered side by side, is the one rendered on one thread"
if python3 "$STK_SRCDIR/bench/plan/gen.py" 9000 "$T_TMP/big" >/dev/null 2>"$T_TMP/gen.err"; then
	t_run env STK_STATE="$T_TMP/big/none.state" STK_PARSE_THREADS=1 "$STK" plan -refresh=false "$T_TMP/big"
	t_expect_status 0
	t_expect_has out "Plan: 9000 to add, 0 to change, 0 to destroy."
	mv "$T_TMP/out" "$T_TMP/one.out"
	t_run env STK_STATE="$T_TMP/big/none.state" STK_PARSE_THREADS=2 "$STK" plan -refresh=false "$T_TMP/big"
	t_expect_status 0
	t_diff "$T_TMP/one.out" "$T_TMP/out" "stk plan" >"$T_TMP/diff" ||
		t_why "side by side, the text differs from one thread's: $(head -20 "$T_TMP/diff")"
else
	t_why "bench/plan/gen.py failed: $(cat "$T_TMP/gen.err")"
fi
t_end

# From 2048 nodes a graph is evaluated in rounds, each round's nodes in shares side by side
# (planner/plan.c), taking references to the values of earlier rounds: against a state, with
# resources gone (destroyed), changed in place and replaced, the plan must be one thread's.
t_begin "a big plan against a state, evaluated side by side, is the one made on one thread"
if [ -f "$T_TMP/big/match.state" ]; then
	mkdir -p "$T_TMP/bigstate"
	awk '/^resource / { skip = ($3 ~ /^net5(_|$)/) }
	     !skip { print }
	     /^}/ { skip = 0 }' "$T_TMP/big/main.stk" |
	sed -e '/^resource aws.vpc net7 {/,/^}/s/enable_dns_hostnames = true/enable_dns_hostnames = false/' \
	    -e 's/"Web traffic for net9"/"Web traffic for net nine"/' \
	    -e 's|"out/net11/groups.json"|"out/net11/groups2.json"|' >"$T_TMP/bigstate/main.stk"
	for threads in 1 3; do
		cp "$T_TMP/big/match.state" "$T_TMP/bigstate/stk.state"
		t_run env STK_PARSE_THREADS=$threads "$STK" plan -refresh=false "$T_TMP/bigstate"
		t_expect_status 0
		mv "$T_TMP/out" "$T_TMP/out.$threads"
	done
	t_expect_has out.1 "Plan: 3 to add, 1 to change, 11 to destroy."
	t_expect_has out.1 "# aws.vpc.net5 will be destroyed (it is no longer in the configuration)"
	t_expect_has out.1 "# aws.vpc.net7 will be updated in place"
	t_expect_has out.1 "# aws.security_group.net9_web must be replaced"
	t_expect_has out.1 "# host.file.net11_groups must be replaced"
	t_diff "$T_TMP/out.1" "$T_TMP/out.3" "stk plan" >"$T_TMP/diff" ||
		t_why "side by side, the plan differs from one thread's: $(head -20 "$T_TMP/diff")"
else
	t_why "no generated state (the test before failed)"
fi
t_end

# Messages made side by side: each share's, with the sources they point into (a template
# file read in a share), are appended in order, and a value shown in a message is the
# share's own.
t_begin "a big plan's errors, found side by side, are the ones found on one thread"
mkdir -p "$T_TMP/bigerr"
printf 'net ${n}: ${nope}\n' >"$T_TMP/bigerr/bad.tpl"
printf 'net ${n}\n' >"$T_TMP/bigerr/good.tpl"
awk 'BEGIN {
	printf "variable env {\n  default = \"prod\"\n}\n\nlocals {\n  tags = { Env = var.env, Team = \"platform\" }\n}\n\n"
	for (i = 0; i < 3000; i++) {
		printf "resource aws.vpc v%d {\n", i
		if (i % 100 == 50)
			printf "  cidr_block = cidrsubnet(\"10.0.0.0/16\", 30, %d)\n", i
		else
			printf "  cidr_block = \"10.%d.0.0/16\"\n", i % 250
		if (i % 100 == 77)
			printf "  tags = { N = tonumber(\"x-${var.env}-%d\") }\n}\n\n", i
		else
			printf "  tags = merge(local.tags, { Name = \"${var.env}-v%d\" })\n}\n\n", i
		printf "resource host.file f%d {\n  filename = \"out/f%d.txt\"\n", i, i
		printf "  content  = templatefile(\"${path.module}/%s.tpl\", { n = aws.vpc.v%d.cidr_block })\n}\n\n",
		       i % 500 == 123 ? "bad" : "good", i
	}
}' >"$T_TMP/bigerr/main.stk"
for threads in 1 3; do
	t_run env STK_PARSE_THREADS=$threads "$STK" plan -refresh=false "$T_TMP/bigerr"
	t_expect_status 1
	mv "$T_TMP/err" "$T_TMP/err.$threads"
done
t_expect_has err.3 "main.stk:510:42: error: cidrsubnet: insufficient address space to extend prefix of 16 by 30"
t_expect_has err.3 'main.stk:29781:25: error: tonumber: cannot convert "x-prod-2977" to number'
t_expect_has err.3 "bad.tpl:1:13: error: the template has no variable nope"
[ "$(grep -c "error: cidrsubnet" "$T_TMP/err.3")" -eq 30 ] &&
[ "$(grep -c "error: tonumber" "$T_TMP/err.3")" -eq 30 ] &&
# six resources render bad.tpl: its error, the same words at the same place, is shown once
[ "$(grep -c "bad.tpl:.*error:" "$T_TMP/err.3")" -eq 1 ] ||
	t_why "expected 30 cidrsubnet, 30 tonumber and 1 template messages"
t_diff "$T_TMP/err.1" "$T_TMP/err.3" "stk plan" >"$T_TMP/diff" ||
	t_why "side by side, the messages differ from one thread's: $(head -20 "$T_TMP/diff")"
t_end

# Its nodes are declared, and its edges found, in shares side by side too (planner/graph.c),
# from 2048 blocks and nodes: the graph must be one pass's. A module call and the stack block
# in the middle of a share are declared where they stand, in order.
t_begin "a big configuration's graph, built side by side, is the one built on one thread"
if [ -f "$T_TMP/big/main.stk" ]; then
	mkdir -p "$T_TMP/biggraph/net"
	printf 'variable vpc_id {}\n\nresource aws.subnet edge {\n  vpc_id     = var.vpc_id\n  cidr_block = "10.9.0.0/24"\n  tags       = stack.tags\n}\n\noutput id {\n  value = aws.subnet.edge.id\n}\n' \
		>"$T_TMP/biggraph/net/main.stk"
	awk '{ print }
	     /^}/ && NR > 20000 && !m { print "\nmodule edge {\n  source = \"./net\"\n  vpc_id = aws.vpc.net600.id\n}"; m = 1 }
	     /^}/ && NR > 30000 && !s { print "\nstack prod {\n  tags = { Env = var.env }\n}"; s = 1 }' \
		"$T_TMP/big/main.stk" >"$T_TMP/biggraph/main.stk"
	t_run env STK_PARSE_THREADS=1 "$STK" graph "$T_TMP/biggraph"
	t_expect_status 0
	t_expect_has out '"aws.subnet.net0_a" -> "aws.vpc.net0";'
	t_expect_has out '"module.edge.var.vpc_id" -> "aws.vpc.net600";'
	t_expect_has out '"module.edge.aws.subnet.edge" -> "var.env";'
	mv "$T_TMP/out" "$T_TMP/one.out"
	t_run env STK_PARSE_THREADS=3 "$STK" graph "$T_TMP/biggraph"
	t_expect_status 0
	t_diff "$T_TMP/one.out" "$T_TMP/out" "stk graph" >"$T_TMP/diff" ||
		t_why "side by side, the graph differs from one thread's: $(head -20 "$T_TMP/diff")"
else
	t_why "no generated configuration (the test before failed)"
fi
t_end

# validate_one_and_three DIR: stk validate DIR in one pass (its messages into one.err), then
# on three threads (as t_run leaves them); both must fail. same_as_one_pass: the two agree.
validate_one_and_three() {
	t_run env STK_PARSE_THREADS=1 "$STK" validate "$1"
	t_expect_status 1
	mv "$T_TMP/err" "$T_TMP/one.err"
	t_run env STK_PARSE_THREADS=3 "$STK" validate "$1"
	t_expect_status 1
}
same_as_one_pass() {
	t_diff "$T_TMP/one.err" "$T_TMP/err" "stk validate" >"$T_TMP/diff" ||
		t_why "side by side, the messages differ from one pass's: $(head -20 "$T_TMP/diff")"
}

# A configuration of 2048 top-level items or more is declared, then checked, in shares side by
# side (planner/check.c). The messages must be one pass's, the first of two declarations the
# one kept (the second has count), and a reference into another share must see its count.
t_begin "a big configuration's check, side by side, reports what one pass reports"
mkdir -p "$T_TMP/bigcheck"
awk 'BEGIN {
	for (i = 0; i < 4000; i++) {
		if (i == 100 || i == 3500)
			printf "stack \"s%d\" {\n}\n", i
		if (i == 2500)
			printf "x = 1\n"
		name = "v" i
		if (i == 10 || i == 3000)
			name = "d1"
		if (i == 3995)
			name = "c9"
		printf "resource aws.vpc %s {\n", name
		if (i == 3000 || i == 3995)
			printf "  count = 2\n"
		printf "  cidr_block = \"10.0.0.0/16\"\n"
		if (i == 5)
			printf "  tags = { A = aws.vpc.c9[0].id, B = aws.vpc.c9.id }\n"
		if (i == 3990)
			printf "  tags = { A = aws.vpc.d1.id }\n"
		if (i == 1500)
			printf "  tags = { A = nope(1) }\n"
		# an error in every share at once, its place worked out per reference
		if (i % 100 == 50)
			printf "  tags = { A = aws.vpc.v1.nope }\n"
		printf "}\n"
	}
}' >"$T_TMP/bigcheck/main.stk"
validate_one_and_three "$T_TMP/bigcheck"
t_expect_has err "main.stk:18:49: error: aws.vpc.c9 has count; pick an instance first"
t_expect_has err "main.stk:4521:16: error: unknown function nope"
t_expect_has err "main.stk:7530:1: error: 'x = ...' must be inside a block"
t_expect_has err "main.stk:9036:18: error: resource aws.vpc.d1 is declared twice"
t_expect_has err "main.stk:10542:1: error: a configuration has one stack block"
t_expect_lacks err "aws.vpc.d1 has count"
[ "$(grep -c "aws.vpc has no attribute 'nope'" "$T_TMP/err")" -eq 40 ] ||
	t_why "expected 40 messages about aws.vpc.v1.nope, one per 100 resources"
same_as_one_pass
t_end

# Cycles are looked for in shares too: a declaration's edges are found by the share that
# checks it. One across the shares, through a local declared after them, and one within one.
t_begin "a big configuration's dependency cycles, side by side, are one pass's"
mkdir -p "$T_TMP/bigcycle"
awk 'BEGIN {
	for (i = 0; i < 4000; i++) {
		cidr = "\"10.0.0.0/16\""
		if (i == 200)
			cidr = "local.loop"
		if (i == 3800)
			cidr = "aws.vpc.v200.cidr_block"
		if (i == 1000)
			cidr = "aws.vpc.v1001.cidr_block"
		if (i == 1001)
			cidr = "aws.vpc.v1000.cidr_block"
		printf "resource aws.vpc v%d {\n  cidr_block = %s\n}\n", i, cidr
	}
	printf "locals {\n  loop = aws.vpc.v3800.id\n}\n"
}' >"$T_TMP/bigcycle/main.stk"
validate_one_and_three "$T_TMP/bigcycle"
t_expect_has err "main.stk:601:1: error: dependency cycle: aws.vpc.v200 -> local.loop -> aws.vpc.v3800 -> aws.vpc.v200"
t_expect_has err "note: aws.vpc.v3800 refers to aws.vpc.v200 here"
t_expect_has err "error: dependency cycle: aws.vpc.v1000 -> aws.vpc.v1001 -> aws.vpc.v1000"
same_as_one_pass
t_end

# stk validate finds cycles without the graph; for these, the graph (stk plan) names the same
# ones the same way, note for note.
t_begin "validate reports each dependency cycle as stk plan does"
for f in "$STK_SRCDIR"/tests/validate/check_cycle_*; do
	case $f in *.out) continue ;; esac
	name=$(basename "$f" .stk)
	mkdir -p "$T_TMP/cyc/$name"
	if [ -d "$f" ]; then
		cp -R "$f"/. "$T_TMP/cyc/$name"
	else
		cp "$f" "$T_TMP/cyc/$name/main.stk"
	fi
	(cd "$T_TMP/cyc" && "$STK" validate "$name" >"$name.validate" 2>&1; echo "exit $?" >>"$name.validate"
	 STK_STATE=$T_TMP/cyc/none.state "$STK" plan -refresh=false "$name" >"$name.plan" 2>&1
	 echo "exit $?" >>"$name.plan")
	grep -q "error: dependency cycle" "$T_TMP/cyc/$name.plan" ||
		t_why "$name: stk plan reports no cycle"
	t_diff "$T_TMP/cyc/$name.plan" "$T_TMP/cyc/$name.validate" "$name" >"$T_TMP/diff" ||
		t_why "$name: validate's messages differ from plan's: $(head -20 "$T_TMP/diff")"
done
t_end

t_begin "validate maps a big file (or reads it, when it ends on a page's end) and says the same"
mkdir -p "$T_TMP/bigmap" "$T_TMP/bigread"
if sh "$STK_SRCDIR/bench/frontend/gen.sh" 3000 "$T_TMP/bigmapgen" >/dev/null 2>"$T_TMP/gen.err"; then
	# an error at the end, so that the message shows a line of the mapped text
	{ cat "$T_TMP/bigmapgen/stk/main.stk"; printf 'resource aws.vpc last {\n  cidr_block = nope\n}\n'; } \
		>"$T_TMP/bigmap/main.stk"
	size=$(wc -c <"$T_TMP/bigmap/main.stk")
	[ $((size % 4096)) -ne 0 ] || printf '#\n' >>"$T_TMP/bigmap/main.stk"
	size=$(wc -c <"$T_TMP/bigmap/main.stk")
	pad=$((4096 - size % 4096))
	{ cat "$T_TMP/bigmap/main.stk"; awk -v n="$pad" 'BEGIN { s = "#"; while (length(s) < n - 1) s = s "#"; print s }'; } \
		>"$T_TMP/bigread/main.stk"
	[ $(($(wc -c <"$T_TMP/bigread/main.stk") % 4096)) -eq 0 ] || t_why "the padded file is not a whole number of pages"
	[ "$size" -ge 1048576 ] || t_why "the file is $size bytes, under the 1 MiB from which it is mapped"
	t_run "$STK" validate "$T_TMP/bigread"
	t_expect_status 1
	mv "$T_TMP/err" "$T_TMP/read.err"
	t_run "$STK" validate "$T_TMP/bigmap"
	t_expect_status 1
	t_expect_has err "cidr_block = nope"
	sed 's|/bigread/|/bigmap/|' "$T_TMP/read.err" >"$T_TMP/read2.err"
	t_diff "$T_TMP/read2.err" "$T_TMP/err" "stk validate" >"$T_TMP/diff" ||
		t_why "mapped and read, the messages differ: $(head -20 "$T_TMP/diff")"
else
	t_why "bench/frontend/gen.sh failed: $(cat "$T_TMP/gen.err")"
fi
t_end

t_begin "a big file cut short or changed while validate reads it is an error, not a crash"
if sh "$STK_SRCDIR/bench/frontend/gen.sh" 40000 "$T_TMP/bigcut" >/dev/null 2>"$T_TMP/gen.err"; then
	cut=0 changed=0
	for how in cut touch cut append cut touch cut append; do
		for delay in 0.02 0.1; do
			cp "$T_TMP/bigcut/stk/main.stk" "$T_TMP/bigcut/main.stk"
			T_STATUS=0
			"$STK" validate "$T_TMP/bigcut/main.stk" </dev/null >"$T_TMP/out" 2>"$T_TMP/err" &
			pid=$!
			sleep "$delay"
			case $how in
			cut) : >"$T_TMP/bigcut/main.stk" ;;
			touch) touch "$T_TMP/bigcut/main.stk" ;;
			append) printf 'locals { late = 1 }\n' >>"$T_TMP/bigcut/main.stk" ;;
			esac
			wait "$pid" || T_STATUS=$?
			[ "$T_STATUS" -lt 124 ] ||
				t_why "$how after ${delay}s: exit status $T_STATUS (a signal): $(head -3 "$T_TMP/err")"
			if grep -F "bigcut/main.stk was cut short while stk validate read it" "$T_TMP/err" >/dev/null; then
				cut=$((cut + 1))
				t_expect_status 1
			elif grep -F "bigcut/main.stk changed while stk validate read it" "$T_TMP/err" >/dev/null; then
				changed=$((changed + 1))
				t_expect_status 1
				[ "$(grep -c 'error:' "$T_TMP/err")" = 1 ] || t_why "more messages than the change: $(cat "$T_TMP/err")"
			elif [ "$T_STATUS" -ne 0 ] && [ "$how" != cut ]; then
				t_why "$how after ${delay}s: exit status $T_STATUS with no word of the change: $(head -5 "$T_TMP/err")"
			fi
		done
	done
	[ "$cut" -gt 0 ] || t_why "no run was cut short while it read the file (each ended first)"
	[ "$changed" -gt 0 ] || t_why "no run saw its file change (each ended first)"
else
	t_why "bench/frontend/gen.sh failed: $(cat "$T_TMP/gen.err")"
fi
t_end

t_begin "a state at the highest serial is not written with a serial no reader takes"
mkdir -p "$T_TMP/maxserial"
cat >"$T_TMP/maxserial/stk.state" <<'EOF2'
{"version":1,"lineage":"a","serial":9223372036854775807,"resources":[{"instances":[{"attributes":{"id":"vpc-1"},"status":"ready"}],"mode":"managed","name":"main","provider":"aws","type":"aws.vpc"}]}
EOF2
chmod 600 "$T_TMP/maxserial/stk.state"
cp "$T_TMP/maxserial/stk.state" "$T_TMP/maxserial.before"
T_STATUS=0
(cd "$T_TMP/maxserial" && t_timeout 20 "$STK" state rm aws.vpc.main) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 1
t_expect_has err "has the highest serial there is (9223372036854775807)"
t_expect_lacks out "Removed"
cmp -s "$T_TMP/maxserial/stk.state" "$T_TMP/maxserial.before" || t_why "the state was written"
t_end

# Colour goes to a terminal only; -no-color (any command, as in Terraform) and NO_COLOR turn it
# off there too. script(1) gives stk a terminal.
t_begin "-no-color: no escape codes on a terminal, for a diagnostic and a plan alike"
if command -v script >/dev/null 2>&1; then
	STK_ABS=$(t_abspath "$STK")
	on_tty() {
		(cd "$T_TMP" && t_timeout 60 script -qec "env NO_COLOR= TERM=xterm $*" /dev/null) </dev/null \
			>"$T_TMP/tty" 2>&1 || :
	}
	esc=$(printf '\033')
	on_tty "$STK_ABS validate broken"
	grep -q "$esc\[" "$T_TMP/tty" || t_why "no colour on a terminal without -no-color: $(cat -v "$T_TMP/tty" | head -3)"
	grep -q "expected" "$T_TMP/tty" || t_why "no diagnostic: $(cat -v "$T_TMP/tty" | head -3)"
	on_tty "$STK_ABS validate -no-color broken"
	! grep -q "$esc\[" "$T_TMP/tty" || t_why "escape codes with -no-color: $(cat -v "$T_TMP/tty" | head -3)"
	grep -q "main.stk:3" "$T_TMP/tty" || t_why "no diagnostic with -no-color: $(cat -v "$T_TMP/tty" | head -3)"
	on_tty "STK_STATE=$T_TMP/nc.state $STK_ABS plan -no-color -refresh=false valid"
	! grep -q "$esc\[" "$T_TMP/tty" || t_why "escape codes in a plan with -no-color: $(cat -v "$T_TMP/tty" | head -3)"
	grep -q "aws.vpc.main will be created" "$T_TMP/tty" || t_why "no plan with -no-color: $(cat -v "$T_TMP/tty" | head -3)"
	on_tty "STK_STATE=$T_TMP/nc.state $STK_ABS plan -refresh=false valid"
	grep -q "$esc\[" "$T_TMP/tty" || t_why "no colour in a plan on a terminal: $(cat -v "$T_TMP/tty" | head -3)"
fi
t_run "$STK" validate --no-color "$T_TMP/valid"
t_expect_status 0
t_expect_has out "$success"
t_end

t_summary
