#!/usr/bin/env bash
# Debian packages the sandbox and the tests use, installed when missing (as root, with apt-get);
# elsewhere it says what is missing and how to install it. Usage: system-deps.sh [demo|test|ci]
set -euo pipefail
want=(bwrap:bubblewrap)
if [[ "${1:-demo}" != demo ]]; then
  # The adversarial corpus (tests/adversarial) runs each disguise for real with these.
  want+=(curl:curl wget:wget gawk:gawk nc:netcat-openbsd ruby:ruby rsync:rsync unzip:unzip
         zip:zip patch:patch sqlite3:sqlite3 xxd:xxd node:nodejs
         # the review web app's browser tests drive Debian's Chromium through Playwright
         chromium:chromium)
fi
if [[ "${1:-demo}" == ci ]]; then
  want+=(pg_ctlcluster:postgresql)
fi
missing=()
for item in "${want[@]}"; do
  command -v "${item%%:*}" >/dev/null 2>&1 || missing+=("${item#*:}")
done
((${#missing[@]})) || exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
else
  echo "note: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
  echo "      (without bubblewrap, shell steps that act are refused, not run unconfined)" >&2
fi
