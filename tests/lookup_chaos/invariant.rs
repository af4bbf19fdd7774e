//! The invariant of `lookup-vindexes.md` §2.4, checked on a [`Snapshot`] for every lookup use
//! of the layout: every owner row has its lookup rows pointing at its keyspace id; for an
//! UNOWNED use (verified, never written), the row's value maps to the row's own keyspace id;
//! no unique value is held by two rows; every row and lookup row lives on the shard its vindex
//! names. Lookup rows without an owner row are orphans: allowed, counted.

use crate::common::placement::{hash_ksid, text_ksid};
use crate::layout::{shard_of, table, LookupUse, TABLES};
use crate::shard_reads::{Cell, LookupRow, Snapshot};
use std::collections::{BTreeMap, HashMap};

/// What the invariant check found.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Broken invariants, one line each (must be empty).
    pub(crate) violations: Vec<String>,
    /// Orphan lookup rows by vindex.
    pub(crate) orphans: BTreeMap<String, usize>,
    /// Orphaned phones (for the reclaim probes).
    pub(crate) phone_orphans: Vec<i64>,
    /// (row, lookup use) pairs checked.
    pub(crate) checked: usize,
}

/// The keyspace id of owner row `cells` of `table_name`.
fn row_ksid(table_name: &str, cells: &[Cell]) -> Option<Vec<u8>> {
    let t = table(table_name);
    cells[t.pos(t.primary)].int().map(hash_ksid)
}

fn lookup_ksid(kind: &str, value: &Cell) -> Option<Vec<u8>> {
    match (kind, value) {
        ("hash", Cell::Int(n)) => Some(hash_ksid(*n)),
        ("unicode_loose_md5", Cell::Text(s)) => Some(text_ksid(s)),
        _ => None,
    }
}

fn describe(table_name: &str, cells: &[Cell]) -> String {
    let t = table(table_name);
    let parts: Vec<String> = t
        .columns
        .iter()
        .zip(cells)
        .map(|((c, _), v)| format!("{c}={v:?}"))
        .collect();
    format!("{table_name}({})", parts.join(", "))
}

