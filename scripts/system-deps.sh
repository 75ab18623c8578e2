#!/usr/bin/env bash
# System packages Manim needs to build and run: cairo and pango headers, pkg-config, ffmpeg.
# Quick and silent when they are there; installs them with apt-get when we can (root, Debian/Ubuntu);
# otherwise stops with one line saying what to install.
set -euo pipefail
have() {
  command -v pkg-config >/dev/null 2>&1 && pkg-config --exists cairo pangocairo 2>/dev/null \
    && command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1
}
have && exit 0
PKGS="pkg-config libcairo2-dev libpango1.0-dev ffmpeg"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "neuroreel: installing system packages: $PKGS" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
  have && exit 0
fi
echo "neuroreel: missing system packages; install cairo and pango development headers, pkg-config and ffmpeg (Debian/Ubuntu: sudo apt-get install $PKGS; macOS: brew install cairo pango pkg-config ffmpeg), then run make again" >&2
exit 1
