#!/bin/sh
# demo.sh - install what is needed, build, and run a private Postern
# instance in the foreground with its configuration, queue and mailboxes
# under ./demo/.  Mail to local users lands in Maildirs under
# ./demo/Maildir/<user>/.  Stop it with Ctrl-C.
#
# Try, from another terminal:
#   ./build/bin/sendmail -C demo/etc/main.cf $USER <<< "Subject: hi"
#   ./build/bin/postqueue -c demo/etc -p
#   ls demo/Maildir/$USER/new
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/install-deps.sh
make -j"$(nproc 2>/dev/null || echo 2)"
mkdir -p demo/etc demo/Maildir
chmod 1777 demo/Maildir
if [ "$(id -u)" = 0 ]; then
	getent group posterndrop >/dev/null || groupadd -r posterndrop
	getent passwd postern >/dev/null ||
		useradd -r -M -d /nonexistent -s /usr/sbin/nologin -U postern
	owner=postern
	group=posterndrop
else
	owner=$(id -un)
	group=$(id -gn)
fi
if [ ! -e demo/etc/main.cf ]; then
	cat > demo/etc/main.cf <<EOC
# Postern demo instance (scripts/demo.sh).  Postfix syntax and names.
queue_directory = $top/demo/queue
data_directory = $top/demo/data
daemon_directory = $top/build/libexec
command_directory = $top/build/bin
mail_owner = $owner
setgid_group = $group
myhostname = demo.localdomain
mydestination = \$myhostname, localhost.\$mydomain, localhost
inet_interfaces = loopback-only
# A trailing slash: Maildir delivery in \$mail_spool_directory/<user>/
mail_spool_directory = $top/demo/Maildir/
alias_maps = hash:$top/demo/etc/aliases
alias_database = hash:$top/demo/etc/aliases
maillog_file = $top/demo/maillog
notify_classes = resource, software, 2bounce
# The demo asks no DNS server anything: client names are not looked up,
# and mail for other domains waits in the queue instead of going out.
smtpd_peername_lookup = no
defer_transports = smtp, relay
EOC
	# SMTP on 127.0.0.1:2525, so that no root-only port or running MTA
	# gets in the way.
	sed 's/^smtp      inet/127.0.0.1:2525 inet/' conf/master.cf \
	    > demo/etc/master.cf
	printf 'postmaster: root\n' > demo/etc/aliases
fi
./build/bin/postalias -c demo/etc demo/etc/aliases
./build/bin/postern -c demo/etc check
echo "demo: mail for local users goes to $top/demo/Maildir/<user>/"
echo "demo: SMTP on 127.0.0.1:2525 (mail for other domains stays queued)"
echo "demo: log in $top/demo/maillog; Ctrl-C stops"
exec ./build/bin/postern -c demo/etc start-fg
