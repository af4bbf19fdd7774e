//! The workload for the Rust drivers, mysql_async and sqlx: the same steps as workload.py,
//! written once over [`Client`], which runs a statement either as text (parameters rendered as
//! SQL literals by [`literal`]: mysql_async and sqlx's `raw_sql` take no parameters) or as a
//! server-side prepared statement with bound parameters.

use crate::expected::{hex, names, phones, rollback_phone};
use mysql_async::consts::ColumnType;
use mysql_async::prelude::*;
use sha2::{Digest, Sha256};
use sqlx::{Column, Connection, Row, TypeInfo, ValueRef};
use time::{Date, Month, PrimitiveDateTime};

/// A parameter of the workload.
#[derive(Debug, Clone)]
pub enum P {
    Null,
    Int(i64),
    Str(String),
    /// DATETIME(6): year, month, day, hour, minute, second, microsecond.
    DateTime(i32, u8, u8, u8, u8, u8, u32),
    /// DECIMAL, as its exact text.
    Dec(&'static str),
    Bytes(Vec<u8>),
}

/// What a statement returned: rows rendered as transcript words, or an OK packet.
pub enum Out {
    Rows(Vec<Vec<String>>),
    Ok { id: u64, rows: u64 },
}

/// A failed statement: the server's error code and message.
pub type DbError = (u16, String);

/// One connection of either driver, in text or prepared mode.
pub enum Client {
    Async {
        conn: mysql_async::Conn,
        prepared: bool,
    },
    Sqlx {
        conn: sqlx::MySqlConnection,
        prepared: bool,
    },
}

/// `p` as a SQL literal (strings escaped, bytes in hex, as a careful application writes them).
pub fn literal(p: &P) -> String {
    match p {
        P::Null => "NULL".into(),
        P::Int(i) => i.to_string(),
        P::Str(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
        P::DateTime(y, mo, d, h, mi, s, us) => {
            format!("'{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}'")
        }
        P::Dec(d) => d.to_string(),
        P::Bytes(b) => format!("X'{}'", &hex(b)[1..]),
    }
}

fn render(sql: &str, params: &[P]) -> String {
    let mut parts = sql.split('?');
    let mut text = parts.next().unwrap_or_default().to_string();
    for (part, p) in parts.zip(params) {
        text.push_str(&literal(p));
        text.push_str(part);
    }
    text
}

fn async_value(p: &P) -> mysql_async::Value {
    use mysql_async::Value;
    match p {
        P::Null => Value::NULL,
        P::Int(i) => Value::Int(*i),
        P::Str(s) => Value::Bytes(s.as_bytes().to_vec()),
        P::DateTime(y, mo, d, h, mi, s, us) => Value::Date(*y as u16, *mo, *d, *h, *mi, *s, *us),
        P::Dec(d) => Value::Bytes(d.as_bytes().to_vec()),
        P::Bytes(b) => Value::Bytes(b.clone()),
    }
}

fn async_word(column: &mysql_async::Column, v: &mysql_async::Value) -> String {
    use mysql_async::Value;
    let binary_string = column.character_set() == 63
        && matches!(
            column.column_type(),
            ColumnType::MYSQL_TYPE_BLOB
                | ColumnType::MYSQL_TYPE_TINY_BLOB
                | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
                | ColumnType::MYSQL_TYPE_LONG_BLOB
                | ColumnType::MYSQL_TYPE_VAR_STRING
                | ColumnType::MYSQL_TYPE_STRING
                | ColumnType::MYSQL_TYPE_VARCHAR
        );
    match v {
        Value::NULL => "NULL".into(),
        Value::Bytes(b) if binary_string => hex(b),
        Value::Bytes(b) => {
            String::from_utf8(b.clone()).unwrap_or_else(|_| format!("<not utf-8 {}>", hex(b)))
        }
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Date(y, mo, d, h, mi, s, us) => {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}")
        }
        other => format!("{other:?}"),
    }
}

fn sqlx_word(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<String, sqlx::Error> {
    if row.try_get_raw(i)?.is_null() {
        return Ok("NULL".into());
    }
    let type_name = row.columns()[i].type_info().name().to_string();
    Ok(match type_name.as_str() {
        "BIGINT" | "INT" => row.try_get::<i64, _>(i)?.to_string(),
        "DATETIME" => {
            let t: PrimitiveDateTime = row.try_get(i)?;
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.microsecond()
            )
        }
        // Without the rust_decimal/bigdecimal features, a DECIMAL is read as its text.
        "DECIMAL" => row.try_get_unchecked::<String, _>(i)?,
        "BLOB" | "VARBINARY" | "BINARY" => hex(&row.try_get::<Vec<u8>, _>(i)?),
        _ => row.try_get::<String, _>(i)?,
    })
}

fn sqlx_error(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::Database(db) => match db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        {
            Some(my) => (my.number(), my.message().to_string()),
            None => (0, e.to_string()),
        },
        _ => (0, e.to_string()),
    }
}

