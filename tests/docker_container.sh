#!/bin/sh
# tests/docker_container.sh: docker.container against a private dockerd (tests/docker.sh),
# judged by the docker CLI: a busybox httpd serving an uploaded index.html, env and labels,
# a health check that passes (wait_healthy) and one that fails (the create fails with the
# container's output, the state keeps it tainted, the next plan replaces it), restart
# changed in place, a forced-new change replacing, a container removed or stopped out of
# band, import by ID, one-shot containers (attach, logs, rm), destroy. Containers use host
# networking only (the daemon's own namespace: loopback), never a bridge. Every name starts
# with $N, unique to this run.
. "$(dirname "$0")/lib.sh"
t_init

. "$(dirname "$0")/docker.sh"
docker_start
docker_base_image
W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")
N=stk-ctr-$$
# any port is free: the daemon's network namespace has nothing else in it
PORT=$((20000 + $$ % 20000))
mkdir -p "$W"

in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 180 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

# The judge's view: a container's field (a Go template) by name, or "" when there is none.
ctr() {
	dk container inspect "$1" --format "$2" 2>/dev/null
}

# How many containers (running or not) are named exactly $1.
ctrs() {
	dk ps -aq --filter "name=^/$1\$" | wc -l | tr -d ' '
}

# config GREETING RESTART [extra resources...]
config() {
	cat >"$W/main.stk" <<EOF
resource docker.container web {
  name         = "$N-web"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/httpd", "-f", "-p", "127.0.0.1:$PORT", "-h", "/www"]
  env          = { GREETING = "$1" }
  labels       = { team = "web" }
  restart      = "$2"
  upload = [{ file = "/www/index.html", content = "hello from stk\n" }]
  healthcheck = {
    test     = ["CMD", "/bin/wget", "-qO-", "http://127.0.0.1:$PORT/"]
    interval = "1s"
    timeout  = "2s"
    retries  = 3
  }
  wait_healthy = true
}

output web_id { value = docker.container.web.id }
EOF
}

config hi no

t_begin "apply creates a healthy httpd serving the uploaded file (checked with the docker CLI)"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "docker.container.web: Creation complete"
WEB=$(ctr "$N-web" '{{.Id}}')
[ -n "$WEB" ] || t_why "no container $N-web"
[ "$(ctr "$N-web" '{{.State.Running}} {{.State.Health.Status}} {{.HostConfig.NetworkMode}}')" = "true healthy host" ] ||
	t_why "$N-web: $(ctr "$N-web" '{{.State.Status}} {{json .State.Health}} {{.HostConfig.NetworkMode}}')"
body=$(dk exec "$N-web" /bin/wget -qO- "http://127.0.0.1:$PORT/" 2>&1)
[ "$body" = "hello from stk" ] || t_why "httpd answered: $body"
grep -q "web_id = \"$WEB\"" "$T_TMP/out" || t_why "output web_id is not $WEB"
t_end

t_begin "env, labels and the stk.token label are on the container"
ctr "$N-web" '{{json .Config.Env}}' | grep -q '"GREETING=hi"' ||
	t_why "env: $(ctr "$N-web" '{{json .Config.Env}}')"
[ "$(ctr "$N-web" '{{index .Config.Labels "team"}}')" = web ] ||
	t_why "labels: $(ctr "$N-web" '{{json .Config.Labels}}')"
ctr "$N-web" '{{index .Config.Labels "stk.token"}}' | grep -q . || t_why "$N-web has no stk.token label"
[ "$(ctr "$N-web" '{{.HostConfig.RestartPolicy.Name}}')" = no ] ||
	t_why "restart: $(ctr "$N-web" '{{.HostConfig.RestartPolicy.Name}}')"
t_end

t_begin "a second plan, refreshing through the API, has no changes; one list call for containers"
T_STATUS=0
(cd "$W" && STK_LOG=info t_timeout 120 "$STK_ABS" plan -detailed-exitcode) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
t_expect_has out "No changes"
n=$(grep -c 'GET http://localhost/v1.41/containers/json?filters=' "$T_TMP/err")
[ "$n" = 1 ] || t_why "$n container list calls, expected 1"
t_end

t_begin "restart changes in place: the same container, its policy updated"
config hi unless-stopped
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "Plan: 0 to add, 1 to change, 0 to destroy"
in_w apply -auto-approve
t_expect_status 0
[ "$(ctr "$N-web" '{{.Id}}')" = "$WEB" ] || t_why "the id changed: $(ctr "$N-web" '{{.Id}}'), was $WEB"
[ "$(ctr "$N-web" '{{.HostConfig.RestartPolicy.Name}}')" = unless-stopped ] ||
	t_why "restart: $(ctr "$N-web" '{{.HostConfig.RestartPolicy.Name}}')"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a forced-new change (env) replaces the container"
