#!/usr/bin/env bash
# Creates what docker-compose.yml reads from deploy/secrets/ (once; existing files are kept):
#   postgres.env  passwords of the postgres superuser and of the hub and dagster roles
#   orderhub.env  the hub's secrets: store URL, ERP API key
#   hub_sftp_ed25519(.pub)  the hub's SFTP login key; sftp_host_ed25519_key(.pub) the server's key
#   sftp_known_hosts        pins that server key for the hub (host `sftp`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/secrets"
umask 077

secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }

if [ ! -f postgres.env ]; then
  hub_password=$(secret)
  {
    echo "POSTGRES_PASSWORD=$(secret)"
    echo "HUB_PG_PASSWORD=$hub_password"
    echo "DAGSTER_PG_PASSWORD=$(secret)"
  } > postgres.env
  erp_key=$(secret)
  {
    echo "HUB_DATABASE_URL=postgresql+psycopg://hub:$hub_password@postgres:5432/hub"
    echo "# The sandbox ERP accepts this key; for a real ERP, put its API key here."
    echo "HUB_ERP_API_KEY=$erp_key"
    echo "HUB_SANDBOX_ERP_API_KEY=$erp_key"
  } > orderhub.env
  # Dagster services read only the dagster role's password.
  grep '^DAGSTER_PG_PASSWORD=' postgres.env > dagster.env
fi
[ -f hub_sftp_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -C orderhub -f hub_sftp_ed25519
[ -f sftp_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -C sftp -f sftp_host_ed25519_key
echo "sftp $(cut -d' ' -f1,2 sftp_host_ed25519_key.pub)" > sftp_known_hosts
# Readable inside the containers, whose users differ from yours; the folder itself stays private.
chmod 0644 hub_sftp_ed25519.pub sftp_known_hosts
echo "secrets ready in $(pwd)"
