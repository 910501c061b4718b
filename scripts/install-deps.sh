#!/bin/sh
# install-deps.sh - install every Debian package Postern's build, tests and
# benchmarks need.  Safe to run more than once.  Needs root (or sudo).
#
# System services that come with these packages (postfix, slapd, mariadb,
# dnsmasq, dovecot) are NOT started: the tests start their own private copies on
# loopback inside temporary directories.
set -eu

PKGS="build-essential pkg-config make gcc clang
	libssl-dev libsasl2-dev sasl2-bin libsasl2-modules libldap-dev
	libpcre2-dev libmariadb-dev liblmdb-dev lmdb-utils
	libcmocka-dev python3 python3-pytest python3-aiosmtpd swaks openssl
	slapd ldap-utils mariadb-server dnsmasq postfix postfix-lmdb
	dovecot-core testssl.sh fail2ban libnet-ssleay-perl libio-socket-ssl-perl
	procps psmisc iproute2 valgrind"

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing:$missing"
# Keep package scripts from starting daemons (no init system here, and the
# tests must not depend on system services).
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	made_policy=1
fi
echo "postfix postfix/main_mailer_type select No configuration" |
    $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
if [ -n "$made_policy" ]; then
	$SUDO rm -f "$policy"
fi
echo "install-deps: done"
