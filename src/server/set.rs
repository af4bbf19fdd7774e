//! SET statements: `autocommit` and `transaction_mode` are the proxy's own; everything else is
//! validated on a backend connection, recorded, and applied to every connection the session
//! holds or takes later. `SET GLOBAL` goes to the target shard and is not recorded.

use super::connection::{ClientConn, CommandError};
use super::routing;
use crate::error::ProxyError;
use crate::protocol::writer::OkInfo;
use crate::server::ProxyState;
use crate::session::TransactionMode;
use crate::sql::{self, SetItem, SetScope, SetValue};
use std::sync::Arc;

fn truthy(v: &SetValue) -> Option<bool> {
    match v {
        SetValue::Int(i) => Some(*i != 0),
        SetValue::Str(s) | SetValue::Ident(s) | SetValue::Expr(s) => {
            match s.trim().to_ascii_lowercase().as_str() {
                "1" | "on" | "true" => Some(true),
                "0" | "off" | "false" => Some(false),
                _ => None,
            }
        }
    }
}

fn value_text(v: &SetValue) -> String {
    match v {
        SetValue::Int(i) => i.to_string(),
        SetValue::Str(s) | SetValue::Ident(s) | SetValue::Expr(s) => s.trim().to_string(),
    }
}

fn is_session_scope(item: &SetItem) -> bool {
    matches!(item.scope, SetScope::Session)
}

/// Whether a `SET NAMES` / `SET CHARACTER SET` item asks for what pooled connections already
/// use (utf8mb4 with a general or MySQL-8 default collation). Such a statement changes nothing
/// the proxy must replay, so it neither pins a connection nor reaches MariaDB, which does not
/// know MySQL 8's `utf8mb4_0900_*` collations that MySQL 8 drivers ask for.
fn is_pool_charset(item: &SetItem) -> bool {
    let v = value_text(&item.value)
        .trim_matches(['\'', '"'])
        .to_ascii_lowercase();
    match (item.scope, item.name.as_str()) {
        (SetScope::Names, "names") | (SetScope::CharacterSet, "charset") => v == "utf8mb4",
        (SetScope::Names, "collate") => {
            v == "utf8mb4_general_ci" || v == "default" || v.starts_with("utf8mb4_0900_")
        }
        _ => false,
    }
}

