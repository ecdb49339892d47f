//! The files of `web/` (the map page, its modules and the vendored packages), embedded in the binary at
//! build time. Below both `http` (which serves them) and `render::export` (which writes them as the static
//! site), so neither depends on the other.

use rust_embed::RustEmbed;

/// The embedded `web/` directory.
#[derive(RustEmbed)]
#[folder = "web/"]
pub struct Assets;