config bye unless-stopped
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_match out 'docker\.container\.web.*replaced'
t_expect_has out "forces replacement"
t_expect_has out "Plan: 1 to add, 0 to change, 1 to destroy"
in_w apply -auto-approve
t_expect_status 0
WEB2=$(ctr "$N-web" '{{.Id}}')
[ -n "$WEB2" ] && [ "$WEB2" != "$WEB" ] || t_why "container id $WEB2, expected a new one (was $WEB)"
ctr "$N-web" '{{json .Config.Env}}' | grep -q '"GREETING=bye"' ||
	t_why "env: $(ctr "$N-web" '{{json .Config.Env}}')"
[ "$(ctrs "$N-web")" = 1 ] || t_why "$(ctrs "$N-web") containers named $N-web"
[ "$(dk exec "$N-web" /bin/cat /www/index.html 2>&1)" = "hello from stk" ] || t_why "index.html is not there"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a container removed outside stk is planned for creation again, and made again"
dk rm -f "$N-web" >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_match out 'docker\.container\.web.*(created|create)'
t_expect_has out "Plan: 1 to add, 0 to change, 0 to destroy"
in_w apply -auto-approve
t_expect_status 0
[ "$(ctr "$N-web" '{{.State.Running}} {{.State.Health.Status}}')" = "true healthy" ] ||
	t_why "$N-web: $(ctr "$N-web" '{{.State.Status}}')"
WEB=$(ctr "$N-web" '{{.Id}}')
t_end

t_begin "a container stopped outside stk (must_run) is planned as a change and started again"
dk stop -t 1 "$N-web" >/dev/null
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "must_run"
t_expect_has out "Plan: 0 to add, 1 to change, 0 to destroy"
in_w apply -auto-approve
t_expect_status 0
[ "$(ctr "$N-web" '{{.Id}} {{.State.Running}}')" = "$WEB true" ] ||
	t_why "$N-web: $(ctr "$N-web" '{{.Id}} {{.State.Status}}') (was $WEB)"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a failing health check fails the create with its own output and the container's, kept tainted"
# the check's output says why (redacted: the secret it prints is the sensitive variable's)
cat >>"$W/main.stk" <<EOF

variable db_password {
  default   = "hunter2-in-health"
  sensitive = true
}

resource docker.container bad {
  name         = "$N-bad"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sh", "-c", "echo bad-start-line; echo bad-stderr-line >&2; exec /bin/sleep 600"]
  env          = { DB_PASSWORD = var.db_password }
  healthcheck = {
    test     = ["CMD", "/bin/sh", "-c", "echo db-not-ready-on-5432 with \$DB_PASSWORD; exit 3"]
    interval = "1s"
    retries  = 1
  }
  wait_healthy = true
}
EOF
in_w apply -auto-approve
[ "$T_STATUS" -ne 0 ] || t_why "apply succeeded"
t_expect_has err "docker.container.bad: container"
t_expect_has err "is unhealthy; its last health check exited with code 3:"
t_expect_has err "db-not-ready-on-5432 with (sensitive value)"
t_expect_lacks err "hunter2-in-health"
t_expect_has err "bad-start-line"
t_expect_has err "bad-stderr-line"
BAD=$(ctr "$N-bad" '{{.Id}}')
[ -n "$BAD" ] || t_why "no container $N-bad"
grep -q '"tainted"' "$W/stk.state" || t_why "the state has nothing tainted"
grep -q "$BAD" "$W/stk.state" || t_why "the state does not record $BAD"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_match out 'docker\.container\.bad.*replaced'
t_expect_has out "Plan: 1 to add, 0 to change, 1 to destroy"
t_end

t_begin "without the failing container the next apply removes it"
config hi unless-stopped
# the same env as now ("bye") would leave web alone: restore it
sed -i 's/GREETING = "hi"/GREETING = "bye"/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(ctrs "$N-bad")" = 0 ] || t_why "$N-bad is still there"
[ "$(ctr "$N-web" '{{.Id}}')" = "$WEB" ] || t_why "$N-web was touched"
t_end

t_begin "import adopts a container by ID; the plan then has no changes"
IMP=$(dk run -d --network host --name "$N-imp" --label owner=ops stk-busybox:latest /bin/sleep 600)
cat >>"$W/main.stk" <<EOF

