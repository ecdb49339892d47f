//! The snapshot's container: a header (magic, format version, digest of the source files, one entry per
//! section) and the sections' bytes, each stored zstd-compressed (the file in the repository) or as is
//! (the copy built into the binary, which is read in place). Pure byte handling on `std`, `zstd` and
//! `xxhash-rust`, so the build script unpacks the repository's file with this same code.
//!
//! Layout, little-endian: `TERRSNAP`, version (u32), section count (u32), digest (u128); per section its
//! codec (u32: 0 stored, 2 zstd), a zero u32, stored length, raw length and the XXH3-64 checksum of the
//! raw bytes (u64 each); then the sections one after the other.

use std::borrow::Cow;
use std::fmt;

/// The first bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"TERRSNAP";
/// Bumped whenever the encoded structures change, so an old snapshot is refused rather than misread.
pub const FORMAT_VERSION: u32 = 3;

const FIXED: usize = 8 + 4 + 4 + 16;
const ENTRY: usize = 32;
const STORED: u32 = 0;
const ZSTD: u32 = 2;
/// zstd level of the repository's copy: about a quarter of the raw size in a few seconds (level 15
/// saves 2% more in four times as long).
const ZSTD_LEVEL: i32 = 10;

/// Why bytes are not a usable container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerError {
    /// Too short, or not starting with the magic bytes.
    NotASnapshot,
    /// Written by another format version.
    Version {
        /// The version in the bytes.
        found: u32,
    },
    /// Shorter than the header says, an unknown codec, or a checksum that does not match.
    Damaged {
        /// Which section (its position).
        section: usize,
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotASnapshot => f.write_str("not an atlas snapshot (no TERRSNAP header)"),
            Self::Version { found } => {
                write!(f, "snapshot format version {found}, this binary reads version {FORMAT_VERSION}")
            }
            Self::Damaged { section, what } => write!(f, "snapshot section {section} is damaged ({what})"),
        }
    }
}

impl std::error::Error for ContainerError {}

/// One section as found in the bytes.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    /// Its position.
    pub index: usize,
    compressed: bool,
    stored: &'a [u8],
    raw_len: usize,
    checksum: u64,
}

impl<'a> Section<'a> {
    /// Whether the bytes are stored as is (and can be read in place).
    #[must_use]
    pub fn is_stored(&self) -> bool {
        !self.compressed
    }

    /// The bytes as stored (compressed or not).
    #[must_use]
    pub fn stored_bytes(&self) -> &'a [u8] {
        self.stored
    }

    /// The raw bytes: borrowed when stored as is, else decompressed. `verify` checks them against the
    /// checksum (the build script checked the binary's own copy once, so reading it skips this).
    ///
    /// # Errors
    /// A damaged section.
    pub fn raw(&self, verify: bool) -> Result<Cow<'a, [u8]>, ContainerError> {
        let damaged = |what: String| ContainerError::Damaged { section: self.index, what };
        let raw: Cow<'a, [u8]> = if self.compressed {
            Cow::Owned(zstd::bulk::decompress(self.stored, self.raw_len).map_err(|e| damaged(e.to_string()))?)
        } else {
            Cow::Borrowed(self.stored)
        };
        if raw.len() != self.raw_len {
            return Err(damaged(format!("{} bytes, expected {}", raw.len(), self.raw_len)));
        }
        if verify && xxhash_rust::xxh3::xxh3_64(&raw) != self.checksum {
            return Err(damaged("checksum mismatch".into()));
        }
        Ok(raw)
    }
}

/// A parsed container: the digest and the sections, borrowed from the bytes.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// Digest of the source files the snapshot was made from.
    pub digest: u128,
    /// The sections, in order.
    pub sections: Vec<Section<'a>>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

