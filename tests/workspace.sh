#!/bin/sh
# tests/workspace.sh: stk workspace and terraform.workspace with local states, the host
# provider writing real files: one configuration applied in two workspaces keeps two states,
# and each apply or destroy touches only its own workspace's objects.
. "$(dirname "$0")/lib.sh"
t_init

W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
mkdir -p "$W"
unset STK_WORKSPACE STK_STATE

in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 60 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

cat >"$W/main.stk" <<'EOF'
resource host.file f {
  count    = terraform.workspace == "prod" ? 2 : 1
  filename = "out-${terraform.workspace}-${count.index}.txt"
  content  = "${stack.workspace}\n"
}

module m {
  source = "./m"
  count  = terraform.workspace == "prod" ? 1 : 0
}

output ws { value = terraform.workspace }
EOF
mkdir -p "$W/m"
cat >"$W/m/main.stk" <<'EOF'
resource host.file g {
  filename = "mod-${terraform.workspace}.txt"
  content  = "module\n"
}
EOF

t_begin "without a selection the workspace is default, and its state is stk.state"
in_w workspace show
t_expect_status 0
t_expect_has out "default"
in_w workspace list
t_expect_status 0
t_expect_has out "* default"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out 'ws = "default"'
[ "$(cat "$W/out-default-0.txt")" = default ] || t_why "out-default-0.txt does not say default"
[ -f "$W/stk.state" ] || t_why "no stk.state"
[ ! -e "$W/mod-default.txt" ] || t_why "the module's count was not 0 in default"
t_end

t_begin "workspace new makes an empty state of its own, selects it, and terraform.workspace follows"
in_w workspace new prod
t_expect_status 0
t_expect_has out 'Created and switched to workspace "prod".'
[ "$(cat "$W/.stk/workspace")" = prod ] || t_why ".stk/workspace does not say prod"
[ -f "$W/stk.state.d/prod/stk.state" ] || t_why "no stk.state.d/prod/stk.state"
[ "$(stat -c %a "$W/stk.state.d/prod/stk.state")" = 600 ] || t_why "the new state is not 0600"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "Plan: 3 to add, 0 to change, 0 to destroy."
in_w apply -auto-approve
t_expect_status 0
for f in out-prod-0.txt out-prod-1.txt mod-prod.txt; do
	[ -f "$W/$f" ] || t_why "apply in prod did not write $f"
done
[ "$(cat "$W/out-prod-1.txt")" = prod ] || t_why "out-prod-1.txt does not say prod"
in_w state list
t_expect_has out "module.m[0].host.file.g"
t_expect_lacks out "out-default"
in_w workspace list
t_expect_has out "  default"
t_expect_has out "* prod"
t_end

t_begin "each workspace sees only its own state: default has no changes, and destroy there leaves prod's files"
in_w workspace select default
t_expect_status 0
t_expect_has out 'Switched to workspace "default".'
[ ! -e "$W/.stk/workspace" ] || t_why "selecting default left .stk/workspace"
in_w plan -detailed-exitcode
t_expect_status 0
in_w destroy -auto-approve
t_expect_status 0
[ ! -e "$W/out-default-0.txt" ] || t_why "destroy in default left out-default-0.txt"
[ -f "$W/out-prod-0.txt" ] && [ -f "$W/mod-prod.txt" ] || t_why "destroy in default removed prod's files"
t_end

t_begin "STK_WORKSPACE chooses over the selection; a name that does not exist, or is not a name, is an error"
T_STATUS=0
(cd "$W" && STK_WORKSPACE=prod t_timeout 60 "$STK_ABS" plan -detailed-exitcode) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 0
T_STATUS=0
(cd "$W" && STK_WORKSPACE=staging t_timeout 60 "$STK_ABS" plan) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_has err 'workspace "staging" does not exist'
t_expect_has err "stk workspace new staging"
T_STATUS=0
(cd "$W" && STK_WORKSPACE='a b' t_timeout 60 "$STK_ABS" plan) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 1
t_expect_has err '"a b" is not a workspace name'
in_w workspace select staging
t_expect_status 1
t_expect_has err 'workspace "staging" does not exist'
[ ! -e "$W/stk.state.d/staging" ] || t_why "a refused select made stk.state.d/staging"
in_w workspace select -or-create=false staging
t_expect_status 1
t_expect_has err 'workspace "staging" does not exist'
in_w workspace new prod
t_expect_status 1
t_expect_has err 'workspace "prod" already exists'
in_w workspace new ../x
t_expect_status 1
t_expect_has err "is not a workspace name"
t_end

