//! Orders: the pricing pipeline, checkout, customers and the order lifecycle.

pub mod stacking;
