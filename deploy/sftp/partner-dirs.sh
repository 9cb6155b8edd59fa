#!/usr/bin/env bash
# Run by the atmoz/sftp image at start (/etc/sftp.d/): the folders the partner profiles name
# (<partner>/inbox, archive, outbound), writable by the `hub` login. The chroot (/home/hub) itself
# must stay root-owned, so they cannot be created over SFTP.
set -euo pipefail
for partner in ${HUB_SFTP_PARTNERS:-}; do
  for folder in inbox archive outbound; do
    mkdir -p "/home/hub/$partner/$folder"
  done
  chown -R hub:users "/home/hub/$partner"
done
