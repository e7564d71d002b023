#!/bin/sh
# tests/apply.sh: stk apply, destroy and output end to end, with the host provider writing
# real files, checked from outside: the files on disk and the state file itself.
. "$(dirname "$0")/lib.sh"
t_init

W=$T_TMP/work
STK_ABS=$(t_abspath "$STK")

# fresh WORKDIR with main.stk from stdin
workdir() {
	rm -rf "$W"
	mkdir -p "$W"
	cat >"$W/main.stk"
}

# stk in the work directory; its stdout, stderr and status land where t_run puts them
in_w() {
	T_STATUS=0
	(cd "$W" && t_timeout 60 "$STK_ABS" "$@") <"/dev/null" >"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

workdir <<'EOF'
variable greeting { default = "hello" }

resource host.file a {
  filename = "a.txt"
  content  = "${var.greeting} world\n"
}

resource host.file b {
  filename = "b-${substr(host.file.a.id, 0, 8)}.txt"
  content  = upper(host.file.a.content)
}

output a_id { value = host.file.a.id }
output secret {
  value     = "s3cr3t-${host.file.a.id}"
  sensitive = true
}
EOF

t_begin "apply creates dependent objects, the second from the first's real attributes"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "host.file.a: Creation complete after"
t_expect_has out "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
t_expect_has out "secret = (sensitive value)"
t_expect_lacks out "s3cr3t"
[ "$(cat "$W/a.txt" 2>/dev/null)" = "hello world" ] || t_why "a.txt does not hold the content"
ls "$W"/b-*.txt >/dev/null 2>&1 || t_why "b-<id>.txt was not written"
[ "$(cat "$W"/b-*.txt 2>/dev/null)" = "HELLO WORLD" ] || t_why "b's content is not upper(a's)"
t_end

t_begin "the state file is private and records both objects and the outputs"
mode=$(stat -c %a "$W/stk.state" 2>/dev/null)
[ "$mode" = 600 ] || t_why "stk.state has mode $mode, not 600"
grep -q '"type": "host.file"' "$W/stk.state" || t_why "no host.file in the state"
[ "$(grep -c '"filename"' "$W/stk.state")" -eq 2 ] || t_why "the state does not hold two files"
grep -q '"a_id"' "$W/stk.state" || t_why "output a_id not in the state"
[ -f "$W/stk.state.backup" ] || t_why "no stk.state.backup"
T_STATUS=0
t_end

t_begin "a second plan has no changes (exit 0 with -detailed-exitcode)"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "stk output prints a sensitive output only when asked by name"
in_w output
t_expect_status 0
t_expect_has out "secret = (sensitive value)"
t_expect_lacks out "s3cr3t"
in_w output secret
t_expect_has out "s3cr3t-"
in_w output -json
t_expect_lacks out "s3cr3t"
t_end

t_begin "stk output -raw prints a string as it is, and refuses a list"
in_w output -raw a_id
t_expect_status 0
[ "$(cat "$T_TMP/out")" = "$(grep -o '"id": *"[^"]*"' "$W/stk.state" | head -1 | sed 's/.*"\([^"]*\)"$/\1/')" ] ||
	t_why "not the id as the state has it: $(cat "$T_TMP/out")"
[ "$(tail -c 1 "$T_TMP/out" | od -An -c | tr -d ' ')" != '\n' ] || t_why "a newline after it"
t_end

t_begin "a file removed outside stk is planned and applied back"
rm -f "$W/a.txt"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "host.file.a will be created"
in_w apply -auto-approve
t_expect_status 0
[ -f "$W/a.txt" ] || t_why "a.txt was not written again"
t_end

t_begin "a file edited outside stk shows as drift; stk refresh records it, plan -refresh-only then sees none"
echo "edited" >"$W/a.txt"
in_w plan -refresh-only -detailed-exitcode
t_expect_status 2
t_expect_has out "host.file.a changed outside stk"
t_expect_has out '~ content = "hello world\n" -> "edited\n"'
in_w refresh
t_expect_status 0
in_w plan -refresh-only -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes outside stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(cat "$W/a.txt")" = "hello world" ] || t_why "apply did not put the content back"
t_end

t_begin "a changed argument that forces replacement replaces, and the old file goes"
old_b=$(ls "$W"/b-*.txt)
sed -i 's/default = "hello"/default = "bye"/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "host.file.b: Destruction complete"
[ "$(cat "$W/a.txt")" = "bye world" ] || t_why "a.txt was not rewritten"
[ ! -e "$old_b" ] || t_why "the old $old_b is still there"
[ "$(ls "$W"/b-*.txt | wc -l)" -eq 1 ] || t_why "not exactly one b-*.txt"
t_end

t_begin "apply without a terminal and without -auto-approve refuses and changes nothing"
sed -i 's/default = "bye"/default = "again"/' "$W/main.stk"
in_w apply
t_expect_status 1
t_expect_has err "-auto-approve"
[ "$(cat "$W/a.txt")" = "bye world" ] || t_why "a.txt changed although apply refused"
t_end

t_begin "destroy removes every object, dependents first, and empties the state"
in_w destroy -auto-approve
t_expect_status 0
t_expect_has out "Destroy complete! Resources: 2 destroyed."
[ ! -e "$W/a.txt" ] || t_why "a.txt is still there"
ls "$W"/b-*.txt >/dev/null 2>&1 && t_why "a b-*.txt is still there"
grep -q '"host.file"' "$W/stk.state" && t_why "the state still records files"
b_line=$(grep -n "host.file.b: Destruction complete" "$T_TMP/out" | cut -d: -f1)
a_line=$(grep -n "host.file.a: Destroying" "$T_TMP/out" | cut -d: -f1)
[ -n "$b_line" ] && [ -n "$a_line" ] && [ "$b_line" -lt "$a_line" ] ||
	t_why "a was destroyed before b, which depends on it, was gone"
t_end

workdir <<'EOF'
resource host.file ok {
  filename = "ok.txt"
  content  = "fine\n"
}

resource host.file bad {
  filename = "no/such/dir/bad.txt"
  content  = "never\n"
}

resource host.file after_bad {
  filename = "after-${host.file.bad.id}.txt"
  content  = "depends on bad\n"
}

resource host.file after_ok {
  filename = "after-ok.txt"
  content  = host.file.ok.content
}
EOF

t_begin "a failure stops its dependents only; the rest completes; exit 1 with the failure named"
in_w apply -auto-approve
t_expect_status 1
t_expect_has err "host.file.bad: cannot write no/such/dir/bad.txt"
t_expect_has out "Apply failed."
[ -f "$W/ok.txt" ] || t_why "the independent ok.txt was not written"
[ -f "$W/after-ok.txt" ] || t_why "after-ok.txt (depends on ok) was not written"
ls "$W"/after-*.txt | grep -v after-ok >/dev/null 2>&1 && t_why "a dependent of the failure was created"
grep -q '"ok.txt"' "$W/stk.state" || t_why "the state does not record ok.txt"
grep -q 'bad.txt' "$W/stk.state" && t_why "the state records the failed file"
t_end

t_begin "after the failure is fixed, apply completes what is left"
sed -i 's|no/such/dir/bad.txt|bad.txt|' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "2 added, 0 changed, 0 destroyed"
[ -f "$W/bad.txt" ] || t_why "bad.txt was not written"
t_end

workdir <<'EOF'
variable names {
  type    = set(string)
  default = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
}

resource host.file many {
  for_each = var.names
  filename = "many-${each.key}.txt"
  content  = "file ${each.value}\n"
}

