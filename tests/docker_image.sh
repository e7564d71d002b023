#!/bin/sh
# tests/docker_image.sh: docker.image against a private dockerd (tests/docker.sh) and Debian's
# docker-registry, judged by the docker CLI and by curl against the registry's v2 API: a build
# with a COPY and a build arg, a plan with no changes, a context change rebuilding, a change
# to a file .dockerignore leaves out rebuilding nothing, a failing RUN step shown with its
# output, a push whose digest the registry confirms, destroy. The registry listens on the
# daemon's own loopback (its network namespace), so stk and curl run in there too (dk_ns).
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/docker.sh"
registry_setup

W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-img-$$
mkdir -p "$W/app"
# no auth: GET /v2/ answers 200
registry_start 200 --delete </dev/null

in_w() {
	dk_stk "$W" "$@"
}

# The judge's view of an image: a field (a Go template), or "" when there is none.
img() {
	dk image inspect "$1" --format "$2" 2>/dev/null
}

# The registry's digest for repo:tag, from its v2 API.
reg_digest() {
	registry_digest "$1" "$2"
}

state_attr() {
	image_attr "$W/stk.state" "$1" "$2"
}

printf 'FROM stk-busybox:latest\nARG GREETING=none\nCOPY hello.txt /hello.txt\nRUN echo "$GREETING" >/greeting.txt\nCMD ["cat", "/hello.txt"]\n' \
	>"$W/app/Dockerfile"
echo one >"$W/app/hello.txt"
printf '# local notes are not part of the image\nnotes.txt\n*.log\n' >"$W/app/.dockerignore"
echo draft >"$W/app/notes.txt"

cat >"$W/main.stk" <<EOF
resource docker.image app {
  context    = "app"
  build_args = { GREETING = "hi from stk" }
  tags       = ["$N:v1"]
}

output id { value = docker.image.app.id }
EOF

t_begin "apply builds the image from the context, with the build arg (checked with the docker CLI)"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "docker.image.app: Creation complete"
# the build's output, as it goes, each line under the address and before the end
t_expect_match out "^docker.image.app: Step 1/[0-9]+ : FROM stk-busybox"
[ "$(grep -n "docker.image.app: Step 1/" "$T_TMP/out" | head -1 | cut -d: -f1)" -lt \
	"$(grep -n "docker.image.app: Creation complete" "$T_TMP/out" | cut -d: -f1)" ] ||
	t_why "the build output came after the end of the create"
ID1=$(img "$N:v1" '{{.Id}}')
[ -n "$ID1" ] || t_why "no image $N:v1"
[ "$(dk run --rm --network host "$N:v1")" = one ] || t_why "the COPY did not land: $(dk run --rm --network host "$N:v1")"
[ "$(dk run --rm --network host "$N:v1" cat /greeting.txt)" = "hi from stk" ] || t_why "the build arg did not reach RUN"
[ "$(dk run --rm --network host "$N:v1" ls /notes.txt 2>/dev/null)" = "" ] || t_why "notes.txt was sent"
img "$N:v1" '{{index .Config.Labels "stk.token"}}' | grep -q . || t_why "the image has no stk.token label"
[ "$(state_attr app id)" = "$ID1" ] || t_why "state id $(state_attr app id), docker says $ID1"
state_attr app context_sha256 | grep -Eq '^[0-9a-f]{64}$' || t_why "no context_sha256 in the state"
t_end

t_begin "a second plan has no changes"
in_w plan
t_expect_status 0
t_expect_has out "No changes"
t_end

t_begin "a file .dockerignore leaves out changes: no rebuild"
echo "second draft" >"$W/app/notes.txt"
echo "x" >"$W/app/build.log"
in_w plan
t_expect_status 0
t_expect_has out "No changes"
in_w apply -auto-approve
t_expect_status 0
[ "$(img "$N:v1" '{{.Id}}')" = "$ID1" ] || t_why "the image was rebuilt"
t_end

t_begin "a changed context file replaces the image: a new build, a new ID, the old image gone"
echo two >"$W/app/hello.txt"
in_w plan
t_expect_status 0
t_expect_has out "stk.context_sha256"
t_expect_has out "replace"
in_w apply -auto-approve
t_expect_status 0
ID2=$(img "$N:v1" '{{.Id}}')
[ -n "$ID2" ] && [ "$ID2" != "$ID1" ] || t_why "the image ID is still $ID2"
[ "$(dk run --rm --network host "$N:v1")" = two ] || t_why "the new file is not in the image"
[ -z "$(img "$ID1" '{{.Id}}')" ] || t_why "the old image $ID1 is still there"
in_w plan
t_expect_has out "No changes"
t_end