fn async_error(e: mysql_async::Error) -> DbError {
    match &e {
        mysql_async::Error::Server(s) => (s.code, s.message.clone()),
        _ => (0, e.to_string()),
    }
}

impl Client {
    /// Connects as `app` to `customer` through the proxy on `port`.
    pub async fn connect(driver: &str, prepared: bool, port: u16) -> Client {
        match driver {
            "mysql_async" => {
                let url =
                    format!("mysql://app:secret@127.0.0.1:{port}/customer?prefer_socket=false");
                let conn = mysql_async::Conn::from_url(url.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("mysql_async connect: {e}"));
                Client::Async { conn, prepared }
            }
            "sqlx" => {
                let options = sqlx::mysql::MySqlConnectOptions::new()
                    .host("127.0.0.1")
                    .port(port)
                    .username("app")
                    .password("secret")
                    .database("customer")
                    .charset("utf8mb4");
                let conn = sqlx::MySqlConnection::connect_with(&options)
                    .await
                    .unwrap_or_else(|e| panic!("sqlx connect: {e}"));
                Client::Sqlx { conn, prepared }
            }
            other => panic!("unknown Rust driver {other}"),
        }
    }

    /// Runs `sql` with `params` (`?` placeholders).
    pub async fn q(&mut self, sql: &str, params: &[P]) -> Result<Out, DbError> {
        match self {
            Client::Async { conn, prepared } => {
                if *prepared {
                    let values: Vec<_> = params.iter().map(async_value).collect();
                    let result = conn.exec_iter(sql, values).await.map_err(async_error)?;
                    async_out(result).await
                } else {
                    let result = conn
                        .query_iter(render(sql, params))
                        .await
                        .map_err(async_error)?;
                    async_out(result).await
                }
            }
            Client::Sqlx { conn, prepared } => {
                let returns_rows = sql.trim_start().to_ascii_uppercase().starts_with("SELECT");
                if *prepared {
                    let mut query = sqlx::query(sql);
                    for p in params {
                        query = match p {
                            P::Null => query.bind(None::<String>),
                            P::Int(i) => query.bind(*i),
                            P::Str(s) => query.bind(s.clone()),
                            P::DateTime(y, mo, d, h, mi, s, us) => {
                                let month = Month::try_from(*mo).expect("month");
                                let date = Date::from_calendar_date(*y, month, *d)
                                    .and_then(|d| d.with_hms_micro(*h, *mi, *s, *us))
                                    .expect("datetime");
                                query.bind(date)
                            }
                            P::Dec(d) => query.bind(d.to_string()),
                            P::Bytes(b) => query.bind(b.clone()),
                        };
                    }
                    if returns_rows {
                        let rows = query.fetch_all(&mut *conn).await.map_err(sqlx_error)?;
                        sqlx_rows(&rows)
                    } else {
                        let r = query.execute(&mut *conn).await.map_err(sqlx_error)?;
                        Ok(Out::Ok {
                            id: r.last_insert_id(),
                            rows: r.rows_affected(),
                        })
                    }
                } else {
                    let text = render(sql, params);
                    if returns_rows {
                        let rows = sqlx::raw_sql(&text)
                            .fetch_all(&mut *conn)
                            .await
                            .map_err(sqlx_error)?;
                        sqlx_rows(&rows)
                    } else {
                        let r = sqlx::raw_sql(&text)
                            .execute(&mut *conn)
                            .await
                            .map_err(sqlx_error)?;
                        Ok(Out::Ok {
                            id: r.last_insert_id(),
                            rows: r.rows_affected(),
                        })
                    }
                }
            }
        }
    }

