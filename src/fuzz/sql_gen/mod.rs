//! A small SQL grammar driven by fuzz input ([`arbitrary::Unstructured`]): SELECT (joins,
//! subqueries, aggregates, GROUP BY/HAVING/ORDER BY/LIMIT, UNION), INSERT (rows, sequences,
//! ON DUPLICATE KEY UPDATE, INSERT ... SELECT), UPDATE, DELETE and a little DDL over the
//! tables of [`super::planner::vschema`], with literals of every kind the tokenizer knows.
//!
//! Every choice is a few input bytes, so byte mutations of an input move between nearby
//! statements; when the input runs out every choice takes its first option, so any input
//! gives a statement. Depth is bounded here; depth and length far beyond the server's limits
//! are the raw-text mode's job (see [`super::planner::target`]).

use arbitrary::Unstructured;

mod dml;

/// Tables by keyspace qualifier, with their columns.
const TABLES: &[(&str, &str, &[&str])] = &[
    ("main", "user", &["id", "name", "phone", "email", "tag"]),
    ("main", "orders", &["id", "user_id", "amount"]),
    ("main", "user_extra", &["user_id", "extra"]),
    ("main", "item", &["sku", "price"]),
    ("main", "note", &["title", "body"]),
    ("main", "music", &["user_id", "music_id", "title"]),
    ("main", "account", &["id", "name"]),
    ("main", "country", &["id", "name"]),
    ("main", "zip", &["code"]),
    ("main", "pinned_t", &["id", "v"]),
    ("customer", "user", &["id", "name", "phone"]),
    ("commerce", "product", &["id", "name"]),
    ("commerce", "user_seq", &["id", "next_id"]),
    ("lookup", "name_user_vdx", &["name", "id", "keyspace_id"]),
];

const STRINGS: &[&str] = &[
    "'a'",
    "''",
    "'it''s'",
    "'a\\'b'",
    "'back\\\\slash'",
    "\"dq\"",
    "'é'",
    "'日本'",
    "'😀'",
    "'%x_'",
    "'a\\0b'",
    "N'x'",
    "_utf8mb4'x'",
    "_latin1'x' COLLATE latin1_bin",
    "'2020-01-01'",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "00",
    "01",
    "1.50",
    ".5",
    "-0.0",
    "1e3",
    "1E-3",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "0x1F",
    "x'0A'",
    "b'101'",
    "0b11",
    "99999999999999999999999999999999999999.9",
];
const OTHER_LITERALS: &[&str] = &[
    "NULL",
    "TRUE",
    "FALSE",
    "DATE '2020-01-01'",
    "TIMESTAMP '2020-01-01 00:00:00'",
    "INTERVAL 1 DAY",
    "CURRENT_TIMESTAMP",
];
const FUNCS: &[&str] = &[
    "abs",
    "lower",
    "upper",
    "length",
    "coalesce",
    "concat",
    "ifnull",
    "hex",
    "md5",
    "round",
    "last_insert_id",
    "database",
    "now",
    "cast_hack",
];
const AGGS: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "group_concat",
    "bit_and",
    "std",
];
const CMP: &[&str] = &["=", "<>", "!=", "<", "<=", ">", ">=", "<=>"];
const ARITH: &[&str] = &["+", "-", "*", "/", "%", " DIV ", "|", "&", "^", "<<", "||"];
const COMMENTS: &[&str] = &[
    "/* c */",
    "-- c\n",
    "# c\n",
    "/*vt+ SCATTER_ERRORS_AS_WARNINGS */",
    "/*!50000 */",
    "/**/",
];

/// Generates one statement from `data`.
pub fn statement(data: &[u8]) -> String {
    let mut g = Gen {
        u: Unstructured::new(data),
        out: String::new(),
        depth: 0,
    };
    g.stmt();
    g.out
}

struct Gen<'a> {
    u: Unstructured<'a>,
    out: String,
    depth: u32,
}