resource host.file counted {
  count    = 3
  filename = "counted-${count.index}.txt"
  content  = "${count.index}\n"
}

output names { value = [for f in host.file.many : f.filename] }
EOF

t_begin "for_each and count instances apply in parallel (-parallelism 4)"
in_w apply -auto-approve -parallelism 4
t_expect_status 0
t_expect_has out "15 added"
[ "$(ls "$W"/many-*.txt | wc -l)" -eq 12 ] || t_why "not 12 many-*.txt files"
[ "$(cat "$W/counted-2.txt")" = 2 ] || t_why "counted-2.txt is wrong"
t_end

t_begin "stk output -raw refuses a list, and says how to print it"
in_w output -raw names
t_expect_status 1
t_expect_empty out
t_expect_has err "output names is a list: -raw prints only a string, a number or a bool"
t_expect_has err "print it without -raw, or with -json"
t_end

t_begin "removing a for_each key destroys just that instance"
sed -i 's/"k", "l"\]/"k"]/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 0 changed, 1 destroyed"
[ ! -e "$W/many-l.txt" ] || t_why "many-l.txt is still there"
t_end

t_begin "state mv across a count key renames the instance, and the plan follows the new address"
in_w state mv 'host.file.counted[2]' 'host.file.counted[5]'
t_expect_status 0
t_expect_has out "Moved host.file.counted[2] to host.file.counted[5]"
in_w state list
t_expect_has out 'host.file.counted[5]'
t_expect_lacks out 'host.file.counted[2]'
in_w plan
t_expect_has out "host.file.counted[2] will be created"
t_expect_has out "host.file.counted[5] will be destroyed"
t_end

t_begin "state rm and mv that fail say nothing was removed or moved, and write nothing"
cp "$W/stk.state" "$T_TMP/state-before"
in_w state rm 'host.file.counted[5]' 'host.file.nope'
t_expect_status 1
t_expect_has err "no instance host.file.nope in the state"
t_expect_lacks out "Removed"
cmp -s "$W/stk.state" "$T_TMP/state-before" || t_why "state rm wrote the state"
mkdir "$W/stk.state.backup.tmp-dir" && rm -f "$W/stk.state.backup" &&
	mv "$W/stk.state.backup.tmp-dir" "$W/stk.state.backup"
in_w state mv 'host.file.counted[5]' 'host.file.counted[7]'
t_expect_status 1
t_expect_has err "cannot keep a backup"
t_expect_lacks out "Moved"
cmp -s "$W/stk.state" "$T_TMP/state-before" || t_why "state mv wrote the state"
rmdir "$W/stk.state.backup"
t_end

t_begin "state rm forgets an object and leaves it in place"
# a state others could read (as after cp or a checkout): neither it nor its backup stays so
chmod 644 "$W/stk.state"
in_w state rm 'host.file.counted[5]'
[ "$(stat -c %a "$W/stk.state")" = 600 ] || t_why "the state is not 0600"
[ "$(stat -c %a "$W/stk.state.backup")" = 600 ] || t_why "the backup is not 0600"
t_expect_status 0
t_expect_has out "Removed host.file.counted[5] (the object itself is untouched)"
[ -f "$W/counted-2.txt" ] || t_why "state rm deleted the file"
in_w state show 'host.file.counted[5]'
t_expect_status 1
t_expect_has err "no instance host.file.counted[5] in the state"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "host.file.counted[2] will be created"
t_expect_lacks out "destroyed"
t_end

workdir <<'EOF'
variable secret {
  sensitive = true
  default   = "hunter2"
}

resource host.file cred {
  filename = "cred.txt"
  content  = var.secret
}
EOF

t_begin "a sensitive value stays sensitive in the state, so later plans never show it"
in_w apply -auto-approve
t_expect_status 0
t_expect_lacks out "hunter2"
grep -q '"content"' "$W/stk.state" && grep -A3 sensitive_attributes "$W/stk.state" | grep -q content ||
	t_why "the state does not mark content sensitive"
in_w plan -var secret=n3wS3cret
t_expect_status 0
t_expect_lacks out "hunter2"
t_expect_lacks out "n3wS3cret"
in_w plan -var secret=n3wS3cret -json
t_expect_lacks out "hunter2"
t_end

workdir <<'EOF'
variable word { default = "one" }

resource host.file w {
  filename = "w.txt"
  content  = var.word
}
EOF

t_begin "a saved plan applies exactly what it showed, with the variables it was made with"
in_w plan -out saved.plan -var word=two
t_expect_status 0
t_expect_has out "stk apply saved.plan"
mode=$(stat -c %a "$W/saved.plan" 2>/dev/null)
[ "$mode" = 600 ] || t_why "saved.plan has mode $mode, not 600"
in_w apply saved.plan
t_expect_status 0
[ "$(cat "$W/w.txt" 2>/dev/null)" = two ] || t_why "w.txt does not hold the planned value"
t_end

t_begin "a saved plan is refused once the state has moved on"
in_w apply saved.plan
t_expect_status 1
t_expect_has err "the state changed since this plan was made"
t_end

t_begin "a saved plan is refused when the configuration changed"
in_w plan -out again.plan -var word=three
printf 'output o { value = 1 }\n' >>"$W/main.stk"
in_w apply again.plan
t_expect_status 1
t_expect_has err "the configuration changed since this plan was made"
[ "$(cat "$W/w.txt")" = two ] || t_why "w.txt changed although the plan was refused"
t_end

t_begin "on a terminal one status line is redrawn under whole log lines; in a pipe, plain lines only"
workdir <<'EOF'
resource host.file f {
  count    = 3
  filename = "f${count.index}.txt"
  content  = "${count.index}\n"
}
EOF
in_w apply -auto-approve
t_expect_status 0
! grep -q "$(printf '\r')" "$T_TMP/out" || t_why "a pipe got carriage returns"
! grep -q "in flight" "$T_TMP/out" || t_why "a pipe got the status line"
in_w destroy -auto-approve
if command -v script >/dev/null 2>&1; then
	(cd "$W" && TERM=xterm t_timeout 60 script -qec "$STK_ABS apply -auto-approve" /dev/null) </dev/null \
		>"$T_TMP/tty" 2>&1
	grep -q "\[[0-9]* done, [0-9]* in flight, [0-9]* left, [0-9]*s\]" "$T_TMP/tty" ||
		t_why "no status line on the terminal: $(cat -v "$T_TMP/tty" | head -5)"
	# wiping each status line leaves exactly the lines a pipe gets, whole
	tr -d '\r' <"$T_TMP/tty" | sed 's/\x1b\[K\(\x1b\[2m\)\{0,1\}\[[0-9]* done, [^]]*\]\(\x1b\[0m\)\{0,1\}//g; s/\x1b\[K//g' |
		grep -v '^$' >"$T_TMP/tty.lines"
	for i in 0 1 2; do
		grep -q "^host.file.f\[$i\]: Creation complete after [0-9]*s \[id=" "$T_TMP/tty.lines" ||
			t_why "host.file.f[$i]'s line is not whole on the terminal: $(cat -v "$T_TMP/tty.lines")"
	done
	grep -q "^Apply complete! Resources: 3 added" "$T_TMP/tty.lines" || t_why "no summary on the terminal"
	! grep -q "in flight" "$T_TMP/tty.lines" || t_why "a status line was left in the log"
fi
t_end

