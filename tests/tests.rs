//! End-to-end tests: one binary, one module per topic (ripgrep's layout).
