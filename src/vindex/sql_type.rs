//! SQL types as Vitess names them (`querypb.Type`), with the predicates vindexes need.

use std::fmt;
use std::str::FromStr;

use super::VindexError;

/// The SQL type of a [`super::SqlValue`], named as in Vitess's `querypb.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// SQL NULL.
    Null,
    /// TINYINT.
    Int8,
    /// TINYINT UNSIGNED.
    Uint8,
    /// SMALLINT.
    Int16,
    /// SMALLINT UNSIGNED.
    Uint16,
    /// MEDIUMINT.
    Int24,
    /// MEDIUMINT UNSIGNED.
    Uint24,
    /// INT.
    Int32,
    /// INT UNSIGNED.
    Uint32,
    /// BIGINT.
    Int64,
    /// BIGINT UNSIGNED.
    Uint64,
    /// FLOAT.
    Float32,
    /// DOUBLE.
    Float64,
    /// TIMESTAMP.
    Timestamp,
    /// DATE.
    Date,
    /// TIME.
    Time,
    /// DATETIME.
    Datetime,
    /// YEAR (unsigned integral).
    Year,
    /// DECIMAL.
    Decimal,
    /// TEXT.
    Text,
    /// BLOB.
    Blob,
    /// VARCHAR.
    VarChar,
    /// VARBINARY.
    VarBinary,
    /// CHAR.
    Char,
    /// BINARY.
    Binary,
    /// BIT.
    Bit,
    /// ENUM.
    Enum,
    /// SET.
    Set,
    /// GEOMETRY.
    Geometry,
    /// JSON.
    Json,
    /// An expression that is not a value; cannot be converted.
    Expression,
    /// A hex number literal such as `0x9efa`.
    HexNum,
    /// A hex string literal such as `x'9efa'`.
    HexVal,
    /// A bit literal such as `0b101`.
    BitNum,
    /// VECTOR.
    Vector,
}

/// Every type with its Vitess name, used by `Display` and `FromStr`.
const TYPE_NAMES: &[(SqlType, &str)] = &[
    (SqlType::Null, "NULL_TYPE"),
    (SqlType::Int8, "INT8"),
    (SqlType::Uint8, "UINT8"),
    (SqlType::Int16, "INT16"),
    (SqlType::Uint16, "UINT16"),
    (SqlType::Int24, "INT24"),
    (SqlType::Uint24, "UINT24"),
    (SqlType::Int32, "INT32"),
    (SqlType::Uint32, "UINT32"),
    (SqlType::Int64, "INT64"),
    (SqlType::Uint64, "UINT64"),
    (SqlType::Float32, "FLOAT32"),
    (SqlType::Float64, "FLOAT64"),
    (SqlType::Timestamp, "TIMESTAMP"),
    (SqlType::Date, "DATE"),
    (SqlType::Time, "TIME"),
    (SqlType::Datetime, "DATETIME"),
    (SqlType::Year, "YEAR"),
    (SqlType::Decimal, "DECIMAL"),
    (SqlType::Text, "TEXT"),
    (SqlType::Blob, "BLOB"),
    (SqlType::VarChar, "VARCHAR"),
    (SqlType::VarBinary, "VARBINARY"),
    (SqlType::Char, "CHAR"),
    (SqlType::Binary, "BINARY"),
    (SqlType::Bit, "BIT"),
    (SqlType::Enum, "ENUM"),
    (SqlType::Set, "SET"),
    (SqlType::Geometry, "GEOMETRY"),
    (SqlType::Json, "JSON"),
    (SqlType::Expression, "EXPRESSION"),
    (SqlType::HexNum, "HEXNUM"),
    (SqlType::HexVal, "HEXVAL"),
    (SqlType::BitNum, "BITNUM"),
    (SqlType::Vector, "VECTOR"),
];

impl SqlType {
    /// The Vitess name of the type (`INT64`, `VARCHAR`, `NULL_TYPE`, ...).
    pub fn name(self) -> &'static str {
        TYPE_NAMES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("UNKNOWN", |(_, n)| n)
    }

    /// INT8, INT16, INT24, INT32 and INT64.
    pub fn is_signed(self) -> bool {
        use SqlType::*;
        matches!(self, Int8 | Int16 | Int24 | Int32 | Int64)
    }

    /// UINT8..UINT64 and YEAR.
    pub fn is_unsigned(self) -> bool {
        use SqlType::*;
        matches!(self, Uint8 | Uint16 | Uint24 | Uint32 | Uint64 | Year)
    }

    /// Signed or unsigned integral.
    pub fn is_integral(self) -> bool {
        self.is_signed() || self.is_unsigned()
    }

    /// FLOAT32 and FLOAT64.
    pub fn is_float(self) -> bool {
        matches!(self, SqlType::Float32 | SqlType::Float64)
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SqlType {
    type Err = VindexError;

    /// Parses a Vitess type name, case-insensitively; `NULL` is accepted for `NULL_TYPE`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.to_ascii_uppercase();
        if upper == "NULL" {
            return Ok(SqlType::Null);
        }
        TYPE_NAMES
            .iter()
            .find(|(_, n)| *n == upper)
            .map(|(t, _)| *t)
            .ok_or_else(|| VindexError::Value(format!("unknown SQL type '{s}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for (t, n) in TYPE_NAMES {
            assert_eq!(n.parse::<SqlType>().ok(), Some(*t));
            assert_eq!(t.to_string(), *n);
        }
        assert_eq!("null".parse::<SqlType>().ok(), Some(SqlType::Null));
        assert!("BOGUS".parse::<SqlType>().is_err());
    }
}
