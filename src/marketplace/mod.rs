//! The plug-in catalogue (plug-ins and their immutable versions) and the
//! installs that put a plug-in version to work in one store.

pub mod installs;
pub mod lifecycle;
pub mod modules;
pub mod pipeline;
pub mod registry;
pub mod schema;
pub mod versions;
