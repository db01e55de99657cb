#!/usr/bin/env bash
# Builds the `paramedic serve` image from the repository's Dockerfile and checks that it works:
# as uid 10001 `paramedic demo` finds the reference cause (exit 1), and the image's own command
# (`paramedic serve`) answers /healthz, /readyz and /metrics. Uses docker, podman or buildah,
# whichever is installed. Usage, from the repository root: deploy/serve/smoke-image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-paramedic:smoke}
port=18080

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker
elif command -v podman >/dev/null; then engine=podman
elif command -v buildah >/dev/null; then engine=buildah
else echo "smoke-image: needs docker (with a running engine), podman or buildah" >&2; exit 2
fi
echo "== build with $engine: $tag"

probe() {  # the three read endpoints must answer 200 within 30 s of the start
  for _ in $(seq 60); do
    curl -fsS -m 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  for path in healthz readyz metrics; do
    code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$path")
    echo "   /$path: $code"
    [ "$code" = 200 ] || return 1
  done
}

demo_status() {  # `paramedic demo` exits 1 when it finds the cause, as the reference demo has
  set +e; "$@" >/dev/null; local status=$?; set -e
  echo "   paramedic demo exit status: $status (1 = cause found)"
  [ "$status" -eq 1 ]
}

case $engine in
  docker|podman)
    "$engine" build -q -t "$tag" . >/dev/null
    demo_status "$engine" run --rm "$tag" demo
    id=$("$engine" run -d -p "127.0.0.1:$port:8080" "$tag")
    trap '"$engine" rm -f "$id" >/dev/null' EXIT
    probe
    ;;
  buildah)
    export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs} BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
    buildah bud -q -t "$tag" . >/dev/null
    ctr=$(buildah from "$tag")
    trap 'kill "$server" 2>/dev/null || true; buildah rm "$ctr" >/dev/null' EXIT
    [ "$(buildah inspect --format '{{.OCIv1.Config.User}}' "$tag")" = 10001 ]
    demo_status buildah run --user 10001 "$ctr" -- paramedic demo
    # chroot isolation shares the host's network, so the image's command listens on loopback
    buildah run --user 10001 "$ctr" -- paramedic serve --listen="127.0.0.1:$port" \
      --store=sqlite:////var/lib/paramedic/paramedic.db >/dev/null 2>&1 &
    server=$!
    probe
    ;;
esac
echo "== $tag builds, runs the demo as uid 10001 and serves"
