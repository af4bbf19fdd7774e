//! The JSON rendering of a [`Plan`], shaped like Vitess's VEXPLAIN PLAN: one operator object
//! with `OperatorType`, `Variant`, `Keyspace`, the query text and the route values. Golden
//! planner tests, `VEXPLAIN PLAN` and logs share it, so keep it stable.
//!
//! | plan | OperatorType | extra keys |
//! |---|---|---|
//! | Select | `Route` | `Vindex`, `Values`, `InList` (per-shard IN items), `Merge` |
//! | Dml | `Update` / `Delete` | `Vindex`, `Values`, `InList`, `HasLimit`, `Pick` (the SELECT picking a multi-shard LIMIT's rows) |
//! | Insert | `Insert` | `Table`, `Vindex`, `Prefix`, `Suffix`, `Rows`, `Sequence` |
//! | AllShards | `Send` (`Variant: AllShards`) | `Query` |
//! | Passthrough | `Send` (`Variant: Passthrough`) | |
//!
//! Values print as `TYPE(raw)` (`INT64(5)`, `VARCHAR("a")`) or `:vN` for the N-th `?`
//! (1-based, Vitess's positional names). Merge aggregates print as `kind(column)`, `Having`
//! as a condition over merged columns `[n]`, ORDER BY terms as `column ASC|DESC` (counted
//! from the first helper column when `HiddenTail` gives how many helper columns end the shard
//! rows); keys at their default (no aggregates, no DISTINCT, ...) are left out.

use super::plan::{
    CompareOp, HavingExpr, HavingLiteral, HavingOperand, InList, LimitValue, Merge, Plan,
    QueryTemplate, Route, RouteOpcode, RouteValue,
};
use crate::engine::AggregateSpec;
use crate::sql::{classify, StatementKind};
use serde_json::{json, Map, Value};