t_begin "delete refuses default, the current workspace, and one with resources unless -force"
in_w workspace delete default
t_expect_status 1
t_expect_has err "the default workspace cannot be deleted"
in_w workspace delete prod
t_expect_status 1
t_expect_has err 'workspace "prod" is not empty'
[ -f "$W/stk.state.d/prod/stk.state" ] || t_why "a refused delete removed the state"
in_w workspace select prod
in_w workspace delete prod
t_expect_status 1
t_expect_has err "is the current one"
in_w destroy -auto-approve
t_expect_status 0
[ ! -e "$W/out-prod-0.txt" ] && [ ! -e "$W/mod-prod.txt" ] || t_why "destroy in prod left files"
in_w workspace select default
in_w workspace delete prod
t_expect_status 0
t_expect_has out 'Deleted workspace "prod".'
[ ! -e "$W/stk.state.d/prod" ] || t_why "stk.state.d/prod is still there"
in_w workspace list
t_expect_lacks out "prod"
t_end

t_begin "select -or-create makes a workspace that is not there, and only selects one that is"
in_w workspace select -or-create ci
t_expect_status 0
t_expect_has out 'Created and switched to workspace "ci".'
[ -f "$W/stk.state.d/ci/stk.state" ] || t_why "no stk.state.d/ci/stk.state"
in_w workspace select default
in_w workspace select -or-create=true ci
t_expect_status 0
t_expect_has out 'Switched to workspace "ci".'
in_w workspace show
t_expect_has out "ci"
in_w workspace select default
in_w workspace delete ci
t_expect_status 0
t_end

t_begin "delete -force forgets a workspace that still records resources"
in_w workspace new tmp
in_w apply -auto-approve
t_expect_status 0
in_w workspace select default
in_w workspace delete -force tmp
t_expect_status 0
[ ! -e "$W/stk.state.d/tmp" ] || t_why "stk.state.d/tmp is still there"
[ -f "$W/out-tmp-0.txt" ] || t_why "-force destroyed the file instead of forgetting it"
t_end

t_begin "a saved plan is applied in the workspace it was made in, and refused in another"
in_w workspace new stage
in_w plan -out stage.plan
t_expect_status 0
in_w workspace select default
in_w apply stage.plan
t_expect_status 1
t_expect_has err 'this plan was made in workspace "stage", and the current workspace is "default"'
t_expect_has err "stk workspace select stage"
[ ! -e "$W/out-stage-0.txt" ] || t_why "the refused plan wrote out-stage-0.txt"
in_w workspace select stage
in_w apply stage.plan
t_expect_status 0
[ "$(cat "$W/out-stage-0.txt")" = stage ] || t_why "out-stage-0.txt does not say stage"
in_w destroy -auto-approve
t_expect_status 0
in_w workspace select default
in_w workspace delete stage
t_expect_status 0
t_end

t_begin "backend local's path: another workspace's state is beside it, in stk.state.d"
mkdir -p "$T_TMP/lp"
cat >"$T_TMP/lp/main.stk" <<'EOF2'
stack "lp" {
  backend local { path = "state/main.state" }
}
output ws { value = terraform.workspace }
EOF2
mkdir -p "$T_TMP/lp/state"
T_STATUS=0
(cd "$T_TMP/lp" && "$STK_ABS" workspace new qa && "$STK_ABS" apply -auto-approve) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 0
t_expect_has out 'ws = "qa"'
[ -f "$T_TMP/lp/state/stk.state.d/qa/main.state" ] || t_why "no state/stk.state.d/qa/main.state: $(find "$T_TMP/lp" -type f)"
[ ! -e "$T_TMP/lp/state/main.state" ] || t_why "the default workspace's state was written"
t_end

t_begin "terraform.workspace is checked: only .workspace exists"
printf 'output bad { value = terraform.name }\n' >"$W/bad.stk"
in_w validate
t_expect_status 1
t_expect_has err "terraform has only terraform.workspace"
rm -f "$W/bad.stk"
t_end

t_summary
