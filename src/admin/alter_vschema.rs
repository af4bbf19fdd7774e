//! `ALTER VSCHEMA` (Vitess's syntax): edits one keyspace's VSchema JSON. Parsing and the edit
//! are pure; the server checks the user is an admin, validates the whole new VSchema and
//! writes it through the topology (`World::change_vschema`).
//!
//! ```text
//! ALTER VSCHEMA CREATE VINDEX [ks.]name USING type [WITH k = v, ...]
//! ALTER VSCHEMA DROP VINDEX [ks.]name
//! ALTER VSCHEMA ON [ks.]tbl ADD VINDEX name (col, ...) [USING type [WITH k = v, ...]]
//! ALTER VSCHEMA ON [ks.]tbl DROP VINDEX name
//! ALTER VSCHEMA ADD TABLE [ks.]tbl          (unsharded keyspaces)
//! ALTER VSCHEMA DROP TABLE [ks.]tbl
//! ALTER VSCHEMA ADD SEQUENCE [ks.]seq       (unsharded keyspaces)
//! ALTER VSCHEMA ON [ks.]tbl ADD AUTO_INCREMENT col USING [ks.]seq
//! ALTER VSCHEMA ON [ks.]tbl DROP AUTO_INCREMENT
//! ```
//!
//! As in Vitess: `WITH owner = t` becomes the vindex's `owner`, other parameters its `params`;
//! `ON t ADD VINDEX ... USING` also creates the vindex; a table's first vindex must be unique
//! (its primary vindex; checked by validation); dropping a table's last vindex drops the table
//! from the VSchema; a vindex a table still uses cannot be dropped.

use super::parse::Parser;
use super::AdminError;
use crate::sql::TokenKind;
use serde_json::{json, Map, Value};

/// A parsed `ALTER VSCHEMA`: the keyspace named by a qualifier (`None`: the session's) and
/// the edit.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterVSchema {
    /// `ks` of `ks.name`, if written.
    pub keyspace: Option<String>,
    /// What to change.
    pub change: Change,
}

/// One ALTER VSCHEMA edit (module header).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `CREATE VINDEX name USING type [WITH ...]`.
    CreateVindex {
        /// Vindex name.
        name: String,
        /// Vindex type (`hash`, `consistent_lookup`, ...).
        vindex_type: String,
        /// `WITH` parameters in order.
        params: Vec<(String, String)>,
    },
    /// `DROP VINDEX name`.
    DropVindex {
        /// Vindex name.
        name: String,
    },
    /// `ON tbl ADD VINDEX name (cols) [USING type [WITH ...]]`.
    AddColumnVindex {
        /// The table.
        table: String,
        /// Vindex name.
        name: String,
        /// The columns.
        columns: Vec<String>,
        /// With `USING`: the vindex to create (type, params).
        create: Option<(String, Vec<(String, String)>)>,
    },
    /// `ON tbl DROP VINDEX name`.
    DropColumnVindex {
        /// The table.
        table: String,
        /// Vindex name.
        name: String,
    },
    /// `ADD TABLE tbl`.
    AddTable {
        /// The table.
        table: String,
    },
    /// `DROP TABLE tbl`.
    DropTable {
        /// The table.
        table: String,
    },
    /// `ADD SEQUENCE seq`.
    AddSequence {
        /// The sequence table.
        table: String,
    },
    /// `ON tbl ADD AUTO_INCREMENT col USING [ks.]seq`.
    AddAutoIncrement {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The sequence as written (`seq` or `ks.seq`).
        sequence: String,
    },
    /// `ON tbl DROP AUTO_INCREMENT`.
    DropAutoIncrement {
        /// The table.
        table: String,
    },
}

/// Recognises `ALTER VSCHEMA ...`: `None` when `sql` is not one.
pub fn parse_alter_vschema(sql: &str) -> Option<Result<AlterVSchema, AdminError>> {
    let mut p = Parser::new(sql);
    if !(p.eat_word("alter") && p.eat_word("vschema")) {
        return None;
    }
    Some(parse_body(&mut p).and_then(|s| p.expect_end().map(|()| s)))
}

