# scripts/packages.sh: sourced by scripts/check and scripts/demo.
#
#   packages_install PKG...   installs the Debian packages that are missing (apt-get, as root);
#                             returns 1, having said why, when they cannot be installed
#
# dpkg-query decides what is missing, so a machine that has everything installs nothing and
# needs no network. An apt cache never filled (a fresh machine or container) is updated first.

packages_install() {
	local p missing=() aptlog
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "not a Debian system: install the equivalents of $* by hand"
		return 0
	fi
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		echo "all $# packages are installed"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]}" >&2
		echo "install them as root: apt-get install ${missing[*]}" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp)
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
		apt-get update -qq >"$aptlog" 2>&1 || cat "$aptlog" >&2
	fi
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$aptlog" 2>&1; then
		tail -n 40 "$aptlog" >&2
		rm -f "$aptlog"
		echo "apt-get install ${missing[*]} failed" >&2
		return 1
	fi
	rm -f "$aptlog"
	return 0
}
