//! Route resolution: evaluating a route's values through its vindex into shards.
//!
//! Pure: the caller passes the keyspace's shards (name and key range, in config order) and the
//! prepared-statement parameters; the result says which shards to query and, for IN routes,
//! which of the route's values belong to each shard (for pruning the IN list).

use super::ExecError;
use crate::keyrange::KeyRange;
use crate::planner::{Route, RouteOpcode, RouteValue};
use crate::vindex::coerce::{Coercion, Compared};
use crate::vindex::{Destination, SqlType, SqlValue};
use crate::vschema::VSchema;
use mysql_async::Value;

/// One shard a route reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardTarget {
    /// Index into the keyspace's shard list.
    pub shard: usize,
    /// Indexes into `Route::values` that map to this shard (empty for Scatter / AnyShard).
    pub values: Vec<usize>,
}

/// A string that is exactly a decimal integer (as MySQL stores it into an integer column)
/// becomes that integer, so `id = '-5'` and a parameter bound as the string "-5" map to the
/// same keyspace id as the number -5 (the row's real value). Vitess's `hash` would reject the
/// negative string and route nowhere, which for MySQL semantics is a wrong (empty) answer.
pub fn integer_like(v: SqlValue) -> SqlValue {
    // Only MySQL's canonical form (`-5`, not `007`): a string vindex must see the same bytes
    // as before, and integer vindexes already read `007` as 7.
    match crate::vindex::coerce::integer_text(&v) {
        Some(i) => i,
        None => v,
    }
}

/// The value a column of type `coerce` stores for route value `v` (an INSERT's value, an
/// UPDATE's new value), then [`integer_like`]; refuses (1235) one whose stored form the proxy
/// cannot reproduce. Without a coercion, the value as [`route_value`] reads it.
pub fn stored_value(
    v: &RouteValue,
    params: &[Value],
    coerce: Option<Coercion>,
) -> Result<SqlValue, ExecError> {
    let value = bound_value(v, params)?;
    let Some(coerce) = coerce else {
        return Ok(integer_like(value));
    };
    coerce
        .store(value)
        .map(integer_like)
        .map_err(|why| ExecError::NotSupported(format!("storing {why}")))
}

/// The value a column of type `coerce` stores for `v`, as [`stored_value`] but without
/// [`integer_like`] (lookup rows keep a string as a string).
pub fn stored_as_written(
    v: &RouteValue,
    params: &[Value],
    coerce: Option<Coercion>,
) -> Result<SqlValue, ExecError> {
    let value = bound_value(v, params)?;
    match coerce {
        None => Ok(value),
        Some(c) => c
            .store(value)
            .map_err(|why| ExecError::NotSupported(format!("storing {why}"))),
    }
}

/// How values meet each of `columns` of `keyspace.table` under vindex `vindex` (None for a
/// table or vindex the VSchema does not have).
pub fn column_coercions(
    vschema: &VSchema,
    keyspace: &str,
    table: &str,
    columns: &[String],
    vindex: &str,
) -> Vec<Option<Coercion>> {
    let table = vschema.table(keyspace, table);
    let entry = vschema.keyspace(keyspace).and_then(|k| k.vindex(vindex));
    columns
        .iter()
        .map(|c| {
            let (t, e) = (table?, entry?);
            Some(vschema.column_facts().coercion(vschema, t, c, e))
        })
        .collect()
}

/// The value of a route value as written or bound, without [`integer_like`] (lookup rows store
/// what the statement wrote).
pub fn bound_value(v: &RouteValue, params: &[Value]) -> Result<SqlValue, ExecError> {
    match v {
        RouteValue::Literal(s) => Ok(s.clone()),
        RouteValue::Param(i) => params
            .get(*i)
            .map(param_to_sql_value)
            .ok_or_else(|| ExecError::Internal(format!("parameter {i} is not bound"))),
    }
}

