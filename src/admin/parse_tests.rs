//! Tests for [`super::parse_admin`]: spellings that must be recognised, statements that must be
//! left alone, and malformed or unsupported forms.

use super::*;

fn ok(sql: &str) -> AdminStatement {
    match parse_admin(sql) {
        Some(Ok(s)) => s,
        other => panic!("{sql:?} gave {other:?}"),
    }
}

fn err(sql: &str) -> AdminError {
    match parse_admin(sql) {
        Some(Err(e)) => e,
        other => panic!("{sql:?} gave {other:?}"),
    }
}

fn vexplain(mode: VExplainMode, execute_dml: bool, statement: &str) -> AdminStatement {
    AdminStatement::VExplain {
        mode,
        execute_dml,
        statement: statement.into(),
    }
}

#[test]
fn show_pools() {
    assert_eq!(ok("SHOW POOLS"), AdminStatement::ShowPools { like: None });
    assert_eq!(ok("show pools;"), AdminStatement::ShowPools { like: None });
    assert_eq!(
        ok("SHOW POOLS LIKE 'customer/%'"),
        AdminStatement::ShowPools {
            like: Some("customer/%".into())
        }
    );
    assert!(AdminStatement::ShowPools { like: None }.is_show());
    assert!(err("SHOW POOLS garbage").to_string().contains("garbage"));
}

#[test]
fn show_vitess_shards_spellings() {
    let plain = AdminStatement::ShowVitessShards { like: None };
    for sql in [
        "SHOW VITESS_SHARDS",
        "show vitess_shards",
        "  Show   Vitess_Shards ;",
        "/* hi */ SHOW /* there */ VITESS_SHARDS;;",
        "SHOW VITESS_SHARDS -- trailing\n",
        "/*vt+ QUERY_TIMEOUT_MS=10 */ show vitess_shards",
    ] {
        assert_eq!(ok(sql), plain, "{sql}");
    }
    assert_eq!(
        ok("SHOW VITESS_SHARDS LIKE 'ks/%'"),
        AdminStatement::ShowVitessShards {
            like: Some("ks/%".into())
        }
    );
    assert_eq!(
        ok("show vitess_shards like \"c\\_x%\";"),
        AdminStatement::ShowVitessShards {
            like: Some("c\\_x%".into())
        }
    );
}

#[test]
fn show_keyspaces_and_target() {
    assert_eq!(
        ok("SHOW KEYSPACES"),
        AdminStatement::ShowKeyspaces { like: None }
    );
    assert_eq!(
        ok("show vitess_keyspaces like 'c%'"),
        AdminStatement::ShowKeyspaces {
            like: Some("c%".into())
        }
    );
    assert_eq!(
        ok("SHOW KEYSPACES LIKE 'c%'"),
        AdminStatement::ShowKeyspaces {
            like: Some("c%".into())
        }
    );
    assert_eq!(ok("show VITESS_TARGET;"), AdminStatement::ShowVitessTarget);
}

#[test]
fn show_vschema_forms() {
    assert_eq!(
        ok("SHOW VSCHEMA KEYSPACES"),
        AdminStatement::ShowVSchemaKeyspaces
    );
    assert_eq!(
        ok("show vschema tables"),
        AdminStatement::ShowVSchemaTables { keyspace: None }
    );
    assert_eq!(
        ok("SHOW VSCHEMA TABLES FROM `customer`"),
        AdminStatement::ShowVSchemaTables {
            keyspace: Some("customer".into())
        }
    );
    assert_eq!(
        ok("SHOW VSCHEMA TABLES IN commerce;"),
        AdminStatement::ShowVSchemaTables {
            keyspace: Some("commerce".into())
        }
    );
    assert_eq!(
        ok("SHOW VSCHEMA VINDEXES"),
        AdminStatement::ShowVSchemaVindexes {
            table: None,
            keyspace: None
        }
    );
    let on = |q: Option<&str>, t: &str| AdminStatement::ShowVSchemaVindexes {
        table: Some((q.map(Into::into), t.into())),
        keyspace: None,
    };
    assert_eq!(ok("SHOW VSCHEMA VINDEXES ON user"), on(None, "user"));
    assert_eq!(
        ok("show vschema vindexes on customer.user"),
        on(Some("customer"), "user")
    );
    assert_eq!(
        ok("SHOW VSCHEMA VINDEXES ON `customer`.`user`;"),
        on(Some("customer"), "user")
    );
    assert_eq!(ok("SHOW VSCHEMA VINDEXES ON `we``ird`"), on(None, "we`ird"));
    // Vitess: FROM after VINDEXES names a table too.
    assert_eq!(ok("SHOW VSCHEMA VINDEXES FROM user"), on(None, "user"));
    assert_eq!(ok("SHOW VSCHEMA VINDEXES FROM ks.t"), on(Some("ks"), "t"));
    assert_eq!(
        ok("SHOW VSCHEMA VINDEXES IN customer"),
        AdminStatement::ShowVSchemaVindexes {
            table: None,
            keyspace: Some("customer".into())
        }
    );
}

