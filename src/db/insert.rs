//! Inserts of whole rows written straight from an entity's columns. A
//! checkout writes half a dozen statements (the order, its lines,
//! adjustments and claims, the outbox event, the usage record, the stock);
//! built through the query builder, with a statement tree and an active
//! model per row, they took about a tenth of a SQLite checkout's
//! instructions. The text here is the builder's, character for character
//! (unit tests compare them), so it finds the same prepared statements.

use sea_orm::{ActiveModelTrait, EntityName, EntityTrait, IdenStatic, IntoActiveModel, Iterable, ModelTrait, Value};

/// SQL with `?` placeholders, and their values in order.
pub type Sql = (String, Vec<Value>);

/// One column's value given as SQL instead of a bound value (a subquery,
/// a column of an earlier part), with the values of its `?` placeholders.
pub struct Computed<'a, C> {
    pub column: C,
    pub sql: &'a str,
    pub values: Vec<Value>,
}

/// `("a", "b", ..)`: every column of `E`, in the entity's order.
pub fn columns<E: EntityTrait>() -> String {
    let mut text = String::with_capacity(256);
    text.push('(');
    for (i, column) in E::Column::iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        quoted(&mut text, column.as_str());
    }
    text.push(')');
    text
}

/// A model whose values can be moved out column by column (every entity's
/// `Model`: through its active model, without cloning a value).
pub trait Row: ModelTrait + IntoActiveModel<<Self::Entity as EntityTrait>::ActiveModel> {}

impl<M> Row for M where M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel> {}

/// The row's values as `?, ?, ..` (a computed column's SQL in its place)
/// appended to `text`, and their values appended to `values`.
pub fn row_into<M: Row>(
    text: &mut String,
    values: &mut Vec<Value>,
    model: M,
    computed: Option<&Computed<'_, <M::Entity as EntityTrait>::Column>>,
) {
    let mut row = model.into_active_model();
    for (i, column) in <M::Entity as EntityTrait>::Column::iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        match computed {
            Some(c) if c.column.as_str() == column.as_str() => {
                text.push_str(c.sql);
                values.extend(c.values.iter().cloned());
            }
            _ => {
                text.push('?');
                // Every column of a model converted whole is set.
                values.push(row.take(column).into_value().unwrap_or(Value::Bool(None)));
            }
        }
    }
}

/// `INSERT INTO "t" ("a", ..) VALUES (?, ..), (?, ..)`: `models` as rows
/// of their table, with their values in order (`?` placeholders). `None`
/// for no rows.
pub fn rows<M: Row>(models: Vec<M>) -> Option<Sql> {
    (!models.is_empty()).then(|| text(models.into_iter(), None))
}

/// The insert of one row.
pub fn row<M: Row>(model: M) -> Sql {
    text(std::iter::once(model), None)
}

/// The insert of one row with one column's value computed by SQL.
pub fn row_with<M: Row>(model: M, computed: &Computed<'_, <M::Entity as EntityTrait>::Column>) -> Sql {
    text(std::iter::once(model), Some(computed))
}

fn text<M: Row>(
    models: impl Iterator<Item = M>,
    computed: Option<&Computed<'_, <M::Entity as EntityTrait>::Column>>,
) -> Sql {
    let width = <M::Entity as EntityTrait>::Column::iter().count();
    let count = models.size_hint().0;
    let mut text = String::with_capacity(64 + width * 24 + count * width * 3);
    text.push_str("INSERT INTO ");
    quoted(&mut text, M::Entity::default().table_name());
    text.push(' ');
    text.push_str(&columns::<M::Entity>());
    text.push_str(" VALUES ");
    let mut values = Vec::with_capacity(count * width);
    for (i, model) in models.enumerate() {
        text.push_str(if i == 0 { "(" } else { ", (" });
        row_into(&mut text, &mut values, model, computed);
        text.push(')');
    }
    (text, values)
}

/// `"name"`, as the query builder quotes identifiers.
pub fn quoted(text: &mut String, name: &str) {
    text.push('"');
    text.push_str(name);
    text.push('"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::{DbBackend, EntityTrait, IntoActiveModel, QueryTrait};
    use uuid::Uuid;

    use super::rows;
    use crate::entities::order_lines;

    fn line(position: i32) -> order_lines::Model {
        order_lines::Model {
            tenant_id: Uuid::from_u128(1),
            order_id: Uuid::from_u128(2),
            position,
            product_id: Uuid::from_u128(3),
            variant_id: Uuid::from_u128(4),
            sku: "SKU-'1'".into(),
            title: "A \"quoted\" title".into(),
            unit_price: 1_250,
            quantity: 2,
            total: 2_500,
            adjusted_total: 2_000,
        }
    }

    #[test]
    fn rows_are_the_builders_insert_text_and_values() {
        for n in 1..4 {
            let lines: Vec<_> = (0..n).map(line).collect();
            let built = order_lines::Entity::insert_many(lines.iter().cloned().map(IntoActiveModel::into_active_model))
                .build(DbBackend::Sqlite);
            let (text, values) = rows(lines).unwrap();
            assert_eq!(text, built.sql);
            assert_eq!(values, built.values.unwrap().0);
        }
        assert!(rows(Vec::<order_lines::Model>::new()).is_none());
    }
}
