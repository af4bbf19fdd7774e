//! Result sets and rows as the merging layer sees them, with small helpers.
//!
//! A [`Row`] is one `Vec<mysql_async::Value>`; a [`ResultSet`] is the column metadata plus rows.
//! Merged results may carry hidden columns the planner added (sort keys, GROUP BY columns not
//! in the select list, the COUNT of an AVG); [`ResultSet::project`] and
//! [`ResultSet::truncate_columns`] drop them before the result goes to the client.

use mysql_async::Value;
use mysql_common::packets::Column;

use super::decimal::format_double;
use super::EngineError;

/// One row: one value per column.
pub type Row = Vec<Value>;

/// Column metadata and rows of one (shard or merged) result.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    /// One entry per column, in row order.
    pub columns: Vec<Column>,
    /// The rows; every row has `columns.len()` values.
    pub rows: Vec<Row>,
}

impl ResultSet {
    /// A result from its parts.
    pub fn new(columns: Vec<Column>, rows: Vec<Row>) -> Self {
        Self { columns, rows }
    }

    /// A result with columns and no rows.
    pub fn empty(columns: Vec<Column>) -> Self {
        Self {
            columns,
            rows: Vec::new(),
        }
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Keeps only the columns at `keep`, in that order (an index may repeat), in the metadata
    /// and in every row.
    pub fn project(&mut self, keep: &[usize]) -> Result<(), EngineError> {
        let width = self.width();
        for &index in keep {
            check_column(index, width)?;
        }
        self.columns = keep.iter().map(|&i| self.columns[i].clone()).collect();
        for row in &mut self.rows {
            let projected = keep
                .iter()
                .map(|&i| row.get(i).cloned().unwrap_or(Value::NULL))
                .collect();
            *row = projected;
        }
        Ok(())
    }

    /// Drops every column from index `width` on (hidden trailing columns).
    pub fn truncate_columns(&mut self, width: usize) {
        self.columns.truncate(width);
        for row in &mut self.rows {
            row.truncate(width);
        }
    }

    /// Sets the name (and original name) a column is reported under.
    pub fn rename_column(&mut self, index: usize, name: &str) -> Result<(), EngineError> {
        check_column(index, self.width())?;
        let column = self.columns[index].clone();
        self.columns[index] = column
            .with_name(name.as_bytes())
            .with_org_name(name.as_bytes());
        Ok(())
    }
}

/// `Ok` when `index` is a valid column index for `width` columns.
pub(crate) fn check_column(index: usize, width: usize) -> Result<(), EngineError> {
    if index < width {
        Ok(())
    } else {
        Err(EngineError::ColumnOutOfRange { index, width })
    }
}

/// A text-protocol value holding `text`.
pub fn text_value(text: impl Into<Vec<u8>>) -> Value {
    Value::Bytes(text.into())
}

/// The value at `index` of `row`, or NULL when the row is too short.
pub(crate) fn cell(row: &[Value], index: usize) -> &Value {
    row.get(index).unwrap_or(&Value::NULL)
}

/// The textual form of a non-NULL scalar value (`None` for NULL and for dates and times,
/// whose text depends on the column type).
pub(crate) fn scalar_text(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::Bytes(bytes) => Some(bytes.clone()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        Value::UInt(u) => Some(u.to_string().into_bytes()),
        Value::Float(f) => Some(format_double(f64::from(*f)).into_bytes()),
        Value::Double(d) => Some(format_double(*d).into_bytes()),
        Value::NULL | Value::Date(..) | Value::Time(..) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::constants::ColumnType;

    fn set() -> ResultSet {
        let cols = vec![
            Column::new(ColumnType::MYSQL_TYPE_LONG).with_name(b"a"),
            Column::new(ColumnType::MYSQL_TYPE_VAR_STRING).with_name(b"b"),
            Column::new(ColumnType::MYSQL_TYPE_LONG).with_name(b"c"),
        ];
        let rows = vec![
            vec![text_value("1"), text_value("x"), text_value("9")],
            vec![text_value("2"), Value::NULL, text_value("8")],
        ];
        ResultSet::new(cols, rows)
    }

    #[test]
    fn project_reorders_and_drops() {
        let mut rs = set();
        rs.project(&[2, 0]).unwrap();
        assert_eq!(rs.width(), 2);
        assert_eq!(rs.columns[0].name_str(), "c");
        assert_eq!(rs.rows[1], vec![text_value("8"), text_value("2")]);
        assert_eq!(
            rs.project(&[5]),
            Err(EngineError::ColumnOutOfRange { index: 5, width: 2 })
        );
    }

    #[test]
    fn truncate_and_rename() {
        let mut rs = set();
        rs.truncate_columns(1);
        assert_eq!(rs.rows, vec![vec![text_value("1")], vec![text_value("2")]]);
        rs.rename_column(0, "avg(x)").unwrap();
        assert_eq!(rs.columns[0].name_str(), "avg(x)");
        assert!(rs.rename_column(1, "nope").is_err());
    }

    #[test]
    fn scalar_text_of_binary_values() {
        assert_eq!(scalar_text(&Value::Int(-3)), Some(b"-3".to_vec()));
        assert_eq!(
            scalar_text(&Value::UInt(u64::MAX)),
            Some(b"18446744073709551615".to_vec())
        );
        assert_eq!(scalar_text(&Value::Double(0.5)), Some(b"0.5".to_vec()));
        assert_eq!(scalar_text(&Value::NULL), None);
        assert_eq!(cell(&[], 3), &Value::NULL);
    }
}