# sealing encrypt|decrypt: stk state SUB in $W with the passphrase
sealing() {
	T_STATUS=0
	(cd "$W" && STK_STATE_PASSPHRASE=open-sesame t_timeout 60 "$STK_ABS" state "$1") </dev/null \
		>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
}

# the header's KDF id (byte 7: 1 PBKDF2, 2 scrypt) and its parameters (bytes 8 to 11, in hex)
kdf_of() { od -An -tu1 -j7 -N1 "$1" | tr -d ' \n'; }
params_of() { od -An -tx1 -j8 -N4 "$1" | tr -d ' \n'; }

t_begin "with a passphrase the state and saved plans are sealed; without it they are refused"
workdir <<'EOF'
variable word {
  type      = string
  sensitive = true
  default   = "plain-words-here"
}

resource host.file w {
  filename = "w.txt"
  content  = var.word
}
EOF
T_STATUS=0
(cd "$W" && STK_STATE_PASSPHRASE=open-sesame t_timeout 60 "$STK_ABS" apply -auto-approve) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
[ "$(head -c 6 "$W/stk.state")" = STKENC ] || t_why "the state is not sealed"
grep -q "plain-words-here" "$W/stk.state" && t_why "the sensitive value is readable in the state"
# STK_STATE_PASSPHRASE without an encryption block: PBKDF2, 600000 iterations
[ "$(kdf_of "$W/stk.state")/$(params_of "$W/stk.state")" = 1/000927c0 ] ||
	t_why "not sealed with PBKDF2: KDF $(kdf_of "$W/stk.state"), $(params_of "$W/stk.state")"
sed -i 's/plain-words-here/other-words-here/' "$W/main.stk"
T_STATUS=0
(cd "$W" && STK_STATE_PASSPHRASE=open-sesame t_timeout 60 "$STK_ABS" plan -out sealed.plan) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
[ "$(head -c 6 "$W/sealed.plan")" = STKENC ] || t_why "the saved plan is not sealed"
grep -q "other-words-here" "$W/sealed.plan" && t_why "the variable is readable in the saved plan"
in_w apply sealed.plan
t_expect_status 1
t_expect_has err "the saved plan sealed.plan is encrypted, and no passphrase was given"
in_w plan
t_expect_status 1
t_expect_has err "the state file stk.state is encrypted, and no passphrase was given"
T_STATUS=0
(cd "$W" && STK_STATE_PASSPHRASE=open-sesame t_timeout 60 "$STK_ABS" apply sealed.plan) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
[ "$(cat "$W/w.txt")" = other-words-here ] || t_why "the sealed plan was not applied"
sealing decrypt
t_expect_status 0
[ "$(head -c 1 "$W/stk.state")" = "{" ] || t_why "state decrypt left it sealed"
# again: a state already in clear is left alone (no new serial, the backup kept)
cp "$W/stk.state" "$T_TMP/clear.state"
cp "$W/stk.state.backup" "$T_TMP/clear.backup"
sealing decrypt
t_expect_status 0
t_expect_has out "The state stk.state is already in clear; nothing was written."
cmp -s "$W/stk.state" "$T_TMP/clear.state" || t_why "state decrypt rewrote a state in clear"
cmp -s "$W/stk.state.backup" "$T_TMP/clear.backup" || t_why "state decrypt replaced the backup"
in_w plan -detailed-exitcode
t_expect_status 0
sealing encrypt
t_expect_status 0
# the state in clear it replaced is kept as the backup, sealed: no secret stays readable
[ "$(head -c 6 "$W/stk.state.backup")" = STKENC ] || t_why "the backup kept the state in clear"
grep -q "other-words-here" "$W/stk.state.backup" && t_why "the sensitive value is readable in the backup"
cp "$W/stk.state" "$T_TMP/sealed.state"
sealing encrypt
t_expect_status 0
t_expect_has out "The state stk.state is already encrypted; nothing was written."
cmp -s "$W/stk.state" "$T_TMP/sealed.state" || t_why "state encrypt rewrote an encrypted state"
t_end

# kdf = "scrypt" seals every write (state, backup, saved plan) with scrypt, and changing kdf
# takes effect at the next write; a state opens whatever kdf says now, as its header says.
t_begin 'kdf = "scrypt" seals the state and saved plans with scrypt; kdf = "pbkdf2" the next write with PBKDF2'
workdir <<'EOF'
stack "demo" {
  encryption {
    passphrase = "scrypt-pass-phrase"
    kdf        = "scrypt"
  }
}

resource host.file s {
  filename = "s.txt"
  content  = "first-words"
}
EOF
in_w apply -auto-approve
t_expect_status 0
[ "$(kdf_of "$W/stk.state")" = 2 ] || t_why "the state's KDF is $(kdf_of "$W/stk.state"), not 2 (scrypt)"
[ "$(params_of "$W/stk.state")" = 10080200 ] ||
	t_why "the scrypt cost is $(params_of "$W/stk.state"), not log2(N) 16, r 8, p 2 (10080200)"
grep -q "first-words" "$W/stk.state" && t_why "the content is readable in the scrypt state"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
# opened without stk, as docs/state.md says: hashlib.scrypt, HKDF-SHA256, AES-256-GCM
if python3 -c 'import cryptography' 2>/dev/null; then
	python3 - "$W/stk.state" scrypt-pass-phrase >"$T_TMP/py.out" 2>&1 <<'PY' ||
import hashlib, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

d = open(sys.argv[1], "rb").read()
assert d[:6] == b"STKENC" and d[6] == 2 and d[7] == 2, d[:12]
n, r, p = 1 << d[8], d[9], d[10]
master = hashlib.scrypt(sys.argv[2].encode(), salt=d[13:29], n=n, r=r, p=p,
                        maxmem=128 * r * (n + p + 2), dklen=32)
key = HKDF(algorithm=hashes.SHA256(), length=32, salt=d[30:46], info=b"stk state v2").derive(master)
sys.stdout.write(AESGCM(key).decrypt(d[47:59], d[59:], d[:59]).decode())
PY
		t_why "Python does not open the scrypt state: $(tail -3 "$T_TMP/py.out")"
	grep -q '"first-words"' "$T_TMP/py.out" ||
		t_why "Python's plaintext lacks the content: $(head -c 300 "$T_TMP/py.out")"
else
	echo "  (no Python cryptography package: the scrypt state was not opened by hand)" >&2
fi
# a saved plan is sealed with scrypt too, and applies
sed -i 's/first-words/second-words/' "$W/main.stk"
in_w plan -out s.plan
t_expect_status 0
[ "$(kdf_of "$W/s.plan")" = 2 ] || t_why "the saved plan's KDF is $(kdf_of "$W/s.plan"), not 2"
in_w apply s.plan
t_expect_status 0
[ "$(cat "$W/s.txt")" = second-words ] || t_why "the scrypt-sealed plan was not applied"
[ "$(kdf_of "$W/stk.state.backup")" = 2 ] || t_why "the backup's KDF is $(kdf_of "$W/stk.state.backup")"
# kdf = "pbkdf2": the state sealed with scrypt opens, and the next write is PBKDF2's
sed -i -e 's/"scrypt"/"pbkdf2"/' -e 's/second-words/third-words/' "$W/main.stk"
in_w apply -auto-approve
t_expect_status 0
[ "$(cat "$W/s.txt")" = third-words ] || t_why "kdf = pbkdf2: the change was not applied"
[ "$(kdf_of "$W/stk.state")/$(params_of "$W/stk.state")" = 1/000927c0 ] ||
	t_why "kdf = pbkdf2 wrote KDF $(kdf_of "$W/stk.state"), $(params_of "$W/stk.state")"
