//! territoires: France's *Territoires d'industrie* as a library — load boundaries and territory lists,
//! build an immutable [`atlas::Atlas`], answer "which labelled territory contains this site?".

pub mod api;
pub mod atlas;
pub mod batch;
pub mod catalog;
pub mod cli;
pub mod codes;
pub mod dissolve;
pub mod encoded;
pub mod features;
pub mod figures;
pub mod geometry;
pub mod import_cli;
pub mod index;
pub mod layers;
pub mod memory;
pub mod model;
pub mod search;
pub mod server;
pub mod source;
pub mod tabular;
pub mod tiles;
pub mod web;