/// Converts a bound prepared-statement parameter into the vindex value model.
pub fn param_to_sql_value(v: &Value) -> SqlValue {
    match v {
        Value::NULL => SqlValue::null(),
        Value::Int(i) => SqlValue::int64(*i),
        Value::UInt(u) => SqlValue::uint64(*u),
        Value::Float(f) => SqlValue::float64(*f as f64),
        Value::Double(d) => SqlValue::float64(*d),
        Value::Bytes(b) => SqlValue::new(SqlType::VarBinary, b.clone()),
        other => SqlValue::varchar(other.as_sql(true).trim_matches('\'').as_bytes().to_vec()),
    }
}

/// The SQL value of a route value, binding parameters.
pub fn route_value(v: &RouteValue, params: &[Value]) -> Result<SqlValue, ExecError> {
    match v {
        RouteValue::Literal(s) => Ok(integer_like(s.clone())),
        RouteValue::Param(i) => params
            .get(*i)
            .map(|p| integer_like(param_to_sql_value(p)))
            .ok_or_else(|| ExecError::Internal(format!("parameter {i} is not bound"))),
    }
}

/// Shards a keyspace id belongs to (the first whose range contains it, like Vitess).
fn shard_of(ksid: &[u8], shards: &[(String, KeyRange)]) -> Result<usize, ExecError> {
    shards
        .iter()
        .position(|(_, r)| r.contains(ksid))
        .ok_or_else(|| {
            ExecError::Internal(format!(
                "KeyspaceId {} didn't match any shards",
                crate::keyrange::to_hex(ksid)
            ))
        })
}

/// Adds value `value` to `shard`'s target. Callers push value indexes in increasing order, so
/// a repeat can only be the last one pushed: checking it keeps routing an n-value IN list
/// linear (a scan of the list per value took seconds for 100k values and stalled every client).
fn push(targets: &mut Vec<ShardTarget>, shard: usize, value: Option<usize>) {
    match targets.iter_mut().find(|t| t.shard == shard) {
        Some(t) => {
            if let Some(v) = value {
                if t.values.last() != Some(&v) {
                    t.values.push(v);
                }
            }
        }
        None => targets.push(ShardTarget {
            shard,
            values: value.into_iter().collect(),
        }),
    }
}

/// Maps a destination to shard indexes.
pub fn destination_shards(
    dest: &Destination,
    shards: &[(String, KeyRange)],
) -> Result<Vec<usize>, ExecError> {
    Ok(match dest {
        Destination::KeyspaceId(k) => vec![shard_of(k, shards)?],
        Destination::KeyspaceIds(ks) => {
            let mut out = Vec::new();
            for k in ks {
                let s = shard_of(k, shards)?;
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        }
        Destination::KeyRange(r) => shards
            .iter()
            .enumerate()
            .filter(|(_, (_, sr))| sr.intersects(r))
            .map(|(i, _)| i)
            .collect(),
        Destination::None => Vec::new(),
    })
}

/// Resolves `route` to the shards it must query, in shard order.
pub fn resolve(
    route: &Route,
    params: &[Value],
    vschema: &VSchema,
    shards: &[(String, KeyRange)],
) -> Result<Vec<ShardTarget>, ExecError> {
    let all = || {
        (0..shards.len())
            .map(|shard| ShardTarget {
                shard,
                values: Vec::new(),
            })
            .collect::<Vec<_>>()
    };
    let mut targets = match &route.opcode {
        RouteOpcode::Scatter => return Ok(all()),
        RouteOpcode::None => return Ok(Vec::new()),
        RouteOpcode::AnyShard => {
            return Ok(if shards.is_empty() {
                Vec::new()
            } else {
                vec![ShardTarget {
                    shard: 0,
                    values: Vec::new(),
                }]
            })
        }
        RouteOpcode::ByDestination(name) => {
            let shard = shards
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name))
                .ok_or_else(|| ExecError::Internal(format!("unknown shard '{name}'")))?;
            return Ok(vec![ShardTarget {
                shard,
                values: Vec::new(),
            }]);
        }
        RouteOpcode::EqualUnique | RouteOpcode::Equal | RouteOpcode::In => Vec::new(),
    };
    let vindex_name = route
        .vindex
        .as_deref()
        .ok_or_else(|| ExecError::Internal("route without a vindex".into()))?;
    let entry = vschema
        .keyspace(&route.keyspace)
        .and_then(|k| k.vindex(vindex_name))
        .ok_or_else(|| ExecError::Internal(format!("unknown vindex '{vindex_name}'")))?;
    let vindex = entry.functional().ok_or_else(|| {
        ExecError::Internal(format!(
            "lookup vindex '{vindex_name}' routes through the executor's lookup step"
        ))
    })?;
    let compared = compared_values(route, params)?;
    let values: Vec<SqlValue> = compared
        .iter()
        .map(|v| v.clone().unwrap_or_else(SqlValue::null))
        .collect();
    let mut dests = vindex
        .map(&values)
        .map_err(|e| ExecError::Internal(format!("vindex '{vindex_name}': {e}")))?;
    for (d, v) in dests.iter_mut().zip(&compared) {
        if v.is_none() {
            *d = Destination::None;
        }
    }
    for (i, d) in dests.iter().enumerate() {
        for s in destination_shards(d, shards)? {
            push(&mut targets, s, Some(i));
        }
    }
    targets.sort_by_key(|t| t.shard);
    Ok(targets)
}