fn parse_body(p: &mut Parser) -> Result<AlterVSchema, AdminError> {
    if p.eat_word("create") {
        expect(p, "vindex")?;
        let (keyspace, name) = p.qualified()?;
        expect(p, "using")?;
        let vindex_type = p.ident()?;
        let params = with_params(p)?;
        return Ok(AlterVSchema {
            keyspace,
            change: Change::CreateVindex {
                name,
                vindex_type,
                params,
            },
        });
    }
    if p.eat_word("drop") {
        if p.eat_word("vindex") {
            let (keyspace, name) = p.qualified()?;
            return Ok(AlterVSchema {
                keyspace,
                change: Change::DropVindex { name },
            });
        }
        expect(p, "table")?;
        let (keyspace, table) = p.qualified()?;
        return Ok(AlterVSchema {
            keyspace,
            change: Change::DropTable { table },
        });
    }
    if p.eat_word("add") {
        let sequence = if p.eat_word("sequence") {
            true
        } else {
            expect(p, "table")?;
            false
        };
        let (keyspace, table) = p.qualified()?;
        let change = if sequence {
            Change::AddSequence { table }
        } else {
            Change::AddTable { table }
        };
        return Ok(AlterVSchema { keyspace, change });
    }
    expect(p, "on")?;
    let (keyspace, table) = p.qualified()?;
    let change = if p.eat_word("add") {
        if p.eat_word("auto_increment") {
            let column = p.ident()?;
            expect(p, "using")?;
            let (ks, seq) = p.qualified()?;
            Change::AddAutoIncrement {
                table,
                column,
                sequence: ks.map_or(seq.clone(), |k| format!("{k}.{seq}")),
            }
        } else {
            expect(p, "vindex")?;
            let name = p.ident()?;
            let columns = column_list(p)?;
            let create = if p.eat_word("using") {
                let t = p.ident()?;
                Some((t, with_params(p)?))
            } else {
                None
            };
            Change::AddColumnVindex {
                table,
                name,
                columns,
                create,
            }
        }
    } else {
        expect(p, "drop")?;
        if p.eat_word("auto_increment") {
            Change::DropAutoIncrement { table }
        } else {
            expect(p, "vindex")?;
            Change::DropColumnVindex {
                table,
                name: p.ident()?,
            }
        }
    };
    Ok(AlterVSchema { keyspace, change })
}

fn expect(p: &mut Parser, word: &str) -> Result<(), AdminError> {
    if p.eat_word(word) {
        Ok(())
    } else {
        Err(p.error_here())
    }
}

fn punct(p: &mut Parser, c: &str) -> bool {
    let hit = p.peek().is_some_and(|t| t.is_punct(p.src, c));
    if hit {
        p.pos += 1;
    }
    hit
}

/// `(col, ...)`.
fn column_list(p: &mut Parser) -> Result<Vec<String>, AdminError> {
    if !punct(p, "(") {
        return Err(p.error_here());
    }
    let mut cols = vec![p.ident()?];
    while punct(p, ",") {
        cols.push(p.ident()?);
    }
    if !punct(p, ")") {
        return Err(p.error_here());
    }
    Ok(cols)
}

/// `[WITH k = v, ...]`: values are identifiers, numbers or strings.
fn with_params(p: &mut Parser) -> Result<Vec<(String, String)>, AdminError> {
    let mut params = Vec::new();
    if !p.eat_word("with") {
        return Ok(params);
    }
    loop {
        let key = p.ident()?;
        if !punct(p, "=") {
            return Err(p.error_here());
        }
        let value = match p.peek() {
            Some(t) if t.kind == TokenKind::String && t.is_terminated(p.src) => {
                p.pos += 1;
                t.string_value(p.src).into_owned()
            }
            Some(t) if t.kind == TokenKind::Number => {
                p.pos += 1;
                t.text(p.src).to_string()
            }
            _ => {
                let (q, name) = p.qualified()?;
                q.map_or(name.clone(), |q| format!("{q}.{name}"))
            }
        };
        params.push((key, value));
        if !punct(p, ",") {
            return Ok(params);
        }
    }
}

fn invalid<T>(msg: String) -> Result<T, AdminError> {
    Err(AdminError::Invalid(msg))
}

/// The object at `v[key]`, created (or replaced, if not an object) as `{}`.
fn object<'a>(v: &'a mut Value, key: &str) -> Result<&'a mut Map<String, Value>, AdminError> {
    let Some(m) = v.as_object_mut() else {
        return invalid(format!("VSchema: the parent of '{key}' is not an object"));
    };
    let slot = m.entry(key.to_string()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot.as_object_mut() {
        Some(m) => Ok(m),
        None => invalid(format!("VSchema: '{key}' is not an object")),
    }
}

