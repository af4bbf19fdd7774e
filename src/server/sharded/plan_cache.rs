//! The plan cache of sharded statements: plans by statement text (prepared statements,
//! VEXPLAIN) or by literal-free template (text statements), keyed by VSchema generation and
//! target keyspace, so a statement shape is planned once per VSchema.

use crate::error::ProxyError;
use crate::planner::{self, Plan};
use crate::sql::{self, StatementKind};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the cache holds for one key.
#[derive(Debug)]
enum Cached {
    /// The plan of a statement text (prepared statements, VEXPLAIN, text statements without
    /// a template).
    Plan(Arc<Plan>),
    /// The plan of a text statement's template; [`planner::bind`] makes each statement's plan.
    Template(Arc<Plan>),
    /// The template could not be planned or bound: statements of this shape are planned by
    /// their own text (and cached as [`Cached::Plan`]).
    Fallback,
}

/// Which text a key holds (a template and a prepared statement's text may be equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KeyKind {
    Text,
    Template,
}

/// `(VSchema generation, kind, target keyspace + "\0" + text)`; a template's text is followed
/// by "\0" and its literals' classes ([`planner::literal_class`]).
type Key = (u64, KeyKind, String);

/// Plans of statements on sharded keyspaces, bounded by clearing when full.
///
/// Text SELECT/INSERT/REPLACE/UPDATE/DELETE are cached by **template**
/// ([`sql::parameterize`]): the statement with its route-relevant literals replaced by `?`,
/// plus each literal's class (what decides whether it can route through a vindex). The
/// template is planned once like a prepared statement ([`planner::plan_template`]); every
/// statement of that shape then costs a tokenize, a hash and a map lookup, and
/// [`planner::bind`] puts its own literals back: typed values into the route, the literal
/// text exactly as written into the shard SQL. The template text keeps the client's
/// whitespace and comments (only the replaced literals differ), so the shards get the
/// client's exact text. When the template cannot be planned or bound (e.g. two tables joined
/// by equal literals), that is remembered and statements of the shape are planned and cached
/// by their full text, as prepared statements' texts are; errors therefore always come from
/// planning the statement's own text.
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<Key, Cached>>,
    misses: AtomicU64,
    hits: AtomicU64,
}

const PLAN_CACHE_LIMIT: usize = 10_000;

/// Longest statement text or template kept as a cache key. Beyond it a statement is planned
/// for itself alone: a key holds its whole text, and 10,000 keys of statements with large
/// literals would hold gigabytes (and building the key costs a copy of the statement).
const CACHED_TEXT_LIMIT: usize = 256 * 1024;

impl PlanCache {
    /// The plan of a statement text on a sharded keyspace, cached by its full text (prepared
    /// statements, whose `?` are bound at execute time; VEXPLAIN; PREPARE-time checks).
    pub fn get_or_plan(
        &self,
        text: &str,
        vschema: &crate::vschema::VSchema,
        target: Option<&crate::session::Target>,
    ) -> Result<Arc<Plan>, ProxyError> {
        if text.len() > CACHED_TEXT_LIMIT {
            // Not worth a key as long as the statement (see `CACHED_TEXT_LIMIT`).
            self.misses.fetch_add(1, Ordering::Relaxed);
            return Ok(Arc::new(
                planner::plan(text, vschema, target).map_err(plan_error)?,
            ));
        }
        let key = (
            vschema.generation(),
            KeyKind::Text,
            target_text(target, text),
        );
        if let Some(Cached::Plan(p)) = self.lookup(&key).as_ref() {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(p.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let plan = Arc::new(planner::plan(text, vschema, target).map_err(plan_error)?);
        self.store(key, Cached::Plan(plan.clone()));
        Ok(plan)
    }

    /// The plan of a text-protocol statement of `kind` (no `?` parameters), through its
    /// template when it has one (see [`PlanCache`]).
    pub fn get_or_plan_text(
        &self,
        text: &str,
        kind: StatementKind,
        vschema: &crate::vschema::VSchema,
        target: Option<&crate::session::Target>,
    ) -> Result<Arc<Plan>, ProxyError> {
        let Some(p) = sql::parameterize(text, kind) else {
            return self.get_or_plan(text, vschema, target);
        };
        let mut literals: Vec<planner::BoundLiteral<'_>> = p
            .literals
            .iter()
            .map(|l| planner::BoundLiteral {
                raw: l.raw(text),
                value: planner::literal_value(text, l),
            })
            .collect();
        if p.template.len() > CACHED_TEXT_LIMIT {
            // A template as long as this (a literal the planner keeps, e.g. in the select
            // list) is planned for this statement alone, with no key and nothing kept.
            self.misses.fetch_add(1, Ordering::Relaxed);
            let bound = plan_template(&p.template, &mut literals, vschema, target)
                .ok()
                .and_then(|t| planner::bind(&t, &literals));
            drop(p);
            return match bound {
                Some(plan) => Ok(Arc::new(plan)),
                None => self.get_or_plan(text, vschema, target),
            };
        }
        let mut key_text = target_text(target, &p.template);
        key_text.push('\0');
        key_text.extend(
            literals
                .iter()
                .map(|l| char::from(planner::literal_class(&l.value))),
        );
        let key = (vschema.generation(), KeyKind::Template, key_text);
        let template = match self.lookup(&key) {
            Some(Cached::Template(t)) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                t
            }
            Some(_) => return self.get_or_plan(text, vschema, target),
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let planned = plan_template(&p.template, &mut literals, vschema, target);
                // (Bound once: the statement's plan is what the check makes.)
                let bound = planned
                    .ok()
                    .and_then(|t| planner::bind(&t, &literals).map(|plan| (t, plan)));
                match bound {
                    Some((t, plan)) => {
                        self.store(key, Cached::Template(Arc::new(t)));
                        return Ok(Arc::new(plan));
                    }
                    None => {
                        self.store(key, Cached::Fallback);
                        return self.get_or_plan(text, vschema, target);
                    }
                }
            }
        };
        match planner::bind(&template, &literals) {
            Some(plan) => Ok(Arc::new(plan)),
            None => self.get_or_plan(text, vschema, target),
        }
    }