    async fn rows(&mut self, sql: &str, params: &[P]) -> Result<Vec<Vec<String>>, DbError> {
        match self.q(sql, params).await? {
            Out::Rows(rows) => Ok(rows),
            Out::Ok { .. } => Err((0, format!("{sql}: no result set"))),
        }
    }

    async fn count(&mut self, sql: &str, params: &[P]) -> Result<String, DbError> {
        let rows = self.rows(sql, params).await?;
        rows.first()
            .and_then(|r| r.first())
            .cloned()
            .ok_or_else(|| (0, format!("{sql}: no row")))
    }
}

async fn async_out<Proto: mysql_async::prelude::Protocol>(
    mut result: mysql_async::QueryResult<'_, '_, Proto>,
) -> Result<Out, DbError> {
    let columns = result.columns();
    let Some(columns) = columns.filter(|c| !c.is_empty()) else {
        let out = Out::Ok {
            id: result.last_insert_id().unwrap_or(0),
            rows: result.affected_rows(),
        };
        result.drop_result().await.map_err(async_error)?;
        return Ok(out);
    };
    let rows: Vec<mysql_async::Row> = result.collect().await.map_err(async_error)?;
    Ok(Out::Rows(
        rows.into_iter()
            .map(|r| {
                let values = r.unwrap();
                columns
                    .iter()
                    .zip(&values)
                    .map(|(c, v)| async_word(c, v))
                    .collect()
            })
            .collect(),
    ))
}