in_w plan -detailed-exitcode
t_expect_status 0
# back to scrypt: stk state encrypt seals the PBKDF2 state with scrypt at once
sed -i 's/"pbkdf2"/"scrypt"/' "$W/main.stk"
in_w state encrypt
t_expect_status 0
t_expect_has out "The state stk.state is now encrypted with scrypt (it was with PBKDF2-HMAC-SHA256)."
[ "$(kdf_of "$W/stk.state")" = 2 ] || t_why "state encrypt left KDF $(kdf_of "$W/stk.state")"
[ "$(kdf_of "$W/stk.state.backup")" = 1 ] || t_why "the backup is not the PBKDF2 state it replaced"
cp "$W/stk.state" "$T_TMP/scrypt.state"
in_w state encrypt
t_expect_status 0
t_expect_has out "The state stk.state is already encrypted; nothing was written."
cmp -s "$W/stk.state" "$T_TMP/scrypt.state" || t_why "state encrypt rewrote a state sealed as configured"
in_w state list
t_expect_status 0
t_expect_has out "host.file.s"
# a kdf stk does not know is refused before the state is read, by state commands too
sed -i 's/"scrypt"/"argon2"/' "$W/main.stk"
in_w state list
t_expect_status 1
t_expect_has err 'main.stk:4:18: error: kdf is "pbkdf2" or "scrypt"'
t_expect_has err 'hint: write the name itself'
# kdf with the passphrase from STK_STATE_PASSPHRASE
workdir <<'EOF'
stack "demo" {
  encryption {
    kdf = "scrypt"
  }
}

resource host.file e {
  filename = "e.txt"
  content  = "env"
}
EOF
T_STATUS=0
(cd "$W" && STK_STATE_PASSPHRASE=open-sesame t_timeout 60 "$STK_ABS" apply -auto-approve) </dev/null \
	>"$T_TMP/out" 2>"$T_TMP/err" || T_STATUS=$?
t_expect_status 0
[ "$(kdf_of "$W/stk.state")" = 2 ] ||
	t_why "STK_STATE_PASSPHRASE with kdf = scrypt wrote KDF $(kdf_of "$W/stk.state")"
t_end

t_begin "import refuses an instance key the configuration does not declare, naming the ones it does"
workdir <<'EOF'
resource host.file single {
  filename = "single.txt"
  content  = "S\n"
}
resource host.file c {
  count    = 2
  filename = "c${count.index}.txt"
  content  = "C\n"
}
resource host.file f {
  for_each = toset(["x"])
  filename = "f-${each.key}.txt"
  content  = "F\n"
}
EOF
printf 'precious\n' >"$W/precious.txt"
in_w import 'host.file.c[5]' precious.txt
t_expect_status 1
t_expect_has err 'host.file.c[5] is not declared: host.file.c has count = 2, so its instances are host.file.c[0] to host.file.c[1]'
in_w import host.file.c precious.txt
t_expect_status 1
t_expect_has err 'import into one instance, such as host.file.c[0]'
in_w import 'host.file.single[0]' precious.txt
t_expect_status 1
t_expect_has err 'host.file.single has neither count nor for_each'
in_w import 'host.file.f["typo"]' precious.txt
t_expect_status 1
t_expect_has err 'the instances of host.file.f (for_each) are host.file.f["x"]'
[ -f "$W/stk.state" ] && t_why "a refused import wrote a state: $(cat "$W/stk.state")"
in_w import 'host.file.c[1]' precious.txt
t_expect_status 0
in_w state list
t_expect_has out 'host.file.c[1]'
[ "$(cat "$W/precious.txt")" = precious ] || t_why "the imported file changed"
t_end

t_begin "import blocks: a file is adopted from a saved plan, then changed in place of nothing; the next plan is empty"
workdir <<'EOF'
locals {
  names = ["kept", "other"]
}

import {
  to = host.file.kept["a"]
  id = "${local.names[0]}.txt"
}

import {
  to = host.file.other
  id = "other.txt"
}

resource host.file kept {
  for_each = toset(["a"])
  filename = "kept.txt"
  content  = "kept\n"
}

resource host.file other {
  filename = "other.txt"
  content  = "new\n"
}
EOF
printf 'kept\n' >"$W/kept.txt"
printf 'old\n' >"$W/other.txt"
in_w plan -out imports.plan -detailed-exitcode
t_expect_status 2
t_expect_has out '# host.file.kept["a"] will be imported'
t_expect_has out '# (imported from "other.txt")'
t_expect_has out 'Plan: 2 to import, 1 to add, 0 to change, 1 to destroy.'
[ -f "$W/stk.state" ] && t_why "plan wrote a state"
in_w apply imports.plan
t_expect_status 0
t_expect_has out 'host.file.kept["a"]: Import complete [id=kept.txt]'
t_expect_has out 'Apply complete! Resources: 2 imported, 1 added, 0 changed, 1 destroyed.'
[ "$(cat "$W/kept.txt")" = kept ] || t_why "the imported file changed"
[ "$(cat "$W/other.txt")" = new ] || t_why "other.txt was not replaced with the configuration's content"
in_w state list
t_expect_has out 'host.file.kept["a"]'
t_expect_has out 'host.file.other'
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out 'No changes.'
t_end

t_begin "an import block is refused when its object is not there, and when the state moved since the plan"
in_w state rm host.file.other
t_expect_status 0
rm "$W/other.txt"
in_w apply -auto-approve
t_expect_status 1
t_expect_has err 'there is no host.file other.txt to import into host.file.other'
printf 'old\n' >"$W/other.txt"
in_w plan -out again.plan
t_expect_status 0
in_w import host.file.other other.txt
t_expect_status 0
in_w apply again.plan
t_expect_status 1
t_expect_has err 'the state changed since this plan was made'
[ "$(cat "$W/other.txt")" = old ] || t_why "a refused saved plan changed other.txt"
t_end

t_begin "an import block with for_each adopts one file per element"
workdir <<'EOF'
locals {
  files = { x = "x.txt", y = "y.txt" }
}

import {
  for_each = local.files
  to       = host.file.f[each.key]
  id       = each.value
}

resource host.file f {
  for_each = local.files
  filename = each.value
  content  = "${each.key}\n"
}
EOF
printf 'x\n' >"$W/x.txt"
printf 'y\n' >"$W/y.txt"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out 'Apply complete! Resources: 2 imported, 0 added, 0 changed, 0 destroyed.'
in_w state list
t_expect_has out 'host.file.f["x"]'
t_expect_has out 'host.file.f["y"]'
in_w plan -detailed-exitcode
t_expect_status 0
t_end

t_begin "import blocks and stk import into a module's resources record them under the module's address"
workdir <<'EOF'
module m {
  source = "./mod"
  name   = "m"
}

module k {
  source   = "./mod"
  for_each = toset(["a", "b"])
  name     = "k-${each.key}"
}

import {
  to = module.m.host.file.a
  id = "m-a.txt"
}

import {
  for_each = toset(["a"])
  to       = module.k[each.key].host.file.a
  id       = "k-${each.key}-a.txt"
}
EOF
mkdir "$W/mod"
cat >"$W/mod/main.stk" <<'EOF'
variable name { type = string }

resource host.file a {
  filename = "${var.name}-a.txt"
  content  = "a of ${var.name}\n"
}

