//! Tests of [`parameterize`]: which literals become `?` and which stay in the key.

use super::*;

fn template(sql: &str, kind: StatementKind) -> Option<String> {
    parameterize(sql, kind).map(|p| p.template)
}

fn sel(sql: &str) -> String {
    template(sql, StatementKind::Select).unwrap_or_else(|| sql.to_string())
}

fn raws(sql: &str, kind: StatementKind) -> Vec<String> {
    parameterize(sql, kind)
        .map(|p| p.literals.iter().map(|l| l.raw(sql).to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn where_comparisons_and_in_lists() {
    assert_eq!(
        sel("SELECT c FROM sbtest1 WHERE id=123"),
        "SELECT c FROM sbtest1 WHERE id=?"
    );
    assert_eq!(
        sel("select * from t where t.id = -5 and `name` <> 'x''y' or c.t.k >= 1.50"),
        "select * from t where t.id = ? and `name` <> ? or c.t.k >= ?"
    );
    assert_eq!(
        sel("select * from t where id in (1, -2, 'a') and k not in (3)"),
        "select * from t where id in (?, ?, ?) and k not in (?)"
    );
    assert_eq!(
        sel("select * from t where (a = 1 and (b = 2 or c <=> 3)) for update"),
        "select * from t where (a = ? and (b = ? or c <=> ?)) for update"
    );
    assert_eq!(
        sel("select * from t where id between 1 and 10 and k not between -3 and '4'"),
        "select * from t where id between ? and ? and k not between ? and ?"
    );
    assert_eq!(
        sel("select * from t where id = 1 order by 2 limit 5"),
        "select * from t where id = ? order by 2 limit 5"
    );
}

#[test]
fn raw_text_is_reproduced_exactly() {
    let sql =
        "select * from t where a = 1.50 and b = 'a\\'b' and c = - 7 and d = +8 and e in ('x',.5)";
    assert_eq!(
        raws(sql, StatementKind::Select),
        ["1.50", "'a\\'b'", "- 7", "+8", "'x'", ".5"]
    );
    let p = parameterize(sql, StatementKind::Select).expect("parameterized");
    assert!(p.literals[2].negative && !p.literals[3].negative);
    // Splicing the raw texts back gives the original statement.
    let pieces: Vec<&str> = p.template.split('?').collect();
    let mut back = pieces[0].to_string();
    for (lit, piece) in p.literals.iter().zip(&pieces[1..]) {
        back.push_str(lit.raw(sql));
        back.push_str(piece);
    }
    assert_eq!(back, sql);
}

#[test]
fn literals_kept_in_the_key() {
    for sql in [
        "select 1, 'a' from t",
        "select * from t order by 1",
        "select a from t group by 1 having count(*) > 5",
        "select * from t limit 10 offset 5",
        "select * from t where a = _utf8mb4'x' and b = N'y' and c = _binary 'z'",
        "select * from t where d = DATE '2020-01-01' and e > TIMESTAMP '2020-01-01 00:00:00'",
        "select * from t where d > now() - INTERVAL 1 DAY",
        "select cast(a as char(10)), cast(b as decimal(10,2)) from t",
        "select * from t where a = 'x' collate utf8mb4_bin",
        "select * from t where a = 'x' 'y'",
        "select * from t where id = 5 + 1 and 1 = 0 and 2 = k",
        "select * from t where id = 1e3 and h = 0x41 and x = x'41' and b = b'01'",
        "select * from t where id = \"dq\"",
        "select * from t where id = 0 and k = 00",
        "select * from t where f(1) = 2 and id = (select 3) and a like 'x%'",
        "select * from t where id = NULL and k = TRUE",
        "select * from t where not a = 1 and binary b = 'x'",
        "select * from t where id in (select 1) and k in ((1, 2))",
        "select * from t join u on u.id = 5 where x is null",
        "select * from t where id = 'unterminated",
    ] {
        assert_eq!(template(sql, StatementKind::Select), None, "{sql}");
    }
    assert_eq!(
        template(
            "select * from t where id = 1 /*! and k = 2 */",
            StatementKind::Select
        ),
        None
    );
    assert_eq!(
        template("select * from t where id = ?", StatementKind::Select),
        None
    );
    assert_eq!(
        template("select * from t where id = 1", StatementKind::Show),
        None
    );
}

#[test]
fn comments_and_whitespace_stay() {
    assert_eq!(
        sel("/* c */ select *\n from t -- x\n where id = /* 9 */ 5 /*vt+ X=1 */"),
        "/* c */ select *\n from t -- x\n where id = /* 9 */ ? /*vt+ X=1 */"
    );
}

#[test]
fn insert_values_and_update_set() {
    let ins = |sql: &str| template(sql, StatementKind::Insert);
    assert_eq!(
        ins("insert into t (id, k, c) values (1, -2, 'x'), (3, 4.5, now()), (0, null, default)")
            .as_deref(),
        Some("insert into t (id, k, c) values (?, ?, ?), (?, ?, now()), (0, null, default)")
    );
    assert_eq!(
        ins("insert into t (a) values (1) on duplicate key update a = 2").as_deref(),
        Some("insert into t (a) values (?) on duplicate key update a = 2")
    );
    assert_eq!(
        ins("insert into t (a, b) values (1, 2) on duplicate key update b = values(b) + 3")
            .as_deref(),
        Some("insert into t (a, b) values (?, ?) on duplicate key update b = values(b) + 3")
    );
    assert_eq!(
        ins("insert into t (a, b) values ((1), 2 + 3, 'a' 'b')"),
        None
    );
    assert_eq!(ins("insert into t (a) select 1 from u where id = 5"), None);
    assert_eq!(
        template("replace into t values (7, 'k')", StatementKind::Replace).as_deref(),
        Some("replace into t values (?, ?)")
    );
    let upd = |sql: &str| template(sql, StatementKind::Update);
    assert_eq!(
        upd("UPDATE sbtest1 SET k=k+1 WHERE id=42").as_deref(),
        Some("UPDATE sbtest1 SET k=k+1 WHERE id=?")
    );
    assert_eq!(
        upd("update t set c = 'x', t.d = -1.5 where id = 3 limit 1").as_deref(),
        Some("update t set c = ?, t.d = ? where id = ? limit 1")
    );
    assert_eq!(
        template("DELETE FROM sbtest1 WHERE id=7", StatementKind::Delete).as_deref(),
        Some("DELETE FROM sbtest1 WHERE id=?")
    );
}

#[test]
fn garbage_never_panics() {
    for sql in [
        "",
        "(",
        ")",
        "where",
        "select * from t where",
        "select * from t where id =",
        "select * from t where = 5",
        "select * from t where id between 1 and",
        "select * from t where between 1 and 2",
        "insert into t values (",
        "update t set = 1",
        "select * from t where ((((id = 1",
        "select * from t where id = 1))))",
        "- 5",
        "'x'",
    ] {
        for kind in [
            StatementKind::Select,
            StatementKind::Insert,
            StatementKind::Update,
        ] {
            let _ = parameterize(sql, kind);
        }
    }
}