fn sqlx_rows(rows: &[sqlx::mysql::MySqlRow]) -> Result<Out, DbError> {
    rows.iter()
        .map(|r| {
            (0..r.columns().len())
                .map(|i| sqlx_word(r, i))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Out::Rows)
        .map_err(sqlx_error)
}

fn typed_params(tag: u32) -> [Vec<P>; 2] {
    let id = i64::from(tag) * 10;
    [
        vec![
            P::Int(id + 1),
            P::Null,
            P::Str("Zoë ✓ 日本 😀".into()),
            P::DateTime(2024, 2, 29, 13, 14, 15, 123_456),
            P::Dec("12345.6789"),
            P::Bytes((0..=255u8).collect()),
        ],
        vec![
            P::Int(id + 2),
            P::Str("n".into()),
            P::Str(String::new()),
            P::DateTime(1999, 12, 31, 23, 59, 59, 1),
            P::Dec("-0.0001"),
            P::Bytes(Vec::new()),
        ],
    ]
}

/// Runs the workload with `driver` (`mysql_async` | `sqlx`) and returns the transcript and
/// the error messages (the workload's stderr).
pub async fn workload(driver: &str, prepared: bool, port: u16, tag: u32) -> (String, String) {
    let mut c = Client::connect(driver, prepared, port).await;
    let mut out = Vec::<String>::new();
    let mut err = String::new();
    let names = names(tag);
    let phones = phones(tag);
    let mut ids = Vec::new();

    let step: Result<(), DbError> = async {
        for r in c
            .rows("SELECT id, name FROM commerce.product ORDER BY id", &[])
            .await?
        {
            out.push(format!("unsharded {}", r.join(" ")));
        }
        Ok(())
    }
    .await;
    record("unsharded", step, &mut out, &mut err);

    let step: Result<(), DbError> = async {
        for (name, phone) in names.iter().zip(phones) {
            let sql = "INSERT INTO person (name, phone) VALUES (?, ?)";
            match c.q(sql, &[P::Str(name.clone()), P::Int(phone)]).await? {
                Out::Ok { id, rows } => {
                    ids.push(id);
                    out.push(format!("insert {name} id={id} rows={rows}"));
                }
                Out::Rows(_) => return Err((0, "INSERT returned rows".into())),
            }
        }
        Ok(())
    }
    .await;
    record("insert", step, &mut out, &mut err);

    let step: Result<(), DbError> = async {
        for id in &ids {
            let sql = "SELECT id, name, phone FROM person WHERE id = ?";
            for r in c.rows(sql, &[P::Int(*id as i64)]).await? {
                out.push(format!("by_id {}", r.join(" ")));
            }
        }
        for name in &names {
            let sql = "SELECT id, name, phone FROM person WHERE name = ?";
            for r in c.rows(sql, &[P::Str(name.clone())]).await? {
                out.push(format!("by_name {}", r.join(" ")));
            }
        }
        for phone in phones {
            let sql = "SELECT id, name, phone FROM person WHERE phone = ?";
            for r in c.rows(sql, &[P::Int(phone)]).await? {
                out.push(format!("by_phone {}", r.join(" ")));
            }
        }
        Ok(())
    }
    .await;
    record("reads", step, &mut out, &mut err);

    let step: Result<(), DbError> = async {
        let name = P::Str(format!("p{tag}tx"));
        let phone = P::Int(rollback_phone(tag));
        c.q("BEGIN", &[]).await?;
        let inside = async {
            c.q(
                "INSERT INTO person (name, phone) VALUES (?, ?)",
                &[name.clone(), phone.clone()],
            )
            .await?;
            c.count(
                "SELECT COUNT(*) FROM person WHERE name = ?",
                std::slice::from_ref(&name),
            )
            .await
        }
        .await;
        c.q("ROLLBACK", &[]).await?;
        let inside = inside?;
        let after = c
            .count("SELECT COUNT(*) FROM person WHERE name = ?", &[name])
            .await?;
        let by_phone = c
            .count("SELECT COUNT(*) FROM person WHERE phone = ?", &[phone])
            .await?;
        out.push(format!(
            "rollback inside={inside} after={after} by_phone={by_phone}"
        ));
        Ok(())
    }
    .await;
    record("rollback", step, &mut out, &mut err);

    let step: Result<(), DbError> = async {
        let rows = typed_params(tag);
        for row in &rows {
            let sql =
                "INSERT INTO typed (id, note, uni, ts, amount, data) VALUES (?, ?, ?, ?, ?, ?)";
            c.q(sql, row).await?;
        }
        for row in &rows {
            let sql = "SELECT id, note, uni, ts, amount, data FROM typed WHERE id = ?";
            for r in c.rows(sql, &row[..1]).await? {
                out.push(format!("typed {}", r.join(" ")));
            }
        }
        Ok(())
    }
    .await;
    record("typed", step, &mut out, &mut err);

    let step: Result<(), DbError> = async {
        let rows = c
            .rows("SELECT id, name, payload FROM big ORDER BY id", &[])
            .await?;
        let mut h = Sha256::new();
        for r in &rows {
            // The payload word is `x` + hex: the transcript's hash is over the bare hex.
            h.update(format!("{}|{}|{}\n", r[0], r[1], &r[2][1..]).as_bytes());
        }
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        out.push(format!("scatter rows={} sha256={digest}", rows.len()));
        Ok(())
    }
    .await;
    record("scatter", step, &mut out, &mut err);

    let cases = [
        (
            "dup_pk",
            "INSERT INTO typed (id, note) VALUES (?, ?)",
            vec![P::Int(i64::from(tag) * 10 + 1), P::Str("again".into())],
        ),
        (
            "dup_phone",
            "INSERT INTO person (name, phone) VALUES (?, ?)",
            vec![P::Str(format!("p{tag}dup")), P::Int(phones[0])],
        ),
    ];
    for (what, sql, params) in cases {
        match c.q(sql, &params).await {
            Ok(_) => out.push(format!("{what} no error")),
            Err((code, msg)) => {
                out.push(format!("{what} errno={code}"));
                if code != 1062 {
                    err.push_str(&format!("{what}: {msg}\n"));
                }
            }
        }
    }

    let step: Result<(), DbError> = async {
        let a = c
            .count(
                "SELECT COUNT(*) FROM person WHERE name = ?",
                &[P::Str(names[0].clone())],
            )
            .await?;
        let dup = c
            .count(
                "SELECT COUNT(*) FROM person WHERE name = ?",
                &[P::Str(format!("p{tag}dup"))],
            )
            .await?;
        out.push(format!("after_error a={a} dup={dup}"));
        Ok(())
    }
    .await;
    record("after_error", step, &mut out, &mut err);
    match c {
        Client::Async { conn, .. } => drop(conn.disconnect().await),
        Client::Sqlx { conn, .. } => drop(conn.close().await),
    }
    out.push("done".into());
    (out.join("\n") + "\n", err)
}

fn record(name: &str, step: Result<(), DbError>, out: &mut Vec<String>, err: &mut String) {
    if let Err((code, msg)) = step {
        out.push(format!("{name} ERROR {code}"));
        err.push_str(&format!("{name}: {msg}\n"));
    }
}
