//! Statement shape bounds, checked on tokens before anything recursive runs.
//!
//! sqlparser, the planner's walks, expression evaluation, and MariaDB itself all recurse over
//! a statement's expression tree; a long operator chain (`GROUP BY id+id+…`, 8,500 terms)
//! overflowed the proxy's stack and a 5,000-term `ORDER BY` crashed MariaDB. This pass is one
//! forward scan over the significant tokens (`/*! */` content included, since MySQL runs it)
//! with a small stack per open parenthesis, so it cannot itself be made deep. It measures:
//!
//! - **nesting**: the deepest parenthesis level;
//! - **expression depth**: operators in the current comma-separated item of each open level,
//!   summed over the levels — an upper bound on the depth of the expression tree there
//!   (a chain of `n` binary operators is `n` deep; unary operators count too);
//! - **list length**: the items of one comma-separated list (`IN (…)`, `VALUES (…), (…)`);
//! - **tokens**: the statement's significant token count;
//! - **join chains**: `JOIN`s in a row without an `ON`/`USING`/`,`/`SELECT` between them,
//!   summed over the open levels, at most [`MAX_JOINED_TABLES`] (MariaDB's limit of tables in
//!   a join).
//!   sqlparser nests each such `JOIN` one call deeper, outside its recursion budget: 1,000
//!   of them (`FROM t a JOIN a JOIN a …`, 7 KB) overflowed the stack (found by fuzzing).
//!
//! Statements within the bounds may still be refused later; statements beyond them are refused
//! here, so neither the proxy nor a shard ever sees them.

use super::significant::Significant;
use super::tokenizer::TokenKind;

/// The bounds a statement must stay within (from `[limits]`, see `crate::config::LimitsConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementBounds {
    /// Deepest parenthesis nesting.
    pub max_nesting_depth: usize,
    /// Longest operator chain summed over the enclosing parentheses.
    pub max_expression_depth: usize,
    /// Most significant tokens.
    pub max_tokens: usize,
    /// Most items in one comma-separated list.
    pub max_list_items: usize,
}

impl From<&crate::config::LimitsConfig> for StatementBounds {
    fn from(l: &crate::config::LimitsConfig) -> Self {
        StatementBounds {
            max_nesting_depth: l.max_nesting_depth,
            max_expression_depth: l.max_expression_depth,
            max_tokens: l.max_tokens,
            max_list_items: l.max_in_list,
        }
    }
}

impl Default for StatementBounds {
    fn default() -> Self {
        (&crate::config::LimitsConfig::default()).into()
    }
}

/// Most tables one join chain may hold (MariaDB's `MAX_TABLES`, error 1116 beyond it).
pub const MAX_JOINED_TABLES: usize = 61;

/// Which bound a statement exceeds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    /// Parentheses nested deeper than the limit (MySQL error 1473).
    #[error("Too high level of nesting for select: parentheses nested deeper than {max} (limits.max_nesting_depth)")]
    Nesting {
        /// The configured limit.
        max: usize,
    },
    /// An expression chain longer than the limit (error 1235).
    #[error("an expression more than {max} operators deep (limits.max_expression_depth) is not supported")]
    ExpressionDepth {
        /// The configured limit.
        max: usize,
    },
    /// More tokens than the limit (error 1235).
    #[error("a statement of more than {max} tokens (limits.max_tokens) is not supported")]
    Tokens {
        /// The configured limit.
        max: usize,
    },
    /// A list longer than the limit (error 1235).
    #[error("a list of more than {max} items (limits.max_in_list) is not supported")]
    ListItems {
        /// The configured limit.
        max: usize,
    },
    /// A chain of more joined tables than MariaDB takes (error 1116, its text).
    #[error("Too many tables; MariaDB can only use {max} tables in a join")]
    Joins {
        /// [`MAX_JOINED_TABLES`].
        max: usize,
    },
}

