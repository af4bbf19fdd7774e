//! The INSERT / REPLACE, UPDATE, DELETE and DDL productions of the fuzz SQL grammar
//! ([`super`]).

use super::Gen;

impl Gen<'_> {
    pub(super) fn insert(&mut self) {
        let (ks, t, cols) = self.table();
        let verb = self.pick(&["INSERT INTO ", "INSERT IGNORE INTO ", "REPLACE INTO "]);
        self.w(verb);
        self.table_ref_plain(ks, t);
        let n = self.n(cols.len() as u32 - 1) as usize + 1;
        let omit = self.chance(1);
        if !omit {
            self.w(" (");
            self.w(&cols[..n].join(", "));
            self.w(")");
        }
        if self.chance(1) && self.depth < 2 {
            self.w(" ");
            self.select();
        } else {
            let v = self.pick(&[" VALUES ", " VALUE "]);
            self.w(v);
            let rows = self.n(3);
            for r in 0..=rows {
                if r > 0 {
                    self.w(", ");
                }
                self.w("(");
                let width = if omit { cols.len() } else { n };
                // Now and then a row of the wrong width.
                let width = width + usize::from(self.n(7) == 0);
                for i in 0..width {
                    if i > 0 {
                        self.w(", ");
                    }
                    if self.n(7) == 0 {
                        self.expr("x", cols);
                    } else {
                        self.literal();
                    }
                }
                self.w(")");
            }
        }
        if self.chance(1) {
            self.w(" ON DUPLICATE KEY UPDATE ");
            let c = self.pick(cols);
            self.w(c);
            self.w(" = ");
            if self.chance(1) {
                self.w("VALUES(");
                self.w(c);
                self.w(")");
            } else {
                self.literal();
            }
        }
    }

    pub(super) fn table_ref_plain(&mut self, ks: &str, t: &str) {
        if self.chance(2) {
            self.w(ks);
            self.w(".");
        }
        self.w(t);
    }

    pub(super) fn update(&mut self) {
        let (ks, t, cols) = self.table();
        self.w("UPDATE ");
        self.table_ref_plain(ks, t);
        self.w(" SET ");
        let n = self.n(2);
        for i in 0..=n {
            if i > 0 {
                self.w(", ");
            }
            let c = self.pick(cols);
            self.w(c);
            self.w(" = ");
            if self.chance(3) {
                self.literal();
            } else {
                self.expr(t, cols);
            }
        }
        if self.chance(3) {
            self.w(" WHERE ");
            self.cond(t, cols);
        }
        if self.chance(1) {
            self.w(" ORDER BY ");
            self.column(t, cols);
        }
        if self.chance(1) {
            self.w(" LIMIT 1");
        }
    }

    pub(super) fn delete(&mut self) {
        let (ks, t, cols) = self.table();
        self.w("DELETE FROM ");
        self.table_ref_plain(ks, t);
        if self.chance(3) {
            self.w(" WHERE ");
            self.cond(t, cols);
        }
        if self.chance(1) {
            self.w(" ORDER BY ");
            self.column(t, cols);
            self.w(" LIMIT 2");
        }
    }

    pub(super) fn ddl(&mut self) {
        let (ks, t, cols) = self.table();
        match self.n(4) {
            0 => {
                self.w("CREATE TABLE ");
                self.table_ref_plain(ks, t);
                self.w(" (");
                self.w(cols[0]);
                self.w(" BIGINT PRIMARY KEY");
                for c in &cols[1..] {
                    self.w(", ");
                    self.w(c);
                    let ty = self.pick(&[" INT", " VARCHAR(10)", " ENUM('a','b')", " TEXT"]);
                    self.w(ty);
                }
                self.w(")");
            }
            1 => {
                self.w("ALTER TABLE ");
                self.table_ref_plain(ks, t);
                self.w(" ADD COLUMN z INT");
            }
            2 => {
                self.w("DROP TABLE IF EXISTS ");
                self.table_ref_plain(ks, t);
            }
            3 => {
                self.w("TRUNCATE TABLE ");
                self.table_ref_plain(ks, t);
            }
            _ => {
                self.w("RENAME TABLE ");
                self.table_ref_plain(ks, t);
                self.w(" TO ");
                self.w(t);
                self.w("_new");
            }
        }
    }
}
