//! The lookup table on the target shards: its column definitions, taken from the owner
//! table's `SHOW CREATE TABLE` (renamed to the from columns, without AUTO_INCREMENT or a NULL
//! default), the vindex that shards it by default, and whether it already exists (and is
//! empty) before the create.

use crate::backend::{BackendError, Shard};
use crate::workflow::WorkflowError;
use std::sync::Arc;

/// A column definition line of `SHOW CREATE TABLE` for `column`, renamed to `name`, with
/// AUTO_INCREMENT and DEFAULT NULL removed.
pub(super) fn column_definition(ddl: &str, column: &str, name: &str) -> Option<String> {
    let quoted = format!("`{column}`");
    let line = ddl
        .lines()
        .map(str::trim)
        .find(|l| l.len() >= quoted.len() && l[..quoted.len()].eq_ignore_ascii_case(&quoted))?;
    let rest = line[quoted.len()..].trim_end_matches(',');
    let rest = rest
        .replace(" AUTO_INCREMENT", "")
        .replace(" DEFAULT NULL", "");
    Some(format!("{} {}", crate::sql::quote_ident(name), rest.trim()))
}

/// The default vindex type for a lookup table sharded by a column of this definition.
pub(super) fn default_table_vindex(definition: &str) -> &'static str {
    let ty = definition
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase();
    if ty.contains("int") {
        "hash"
    } else if ty.contains("binary") || ty.contains("blob") {
        "binary_md5"
    } else {
        "unicode_loose_md5"
    }
}

/// Whether the lookup table exists on a shard, and if so whether it is empty.
pub(super) async fn table_state(
    shard: &Arc<Shard>,
    table: &str,
) -> Result<Option<bool>, WorkflowError> {
    let mut c = shard.job_conn().await?;
    let r = c
        .query(&format!(
            "SELECT 1 FROM {} LIMIT 1",
            crate::sql::quote_ident(table)
        ))
        .await;
    match r {
        Ok(rows) => Ok(Some(rows.is_empty())),
        Err(BackendError::Server { code: 1146, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_column_from_show_create_table() {
        let ddl = "CREATE TABLE `user` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `email` varchar(255) COLLATE utf8mb4_general_ci DEFAULT NULL,\n  PRIMARY KEY (`id`)\n)";
        assert_eq!(
            column_definition(ddl, "email", "email").as_deref(),
            Some("`email` varchar(255) COLLATE utf8mb4_general_ci")
        );
        assert_eq!(
            column_definition(ddl, "id", "user_id").as_deref(),
            Some("`user_id` bigint(20) NOT NULL")
        );
        assert_eq!(default_table_vindex("`id` bigint(20) NOT NULL"), "hash");
        assert_eq!(
            default_table_vindex("`e` varchar(255)"),
            "unicode_loose_md5"
        );
        assert_eq!(default_table_vindex("`b` varbinary(16)"), "binary_md5");
    }
}