resource host.file b {
  filename = "${var.name}-b.txt"
  content  = "b of ${var.name}\n"
}
EOF
printf 'a of m\n' >"$W/m-a.txt"
printf 'old\n' >"$W/k-a-a.txt"
printf 'b of m\n' >"$W/m-b.txt"
# an address the configuration does not declare is refused, and no state is written
in_w import 'module.k["c"].host.file.b' m-b.txt
t_expect_status 1
t_expect_has err 'module.k["c"].host.file.b is not declared: the configuration makes no module instance module.k["c"]'
t_expect_has err 'hint: import into a resource of an instance it makes: module.k["a"], module.k["b"]'
in_w import module.m.host.file.c m-b.txt
t_expect_status 1
t_expect_has err 'module.m.host.file.c is not declared in the configuration'
[ -f "$W/stk.state" ] && t_why "a refused import wrote a state: $(cat "$W/stk.state")"
in_w import module.m.host.file.b m-b.txt
t_expect_status 0
t_expect_has out 'Imported m-b.txt as module.m.host.file.b.'
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out '# module.m.host.file.a will be imported'
t_expect_has out '# module.k["a"].host.file.a must be replaced'
t_expect_has out '# (imported from "k-a-a.txt")'
t_expect_has out 'Plan: 2 to import, 4 to add, 0 to change, 1 to destroy.'
in_w apply -auto-approve
t_expect_status 0
t_expect_has out 'module.m.host.file.a: Import complete [id=m-a.txt]'
t_expect_has out 'Apply complete! Resources: 2 imported, 4 added, 0 changed, 1 destroyed.'
[ "$(cat "$W/m-a.txt")" = "a of m" ] || t_why "the imported file changed"
[ "$(cat "$W/k-a-a.txt")" = "a of k-a" ] || t_why "k-a-a.txt was not replaced with the configuration's content"
in_w state list
t_expect_has out 'module.m.host.file.a'
t_expect_has out 'module.m.host.file.b'
t_expect_has out 'module.k["a"].host.file.a'
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out 'No changes.'
in_w import module.m.host.file.a m-a.txt
t_expect_status 1
t_expect_has err 'module.m.host.file.a is already in the state'
t_end

t_begin "-target keeps only the targeted imports, and counts only those"
workdir <<'EOF'
import {
  to = host.file.a
  id = "a.txt"
}

import {
  to = host.file.b
  id = "b.txt"
}

resource host.file a {
  filename = "a.txt"
  content  = "a\n"
}

resource host.file b {
  filename = "b.txt"
  content  = "b\n"
}
EOF
printf 'a\n' >"$W/a.txt"
printf 'b\n' >"$W/b.txt"
in_w plan -target=host.file.a -detailed-exitcode
t_expect_status 2
t_expect_has out '# host.file.a will be imported'
t_expect_lacks out 'host.file.b'
t_expect_has out 'Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.'
in_w apply -auto-approve -target=host.file.a
t_expect_status 0
t_expect_has out 'Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.'
in_w state list
t_expect_has out 'host.file.a'
t_expect_lacks out 'host.file.b'
t_end

t_begin "plan -generate-config-out writes the block of a file an import adopts; a saved plan applies it; the next plan is empty"
workdir <<'EOF'
variable adopt { default = "notes.txt" }

import {
  to = host.file.notes
  id = var.adopt
}
EOF
printf 'line "one"\n${not_a_reference} %%{ nor a directive }\n' >"$W/notes.txt"
chmod 0640 "$W/notes.txt"
# a variables file is no configuration file: the saved plan's digest leaves it out, as ever
echo 'adopt = "notes.txt"' >"$W/stk.stkvars"
in_w plan -generate-config-out=generated.stk -out gen.plan -detailed-exitcode
t_expect_status 2
t_expect_has out '# host.file.notes will be imported'
t_expect_has out 'Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.'
t_expect_has err 'stk wrote configuration for the imports to generated.stk'
[ "$(sed -n 4,9p "$W/generated.stk")" = '# __generated__ by stk from "notes.txt"
resource host.file notes {
  filename        = "notes.txt"
  content         = "line \"one\"\n$${not_a_reference} %%{ nor a directive }\n"
  file_permission = "0640"
}' ] || t_why "the generated block is not as expected: $(cat "$W/generated.stk")"
in_w apply gen.plan
t_expect_status 0
t_expect_has out 'host.file.notes: Import complete [id=notes.txt]'
t_expect_has out 'Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.'
[ "$(stat -c %a "$W/notes.txt")" = 640 ] || t_why "the imported file's mode changed"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out 'No changes.'
# the mode is read from the file: a chmod outside stk is drift, planned back
chmod 0600 "$W/notes.txt"
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out '~ file_permission = "0600" -> "0640" # forces replacement'
chmod 0640 "$W/notes.txt"
# the file is never overwritten, even when nothing is left to generate
in_w plan -generate-config-out=generated.stk
t_expect_status 1
t_expect_has err 'generated.stk already exists, and -generate-config-out writes a new file'
# the state holds the object, and the block went: an error, never a plan to destroy it
mv "$W/generated.stk" "$T_TMP/generated.stk.away"
in_w plan -generate-config-out=again.stk
t_expect_status 1
t_expect_has err 'main.stk:4:8: error: host.file.notes is in the state already, and the configuration does not declare it'
t_expect_lacks out 'destroy'
[ -e "$W/again.stk" ] && t_why "a refused plan wrote again.stk"
t_end

t_begin "plan -generate-config-out writes only into the configuration's directory, where the next plan reads it; from another directory too"
# (an absolute file name: a host.file's is relative to where stk runs)
workdir <<EOF
import {
  to = host.file.kept
  id = "$W/kept.txt"
}
EOF
printf 'kept\n' >"$W/kept.txt"
mkdir -p "$W/sub"
for bad in sub/gen.stk .gen.stk "$T_TMP/gen.stk" ../gen.stk; do
	in_w plan -generate-config-out="$bad"
	t_expect_status 1
	t_expect_has err "-generate-config-out must name a new .stk file in the configuration's directory ., not $bad"
done
t_stk_in "$T_TMP" plan work -generate-config-out=work/gen.stk -out gen.plan
t_expect_status 0
t_expect_has out 'Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.'
t_stk_in "$T_TMP" apply gen.plan
t_expect_status 0
t_expect_has out "host.file.kept: Import complete [id=$W/kept.txt]"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out 'No changes.'
t_end

t_begin "plan -generate-config-out refuses what it cannot write a block for, and writes nothing then"
workdir <<'EOF'
import {
  for_each = toset(["a.txt"])
  to       = host.file.many[each.key]
  id       = each.value
}

import {
  to = host.file.one[0]
  id = "b.txt"
}

import {
  to = host.fil.typo
  id = "c.txt"
}

import {
  to = module.m.host.file.x
  id = "d.txt"
}

module m {
  source = "./mod"
}
EOF
mkdir "$W/mod"
echo 'resource host.file y {
  filename = "y.txt"
  content  = "y"
}' >"$W/mod/main.stk"
in_w plan -generate-config-out=gen.stk
t_expect_status 1
t_expect_has err 'main.stk:3:14: error: stk writes a block only for an import to one resource, with no instance key and no for_each'
t_expect_has err 'main.stk:8:8: error: stk writes a block only for an import to one resource'
t_expect_has err 'main.stk:13:8: error: stk knows no resource type host.fil to write a block for'
t_expect_has err 'main.stk:18:8: error: module.m.host.file.x is not declared: module.m declares no resource host.file.x'
[ -e "$W/gen.stk" ] && t_why "a refused plan wrote the file"
in_w plan -generate-config-out=gen.tf
t_expect_status 1
t_expect_has err "takes a file name ending in .stk"
in_w plan -destroy -generate-config-out=gen.stk
t_expect_status 1
t_expect_has err '-generate-config-out cannot be used with -destroy'
in_w apply -generate-config-out=gen.stk
t_expect_status 1
t_expect_has err "-generate-config-out is stk plan's"
t_end

