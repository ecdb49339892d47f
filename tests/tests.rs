//! End-to-end tests: one binary, one module per topic (ripgrep's layout). They run on the committed
//! geodata/ and, when present, on ../shared/data (ANCT lists, known sites); absent shared data is
//! skipped with a message, never silently passed.

#[macro_use]
mod support;

mod api;
mod atlas_real;
mod batch;
mod cli;
mod geometry_truth;
mod layers_valid;
mod ogc;
mod server;
mod tiles;
