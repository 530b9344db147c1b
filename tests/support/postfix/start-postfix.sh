#!/bin/bash
# Start a private Postfix instance for tests, listening only on 127.0.0.1:PORT.
#
#   start-postfix.sh DIR PORT [name=value ...] [-M 'master.cf line' ...]
#
# Everything lives under DIR (created if missing):
#   DIR/etc     config_directory (main.cf, master.cf; rewritten at every start)
#   DIR/spool   queue_directory  (kept across restarts, like a real queue)
#   DIR/data    data_directory
#   DIR/spool/mail/  mailboxes: virtual(8) runs chrooted in the queue directory, so
#               bounces+ANYTHING@campaign.test land in DIR/spool/mail/campaign/Maildir/new/
#   DIR/log/maillog  the log (there is no syslog in a container; maillog_file + postlogd)
# Extra arguments: name=value is applied to main.cf with postconf -e after the defaults;
# -M 'service type private unpriv chroot wakeup maxproc command...' adds/replaces a
# master.cf service (postconf -M). Running it again restarts the instance with the new
# config. STARTTLS: pass smtpd_tls_cert_file=... smtpd_tls_key_file=... smtpd_tls_security_level=may
# (tlsmgr is in master.cf). Needs root and the Debian 12 `postfix` package (postconf/postfix in
# PATH); stop-postfix.sh must sit beside this script. It does not touch /etc/postfix or
# /var/spool/postfix, nor a system Postfix that may be running.
# Exit status: 0 started; 2 usage; 3 postfix not installed; 1 failed (log tail printed).
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
usage() { echo "usage: $0 DIR PORT [name=value ...] [-M 'master.cf line' ...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
case $2 in ''|*[!0-9]*) usage ;; esac
[ "$2" -ge 1 ] && [ "$2" -le 65535 ] || usage
command -v postconf >/dev/null 2>&1 && command -v postfix >/dev/null 2>&1 \
    || { echo "postfix is not installed (apt-get install postfix)" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "$0 must run as root" >&2; exit 1; }
id postfix >/dev/null 2>&1 && getent group postdrop >/dev/null \
    || { echo "user postfix / group postdrop missing (postfix package not configured?)" >&2; exit 3; }

mkdir -p "$1"
BASE=$(cd "$1" && pwd -P)
PORT=$2
shift 2
case $BASE in *[!A-Za-z0-9_./-]*) echo "DIR must not contain spaces or special characters: $BASE" >&2; exit 2 ;; esac
CONF=$BASE/etc
# The master opens DIR/data/master.lock as user postfix by absolute path, so every parent of
# DIR must be searchable by user postfix (pytest's tmp_path is under a 0700 folder: it is not).
if ! setpriv --reuid=postfix --regid=postfix --clear-groups test -x "$BASE/." 2>/dev/null; then
    echo "user postfix cannot reach $BASE (a parent folder is not searchable, e.g. mode 0700);" \
         "use a folder under /var/tmp or /dev/shm, or chmod o+x the parents" >&2
    exit 1
fi
mkdir -p "$CONF" "$BASE/spool" "$BASE/data" "$BASE/log"
chown postfix:postfix "$BASE/data"; chmod 700 "$BASE/data"
chmod 755 "$BASE" "$CONF" "$BASE/log"
chown root:root "$BASE/spool"; chmod 755 "$BASE/spool"

listening() {  # is anything listening on 127.0.0.1:PORT or 0.0.0.0:PORT (IPv4)?
    awk -v a="0100007F:$(printf '%04X' "$PORT")" -v b="00000000:$(printf '%04X' "$PORT")" \
        '($2 == a || $2 == b) && $4 == "0A" {f = 1} END {exit !f}' /proc/net/tcp
}

# Restart if this instance is already running.
if [ -f "$CONF/main.cf" ] && postfix -c "$CONF" status >/dev/null 2>&1; then
    "$(dirname "$0")/stop-postfix.sh" "$BASE" || true
fi

