"""The client-matrix workload for the Python drivers (see main.rs beside this file).

Usage: python3 workload.py DRIVER MODE PORT TAG
  DRIVER: pymysql | connector (mysql-connector-python, pure Python) | connector-c (its C
          extension; main.rs puts the 9.x in pylib/ first on PYTHONPATH) | mysqldb (mysqlclient)
  MODE:   text | prepared (server-side prepared statements; connector and connector-c only)

Prints the normalized transcript on stdout, one line per observation; a step that fails prints
`<step> ERROR <code>` and the workload goes on with the next step.
"""

import datetime
import decimal
import hashlib
import sys

DRIVER, MODE, PORT, TAG = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.stdout.reconfigure(encoding="utf-8")


def connect():
    args = dict(host="127.0.0.1", port=PORT, user="app", password="secret", database="customer")
    if DRIVER == "pymysql":
        import pymysql

        return pymysql.connect(charset="utf8mb4", autocommit=True, **args), pymysql.err.MySQLError
    if DRIVER in ("connector", "connector-c"):
        import mysql.connector

        conn = mysql.connector.connect(
            charset="utf8mb4", autocommit=True, use_pure=(DRIVER == "connector"), **args
        )
        kind = type(conn).__name__
        want = "MySQLConnection" if DRIVER == "connector" else "CMySQLConnection"
        if kind != want:
            raise SystemExit(f"{DRIVER}: got a {kind}, not a {want} (C extension missing?)")
        return conn, mysql.connector.Error
    if DRIVER == "mysqldb":
        import MySQLdb

        args["passwd"] = args.pop("password")
        args["db"] = args.pop("database")
        conn = MySQLdb.connect(charset="utf8mb4", **args)
        conn.autocommit(True)
        return conn, MySQLdb.MySQLError
    raise SystemExit(f"unknown driver {DRIVER}")


try:
    CONN, DB_ERROR = connect()
except ImportError as e:
    raise SystemExit(f"{DRIVER} is not installed ({e}): run scripts/test (ensure_client_matrix)")
if MODE == "prepared" and DRIVER not in ("connector", "connector-c"):
    raise SystemExit(f"{DRIVER} has no server-side prepared statements")


def cursor():
    if MODE == "prepared":
        return CONN.cursor(prepared=True)
    return CONN.cursor()


def code(err):
    if getattr(err, "errno", None) is not None:
        return err.errno
    return err.args[0] if err.args else "?"


def out(line):
    print(line, flush=True)


def norm(v):
    if v is None:
        return "NULL"
    if isinstance(v, (bytes, bytearray)):
        return "x" + bytes(v).hex()
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, decimal.Decimal):
        return str(v)
    return str(v)


def step(name, fn):
    try:
        fn()
    except DB_ERROR as e:
        out(f"{name} ERROR {code(e)}")
        print(f"{name}: {e}", file=sys.stderr, flush=True)


def rows(sql, params=()):
    cur = cursor()
    cur.execute(sql, params)
    result = cur.fetchall()
    cur.close()
    return result


NAMES = [f"p{TAG}a", f"Zoë{TAG}", f"p{TAG}c"]
PHONES = [5550000 + TAG * 10 + k for k in (1, 2, 3)]
IDS = {}


def unsharded():
    for r in rows("SELECT id, name FROM commerce.product ORDER BY id"):
        out("unsharded " + " ".join(norm(v) for v in r))


def insert():
    for name, phone in zip(NAMES, PHONES):
        cur = cursor()
        cur.execute("INSERT INTO person (name, phone) VALUES (%s, %s)", (name, phone))
        IDS[name] = cur.lastrowid
        out(f"insert {name} id={cur.lastrowid} rows={cur.rowcount}")
        cur.close()


def reads():
    for name, phone in zip(NAMES, PHONES):
        if name not in IDS:
            continue
        for r in rows("SELECT id, name, phone FROM person WHERE id = %s", (IDS[name],)):
            out("by_id " + " ".join(norm(v) for v in r))
    for name in NAMES:
        for r in rows("SELECT id, name, phone FROM person WHERE name = %s", (name,)):
            out("by_name " + " ".join(norm(v) for v in r))
    for phone in PHONES:
        for r in rows("SELECT id, name, phone FROM person WHERE phone = %s", (phone,)):
            out("by_phone " + " ".join(norm(v) for v in r))


