#!/usr/bin/env bash
# Installs what ProPortrait needs on a fresh machine: system libraries (apt) and a .venv.
# Idempotent and quick when nothing changed. Usage: scripts/bootstrap.sh [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[[ "${1:-}" == "--browser" ]] && want_browser=1

# WeasyPrint needs Pango; OpenCV (via mediapipe) needs libGL and GLib; fonts for PDFs and
# watermarks; poppler-utils renders PDF pages to PNG for the docs; chromium for browser tests.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libgl1 libglib2.0-0 fonts-dejavu-core poppler-utils)
((want_browser)) && packages+=(chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing system packages: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
"$python_bin" -c 'import sys; assert sys.version_info[:2] == (3, 11), "ProPortrait needs Python 3.11"'

stamp=".venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  echo "bootstrap: creating .venv and installing Python packages"
  [[ -x .venv/bin/python ]] || "$python_bin" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # requirements.lock pins every transitive package; torch 2.13.0 is the CPU build where one is on disk.
  .venv/bin/python -m pip install -q -c requirements.lock -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
