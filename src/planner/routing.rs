//! Route selection: which vindex predicate of a table picks the fewest shards.
//!
//! Only top-level `AND` conjuncts of the table's own WHERE count. Each usable predicate on a
//! column with a single-column functional vindex of the table, or on the first from column
//! of a lookup vindex (not `write_only`), becomes an option (multi-column functional vindexes
//! are skipped for now). A functional vindex that is not exact for its column's collation
//! (`'s' = 'ß'` under `utf8mb4_general_ci` while `unicode_loose_md5` keys them apart; see
//! [`crate::schema_facts`] and [`crate::vindex::collation_compat`]) is skipped like a
//! `write_only` lookup, so such a predicate scatters:
//!
//! | predicate | option |
//! |---|---|
//! | `col = v`, `v = col` | EqualUnique (unique vindex) / Equal |
//! | `col IN (v, ...)` | In; a single value is Equal(Unique) |
//! | `(a, col) IN ((.., v), ...)` | In on the tuples' `col` values |
//!
//! `v` is a literal or `?` ([`super::values`]) whose type the vindex reads the way MySQL's `=`
//! compares it (see `fits`: `id = '5.0'` does not route on `hash`). A conjunct that is never true (`FALSE`, `0`,
//! `NULL`, `1 = 0`, `x = NULL`, `x IN (NULL)`) makes the route [`RouteOpcode::None`]. Options
//! compare by opcode (EqualUnique < Equal < In), then uniqueness, then vindex cost, then the
//! vindex's place in the table's list (the primary first); on a full tie the earlier predicate
//! stays. Nothing usable → Scatter. Vindex hints (`USE/IGNORE VINDEX`) remove options first
//! (see [`super::hints`]).

use super::plan::{InList, RouteOpcode, RouteValue};
use super::scope::{Analysis, Scope};
use super::values::{is_null, Text};
use super::Ctx;
use crate::vindex::coerce::{Coercion, Compared};
use crate::vindex::{SqlType, SqlValue};
use crate::vschema::LookupParams;
use sqlparser::ast::{BinaryOperator, Expr, Value};

/// The chosen route of one table instance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Choice {
    /// Shard selection.
    pub opcode: RouteOpcode,
    /// The vindex used (None for Scatter/None).
    pub vindex: Option<String>,
    /// Its values.
    pub values: Vec<RouteValue>,
    /// Where the IN items sit in the original text, when they are all literals.
    pub in_list: Option<InList>,
    /// How the values meet the vindex column (see [`crate::vindex::coerce`]).
    pub coerce: Option<Coercion>,
    unique: bool,
    cost: u32,
    /// Index of the column vindex in the table's list (primary = 0).
    position: usize,
}

impl Choice {
    /// No usable predicate: every shard.
    pub fn scatter() -> Self {
        Self::plain(RouteOpcode::Scatter)
    }

    /// A route without vindex.
    pub fn plain(opcode: RouteOpcode) -> Self {
        Choice {
            opcode,
            vindex: None,
            values: Vec::new(),
            in_list: None,
            coerce: None,
            unique: false,
            cost: 0,
            position: 0,
        }
    }

    /// Comparison key: lower is better.
    pub fn rank(&self) -> (u8, bool, u32, usize) {
        let op = match self.opcode {
            RouteOpcode::None => 0,
            RouteOpcode::EqualUnique => 1,
            RouteOpcode::Equal => 2,
            RouteOpcode::In => 3,
            _ => 4,
        };
        (op, !self.unique, self.cost, self.position)
    }

    /// Whether at most one shard answers.
    pub fn is_single_shard(&self) -> bool {
        matches!(
            self.opcode,
            RouteOpcode::EqualUnique | RouteOpcode::AnyShard | RouteOpcode::ByDestination(_)
        )
    }
}

