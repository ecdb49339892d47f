//! Everything that can stop an Atlas from being built, each naming its file, line or feature.

use std::path::PathBuf;

use crate::model::{EditionId, ErrorList, MemberCode, SourcePos, UnitKind};
use crate::source::composition::CompositionError;
use crate::source::error::LoadError;

/// One problem found while building the Atlas.
#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    /// A unit file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The commune code table could not be read.
    #[error(transparent)]
    Codes(#[from] crate::codes::CodeTableError),
    /// A territory list has a problem of its own (format, codes, duplicates).
    #[error("edition {edition}: {error}")]
    Composition {
        /// The edition being read.
        edition: EditionId,
        /// What is wrong.
        error: CompositionError,
    },
    /// A member code that no loaded unit has.
    #[error("{pos}: member {code} ({name}) matches no loaded EPCI, EPT or commune")]
    UnknownMember {
        /// Where it is listed.
        pos: SourcePos,
        /// The code.
        code: MemberCode,
        /// The name listed.
        name: String,
    },
    /// The same unit listed twice in one edition under two codes (SIREN and INSEE code of a commune).
    #[error("{pos}: member {code} is {unit}, already listed at {first}")]
    DuplicateUnit {
        /// Where it is listed the second time.
        pos: SourcePos,
        /// The code given the second time.
        code: MemberCode,
        /// The unit's code and name.
        unit: String,
        /// Where it was first listed.
        first: SourcePos,
    },
    /// Two editions with the same id.
    #[error("edition {0} is given twice")]
    DuplicateEdition(EditionId),
    /// Two units with the same code.
    #[error("{file}: {kind} {code} is also in {first_file}")]
    DuplicateCode {
        /// The file of the second one.
        file: String,
        /// The kind.
        kind: UnitKind,
        /// The code.
        code: String,
        /// The file of the first one.
        first_file: String,
    },
    /// The geodata directory has no unit layer.
    #[error("{}: no unit layer found (expected epci.shp, ept.shp or communes.shp)", .0.display())]
    NoUnits(PathBuf),
    /// A default territory list whose file name is not a valid edition id.
    #[error("{}: file name is not a valid edition id (letters, digits, '-', '_')", .0.display())]
    BadEditionFile(PathBuf),
}

/// Every problem found while building, in the order found.
pub type AtlasErrors = ErrorList<AtlasError>;
