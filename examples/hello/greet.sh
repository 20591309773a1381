#!/bin/sh
# Greets the names given as arguments (default: the image's CMD), in the image's MOOD.
set -eu
greeting=$(cat /etc/hello/greeting)
case "${MOOD:-calm}" in
  excited) mark='!' ;;
  *) mark='.' ;;
esac
for name in "$@"; do
  printf '%s, %s%s\n' "$greeting" "$name" "$mark"
done
