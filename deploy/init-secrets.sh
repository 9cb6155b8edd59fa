#!/usr/bin/env bash
# Creates what docker-compose.yml reads from deploy/secrets/. Run it once before the first
# `docker compose up`; run it again any time: existing files are kept, missing ones are added.
#   postgres.env     postgres service: passwords of the superuser and of the hub and dagster roles
#   dagster.env      webserver, daemon, code: the dagster role's password (Dagster's instance)
#   store.env        migrate, code, webhooks: HUB_DATABASE_URL (the hub role, the hub store)
#   orderhub.env     code only: the ERP API key; add the accounts' API secrets and HUB_ALERT_* here
#   webhooks.env     webhooks only: Shopify webhook secrets, self-service page settings (none until you add them)
#   sandbox-erp.env  erp (profile `sandbox`): the key the sandbox ERP accepts, same as HUB_ERP_API_KEY
#   hub_sftp_ed25519(.pub)  the hub's SFTP login key; sftp_host_ed25519_key(.pub) the server's key
#   sftp_known_hosts        pins that server key for the hub (host `sftp`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/secrets"
umask 077
# Private to you on the host. Bind-mounted files keep their host owner inside the containers, whose
# users differ from yours: files a container reads are made readable below, the folder stays closed.
chmod 0700 .

secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
value() { sed -n "s/^$2=//p" "$1"; }   # value FILE NAME

if [ ! -f postgres.env ]; then
  {
    echo "POSTGRES_PASSWORD=$(secret)"
    echo "HUB_PG_PASSWORD=$(secret)"
    echo "DAGSTER_PG_PASSWORD=$(secret)"
  } > postgres.env
fi
[ -f dagster.env ] || echo "DAGSTER_PG_PASSWORD=$(value postgres.env DAGSTER_PG_PASSWORD)" > dagster.env
[ -f store.env ] ||
  echo "HUB_DATABASE_URL=postgresql+psycopg://hub:$(value postgres.env HUB_PG_PASSWORD)@postgres:5432/hub" > store.env
if [ ! -f orderhub.env ]; then
  {
    echo "# The hub's secrets, for the code service only (runs execute there)."
    echo "# The sandbox ERP accepts this key; for a real ERP, put its API key here."
    echo "HUB_ERP_API_KEY=$(secret)"
    echo "# Each store's or seller account's variables its profile names (access_token_env, lwa_*_env,"
    echo "# refresh_token_env); an account whose variables are missing has its schedule stopped."
    echo "# Alerts: HUB_ALERT_SMTP_*, HUB_ALERT_WEBHOOK_*, HUB_ALERT_SLACK_* (docs/operations.md#alerts)."
  } > orderhub.env
fi
if [ ! -f webhooks.env ]; then
  {
    echo "# The webhook receiver's secrets only: each Shopify store's webhook_secret_env, e.g."
    echo "# HUB_SHOPIFY_<STORE>_WEBHOOK_SECRET=<the app's client secret>"
    echo "# and the partner self-service page's settings (off unless enabled; docs/operations.md):"
    echo "# HUB_SELFSERVICE_ENABLED=1, HUB_SELFSERVICE_MAX_BYTES=..., HUB_SELFSERVICE_TOKEN_<PARTNER>=<random>"
  } > webhooks.env
fi
[ -f sandbox-erp.env ] || echo "HUB_SANDBOX_ERP_API_KEY=$(value orderhub.env HUB_ERP_API_KEY)" > sandbox-erp.env
[ -f hub_sftp_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -C orderhub -f hub_sftp_ed25519
[ -f sftp_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -C sftp -f sftp_host_ed25519_key
echo "sftp $(cut -d' ' -f1,2 sftp_host_ed25519_key.pub)" > sftp_known_hosts
# Read inside the containers by their own (non-root) users: the hub's login key and the pinned host
# key by `code` (uid 10001), the public key by the SFTP server. The server's private host key is read
# by sshd as root and stays 0600.
chmod 0644 hub_sftp_ed25519 hub_sftp_ed25519.pub sftp_known_hosts
echo "secrets ready in $(pwd)"
