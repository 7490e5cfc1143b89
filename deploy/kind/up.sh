#!/usr/bin/env bash
# Creates the Kind cluster "kalla" with a local registry and installs KEDA,
# then `tilt up` (or `tilt ci`) deploys Kalla. Idempotent: reruns skip what
# exists. Needs docker (or podman as docker), kind >= 0.20 and kubectl.
set -euo pipefail
cd "$(dirname "$0")"

reg_name=kind-registry
reg_port=5001
keda_version=${KEDA_VERSION:-2.17.2}

if [ "$(docker inspect -f '{{.State.Running}}' "$reg_name" 2>/dev/null || true)" != true ]; then
  docker run -d --restart=always -p "127.0.0.1:${reg_port}:5000" --network bridge --name "$reg_name" registry:2.8.3
fi

if ! kind get clusters | grep -qx kalla; then
  kind create cluster --config cluster.yaml
fi

# Every node resolves localhost:5001 to the registry container.
for node in $(kind get nodes --name kalla); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:${reg_port}"
  printf '[host."http://%s:5000"]\n' "$reg_name" |
    docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:${reg_port}/hosts.toml"
done
if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$reg_name")" = null ]; then
  docker network connect kind "$reg_name"
fi
kubectl --context kind-kalla apply -f local-registry-hosting.yaml

# KEDA (ScaledObject CRDs and operator) from its release manifest.
kubectl --context kind-kalla apply --server-side \
  -f "https://github.com/kedacore/keda/releases/download/v${keda_version}/keda-${keda_version}.yaml"
kubectl --context kind-kalla -n keda rollout status deployment/keda-operator --timeout=180s
echo "cluster kind-kalla is ready: run 'tilt up' (or 'tilt ci') at the repository root"