resource docker.container imp {
  name         = "$N-imp"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
  labels       = { owner = "ops" }
}
EOF
in_w import docker.container.imp "$IMP"
t_expect_status 0
grep -q "$IMP" "$W/stk.state" || t_why "the state does not record $IMP"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a container whose create was cut short after it existed is adopted tainted and replaced"
# what a kill -9 between CreateContainer and its uploads leaves: the container, with the
# create's token, never started, and the state's intent for it
TOKEN=0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
CUT=$(dk create --network host --name "$N-cut" --label "stk.token=$TOKEN" stk-busybox:latest /bin/sleep 600)
cat >>"$W/main.stk" <<EOF

resource docker.container cut {
  name         = "$N-cut"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
  upload       = [{ file = "/etc/app.conf", content = "important=1\n" }]
}
EOF
python3 - "$W/stk.state" "$N-cut" "$TOKEN" <<'EOF2'
import json, sys
path, name, token = sys.argv[1:]
st = json.load(open(path))
st["resources"].append({"instances": [{"attributes": {"name": name, "image": "stk-busybox:latest"},
    "dependencies": [], "sensitive_attributes": [], "status": "pending", "token": token}],
    "mode": "managed", "module": "", "name": "cut", "provider": "docker", "type": "docker.container"})
st["resources"].sort(key=lambda r: (r["module"], r["mode"], r["type"], r["name"]))
json.dump(st, open(path, "w"), indent=2)
EOF2
in_w apply -auto-approve
t_expect_status 0
t_expect_has err "docker.container.cut: adopted the object an interrupted apply created, tainted"
[ "$(ctrs "$N-cut")" = 1 ] || t_why "$(ctrs "$N-cut") containers named $N-cut"
[ "$(ctr "$N-cut" '{{.Id}}')" != "$CUT" ] || t_why "the cut-short container was kept, not replaced"
[ "$(dk cp "$N-cut:/etc/app.conf" - 2>/dev/null | tar -xO 2>/dev/null)" = "important=1" ] ||
	t_why "its upload is not there"
[ "$(ctr "$N-cut" '{{.State.Running}}')" = true ] || t_why "$N-cut is not running"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

# pending NAME TOKEN: the state's intent for docker.container.NAME, as an apply stopped
# between recording it and the create's answer leaves it
pending() {
	python3 - "$W/stk.state" "$1" "$2" <<'EOF2'
import json, sys
path, name, token = sys.argv[1:]
st = json.load(open(path))
st["resources"].append({"instances": [{"attributes": {"image": "stk-busybox:latest"},
    "dependencies": [], "sensitive_attributes": [], "status": "pending", "token": token}],
    "mode": "managed", "module": "", "name": name, "provider": "docker", "type": "docker.container"})
st["resources"].sort(key=lambda r: (r["module"], r["mode"], r["type"], r["name"]))
json.dump(st, open(path, "w"), indent=2)
EOF2
}

# sleeper RES NAME [LINE...]: appends docker.container.RES, named NAME, that sleeps on host
# networking; each LINE is one more argument
sleeper() {
	sl_res=$1
	sl_name=$2
	shift 2
	{
		printf '\nresource docker.container %s {\n  name         = "%s"\n' "$sl_res" "$sl_name"
		printf '  image        = "stk-busybox:latest"\n  network_mode = "host"\n'
		printf '  command      = ["/bin/sleep", "600"]\n'
		for sl_line in "$@"; do
			printf '  %s\n' "$sl_line"
		done
		printf '}\n'
	} >>"$W/main.stk"
}

t_begin "a container an interrupted create made after the next run looked for it is replaced, not orphaned"
# A second Ctrl-C cancels a create in flight, and the daemon finishes it after stk is gone:
# the next run's lookup by token can come first and find nothing. Here that container is
# made (by the CLI, with the intent's token) after the lookup, while the run waits for gate
# to be healthy, which it is only once the container exists: late's create then finds the
# name taken. The retry keeps the intent's token, so the container is known as this
# create's: removed and made again. An intent for a resource no longer configured goes.
TOKEN=4c5d6e7f-8091-4a2b-bc3d-4e5f60718293
sleeper gate "$N-gate" 'healthcheck  = { test = ["CMD", "/bin/sh", "-c", "test -e /tmp/go"], interval = "1s", retries = 300 }' \
	"wait_healthy = true"
sleeper late "$N-late" "depends_on   = [docker.container.gate]"
pending late "$TOKEN"
pending ghost 5d6e7f80-91a2-4b3c-8d4e-5f6071829304
T_STATUS=0
(cd "$W" && t_timeout 180 "$STK_ABS" apply -auto-approve) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" &
APPLY=$!
i=0
while [ "$(ctr "$N-gate" '{{.State.Running}}')" != true ] && [ $i -lt 600 ]; do
	i=$((i + 1))
	sleep 0.1