/// The route's values with parameters bound, converted to the vindex column's type as
/// MariaDB compares them ([`Route::coerce`]); a value no row can equal (`id = 4.5`) becomes
/// NULL, which maps nowhere. Refuses (1235) a value whose equal rows the vindex cannot find.
pub fn route_values(route: &Route, params: &[Value]) -> Result<Vec<SqlValue>, ExecError> {
    Ok(compared_values(route, params)?
        .into_iter()
        .map(|v| v.unwrap_or_else(SqlValue::null))
        .collect())
}

/// The route's values as [`route_values`] reads them; None for a value no row can equal.
fn compared_values(route: &Route, params: &[Value]) -> Result<Vec<Option<SqlValue>>, ExecError> {
    route
        .values
        .iter()
        .map(|v| {
            let Some(coerce) = route.coerce else {
                return route_value(v, params).map(Some);
            };
            match coerce.compare(bound_value(v, params)?) {
                Compared::Value(v) => Ok(Some(integer_like(v))),
                Compared::NoMatch => Ok(None),
                Compared::Unroutable(why) => Err(ExecError::NotSupported(format!(
                    "routing by vindex '{}' with {why}",
                    route.vindex.as_deref().unwrap_or("")
                ))),
            }
        })
        .collect()
}

/// The shards destinations reach, with the values (indexes into `dests`) each one holds.
pub fn targets_for(
    dests: &[Destination],
    shards: &[(String, KeyRange)],
) -> Result<Vec<ShardTarget>, ExecError> {
    let mut targets = Vec::new();
    for (i, d) in dests.iter().enumerate() {
        for s in destination_shards(d, shards)? {
            push(&mut targets, s, Some(i));
        }
    }
    targets.sort_by_key(|t| t.shard);
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_shards() -> Vec<(String, KeyRange)> {
        ["-80", "80-"]
            .iter()
            .map(|n| (n.to_string(), KeyRange::parse_shard_name(n).expect("name")))
            .collect()
    }

    fn vschema() -> VSchema {
        let ks = crate::vschema::KeyspaceSchema::parse(
            "customer",
            r#"{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
                "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}"#,
        )
        .expect("parse");
        VSchema::build(vec![ks], [("customer".to_string(), 2usize)].into()).expect("build")
    }

    fn route(opcode: RouteOpcode, values: Vec<RouteValue>) -> Route {
        Route {
            keyspace: "customer".into(),
            opcode,
            vindex: Some("hash".into()),
            values,
            coerce: None,
        }
    }

    #[test]
    fn equal_unique_hits_the_vitess_shard() {
        // hash(1) = 166b40b44aba4bd6 -> -80; hash(4) = d2fd8867d50d2dfe -> 80-
        let vs = vschema();
        let shards = two_shards();
        let r = route(
            RouteOpcode::EqualUnique,
            vec![RouteValue::Literal(SqlValue::int64(1))],
        );
        assert_eq!(resolve(&r, &[], &vs, &shards).expect("resolve")[0].shard, 0);
        let r = route(RouteOpcode::EqualUnique, vec![RouteValue::Param(0)]);
        assert_eq!(
            resolve(&r, &[Value::Int(4)], &vs, &shards).expect("resolve")[0].shard,
            1
        );
    }

    /// mysql2 binds every number as DOUBLE: 1e6 arrived as the text `1e+06`, which `hash`
    /// cannot read (the row was looked for nowhere); now it is the integer it equals.
    #[test]
    fn double_parameters_route_as_the_integer_they_equal() {
        let vs = vschema();
        let shards = two_shards();
        let mut r = route(RouteOpcode::EqualUnique, vec![RouteValue::Param(0)]);
        r.coerce = Some(crate::vindex::coerce::Coercion {
            column: Some(crate::vindex::coerce::ColumnClass::Integer),
            integer_vindex: true,
        });
        let expected = resolve(&r, &[Value::Int(1_000_000)], &vs, &shards).expect("int");
        assert_eq!(expected.len(), 1);
        let got = resolve(&r, &[Value::Double(1e6)], &vs, &shards).expect("double");
        assert_eq!(got, expected);
        let got = resolve(&r, &[Value::Bytes(b"1000000.0".to_vec())], &vs, &shards);
        assert_eq!(got.expect("string"), expected);
        // A fraction equals no integer: no shard.
        let none = resolve(&r, &[Value::Double(4.5)], &vs, &shards).expect("fraction");
        assert!(none.is_empty());
        // Beyond 2^53 neighbouring integers equal the DOUBLE: refused, not guessed.
        assert!(matches!(
            resolve(&r, &[Value::Double(2f64.powi(60))], &vs, &shards),
            Err(ExecError::NotSupported(_))
        ));
    }

    #[test]
    fn in_lists_are_split_per_shard() {
        let vs = vschema();
        let r = route(
            RouteOpcode::In,
            [1, 4, 2, 5]
                .iter()
                .map(|i| RouteValue::Literal(SqlValue::int64(*i)))
                .collect(),
        );
        let t = resolve(&r, &[], &vs, &two_shards()).expect("resolve");
        // 1 -> 16.., 2 -> 06.. (-80); 4 -> d2.., 5 -> 70.. (-80)
        assert_eq!(t.len(), 2);
        assert_eq!(
            t[0],
            ShardTarget {
                shard: 0,
                values: vec![0, 2, 3]
            }
        );
        assert_eq!(
            t[1],
            ShardTarget {
                shard: 1,
                values: vec![1]
            }
        );
    }

    #[test]
    fn integer_strings_route_like_integers() {
        let vs = vschema();
        let shards = two_shards();
        // hash(-1) = 355550b2150e2451 -> -80; hash(4) -> 80-
        for (v, shard) in [
            (RouteValue::Literal(SqlValue::varchar(b"-1".to_vec())), 0),
            (RouteValue::Literal(SqlValue::varchar(b"4".to_vec())), 1),
        ] {
            let r = route(RouteOpcode::EqualUnique, vec![v]);
            assert_eq!(
                resolve(&r, &[], &vs, &shards).expect("resolve")[0].shard,
                shard
            );
        }
        let r = route(RouteOpcode::EqualUnique, vec![RouteValue::Param(0)]);
        let t = resolve(&r, &[Value::Bytes(b"-1".to_vec())], &vs, &shards).expect("resolve");
        assert_eq!(t[0].shard, 0);
        // Not an integer: stays a string (hash maps it nowhere).
        assert_eq!(
            integer_like(SqlValue::varchar(b"1.5".to_vec())),
            SqlValue::varchar(b"1.5".to_vec())
        );
    }

    #[test]
    fn null_goes_nowhere_and_scatter_everywhere() {
        let vs = vschema();
        let r = route(
            RouteOpcode::EqualUnique,
            vec![RouteValue::Literal(SqlValue::null())],
        );
        assert!(resolve(&r, &[], &vs, &two_shards())
            .expect("resolve")
            .is_empty());
        let r = route(RouteOpcode::Scatter, vec![]);
        assert_eq!(
            resolve(&r, &[], &vs, &two_shards()).expect("resolve").len(),
            2
        );
    }
}