t_begin "a saved plan is refused when a file the configuration reads now gives other values"
workdir <<'EOF'
resource host.file a {
  filename = "a.txt"
  content  = file("input.txt")
}
output content { value = host.file.a.content }
EOF
printf 'reviewed\n' >"$W/input.txt"
in_w plan -out p.plan
t_expect_status 0
printf 'NOT REVIEWED\n' >"$W/input.txt"
in_w apply p.plan
t_expect_status 1
t_expect_has err "the saved plan no longer matches: host.file.a would now create with other values than the plan showed"
[ -e "$W/a.txt" ] && t_why "the unreviewed content was written: $(cat "$W/a.txt")"
printf 'reviewed\n' >"$W/input.txt"
in_w apply p.plan
t_expect_status 0
[ "$(cat "$W/a.txt")" = reviewed ] || t_why "the reviewed plan was not applied"
t_end

t_begin "a saved plan takes no flag that shapes a plan, and destroy takes none"
printf 'again\n' >"$W/input.txt"
in_w plan -out p2.plan
for flag in "-target=host.file.a" -destroy "-var=x=1" -refresh=false -replace=host.file.a; do
	in_w apply p2.plan "$flag"
	t_expect_status 1
	t_expect_has err "${flag%%=*} cannot be used with a saved plan"
done
in_w destroy p2.plan
t_expect_status 1
t_expect_has err "destroy takes a directory, not a saved plan"
[ "$(cat "$W/a.txt")" = reviewed ] || t_why "a refused apply changed a.txt"
t_end

t_begin "a saved plan names its directory when it is applied from elsewhere, and its format version"
mkdir -p "$T_TMP/other/stack"
printf 'resource host.file o {\n  filename = "o.txt"\n  content  = "o"\n}\n' >"$T_TMP/other/stack/main.stk"
# made from above the directory, so the plan names it as stack
(cd "$T_TMP/other" && t_timeout 60 "$STK_ABS" plan stack -out p3.plan) </dev/null >/dev/null 2>&1
T_STATUS=0
(cd "$T_TMP/other/stack" && t_timeout 60 "$STK_ABS" apply ../p3.plan) </dev/null >"$T_TMP/out" 2>"$T_TMP/err" ||
	T_STATUS=$?
t_expect_status 1
t_expect_has err "the saved plan ../p3.plan is for the configuration in stack, and there is no such directory here"
t_expect_has err "run stk apply from the directory stk plan ran in"
sed -i 's/"version": [0-9]*/"version": 99/' "$W/p2.plan"
in_w apply p2.plan
t_expect_status 1
t_expect_has err "p2.plan is a saved plan of format version 99"
t_expect_has err "made by a newer stk"
# another state under the same serial: named by its lineage, not as "serial 3, now 3"
in_w plan -out p4.plan
cp "$W/stk.state" "$T_TMP/state.keep"
sed -i 's/"lineage": "[^"]*"/"lineage": "11111111-2222-3333-4444-555555555555"/' "$W/stk.state"
in_w apply p4.plan
t_expect_status 1
t_expect_has err "the state is not the one this plan was made with (lineage"
t_expect_has err "now 11111111-2222-3333-4444-555555555555)"
cp "$T_TMP/state.keep" "$W/stk.state"
t_end

t_begin "stk refresh records the outputs the refreshed objects give"
printf 'drifted\n' >"$W/a.txt"
in_w refresh
t_expect_status 0
in_w output -raw content
t_expect_status 0
[ "$(cat "$T_TMP/out")" = drifted ] || t_why "the output is still $(cat "$T_TMP/out")"
t_end

t_begin "-refresh-only, stk refresh and output refuse flags they cannot honour; refresh -help is refresh's"
for flag in -out=x.plan -json -destroy -refresh=false -target=host.file.a; do
	in_w plan -refresh-only "$flag"
	t_expect_status 1
	t_expect_has err "-refresh-only cannot be used with ${flag%%=*}"
done
[ -e "$W/x.plan" ] && t_why "a refresh-only plan was saved"
in_w refresh -out=x.plan
t_expect_status 1
t_expect_has err "cannot be used with -out"
in_w refresh -help
t_expect_status 0
t_expect_has out "Usage: stk refresh"
in_w output -json -raw content
t_expect_status 1
t_expect_has err "-json and -raw are two different outputs"
t_end

t_begin "destroy removes the outputs with the objects, and plan -destroy then has nothing to do"
in_w destroy -auto-approve
t_expect_status 0
grep -q '"content"' "$W/stk.state" && t_why "the state still records the output"
in_w output content
t_expect_status 1
in_w plan -destroy -detailed-exitcode
t_expect_status 0
t_end

# module calls with count and for_each: each instance's files under its own address
workdir <<'EOF'
variable copies { default = 2 }

module copy {
  source = "./modules/note"
  count  = var.copies
  name   = "copy-${count.index}"
}

module per {
  source   = "./modules/note"
  for_each = { a = "alpha", b = "beta" }
  name     = "per-${each.key}"
  text     = each.value
}

output copy_names { value = module.copy[*].filename }
output per_b { value = module.per["b"].filename }
EOF
mkdir -p "$W/modules/note"
cat >"$W/modules/note/main.stk" <<'EOF'
variable name { type = string }
variable text { default = "note" }

resource host.file this {
  filename = "${var.name}.txt"
  content  = "${var.text}\n"
}

output filename { value = host.file.this.filename }
EOF

t_begin "module calls with count and for_each apply one instance of the module per index and key"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out 'module.copy[1].host.file.this: Creation complete after'
t_expect_has out 'module.per["b"].host.file.this: Creation complete after'
t_expect_has out "Apply complete! Resources: 4 added, 0 changed, 0 destroyed."
t_expect_has out 'copy_names = ['
t_expect_has out '"copy-1.txt"'
t_expect_has out '"per-b.txt"'
for f in copy-0 copy-1 per-a per-b; do
	[ -f "$W/$f.txt" ] || t_why "$f.txt was not written"
done
[ "$(cat "$W/per-a.txt" 2>/dev/null)" = alpha ] || t_why "per-a.txt does not hold each.value"
grep -q '"module": "module.copy\[1\]"' "$W/stk.state" || t_why "the state has no module.copy[1]"
grep -q '"module": "module.per\[\\"a\\"\]"' "$W/stk.state" || t_why "the state has no module.per[\"a\"]"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "state list, show and -target take module instance addresses"
in_w state list
t_expect_status 0
t_expect_has out 'module.copy[0].host.file.this'
t_expect_has out 'module.per["a"].host.file.this'
in_w state show 'module.per["b"].host.file.this'
t_expect_status 0
t_expect_has out 'per-b.txt'
rm -f "$W/copy-0.txt" "$W/per-a.txt"
in_w plan -target 'module.copy[0]'
t_expect_status 0
t_expect_has out 'module.copy[0].host.file.this will be created'
t_expect_lacks out 'module.per["a"].host.file.this will be created'
in_w apply -auto-approve -target module.per
t_expect_status 0
t_expect_has out "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
[ -f "$W/per-a.txt" ] || t_why "-target module.per did not write per-a.txt back"
[ -f "$W/copy-0.txt" ] && t_why "-target module.per wrote copy-0.txt"
in_w apply -auto-approve
t_expect_status 0
t_end