#[test]
fn vexplain_modes() {
    use VExplainMode::*;
    assert_eq!(
        ok("VEXPLAIN QUERIES select * from user where id = 1"),
        vexplain(Queries, false, "select * from user where id = 1")
    );
    assert_eq!(
        ok("vexplain plan select 1;"),
        vexplain(Plan, false, "select 1")
    );
    assert_eq!(
        ok("VEXPLAIN select 1 ; ; "),
        vexplain(Plan, false, "select 1")
    );
    assert_eq!(
        ok("vexplain All select 1"),
        vexplain(All, false, "select 1")
    );
    // Byte-exact inner text: spacing, case, comments and directives inside are kept.
    let inner =
        "SELECT /*vt+ SCATTER_ERRORS_AS_WARNINGS */ a,\n  'x;y'  FROM t -- c\n WHERE b = \"q\"";
    assert_eq!(
        ok(&format!("VEXPLAIN QUERIES {inner};")),
        vexplain(Queries, false, inner)
    );
    // Comments before the inner statement are dropped.
    assert_eq!(
        ok("VEXPLAIN QUERIES /* c */ select 1"),
        vexplain(Queries, false, "select 1")
    );
}

#[test]
fn vexplain_execute_dml_directive() {
    use VExplainMode::*;
    let dml = "insert into user(id) values (1)";
    for sql in [
        format!("VEXPLAIN /*vt+ EXECUTE_DML_QUERIES */ QUERIES {dml}"),
        format!("vexplain /*vt+ execute_dml_queries */ queries {dml};"),
        format!("VEXPLAIN /*vt+ QUERY_TIMEOUT_MS=5 EXECUTE_DML_QUERIES=true */ QUERIES {dml}"),
        format!("VEXPLAIN /* note */ /*vt+ EXECUTE_DML_QUERIES */ QUERIES {dml}"),
    ] {
        assert_eq!(ok(&sql), vexplain(Queries, true, dml), "{sql}");
    }
    assert_eq!(
        ok(&format!("VEXPLAIN /*vt+ EXECUTE_DML_QUERIES */ {dml}")),
        vexplain(Plan, true, dml)
    );
    assert_eq!(
        ok(&format!(
            "VEXPLAIN /*vt+ EXECUTE_DML_QUERIES=false */ ALL {dml}"
        )),
        vexplain(All, false, dml)
    );
    // A directive inside the inner statement belongs to it, not to VEXPLAIN.
    let inner = "insert /*vt+ EXECUTE_DML_QUERIES */ into t values (1)";
    assert_eq!(
        ok(&format!("VEXPLAIN QUERIES {inner}")),
        vexplain(Queries, false, inner)
    );
    assert_eq!(
        ok("VEXPLAIN /*vt+ OTHER */ QUERIES select 1"),
        vexplain(Queries, false, "select 1")
    );
}

#[test]
fn malformed_statements_are_errors() {
    for sql in [
        "VEXPLAIN",
        "vexplain;",
        "VEXPLAIN QUERIES",
        "VEXPLAIN PLAN ;",
        "VEXPLAIN ALL /* only a comment */",
        "SHOW VITESS_SHARDS LIKE",
        "SHOW VITESS_SHARDS LIKE ks",
        "SHOW VITESS_SHARDS LIKE 'unterminated",
        "SHOW VITESS_SHARDS garbage",
        "SHOW VITESS_TARGET now",
        "SHOW KEYSPACES LIKE 'a' 'b'",
        "SHOW VSCHEMA",
        "SHOW VSCHEMA;",
        "SHOW VSCHEMA COLUMNS",
        "SHOW VSCHEMA TABLES FROM",
        "SHOW VSCHEMA TABLES LIKE 'x'",
        "SHOW VSCHEMA KEYSPACES extra",
        "SHOW VSCHEMA VINDEXES ON",
        "SHOW VSCHEMA VINDEXES ON ks.",
        "SHOW VSCHEMA VINDEXES ON 'user'",
        "SHOW VSCHEMA VINDEXES ON ``",
        "SHOW VSCHEMA VINDEXES ON a.b.c",
        "SHOW VSCHEMA VINDEXES user",
        "SHOW VSCHEMA VINDEXES IN",
    ] {
        let e = err(sql);
        assert!(matches!(e, AdminError::Syntax { .. }), "{sql}: {e:?}");
        assert_eq!(e.to_wire().0, 1064, "{sql}");
    }
    assert_eq!(
        err("SHOW VITESS_SHARDS garbage").to_string(),
        "syntax error at position 26 near 'garbage'"
    );
    assert_eq!(
        err("VEXPLAIN QUERIES").to_string(),
        "syntax error at position 16"
    );
}

