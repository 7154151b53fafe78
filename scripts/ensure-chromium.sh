#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests
# (tests/api/test_web.py). Idempotent: does nothing when it is already there.
# Playwright's own browser download is never used: the machines reach only
# package registries, and Debian's build is the one we test against.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

echo "ensure-chromium: $CHROMIUM missing, installing Debian's chromium package" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi

if ! $SUDO apt-get update -qq \
    || ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; then
    echo "ensure-chromium: FAILED to install chromium with apt-get;" \
        "the browser tests (tests/api/test_web.py) cannot run without $CHROMIUM" >&2
    exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
    echo "ensure-chromium: chromium installed but $CHROMIUM is not there" >&2
    exit 1
fi
echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) ready" >&2
