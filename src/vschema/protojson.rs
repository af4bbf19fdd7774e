//! protojson decoding rules for the VSchema file types in [`super::model`].
//!
//! * `null` means "unset" for every field ([`nullable`], [`object_list`], [`optional_object`]);
//! * messages are JSON objects only ([`Obj`]): serde's derived struct decoding would also take
//!   an array with the fields by position;
//! * maps reject duplicate keys and prefix errors with the entry's name ([`named_map`]);
//! * enums are a name or their number ([`ForeignKeyMode`]).

use super::model::{ForeignKeyMode, TableJson, VindexJson, FK_MODES};
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

impl Serialize for ForeignKeyMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ForeignKeyMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ForeignKeyMode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one of \"unspecified\", \"disallow\", \"unmanaged\", \"managed\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                FK_MODES
                    .iter()
                    .find(|(_, n)| *n == s)
                    .map(|(m, _)| *m)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                usize::try_from(n)
                    .ok()
                    .and_then(|i| FK_MODES.get(i))
                    .map(|(m, _)| *m)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
                    .and_then(|u| self.visit_u64(u))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ForeignKeyMode::Unspecified)
            }
        }
        d.deserialize_any(V)
    }
}

/// protojson treats `null` as "unset": decode it as the type's default.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(super) fn vindex_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, VindexJson>, D::Error> {
    let map = named_map::<D, Obj<VindexJson>>(d, "vindex")?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
}

pub(super) fn table_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, TableJson>, D::Error> {
    let map = named_map::<D, Obj<TableJson>>(d, "table")?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
}

/// A list of objects; `null` is empty.
pub(super) fn object_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let list = Option::<Vec<Obj<T>>>::deserialize(d)?.unwrap_or_default();
    Ok(list.into_iter().map(|o| o.0).collect())
}

/// An optional object; `null` is `None`.
pub(super) fn optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Obj<T>>::deserialize(d)?.map(|o| o.0))
}

/// Decodes `T` from a JSON object only. Derived struct decoding also accepts arrays
/// (fields by position), which protojson does not.
pub(super) struct Obj<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjVisitor(PhantomData)).map(Obj)
    }
}

pub(super) fn param_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    named_map(d, "param")
}

/// A JSON object decoded into a map that rejects duplicate keys and prefixes value errors with
/// `<what> '<key>': ` (serde_json keeps the `at line L column C` suffix). `null` is empty.
fn named_map<'de, D, V>(d: D, what: &'static str) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: DeserializeOwned,
{
    struct MapVisitor<V> {
        what: &'static str,
        marker: PhantomData<V>,
    }
    impl<'de, V: DeserializeOwned> Visitor<'de> for MapVisitor<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "an object of {} names", self.what)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value: V = map
                    .next_value()
                    .map_err(|e| de::Error::custom(format!("{} '{key}': {e}", self.what)))?;
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!(
                        "duplicate {} '{key}'",
                        self.what
                    )));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_any(MapVisitor {
        what,
        marker: PhantomData,
    })
}