/// The column a column reference means in `scope`: the instance (searched in `scope`, then
/// its parents for qualified names) and the lower-cased column name.
pub(crate) fn column_of(a: &Analysis<'_, '_>, scope: usize, e: &Expr) -> Option<(usize, String)> {
    match e {
        Expr::Nested(inner) => column_of(a, scope, inner),
        Expr::Identifier(c) => {
            let col = c.value.to_lowercase();
            let s = &a.scopes[scope];
            if !s.derived_aliases.is_empty() {
                return None;
            }
            let mut found = s.tables.iter().copied().filter(|&i| knows(a, i, &col));
            match (found.next(), found.next()) {
                (Some(i), None) => Some((i, col)),
                _ => None,
            }
        }
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [q, c] => {
                let mut s = Some(scope);
                while let Some(id) = s {
                    let sc: &Scope<'_> = &a.scopes[id];
                    if sc.derived_aliases.iter().any(|d| d == &q.value) {
                        return None;
                    }
                    let exact = sc
                        .tables
                        .iter()
                        .copied()
                        .find(|&i| a.instances[i].qualifier() == q.value);
                    let found = exact.or_else(|| {
                        sc.tables
                            .iter()
                            .copied()
                            .find(|&i| a.instances[i].qualifier().eq_ignore_ascii_case(&q.value))
                    });
                    if let Some(i) = found {
                        return Some((i, c.value.to_lowercase()));
                    }
                    s = sc.parent;
                }
                None
            }
            [ks, t, c] => a.scopes[scope]
                .tables
                .iter()
                .copied()
                .find(|&i| {
                    let inst = &a.instances[i];
                    inst.alias.is_none()
                        && inst.res.name == t.value
                        && inst.res.keyspace.name == ks.value
                })
                .map(|i| (i, c.value.to_lowercase())),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the VSchema knows `col` as a column of instance `i` (vindex, auto_increment or
/// `columns`).
pub(crate) fn knows(a: &Analysis<'_, '_>, i: usize, col: &str) -> bool {
    let Some(t) = a.instances[i].res.table else {
        return false;
    };
    t.column_vindexes
        .iter()
        .any(|cv| cv.columns.iter().any(|c| c == col))
        || t.auto_increment.as_ref().is_some_and(|ai| ai.column == col)
        || t.column(col).is_some()
}

/// The best route for instance `inst` from the WHERE conjuncts of its scope.
pub(crate) fn best_route(ctx: &Ctx<'_>, a: &Analysis<'_, '_>, inst: usize) -> Choice {
    let scope = a.instances[inst].scope;
    let mut best = Choice::scatter();
    for conj in &a.scopes[scope].conjuncts {
        if never_true(conj) {
            return Choice::plain(RouteOpcode::None);
        }
        for option in options(ctx, a, scope, inst, conj) {
            if option.rank() < best.rank() {
                best = option;
            }
        }
    }
    best
}

/// The route options one conjunct gives instance `inst`.
fn options(
    ctx: &Ctx<'_>,
    a: &Analysis<'_, '_>,
    scope: usize,
    inst: usize,
    conj: &Expr,
) -> Vec<Choice> {
    let on_inst = |e: &Expr| {
        column_of(a, scope, e)
            .filter(|(i, _)| *i == inst)
            .map(|(_, c)| c)
    };
    let text = &ctx.text;
    match conj {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            let pair = match (on_inst(left), on_inst(right)) {
                (Some(c), None) => Some((c, right)),
                (None, Some(c)) => Some((c, left)),
                _ => None,
            };
            let Some((col, value)) = pair else {
                return Vec::new();
            };
            match text.route_value(value) {
                Some(v) => vindex_options(ctx, a, inst, &col, vec![v], None),
                None => Vec::new(),
            }
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            if let Some(col) = on_inst(expr) {
                let values: Option<Vec<RouteValue>> =
                    list.iter().map(|x| text.route_value(x)).collect();
                let Some(values) = values else {
                    return Vec::new();
                };
                let items: Option<Vec<(usize, usize)>> =
                    list.iter().map(|x| text.literal_range(x)).collect();
                let in_list = items.and_then(|items| in_list(text, items, &values));
                return vindex_options(ctx, a, inst, &col, values, in_list);
            }
            let Expr::Tuple(cols) = expr.as_ref() else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for (k, c) in cols.iter().enumerate() {
                let Some(col) = on_inst(c) else { continue };
                let values: Option<Vec<RouteValue>> = list
                    .iter()
                    .map(|row| match row {
                        Expr::Tuple(items) if items.len() == cols.len() => {
                            items.get(k).and_then(|x| text.route_value(x))
                        }
                        _ => None,
                    })
                    .collect();
                let Some(values) = values else { continue };
                let ranges: Option<Vec<(usize, usize)>> =
                    list.iter().map(|row| tuple_range(text, row)).collect();
                let in_list = ranges.and_then(|r| in_list(text, r, &values));
                out.extend(vindex_options(ctx, a, inst, &col, values, in_list));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Options for `values` on column `col` of instance `inst`: one per usable vindex.
fn vindex_options(
    ctx: &Ctx<'_>,
    a: &Analysis<'_, '_>,
    inst: usize,
    col: &str,
    values: Vec<RouteValue>,
    in_list: Option<InList>,
) -> Vec<Choice> {
    let res = &a.instances[inst].res;
    let Some(table) = res.table else {
        return Vec::new();
    };
    let ks = res.keyspace;
    if values.is_empty() || values.iter().all(is_null) {
        return vec![Choice::plain(RouteOpcode::None)];
    }
    let column_type = table.column(col).and_then(|c| c.sql_type);
    let facts = ctx.vschema.column_facts();
    ks.column_vindexes(table)
        .enumerate()
        .filter(|(_, (cv, _))| super::hints::allows(ctx, a, inst, &cv.vindex))
        .filter(|(_, (cv, v))| {
            let coerce = facts.coercion(ctx.vschema, table, col, v);
            if let Some(lookup) = v.lookup() {
                return cv.columns.first().is_some_and(|c| c == col)
                    && lookup_routes(ctx, lookup, &values, coerce)
                    && ctx
                        .vschema
                        .column_facts()
                        .lookup_owner_exactness(ctx.vschema, table, col, lookup)
                        .is_exact();
            }
            v.functional().is_some()
                && cv.columns.len() == 1
                && cv.columns[0] == col
                && values
                    .iter()
                    .all(|x| fits(&ctx.text, &v.type_name, x, column_type, coerce))
                && ctx
                    .vschema
                    .column_facts()
                    .exactness(table, col, &v.type_name)
                    .is_exact()
        })
        .map(|(position, (cv, v))| {
            let opcode = match (values.len(), v.unique) {
                (1, true) => RouteOpcode::EqualUnique,
                (1, false) => RouteOpcode::Equal,
                _ => RouteOpcode::In,
            };
            Choice {
                in_list: if opcode == RouteOpcode::In {
                    in_list.clone()
                } else {
                    None
                },
                opcode,
                vindex: Some(cv.vindex.clone()),
                values: values.clone(),
                coerce: Some(facts.coercion(ctx.vschema, table, col, v)),
                unique: v.unique,
                cost: v.cost,
                position,
            }
        })
        .collect()
}

/// Whether a lookup vindex can route these values: not while it is `write_only`
/// (backfilling), only for the lookup types the executor runs, and, when the lookup table is
/// sharded by a functional vindex on its first from column, only for values that vindex
/// reads the way MySQL's `=` compares them (the lookup row must be found on its shard).
fn lookup_routes(
    ctx: &Ctx<'_>,
    lookup: &LookupParams,
    values: &[RouteValue],
    coerce: Coercion,
) -> bool {
    if lookup.write_only || lookup.kind.hashes_from() {
        return false;
    }
    let table = match &lookup.table.keyspace {
        Some(ks) => ctx.vschema.table(ks, &lookup.table.table),
        None => ctx
            .vschema
            .find_table(&lookup.table.table)
            .ok()
            .map(|(_, t)| t),
    };
    let Some(table) = table else {
        return true;
    };
    let Some(ks) = ctx.vschema.keyspace(&table.keyspace) else {
        return true;
    };
    let Some((cv, v)) = ks.primary_vindex(table) else {
        return true;
    };
    let first = lookup.from.first().map(|f| f.to_lowercase());
    if cv.columns.first().map(|c| c.to_lowercase()) != first {
        return true;
    }
    let column_type = first
        .as_deref()
        .and_then(|c| table.column(c))
        .and_then(|c| c.sql_type);
    values
        .iter()
        .all(|x| fits(&ctx.text, &v.type_name, x, column_type, coerce))
}

/// Whether routing literal `v` through a vindex of type `vindex_type` finds every row MySQL's
/// `=` would match. MySQL compares an integer column with a string numerically (`5 = '5.0'`)
/// and a string column with a number numerically (`'05' = 5`), while a vindex maps the value's
/// text; where the two can disagree the predicate is not used (the query scatters instead).
///
/// * integer vindexes (`hash`, `numeric`, `reverse_bits`, `numeric_static_map`): integers,
///   and strings that are plain digits (spaces or tabs around them allowed);
/// * the others (string vindexes): strings and hex literals; but when the VSchema gives the
///   column an integral type, integers and strings holding an integer exactly as MySQL prints
///   it (`'5'`, not `'05'`);
/// * DECIMAL and DOUBLE literals wherever [`Coercion::compare`] can route them: an integer
///   vindex or integer column reads `4.0` / `4e0` as 4 and `4.5` as equal to no row;
/// * `?` parameters always (typed and converted at execute time, [`Route::coerce`](super::plan::Route::coerce)), NULL always (never equal to anything);
///   but a `?` of a text statement's template as the literal it stands for.
///
/// [`literal_class`] must tell apart any two literals this function treats differently.
fn fits(
    text: &Text<'_>,
    vindex_type: &str,
    v: &RouteValue,
    column_type: Option<SqlType>,
    coerce: Coercion,
) -> bool {
    let lit = match v {
        RouteValue::Literal(lit) => lit,
        RouteValue::Param(i) => match text.bound.get(*i) {
            Some(lit) => lit,
            None => return true,
        },
    };
    let ty = lit.ty();
    if ty == SqlType::Null {
        return true;
    }
    if matches!(ty, SqlType::Decimal | SqlType::Float64) {
        // `id = 4.0`, `id = 4e0`: the executor converts the number to the integer it equals
        // (or knows no row can match `id = 4.5`); see [`crate::vindex::coerce`].
        return !matches!(coerce.compare(lit.clone()), Compared::Unroutable(_));
    }
    match vindex_type {
        "hash" | "numeric" | "reverse_bits" | "numeric_static_map" => {
            ty.is_integral() || (ty == SqlType::VarChar && plain_digits(lit.raw()))
        }
        "null" => true,
        _ if column_type.is_some_and(SqlType::is_integral) => {
            ty.is_integral() || (ty == SqlType::VarChar && canonical_integer(lit.raw()))
        }
        _ => matches!(ty, SqlType::VarChar | SqlType::HexVal | SqlType::HexNum),
    }
}

/// What [`fits`] reads of a literal, as one byte: two literals of the same class fit the same
/// vindexes of every column, so a template planned with one is right for the other (the plan
/// cache keys templates by their literals' classes).
pub fn literal_class(v: &SqlValue) -> u8 {
    let ty = v.ty();
    if ty == SqlType::Null {
        b'n'
    } else if ty.is_integral() {
        b'i'
    } else if ty == SqlType::VarChar {
        let raw = v.raw();
        match (plain_digits(raw), canonical_integer(raw)) {
            (false, false) => b's',
            (true, false) => b'd',
            (false, true) => b'c',
            (true, true) => b'b',
        }
    } else if matches!(ty, SqlType::HexVal | SqlType::HexNum) {
        b'h'
    } else if matches!(ty, SqlType::Decimal | SqlType::Float64) {
        // How an integer column compares it: an integer, a fraction, or neither.
        let integer = Coercion {
            column: Some(crate::vindex::coerce::ColumnClass::Integer),
            integer_vindex: true,
        };
        match integer.compare(v.clone()) {
            Compared::Value(_) => b'I',
            Compared::NoMatch => b'F',
            Compared::Unroutable(_) => b'o',
        }
    } else {
        b'o'
    }
}

/// `^[ \t]*[0-9]+[ \t]*$`: text Vitess's unsigned parse and MySQL's numeric comparison read
/// alike.
fn plain_digits(raw: &[u8]) -> bool {
    let trimmed: &[u8] = {
        let start = raw
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t'))
            .unwrap_or(raw.len());
        let end = raw
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(start, |e| e + 1);
        &raw[start..end.max(start)]
    };
    !trimmed.is_empty() && trimmed.iter().all(u8::is_ascii_digit)
}

/// Text that is an integer in MySQL's canonical form (`-5`, `0`; not `05`, `+5`, ` 5`).
fn canonical_integer(raw: &[u8]) -> bool {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|t| t.parse::<i128>().ok().map(|n| n.to_string() == t))
        .unwrap_or(false)
}

/// The byte range of a tuple of literals `(1, 'a')`, parentheses included.
fn tuple_range(text: &Text<'_>, row: &Expr) -> Option<(usize, usize)> {
    let Expr::Tuple(items) = row else { return None };
    let first = text.literal_range(items.first()?)?;
    let last = text.literal_range(items.last()?)?;
    let open = text.prev(text.token_at(first.0)?)?;
    let close_i = text.token_at(last.0)?;
    let close_i = (close_i..text.tokens.len()).find(|&j| text.tokens[j].start >= last.1)?;
    let close = text.tokens.get(close_i)?;
    (open.is_punct(text.sql, "(") && close.is_punct(text.sql, ")"))
        .then_some((open.start, close.end))
}

/// The IN list around literal items at `items`: the parentheses must enclose exactly them.
fn in_list(text: &Text<'_>, items: Vec<(usize, usize)>, values: &[RouteValue]) -> Option<InList> {
    if !text.templated() && values.iter().any(|v| matches!(v, RouteValue::Param(_))) {
        return None;
    }
    let first = items.first()?;
    let last = items.last()?;
    let open = text.prev(text.token_at(first.0)?)?;
    let after = (0..text.tokens.len()).find(|&j| text.tokens[j].start >= last.1)?;
    let close = text.tokens.get(after)?;
    if !open.is_punct(text.sql, "(") || !close.is_punct(text.sql, ")") {
        return None;
    }
    Some(InList {
        span: (open.end, close.start),
        items,
    })
}

/// Whether a WHERE conjunct can never be true.
pub(crate) fn never_true(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) => never_true(inner),
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => !b,
            Value::Null => true,
            Value::Number(n, _) => n.parse::<f64>().is_ok_and(|f| f == 0.0),
            _ => false,
        },
        Expr::BinaryOp { left, op, right } => {
            let null = |x: &Expr| matches!(x, Expr::Value(v) if v.value == Value::Null);
            let comparison = matches!(
                op,
                BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq
            );
            if comparison && (null(left) || null(right)) {
                return true;
            }
            let int = |x: &Expr| match x {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => n.parse::<i128>().ok(),
                    _ => None,
                },
                _ => None,
            };
            *op == BinaryOperator::Eq
                && matches!((int(left), int(right)), (Some(a), Some(b)) if a != b)
        }
        Expr::InList {
            list,
            negated: false,
            ..
        } => {
            list.is_empty()
                || list
                    .iter()
                    .all(|x| matches!(x, Expr::Value(v) if v.value == Value::Null))
        }
        _ => false,
    }
}

#[cfg(test)]
mod adjacent_string_tests {
    use crate::planner::tests::test_vschema;
    use crate::planner::{describe, plan};

    fn variant(q: &str) -> String {
        let p = plan(q, &test_vschema(), None).unwrap_or_else(|e| panic!("{q}: {e}"));
        describe(&p)["Variant"].as_str().unwrap_or("").to_string()
    }

    #[test]
    fn adjacent_string_literals_do_not_route() {
        // MySQL reads '1' '2' as '12': routing by the first piece would pick user 1's shard.
        assert_eq!(variant("SELECT id FROM user WHERE id = '1' '2'"), "Scatter");
        assert_eq!(
            variant("SELECT id FROM user WHERE id IN ('1' '2', '3')"),
            "Scatter"
        );
        assert_eq!(
            variant("SELECT id FROM user WHERE (id, name) IN (('1' '2', 'a'))"),
            "Scatter"
        );
        assert_eq!(
            variant("SELECT id FROM user WHERE id = '12'"),
            "EqualUnique"
        );
        assert_eq!(
            variant("SELECT id FROM user WHERE id = '12' AND name = 'a' 'b'"),
            "EqualUnique"
        );
    }
}

#[cfg(test)]
mod adjacent_string_insert_tests {
    use crate::planner::plan;
    use crate::planner::tests::test_vschema;

    #[test]
    fn adjacent_string_literals_never_place_an_insert() {
        // MySQL stores '1' '2' as id 12: placing the row by hash('1') would put it on the
        // wrong shard, so the value is not taken from the first piece (refused instead).
        let q = "INSERT INTO user (id, name) VALUES ('1' '2', 'x')";
        let err = plan(q, &test_vschema(), None).expect_err("placed by the first piece");
        assert!(err.to_string().contains("not supported"), "{err}");
    }
}