fn vindex_json(vindex_type: &str, params: &[(String, String)]) -> Value {
    let mut v = Map::new();
    v.insert("type".into(), json!(vindex_type));
    let mut p = Map::new();
    for (k, val) in params {
        if k.eq_ignore_ascii_case("owner") {
            v.insert("owner".into(), json!(val));
        } else {
            p.insert(k.clone(), json!(val));
        }
    }
    if !p.is_empty() {
        v.insert("params".into(), Value::Object(p));
    }
    Value::Object(v)
}

/// The existing entry of `table`, or the error naming it.
fn table_entry<'a>(
    v: &'a mut Value,
    keyspace: &str,
    table: &str,
) -> Result<&'a mut Map<String, Value>, AdminError> {
    match object(v, "tables")?
        .get_mut(table)
        .and_then(Value::as_object_mut)
    {
        Some(e) => Ok(e),
        None => invalid(format!(
            "table '{table}' does not exist in keyspace '{keyspace}'"
        )),
    }
}

/// Applies `change` to keyspace `keyspace`'s VSchema JSON (`sharded` as it is now); returns
/// the new JSON (validated by the caller as part of the whole VSchema).
pub fn apply(
    keyspace: &str,
    raw: &Value,
    sharded: bool,
    change: &Change,
) -> Result<Value, AdminError> {
    let mut v = if raw.is_object() {
        raw.clone()
    } else {
        json!({})
    };
    let exists = |v: &Value, name: &str| v.get("vindexes").and_then(|m| m.get(name)).is_some();
    match change {
        Change::CreateVindex {
            name,
            vindex_type,
            params,
        } => {
            if !sharded {
                return invalid(format!(
                    "keyspace '{keyspace}' is not sharded: it has no vindexes"
                ));
            }
            if exists(&v, name) {
                return invalid(format!(
                    "vindex '{name}' already exists in keyspace '{keyspace}'"
                ));
            }
            object(&mut v, "vindexes")?.insert(name.clone(), vindex_json(vindex_type, params));
        }
        Change::DropVindex { name } => {
            if let Some(t) = tables_using(&v, name).first() {
                return invalid(format!(
                    "cannot drop vindex '{name}': table '{t}' still uses it"
                ));
            }
            if object(&mut v, "vindexes")?.remove(name).is_none() {
                return invalid(format!(
                    "vindex '{name}' does not exist in keyspace '{keyspace}'"
                ));
            }
        }
        Change::AddColumnVindex {
            table,
            name,
            columns,
            create,
        } => {
            if !sharded {
                return invalid(format!(
                    "keyspace '{keyspace}' is not sharded: its tables have no vindexes"
                ));
            }
            match (create, exists(&v, name)) {
                (Some(_), true) => {
                    return invalid(format!(
                        "vindex '{name}' already exists in keyspace '{keyspace}'"
                    ))
                }
                (None, false) => {
                    return invalid(format!(
                        "vindex '{name}' does not exist in keyspace '{keyspace}'"
                    ))
                }
                (Some((t, params)), false) => {
                    object(&mut v, "vindexes")?.insert(name.clone(), vindex_json(t, params));
                }
                (None, true) => {}
            }
            let tables = object(&mut v, "tables")?;
            let entry = tables.entry(table.clone()).or_insert_with(|| json!({}));
            let Some(entry) = entry.as_object_mut() else {
                return invalid(format!(
                    "table '{table}': its VSchema entry is not an object"
                ));
            };
            let cvs = entry
                .entry("column_vindexes".to_string())
                .or_insert_with(|| json!([]));
            let Some(cvs) = cvs.as_array_mut() else {
                return invalid(format!("table '{table}': column_vindexes is not a list"));
            };
            if cvs
                .iter()
                .any(|cv| cv.get("name").and_then(Value::as_str) == Some(name.as_str()))
            {
                return invalid(format!("table '{table}' already has vindex '{name}'"));
            }
            cvs.push(if let [one] = columns.as_slice() {
                json!({"column": one, "name": name})
            } else {
                json!({"columns": columns, "name": name})
            });
        }
        Change::DropColumnVindex { table, name } => {
            let entry = table_entry(&mut v, keyspace, table)?;
            let Some(cvs) = entry
                .get_mut("column_vindexes")
                .and_then(Value::as_array_mut)
            else {
                return invalid(format!("table '{table}' has no vindex '{name}'"));
            };
            let before = cvs.len();
            cvs.retain(|cv| cv.get("name").and_then(Value::as_str) != Some(name.as_str()));
            if cvs.len() == before {
                return invalid(format!("table '{table}' has no vindex '{name}'"));
            }
            if cvs.is_empty() {
                object(&mut v, "tables")?.remove(table);
            }
        }
        Change::AddTable { table } | Change::AddSequence { table } => {
            if sharded {
                return invalid(format!(
                    "keyspace '{keyspace}' is sharded: add a table with ALTER VSCHEMA ON {table} ADD VINDEX (its primary vindex)"
                ));
            }
            let tables = object(&mut v, "tables")?;
            if tables.contains_key(table) {
                return invalid(format!(
                    "table '{table}' already exists in keyspace '{keyspace}'"
                ));
            }
            let entry = if matches!(change, Change::AddSequence { .. }) {
                json!({"type": "sequence"})
            } else {
                json!({})
            };
            tables.insert(table.clone(), entry);
        }
        Change::DropTable { table } => {
            if object(&mut v, "tables")?.remove(table).is_none() {
                return invalid(format!(
                    "table '{table}' does not exist in keyspace '{keyspace}'"
                ));
            }
        }
        Change::AddAutoIncrement {
            table,
            column,
            sequence,
        } => {
            let entry = table_entry(&mut v, keyspace, table)?;
            if entry.contains_key("auto_increment") {
                return invalid(format!("table '{table}' already has an auto_increment"));
            }
            entry.insert(
                "auto_increment".into(),
                json!({"column": column, "sequence": sequence}),
            );
        }
        Change::DropAutoIncrement { table } => {
            let entry = table_entry(&mut v, keyspace, table)?;
            if entry.remove("auto_increment").is_none() {
                return invalid(format!("table '{table}' has no auto_increment"));
            }
        }
    }
    Ok(v)
}

