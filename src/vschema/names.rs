//! Qualified table names as they appear in VSchema values: `table`, `ks.table`, with optional
//! backticks (`` `my.ks`.`t` ``) around either part, as Vitess's table-name parser accepts.

use std::fmt;

/// A possibly keyspace-qualified table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QualifiedName {
    /// The keyspace, when the name was qualified.
    pub keyspace: Option<String>,
    /// The table.
    pub table: String,
}

impl QualifiedName {
    /// Parses `table` or `keyspace.table`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<QualifiedName, String> {
        let parts = split_parts(text.trim())?;
        match parts.as_slice() {
            [table] => Ok(QualifiedName {
                keyspace: None,
                table: table.clone(),
            }),
            [keyspace, table] => Ok(QualifiedName {
                keyspace: Some(keyspace.clone()),
                table: table.clone(),
            }),
            _ => Err(format!(
                "'{text}' is not a table name (expected 'table' or 'keyspace.table')"
            )),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.keyspace {
            Some(ks) => write!(f, "{ks}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

/// Splits on dots outside backticks; backticked parts may contain dots and doubled backticks.
fn split_parts(text: &str) -> Result<Vec<String>, String> {
    let bad = || format!("'{text}' is not a valid table name");
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'`') {
            chars.next();
            loop {
                match chars.next() {
                    Some('`') if chars.peek() == Some(&'`') => {
                        chars.next();
                        part.push('`');
                    }
                    Some('`') => break,
                    Some(c) => part.push(c),
                    None => return Err(bad()),
                }
            }
            if !matches!(chars.peek(), None | Some('.')) {
                return Err(bad());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '`' || c.is_whitespace() {
                    return Err(bad());
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(bad());
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some(_) => continue, // the dot
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(ks: Option<&str>, t: &str) -> QualifiedName {
        QualifiedName {
            keyspace: ks.map(String::from),
            table: t.into(),
        }
    }

    #[test]
    fn parses_plain_qualified_and_quoted() {
        assert_eq!(QualifiedName::parse("seq").unwrap(), q(None, "seq"));
        assert_eq!(
            QualifiedName::parse("ks.seq").unwrap(),
            q(Some("ks"), "seq")
        );
        assert_eq!(
            QualifiedName::parse("`my.ks`.`se``q`").unwrap(),
            q(Some("my.ks"), "se`q")
        );
        assert_eq!(
            QualifiedName::parse("ks.seq").unwrap().to_string(),
            "ks.seq"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "a.b.c", "a.", ".b", "`a", "`a`b", "a b", "a`b"] {
            assert!(QualifiedName::parse(bad).is_err(), "{bad}");
        }
    }
}