t_begin "a changed build arg replaces the image"
sed -i 's/hi from stk/hello again/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(dk run --rm --network host "$N:v1" cat /greeting.txt)" = "hello again" ] || t_why "the new build arg is not in the image"
t_end

t_begin "a failing RUN step fails the create, showing the step and its output under the address"
mkdir -p "$W/bad"
printf 'FROM stk-busybox:latest\nRUN echo preparing\nRUN echo "something broke here" && exit 3\n' >"$W/bad/Dockerfile"
cat >>"$W/main.stk" <<EOF

resource docker.image bad {
  context = "bad"
  tags    = ["$N-bad:v1"]
}
EOF
in_w apply -auto-approve
[ "$T_STATUS" -ne 0 ] || t_why "apply succeeded"
# the engine counts the stk.token label as one more step
t_expect_match err 'docker\.image\.bad: docker build failed at Step 3/[0-9]+ : RUN echo "something broke here" && exit 3'
t_expect_has err "something broke here"
t_expect_has err "returned a non-zero code: 3"
[ -z "$(img "$N-bad:v1" '{{.Id}}')" ] || t_why "$N-bad:v1 exists"
[ -z "$(dk ps -aq)" ] || t_why "containers were left behind: $(dk ps -a)"
t_end

# no longer wanted
sed -i '/^resource docker.image bad/,$d' "$W/main.stk"

t_begin "a build's output shows no sensitive build arg and no terminal escapes"
mkdir -p "$W/sec"
# the engine wraps what a RUN writes to stderr in ESC[91m ... ESC[0m
printf 'FROM stk-busybox:latest\nARG TOKEN\nRUN echo "tok=$TOKEN"\nRUN echo "again $TOKEN" >&2; exit 4\n' >"$W/sec/Dockerfile"
cp "$W/main.stk" "$T_TMP/main.stk.before-sec"
cat >>"$W/main.stk" <<EOF

variable tok {
  type      = string
  sensitive = true
  default   = "BuildArgSecret777"
}

resource docker.image sec {
  context    = "sec"
  tags       = ["$N-sec:v1"]
  build_args = { TOKEN = var.tok }
}
EOF
in_w apply -auto-approve
[ "$T_STATUS" -ne 0 ] || t_why "apply succeeded"
t_expect_has out "docker.image.sec: tok=(sensitive value)"
t_expect_has err "again (sensitive value)"
grep -l BuildArgSecret777 "$T_TMP/out" "$T_TMP/err" >/dev/null && t_why "the build arg was printed"
grep -l "$(printf '\033')" "$T_TMP/out" "$T_TMP/err" >/dev/null && t_why "a terminal escape was printed"
cp "$T_TMP/main.stk.before-sec" "$W/main.stk"
t_end

t_begin "push = true pushes the tag; repo_digest is what the registry serves"
cat >>"$W/main.stk" <<EOF

resource docker.image pushed {
  context = "app"
  tags    = ["$REG/$N/app:v1"]
  push    = true
}

output repo_digest { value = docker.image.pushed.repo_digest }
EOF
in_w apply -auto-approve
t_expect_status 0
RD=$(reg_digest "$N/app" v1)
expect_repo_digest "$W" "$N/app:v1" "$RD"
t_expect_has out "$REG/$N/app@$RD"
in_w plan
t_expect_has out "No changes"
t_end

t_begin "a tag deleted at the registry is pushed again"
dk_ns curl -fsS -X DELETE "http://$REG/v2/$N/app/manifests/$RD" >/dev/null 2>&1
[ -z "$(reg_digest "$N/app" v1)" ] || t_why "the registry still has $N/app:v1 (deletes enabled?)"
in_w plan
t_expect_has out "push"
in_w apply -auto-approve
t_expect_status 0
[ "$(reg_digest "$N/app" v1)" = "$RD" ] || t_why "not pushed again: $(reg_digest "$N/app" v1)"
t_end

