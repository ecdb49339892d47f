//! territoires: France's *Territoires d'industrie* as a library — load boundaries and territory lists,
//! build an immutable [`atlas::Atlas`], answer "which labelled territory contains this site?".

pub mod atlas;
pub mod batch;
pub mod catalog;
pub mod dissolve;
pub mod encoded;
pub mod features;
pub mod figures;
pub mod geometry;
pub mod http;
pub mod index;
pub mod layers;
pub mod memory;
pub mod model;
pub mod search;
pub mod source;
pub mod tiles;