    /// How many times a statement or template was planned (cache misses), for tests and
    /// metrics.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// How many plans came from the cache (`/metrics`).
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn lookup(&self, key: &Key) -> Option<Cached> {
        let plans = self.plans.lock().ok()?;
        Some(match plans.get(key)? {
            Cached::Plan(p) => Cached::Plan(p.clone()),
            Cached::Template(t) => Cached::Template(t.clone()),
            Cached::Fallback => Cached::Fallback,
        })
    }

    fn store(&self, key: Key, value: Cached) {
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() >= PLAN_CACHE_LIMIT {
                plans.clear();
            }
            plans.insert(key, value);
        }
    }
}

/// [`planner::plan_template`] with the literals' values, lent for the call (moved out and
/// back, not cloned: a literal may be hundreds of MiB).
fn plan_template(
    template: &str,
    literals: &mut [planner::BoundLiteral<'_>],
    vschema: &crate::vschema::VSchema,
    target: Option<&crate::session::Target>,
) -> Result<Plan, planner::PlanError> {
    let values: Vec<_> = literals
        .iter_mut()
        .map(|l| std::mem::replace(&mut l.value, crate::vindex::SqlValue::null()))
        .collect();
    let planned = planner::plan_template(template, &values, vschema, target);
    for (l, v) in literals.iter_mut().zip(values) {
        l.value = v;
    }
    planned
}

fn target_text(target: Option<&crate::session::Target>, text: &str) -> String {
    let target_key = target.map(|t| t.keyspace.as_str()).unwrap_or("");
    let mut key = String::with_capacity(target_key.len() + 1 + text.len() + 8);
    key.push_str(target_key);
    key.push('\0');
    key.push_str(text);
    key
}

fn plan_error(e: planner::PlanError) -> ProxyError {
    match e {
        planner::PlanError::Parse(m) => ProxyError::Parse(m),
        planner::PlanError::NotSupported(m) => ProxyError::NotSupported(m),
        planner::PlanError::NoDatabase => ProxyError::NoDatabase,
        other => {
            let (code, state) = other.mysql_code();
            ProxyError::Backend(crate::backend::BackendError::Server {
                code,
                state: state.to_string(),
                message: other.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec;

    fn customer() -> crate::session::Target {
        crate::session::Target {
            keyspace: "customer".into(),
            shard: None,
        }
    }

    fn two_shards() -> Vec<(String, crate::keyrange::KeyRange)> {
        ["-80", "80-"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    crate::keyrange::KeyRange::parse_shard_name(n).expect("name"),
                )
            })
            .collect()
    }

    /// The shard indexes a text statement's cached plan reaches, and its shard SQL.
    fn routed(
        cache: &PlanCache,
        vs: &crate::vschema::VSchema,
        sql: &str,
    ) -> (Vec<usize>, Vec<String>) {
        let plan = cache
            .get_or_plan_text(sql, sql::classify(sql), vs, Some(&customer()))
            .expect("plan");
        let Plan::Select(sp) = &*plan else {
            panic!("not a select: {plan:?}");
        };
        let targets =
            crate::exec::resolve::resolve(&sp.route, &[], vs, &two_shards()).expect("resolve");
        (
            targets.iter().map(|t| t.shard).collect(),
            targets
                .iter()
                .map(|t| exec::shard_sql(&sp.query, t).into_owned())
                .collect(),
        )
    }

    #[test]
    fn statements_differing_in_literals_share_one_plan() {
        let cache = PlanCache::default();
        let vs = crate::planner::tests::test_vschema();
        // hash(1) -> -80, hash(4) -> 80-
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=1");
        assert_eq!(
            (shards, sql),
            (vec![0], vec!["SELECT c FROM sbtest1 WHERE id=1".into()])
        );
        assert_eq!(cache.misses(), 1);
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=4");
        assert_eq!(
            (shards, sql),
            (vec![1], vec!["SELECT c FROM sbtest1 WHERE id=4".into()])
        );
        let (shards, _) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id='1'");
        assert_eq!(shards, vec![0]);
        // 1 and '1' are different literal classes: two templates, no more planning after.
        assert_eq!(cache.misses(), 2);
        for i in 1..50 {
            let (shards, _) = routed(&cache, &vs, &format!("SELECT c FROM sbtest1 WHERE id={i}"));
            assert_eq!(shards.len(), 1);
        }
        assert_eq!(cache.misses(), 2);
        // IN lists are pruned per shard with the literals as written.
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id IN (1, 4, 01)");
        assert_eq!(shards, vec![0, 1]);
        assert_eq!(
            sql,
            [
                "SELECT c FROM sbtest1 WHERE id IN (1, 01)",
                "SELECT c FROM sbtest1 WHERE id IN (4)"
            ]
        );
        assert_eq!(cache.misses(), 3);
        // A decimal with a fraction equals no integer: its own class, a route to no shard
        // (the query runs on one shard for its columns, its rows discarded).
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=1.50");
        assert_eq!(shards, Vec::<usize>::new());
        assert!(sql.is_empty());
        assert_eq!(cache.misses(), 4);
        // An integral decimal routes by the integer it equals, with a template of its own.
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=4.0");
        assert_eq!(
            (shards, sql),
            (vec![1], vec!["SELECT c FROM sbtest1 WHERE id=4.0".into()])
        );
        assert_eq!(cache.misses(), 5);
        let (shards, _) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=1.00");
        assert_eq!(shards, vec![0]);
        assert_eq!(cache.misses(), 5);
    }

    #[test]
    fn refused_templates_fall_back_to_the_text() {
        let cache = PlanCache::default();
        let vs = crate::planner::tests::test_vschema();
        let t = customer();
        let join = |a: u32, b: u32| {
            format!("select * from user u, orders o where u.id = {a} and o.user_id = {b}")
        };
        let plan = |sql: &str| cache.get_or_plan_text(sql, sql::classify(sql), &vs, Some(&t));
        // Equal literals route both tables to one shard; the template cannot know they are.
        assert!(plan(&join(5, 5)).is_ok());
        assert_eq!(cache.misses(), 2); // template refused, then the text
        assert!(plan(&join(5, 5)).is_ok());
        assert_eq!(cache.misses(), 2); // the text is cached, the refusal too
                                       // Different values: answered over copies, planned from the text.
        assert!(matches!(
            plan(&join(5, 6)).as_deref(),
            Ok(crate::planner::Plan::Materialize(_))
        ));
        assert_eq!(cache.misses(), 3);
        // Errors are the text's own.
        let bad = "select c from sbtest1 where id = 1 and";
        assert!(matches!(plan(bad), Err(ProxyError::Parse(_))));
        assert!(matches!(plan(bad), Err(ProxyError::Parse(_))));
        // Prepared statements never see templates, and the other way round.
        let prepared = "select c from sbtest1 where id = ?";
        assert!(cache.get_or_plan(prepared, &vs, Some(&t)).is_ok());
        let (shards, _) = routed(&cache, &vs, "select c from sbtest1 where id = 4");
        assert_eq!(shards, vec![1]);
    }
}