def set_autocommit(on):
    # PyMySQL and MySQLdb have a method, mysql-connector-python a property.
    if DRIVER in ("mysqldb", "pymysql"):
        CONN.autocommit(on)
    else:
        CONN.autocommit = on


def rollback():
    name, phone = f"p{TAG}tx", 5550000 + TAG * 10 + 9
    set_autocommit(False)
    try:
        cur = cursor()
        cur.execute("INSERT INTO person (name, phone) VALUES (%s, %s)", (name, phone))
        cur.close()
        inside = rows("SELECT COUNT(*) FROM person WHERE name = %s", (name,))[0][0]
        CONN.rollback()
    finally:
        set_autocommit(True)
    after = rows("SELECT COUNT(*) FROM person WHERE name = %s", (name,))[0][0]
    by_phone = rows("SELECT COUNT(*) FROM person WHERE phone = %s", (phone,))[0][0]
    out(f"rollback inside={inside} after={after} by_phone={by_phone}")


TYPED = [
    (TAG * 10 + 1, None, "Zoë ✓ 日本 😀", datetime.datetime(2024, 2, 29, 13, 14, 15, 123456),
     decimal.Decimal("12345.6789"), bytes(range(256))),
    (TAG * 10 + 2, "n", "", datetime.datetime(1999, 12, 31, 23, 59, 59, 1),
     decimal.Decimal("-0.0001"), b""),
]


def typed():
    for ident, note, uni, ts, amount, data in TYPED:
        cur = cursor()
        # The DECIMAL goes first: mysql-connector-python's C extension (8.4 to 9.7) binds a
        # Decimal parameter with `mbind[i].buffer_type = ...` where mbind already points at
        # bind i (MySQLPrepStmt_execute in mysql_capi.c), so for i > 0 it writes past the bind
        # array (valgrind shows it against MariaDB directly; the heap corruption aborts some
        # runs). At position 0 that write is to the right bind.
        cur.execute(
            "INSERT INTO typed (amount, id, note, uni, ts, data) VALUES (%s, %s, %s, %s, %s, %s)",
            (amount, ident, note, uni, ts, data),
        )
        cur.close()
    for row in TYPED:
        for r in rows("SELECT id, note, uni, ts, amount, data FROM typed WHERE id = %s", (row[0],)):
            out("typed " + " ".join(norm(v) for v in r))


def scatter():
    h = hashlib.sha256()
    n = 0
    for ident, name, payload in rows("SELECT id, name, payload FROM big ORDER BY id"):
        if not isinstance(payload, (bytes, bytearray)):
            raise SystemExit(f"payload came back as {type(payload).__name__}, not bytes")
        h.update(f"{ident}|{name}|{bytes(payload).hex()}\n".encode())
        n += 1
    out(f"scatter rows={n} sha256={h.hexdigest()}")


def duplicates():
    for what, sql, params in (
        ("dup_pk", "INSERT INTO typed (id, note) VALUES (%s, %s)", (TAG * 10 + 1, "again")),
        ("dup_phone", "INSERT INTO person (name, phone) VALUES (%s, %s)", (f"p{TAG}dup", PHONES[0])),
    ):
        try:
            cur = cursor()
            cur.execute(sql, params)
            cur.close()
            out(f"{what} no error")
        except DB_ERROR as e:
            out(f"{what} errno={code(e)}")


def after_error():
    a = rows("SELECT COUNT(*) FROM person WHERE name = %s", (NAMES[0],))[0][0]
    dup = rows("SELECT COUNT(*) FROM person WHERE name = %s", (f"p{TAG}dup",))[0][0]
    out(f"after_error a={a} dup={dup}")


for name, fn in (
    ("unsharded", unsharded), ("insert", insert), ("reads", reads), ("rollback", rollback),
    ("typed", typed), ("scatter", scatter), ("duplicates", duplicates), ("after_error", after_error),
):
    step(name, fn)
CONN.close()
out("done")
