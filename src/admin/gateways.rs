//! `SHOW VITESS_GATEWAYS` / `SHOW PROXIES`: the live proxies of the topology (Vitess lists its
//! vtgates with their cells; shardgate's proxies publish a record under their etcd lease). One
//! row per proxy, sorted by id: `Id`, `Address`, `Uptime` (seconds), `VSchemaRevision` (the
//! etcd revision of the VSchema it serves; 0 with the file topology), `OldestInFlight` (the
//! revision its oldest statement or transaction in flight was planned with), `Streams` (the
//! workflow streams it runs, comma-separated) and `Self` (`yes` for the proxy answering).

use super::show::like_match;
use super::{AdminError, AdminResult};
use crate::world::topology::ProxyRecord;

/// The result of `SHOW VITESS_GATEWAYS [LIKE]` over `records` (the answering proxy's own
/// record included), at Unix time `now`.
pub fn show_gateways(
    records: &[ProxyRecord],
    self_id: &str,
    now: u64,
    like: Option<&str>,
) -> Result<AdminResult, AdminError> {
    let mut records: Vec<&ProxyRecord> = records
        .iter()
        .filter(|r| like.is_none_or(|p| like_match(p, &r.id)))
        .collect();
    records.sort_by(|a, b| a.id.cmp(&b.id));
    let rows = records
        .into_iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.address.clone(),
                now.saturating_sub(r.started_unix).to_string(),
                r.vschema_revision.to_string(),
                r.oldest_in_flight_revision.to_string(),
                r.streams.join(","),
                if r.id == self_id { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    Ok(AdminResult::varchar(
        &[
            "Id",
            "Address",
            "Uptime",
            "VSchemaRevision",
            "OldestInFlight",
            "Streams",
            "Self",
        ],
        rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, started: u64, rev: i64) -> ProxyRecord {
        ProxyRecord {
            id: id.into(),
            address: format!("{id}:3306"),
            started_unix: started,
            vschema_revision: rev,
            oldest_in_flight_revision: rev - 1,
            streams: vec!["ks.v/-80".into(), "ks.v/80-".into()],
        }
    }

    #[test]
    fn one_sorted_row_per_proxy_with_uptime_and_self() {
        let r = show_gateways(&[rec("b", 90, 7), rec("a", 40, 9)], "b", 100, None).unwrap();
        let rows: Vec<Vec<String>> = r
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| match v {
                        mysql_async::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .collect();
        let r = &rows;
        assert_eq!(r.len(), 2);
        assert_eq!(r[0][0], "a");
        assert_eq!(r[0][2], "60");
        assert_eq!(r[0][3], "9");
        assert_eq!(r[0][4], "8");
        assert_eq!(r[0][5], "ks.v/-80,ks.v/80-");
        assert_eq!(r[0][6], "no");
        assert_eq!(r[1][6], "yes");
        let only =
            show_gateways(&[rec("b", 90, 7), rec("a", 40, 9)], "b", 100, Some("b%")).unwrap();
        assert_eq!(only.rows.len(), 1);
    }
}