/// Reads `@@GLOBAL.sql_mode` on every shard (retrying each second until all answer) and
/// records the combined flags as the mode new sessions start with. A flag set on any shard
/// counts: the proxy then refuses the statements that flag could make it misread, which is
/// safe on the shards without it.
pub(crate) async fn learn_server_sql_mode(state: &ProxyState) {
    loop {
        let mut combined = crate::sql::SqlMode::default();
        let mut complete = true;
        for keyspace in &state.backends.keyspace_order {
            for shard in state.backends.keyspace(keyspace).unwrap_or_default() {
                let mode = match shard.job_conn().await {
                    Ok(mut c) => c
                        .query("SELECT @@GLOBAL.sql_mode")
                        .await
                        .ok()
                        .and_then(|rows| rows.first().and_then(|r| r.get::<String, _>(0))),
                    Err(_) => None,
                };
                match mode {
                    Some(m) => {
                        let m = crate::sql::SqlMode::parse(&m);
                        combined.no_backslash_escapes |= m.no_backslash_escapes;
                        combined.ansi_quotes |= m.ansi_quotes;
                    }
                    None => complete = false,
                }
            }
        }
        if complete {
            let _ = state.server_sql_mode.set(combined);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Reads back what a SET may have changed in how the client's text and values read.
const TEXT_SETTINGS_QUERY: &str =
    "SELECT @@character_set_client, @@character_set_results, @@sql_mode";

/// Whether a SET item may change the client's character sets or `sql_mode` (an item the
/// parser did not understand may).
fn changes_text_settings(item: &SetItem) -> bool {
    match item.scope {
        SetScope::Names | SetScope::CharacterSet => true,
        SetScope::Session => matches!(
            item.name.as_str(),
            "" | "sql_mode" | "character_set_client" | "character_set_results"
        ),
        _ => false,
    }
}

/// `(character_set_client, character_set_results, sql_mode)` from a row of
/// [`TEXT_SETTINGS_QUERY`] (results may be NULL).
fn text_settings(row: &[mysql_async::Value]) -> Option<(String, Option<String>, String)> {
    let text = |i: usize| match row.get(i) {
        Some(mysql_async::Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    };
    Some((text(0)?, text(1), text(2)?))
}

impl ClientConn {
    /// Runs a SET statement.
    pub async fn set_statement(
        &mut self,
        bytes: &[u8],
        text: &str,
        more: bool,
    ) -> Result<(), CommandError> {
        self.authorize_shard(text)?;
        let mode = self
            .session
            .sql_mode_flags(self.state.server_sql_mode.get().copied());
        let items = sql::parse_set(text).unwrap_or_default();
        let mut backend_items = 0;
        let mut global = false;
        for item in &items {
            match (is_session_scope(item), item.name.as_str()) {
                (true, "autocommit") => {
                    let on = truthy(&item.value).ok_or_else(|| {
                        ProxyError::Parse(format!(
                            "Variable 'autocommit' can't be set to the value of '{}'",
                            value_text(&item.value)
                        ))
                    })?;
                    if on && !self.session.autocommit {
                        self.commit().await?;
                    }
                    self.session.autocommit = on;
                }
                _ if is_pool_charset(item)
                    && self.session.charset == Some(crate::sql::Charset::UTF8MB4) => {}
                (true, name @ ("max_statement_time" | "max_execution_time")) => {
                    self.session.max_statement_time =
                        super::statement_timeout::parse_setting(name, &item.value)?;
                }
                (true, "transaction_mode") => {
                    self.session.transaction_mode =
                        match value_text(&item.value).to_ascii_lowercase().as_str() {
                            "multi" => TransactionMode::Multi,
                            "single" => TransactionMode::Single,
                            other => {
                                return Err(ProxyError::NotSupported(format!(
                            "transaction_mode '{other}' is not supported (use 'multi' or 'single')"
                        ))
                                .into())
                            }
                        };
                }
                _ => {
                    backend_items += 1;
                    if matches!(item.scope, SetScope::Global | SetScope::Persist) {
                        global = true;
                    }
                }
            }
        }
        if items.is_empty() {
            backend_items = 1;
        }
        if backend_items > 0 {
            self.apply_backend_set(bytes, &items, global).await?;
        }
        // User variables the proxy knows, for EXECUTE ... USING on sharded keyspaces (the
        // statement was read under the sql_mode before it).
        super::sql_prepare::track_set(&mut self.session, bytes, text, mode);
        self.write_ok_more(&OkInfo::default(), more);
        Ok(())
    }

    async fn apply_backend_set(
        &mut self,
        bytes: &[u8],
        items: &[SetItem],
        global: bool,
    ) -> Result<(), ProxyError> {
        let shard = self.validation_shard()?;
        // `LAST_INSERT_ID()` is the session's value, not the backend connection's (also when
        // the recorded setting is replayed on another connection).
        let bytes = super::session_values::substitute_session_values(
            std::borrow::Cow::Borrowed(bytes),
            &self.session_values(),
        );
        let sql_text = String::from_utf8_lossy(&bytes).into_owned();
        // `SET @x = LAST_INSERT_ID(n)` sets the session's value: prime, run, read back.
        let tracks_id = super::last_insert_id::sets_last_insert_id(&sql_text);
        // Validate (and apply) on one connection first: a bad value fails here, like MySQL.
        let mut sc = self.acquire(&shard, false).await?;
        if tracks_id {
            if let Err(e) = super::last_insert_id::prime(&mut sc, self.session.last_insert_id).await
            {
                self.put_back(sc).await;
                return Err(e.into());
            }
        }
        let mut res = sc.run(&sql_text).await;
        if tracks_id && res.is_ok() {
            match super::last_insert_id::read_back(&mut sc).await {
                Ok(v) => self.session.last_insert_id = v,
                Err(e) => res = Err(e),
            }
        }
        if res.is_ok() && !global {
            sc.dirty = true;
            if items.is_empty() || items.iter().any(changes_text_settings) {
                // Read the result back rather than compute it: the value may be an
                // expression (CONCAT(@@sql_mode, ',ANSI_QUOTES')), DEFAULT, or a combination.
                let read = sc.conn.query_result(TEXT_SETTINGS_QUERY).await;
                match sc.check(read) {
                    Ok(r) => match r.rows.first().map(|row| text_settings(row)) {
                        Some(Some((client, results, mode))) => {
                            self.session
                                .observe_text_settings(&client, results.as_deref(), &mode)
                        }
                        _ => self.session.forget_text_settings(),
                    },
                    Err(_) => self.session.forget_text_settings(),
                }
            }
        }
        self.put_back(sc).await;
        res?;
        if global {
            return Ok(());
        }
        // Record for future connections, then apply to every other connection the session
        // holds. Recorded first: the validation connection already runs with it, and a
        // connection taken later must too, even when applying it below fails. A failure there
        // leaves a held connection without it, so the session's text settings become unknown
        // (mode-dependent statements are refused, never read under another mode).
        let key = match items {
            [one] => Some(format!("{:?}:{}", one.scope, one.name)),
            _ => None,
        };
        self.session.record_setting(key, sql_text.clone());
        for i in 0..self.session.reserved.len() {
            let c = &mut self.session.reserved[i];
            if Arc::ptr_eq(&c.shard, &shard) {
                continue;
            }
            c.dirty = true;
            if let Err(e) = c.run(&sql_text).await {
                self.session.forget_text_settings();
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// The shard a SET is validated on: the targeted shard, else the target keyspace's first.
    fn validation_shard(&self) -> Result<Arc<crate::backend::Shard>, ProxyError> {
        let target = self.session.target.clone().map(Ok).unwrap_or_else(|| {
            let default = self
                .state
                .backends
                .keyspace_order
                .first()
                .ok_or(ProxyError::NoDatabase)?;
            routing::resolve_use(&self.state, default)
        })?;
        let shards = self
            .state
            .backends
            .keyspace(&target.keyspace)
            .ok_or_else(|| ProxyError::UnknownDatabase(target.keyspace.clone()))?;
        let shard = match &target.shard {
            Some(name) => self.state.backends.shard(&target.keyspace, name),
            None => shards.first(),
        };
        shard
            .cloned()
            .ok_or_else(|| ProxyError::UnknownDatabase(target.keyspace.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sql: &str) -> Vec<SetItem> {
        sql::parse_set(sql).unwrap_or_default()
    }

    #[test]
    fn pool_charset_detection() {
        assert!(items("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_0900_ai_ci'")
            .iter()
            .all(is_pool_charset));
        assert!(items("SET NAMES utf8mb4").iter().all(is_pool_charset));
        assert!(!items("SET NAMES latin1").iter().all(is_pool_charset));
        assert!(!items("SET NAMES utf8mb4 COLLATE utf8mb4_bin")
            .iter()
            .all(is_pool_charset));
        assert!(!items("SET sql_mode = ''").iter().all(is_pool_charset));
    }

    #[test]
    fn text_setting_items() {
        let changes = |sql: &str| items(sql).iter().any(changes_text_settings);
        assert!(changes("SET NAMES gbk"));
        assert!(changes("SET CHARACTER SET latin1"));
        assert!(changes(
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')"
        ));
        assert!(changes("SET @@session.sql_mode = 'NO_BACKSLASH_ESCAPES'"));
        assert!(changes("SET character_set_results = NULL"));
        assert!(!changes("SET @x = 1, wait_timeout = 5"));
        assert!(!changes("SET GLOBAL sql_mode = ''"));
    }

    #[test]
    fn truthiness() {
        assert_eq!(truthy(&SetValue::Int(0)), Some(false));
        assert_eq!(truthy(&SetValue::Ident("ON".into())), Some(true));
        assert_eq!(truthy(&SetValue::Str("maybe".into())), None);
    }
}