/// Reads the header and finds the sections (their contents are not checked: see [`Section::raw`]).
///
/// # Errors
/// Not a snapshot, another version, sections beyond the end or with an unknown codec.
pub fn parse(bytes: &[u8]) -> Result<Container<'_>, ContainerError> {
    if bytes.len() < FIXED || &bytes[..8] != MAGIC {
        return Err(ContainerError::NotASnapshot);
    }
    let found = u32_at(bytes, 8);
    if found != FORMAT_VERSION {
        return Err(ContainerError::Version { found });
    }
    let count = u32_at(bytes, 12) as usize;
    let digest = bytes[16..32].try_into().map_or(0, u128::from_le_bytes);
    let mut at = FIXED.checked_add(count.checked_mul(ENTRY).ok_or(ContainerError::NotASnapshot)?);
    let mut sections = Vec::with_capacity(count.min(64));
    for index in 0..count {
        let e = FIXED + index * ENTRY;
        let damaged = |what: String| ContainerError::Damaged { section: index, what };
        let codec = u32_at(bytes, e);
        if codec != STORED && codec != ZSTD {
            return Err(damaged(format!("unknown codec {codec}")));
        }
        let stored_len = usize::try_from(u64_at(bytes, e + 8)).unwrap_or(usize::MAX);
        let raw_len = usize::try_from(u64_at(bytes, e + 16)).unwrap_or(usize::MAX);
        let start = at.ok_or_else(|| damaged("header cut short".into()))?;
        let end = start.checked_add(stored_len).filter(|&end| end <= bytes.len());
        let end = end.ok_or_else(|| damaged(format!("{stored_len} bytes announced, the data is shorter")))?;
        sections.push(Section {
            index,
            compressed: codec == ZSTD,
            stored: &bytes[start..end],
            raw_len,
            checksum: u64_at(bytes, e + 24),
        });
        at = Some(end);
    }
    Ok(Container { digest, sections })
}

fn write(digest: u128, sections: &[(u32, &[u8], usize, u64)]) -> Vec<u8> {
    let total: usize = sections.iter().map(|s| s.1.len()).sum();
    let mut out = Vec::with_capacity(FIXED + sections.len() * ENTRY + total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&u32::try_from(sections.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&digest.to_le_bytes());
    for &(codec, stored, raw_len, checksum) in sections {
        out.extend_from_slice(&codec.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(stored.len() as u64).to_le_bytes());
        out.extend_from_slice(&(raw_len as u64).to_le_bytes());
        out.extend_from_slice(&checksum.to_le_bytes());
    }
    for (_, stored, _, _) in sections {
        out.extend_from_slice(stored);
    }
    out
}

/// A container of `raws` stored as is (the form built into the binary).
#[must_use]
pub fn stored(digest: u128, raws: &[&[u8]]) -> Vec<u8> {
    let entries: Vec<(u32, &[u8], usize, u64)> =
        raws.iter().map(|raw| (STORED, *raw, raw.len(), xxhash_rust::xxh3::xxh3_64(raw))).collect();
    write(digest, &entries)
}

/// The same container with every section zstd-compressed (the form kept in the repository).
///
/// # Errors
/// As [`parse`] and [`Section::raw`]; a compression failure.
pub fn pack(bytes: &[u8]) -> Result<Vec<u8>, ContainerError> {
    let container = parse(bytes)?;
    let mut packed = Vec::with_capacity(container.sections.len());
    for s in &container.sections {
        let raw = s.raw(true)?;
        let z = zstd::bulk::compress(&raw, ZSTD_LEVEL)
            .map_err(|e| ContainerError::Damaged { section: s.index, what: e.to_string() })?;
        packed.push((ZSTD, z, raw.len(), s.checksum));
    }
    let entries: Vec<(u32, &[u8], usize, u64)> =
        packed.iter().map(|(c, z, n, h)| (*c, z.as_slice(), *n, *h)).collect();
    Ok(write(container.digest, &entries))
}

/// The same container with every section checked and stored as is (the form built into the binary).
///
/// # Errors
/// As [`parse`] and [`Section::raw`].
pub fn unpack(bytes: &[u8]) -> Result<Vec<u8>, ContainerError> {
    let container = parse(bytes)?;
    let raws = container.sections.iter().map(|s| s.raw(true)).collect::<Result<Vec<_>, _>>()?;
    let entries: Vec<(u32, &[u8], usize, u64)> = raws
        .iter()
        .zip(&container.sections)
        .map(|(raw, s)| (STORED, raw.as_ref(), raw.len(), s.checksum))
        .collect();
    Ok(write(container.digest, &entries))
}