impl BoundsError {
    /// The MySQL error number and SQLSTATE to report.
    pub fn mysql_code(&self) -> (u16, &'static str) {
        match self {
            BoundsError::Nesting { .. } => (1473, "HY000"),
            BoundsError::Joins { .. } => (1116, "HY000"),
            _ => (1235, "42000"),
        }
    }
}

/// Words that combine or modify expressions (each adds a level to the expression tree).
const OPERATOR_WORDS: [&str; 14] = [
    "AND", "OR", "XOR", "NOT", "IS", "LIKE", "BETWEEN", "IN", "DIV", "MOD", "REGEXP", "RLIKE",
    "COLLATE", "ESCAPE",
];

/// Words that start a new expression that is not nested under the previous one.
const CLAUSE_WORDS: [&str; 12] = [
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "ORDER",
    "HAVING",
    "LIMIT",
    "SET",
    "VALUES",
    "ON",
    "UNION",
    "RETURNING",
];

/// Checks `sql` against `bounds` in one pass over its tokens.
pub fn check(sql: &str, bounds: &StatementBounds) -> Result<(), BoundsError> {
    // Per open parenthesis level: operators in the current item, and items so far.
    let mut levels: Vec<(usize, usize)> = vec![(0, 1)];
    let mut depth_sum = 0usize;
    // Per open level: JOINs since the last ON/USING/clause/comma; and their sum.
    let mut joins: Vec<usize> = vec![0];
    let mut joins_sum = 0usize;
    for (n, tok) in Significant::new(sql).enumerate() {
        if n >= bounds.max_tokens {
            return Err(BoundsError::Tokens {
                max: bounds.max_tokens,
            });
        }
        let text = tok.text(sql);
        let operator = match tok.kind {
            TokenKind::Punct => match text {
                "(" => {
                    if levels.len() > bounds.max_nesting_depth {
                        return Err(BoundsError::Nesting {
                            max: bounds.max_nesting_depth,
                        });
                    }
                    levels.push((0, 1));
                    joins.push(0);
                    false
                }
                ")" => {
                    if levels.len() > 1 {
                        if let Some((ops, _)) = levels.pop() {
                            depth_sum -= ops;
                        }
                        if let Some(j) = joins.pop() {
                            joins_sum -= j;
                        }
                    }
                    false
                }
                "," => {
                    if let Some(top) = joins.last_mut() {
                        joins_sum -= *top;
                        *top = 0;
                    }
                    if let Some(top) = levels.last_mut() {
                        depth_sum -= top.0;
                        top.0 = 0;
                        top.1 += 1;
                        if top.1 > bounds.max_list_items {
                            return Err(BoundsError::ListItems {
                                max: bounds.max_list_items,
                            });
                        }
                    }
                    false
                }
                "." | ";" | "{" | "}" => false,
                _ => true,
            },
            TokenKind::Ident => {
                if text.eq_ignore_ascii_case("JOIN") || text.eq_ignore_ascii_case("STRAIGHT_JOIN") {
                    if let Some(top) = joins.last_mut() {
                        *top += 1;
                        joins_sum += 1;
                    }
                    // n JOINs chain n + 1 tables.
                    if joins_sum >= MAX_JOINED_TABLES {
                        return Err(BoundsError::Joins {
                            max: MAX_JOINED_TABLES,
                        });
                    }
                    false
                } else if OPERATOR_WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) {
                    true
                } else {
                    let clause = CLAUSE_WORDS.iter().any(|w| text.eq_ignore_ascii_case(w));
                    if clause {
                        if let Some(top) = levels.last_mut() {
                            depth_sum -= top.0;
                            top.0 = 0;
                        }
                    }
                    // Only what ends sqlparser's nesting: a join constraint or a new SELECT
                    // (`JOIN VALUES a JOIN a …` nests on through other words: fuzzing).
                    if ["ON", "USING", "SELECT"]
                        .iter()
                        .any(|w| text.eq_ignore_ascii_case(w))
                    {
                        if let Some(top) = joins.last_mut() {
                            joins_sum -= *top;
                            *top = 0;
                        }
                    }
                    false
                }
            }
            _ => false,
        };
        if operator {
            if let Some(top) = levels.last_mut() {
                top.0 += 1;
                depth_sum += 1;
            }
            if depth_sum > bounds.max_expression_depth {
                return Err(BoundsError::ExpressionDepth {
                    max: bounds.max_expression_depth,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> StatementBounds {
        StatementBounds {
            max_nesting_depth: 5,
            max_expression_depth: 10,
            max_tokens: 100,
            max_list_items: 4,
        }
    }

    #[test]
    fn operator_chains_are_bounded() {
        let ok = format!("select {}", ["id"; 11].join("+"));
        assert_eq!(check(&ok, &bounds()), Ok(()));
        let long = format!("select {}", ["id"; 12].join("+"));
        assert_eq!(
            check(&long, &bounds()),
            Err(BoundsError::ExpressionDepth { max: 10 })
        );
        // Commas and clauses start new expressions.
        let items = format!("select {0}, {0} from t where {0}", ["a"; 8].join("-"));
        assert_eq!(check(&items, &bounds()), Ok(()));
    }

    #[test]
    fn depth_sums_over_parentheses() {
        let s = "select a+a+a+(b+b+b+(c+c+c+(d and d and d)))";
        assert_eq!(
            check(s, &bounds()),
            Err(BoundsError::ExpressionDepth { max: 10 })
        );
    }

    #[test]
    fn nesting_lists_and_tokens() {
        assert_eq!(check("select (((((1)))))", &bounds()), Ok(()));
        assert_eq!(
            check("select ((((((1))))))", &bounds()),
            Err(BoundsError::Nesting { max: 5 })
        );
        assert_eq!(check("select 1 in (1,2,3,4)", &bounds()), Ok(()));
        assert_eq!(
            check("select 1 in (1,2,3,4,5)", &bounds()),
            Err(BoundsError::ListItems { max: 4 })
        );
        let many = format!("select 1 {}", "x ".repeat(100));
        assert_eq!(
            check(&many, &bounds()),
            Err(BoundsError::Tokens { max: 100 })
        );
    }

    #[test]
    fn exec_comments_are_counted() {
        let s = format!("select /*! {} */", ["a"; 12].join("*"));
        assert_eq!(
            check(&s, &bounds()),
            Err(BoundsError::ExpressionDepth { max: 10 })
        );
    }

    #[test]
    fn join_chains_are_bounded() {
        let big = StatementBounds::default();
        let chain = |n: usize| format!("select a.id from t a{}", " join a".repeat(n));
        assert_eq!(check(&chain(60), &big), Ok(()));
        assert_eq!(check(&chain(61), &big), Err(BoundsError::Joins { max: 61 }));
        // The fuzzer's input: a thousand JOINs in a row overflowed sqlparser's stack.
        assert_eq!(
            check(&chain(1000), &big),
            Err(BoundsError::Joins { max: 61 })
        );
        // ON and USING end a chain (sqlparser parses those joins in a loop).
        let on = format!("select 1 from t a{}", " join a on 1".repeat(200));
        assert_eq!(check(&on, &big), Ok(()));
        let using = format!(
            "select 1 from t a{}",
            " straight_join a using (id)".repeat(200)
        );
        assert_eq!(check(&using, &big), Ok(()));
        // Other words do not end a chain: sqlparser nests on through them.
        let values = format!(
            "select 1 from t a join a join values a{}",
            " join a".repeat(60)
        );
        assert_eq!(check(&values, &big), Err(BoundsError::Joins { max: 61 }));
        // Chains sum over open parentheses.
        let nested = format!(
            "select 1 from t{0} join ({0} join (t{0}))",
            " join t".repeat(25)
        );
        assert_eq!(check(&nested, &big), Err(BoundsError::Joins { max: 61 }));
    }

    #[test]
    fn unbalanced_input_does_not_panic() {
        for s in [")))", "((", ",,,", "select ) + ( + ,", "/*! (((("] {
            let _ = check(s, &bounds());
        }
    }
}
