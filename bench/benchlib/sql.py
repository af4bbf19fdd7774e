"""PyMySQL helpers: a connection to a MariaDB server or the proxy on 127.0.0.1 as root (TLS
off, long timeouts), and a few statements run on a fresh connection, returning the last one's rows.
"""


def connect(port, db=None, timeout=30):
    import pymysql

    # ssl_disabled: PyMySQL otherwise builds a default TLS context (loading the CA bundle,
    # ~60 ms) for every connection, even when the server offers no TLS.
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", database=db,
                           autocommit=True, connect_timeout=timeout, read_timeout=600,
                           write_timeout=600, ssl_disabled=True)


def execute(port, db, statements):
    conn = connect(port, db)
    try:
        with conn.cursor() as cur:
            rows = None
            for stmt in statements:
                cur.execute(stmt)
                rows = cur.fetchall()
            return rows
    finally:
        conn.close()