impl Gen<'_> {
    fn n(&mut self, max: u32) -> u32 {
        self.u.int_in_range(0..=max).unwrap_or(0)
    }

    /// True for `in_four` of the four values of the next choice; false once the input ran
    /// out (so loops end).
    fn chance(&mut self, in_four: u32) -> bool {
        self.n(3) >= 4 - in_four.min(4)
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.n(items.len() as u32 - 1) as usize]
    }

    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn table(&mut self) -> (&'static str, &'static str, &'static [&'static str]) {
        TABLES[self.n(TABLES.len() as u32 - 1) as usize]
    }

    fn stmt(&mut self) {
        if self.chance(1) {
            let c = self.pick(COMMENTS);
            self.w(c);
            self.w(" ");
        }
        match self.n(9) {
            0..=3 => self.select_union(),
            4 | 5 => self.insert(),
            6 => self.update(),
            7 => self.delete(),
            8 => self.ddl(),
            _ => {
                // A statement with an explicit keyspace and a trailing terminator.
                self.select();
                self.w(";");
            }
        }
        if self.chance(1) && self.chance(1) {
            self.raw_edit();
        }
    }

    /// A raw edit of the generated text: a token or stray byte inserted somewhere.
    fn raw_edit(&mut self) {
        let at = self.n(self.out.len() as u32) as usize;
        let at = (0..=at)
            .rev()
            .find(|&i| self.out.is_char_boundary(i))
            .unwrap_or(0);
        let what = match self.n(7) {
            0 => "(",
            1 => ")",
            2 => ",",
            3 => "'",
            4 => "?",
            5 => " NOT ",
            6 => " /*! x */ ",
            _ => "`",
        };
        self.out.insert_str(at, what);
    }

    fn select_union(&mut self) {
        if !(self.chance(1) && self.depth < 3) {
            return self.select();
        }
        // Members in parentheses, so their own ORDER BY / LIMIT parse.
        self.depth += 1;
        self.w("(");
        self.select();
        self.w(")");
        loop {
            let op = self.pick(&[" UNION ", " UNION ALL ", " UNION DISTINCT "]);
            self.w(op);
            self.w("(");
            self.select();
            self.w(")");
            if !self.chance(1) {
                break;
            }
        }
        self.depth -= 1;
        if self.chance(1) {
            self.w(" ORDER BY 1");
        }
        if self.chance(1) {
            self.limit();
        }
    }

    fn select(&mut self) {
        self.depth += 1;
        self.w("SELECT ");
        if self.chance(1) {
            self.w("DISTINCT ");
        }
        let (ks, t, cols) = self.table();
        let alias = if self.chance(2) { "a" } else { t };
        let n = self.n(3);
        for i in 0..=n {
            if i > 0 {
                self.w(", ");
            }
            self.select_item(alias, cols);
        }
        self.w(" FROM ");
        self.table_ref(ks, t, alias);
        let joined = if self.chance(1) && self.depth < 3 {
            Some(self.join(alias, cols))
        } else {
            None
        };
        let scope = joined.unwrap_or(cols);
        if self.chance(3) {
            self.w(" WHERE ");
            self.cond(alias, scope);
        }
        if self.chance(1) {
            self.w(" GROUP BY ");
            self.column(alias, cols);
            if self.chance(1) {
                self.w(", ");
                let e = self.n(2) + 1;
                self.w(&e.to_string());
            }
            if self.chance(1) {
                self.w(" HAVING ");
                self.agg(alias, cols);
                let c = self.pick(CMP);
                self.w(c);
                self.literal();
            }
        }
        if self.chance(1) {
            self.w(" ORDER BY ");
            match self.n(3) {
                0 => self.column(alias, cols),
                1 => self.agg(alias, cols),
                2 => {
                    let e = self.n(3) + 1;
                    self.w(&e.to_string());
                }
                _ => self.expr(alias, cols),
            }
            let dir = self.pick(&["", " ASC", " DESC"]);
            self.w(dir);
        }
        if self.chance(1) {
            self.limit();
        }
        if self.chance(1) && self.n(3) == 0 {
            let lock = self.pick(&[" FOR UPDATE", " LOCK IN SHARE MODE", " FOR SHARE"]);
            self.w(lock);
        }
        self.depth -= 1;
    }

    /// A one-column SELECT (scalar and IN subqueries), maybe correlated with the outer table.
    fn scalar_select(&mut self) {
        self.depth += 1;
        let (ks, t, cols) = self.table();
        self.w("SELECT ");
        if self.chance(1) {
            self.agg("s", cols);
        } else {
            self.column("s", cols);
        }
        self.w(" FROM ");
        self.table_ref_plain(ks, t);
        self.w(" AS s");
        if self.chance(2) {
            self.w(" WHERE ");
            self.cond("s", cols);
        }
        if self.chance(1) {
            self.w(" LIMIT 1");
        }
        self.depth -= 1;
    }

    fn limit(&mut self) {
        self.w(" LIMIT ");
        let n = self.pick(&["0", "1", "10", "18446744073709551615", "?", "-1"]);
        self.w(n);
        if self.chance(1) {
            let o = self.pick(&[" OFFSET 5", ", 3", " OFFSET 0"]);
            self.w(o);
        }
    }

    fn table_ref(&mut self, ks: &str, t: &str, alias: &str) {
        match self.n(3) {
            0 => self.w(t),
            1 => {
                self.w(ks);
                self.w(".");
                self.w(t);
            }
            2 => {
                self.w("`");
                self.w(ks);
                self.w("`.`");
                self.w(t);
                self.w("`");
            }
            _ if self.depth < 3 => {
                self.w("(");
                self.select();
                self.w(")");
                if alias == t {
                    self.w(" AS ");
                    self.w(t);
                }
            }
            _ => self.w(t),
        }
        if alias != t {
            self.w(" AS ");
            self.w(alias);
        }
    }

    /// Joins a second table as `b`; returns the columns both sides may use.
    fn join(&mut self, left: &str, left_cols: &'static [&'static str]) -> &'static [&'static str] {
        let kind = self.pick(&[
            " JOIN ",
            " INNER JOIN ",
            " LEFT JOIN ",
            " RIGHT JOIN ",
            " CROSS JOIN ",
            " STRAIGHT_JOIN ",
            ", ",
            " NATURAL JOIN ",
        ]);
        self.w(kind);
        let (ks, t, cols) = self.table();
        self.table_ref(ks, t, "b");
        if !matches!(kind, ", " | " CROSS JOIN " | " NATURAL JOIN ") || self.chance(1) {
            if self.chance(1) {
                self.w(" USING (");
                let c = self.pick(cols);
                self.w(c);
                self.w(")");
            } else {
                self.w(" ON ");
                self.column(left, left_cols);
                let c = self.pick(CMP);
                self.w(c);
                self.column("b", cols);
                if self.chance(1) {
                    self.w(" AND ");
                    self.cond("b", cols);
                }
            }
        }
        left_cols
    }

    fn select_item(&mut self, alias: &str, cols: &[&str]) {
        match self.n(6) {
            0 => return self.w("*"),
            1 => {
                self.w(alias);
                return self.w(".*");
            }
            2 | 3 => self.column(alias, cols),
            4 => self.agg(alias, cols),
            _ => self.expr(alias, cols),
        }
        if self.chance(1) {
            let a = self.pick(&[" AS x", " y", " AS `weird name`", " AS 'str'"]);
            self.w(a);
        }
    }

    fn column(&mut self, alias: &str, cols: &[&str]) {
        if self.chance(1) {
            self.w(alias);
            self.w(".");
        }
        let c = self.pick(cols);
        self.w(c);
    }

    fn agg(&mut self, alias: &str, cols: &[&str]) {
        let f = self.pick(AGGS);
        self.w(f);
        self.w("(");
        match self.n(3) {
            0 => self.w("*"),
            1 => {
                self.w("DISTINCT ");
                self.column(alias, cols);
            }
            _ => self.expr(alias, cols),
        }
        self.w(")");
    }

    fn literal(&mut self) {
        let s = match self.n(3) {
            0 | 1 => self.pick(NUMBERS),
            2 => self.pick(STRINGS),
            _ => self.pick(OTHER_LITERALS),
        };
        self.w(s);
    }

    fn expr(&mut self, alias: &str, cols: &[&str]) {
        self.depth += 1;
        let deep = self.depth > 6;
        match if deep { self.n(1) } else { self.n(9) } {
            0 => self.column(alias, cols),
            1 => self.literal(),
            2 | 3 => {
                self.expr(alias, cols);
                let op = self.pick(ARITH);
                self.w(op);
                self.expr(alias, cols);
            }
            4 => {
                let f = self.pick(FUNCS);
                if f == "cast_hack" {
                    self.w("CAST(");
                    self.expr(alias, cols);
                    let t = self.pick(&[" AS SIGNED)", " AS CHAR)", " AS DECIMAL(10,2))"]);
                    self.w(t);
                } else {
                    self.w(f);
                    self.w("(");
                    self.expr(alias, cols);
                    self.w(")");
                }
            }
            5 => {
                self.w("(");
                self.expr(alias, cols);
                self.w(")");
            }
            6 => {
                self.w("CASE WHEN ");
                self.cond(alias, cols);
                self.w(" THEN ");
                self.expr(alias, cols);
                self.w(" ELSE ");
                self.expr(alias, cols);
                self.w(" END");
            }
            7 if self.depth < 4 => {
                self.w("(");
                self.scalar_select();
                self.w(")");
            }
            8 => {
                self.w("-");
                self.expr(alias, cols);
            }
            _ => {
                let v = self.pick(&["@x", "@@sql_mode", "@@session.autocommit", "?"]);
                self.w(v);
            }
        }
        self.depth -= 1;
    }

    fn cond(&mut self, alias: &str, cols: &[&str]) {
        self.depth += 1;
        let deep = self.depth > 6;
        match if deep { 0 } else { self.n(11) } {
            0..=2 => {
                self.column(alias, cols);
                let c = self.pick(CMP);
                self.w(c);
                self.literal();
            }
            3 => {
                self.column(alias, cols);
                if self.chance(1) {
                    self.w(" NOT");
                }
                self.w(" IN (");
                let n = self.n(5);
                for i in 0..=n {
                    if i > 0 {
                        self.w(", ");
                    }
                    self.literal();
                }
                self.w(")");
            }
            4 if self.depth < 4 => {
                self.column(alias, cols);
                self.w(" IN (");
                self.scalar_select();
                self.w(")");
            }
            5 if self.depth < 4 => {
                let not = self.pick(&["EXISTS (", "NOT EXISTS ("]);
                self.w(not);
                self.select();
                self.w(")");
            }
            6 => {
                self.column(alias, cols);
                self.w(" BETWEEN ");
                self.literal();
                self.w(" AND ");
                self.literal();
            }
            7 => {
                self.column(alias, cols);
                let is = self.pick(&[" IS NULL", " IS NOT NULL", " IS TRUE"]);
                self.w(is);
            }
            8 => {
                self.column(alias, cols);
                self.w(" LIKE ");
                let s = self.pick(STRINGS);
                self.w(s);
            }
            9 => {
                self.cond(alias, cols);
                let op = self.pick(&[" AND ", " OR ", " XOR ", " && "]);
                self.w(op);
                self.cond(alias, cols);
            }
            10 => {
                self.w("NOT (");
                self.cond(alias, cols);
                self.w(")");
            }
            _ => {
                self.expr(alias, cols);
                let c = self.pick(CMP);
                self.w(c);
                self.expr(alias, cols);
            }
        }
        self.depth -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_input_gives_a_statement() {
        for data in [
            &b""[..],
            b"NION ",
            b"\xff\xff\xff\xff",
            b"\x00\x01\x02\x03\x04",
        ] {
            let s = statement(data);
            assert!(!s.is_empty(), "{data:?}");
        }
    }
}