done
ORPHAN=$(dk create --network host --name "$N-late" --label "stk.token=$TOKEN" stk-busybox:latest /bin/sleep 600)
dk exec "$N-gate" /bin/sh -c ": >/tmp/go"
wait $APPLY || T_STATUS=$?
t_expect_status 0
t_expect_has out "docker.container.late: Creation complete"
t_expect_has err "docker.container.late: removed container $(printf %.12s "$ORPHAN"), which an interrupted earlier attempt of this create made"
[ "$(ctrs "$N-late")" = 1 ] || t_why "$(ctrs "$N-late") containers named $N-late"
[ "$(ctr "$N-late" '{{.Id}}')" != "$ORPHAN" ] || t_why "the container the interrupted create made was kept"
[ "$(ctr "$N-late" '{{.State.Running}} {{index .Config.Labels "stk.token"}}')" = "true $TOKEN" ] ||
	t_why "$N-late: $(ctr "$N-late" '{{.State.Status}} {{json .Config.Labels}}')"
grep -q '"pending"' "$W/stk.state" && t_why "an intent is still pending"
grep -q '"ghost"' "$W/stk.state" && t_why "the intent of docker.container.ghost, no longer configured, was kept"
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "a name held by a container this create did not make is left alone: the create fails, naming it"
FOREIGN=$(dk create --network host --name "$N-taken" stk-busybox:latest /bin/sleep 600)
cp "$W/main.stk" "$T_TMP/main.stk.before-taken"
sleeper taken "$N-taken"
in_w apply -auto-approve
t_expect_status 1
t_expect_has err "docker.container.taken: docker CreateContainer: Conflict."
t_expect_has err "was not made by this create"
[ "$(ctr "$N-taken" '{{.Id}}')" = "$FOREIGN" ] || t_why "$N-taken is not the container made outside stk"
cp "$T_TMP/main.stk.before-taken" "$W/main.stk"
dk rm -f "$N-taken" >/dev/null
in_w apply -auto-approve
t_expect_status 0
t_end

t_begin "a container name Docker refuses is refused by validate and plan, before any call, naming the rule"
cp "$W/main.stk" "$T_TMP/main.stk.before-names"
for name in "my app" "" "x" "-x" "/$N-slash"; do
	cp "$T_TMP/main.stk.before-names" "$W/main.stk"
	cat >>"$W/main.stk" <<EOF

resource docker.container badname {
  name    = "$name"
  image   = "stk-busybox:latest"
  command = ["/bin/sleep", "600"]
}
EOF
	T_STATUS=0
	(cd "$W" && STK_LOG=info t_timeout 120 "$STK_ABS" apply -auto-approve) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
	t_expect_status 1
	t_expect_has err "name \"$name\" is refused: a container name is a letter or digit"
	t_expect_has err "[a-zA-Z0-9][a-zA-Z0-9_.-]+"
	grep -q 'containers/create' "$T_TMP/err" && t_why "\"$name\": CreateContainer was called"
	in_w validate
	t_expect_status 1
	t_expect_has err "name \"$name\" is refused"
done
cp "$T_TMP/main.stk.before-names" "$W/main.stk"
t_end

t_begin "raising memory updates the container in place, swap limit with it"
cp "$W/main.stk" "$T_TMP/main.stk.before-mem"
cat >>"$W/main.stk" <<EOF

resource docker.container mem {
  name         = "$N-mem"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
  memory       = 64
}
EOF
in_w apply -auto-approve
t_expect_status 0
MEM=$(ctr "$N-mem" '{{.Id}}')
sed -i 's/memory       = 64/memory       = 256/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "1 changed"
[ "$(ctr "$N-mem" '{{.Id}} {{.HostConfig.Memory}}')" = "$MEM 268435456" ] ||
	t_why "$N-mem: $(ctr "$N-mem" '{{.Id}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}') (was $MEM)"
in_w plan -detailed-exitcode
t_expect_status 0
cp "$T_TMP/main.stk.before-mem" "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_end

t_begin "a container that exits as soon as it starts (must_run) fails the apply with its status"
cp "$W/main.stk" "$T_TMP/main.stk.before-quick"
cat >>"$W/main.stk" <<EOF

resource docker.container quick {
  name         = "$N-quick"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sh", "-c", "echo giving up; exit 3"]
}
EOF
in_w apply -auto-approve
t_expect_status 1
t_expect_has err "docker.container.quick: container"
t_expect_has err "exited at once with code 3 (must_run)"
t_expect_has err "giving up"
cp "$T_TMP/main.stk.before-quick" "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(ctrs "$N-quick")" = 0 ] || t_why "$N-quick is still there"
t_end