/// Checks the invariant on `snap` for `uses` (each lookup use whose table must be complete).
pub(crate) fn check_invariant(snap: &Snapshot, uses: &[LookupUse]) -> Verdict {
    let mut v = Verdict::default();
    for t in TABLES {
        for row in snap.owners.get(t.name).into_iter().flatten() {
            match row_ksid(t.name, &row.cells) {
                Some(k) if shard_of(&k) == row.shard => {}
                _ => v.violations.push(format!(
                    "{} is on customer/{}, its primary vindex names another shard",
                    describe(t.name, &row.cells),
                    row.shard
                )),
            }
        }
    }
    // Lookup rows by table and key; each on the shard its own vindex names.
    let mut index: HashMap<&str, HashMap<Vec<Cell>, Vec<&LookupRow>>> = HashMap::new();
    for (name, rows) in &snap.lookups {
        let lu = uses.iter().find(|u| u.vindex == name.as_str());
        let by_key = index.entry(name.as_str()).or_default();
        for r in rows {
            let key: Vec<Cell> = r.from.iter().map(Cell::key).collect();
            if let (Some(lu), Some((col, kind))) = (lu, snap.sharding.get(name)) {
                let pos = lu.columns.iter().position(|c| c == col);
                let home = pos.and_then(|p| lookup_ksid(kind, &r.from[p]));
                if home.as_deref().map(shard_of) != Some(r.shard.as_str()) {
                    v.violations.push(format!(
                        "lookup row {name} {:?} is on lookup/{}, its vindex ({kind} on {col}) names another shard",
                        r.from, r.shard
                    ));
                }
                if lu.unique && by_key.get(&key).is_some_and(|k| !k.is_empty()) {
                    v.violations.push(format!(
                        "unique lookup {name} has two rows for {:?}",
                        r.from
                    ));
                }
            }
            by_key.entry(key).or_default().push(r);
        }
    }
    for lu in uses {
        let Some(lookup) = index.get(lu.vindex) else {
            v.violations
                .push(format!("lookup table {} does not exist", lu.vindex));
            continue;
        };
        let t = table(lu.table);
        let positions: Vec<usize> = lu.columns.iter().map(|c| t.pos(c)).collect();
        let mut holders: HashMap<Vec<Cell>, Vec<String>> = HashMap::new();
        let mut owned_pairs: Vec<(Vec<Cell>, Vec<u8>)> = Vec::new();
        for row in snap.owners.get(lu.table).into_iter().flatten() {
            let from: Vec<Cell> = positions.iter().map(|&p| row.cells[p].clone()).collect();
            if from.contains(&Cell::Null) {
                continue;
            }
            v.checked += 1;
            let key: Vec<Cell> = from.iter().map(Cell::key).collect();
            let Some(ksid) = row_ksid(lu.table, &row.cells) else {
                continue;
            };
            let rows = lookup.get(&key).cloned().unwrap_or_default();
            if !rows
                .iter()
                .any(|r| r.ksid.as_deref() == Some(ksid.as_slice()))
            {
                let what = if lu.owned {
                    "has no"
                } else {
                    "(UNOWNED use: never verified) has no"
                };
                let same_ksid: Vec<&Vec<Cell>> = snap
                    .lookups
                    .get(lu.vindex)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.ksid.as_deref() == Some(ksid.as_slice()))
                    .map(|r| &r.from)
                    .take(5)
                    .collect();
                v.violations.push(format!(
                    "{} {what} {} row pointing at its keyspace id (lookup rows for {from:?}: {:?}; its rows pointing at that keyspace id: {same_ksid:?})",
                    describe(lu.table, &row.cells),
                    lu.vindex,
                    rows.iter().map(|r| (&r.shard, &r.ksid)).collect::<Vec<_>>()
                ));
            }
            if lu.owned {
                holders
                    .entry(key.clone())
                    .or_default()
                    .push(describe(lu.table, &row.cells));
                owned_pairs.push((key, ksid));
            }
        }
        if lu.unique && lu.owned {
            for (key, rows) in holders.iter().filter(|(_, r)| r.len() > 1) {
                v.violations.push(format!(
                    "unique {} value {key:?} is held by {} rows: {}",
                    lu.vindex,
                    rows.len(),
                    rows.join(", ")
                ));
            }
        }
        if lu.owned {
            let mut orphans = 0;
            for (key, rows) in lookup {
                for r in rows {
                    let owned = owned_pairs
                        .iter()
                        .any(|(k, ksid)| k == key && r.ksid.as_deref() == Some(ksid.as_slice()));
                    if !owned {
                        orphans += 1;
                        if lu.vindex == "phone_user_vdx" {
                            if let Some(p) = r.from[0].int() {
                                v.phone_orphans.push(p);
                            }
                        }
                    }
                }
            }
            v.orphans.insert(lu.vindex.to_string(), orphans);
        }
    }
    v.phone_orphans.sort_unstable();
    v
}

