// Package check verifies Kalla's deployment (deploy/ and the Tiltfile) on a
// machine without a container engine or cluster: kustomize builds decoded
// strictly into the Kubernetes API types, cross-checks against the
// services' sources, the Tiltfile evaluated by tilt, the compose file and
// the Dockerfiles. See deploy/README.md.
package check
