#!/bin/sh
# Translates toxiproxy-server's single-dash flags into harness's.
set -eu
host=0.0.0.0 port=8474
for arg in "$@"; do
  case "$arg" in
    -host=*|--host=*) host=${arg#*=} ;;
    -port=*|--port=*) port=${arg#*=} ;;
    *) echo "toxiproxy: ignoring unsupported flag $arg" >&2 ;;
  esac
done
exec /usr/local/bin/harness toxiproxy-server --host "$host" --port "$port"