t_begin "attach runs a one-shot container to its end: logs kept, rm removes it after, a failing exit fails the apply"
mkdir -p "$T_TMP/job"
cat >"$T_TMP/job/main.stk" <<EOF
resource docker.container migrate {
  name         = "$N-migrate"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sh", "-c", "sleep 1; echo migrated 3 tables; echo warn-on-stderr >&2"]
  attach       = true
  logs         = true
  must_run     = false
}

resource docker.container seed {
  name         = "$N-seed"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sh", "-c", "echo seeded"]
  attach       = true
  logs         = true
  rm           = true
  must_run     = false
}

resource docker.container daemon {
  name         = "$N-daemon"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
  rm           = true
}

output migrate_logs { value = docker.container.migrate.container_logs }
output migrate_code { value = docker.container.migrate.exit_code }
output seed_logs { value = docker.container.seed.container_logs }
EOF
in_job() {
	T_STATUS=0
	(cd "$T_TMP/job" && t_timeout 180 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}
in_job apply -auto-approve
t_expect_status 0
[ "$(ctr "$N-migrate" '{{.State.Status}} {{.State.ExitCode}}')" = "exited 0" ] ||
	t_why "$N-migrate is not exited 0: $(ctr "$N-migrate" '{{.State.Status}} {{.State.ExitCode}}')"
in_job output -raw migrate_logs
# stdout and stderr, each line whole (their order between the two streams is the daemon's)
printf 'migrated 3 tables\nwarn-on-stderr\n' >"$T_TMP/want"
sort "$T_TMP/out" | cmp -s - "$T_TMP/want" || t_why "container_logs is not the job's output: $(cat "$T_TMP/out")"
in_job output -raw seed_logs
[ "$(cat "$T_TMP/out")" = seeded ] || t_why "seed's container_logs: $(cat "$T_TMP/out")"
[ "$(ctrs "$N-seed")" = 0 ] || t_why "rm left $N-seed"
[ "$(ctr "$N-daemon" '{{.HostConfig.AutoRemove}}')" = true ] || t_why "$N-daemon is not AutoRemove"
in_job output migrate_code
t_expect_has out "0"
t_end

t_begin "attach: a job that exits non-zero fails the apply with its output, kept tainted; logs without attach is refused"
cat >"$T_TMP/job/main.stk" <<EOF
resource docker.container migrate {
  name         = "$N-migrate"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sh", "-c", "echo cannot-reach-the-db; exit 3"]
  attach       = true
  must_run     = false
}
EOF
in_job apply -auto-approve
t_expect_status 1
t_expect_has err "exited with code 3 (attach)"
t_expect_has err "cannot-reach-the-db"
grep -q '"tainted"' "$T_TMP/job/stk.state" || t_why "the failed job is not kept tainted"
in_job plan
t_expect_has out "must be replaced"
t_expect_has out "it is tainted"
in_job destroy -auto-approve
t_expect_status 0
cat >"$T_TMP/job/main.stk" <<EOF
resource docker.container bad {
  name         = "$N-bad"
  image        = "stk-busybox:latest"
  network_mode = "host"
  command      = ["/bin/sleep", "600"]
  logs         = true
}
EOF
in_job apply -auto-approve
t_expect_status 1
t_expect_has err "docker.container.bad: docker.container: logs keeps the output of a container stk waits for, and attach is false"
[ "$(ctrs "$N-bad")" = 0 ] || t_why "a container $N-bad was made"
sed -i 's|  logs         = true|  attach       = true|' "$T_TMP/job/main.stk"
in_job apply -auto-approve
t_expect_status 1
t_expect_has err "attach waits for the container to exit, and must_run = true wants it kept running"
t_expect_has err "set must_run = false"
[ "$(ctrs "$N-bad")" = 0 ] || t_why "a container $N-bad was made"
t_end

t_begin "import of an ID that does not exist fails and records nothing"
in_w import docker.container.nope 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
[ "$T_STATUS" -ne 0 ] || t_why "import succeeded"
t_end

t_begin "destroy removes every container (checked with the docker CLI)"
in_w destroy -auto-approve
t_expect_status 0
left=$(dk ps -a --format '{{.Names}}' | grep -c "^$N-")
[ "$left" = 0 ] || t_why "left behind: $(dk ps -a --format '{{.Names}}' | grep "^$N-" | tr '\n' ' ')"
t_end

t_summary
