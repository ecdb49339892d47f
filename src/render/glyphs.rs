//! SDF glyph ranges for MapLibre's text (`/fonts/{fontstack}/{start}-{end}.pbf`), made from the DejaVu
//! Sans font the binary embeds (`fonts/`), so place names draw with no request leaving the server. Each
//! range is made once, on first request (`glyphore-core`, node-fontnik's conventions), then served from
//! memory with its ETag and compressed forms.

use std::sync::{Arc, OnceLock};

use super::encoded::Encoded;

/// The embedded font: DejaVu Sans Book (Bitstream Vera licence, see `fonts/LICENSE`).
const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// The one font stack served, as MapLibre styles name it (`text-font`).
pub const FONTSTACK: &str = "DejaVu Sans Book";

/// Media type of glyph ranges.
pub const PBF: &str = "application/x-protobuf";

/// Ranges MapLibre asks for: 256 code points each, over the Basic Multilingual Plane.
const RANGES: usize = 256;

/// Why a glyph range cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlyphError {
    /// A font stack that names no font served here.
    #[error("no font {0:?} here; the map's font stack is {FONTSTACK:?}")]
    UnknownFontstack(String),
    /// A range that is not `START-END` with START a multiple of 256 and END = START + 255, under 65536.
    #[error(
        "glyph range {0:?}: expected START-END.pbf with START a multiple of 256 below 65536 and END = START + 255"
    )]
    BadRange(String),
    /// The font could not be read or the range encoded.
    #[error("glyphs: {0}")]
    Font(String),
}

/// The glyph ranges of the embedded font, made on demand.
pub struct Glyphs {
    face: OnceLock<Result<glyphore_core::FontFace, String>>,
    ranges: Vec<OnceLock<Arc<Encoded>>>,
}

impl std::fmt::Debug for Glyphs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let made = self.ranges.iter().filter(|r| r.get().is_some()).count();
        f.debug_struct("Glyphs").field("ranges_made", &made).finish_non_exhaustive()
    }
}

impl Default for Glyphs {
    fn default() -> Self {
        Self { face: OnceLock::new(), ranges: (0..RANGES).map(|_| OnceLock::new()).collect() }
    }
}

/// The process's glyph ranges: the font never changes, so reloads keep what was made.
#[must_use]
pub fn glyphs() -> &'static Glyphs {
    static GLYPHS: OnceLock<Glyphs> = OnceLock::new();
    GLYPHS.get_or_init(Glyphs::default)
}

impl Glyphs {
    /// The range `range` (`0-255`, `256-511`… with or without `.pbf`) of `fontstack`, a comma-separated
    /// list of fonts MapLibre falls back through: answered when one of them is [`FONTSTACK`].
    ///
    /// # Errors
    /// [`GlyphError::UnknownFontstack`], [`GlyphError::BadRange`], or a font failure.
    pub fn range(&self, fontstack: &str, range: &str) -> Result<Arc<Encoded>, GlyphError> {
        if !fontstack.split(',').any(|f| f.trim() == FONTSTACK) {
            return Err(GlyphError::UnknownFontstack(fontstack.to_owned()));
        }
        let bad = || GlyphError::BadRange(range.to_owned());
        let (start, end) = range.strip_suffix(".pbf").unwrap_or(range).split_once('-').ok_or_else(bad)?;
        let (start, end): (u32, u32) = (start.parse().map_err(|_| bad())?, end.parse().map_err(|_| bad())?);
        if start % 256 != 0 || end != start + 255 || start as usize >= RANGES * 256 {
            return Err(bad());
        }
        let slot = &self.ranges[start as usize / 256];
        if let Some(made) = slot.get() {
            return Ok(made.clone());
        }
        let face = self
            .face
            .get_or_init(|| glyphore_core::FontFace::parse(FONT).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| GlyphError::Font(e.clone()))?;
        let pbf = glyphore_core::generate_range(face, start).map_err(|e| GlyphError::Font(e.to_string()))?;
        Ok(slot.get_or_init(|| Arc::new(Encoded::new(pbf, PBF))).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_and_made_once() {
        let g = Glyphs::default();
        let a = g.range(FONTSTACK, "0-255.pbf").expect("latin");
        let b = g.range("Open Sans Regular,DejaVu Sans Book", "0-255").expect("fallback stack");
        assert!(Arc::ptr_eq(&a, &b), "made once");
        assert!(matches!(g.range("Arial", "0-255"), Err(GlyphError::UnknownFontstack(_))));
        for bad in ["1-256", "0-254", "65536-65791", "a-b", "0"] {
            assert!(matches!(g.range(FONTSTACK, bad), Err(GlyphError::BadRange(_))), "{bad}");
        }
    }
}
