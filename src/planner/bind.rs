//! Binding a text statement's literals into the plan of its template.
//!
//! A text statement's template ([`crate::sql::parameterize`], planned by
//! [`super::plan_template`]) has a `?` where the statement has a literal. [`bind`] gives the
//! plan of the statement itself: every [`RouteValue::Param`] becomes the literal's value (typed
//! as the planner types literals, [`super::literal_value`]), and every `?` of the plan's SQL
//! texts becomes the literal **exactly as the client wrote it** (`1.50` stays `1.50`, `'a\'b'`
//! keeps its escape), with the byte ranges the executor uses (IN lists, INSERT rows) moved
//! accordingly. The shards therefore get the client's own text, as if the statement had been
//! planned by itself.
//!
//! The `?` of a plan's SQL are the template's first ones in order (a re-printed shard query
//! keeps them so, [`super::params`]), and an INSERT's suffix holds its last ones. Anything a
//! template plan cannot bind this way (a LIMIT `?`, more `?` than literals) gives None: the
//! caller then plans the statement's own text.

use super::plan::*;
use crate::sql::{tokenize, TokenKind};
use crate::vindex::SqlValue;

/// One literal of a text statement: its text as written and its typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundLiteral<'a> {
    /// The literal as the client wrote it (sign included).
    pub raw: &'a str,
    /// Its value ([`super::literal_value`]).
    pub value: SqlValue,
}

