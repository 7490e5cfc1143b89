#!/usr/bin/env bash
# Deletes the Kind cluster and the local registry that up.sh created.
set -euo pipefail
kind delete cluster --name kalla
docker rm -f kind-registry >/dev/null 2>&1 || true
