//! Pre-encoded answers: a body with its strong ETag and its gzip and brotli forms, made once and served
//! many times (layers, lists). Compression happens on first use, then the bytes are reused.

use std::io::Write;
use std::sync::OnceLock;

use bytes::Bytes;

/// A body ready to serve in any encoding the client accepts.
#[derive(Debug)]
pub struct Encoded {
    /// The body as is.
    pub identity: Bytes,
    /// Media type.
    pub content_type: &'static str,
    /// Strong ETag (quoted), from a 128-bit hash of the body.
    pub etag: String,
    gzip: OnceLock<Bytes>,
    br: OnceLock<Bytes>,
}

/// A content encoding a client can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip.
    Gzip,
    /// Brotli.
    Br,
}

impl Encoding {
    /// The best encoding an `Accept-Encoding` header allows (brotli, then gzip), honouring `q=0`.
    ///
    /// ```
    /// use territoires::render::encoded::Encoding;
    /// assert_eq!(Encoding::negotiate("gzip, deflate, br"), Encoding::Br);
    /// assert_eq!(Encoding::negotiate("gzip;q=1.0, br;q=0"), Encoding::Gzip);
    /// assert_eq!(Encoding::negotiate(""), Encoding::Identity);
    /// ```
    #[must_use]
    pub fn negotiate(accept: &str) -> Self {
        let allowed = |name: &str| {
            accept.split(',').any(|part| {
                let mut bits = part.split(';');
                let coding = bits.next().unwrap_or_default().trim();
                let q = bits
                    .filter_map(|b| b.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                coding.eq_ignore_ascii_case(name) && q > 0.0
            })
        };
        if allowed("br") {
            Self::Br
        } else if allowed("gzip") {
            Self::Gzip
        } else {
            Self::Identity
        }
    }

    /// The `Content-Encoding` value, if any.
    #[must_use]
    pub fn header(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Br => Some("br"),
        }
    }
}

impl Encoded {
    /// Wraps a body; its ETag is computed now, compressed forms on first use.
    #[must_use]
    pub fn new(body: impl Into<Bytes>, content_type: &'static str) -> Self {
        let identity = body.into();
        let etag = format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(&identity));
        Self { identity, content_type, etag, gzip: OnceLock::new(), br: OnceLock::new() }
    }

    /// The most bytes this answer holds once both compressed forms are made (they are made on first use,
    /// and compressing never grows a body by more than a few bytes per block): what a cache weighs it at.
    #[must_use]
    pub fn weight_bound(&self) -> usize {
        let compressed = self.identity.len() + self.identity.len() / 256 + 64;
        std::mem::size_of::<Self>() + self.etag.len() + self.identity.len() + 2 * compressed
    }

    /// The body in `encoding`.
    #[must_use]
    pub fn body(&self, encoding: Encoding) -> Bytes {
        match encoding {
            Encoding::Identity => self.identity.clone(),
            Encoding::Gzip => self.gzip.get_or_init(|| gzip(&self.identity)).clone(),
            Encoding::Br => self.br.get_or_init(|| brotli(&self.identity)).clone(),
        }
    }
}

fn gzip(body: &[u8]) -> Bytes {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::new(7));
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default().into()
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 5);
    let params = brotli::enc::BrotliEncoderParams { quality: 9, lgwin: 22, ..Default::default() };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn compressed_forms_decode_to_the_body() {
        let body = "territoire ".repeat(1000);
        let e = Encoded::new(body.clone(), "application/json");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&e.body(Encoding::Gzip)[..]).read_to_string(&mut out).expect("gzip");
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &e.body(Encoding::Br)[..], &mut out).expect("br");
        assert_eq!(out, body.as_bytes());
        assert!(e.body(Encoding::Br).len() < body.len() / 10);
        assert_eq!(e.etag, Encoded::new(body, "x").etag, "same body, same tag");
        assert_ne!(e.etag, Encoded::new("other", "x").etag);
    }
}
