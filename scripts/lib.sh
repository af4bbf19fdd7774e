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

# protoc: the etcd client crate (etcd-client) generates its gRPC code at build time.
ensure_protoc() {
    if ! command -v protoc >/dev/null 2>&1; then
        apt_install protobuf-compiler
    fi
}

# etcd and etcdctl: the shared topology of several proxies (`[topology] etcd`), used by the
# multi-proxy tests and `shardgate local --topology etcd`.
ensure_etcd() {
    if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
        apt_install etcd-server etcd-client
    fi
}

# Headless Chromium (Debian's `chromium`, installed as /usr/bin/chromium): tests/status_page.rs
# loads /debug/status in it, reads the rendered page and saves a screenshot.
ensure_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        apt_install chromium
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

# Every client of the client matrix (tests/client_matrix): the mariadb CLI (ensure_mariadb),
# PyMySQL, mysql-connector-python with its C extension, mysqlclient (built against Debian's
# libmariadb-dev with pkg-config and gcc), node's mysql and mysql2 (npm ci into
# tests/client_matrix/node_modules, from its package-lock.json), MariaDB Connector/J (Debian's
# libmariadb-java, compiled against with javac at test time), PHP mysqli and PDO. A missing
# client fails its test; nothing is skipped.
ensure_client_matrix() {
    local debs=()
    command -v python3 >/dev/null 2>&1 || debs+=(python3)
    python3 -m pip --version >/dev/null 2>&1 || debs+=(python3-pip)
    command -v pkg-config >/dev/null 2>&1 || debs+=(pkg-config)
    command -v gcc >/dev/null 2>&1 || debs+=(gcc)
    [ -f /usr/include/mariadb/mysql.h ] || debs+=(libmariadb-dev)
    # mysqlclient compiles against Python.h.
    python3 -c 'import os, sysconfig; assert os.path.exists(sysconfig.get_paths()["include"] + "/Python.h")' \
        >/dev/null 2>&1 || debs+=(python3-dev)
    command -v node >/dev/null 2>&1 || debs+=(nodejs)
    command -v npm >/dev/null 2>&1 || debs+=(npm)
    command -v javac >/dev/null 2>&1 || debs+=(default-jdk-headless)
    [ -f /usr/share/java/mariadb-java-client.jar ] || debs+=(libmariadb-java)
    command -v php >/dev/null 2>&1 || debs+=(php-cli)
    if ! php -m 2>/dev/null | grep -qx mysqli || ! php -m 2>/dev/null | grep -qx pdo_mysql; then
        debs+=(php-mysql)
    fi
    if [ "${#debs[@]}" -gt 0 ]; then
        apt_install "${debs[@]}"
    fi
    if ! python3 -c 'import pymysql, MySQLdb, mysql.connector' >/dev/null 2>&1; then
        echo "==> installing PyMySQL, mysql-connector-python and mysqlclient with pip"
        PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore \
            python3 -m pip install --quiet pymysql mysql-connector-python mysqlclient
        python3 -c 'import pymysql, MySQLdb, mysql.connector'
    fi
    local dir=tests/client_matrix
    # mysql-connector-python 26.x ships a C extension linked against OpenSSL 3.2, which Debian
    # 12 (OpenSSL 3.0) cannot load; 9.x's loads there. The C-extension runs of the matrix use a
    # 9.x installed into $dir/pylib (PYTHONPATH), leaving the system's latest to the rest.
    if ! PYTHONPATH="$dir/pylib" python3 -c 'import mysql.connector.connection_cext' >/dev/null 2>&1; then
        echo "==> installing mysql-connector-python 9.x (C extension) into $dir/pylib"
        rm -rf "$dir/pylib"
        PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --no-deps \
            --target "$dir/pylib" 'mysql-connector-python<26'
        PYTHONPATH="$dir/pylib" python3 -c 'import mysql.connector.connection_cext'
    fi
    if [ ! -d "$dir/node_modules/mysql" ] || [ ! -d "$dir/node_modules/mysql2" ] \
        || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "==> installing node's mysql and mysql2 (npm ci in $dir)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
