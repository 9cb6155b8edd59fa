#!/usr/bin/env bash
# Installs the real servers the integration tests start (OpenSSH, PostgreSQL 15, Chromium, Dovecot)
# when one is missing. Idempotent: when every binary is present it only checks paths and exits.
# As root it uses apt-get; otherwise it prints the command and fails, unless
# HUB_ALLOW_SKIP_INTEGRATION=1 (then the tests needing the missing servers skip themselves).
set -euo pipefail

# binary the fixtures run  ->  Debian package that provides it
declare -A PACKAGE_FOR=(
  [/usr/sbin/sshd]=openssh-server
  [/usr/lib/postgresql/15/bin/initdb]=postgresql
  [/usr/bin/chromium]=chromium
  [/usr/sbin/dovecot]=dovecot-imapd
  [/usr/bin/openssl]=openssl          # the Dovecot fixture's TLS certificate
  [/usr/bin/ssh-keygen]=openssh-client   # deploy/init-secrets.sh in tests/test_deploy.py
)

missing=()
for binary in "${!PACKAGE_FOR[@]}"; do
  [ -x "$binary" ] || missing+=("${PACKAGE_FOR[$binary]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Sorted so the message and the apt command line are stable.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
install_cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "install-system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "install-system-deps: missing system packages for the integration tests: ${missing[*]}" >&2
echo "  install them with:  sudo sh -c '$install_cmd'" >&2
if [ "${HUB_ALLOW_SKIP_INTEGRATION:-0}" = "1" ]; then
  echo "  HUB_ALLOW_SKIP_INTEGRATION=1: continuing; tests that need them will be skipped." >&2
  exit 0
fi
echo "  (or set HUB_ALLOW_SKIP_INTEGRATION=1 to skip those tests instead of failing)" >&2
exit 1
