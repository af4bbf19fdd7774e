//! The invariant of `lookup-vindexes.md` §2.4, checked on a [`Snapshot`]: every owner row has
//! its lookup rows pointing at its keyspace id, no unique value is held twice, every row lives
//! on the shard its vindex names. Lookup rows without an owner are orphans: allowed, counted.

use crate::common::placement::{hash_ksid, text_ksid};
use crate::layout::shard_of;
use crate::shard_reads::Snapshot;
use shardgate::vindex::hash::vhash;
use std::collections::HashMap;

/// What the invariant check found.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Broken invariants, one line each (must be empty).
    pub(crate) violations: Vec<String>,
    /// Name lookup rows without their owner row.
    pub(crate) name_orphans: Vec<(String, i64)>,
    /// Phone lookup rows without their owner row.
    pub(crate) phone_orphans: Vec<i64>,
}

/// Checks the invariant on `snap`; the verdict lists what is broken and the orphans.
pub(crate) fn check_invariant(snap: &Snapshot) -> Verdict {
    let mut v = Verdict::default();
    let mut name_rows: HashMap<(String, i64), Vec<Option<Vec<u8>>>> = HashMap::new();
    for (shard, name, id, ksid) in &snap.names {
        let home = shard_of(&text_ksid(name));
        if home != shard {
            v.violations.push(format!(
                "name_user_vdx ({name:?}, {id}) is on lookup/{shard}, its vindex names lookup/{home}"
            ));
        }
        name_rows
            .entry((name.to_lowercase(), *id))
            .or_default()
            .push(ksid.clone());
    }
    let mut phone_rows: HashMap<i64, Vec<Option<Vec<u8>>>> = HashMap::new();
    for (shard, phone, ksid) in &snap.phones {
        let home = shard_of(&vhash(*phone as u64));
        if home != shard {
            v.violations.push(format!(
                "phone_user_vdx {phone} is on lookup/{shard}, its vindex names lookup/{home}"
            ));
        }
        phone_rows.entry(*phone).or_default().push(ksid.clone());
    }
    let mut owners_of_phone: HashMap<i64, Vec<i64>> = HashMap::new();
    for (shard, id, name, phone) in &snap.users {
        let ksid = hash_ksid(*id);
        let home = shard_of(&ksid);
        if home != shard {
            v.violations.push(format!(
                "user {id} is on customer/{shard}, hash(id) names customer/{home}"
            ));
        }
        match name {
            Some(name) => {
                let rows = name_rows
                    .get(&(name.to_lowercase(), *id))
                    .cloned()
                    .unwrap_or_default();
                if !rows.iter().any(|k| k.as_deref() == Some(ksid.as_slice())) {
                    v.violations.push(format!(
                        "user {id} (name {name:?}) has no name_user_vdx row pointing at it (rows: {rows:?})"
                    ));
                }
            }
            None => v
                .violations
                .push(format!("user {id} has a NULL name (never written)")),
        }
        if let Some(phone) = phone {
            owners_of_phone.entry(*phone).or_default().push(*id);
            let rows = phone_rows.get(phone).cloned().unwrap_or_default();
            if !rows.iter().any(|k| k.as_deref() == Some(ksid.as_slice())) {
                v.violations.push(format!(
                    "user {id} (phone {phone}) has no phone_user_vdx row pointing at it (rows: {rows:?})"
                ));
            }
        }
    }
    for (phone, ids) in &owners_of_phone {
        if ids.len() > 1 {
            v.violations.push(format!(
                "phone {phone} (unique vindex) is held by users {ids:?}"
            ));
        }
    }
    for (_, name, id, ksid) in &snap.names {
        let owned = snap.users.iter().any(|(_, uid, uname, _)| {
            uid == id
                && uname.as_deref().map(str::to_lowercase) == Some(name.to_lowercase())
                && ksid.as_deref() == Some(hash_ksid(*uid).as_slice())
        });
        if !owned {
            v.name_orphans.push((name.clone(), *id));
        }
    }
    for (_, phone, ksid) in &snap.phones {
        let owned = snap.users.iter().any(|(_, uid, _, uphone)| {
            *uphone == Some(*phone) && ksid.as_deref() == Some(hash_ksid(*uid).as_slice())
        });
        if !owned {
            v.phone_orphans.push(*phone);
        }
    }
    v.phone_orphans.sort_unstable();
    v.name_orphans.sort();
    v
}

/// The checker itself, on made-up snapshots (no database): it must flag what is broken and only
/// that, so a green chaos run means something.
#[test]
fn the_invariant_check_flags_what_is_broken() {
    let user = |id: i64, name: &str, phone: Option<i64>| {
        (
            shard_of(&hash_ksid(id)).to_string(),
            id,
            Some(name.to_string()),
            phone,
        )
    };
    let name = |name: &str, id: i64, ksid_of: i64| {
        (
            shard_of(&text_ksid(name)).to_string(),
            name.to_string(),
            id,
            Some(hash_ksid(ksid_of)),
        )
    };
    let phone = |phone: i64, ksid_of: i64| {
        (
            shard_of(&vhash(phone as u64)).to_string(),
            phone,
            Some(hash_ksid(ksid_of)),
        )
    };
    let good = Snapshot {
        users: vec![user(1, "alice", Some(7)), user(2, "bob", None)],
        names: vec![name("alice", 1, 1), name("bob", 2, 2), name("eve", 3, 3)],
        phones: vec![phone(7, 1), phone(8, 9)],
    };
    let v = check_invariant(&good);
    assert!(v.violations.is_empty(), "{:?}", v.violations);
    assert_eq!(v.name_orphans, vec![("eve".to_string(), 3)]);
    assert_eq!(v.phone_orphans, vec![8]);

    let bad = Snapshot {
        users: vec![
            user(1, "alice", Some(7)),
            user(2, "bob", Some(7)),
            user(4, "carol", Some(5)),
        ],
        // carol's name row points at another keyspace id; bob's is missing.
        names: vec![name("alice", 1, 1), name("carol", 4, 1)],
        // phone 5 (carol's) is missing; 7 is held twice and points at alice only.
        phones: vec![phone(7, 1)],
    };
    let v = check_invariant(&bad);
    let text = v.violations.join("\n");
    assert_eq!(v.violations.len(), 5, "{text}");
    assert!(
        text.contains("user 2 (name \"bob\") has no name_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("user 4 (name \"carol\") has no name_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("user 2 (phone 7) has no phone_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("user 4 (phone 5) has no phone_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("phone 7 (unique vindex) is held by users"),
        "{text}"
    );

    let misplaced = Snapshot {
        users: vec![(
            if shard_of(&hash_ksid(1)) == "-80" {
                "80-"
            } else {
                "-80"
            }
            .to_string(),
            1,
            Some("alice".into()),
            None,
        )],
        names: vec![(
            if shard_of(&text_ksid("alice")) == "-80" {
                "80-"
            } else {
                "-80"
            }
            .to_string(),
            "alice".into(),
            1,
            Some(hash_ksid(1)),
        )],
        phones: Vec::new(),
    };
    let v = check_invariant(&misplaced);
    let text = v.violations.join("\n");
    assert_eq!(v.violations.len(), 2, "{text}");
    assert!(text.contains("user 1 is on customer/"), "{text}");
    assert!(
        text.contains("name_user_vdx (\"alice\", 1) is on lookup/"),
        "{text}"
    );
}
