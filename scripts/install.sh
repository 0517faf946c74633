#!/usr/bin/env bash
# Install wasmd as a systemd service on Debian 12, as root, from this checkout:
#
#   sudo bash scripts/install.sh            # install, then `systemctl enable --now wasmd`
#
# What it does (each step is skipped when already done, so it can be run again to upgrade):
#   1. a virtualenv at /opt/wasmd with wasmd installed from this checkout (--venv DIR: use an
#      existing one instead), and /usr/local/bin/wasmd linking to its `wasmd`;
#   2. the system user and group `wasmd` (the proxy's user joins the group to use wasmd.sock);
#   3. the sample plugins in /etc/wasmd/plugins/ and the example config /etc/wasmd/wasmd.toml
#      (kept if present: your edits survive an upgrade);
#   4. the unit /etc/systemd/system/wasmd.service (ExecStart=/usr/local/bin/wasmd ...);
#   5. with systemd running: daemon-reload, enable --now (--no-start: leave it stopped).
# --root DIR installs into DIR as if it were / (a staging tree; steps 2 and 5 are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

root="" venv="" start=1
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=${2:?--root needs a directory}; shift 2 ;;
        --venv) venv=${2:?--venv needs a directory}; shift 2 ;;
        --no-start) start=0; shift ;;
        *) echo "install.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
    esac
done
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (it creates a user and writes /etc, /opt, /usr/local)" >&2
    exit 1
fi

# 1. wasmd itself
if [ -z "$venv" ]; then
    venv=/opt/wasmd
    if [ ! -x "$root$venv/bin/python" ]; then
        "${PYTHON:-python3}" -m venv "$root$venv"
    fi
    "$root$venv/bin/pip" install -q --upgrade "$repo"
    wasmd_bin="$venv/bin/wasmd"
else
    wasmd_bin="$venv/bin/wasmd"
    [ -x "$wasmd_bin" ] || { echo "install.sh: no $wasmd_bin" >&2; exit 1; }
fi
install -d "$root/usr/local/bin"
ln -sfn "$wasmd_bin" "$root/usr/local/bin/wasmd"

# 2. the service user
if [ -z "$root" ] && ! getent passwd wasmd >/dev/null; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin wasmd
    echo "install.sh: created system user wasmd (add the proxy's user to group wasmd)"
fi

# 3. plugins and config
install -d -m 0755 "$root/etc/wasmd/plugins"
install -m 0644 plugins/as/build/*.wasm "$root/etc/wasmd/plugins/"
if [ ! -e "$root/etc/wasmd/wasmd.toml" ]; then
    install -m 0644 systemd/wasmd.toml "$root/etc/wasmd/wasmd.toml"
fi

# 4. the unit (its ExecStart names /usr/local/bin/wasmd, the link made in step 1)
install -D -m 0644 systemd/wasmd.service "$root/etc/systemd/system/wasmd.service"

# 5. start
if [ -z "$root" ] && [ "$start" = 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now wasmd
    echo "install.sh: wasmd started; try: wasmd status"
elif [ -z "$root" ]; then
    echo "install.sh: installed; start it with: systemctl daemon-reload && systemctl enable --now wasmd"
fi
