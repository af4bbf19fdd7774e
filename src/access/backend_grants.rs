//! The backend account's own privileges, as `SHOW GRANTS` lists them: `shardgate check
//! --connect` warns when a shard URL's user holds more than a proxy needs (what a client could
//! use if a statement ever got past [`super::check_statement`]).
//!
//! A proxy needs SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, LOCK TABLES,
//! CREATE TEMPORARY TABLES (and CREATE VIEW / ROUTINE ... if clients use them) on the shard
//! databases only. Global administration and file privileges, `GRANT OPTION`, and any privilege
//! on the `mysql` database are flagged.

use crate::sql::{self, TokenKind};

/// Privileges that make a backend account more than a data account.
const RISKY: &[&str] = &[
    "FILE",
    "SUPER",
    "SHUTDOWN",
    "PROCESS",
    "RELOAD",
    "CREATE USER",
    "GRANT OPTION",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "REPLICATION SLAVE ADMIN",
    "REPLICATION MASTER ADMIN",
    "BINLOG ADMIN",
    "BINLOG REPLAY",
    "CONNECTION ADMIN",
    "READ_ONLY ADMIN",
    "SET USER",
    "FEDERATED ADMIN",
    "SYSTEM_VARIABLES_ADMIN",
    "CREATE TABLESPACE",
];

/// The risky privileges one `SHOW GRANTS` line gives (`ALL PRIVILEGES ON *.*` gives them all),
/// each with where it applies.
pub fn risky_privileges(grant: &str) -> Vec<String> {
    let toks: Vec<sql::Token> = sql::Significant::new(grant).collect();
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == TokenKind::Ident)
            .map(|t| t.text(grant).to_ascii_uppercase())
    };
    if word(0).as_deref() != Some("GRANT") {
        return Vec::new();
    }
    let Some(on) = (1..toks.len()).find(|&i| word(i).as_deref() == Some("ON")) else {
        return Vec::new();
    };
    // The object: `*.*`, `db`.*, `db`.`t`, or PROCEDURE x ...
    let object: String = toks
        .get(on + 1..)
        .unwrap_or(&[])
        .iter()
        .take_while(|t| !t.is_word(grant, "to"))
        .map(|t| t.ident_value(grant).into_owned())
        .collect();
    let global = object == "*.*";
    let mysql_db = object.to_ascii_lowercase().starts_with("mysql.");
    let mut privileges: Vec<String> = Vec::new();
    let mut current = String::new();
    for i in 1..on {
        match toks.get(i) {
            Some(t) if t.is_punct(grant, ",") => privileges.push(std::mem::take(&mut current)),
            Some(t) if t.kind == TokenKind::Ident => {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(&t.text(grant).to_ascii_uppercase());
            }
            _ => {}
        }
    }
    if !current.is_empty() {
        privileges.push(current);
    }
    let mut out = Vec::new();
    for p in &privileges {
        let p = p.trim_end_matches(" PRIVILEGES").to_string();
        if p == "ALL" && (global || mysql_db) {
            out.push(format!("ALL PRIVILEGES ON {object}"));
        } else if mysql_db && p != "USAGE" {
            out.push(format!("{p} ON {object}"));
        } else if global && RISKY.contains(&p.as_str()) {
            out.push(format!("{p} ON *.*"));
        }
    }
    let upper = grant.to_ascii_uppercase();
    if upper.trim_end().ends_with("WITH GRANT OPTION") || upper.contains("WITH GRANT OPTION ") {
        out.push(format!("GRANT OPTION ON {object}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::risky_privileges;

    #[test]
    fn flags_admin_and_file_privileges() {
        let root = "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION";
        assert_eq!(
            risky_privileges(root),
            vec!["ALL PRIVILEGES ON *.*", "GRANT OPTION ON *.*"]
        );
        let some = "GRANT SELECT, FILE, SUPER, SHUTDOWN ON *.* TO `sg`@`%`";
        assert_eq!(
            risky_privileges(some),
            vec!["FILE ON *.*", "SUPER ON *.*", "SHUTDOWN ON *.*"]
        );
        assert_eq!(
            risky_privileges("GRANT SELECT ON `mysql`.* TO `sg`@`%`"),
            vec!["SELECT ON mysql.*"]
        );
    }

    #[test]
    fn least_privilege_account_is_clean() {
        for line in [
            "GRANT USAGE ON *.* TO `sg`@`%` IDENTIFIED BY PASSWORD '*ABC'",
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, \
             CREATE TEMPORARY TABLES, LOCK TABLES ON `vt_commerce`.* TO `sg`@`%`",
            "GRANT ALL PRIVILEGES ON `vt_customer`.* TO `sg`@`%`",
        ] {
            assert!(risky_privileges(line).is_empty(), "{line}");
        }
    }
}
