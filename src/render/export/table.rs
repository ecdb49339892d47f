//! A collection as a table: its features in order, and one typed column per property, the types inferred
//! from every value (so a column that is an integer in one row and a decimal in another is a decimal).

use geo::MultiPolygon;
use serde_json::Value;

use crate::atlas::Atlas;
use crate::atlas::features::Collection;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// Whole numbers.
    Integer,
    /// Decimal numbers.
    Decimal,
    /// true/false.
    Boolean,
}

/// One property column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Property name.
    pub name: String,
    /// What it holds.
    pub kind: ColumnType,
    /// Whether some feature has no value.
    pub nullable: bool,
}

/// One feature: its id, its values in column order, its full-detail geometry.
#[derive(Debug)]
pub struct Row<'a> {
    /// Feature id, as the OGC API gives it.
    pub id: String,
    /// Values, one per column (`Value::Null` when absent).
    pub values: Vec<Value>,
    /// Geometry, WGS84 lon/lat.
    pub geometry: &'a MultiPolygon<f64>,
}

/// A collection as columns and rows.
#[derive(Debug)]
pub struct Table<'a> {
    /// Collection id (the file stem).
    pub name: String,
    /// `id` first, then the properties as the API names them.
    pub columns: Vec<Column>,
    /// Features in collection order.
    pub rows: Vec<Row<'a>>,
}

impl<'a> Table<'a> {
    /// The features of `collection`, with the same ids and properties as the OGC API items.
    #[must_use]
    pub fn of(atlas: &'a Atlas, collection: &Collection) -> Self {
        let features: Vec<_> = (0..atlas.collection_len(collection.source))
            .filter_map(|i| atlas.feature(collection.source, i))
            .collect();
        let mut columns = vec![Column { name: "id".into(), kind: ColumnType::Text, nullable: false }];
        for f in &features {
            for (key, value) in f.properties.iter().filter(|(k, _)| k.as_str() != "id") {
                let kind = match value {
                    Value::Null => continue,
                    Value::Bool(_) => ColumnType::Boolean,
                    Value::Number(n) if n.is_i64() || n.is_u64() => ColumnType::Integer,
                    Value::Number(_) => ColumnType::Decimal,
                    _ => ColumnType::Text,
                };
                match columns.iter_mut().find(|c| &c.name == key) {
                    None => columns.push(Column { name: key.clone(), kind, nullable: false }),
                    Some(c) => c.kind = widen(c.kind, kind),
                }
            }
        }
        let rows: Vec<Row<'a>> = features
            .into_iter()
            .map(|f| {
                let values = columns
                    .iter()
                    .map(|c| {
                        if c.name == "id" {
                            Value::from(f.id.as_str())
                        } else {
                            f.properties.get(&c.name).cloned().unwrap_or(Value::Null)
                        }
                    })
                    .collect();
                Row { id: f.id, values, geometry: f.geometry }
            })
            .collect();
        for (i, c) in columns.iter_mut().enumerate() {
            c.nullable = rows.iter().any(|r| r.values[i].is_null());
        }
        Self { name: collection.id.clone(), columns, rows }
    }
}

/// The type that holds values of both types: integers widen to decimals, anything else mixed to text.
fn widen(a: ColumnType, b: ColumnType) -> ColumnType {
    use ColumnType::{Decimal, Integer, Text};
    match (a, b) {
        _ if a == b => a,
        (Integer, Decimal) | (Decimal, Integer) => Decimal,
        _ => Text,
    }
}