t_begin "count 2 -> 1 on a module call destroys the second instance's objects, then no changes"
in_w apply -auto-approve -var copies=1
t_expect_status 0
t_expect_has out 'module.copy[1].host.file.this: Destruction complete'
t_expect_has out "Apply complete! Resources: 0 added, 0 changed, 1 destroyed."
[ -f "$W/copy-1.txt" ] && t_why "copy-1.txt is still there"
[ -f "$W/copy-0.txt" ] || t_why "copy-0.txt is gone"
grep -q 'module.copy\[1\]' "$W/stk.state" && t_why "the state still has module.copy[1]"
in_w plan -detailed-exitcode -var copies=1
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "state mv moves a module instance's object to another instance's address"
in_w state mv 'module.copy[0].host.file.this' 'module.copy[3].host.file.this'
t_expect_status 0
in_w state list
t_expect_has out 'module.copy[3].host.file.this'
in_w plan -var copies=1
t_expect_has out 'module.copy[3].host.file.this will be destroyed'
t_expect_has out 'module.copy[0].host.file.this will be created'
in_w state mv 'module.copy[3].host.file.this' 'module.copy[0].host.file.this'
t_expect_status 0
in_w destroy -auto-approve -var copies=1
t_expect_status 0
t_expect_has out "Destroy complete! Resources: 3 destroyed."
t_end

t_begin "a call that gains count moves nothing by itself; state mv to the instance address keeps the object"
cat >"$W/main.stk" <<'EOF'
module solo {
  source = "./modules/note"
  name   = "solo"
}
EOF
in_w apply -auto-approve
t_expect_status 0
cat >"$W/main.stk" <<'EOF'
module solo {
  source = "./modules/note"
  count  = 1
  name   = "solo"
}
EOF
in_w plan
t_expect_has out 'module.solo[0].host.file.this will be created'
t_expect_has out 'module.solo.host.file.this will be destroyed'
in_w state mv module.solo.host.file.this 'module.solo[0].host.file.this'
t_expect_status 0
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
in_w destroy -auto-approve
t_expect_status 0
t_end

t_begin "depends_on on a module call: the module's resources, nested ones too, wait for it and go before it"
workdir <<'EOF'
resource host.file first {
  filename = "first.txt"
  content  = "first"
}

module m {
  source     = "./mod"
  depends_on = [host.file.first]
}
EOF
mkdir -p "$W/mod/inner"
cat >"$W/mod/main.stk" <<'EOF'
resource host.file b {
  filename = "b.txt"
  content  = "b"
}

module inner {
  source = "./inner"
}
EOF
cat >"$W/mod/inner/main.stk" <<'EOF'
resource host.file c {
  filename = "c.txt"
  content  = "c"
}
EOF
in_w graph
t_expect_has out '"module.m.host.file.b" -> "host.file.first";'
t_expect_has out '"module.m.module.inner.host.file.c" -> "host.file.first";'
# -parallelism 4: without the dependency all three would start at once
in_w apply -auto-approve -parallelism 4
t_expect_status 0
first_done=$(grep -n '^host.file.first: Creation complete' "$T_TMP/out" | cut -d: -f1)
for r in module.m.host.file.b module.m.module.inner.host.file.c; do
	started=$(grep -n "^$r: Creating" "$T_TMP/out" | cut -d: -f1)
	[ -n "$first_done" ] && [ -n "$started" ] && [ "$started" -gt "$first_done" ] ||
		t_why "$r started before host.file.first was created"
done
# the state records the dependency, so a destroy takes the module's resources first
grep -q '"host.file.first"' "$W/stk.state" || t_why "the state records no dependency on host.file.first"
in_w destroy -auto-approve -parallelism 4
t_expect_status 0
first_gone=$(grep -n '^host.file.first: Destroying' "$T_TMP/out" | cut -d: -f1)
for r in module.m.host.file.b module.m.module.inner.host.file.c; do
	gone=$(grep -n "^$r: Destruction complete" "$T_TMP/out" | cut -d: -f1)
	[ -n "$first_gone" ] && [ -n "$gone" ] && [ "$gone" -lt "$first_gone" ] ||
		t_why "host.file.first was destroyed before $r"
done
t_end

t_begin "a moved block renames an object in the state: the file is not made again"
workdir <<'EOF'
resource host.file old {
  filename = "kept.txt"
  content  = "kept\n"
}
EOF
in_w apply -auto-approve
t_expect_status 0
before=$(stat -c %i:%Y "$W/kept.txt" 2>/dev/null)
cat >"$W/main.stk" <<'EOF'
resource host.file new {
  filename = "kept.txt"
  content  = "kept\n"
}

moved {
  from = host.file.old
  to   = host.file.new
}
EOF
in_w plan -detailed-exitcode
t_expect_status 2
t_expect_has out "# host.file.old has moved to host.file.new"
t_expect_has out "Plan: 0 to add, 0 to change, 0 to destroy."
sleep 1
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
[ "$(stat -c %i:%Y "$W/kept.txt" 2>/dev/null)" = "$before" ] || t_why "kept.txt was written again"
in_w state list
t_expect_has out "host.file.new"
t_expect_lacks out "host.file.old"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

t_begin "a moved block into a module: the object is the module's, the file untouched"
cat >"$W/main.stk" <<'EOF'
module files {
  source = "./files"
}

moved {
  from = host.file.new
  to   = module.files.host.file.this
}
EOF
mkdir -p "$W/files"
cat >"$W/files/main.stk" <<'EOF'
resource host.file this {
  filename = "kept.txt"
  content  = "kept\n"
}
EOF
in_w plan
t_expect_has out "# host.file.new has moved to module.files.host.file.this"
in_w apply -auto-approve
t_expect_status 0
[ "$(stat -c %i:%Y "$W/kept.txt" 2>/dev/null)" = "$before" ] || t_why "kept.txt was written again"
in_w state list
t_expect_has out "module.files.host.file.this"
t_expect_lacks out "host.file.new"
in_w plan -detailed-exitcode
t_expect_status 0
in_w destroy -auto-approve
t_expect_status 0
t_end


t_begin "count removed moves instance 0 to the resource's address, in the state too"
workdir <<'EOF'
resource host.file one {
  count    = 1
  filename = "one.txt"
  content  = "one\n"
}
EOF
in_w apply -auto-approve
t_expect_status 0
before=$(stat -c %i:%Y "$W/one.txt" 2>/dev/null)
sed -i '/count/d' "$W/main.stk"
sleep 1
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "# host.file.one[0] has moved to host.file.one"
[ "$(stat -c %i:%Y "$W/one.txt" 2>/dev/null)" = "$before" ] || t_why "one.txt was written again"
in_w state list
t_expect_has out "host.file.one"
t_expect_lacks out "host.file.one[0]"
in_w plan -detailed-exitcode
t_expect_status 0
t_expect_has out "No changes."
t_end

# the current object's filename, then each deposed object's key and filename, in the state file
deposed_files() {
	python3 -c 'import json, sys
st = json.load(open(sys.argv[1]))
for r in st.get("resources", []):
	for i in r["instances"]:
		print("current", i["attributes"]["filename"], i["status"])
		for d in i.get("deposed", []):
			print("deposed", d["key"], d["attributes"]["filename"])' "$W/stk.state"
}

