//! Tabular inputs: byte-order mark, text encoding, field separator and column names — one set of rules
//! for territory lists (`source::composition`, `source::import`) and batch lookups (`batch`). It reads
//! bytes and names; it knows nothing of territories.

pub mod columns;
pub mod sheet;

use std::borrow::Cow;

/// The UTF-8 byte-order mark.
pub const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// The text encodings read: UTF-8 (with or without BOM) and, when the bytes are not UTF-8,
/// Windows-1252 — what French spreadsheet programs write as "CSV" (a superset of Latin-1's letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum TextEncoding {
    /// UTF-8 (ASCII included).
    #[serde(rename = "UTF-8")]
    Utf8,
    /// Windows-1252, converted to UTF-8 on reading.
    #[serde(rename = "Windows-1252")]
    Windows1252,
}

impl TextEncoding {
    /// The WHATWG label (`UTF-8`, `windows-1252`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Windows1252 => "Windows-1252",
        }
    }
}

/// `bytes` without a leading UTF-8 byte-order mark.
///
/// ```
/// assert_eq!(territoires::tabular::strip_bom(b"\xef\xbb\xbfid"), b"id");
/// assert_eq!(territoires::tabular::strip_bom(b"id"), b"id");
/// ```
#[must_use]
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// The encoding of a text from its first bytes: UTF-8 when they are valid UTF-8 (a multi-byte character
/// cut at the end of an incomplete sample counts as valid), Windows-1252 otherwise.
///
/// ```
/// use territoires::tabular::{TextEncoding, detect_encoding};
/// assert_eq!(detect_encoding("Châteauroux".as_bytes(), true), TextEncoding::Utf8);
/// assert_eq!(detect_encoding(b"Ch\xe2teauroux", true), TextEncoding::Windows1252);
/// assert_eq!(detect_encoding(b"Ch\xc3", false), TextEncoding::Utf8);
/// ```
#[must_use]
pub fn detect_encoding(sample: &[u8], complete: bool) -> TextEncoding {
    match std::str::from_utf8(sample) {
        Ok(_) => TextEncoding::Utf8,
        // `error_len() == None`: the sample ends inside a character, which the next bytes may finish.
        Err(e) if !complete && e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1252,
    }
}

/// A whole text decoded: BOM dropped, Windows-1252 converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text, in UTF-8.
    pub text: Cow<'a, str>,
    /// The encoding it was read in.
    pub encoding: TextEncoding,
    /// Whether the bytes started with a UTF-8 BOM.
    pub had_bom: bool,
}

/// Decodes a whole file: UTF-8 (BOM dropped) when valid, else Windows-1252.
///
/// ```
/// let d = territoires::tabular::decode(b"nom\nVillers-Cotter\xeats\n");
/// assert_eq!(d.text, "nom\nVillers-Cotterêts\n");
/// assert_eq!(d.encoding, territoires::tabular::TextEncoding::Windows1252);
/// ```
#[must_use]
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let body = strip_bom(bytes);
    let had_bom = body.len() != bytes.len();
    match std::str::from_utf8(body) {
        Ok(text) => Decoded { text: Cow::Borrowed(text), encoding: TextEncoding::Utf8, had_bom },
        Err(_) => Decoded {
            text: encoding_rs::WINDOWS_1252.decode_without_bom_handling(body).0,
            encoding: TextEncoding::Windows1252,
            had_bom,
        },
    }
}