cat >"$CONF/main.cf" <<EOF
# Private test instance written by start-postfix.sh; do not edit (rewritten at each start).
compatibility_level = 3.6
queue_directory = $BASE/spool
data_directory = $BASE/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postfix.test
mydomain = postfix.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination = local.test, localhost
local_recipient_maps = proxy:unix:passwd.byname \$alias_maps
alias_maps =
alias_database =
relay_domains =
relayhost =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_banner = \$myhostname ESMTP Postfix (test)
biff = no
append_dot_mydomain = no
recipient_delimiter = +
maillog_file = $BASE/log/maillog
maillog_file_prefixes = $BASE
smtp_dns_support_level = disabled
smtp_host_lookup = native
# Mailboxes: virtual(8) is chrooted to the queue directory (see master.cf), so the path is
# relative to it; this avoids needing parent folders of DIR that user nobody can traverse.
virtual_mailbox_domains = campaign.test
virtual_mailbox_base = /mail
virtual_mailbox_maps = inline:{ { bounces@campaign.test = campaign/Maildir/ } }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
transport_maps =
# Fast retries, so tests of deferred mail do not wait minutes.
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
EOF

cat >"$CONF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PORT inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       y       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
EOF

# Caller's settings, in order.
while [ $# -gt 0 ]; do
    case $1 in
        -M) [ $# -ge 2 ] || usage
            name=$(echo "$2" | awk '{print $1 "/" $2}')
            postconf -c "$CONF" -M "$name=$2"; shift 2 ;;
        *=*) postconf -c "$CONF" -e "$1"; shift ;;
        *) usage ;;
    esac
done

# Postfix reads a main.cf modified in the last 2 s again and again, 300 ms apart, until it is
# 2 s old (dict_load_file: guards against half-written files); every postfix/postconf command
# run after a rewrite would wait ~1.8 s. Back-date the files instead.
touch -d "@$(( $(date +%s) - 10 ))" "$CONF/main.cf" "$CONF/master.cf"

# Create the queue directories with the owners and modes of Postfix's postfix-files (what
# `postfix check` / post-install create-missing would do, but ~2 s faster), then start without
# the full `postfix check` scan of the shared Postfix files (quick-start marker). If that start
# fails, run post-install create-missing and a normal start (full checks, diagnostics in the log).
Q=$BASE/spool
for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
    mkdir -p "$Q/$d"; chown postfix:root "$Q/$d"; chmod 700 "$Q/$d"
done
mkdir -p "$Q/maildrop" "$Q/public" "$Q/pid" "$Q/mail"
chown postfix:postdrop "$Q/maildrop" "$Q/public"; chmod 1730 "$Q/maildrop"; chmod 2710 "$Q/public"
chown root:root "$Q/pid"; chmod 755 "$Q/pid"
chown 65534:65534 "$Q/mail"
: >>"$BASE/log/maillog"
if listening; then
    echo "127.0.0.1:$PORT (or 0.0.0.0:$PORT) is already in use by another program" >&2; exit 1
fi
touch "$Q/quick-start"
if ! postfix -c "$CONF" start >>"$BASE/log/start.out" 2>&1; then
    rm -f "$Q/quick-start"
    postfix -c "$CONF" post-install create-missing >>"$BASE/log/start.out" 2>&1 || true
    if ! postfix -c "$CONF" start >>"$BASE/log/start.out" 2>&1; then
        echo "postfix failed to start:" >&2; tail -n 20 "$BASE/log/start.out" "$BASE/log/maillog" >&2; exit 1
    fi
fi
# Wait until the master listens on the port (it has bound it when `postfix start` returns;
# this reads /proc/net/tcp rather than connecting, which would leave a log line).
i=0
until listening; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        echo "postfix did not listen on 127.0.0.1:$PORT within 10 s" >&2; tail -n 20 "$BASE/log/maillog" >&2
        "$(dirname "$0")/stop-postfix.sh" "$BASE" || true
        exit 1
    fi
    sleep 0.1
done
echo "postfix running: config $CONF, queue $BASE/spool, smtp 127.0.0.1:$PORT, log $BASE/log/maillog"