# a file replaced, new one first, when rev changes
cbd_main() {
	cat <<'EOF'
variable rev { default = "1" }

resource host.file cbd {
  filename = "cbd-${var.rev}.txt"
  content  = "rev ${var.rev}\n"
  lifecycle {
    create_before_destroy = true
  }
}
EOF
}

cbd_main | workdir

t_begin "create_before_destroy: an old object whose destroy fails stays in the state, deposed, and the next apply destroys it"
in_w apply -auto-approve
t_expect_status 0
# a directory where the old file was: its destroy (unlink) fails, even for root
rm -f "$W/cbd-1.txt"
mkdir "$W/cbd-1.txt"
in_w apply -auto-approve -var rev=2
t_expect_status 1
t_expect_has out "host.file.cbd: Creation complete"
[ -f "$W/cbd-2.txt" ] || t_why "the new file was not made"
deposed_files >"$T_TMP/files"
KEY=$(sed -n 's/^deposed \([0-9a-f]\{8\}\) cbd-1\.txt$/\1/p' "$T_TMP/files")
grep -qx "current cbd-2.txt ready" "$T_TMP/files" || t_why "the current object is not cbd-2.txt: $(cat "$T_TMP/files")"
[ -n "$KEY" ] || t_why "cbd-1.txt is not deposed in the state: $(cat "$T_TMP/files")"
# the apply's progress names the deposed object as Terraform does
t_expect_has out "host.file.cbd (deposed object $KEY): Destroying failed"
in_w show
t_expect_has out "# host.file.cbd (deposed object $KEY):"
in_w state list
t_expect_lacks out "deposed"
in_w plan -var rev=2 -detailed-exitcode
t_expect_status 2
t_expect_has out "# host.file.cbd (deposed object $KEY) will be destroyed"
t_expect_has out "Plan: 0 to add, 0 to change, 1 to destroy."
in_w plan -var rev=2 -markdown
t_expect_has out "| **destroy** | \`host.file.cbd\` (deposed object $KEY) |"
# a file again: the next apply destroys it
rmdir "$W/cbd-1.txt"
echo old >"$W/cbd-1.txt"
in_w apply -auto-approve -var rev=2
t_expect_status 0
t_expect_has out "0 added, 0 changed, 1 destroyed"
t_expect_has out "host.file.cbd (deposed object $KEY): Destruction complete"
[ -e "$W/cbd-1.txt" ] && t_why "cbd-1.txt is still there"
[ -f "$W/cbd-2.txt" ] || t_why "cbd-2.txt is gone"
[ "$(deposed_files)" = "current cbd-2.txt ready" ] || t_why "the state is not cbd-2.txt alone: $(deposed_files)"
in_w plan -var rev=2 -detailed-exitcode
t_expect_status 0
t_end

t_begin "a deposed object outlives its instance's current object: it takes its place, tainted, until destroyed"
rm -f "$W/cbd-2.txt"
mkdir "$W/cbd-2.txt"
in_w apply -auto-approve -var rev=3
t_expect_status 1
[ -n "$(deposed_files | sed -n 's/^deposed [0-9a-f]\{8\} cbd-2\.txt$/x/p')" ] || t_why "cbd-2.txt is not deposed: $(deposed_files)"
# the resource leaves the configuration: its current object (cbd-3.txt) goes in phase one,
# its deposed one's destroy fails again, and the state keeps recording that one
printf 'variable rev { default = "1" }\n' >"$W/main.stk"
in_w plan
t_expect_has out "Plan: 0 to add, 0 to change, 2 to destroy."
in_w apply -auto-approve
t_expect_status 1
[ -e "$W/cbd-3.txt" ] && t_why "cbd-3.txt is still there"
[ "$(deposed_files)" = "current cbd-2.txt tainted" ] || t_why "the state does not keep cbd-2.txt: $(deposed_files)"
rmdir "$W/cbd-2.txt"
echo old >"$W/cbd-2.txt"
in_w apply -auto-approve
t_expect_status 0
t_expect_has out "0 added, 0 changed, 1 destroyed"
[ -z "$(deposed_files)" ] || t_why "the state is not empty: $(deposed_files)"
t_end

t_begin "stk destroy destroys deposed objects with the rest"
cbd_main >"$W/main.stk"
in_w apply -auto-approve
rm -f "$W/cbd-1.txt"
mkdir "$W/cbd-1.txt"
in_w apply -auto-approve -var rev=2
t_expect_status 1
rmdir "$W/cbd-1.txt"
echo old >"$W/cbd-1.txt"
in_w destroy -auto-approve -var rev=2
t_expect_status 0
t_expect_has out "Destroy complete! Resources: 2 destroyed."
[ -e "$W/cbd-1.txt" ] || [ -e "$W/cbd-2.txt" ] && t_why "a file is still there: $(ls "$W")"
[ -z "$(deposed_files)" ] || t_why "the state is not empty: $(deposed_files)"
t_end

t_begin "stk show prints the state, and a saved plan as plan printed it (sealed too), without the state"
workdir <<'EOF'
resource host.file a {
  filename = "a.txt"
  content  = "one"
}

output a_id { value = host.file.a.id }
output secret {
  value     = "s3cr3t-${host.file.a.id}"
  sensitive = true
}
EOF
in_w show
t_expect_status 0
t_expect_has out "The state is empty."
in_w apply -auto-approve
t_expect_status 0
in_w show
t_expect_status 0
t_expect_has out "# host.file.a:"
t_expect_has out "resource host.file a {"
t_expect_match out '^    content +\= "one"$'
t_expect_match out '^secret += \(sensitive value\)$'
t_expect_lacks out "s3cr3t"
in_w show -json
t_expect_status 0
python3 - "$T_TMP/out" <<'PY' || t_why "stk show -json is not the expected document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == "1.0"
r = d["values"]["root_module"]["resources"][0]
assert r["address"] == "host.file.a" and r["mode"] == "managed" and r["values"]["content"] == "one"
assert d["values"]["outputs"]["secret"] == {"sensitive": True, "value": None}
PY
t_expect_lacks out "s3cr3t"
sed -i 's/"one"/"two"/' "$W/main.stk"
in_w plan -out p.plan
t_expect_status 0
sed '/^Saved the plan to/,$d' "$T_TMP/out" | sed '$d' >"$T_TMP/planned"
in_w plan -json
cp "$T_TMP/out" "$T_TMP/planned.json"
rm "$W/a.txt"   # show reads neither the state nor the objects
in_w show p.plan
t_expect_status 0
cmp -s "$T_TMP/out" "$T_TMP/planned" || t_why "stk show p.plan differs from what stk plan printed"
t_expect_has out "host.file.a must be replaced"
in_w show -json p.plan
cmp -s "$T_TMP/out" "$T_TMP/planned.json" || t_why "stk show -json p.plan differs from stk plan -json"
in_w show -markdown p.plan
t_expect_has out "host.file.a"
# a plan sealed with the state's passphrase opens with it, and not without (the file is gone
# now: this plan makes it again)
STK_STATE_PASSPHRASE=show-test-passphrase
export STK_STATE_PASSPHRASE
in_w plan -out sealed.plan
t_expect_status 0
head -c 6 "$W/sealed.plan" | grep -q STKENC || t_why "the saved plan is not sealed"
in_w show sealed.plan
t_expect_status 0
t_expect_has out "host.file.a will be created"
unset STK_STATE_PASSPHRASE
in_w show sealed.plan
t_expect_status 1
t_expect_has err "passphrase"
in_w show a.txt.nope
t_expect_status 1
in_w show -markdown
t_expect_status 1
t_expect_has err "-markdown shows a saved plan"
t_end

t_summary