#[test]
fn unsupported_vitess_forms() {
    for (sql, what) in [
        ("SHOW VITESS_TABLETS", "SHOW VITESS_TABLETS"),
        (
            "show vitess_replication_status like 'ks/0'",
            "SHOW VITESS_REPLICATION_STATUS",
        ),
        ("SHOW VITESS_MIGRATIONS", "SHOW VITESS_MIGRATIONS"),
        ("SHOW VITESS_THROTTLER STATUS", "SHOW VITESS_THROTTLER"),
        (
            "SHOW GLOBAL GTID_EXECUTED FROM ks",
            "SHOW GLOBAL GTID_EXECUTED",
        ),
        ("SHOW GLOBAL vgtid_executed", "SHOW GLOBAL VGTID_EXECUTED"),
        ("VEXPLAIN TRACE select 1", "VEXPLAIN TRACE"),
        ("vexplain keys select 1", "VEXPLAIN KEYS"),
        ("VEXPLAIN MYSQLPLAN select 1", "VEXPLAIN MYSQLPLAN"),
        (
            "SHOW VITESS_SHARDS WHERE x = 1",
            "WHERE in SHOW VITESS_SHARDS, use LIKE",
        ),
    ] {
        let e = err(sql);
        assert_eq!(e, AdminError::Unsupported(what.into()), "{sql}");
        assert_eq!(e.to_wire(), (1235, "42000"));
    }
}

#[test]
fn other_statements_are_not_ours() {
    for sql in [
        "",
        "   ",
        ";",
        "-- just a comment",
        "SHOW",
        "SHOW TABLES",
        "show databases",
        "SHOW DATABASES LIKE 'c%'",
        "SHOW FULL TABLES FROM customer",
        "SHOW CREATE TABLE user",
        "SHOW GLOBAL VARIABLES LIKE 'x'",
        "SHOW GLOBAL STATUS",
        "SHOW WARNINGS",
        "SHOW `VITESS_SHARDS`",
        "SHOW 'vschema'",
        "SELECT 'SHOW VITESS_SHARDS'",
        "select * from vexplain",
        "EXPLAIN select 1",
        "DESCRIBE user",
        "`show` vitess_shards",
        "/*!50000 SHOW VITESS_SHARDS */",
        "SHOWVITESS_SHARDS",
        "VEXPLAINQUERIES select 1",
        "shows vitess_shards",
        "\u{0}\u{1}garbage'\"`",
    ] {
        assert_eq!(parse_admin(sql), None, "{sql:?}");
    }
}

#[test]
fn never_panics_on_truncations() {
    let full = "VEXPLAIN /*vt+ EXECUTE_DML_QUERIES */ QUERIES select 'é' from `t` ; SHOW VSCHEMA VINDEXES ON `a`.`b` LIKE 'x\\%'";
    for end in 0..=full.len() {
        if let Some(prefix) = full.get(..end) {
            let _ = parse_admin(prefix);
        }
    }
}

#[test]
fn vexplain_dml_guard() {
    for sql in [
        "VEXPLAIN QUERIES insert into t values (1)",
        "vexplain all update t set a = 1",
        "VEXPLAIN QUERIES /* c */ delete from t",
        "VEXPLAIN ALL replace into t values (1)",
        "VEXPLAIN QUERIES with x as (select 1) delete from t",
    ] {
        assert_eq!(
            ok(sql).check_vexplain_dml(),
            Err(AdminError::VExplainDml),
            "{sql}"
        );
    }
    for sql in [
        "VEXPLAIN /*vt+ EXECUTE_DML_QUERIES */ QUERIES insert into t values (1)",
        "VEXPLAIN PLAN delete from t",
        "VEXPLAIN insert into t values (1)",
        "VEXPLAIN QUERIES select * from t",
        "VEXPLAIN ALL select 1",
    ] {
        assert_eq!(ok(sql).check_vexplain_dml(), Ok(()), "{sql}");
    }
    assert_eq!(
        AdminStatement::ShowVitessTarget.check_vexplain_dml(),
        Ok(())
    );
}