/// One field's bytes in UTF-8, read in `encoding`; a field that is not valid UTF-8 in a text taken for
/// UTF-8 is read as Windows-1252 too, so the output is never a mix of encodings.
///
/// ```
/// use territoires::tabular::{TextEncoding, field_to_utf8};
/// assert_eq!(&*field_to_utf8(b"Cotter\xeats", TextEncoding::Utf8), "Cotterêts".as_bytes());
/// assert_eq!(&*field_to_utf8("Cotterêts".as_bytes(), TextEncoding::Utf8), "Cotterêts".as_bytes());
/// ```
#[must_use]
pub fn field_to_utf8(field: &[u8], encoding: TextEncoding) -> Cow<'_, [u8]> {
    if field.is_ascii() || (encoding == TextEncoding::Utf8 && std::str::from_utf8(field).is_ok()) {
        return Cow::Borrowed(field);
    }
    match encoding_rs::WINDOWS_1252.decode_without_bom_handling(field).0 {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    }
}

/// The field separators recognised, in the order that breaks ties.
pub const SEPARATORS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The separator of a header line: the most frequent of `,` `;` tab `|` outside double quotes (`,` on ties
/// and when there is none).
///
/// ```
/// use territoires::tabular::sniff_separator;
/// assert_eq!(sniff_separator(b"siret;x;y"), b';');
/// assert_eq!(sniff_separator(b"\"a;b;c\",x,y"), b',');
/// assert_eq!(sniff_separator(b"id|x|y"), b'|');
/// assert_eq!(sniff_separator(b"lon"), b',');
/// ```
#[must_use]
pub fn sniff_separator(header_line: &[u8]) -> u8 {
    let (mut in_quotes, mut counts) = (false, [0usize; SEPARATORS.len()]);
    for &b in header_line {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && let Some(i) = SEPARATORS.iter().position(|&s| s == b) {
            counts[i] += 1;
        }
    }
    let best = (0..SEPARATORS.len()).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    SEPARATORS[best]
}

/// The first line of `bytes` (without its line end), BOM dropped.
#[must_use]
pub fn first_line(bytes: &[u8]) -> &[u8] {
    let bytes = strip_bom(bytes);
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end])
}

/// A header name as compared with accepted names: BOM and spaces (non-breaking too) trimmed, lower case.
///
/// ```
/// assert_eq!(territoires::tabular::normalise_header("\u{feff} Longitude\u{a0}"), "longitude");
/// ```
#[must_use]
pub fn normalise_header(name: &str) -> String {
    crate::model::trim_name(name).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_counted_outside_quotes_with_ties_to_the_comma() {
        assert_eq!(sniff_separator(b"id\tlib\tsiren"), b'\t');
        assert_eq!(sniff_separator(b"a;b,c"), b',');
        assert_eq!(sniff_separator(b"\"x|y\";z"), b';');
        assert_eq!(sniff_separator(b""), b',');
    }

    #[test]
    fn windows_1252_letters_beyond_latin_1_are_kept() {
        // 0x9c is œ in Windows-1252 (a control character in Latin-1), 0x80 the euro sign.
        let d = decode(b"c\x9cur;\x80");
        assert_eq!(d.text, "cœur;€");
        assert!(!d.had_bom);
        let d = decode("\u{feff}cœur".as_bytes());
        assert_eq!((d.text.as_ref(), d.encoding, d.had_bom), ("cœur", TextEncoding::Utf8, true));
    }

    #[test]
    fn first_line_drops_bom_and_line_end() {
        assert_eq!(first_line(b"\xef\xbb\xbfa;b\r\n1;2\n"), b"a;b");
        assert_eq!(first_line(b"a"), b"a");
    }

    proptest::proptest! {
        /// Any bytes decode without panicking, and UTF-8 text always comes back unchanged.
        #[test]
        fn decoding_never_panics_and_keeps_utf8(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), text in "\\PC{0,24}") {
            let _ = decode(&bytes);
            let _ = sniff_separator(&bytes);
            let _ = field_to_utf8(&bytes, TextEncoding::Utf8);
            proptest::prop_assert_eq!(&*field_to_utf8(text.as_bytes(), TextEncoding::Utf8), text.as_bytes());
            if !text.starts_with('\u{feff}') {
                proptest::prop_assert_eq!(decode(text.as_bytes()).text, text.as_str());
            }
        }
    }
}