/// The plan of a statement whose literals are `literals`, from the plan of its template; None
/// when the template plan cannot take literals (see the module docs).
pub fn bind(plan: &Plan, literals: &[BoundLiteral<'_>]) -> Option<Plan> {
    Some(match plan {
        Plan::Passthrough { keyspace } => Plan::Passthrough {
            keyspace: keyspace.clone(),
        },
        Plan::Select(sp) => {
            if let Some(m) = &sp.merge {
                let params = m.limit.is_some_and(|l| l.has_params());
                if params || sp.query.limit_slot.is_some() {
                    return None;
                }
            }
            Plan::Select(SelectPlan {
                route: route(&sp.route, literals)?,
                query: query(&sp.query, literals)?,
                merge: match &sp.merge {
                    Some(m) => Some(Merge {
                        empty_scalar: match &m.empty_scalar {
                            Some(sql) => Some(splice(sql, literals)?.text),
                            None => None,
                        },
                        ..m.clone()
                    }),
                    None => None,
                },
                empty_without_rows: sp.empty_without_rows,
                fields: sp.fields.clone(),
            })
        }
        // Planned from its own text: its fetches carry the statement's filters.
        Plan::Materialize(_) | Plan::InsertSelect(_) => return None,
        // Owner DML of lookup vindexes is planned from its own text (not shared).
        Plan::Dml(dp) if dp.lookups.is_some() || dp.pick.is_some() => return None,
        Plan::Insert(ip) if !ip.lookups.is_empty() || !ip.unowned.is_empty() => return None,
        Plan::Dml(dp) => Plan::Dml(DmlPlan {
            route: route(&dp.route, literals)?,
            query: query(&dp.query, literals)?,
            has_limit: dp.has_limit,
            lookups: None,
            pick: None,
        }),
        Plan::Insert(ip) => insert(ip, literals)?,
        Plan::AllShards { keyspace, sql } => Plan::AllShards {
            keyspace: keyspace.clone(),
            sql: splice(sql, literals)?.text,
        },
    })
}

/// `template` with its k-th `?` replaced by `literals[k]`'s text as the client wrote it: for a
/// template of [`crate::sql::parameterize`] and its own literals, the client's statement byte
/// for byte. None with more `?` than literals. (What every bound plan's SQL text goes through.)
pub fn bind_text(template: &str, literals: &[BoundLiteral<'_>]) -> Option<String> {
    Some(splice(template, literals)?.text)
}

fn value(v: &RouteValue, literals: &[BoundLiteral<'_>]) -> Option<RouteValue> {
    Some(match v {
        RouteValue::Literal(_) => v.clone(),
        RouteValue::Param(i) => RouteValue::Literal(literals.get(*i)?.value.clone()),
    })
}

fn route(r: &Route, literals: &[BoundLiteral<'_>]) -> Option<Route> {
    Some(Route {
        keyspace: r.keyspace.clone(),
        opcode: r.opcode.clone(),
        vindex: r.vindex.clone(),
        values: r
            .values
            .iter()
            .map(|v| value(v, literals))
            .collect::<Option<_>>()?,
        coerce: r.coerce,
    })
}

fn query(q: &QueryTemplate, literals: &[BoundLiteral<'_>]) -> Option<QueryTemplate> {
    let s = splice(&q.sql, literals)?;
    let in_list = q.in_list.as_ref().map(|l| InList {
        span: s.range(l.span),
        items: l.items.iter().map(|r| s.range(*r)).collect(),
    });
    Some(QueryTemplate {
        sql: s.text,
        in_list,
        limit_slot: None,
    })
}

fn insert(ip: &InsertPlan, literals: &[BoundLiteral<'_>]) -> Option<Plan> {
    let source = splice(&ip.source, literals)?;
    let prefix = splice(&ip.prefix, literals)?;
    let in_suffix = params_in(&ip.suffix);
    let suffix = splice(
        &ip.suffix,
        literals.get(literals.len().checked_sub(in_suffix)?..)?,
    )?;
    let rows = ip
        .rows
        .iter()
        .map(|row| {
            Some(InsertRow {
                vindex_values: row
                    .vindex_values
                    .iter()
                    .map(|v| match v {
                        Some(v) => value(v, literals).map(Some),
                        None => Some(None),
                    })
                    .collect::<Option<_>>()?,
                span: source.range(row.span),
                auto_increment_value: row.auto_increment_value.map(|r| source.range(r)),
            })
        })
        .collect::<Option<_>>()?;
    Some(Plan::Insert(InsertPlan {
        keyspace: ip.keyspace.clone(),
        table: ip.table.clone(),
        vindex: ip.vindex.clone(),
        prefix: prefix.text,
        suffix: suffix.text,
        rows,
        sequence: ip.sequence.clone(),
        auto_increment_omitted: ip.auto_increment_omitted,
        source: source.text,
        lookups: Vec::new(),
        unowned: Vec::new(),
        ignore: ip.ignore,
        returning: ip.returning,
        upsert: None,
    }))
}

/// How many `?` a text holds.
fn params_in(sql: &str) -> usize {
    param_spans(sql).len()
}

/// The byte ranges of the `?` parameters of `sql`. Without quotes or comment starters every
/// `?` byte is a parameter, found without tokenizing (template texts usually have none: their
/// string literals became `?`); otherwise the tokenizer decides.
fn param_spans(sql: &str) -> Vec<(usize, usize)> {
    let bytes = sql.as_bytes();
    let plain = memchr::memchr3(b'\'', b'"', b'`', bytes).is_none()
        && memchr::memchr3(b'#', b'/', b'-', bytes).is_none();
    if plain {
        return memchr::memchr_iter(b'?', bytes)
            .map(|i| (i, i + 1))
            .collect();
    }
    tokenize(sql)
        .iter()
        .filter(|t| t.kind == TokenKind::Param)
        .map(|t| (t.start, t.end))
        .collect()
}

/// A text with its `?` replaced, and where the replacements moved the bytes after them.
struct Spliced {
    text: String,
    /// `(end of a replaced ? in the old text, total length change up to and including it)`.
    shifts: Vec<(usize, isize)>,
}

impl Spliced {
    /// The new position of old byte offset `at` (never inside a replaced `?`).
    fn at(&self, at: usize) -> usize {
        let n = self.shifts.partition_point(|(end, _)| *end <= at);
        let shift = n.checked_sub(1).map_or(0, |i| self.shifts[i].1);
        at.saturating_add_signed(shift)
    }

    fn range(&self, r: (usize, usize)) -> (usize, usize) {
        (self.at(r.0), self.at(r.1))
    }
}

/// Replaces the k-th `?` of `sql` with `literals[k]`'s text; None with more `?` than literals.
fn splice(sql: &str, literals: &[BoundLiteral<'_>]) -> Option<Spliced> {
    // Exactly what the text takes (a literal of hundreds of MiB is not reallocated as the
    // text grows).
    let spans = param_spans(sql);
    let spliced: usize = literals.iter().take(spans.len()).map(|l| l.raw.len()).sum();
    let mut text = String::with_capacity(sql.len() + spliced);
    let mut shifts = Vec::new();
    let mut at = 0;
    let mut shift = 0isize;
    let mut next = literals.iter();
    for (start, end) in spans {
        let lit = next.next()?;
        text.push_str(sql.get(at..start)?);
        text.push_str(lit.raw);
        shift += lit.raw.len() as isize - (end - start) as isize;
        shifts.push((end, shift));
        at = end;
    }
    text.push_str(sql.get(at..)?);
    Some(Spliced { text, shifts })
}

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