/// Tables of `v` with a column vindex named `vindex`.
fn tables_using(v: &Value, vindex: &str) -> Vec<String> {
    let Some(tables) = v.get("tables").and_then(Value::as_object) else {
        return Vec::new();
    };
    tables
        .iter()
        .filter(|(_, e)| {
            e.get("column_vindexes")
                .and_then(Value::as_array)
                .is_some_and(|cvs| {
                    cvs.iter()
                        .any(|cv| cv.get("name").and_then(Value::as_str) == Some(vindex))
                })
        })
        .map(|(n, _)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> AlterVSchema {
        parse_alter_vschema(sql)
            .expect("recognised")
            .expect("parses")
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse_alter_vschema("SELECT 1"), None);
        let a = parse("alter vschema create vindex customer.lk using consistent_lookup with owner = user, table = `lookup.lk`, from = 'name', to = keyspace_id");
        assert_eq!(a.keyspace.as_deref(), Some("customer"));
        assert_eq!(
            a.change,
            Change::CreateVindex {
                name: "lk".into(),
                vindex_type: "consistent_lookup".into(),
                params: vec![
                    ("owner".into(), "user".into()),
                    ("table".into(), "lookup.lk".into()),
                    ("from".into(), "name".into()),
                    ("to".into(), "keyspace_id".into()),
                ],
            }
        );
        assert!(
            matches!(parse("ALTER VSCHEMA ON t ADD VINDEX h (a, b) USING hash;").change,
            Change::AddColumnVindex { ref columns, create: Some(_), .. } if columns.len() == 2)
        );
        assert!(matches!(
            parse("ALTER VSCHEMA ON ks.t DROP VINDEX h").change,
            Change::DropColumnVindex { .. }
        ));
        assert!(matches!(
            parse("ALTER VSCHEMA ADD SEQUENCE seq").change,
            Change::AddSequence { .. }
        ));
        assert!(matches!(
            parse("ALTER VSCHEMA ADD TABLE t").change,
            Change::AddTable { .. }
        ));
        assert!(matches!(
            parse("ALTER VSCHEMA DROP TABLE t").change,
            Change::DropTable { .. }
        ));
        assert!(matches!(
            parse("ALTER VSCHEMA DROP VINDEX v").change,
            Change::DropVindex { .. }
        ));
        assert_eq!(
            parse("ALTER VSCHEMA ON t ADD AUTO_INCREMENT id USING commerce.t_seq").change,
            Change::AddAutoIncrement {
                table: "t".into(),
                column: "id".into(),
                sequence: "commerce.t_seq".into()
            }
        );
        assert!(matches!(
            parse("ALTER VSCHEMA ON t DROP AUTO_INCREMENT").change,
            Change::DropAutoIncrement { .. }
        ));
        for bad in [
            "ALTER VSCHEMA",
            "ALTER VSCHEMA CREATE VINDEX v",
            "ALTER VSCHEMA ON t ADD VINDEX v",
            "ALTER VSCHEMA ON t ADD VINDEX v (a",
            "ALTER VSCHEMA CREATE VINDEX v USING hash WITH a",
            "ALTER VSCHEMA DROP TABLE t extra",
        ] {
            assert!(
                matches!(
                    parse_alter_vschema(bad),
                    Some(Err(AdminError::Syntax { .. }))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn edits_follow_vitess_rules() {
        let ks = json!({"sharded": true, "vindexes": {"hash": {"type": "hash"}},
            "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}});
        let add = |c: &str| parse(c).change;
        let v = apply("customer", &ks, true, &add("ALTER VSCHEMA ON t ADD VINDEX lk (name) USING consistent_lookup WITH table = 'lookup.lk', from = name, to = keyspace_id, owner = t")).unwrap();
        assert_eq!(v["vindexes"]["lk"]["owner"], "t");
        assert_eq!(v["vindexes"]["lk"]["params"]["from"], "name");
        assert_eq!(
            v["tables"]["t"]["column_vindexes"][1],
            json!({"column": "name", "name": "lk"})
        );
        // A used vindex cannot go; a table's last vindex takes the table with it.
        let e = apply("customer", &v, true, &add("ALTER VSCHEMA DROP VINDEX lk")).unwrap_err();
        assert!(e.to_string().contains("still uses it"), "{e}");
        let v2 = apply(
            "customer",
            &v,
            true,
            &add("ALTER VSCHEMA ON t DROP VINDEX lk"),
        )
        .unwrap();
        let v2 = apply("customer", &v2, true, &add("ALTER VSCHEMA DROP VINDEX lk")).unwrap();
        assert!(v2["vindexes"].get("lk").is_none());
        let v3 = apply(
            "customer",
            &v2,
            true,
            &add("ALTER VSCHEMA ON t DROP VINDEX hash"),
        )
        .unwrap();
        assert!(v3["tables"].get("t").is_none());
        // Unsharded keyspaces: tables and sequences, no vindexes.
        let u = apply(
            "commerce",
            &json!({}),
            false,
            &add("ALTER VSCHEMA ADD SEQUENCE s"),
        )
        .unwrap();
        assert_eq!(u["tables"]["s"], json!({"type": "sequence"}));
        assert!(apply("commerce", &u, false, &add("ALTER VSCHEMA ADD TABLE s")).is_err());
        assert!(apply(
            "commerce",
            &u,
            false,
            &add("ALTER VSCHEMA CREATE VINDEX h USING hash")
        )
        .is_err());
        assert!(apply("customer", &ks, true, &add("ALTER VSCHEMA ADD TABLE x")).is_err());
        let ai = apply(
            "customer",
            &ks,
            true,
            &add("ALTER VSCHEMA ON t ADD AUTO_INCREMENT id USING commerce.s"),
        )
        .unwrap();
        assert_eq!(
            ai["tables"]["t"]["auto_increment"]["sequence"],
            "commerce.s"
        );
        assert!(apply(
            "customer",
            &ai,
            true,
            &add("ALTER VSCHEMA ON t ADD AUTO_INCREMENT id USING commerce.s")
        )
        .is_err());
        let none = apply(
            "customer",
            &ai,
            true,
            &add("ALTER VSCHEMA ON t DROP AUTO_INCREMENT"),
        )
        .unwrap();
        assert!(none["tables"]["t"].get("auto_increment").is_none());
        assert!(apply(
            "customer",
            &ks,
            true,
            &add("ALTER VSCHEMA ON nosuch DROP VINDEX hash")
        )
        .is_err());
        assert!(apply(
            "customer",
            &ks,
            true,
            &add("ALTER VSCHEMA CREATE VINDEX hash USING hash")
        )
        .is_err());
    }
}
