#!/usr/bin/env bash
# Debian packages the project needs: venv support, a compiler for wheels that build, and
# libdmtx (the second DataMatrix reader, through pylibdmtx), faketime (the chaos campaign's clock
# jumps), chromium (the HMI's browser tests,
# driven by Playwright without a browser download) and a Chinese font for its zh-CN pages.
# Installs only what is missing.
set -euo pipefail
need=()
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v gcc >/dev/null 2>&1 || need+=(build-essential)
ldconfig -p 2>/dev/null | grep -q 'libdmtx\.so' || need+=(libdmtx0b)
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || need+=(faketime)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
