# Shared helpers for scripts/demo and scripts/test (sourced, not run). Each ensure_* function
# installs what is missing on Debian/Ubuntu via apt-get (as root, or with sudo otherwise).

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root or sudo to run: $*" >&2
        return 1
    fi
}

SG_APT_UPDATED=0
# Installs Debian packages (apt-get update once per script run).
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: apt-get not found; please install these packages yourself: $*" >&2
        return 1
    fi
    echo "==> installing: $*"
    if [ "$SG_APT_UPDATED" = 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update
        SG_APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# Prints the path of mariadbd (PATH, /usr/sbin, /usr/bin, /usr/local), or fails.
find_mariadbd() {
    if command -v mariadbd 2>/dev/null; then
        return 0
    fi
    local d
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
        if [ -x "$d/mariadbd" ]; then
            echo "$d/mariadbd"
            return 0
        fi
    done
    return 1
}

# MariaDB server (mariadbd, mariadb-install-db) and client (mariadb).
ensure_mariadb() {
    if ! find_mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null 2>&1 \
        || ! command -v mariadb >/dev/null 2>&1; then
        apt_install mariadb-server mariadb-client
    fi
}

# cargo (via rustup when missing), a C toolchain for linking, rustfmt and clippy.
ensure_rust() {
    if [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    if ! command -v cc >/dev/null 2>&1; then
        apt_install build-essential
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        if ! command -v curl >/dev/null 2>&1; then
            apt_install curl ca-certificates
        fi
        echo "==> installing Rust with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
            | sh -s -- -y --profile minimal -c rustfmt -c clippy
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
}

# rustfmt and clippy for the lint steps.
ensure_rust_lints() {
    if ! cargo fmt --version >/dev/null 2>&1; then
        rustup component add rustfmt
    fi
    if ! cargo clippy --version >/dev/null 2>&1; then
        rustup component add clippy
    fi
}

# sysbench, for the sysbench client tests.
ensure_sysbench() {
    if ! command -v sysbench >/dev/null 2>&1; then
        apt_install sysbench
    fi
}

# python3 with PyMySQL and mysql-connector-python, for the Python client tests.
ensure_python_clients() {
    if ! command -v python3 >/dev/null 2>&1; then
        apt_install python3
    fi
    if python3 -c 'import pymysql, mysql.connector, cryptography' >/dev/null 2>&1; then
        return 0
    fi
    if ! python3 -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    echo "==> installing PyMySQL, mysql-connector-python and cryptography with pip"
    # Debian 12's python is "externally managed"; these packages are safe there. cryptography is
    # what PyMySQL needs for caching_sha2_password's RSA key exchange (tests/authentication.rs).
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore \
        python3 -m pip install --quiet pymysql mysql-connector-python cryptography
    python3 -c 'import pymysql, mysql.connector, cryptography'
}

# SQLAlchemy and Django (ORMs on PyMySQL / mysql-connector-python), for tests/orm_clients.rs.
ensure_python_orms() {
    ensure_python_clients
    if python3 -c 'import sqlalchemy, django' >/dev/null 2>&1; then
        return 0
    fi
    echo "==> installing SQLAlchemy and Django with pip"
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore \
        python3 -m pip install --quiet sqlalchemy django
    python3 -c 'import sqlalchemy, django'
}
