//! territoires: France's *Territoires d'industrie* as a library — load boundaries and territory lists,
//! build an immutable [`atlas::Atlas`], answer "which labelled territory contains this site?".

pub mod index;
pub mod model;
pub mod source;