/// Renders a plan as JSON.
pub fn describe(plan: &Plan) -> Value {
    match plan {
        Plan::Passthrough { keyspace } => json!({
            "OperatorType": "Send",
            "Variant": "Passthrough",
            "Keyspace": {"Name": keyspace, "Sharded": false},
        }),
        Plan::Materialize(m) => json!({
            "OperatorType": "Materialize",
            "Keyspace": {"Name": m.scratch_keyspace},
            "Query": m.query,
            "Inputs": m.tables.iter().map(|t| json!({
                "Table": format!("{}.{}", t.keyspace, t.table),
                "TemporaryTable": t.temp,
                "Fetch": describe(&t.fetch),
                "ReducedBy": t.reductions.iter().map(|r| format!(
                    "{} IN ({}.{})", r.column, m.tables.get(r.source).map_or("?", |s| s.temp.as_str()), r.source_column
                )).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "FetchOrder": m.fetch_order,
        }),
        Plan::InsertSelect(p) => json!({
            "OperatorType": "InsertSelect",
            "Keyspace": {"Name": p.keyspace, "Sharded": true},
            "Insert": format!("{}VALUES (...) {}", p.head, p.tail).trim_end(),
            "Inputs": [describe(&p.select)],
        }),
        Plan::AllShards { keyspace, sql } => json!({
            "OperatorType": "Send",
            "Variant": "AllShards",
            "Keyspace": {"Name": keyspace, "Sharded": true},
            "Query": sql,
        }),
        Plan::Select(s) => {
            let mut o = route_object("Route", &s.route, &s.query);
            if let Some(m) = &s.merge {
                o.insert("Merge".into(), merge(m));
            }
            Value::Object(o)
        }
        Plan::Dml(d) => {
            let op = match classify(&d.query.sql) {
                StatementKind::Delete => "Delete",
                _ => "Update",
            };
            let mut o = route_object(op, &d.route, &d.query);
            if d.has_limit {
                o.insert("HasLimit".into(), Value::Bool(true));
            }
            if let Some(l) = &d.lookups {
                let names: Vec<Value> = l.owned.iter().map(|o| o.vindex.clone().into()).collect();
                o.insert("OwnedLookups".into(), Value::Array(names));
            }
            if let Some(p) = &d.pick {
                o.insert("Pick".into(), describe(&Plan::Select(p.select.clone())));
            }
            Value::Object(o)
        }
        Plan::Insert(p) => {
            let rows: Vec<Value> = p
                .rows
                .iter()
                .map(|r| {
                    let mut row = Map::new();
                    row.insert(
                        "Values".into(),
                        r.vindex_values
                            .iter()
                            .map(|v| v.as_ref().map_or_else(|| "next_id".to_string(), value))
                            .collect(),
                    );
                    row.insert("Tuple".into(), text(&p.source, r.span));
                    if let Some(span) = r.auto_increment_value {
                        row.insert("AutoIncrement".into(), text(&p.source, span));
                    }
                    Value::Object(row)
                })
                .collect();
            let mut o = Map::new();
            if !p.lookups.is_empty() {
                let names: Vec<Value> = p.lookups.iter().map(|l| l.vindex.clone().into()).collect();
                o.insert("OwnedLookups".into(), Value::Array(names));
            }
            // (No primary vindex: a table of an unsharded keyspace, planned for its sequence.)
            let sharded = !p.vindex.is_empty();
            o.insert("OperatorType".into(), "Insert".into());
            o.insert(
                "Variant".into(),
                if sharded { "Sharded" } else { "Unsharded" }.into(),
            );
            o.insert(
                "Keyspace".into(),
                json!({"Name": p.keyspace, "Sharded": sharded}),
            );
            o.insert("Table".into(), p.table.clone().into());
            if sharded {
                o.insert("Vindex".into(), p.vindex.clone().into());
            }
            o.insert("Prefix".into(), p.prefix.clone().into());
            if !p.suffix.is_empty() {
                o.insert("Suffix".into(), p.suffix.clone().into());
            }
            o.insert("Rows".into(), Value::Array(rows));
            if let Some((ks, table)) = &p.sequence {
                o.insert("Sequence".into(), format!("{ks}.{table}").into());
            }
            if p.auto_increment_omitted {
                o.insert("AutoIncrementOmitted".into(), Value::Bool(true));
            }
            Value::Object(o)
        }
    }
}

fn route_object(op: &str, route: &Route, query: &QueryTemplate) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("OperatorType".into(), op.into());
    o.insert("Variant".into(), opcode(&route.opcode).into());
    o.insert(
        "Keyspace".into(),
        json!({"Name": route.keyspace, "Sharded": true}),
    );
    o.insert("Query".into(), query.sql.clone().into());
    if let Some(v) = &route.vindex {
        o.insert("Vindex".into(), v.clone().into());
    }
    if !route.values.is_empty() {
        o.insert("Values".into(), route.values.iter().map(value).collect());
    }
    if let Some(list) = &query.in_list {
        o.insert("InList".into(), in_list(&query.sql, list));
    }
    o
}

/// Vitess's name for an opcode.
pub fn opcode(op: &RouteOpcode) -> String {
    match op {
        RouteOpcode::EqualUnique => "EqualUnique".into(),
        RouteOpcode::Equal => "Equal".into(),
        RouteOpcode::In => "IN".into(),
        RouteOpcode::Scatter => "Scatter".into(),
        RouteOpcode::None => "None".into(),
        RouteOpcode::ByDestination(shard) => format!("ByDestination({shard})"),
        RouteOpcode::AnyShard => "Reference".into(),
    }
}

/// `INT64(5)`, `VARCHAR("a")`, `NULL`, `:v1`.
pub fn value(v: &RouteValue) -> String {
    match v {
        RouteValue::Param(n) => format!(":v{}", n + 1),
        RouteValue::Literal(s) if s.is_null() => "NULL".into(),
        RouteValue::Literal(s) => {
            let raw = String::from_utf8_lossy(s.raw());
            let ty = s.ty().name();
            match s.ty() {
                crate::vindex::SqlType::VarChar | crate::vindex::SqlType::VarBinary => {
                    format!("{ty}({})", Value::String(raw.into_owned()))
                }
                _ => format!("{ty}({raw})"),
            }
        }
    }
}

fn text(source: &str, span: (usize, usize)) -> Value {
    source.get(span.0..span.1).unwrap_or("<bad span>").into()
}

fn in_list(sql: &str, list: &InList) -> Value {
    json!({
        "List": text(sql, list.span),
        "Items": list.items.iter().map(|&s| text(sql, s)).collect::<Vec<_>>(),
    })
}

fn merge(m: &Merge) -> Value {
    let mut o = Map::new();
    if let Some(specs) = &m.aggregates {
        o.insert(
            "Aggregates".into(),
            specs.iter().map(|s| Value::from(aggregate(s))).collect(),
        );
    }
    if let Some(h) = &m.having {
        o.insert("Having".into(), having(h).into());
    }
    if m.distinct {
        o.insert("Distinct".into(), Value::Bool(true));
    }
    if !m.order_by.is_empty() {
        o.insert(
            "OrderBy".into(),
            m.order_by
                .iter()
                .map(|k| format!("{} {}", k.column, if k.descending { "DESC" } else { "ASC" }))
                .collect(),
        );
    }
    if let Some(l) = m.limit {
        o.insert(
            "Limit".into(),
            json!({"Offset": limit_value(l.offset), "Count": l.count.map(limit_value)}),
        );
    }
    let visible = if m.visible_columns == usize::MAX {
        Value::from("all")
    } else {
        Value::from(m.visible_columns)
    };
    o.insert("VisibleColumns".into(), visible);
    if let Some(k) = m.hidden_tail {
        o.insert("HiddenTail".into(), Value::from(k));
    }
    Value::Object(o)
}

/// A LIMIT number, or `:vN` for the N-th `?` (1-based).
fn limit_value(v: LimitValue) -> Value {
    match v {
        LimitValue::Literal(n) => Value::from(n),
        LimitValue::Param(n) => Value::from(format!(":v{}", n + 1)),
    }
}

/// A HAVING condition as text: columns of the merged row as `[n]`, literals as SQL.
fn having(e: &HavingExpr) -> String {
    match e {
        HavingExpr::And(a, b) => format!("({} AND {})", having(a), having(b)),
        HavingExpr::Or(a, b) => format!("({} OR {})", having(a), having(b)),
        HavingExpr::Not(a) => format!("NOT {}", having(a)),
        HavingExpr::Compare { left, op, right } => {
            let op = match op {
                CompareOp::Eq => "=",
                CompareOp::NotEq => "<>",
                CompareOp::Lt => "<",
                CompareOp::LtEq => "<=",
                CompareOp::Gt => ">",
                CompareOp::GtEq => ">=",
                CompareOp::NullSafeEq => "<=>",
            };
            format!("{} {op} {}", operand(left), operand(right))
        }
        HavingExpr::IsNull { column, negated } => {
            format!("[{column}] IS {}NULL", if *negated { "NOT " } else { "" })
        }
    }
}

fn operand(o: &HavingOperand) -> String {
    match o {
        HavingOperand::Column(c) => format!("[{c}]"),
        HavingOperand::Literal(HavingLiteral::Null) => "NULL".into(),
        HavingOperand::Literal(HavingLiteral::Number(n)) => n.clone(),
        HavingOperand::Literal(HavingLiteral::Text(t)) => {
            format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''"))
        }
    }
}

fn aggregate(s: &AggregateSpec) -> String {
    match *s {
        AggregateSpec::GroupKey { column } => format!("group_key({column})"),
        AggregateSpec::Count { column } => format!("sum_count({column})"),
        AggregateSpec::Sum { column } => format!("sum({column})"),
        AggregateSpec::Min { column } => format!("min({column})"),
        AggregateSpec::Max { column } => format!("max({column})"),
        AggregateSpec::Avg {
            sum_column,
            count_column,
        } => format!("avg({sum_column}/{count_column})"),
        AggregateSpec::CountDistinct { column } => format!("count_distinct({column})"),
        AggregateSpec::SumDistinct { column } => format!("sum_distinct({column})"),
        AggregateSpec::AvgDistinct { column } => format!("avg_distinct({column})"),
        AggregateSpec::AnyValue { column } => format!("any_value({column})"),
    }
}