t_begin "data docker.registry_image and data docker.image read the registry and the store"
mkdir -p "$T_TMP/ds"
cat >"$T_TMP/ds/main.stk" <<EOF
data docker.registry_image app { name = "$REG/$N/app:v1" }
data docker.image app { name = "$REG/$N/app:v1" }
output registry_digest { value = data.docker.registry_image.app.sha256_digest }
output image_id { value = data.docker.image.app.id }
output image_repo_digest { value = data.docker.image.app.repo_digest }
EOF
dk_stk "$T_TMP/ds" apply -auto-approve
t_expect_status 0
t_expect_has out "registry_digest   = \"$RD\""
t_expect_has out "image_id          = \"$(img "$REG/$N/app:v1" '{{.Id}}')\""
t_expect_has out "image_repo_digest = \"$REG/$N/app@$RD\""
cat >"$T_TMP/ds/main.stk" <<EOF
data docker.registry_image gone { name = "$REG/$N/app:nope" }
EOF
# data sources are read during apply (docs/language.md)
dk_stk "$T_TMP/ds" apply -auto-approve
t_expect_status 1
t_expect_has err "data docker.registry_image: $REG/$N/app:nope is not in its registry"
cat >"$T_TMP/ds/main.stk" <<EOF
data docker.image gone { name = "$N-nowhere:v9" }
EOF
dk_stk "$T_TMP/ds" apply -auto-approve
t_expect_status 1
t_expect_has err "data docker.image: no image $N-nowhere:v9 in the daemon's store"
t_end

t_begin "a container whose image is not in the store pulls it, by tag or by digest, with the registry's words on failure"
dk tag stk-busybox:latest "$REG/$N/pulled:v1" >/dev/null
dk push "$REG/$N/pulled:v1" >"$T_TMP/push.log" 2>&1 || t_why "docker push failed: $(cat "$T_TMP/push.log")"
PD=$(reg_digest "$N/pulled" v1)
dk rmi "$REG/$N/pulled:v1" >/dev/null
[ -z "$(img "$REG/$N/pulled:v1" '{{.Id}}')" ] || t_why "$REG/$N/pulled:v1 is still in the store"
mkdir -p "$T_TMP/pull"
cat >"$T_TMP/pull/main.stk" <<EOF
resource docker.container bytag {
  name         = "$N-bytag"
  image        = "$REG/$N/pulled:v1"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
}

resource docker.container bydigest {
  name         = "$N-bydigest"
  image        = "$REG/$N/pulled@$PD"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
}
EOF
dk_stk "$T_TMP/pull" apply -auto-approve
t_expect_status 0
[ -n "$(img "$REG/$N/pulled:v1" '{{.Id}}')" ] || t_why "$REG/$N/pulled:v1 was not pulled"
[ "$(dk inspect "$N-bytag" --format '{{.State.Running}}' 2>/dev/null)" = true ] || t_why "$N-bytag is not running"
[ "$(dk inspect "$N-bydigest" --format '{{.State.Running}}' 2>/dev/null)" = true ] || t_why "$N-bydigest is not running"
dk_stk "$T_TMP/pull" plan -detailed-exitcode
t_expect_status 0
dk_stk "$T_TMP/pull" destroy -auto-approve
t_expect_status 0
cat >"$T_TMP/pull/main.stk" <<EOF
resource docker.container nope {
  name         = "$N-nope"
  image        = "$REG/$N/pulled:nope"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
}
EOF
dk_stk "$T_TMP/pull" apply -auto-approve
t_expect_status 1
t_expect_has err "docker.container.nope: docker PullImage: manifest for $REG/$N/pulled:nope not found"
[ -z "$(dk ps -aq --filter "name=^$N-nope\$")" ] || t_why "a container $N-nope was made"
dk rmi "$REG/$N/pulled:v1" "$REG/$N/pulled@$PD" >/dev/null 2>&1
t_end

t_begin "a registry that is down: plan fails naming the image and -refresh=false, which then plans from the state"
kill "$REG_PID" 2>/dev/null
wait "$REG_PID" 2>/dev/null
in_w plan
t_expect_status 1
t_expect_has err "the registry was asked whether $REG/$N/app:v1 is still pushed there"
t_expect_has err "-refresh=false plans (and destroys) from the state"
in_w plan -refresh=false -detailed-exitcode
t_expect_status 0
registry_start 200 --delete </dev/null
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "destroy removes the images"
in_w destroy -auto-approve
t_expect_status 0
[ -z "$(img "$N:v1" '{{.Id}}')" ] || t_why "$N:v1 is still there"
[ -z "$(img "$REG/$N/app:v1" '{{.Id}}')" ] || t_why "$REG/$N/app:v1 is still there"
[ -z "$(img "$ID2" '{{.Id}}')" ] || t_why "$ID2 is still there"
t_end

t_summary