/// The checker itself, on made-up snapshots (no database): it must flag what is broken and only
/// that, so a green chaos run means something.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LOOKUPS;
    use crate::shard_reads::OwnerRow;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }
    fn user(id: i64, name: &str, phone: Option<i64>) -> OwnerRow {
        OwnerRow {
            shard: shard_of(&hash_ksid(id)).into(),
            cells: vec![
                Cell::Int(id),
                t(name),
                phone.map_or(Cell::Null, Cell::Int),
                Cell::Null,
                Cell::Null,
                Cell::Int(0),
            ],
        }
    }
    fn extra(xid: i64, user_id: i64, phone: i64) -> OwnerRow {
        OwnerRow {
            shard: shard_of(&hash_ksid(user_id)).into(),
            cells: vec![Cell::Int(xid), Cell::Int(user_id), Cell::Int(phone), t("n")],
        }
    }
    fn order(oid: i64, cust: i64, sku: &str, region: i64, slot: i64) -> OwnerRow {
        OwnerRow {
            shard: shard_of(&hash_ksid(cust)).into(),
            cells: vec![
                Cell::Int(oid),
                Cell::Int(cust),
                t(sku),
                Cell::Int(region),
                Cell::Int(slot),
                Cell::Int(1),
            ],
        }
    }
    fn name_row(name: &str, id: i64, to: i64) -> LookupRow {
        LookupRow {
            shard: shard_of(&text_ksid(name)).into(),
            from: vec![t(name), Cell::Int(id)],
            ksid: Some(hash_ksid(to)),
        }
    }
    fn int_row(shard_by: i64, from: Vec<i64>, to: i64) -> LookupRow {
        LookupRow {
            shard: shard_of(&hash_ksid(shard_by)).into(),
            from: from.into_iter().map(Cell::Int).collect(),
            ksid: Some(hash_ksid(to)),
        }
    }
    fn sku_row(sku: &str, to: i64) -> LookupRow {
        LookupRow {
            shard: shard_of(&text_ksid(sku)).into(),
            from: vec![t(sku)],
            ksid: Some(hash_ksid(to)),
        }
    }
    fn snap(
        users: Vec<OwnerRow>,
        orders: Vec<OwnerRow>,
        extras: Vec<OwnerRow>,
        lookups: Vec<(&str, Vec<LookupRow>)>,
    ) -> Snapshot {
        let mut s = Snapshot::default();
        s.owners.insert("user".into(), users);
        s.owners.insert("orders".into(), orders);
        s.owners.insert("user_extra".into(), extras);
        for l in [
            "name_user_vdx",
            "phone_user_vdx",
            "email_user_vdx",
            "sku_order_vdx",
            "rs_order_vdx",
        ] {
            s.lookups.insert(l.into(), Vec::new());
        }
        for (l, rows) in lookups {
            s.lookups.insert(l.into(), rows);
        }
        for (table, col, kind) in [
            ("name_user_vdx", "name", "unicode_loose_md5"),
            ("phone_user_vdx", "phone", "hash"),
            ("email_user_vdx", "email", "unicode_loose_md5"),
            ("sku_order_vdx", "sku", "unicode_loose_md5"),
            ("rs_order_vdx", "slot", "hash"),
        ] {
            s.sharding.insert(table.into(), (col.into(), kind.into()));
        }
        s
    }

    #[test]
    fn the_invariant_check_flags_what_is_broken() {
        let good = snap(
            vec![user(1, "alice", Some(7)), user(2, "Bob", None)],
            vec![order(10, 5, "SKU-A", 1, 3)],
            vec![extra(1, 1, 7)],
            vec![
                (
                    "name_user_vdx",
                    vec![
                        name_row("alice", 1, 1),
                        name_row("bob", 2, 2),
                        name_row("eve", 3, 3),
                    ],
                ),
                (
                    "phone_user_vdx",
                    vec![int_row(7, vec![7], 1), int_row(8, vec![8], 9)],
                ),
                ("sku_order_vdx", vec![sku_row("sku-a", 5)]),
                ("rs_order_vdx", vec![int_row(3, vec![1, 3], 5)]),
            ],
        );
        let v = check_invariant(&good, &LOOKUPS);
        assert!(v.violations.is_empty(), "{:#?}", v.violations);
        assert_eq!(v.orphans["name_user_vdx"], 1);
        assert_eq!(v.phone_orphans, vec![8]);

        let bad = snap(
            // phone 7 held twice; bob has no name row.
            vec![user(1, "alice", Some(7)), user(2, "bob", Some(7))],
            // Two orders of one customer hold SKU-A (the item-1 shape); (2, 4) has no row.
            vec![order(10, 5, "SKU-A", 1, 3), order(11, 5, "sku-a", 2, 4)],
            // The unowned phone 7 maps to user 1, not to user 2's keyspace id.
            vec![extra(1, 2, 7)],
            vec![
                ("name_user_vdx", vec![name_row("alice", 1, 1)]),
                ("phone_user_vdx", vec![int_row(7, vec![7], 1)]),
                ("sku_order_vdx", vec![sku_row("SKU-A", 5)]),
                ("rs_order_vdx", vec![int_row(3, vec![1, 3], 5)]),
            ],
        );
        let v = check_invariant(&bad, &LOOKUPS);
        let text = v.violations.join("\n");
        for needle in [
            "name=Text(\"bob\")",
            "user(id=Int(2), name=Text(\"bob\"), phone=Int(7)",
            "unique phone_user_vdx value [Int(7)] is held by 2 rows",
            "unique sku_order_vdx value [Text(\"sku-a\")] is held by 2 rows",
            "slot=Int(4), qty=Int(1)) has no rs_order_vdx row",
            "user_extra(xid=Int(1), user_id=Int(2), phone=Int(7), note=Text(\"n\")) (UNOWNED use",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(v.violations.len(), 6, "{text}");

        let mut misplaced = good.clone();
        let other = |s: &str| if s == "-80" { "80-" } else { "-80" }.to_string();
        let u = &mut misplaced.owners.get_mut("user").expect("users")[0];
        u.shard = other(&u.shard);
        let r = &mut misplaced.lookups.get_mut("rs_order_vdx").expect("rs")[0];
        r.shard = other(&r.shard);
        let v = check_invariant(&misplaced, &LOOKUPS);
        let text = v.violations.join("\n");
        assert!(
            text.contains("user(id=Int(1)") && text.contains("is on customer/"),
            "{text}"
        );
        assert!(
            text.contains("lookup row rs_order_vdx [Int(1), Int(3)] is on lookup/"),
            "{text}"
        );
    }
}
