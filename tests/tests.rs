//! End-to-end tests: one binary, one module per topic (ripgrep's layout). They run on the committed
//! geodata/ (editions 2023 and 2019) and tests/fixtures/ only, so nothing is skipped on a fresh clone.

mod support;

mod api;
mod atlas_real;
mod batch;
mod batch_codes;
mod batch_formats;
mod cli;
mod figures;
mod geometry_truth;
mod import;
mod layers_valid;
mod layout;
mod ogc;
mod pages;
mod server;
mod snapshot;
mod tiles;
