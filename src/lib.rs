//! territoires: France's *Territoires d'industrie* as a library — load boundaries and territory lists,
//! build an immutable [`atlas::Atlas`], answer "which labelled territory contains this site?".

pub mod atlas;
pub mod batch;
pub mod codes;
pub mod figures;
pub mod geometry;
#[cfg(feature = "server")]
pub mod http;
pub mod index;
pub mod memory;
pub mod model;
pub mod render;
pub mod snapshot;
pub mod source;
pub mod tabular;
pub mod text;
pub mod web_assets;
