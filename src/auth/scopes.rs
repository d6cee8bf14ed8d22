//! What an API key may do. Users have every scope their role allows.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "stores:read")]
    StoresRead,
    #[serde(rename = "stores:write")]
    StoresWrite,
    #[serde(rename = "catalog:read")]
    CatalogRead,
    #[serde(rename = "catalog:write")]
    CatalogWrite,
    #[serde(rename = "orders:read")]
    OrdersRead,
    #[serde(rename = "orders:write")]
    OrdersWrite,
    /// Report stream events (the stream integration).
    #[serde(rename = "streams")]
    Streams,
    #[serde(rename = "plugins")]
    Plugins,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::StoresRead,
        Scope::StoresWrite,
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::OrdersRead,
        Scope::OrdersWrite,
        Scope::Streams,
        Scope::Plugins,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::StoresRead => "stores:read",
            Scope::StoresWrite => "stores:write",
            Scope::CatalogRead => "catalog:read",
            Scope::CatalogWrite => "catalog:write",
            Scope::OrdersRead => "orders:read",
            Scope::OrdersWrite => "orders:write",
            Scope::Streams => "streams",
            Scope::Plugins => "plugins",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}
