//! Coordinate reference systems of French boundary files, recognised from `.prj` WKT, EPSG codes or GeoJSON names.

use std::fmt;
use std::str::FromStr;

use geo::{Coord, MultiPolygon};
use proj4rs::Proj;
use proj4rs::transform::{Transform, TransformClosure};

/// A CRS this crate can reproject to WGS84.
///
/// The French realisations (RGF93, RGAF09, RGFG95, RGR92, RGM04) are tied to ITRF and agree with WGS84
/// within a metre, far below the precision of administrative boundaries, so they are treated as WGS84.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 longitude/latitude in degrees (EPSG:4326, OGC CRS84; also RGF93/ETRS89 geographic).
    Wgs84,
    /// RGF93 / Lambert-93 (EPSG:2154), metropolitan France.
    Lambert93,
    /// WGS84 / Pseudo-Mercator (EPSG:3857), web maps.
    WebMercator,
    /// RGAF09 / UTM zone 20N (EPSG:5490), Guadeloupe and Martinique.
    Rgaf09Utm20n,
    /// RGFG95 / UTM zone 22N (EPSG:2972), Guyane.
    Rgfg95Utm22n,
    /// RGR92 / UTM zone 40S (EPSG:2975), La Réunion.
    Rgr92Utm40s,
    /// RGM04 / UTM zone 38S (EPSG:4471), Mayotte.
    Rgm04Utm38s,
}

/// Why a CRS is not recognised, or a reprojection fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CrsError {
    /// An EPSG code outside the supported list.
    #[error("unsupported CRS EPSG:{0} (supported: {list})", list = supported_list())]
    UnsupportedEpsg(u64),
    /// A CRS name (GeoJSON, `--crs`) that is not recognised; the name, cut to 80 characters.
    #[error("unknown CRS name \"{0}\"")]
    UnknownName(String),
    /// A `.prj` WKT that is not recognised; its start, cut to 100 characters.
    #[error("unknown CRS in WKT \"{0}\"")]
    UnknownWkt(String),
    /// A GeoJSON `crs` member of an unsupported form; its start.
    #[error("unsupported crs member {0}")]
    UnsupportedMember(String),
    /// proj4rs rejected a PROJ string (a bug, tested for every CRS).
    #[error("{crs}: {message}")]
    Proj {
        /// The CRS.
        crs: Crs,
        /// What proj4rs said.
        message: String,
    },
    /// A coordinate that is not a finite number.
    #[error("coordinate ({x}, {y}) is not a number")]
    NotFinite {
        /// Easting or longitude.
        x: f64,
        /// Northing or latitude.
        y: f64,
    },
    /// A point outside the projection's domain.
    #[error("cannot reproject from {from} to {to}: {message}")]
    Transform {
        /// Source CRS.
        from: Crs,
        /// Target CRS.
        to: Crs,
        /// What proj4rs said.
        message: String,
    },
}

/// Every supported CRS, for listings and tests.
pub const ALL: [Crs; 7] = [
    Crs::Wgs84,
    Crs::Lambert93,
    Crs::WebMercator,
    Crs::Rgaf09Utm20n,
    Crs::Rgfg95Utm22n,
    Crs::Rgr92Utm40s,
    Crs::Rgm04Utm38s,
];

impl Crs {
    /// The EPSG code.
    #[must_use]
    pub fn epsg(self) -> u32 {
        match self {
            Self::Wgs84 => 4326,
            Self::Lambert93 => 2154,
            Self::WebMercator => 3857,
            Self::Rgaf09Utm20n => 5490,
            Self::Rgfg95Utm22n => 2972,
            Self::Rgr92Utm40s => 2975,
            Self::Rgm04Utm38s => 4471,
        }
    }

    /// A human name, as EPSG spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Wgs84 => "WGS 84",
            Self::Lambert93 => "RGF93 / Lambert-93",
            Self::WebMercator => "WGS 84 / Pseudo-Mercator",
            Self::Rgaf09Utm20n => "RGAF09 / UTM zone 20N",
            Self::Rgfg95Utm22n => "RGFG95 / UTM zone 22N",
            Self::Rgr92Utm40s => "RGR92 / UTM zone 40S",
            Self::Rgm04Utm38s => "RGM04 / UTM zone 38S",
        }
    }

    /// The PROJ string given to proj4rs.
    ///
    /// The French datums get a zero `towgs84` (see the type's doc); Web Mercator gets `nadgrids=@null` so
    /// its sphere is not datum-shifted, as PROJ does.
    #[must_use]
    pub fn proj_string(self) -> &'static str {
        match self {
            Self::Wgs84 => "+proj=longlat +datum=WGS84 +no_defs",
            Self::Lambert93 => {
                "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 \
                 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            }
            Self::WebMercator => {
                "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m \
                 +nadgrids=@null +no_defs"
            }
            Self::Rgaf09Utm20n => "+proj=utm +zone=20 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
            Self::Rgfg95Utm22n => "+proj=utm +zone=22 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
            Self::Rgr92Utm40s => {
                "+proj=utm +zone=40 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            }
            Self::Rgm04Utm38s => {
                "+proj=utm +zone=38 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            }
        }
    }

    /// Whether coordinates are degrees (proj4rs wants radians for those).
    #[must_use]
    pub fn is_geographic(self) -> bool {
        self == Self::Wgs84
    }

    /// The CRS of an EPSG code (a few geographic codes of WGS84-compatible datums map to [`Crs::Wgs84`]).
    ///
    /// # Errors
    /// A message naming the code when it is not supported.
    pub fn from_epsg(code: u32) -> Result<Self, CrsError> {
        Ok(match code {
            // WGS84, RGF93 v1/v2, ETRS89, RGAF09, RGFG95, RGR92, RGM04 geographic 2D.
            4326 | 4171 | 9777 | 4258 | 5489 | 4624 | 4627 | 4470 => Self::Wgs84,
            2154 | 9794 => Self::Lambert93,
            3857 | 900_913 | 102_100 | 102_113 => Self::WebMercator,
            5490 | 32620 => Self::Rgaf09Utm20n,
            2972 | 32622 => Self::Rgfg95Utm22n,
            2975 | 32740 => Self::Rgr92Utm40s,
            4471 | 32738 => Self::Rgm04Utm38s,
            _ => return Err(CrsError::UnsupportedEpsg(code.into())),
        })
    }

    /// The CRS of an old-style GeoJSON named `crs` (`urn:ogc:def:crs:EPSG::2154`,
    /// `urn:ogc:def:crs:OGC:1.3:CRS84`, `EPSG:4326`, `http://www.opengis.net/def/crs/EPSG/0/2154`).
    ///
    /// # Errors
    /// A message quoting the name when it is not recognised.
    pub fn from_geojson_name(name: &str) -> Result<Self, CrsError> {
        let lower = name.trim().to_ascii_lowercase();
        if lower.ends_with("crs84") || lower.ends_with("crs:84") {
            return Ok(Self::Wgs84);
        }
        if lower.contains("epsg") {
            // The code is the last run of digits: `EPSG::2154`, `EPSG:6.6:2154`, `EPSG/0/2154`.
            let digits: String = lower
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if let Ok(code) = digits.parse::<u32>() {
                return Self::from_epsg(code);
            }
        }
        Err(CrsError::UnknownName(excerpt(name, 80)))
    }

    /// The CRS of a `.prj` file: ESRI or OGC WKT (1 or 2), recognised by authority code, by name
    /// (`RGF93_Lambert_93`, `RGF93 / Lambert-93`, `GCS_WGS_1984`...) or by projection parameters.
    ///
    /// # Errors
    /// A message quoting the start of the WKT when the CRS is not recognised.
    pub fn from_prj(wkt: &str) -> Result<Self, CrsError> {
        let text = wkt.trim_start_matches('\u{feff}').trim();
        let unknown = || CrsError::UnknownWkt(excerpt(text, 100));
        let Some(root) = wkt::parse(text) else {
            return Err(unknown());
        };
        let root = root.horizontal();
        let kind = root.keyword.to_ascii_uppercase();
        let projected = matches!(kind.as_str(), "PROJCS" | "PROJCRS" | "PROJECTEDCRS");
        let geographic =
            matches!(kind.as_str(), "GEOGCS" | "GEOGCRS" | "GEODCRS" | "GEOGRAPHICCRS" | "GEODETICCRS");
        if !projected && !geographic {
            return Err(unknown());
        }
        if let Some(Ok(crs)) = root.epsg_code().map(Self::from_epsg) {
            return Ok(crs);
        }
        let name = normalise(root.name().unwrap_or(""));
        if projected {
            if let Some(crs) = projected_by_name(&name).or_else(|| projected_by_parameters(root)) {
                return Ok(crs);
            }
        } else if geographic_by_name(&name)
            || root.datum_name().is_some_and(|d| wgs84_like_datum(&normalise(d)))
        {
            return Ok(Self::Wgs84);
        }
        Err(unknown())
    }

    /// A reprojection from this CRS to WGS84 lon/lat degrees.
    ///
    /// # Errors
    /// When proj4rs rejects a PROJ string (a bug, tested for every CRS).
    pub fn to_wgs84(self) -> Result<Reprojection, CrsError> {
        Reprojection::new(self, Self::Wgs84)
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EPSG:{} ({})", self.epsg(), self.name())
    }
}

impl FromStr for Crs {
    type Err = CrsError;

    /// Accepts `2154`, `EPSG:2154`, GeoJSON URNs, and the names `wgs84`, `lambert93`, `webmercator`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match normalise(t).replace('_', "").as_str() {
            "wgs84" | "crs84" => return Ok(Self::Wgs84),
            "lambert93" | "l93" | "rgf93lambert93" => return Ok(Self::Lambert93),
            "webmercator" | "pseudomercator" => return Ok(Self::WebMercator),
            _ => {}
        }
        if let Ok(code) = t.parse::<u32>() {
            return Self::from_epsg(code);
        }
        Self::from_geojson_name(t)
    }
}

fn supported_list() -> String {
    ALL.iter().map(|c| format!("EPSG:{}", c.epsg())).collect::<Vec<_>>().join(", ")
}

/// The first `max` characters of `s` on one line, with `…` when cut, for quoting in messages.
fn excerpt(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(max).collect();
    if one_line.chars().count() > max {
        out.push('…');
    }
    out
}

/// Lower case, every run of non-alphanumerics turned into one `_`: `RGF93 / Lambert-93` → `rgf93_lambert_93`.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

fn projected_by_name(name: &str) -> Option<Crs> {
    if name.contains("lambert_93") || name.contains("lambert93") {
        return Some(Crs::Lambert93);
    }
    if name.contains("pseudo_mercator")
        || name.contains("web_mercator")
        || name.contains("popular_visualisation")
        || name.contains("auxiliary_sphere")
    {
        return Some(Crs::WebMercator);
    }
    // `RGAF09_UTM_Zone_20N`, `RGR92 / UTM zone 40S`, `WGS_1984_UTM_Zone_38S`: the zone is what matters.
    let (_, zone) = name.split_once("utm_zone_")?;
    match zone.split('_').next()? {
        "20n" => Some(Crs::Rgaf09Utm20n),
        "22n" => Some(Crs::Rgfg95Utm22n),
        "40s" => Some(Crs::Rgr92Utm40s),
        "38s" => Some(Crs::Rgm04Utm38s),
        _ => None,
    }
}

fn geographic_by_name(name: &str) -> bool {
    matches!(
        name,
        "gcs_wgs_1984"
            | "wgs_84"
            | "wgs84"
            | "wgs_1984"
            | "gcs_rgf_1993"
            | "rgf93"
            | "rgf93_v1"
            | "rgf93_v2"
            | "rgf93_v2b"
            | "gcs_etrs_1989"
            | "etrs89"
            | "rgaf09"
            | "rgfg95"
            | "rgr92"
            | "rgm04"
            | "rgf93_geographiques"
            | "wgs_84_crs84"
    )
}

fn wgs84_like_datum(datum: &str) -> bool {
    let d = datum.trim_start_matches("d_");
    d.starts_with("wgs_1984")
        || d.starts_with("world_geodetic_system_1984")
        || d.starts_with("rgf_1993")
        || d.starts_with("reseau_geodesique_francais_1993")
        || d.starts_with("european_terrestrial_reference_system_1989")
        || d.starts_with("etrs_1989")
        || d.starts_with("reseau_geodesique_des_antilles_francaises_2009")
        || d.starts_with("reseau_geodesique_francais_guyanais_1995")
        || d.starts_with("reseau_geodesique_de_la_reunion_1992")
        || d.starts_with("reseau_geodesique_de_mayotte_2004")
}

/// Recognises the supported projections by method and parameters, for WKT that names them oddly.
fn projected_by_parameters(root: &wkt::Node) -> Option<Crs> {
    let method = normalise(root.method_name()?);
    let p = |names: &[&str]| root.parameter(names);
    let close = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-6 * want.abs().max(1.0));
    let fe = p(&["false_easting", "easting_at_false_origin"]);
    let fn_ = p(&["false_northing", "northing_at_false_origin"]);
    let lon0 = p(&[
        "central_meridian",
        "longitude_of_origin",
        "longitude_of_natural_origin",
        "longitude_of_false_origin",
    ]);
    if method.contains("lambert_conformal_conic") {
        let sp1 = p(&["standard_parallel_1", "latitude_of_1st_standard_parallel"]);
        let sp2 = p(&["standard_parallel_2", "latitude_of_2nd_standard_parallel"]);
        let lat0 = p(&["latitude_of_origin", "latitude_of_false_origin"]);
        let parallels = (close(sp1, 49.0) && close(sp2, 44.0)) || (close(sp1, 44.0) && close(sp2, 49.0));
        return (parallels
            && close(lat0, 46.5)
            && close(lon0, 3.0)
            && close(fe, 700_000.0)
            && close(fn_, 6_600_000.0))
        .then_some(Crs::Lambert93);
    }
    if method.contains("mercator_auxiliary_sphere") || method.contains("pseudo_mercator") {
        return Some(Crs::WebMercator);
    }
    if method.contains("transverse_mercator") {
        let k = p(&["scale_factor", "scale_factor_at_natural_origin"]);
        if !close(k, 0.9996) || !close(fe, 500_000.0) {
            return None;
        }
        let north = close(fn_, 0.0);
        let south = close(fn_, 10_000_000.0);
        return [
            (Crs::Rgaf09Utm20n, -63.0, north),
            (Crs::Rgfg95Utm22n, -51.0, north),
            (Crs::Rgr92Utm40s, 57.0, south),
            (Crs::Rgm04Utm38s, 45.0, south),
        ]
        .into_iter()
        .find(|&(_, meridian, hemisphere)| hemisphere && close(lon0, meridian))
        .map(|(crs, _, _)| crs);
    }
    None
}

/// A CRS as OGC API – Features Part 2 names it: a supported [`Crs`] and its axis order. EPSG:4326 is
/// latitude first, as EPSG defines it; CRS84 is the same datum longitude first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OgcCrs {
    /// The coordinate system.
    pub crs: Crs,
    /// Whether the first coordinate is the latitude (EPSG:4326 only).
    pub lat_first: bool,
}

/// URI of OGC's CRS84.
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

impl OgcCrs {
    /// OGC CRS84: WGS84 longitude, latitude (GeoJSON's own order).
    pub const CRS84: Self = Self { crs: Crs::Wgs84, lat_first: false };

    /// Every CRS answered: CRS84, EPSG:4326, then the projected systems of [`ALL`].
    #[must_use]
    pub fn all() -> Vec<Self> {
        let mut out = vec![Self::CRS84, Self { crs: Crs::Wgs84, lat_first: true }];
        out.extend(ALL.iter().filter(|c| !c.is_geographic()).map(|&crs| Self { crs, lat_first: false }));
        out
    }

    /// Its URI, `http://www.opengis.net/def/crs/EPSG/0/{code}` or [`CRS84_URI`].
    #[must_use]
    pub fn uri(self) -> String {
        if self == Self::CRS84 {
            CRS84_URI.to_owned()
        } else {
            format!("http://www.opengis.net/def/crs/EPSG/0/{}", self.crs.epsg())
        }
    }

    /// Reads a URI, a safe CURIE (`[EPSG:2154]`, `[OGC:CRS84]`), `EPSG:2154` or
    /// `urn:ogc:def:crs:EPSG::2154`. Only the EPSG codes of [`OgcCrs::all`] are accepted, not their aliases:
    /// the answer says the CRS it is in, and must say the one that was asked for.
    ///
    /// # Errors
    /// [`CrsError::UnknownName`] for anything else.
    pub fn parse(name: &str) -> Result<Self, CrsError> {
        let s = name.trim();
        let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
        let lower = s.to_ascii_lowercase();
        let unknown = || CrsError::UnknownName(excerpt(name, 80));
        let crs84 = [
            "http://www.opengis.net/def/crs/ogc/1.3/crs84",
            "https://www.opengis.net/def/crs/ogc/1.3/crs84",
            "ogc:crs84",
            "urn:ogc:def:crs:ogc:1.3:crs84",
            "crs84",
        ];
        if crs84.contains(&lower.as_str()) {
            return Ok(Self::CRS84);
        }
        let code = [
            "http://www.opengis.net/def/crs/epsg/0/",
            "https://www.opengis.net/def/crs/epsg/0/",
            "urn:ogc:def:crs:epsg::",
            "epsg:",
        ]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or_else(unknown)?;
        Self::all().into_iter().find(|c| c.uri().ends_with(&format!("/EPSG/0/{code}"))).ok_or_else(unknown)
    }

    /// `(x, y)` as this CRS orders them, from `(easting or longitude, northing or latitude)`, and back
    /// (the swap is its own inverse).
    #[must_use]
    pub fn order(self, c: Coord<f64>) -> Coord<f64> {
        if self.lat_first { Coord { x: c.y, y: c.x } } else { c }
    }

    /// A multipolygon in this CRS's axis order, in place.
    pub fn order_multipolygon(self, mp: &mut MultiPolygon<f64>) {
        if self.lat_first {
            use geo::MapCoordsInPlace;
            mp.map_coords_in_place(|c| Coord { x: c.y, y: c.x });
        }
    }
}

/// A reprojection between two supported CRSs, applied in place to geometries.
#[derive(Debug)]
pub struct Reprojection {
    from: Crs,
    to: Crs,
    src: Proj,
    dst: Proj,
}

impl Reprojection {
    /// Builds the proj4rs pair.
    ///
    /// # Errors
    /// When proj4rs rejects a PROJ string.
    pub fn new(from: Crs, to: Crs) -> Result<Self, CrsError> {
        let make = |crs: Crs| {
            Proj::from_proj_string(crs.proj_string())
                .map_err(|e| CrsError::Proj { crs, message: e.to_string() })
        };
        Ok(Self { from, to, src: make(from)?, dst: make(to)? })
    }

    /// Source CRS.
    #[must_use]
    pub fn from(&self) -> Crs {
        self.from
    }

    /// Target CRS.
    #[must_use]
    pub fn to(&self) -> Crs {
        self.to
    }

    /// Reprojects one point (degrees for geographic CRSs).
    ///
    /// # Errors
    /// When the point cannot be projected (outside the projection's domain, not finite).
    pub fn point(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let mut c = [Coord { x, y }];
        self.coords(&mut c)?;
        Ok((c[0].x, c[0].y))
    }

    /// The envelope of a rectangle once reprojected: its edges are sampled, since a straight edge in one
    /// system is a curve in another (a Lambert-93 box is wider at its north edge in degrees).
    ///
    /// # Errors
    /// When a sampled point cannot be projected.
    pub fn rect(&self, r: geo::Rect<f64>) -> Result<geo::Rect<f64>, CrsError> {
        const STEPS: u32 = 32;
        let (min, max) = (r.min(), r.max());
        let mut ring = Vec::with_capacity(4 * STEPS as usize);
        for i in 0..STEPS {
            let t = f64::from(i) / f64::from(STEPS);
            let (x, y) = (min.x + t * (max.x - min.x), min.y + t * (max.y - min.y));
            ring.extend([
                Coord { x, y: min.y },
                Coord { x, y: max.y },
                Coord { x: min.x, y },
                Coord { x: max.x, y },
            ]);
        }
        ring.push(max);
        self.coords(&mut ring)?;
        let (mut lo, mut hi) = (ring[0], ring[0]);
        for c in &ring {
            lo = Coord { x: lo.x.min(c.x), y: lo.y.min(c.y) };
            hi = Coord { x: hi.x.max(c.x), y: hi.y.max(c.y) };
        }
        Ok(geo::Rect::new(lo, hi))
    }

    /// Reprojects a multipolygon in place.
    ///
    /// # Errors
    /// When a point cannot be projected; the geometry is then partly transformed and should be dropped.
    pub fn multipolygon(&self, mp: &mut MultiPolygon<f64>) -> Result<(), CrsError> {
        if self.from == self.to {
            return Ok(());
        }
        for poly in &mut mp.0 {
            let mut result = Ok(());
            poly.exterior_mut(|ring| result = self.coords(&mut ring.0));
            poly.interiors_mut(|rings| {
                for ring in rings {
                    if result.is_ok() {
                        result = self.coords(&mut ring.0);
                    }
                }
            });
            result?;
        }
        Ok(())
    }

    /// Reprojects coordinates in place, converting degrees to and from the radians proj4rs uses.
    fn coords(&self, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
        if self.from == self.to {
            return Ok(());
        }
        if let Some(bad) = coords.iter().find(|c| !c.x.is_finite() || !c.y.is_finite()) {
            return Err(CrsError::NotFinite { x: bad.x, y: bad.y });
        }
        if self.from.is_geographic() {
            for c in coords.iter_mut() {
                *c = Coord { x: c.x.to_radians(), y: c.y.to_radians() };
            }
        }
        let mut wrapper = Coords(coords);
        proj4rs::transform::transform(&self.src, &self.dst, &mut wrapper)
            .map_err(|e| CrsError::Transform { from: self.from, to: self.to, message: e.to_string() })?;
        if self.to.is_geographic() {
            for c in coords.iter_mut() {
                *c = Coord { x: c.x.to_degrees(), y: c.y.to_degrees() };
            }
        }
        Ok(())
    }
}

/// Lets proj4rs walk a slice of geo coordinates (orphan rule: the trait and `[Coord]` are both foreign).
struct Coords<'a>(&'a mut [Coord<f64>]);

impl Transform for Coords<'_> {
    fn transform_coordinates<F: TransformClosure>(&mut self, f: &mut F) -> proj4rs::errors::Result<()> {
        for c in self.0.iter_mut() {
            let (x, y, _) = f(c.x, c.y, 0.0)?;
            *c = Coord { x, y };
        }
        Ok(())
    }
}

/// A minimal WKT reader: enough to find the CRS kind, name, authority, method and parameters.
mod wkt {
    /// One `KEYWORD[...]` node.
    #[derive(Debug)]
    pub(super) struct Node {
        pub keyword: String,
        pub items: Vec<Item>,
    }

    /// What a node holds: quoted text, a number or bare word, or a nested node.
    #[derive(Debug)]
    pub(super) enum Item {
        Text(String),
        Word(String),
        Node(Node),
    }

    /// Nodes deeper than this are rejected, so hostile input cannot overflow the stack.
    const MAX_DEPTH: usize = 64;

    /// Parses one root node; `None` on any syntax error.
    pub(super) fn parse(s: &str) -> Option<Node> {
        let chars: Vec<char> = s.chars().collect();
        let mut pos = 0;
        let node = parse_node(&chars, &mut pos, 0)?;
        Some(node)
    }

    fn skip_ws(c: &[char], pos: &mut usize) {
        while c.get(*pos).is_some_and(|ch| ch.is_whitespace()) {
            *pos += 1;
        }
    }

    fn parse_node(c: &[char], pos: &mut usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        skip_ws(c, pos);
        let start = *pos;
        while c.get(*pos).is_some_and(|ch| ch.is_ascii_alphanumeric() || *ch == '_') {
            *pos += 1;
        }
        let keyword: String = c[start..*pos].iter().collect();
        if keyword.is_empty() {
            return None;
        }
        skip_ws(c, pos);
        let close = match c.get(*pos)? {
            '[' => ']',
            '(' => ')',
            _ => return None,
        };
        *pos += 1;
        let mut items = Vec::new();
        loop {
            skip_ws(c, pos);
            match *c.get(*pos)? {
                ch if ch == close => {
                    *pos += 1;
                    return Some(Node { keyword, items });
                }
                ',' => *pos += 1,
                '"' => {
                    *pos += 1;
                    let mut text = String::new();
                    loop {
                        let ch = *c.get(*pos)?;
                        *pos += 1;
                        if ch == '"' {
                            // WKT escapes a quote by doubling it.
                            if c.get(*pos) == Some(&'"') {
                                *pos += 1;
                            } else {
                                break;
                            }
                        }
                        text.push(ch);
                    }
                    items.push(Item::Text(text));
                }
                _ => {
                    let start = *pos;
                    while c.get(*pos).is_some_and(|ch| !matches!(ch, ',' | '[' | ']' | '(' | ')' | '"')) {
                        *pos += 1;
                    }
                    if matches!(c.get(*pos), Some('[' | '(')) {
                        *pos = start;
                        items.push(Item::Node(parse_node(c, pos, depth + 1)?));
                    } else {
                        let word: String = c[start..*pos].iter().collect::<String>().trim().to_owned();
                        if word.is_empty() {
                            return None;
                        }
                        items.push(Item::Word(word));
                    }
                }
            }
        }
    }

    impl Node {
        fn children(&self) -> impl Iterator<Item = &Node> {
            self.items.iter().filter_map(|i| match i {
                Item::Node(n) => Some(n),
                _ => None,
            })
        }

        fn child(&self, keywords: &[&str]) -> Option<&Node> {
            self.children().find(|n| keywords.iter().any(|k| n.keyword.eq_ignore_ascii_case(k)))
        }

        /// The first quoted string: the node's name.
        pub(super) fn name(&self) -> Option<&str> {
            self.items.iter().find_map(|i| match i {
                Item::Text(t) => Some(t.as_str()),
                _ => None,
            })
        }

        fn numbers(&self) -> impl Iterator<Item = f64> {
            self.items.iter().filter_map(|i| match i {
                Item::Word(w) | Item::Text(w) => w.trim().parse::<f64>().ok(),
                Item::Node(_) => None,
            })
        }

        /// The horizontal part of a compound CRS, else the node itself.
        pub(super) fn horizontal(&self) -> &Node {
            let compound = ["COMPD_CS", "COMPOUNDCRS"].iter().any(|k| self.keyword.eq_ignore_ascii_case(k));
            let horizontal = |n: &&Node| {
                ["PROJCS", "PROJCRS", "GEOGCS", "GEOGCRS", "GEODCRS"]
                    .iter()
                    .any(|k| n.keyword.eq_ignore_ascii_case(k))
            };
            if compound && let Some(h) = self.children().find(horizontal) {
                return h;
            }
            self
        }

        /// The EPSG code of `AUTHORITY["EPSG","2154"]` (WKT1) or `ID["EPSG",2154]` (WKT2) on this node.
        pub(super) fn epsg_code(&self) -> Option<u32> {
            self.children()
                .filter(|n| {
                    n.keyword.eq_ignore_ascii_case("AUTHORITY") || n.keyword.eq_ignore_ascii_case("ID")
                })
                .find(|n| n.name().is_some_and(|a| a.eq_ignore_ascii_case("EPSG")))
                .and_then(|n| {
                    n.items.iter().skip(1).find_map(|i| match i {
                        Item::Word(w) | Item::Text(w) => w.trim().parse::<u32>().ok(),
                        Item::Node(_) => None,
                    })
                })
        }

        /// The datum name, looking through `GEOGCS`/`BASEGEOGCRS` when needed.
        pub(super) fn datum_name(&self) -> Option<&str> {
            if let Some(d) = self.child(&["DATUM", "TRF", "GEODETICDATUM"]) {
                return d.name();
            }
            if let Some(ens) = self.child(&["ENSEMBLE"]) {
                return ens.name();
            }
            self.child(&["GEOGCS", "BASEGEOGCRS", "BASEGEODCRS"]).and_then(Node::datum_name)
        }

        /// `PROJECTION["..."]` (WKT1) or `CONVERSION[..., METHOD["..."]]` (WKT2).
        pub(super) fn method_name(&self) -> Option<&str> {
            if let Some(p) = self.child(&["PROJECTION"]) {
                return p.name();
            }
            self.child(&["CONVERSION"])?.child(&["METHOD"])?.name()
        }

        /// The value of the first parameter whose normalised name is one of `names`.
        pub(super) fn parameter(&self, names: &[&str]) -> Option<f64> {
            let conversion = self.child(&["CONVERSION"]);
            self.children()
                .chain(conversion.into_iter().flat_map(Node::children))
                .filter(|n| n.keyword.eq_ignore_ascii_case("PARAMETER"))
                .find(|n| n.name().is_some_and(|name| names.contains(&super::normalise(name).as_str())))
                .and_then(|n| n.numbers().next())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IGN's ESRI WKT for Lambert-93, as shipped in ADMIN EXPRESS `.prj` files.
    const IGN_L93_ESRI: &str = r#"PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]"#;

    const OGC_L93: &str = r#"PROJCS["RGF93 / Lambert-93",GEOGCS["RGF93",DATUM["Reseau_Geodesique_Francais_1993",SPHEROID["GRS 1980",6378137,298.257222101,AUTHORITY["EPSG","7019"]],TOWGS84[0,0,0,0,0,0,0],AUTHORITY["EPSG","6171"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4171"]],PROJECTION["Lambert_Conformal_Conic_2SP"],PARAMETER["standard_parallel_1",49],PARAMETER["standard_parallel_2",44],PARAMETER["latitude_of_origin",46.5],PARAMETER["central_meridian",3],PARAMETER["false_easting",700000],PARAMETER["false_northing",6600000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["X",EAST],AXIS["Y",NORTH],AUTHORITY["EPSG","2154"]]"#;

    const ESRI_WGS84: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

    #[test]
    fn recognises_lambert93_wkt_variants() {
        assert_eq!(Crs::from_prj(IGN_L93_ESRI), Ok(Crs::Lambert93));
        assert_eq!(Crs::from_prj(OGC_L93), Ok(Crs::Lambert93));
        // Oddly named but with Lambert-93's parameters.
        let renamed = IGN_L93_ESRI.replace("RGF93_Lambert_93", "Custom");
        assert_eq!(Crs::from_prj(&renamed), Ok(Crs::Lambert93));
        // Same method, other parameters (Lambert II étendu): not Lambert-93.
        let lambert2 = renamed.replace("6600000.0", "2200000.0");
        assert!(Crs::from_prj(&lambert2).is_err());
    }

    #[test]
    fn recognises_geographic_and_other_wkt() {
        assert_eq!(Crs::from_prj(ESRI_WGS84), Ok(Crs::Wgs84));
        assert_eq!(
            Crs::from_prj(
                r#"GEOGCS["RGF93",DATUM["Reseau_Geodesique_Francais_1993",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]"#
            ),
            Ok(Crs::Wgs84)
        );
        assert_eq!(
            Crs::from_prj(
                r#"PROJCS["RGR92_UTM_zone_40S",GEOGCS["GCS_RGR_1992",DATUM["D_RGR_1992",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",10000000.0],PARAMETER["Central_Meridian",57.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#
            ),
            Ok(Crs::Rgr92Utm40s)
        );
        assert_eq!(
            Crs::from_prj(
                r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Mercator_Auxiliary_Sphere"]]"#
            ),
            Ok(Crs::WebMercator)
        );
        assert_eq!(
            Crs::from_prj(
                r#"PROJCRS["RGF93 v1 / Lambert-93",BASEGEOGCRS["RGF93 v1",DATUM["Reseau Geodesique Francais 1993 v1",ELLIPSOID["GRS 1980",6378137,298.257222101]]],CONVERSION["Lambert-93",METHOD["Lambert Conic Conformal (2SP)"]],ID["EPSG",2154]]"#
            ),
            Ok(Crs::Lambert93)
        );
    }

    #[test]
    fn unknown_crs_quotes_the_wkt() {
        let err =
            Crs::from_prj(r#"PROJCS["NTF_Paris_Lambert_II",GEOGCS["GCS_NTF_Paris"]]"#).expect_err("unknown");
        assert!(err.to_string().contains("PROJCS[\"NTF_Paris_Lambert_II\""), "{err}");
        assert!(matches!(err, CrsError::UnknownWkt(_)));
        assert!(Crs::from_prj("garbage").is_err());
        assert!(Crs::from_prj("").is_err());
        assert!(Crs::from_prj(&"A[".repeat(10_000)).is_err());
    }

    #[test]
    fn recognises_geojson_names_and_codes() {
        assert_eq!(Crs::from_geojson_name("urn:ogc:def:crs:EPSG::2154"), Ok(Crs::Lambert93));
        assert_eq!(Crs::from_geojson_name("urn:ogc:def:crs:OGC:1.3:CRS84"), Ok(Crs::Wgs84));
        assert_eq!(Crs::from_geojson_name("EPSG:4326"), Ok(Crs::Wgs84));
        assert_eq!(
            Crs::from_geojson_name("http://www.opengis.net/def/crs/EPSG/0/3857"),
            Ok(Crs::WebMercator)
        );
        assert!(Crs::from_geojson_name("urn:ogc:def:crs:EPSG::27572").is_err());
        assert_eq!("lambert93".parse::<Crs>(), Ok(Crs::Lambert93));
        assert_eq!("2975".parse::<Crs>(), Ok(Crs::Rgr92Utm40s));
        for crs in ALL {
            assert_eq!(Crs::from_epsg(crs.epsg()), Ok(crs));
        }
    }

    #[test]
    fn ogc_crs_names_round_trip_and_aliases_are_refused() {
        for c in OgcCrs::all() {
            assert_eq!(OgcCrs::parse(&c.uri()), Ok(c), "{}", c.uri());
        }
        assert_eq!(OgcCrs::parse("[EPSG:2154]").map(|c| c.crs), Ok(Crs::Lambert93));
        assert_eq!(OgcCrs::parse("urn:ogc:def:crs:EPSG::4326").map(|c| c.lat_first), Ok(true));
        assert_eq!(OgcCrs::parse("[OGC:CRS84]"), Ok(OgcCrs::CRS84));
        // An alias would be answered under another name than the one asked for.
        for bad in ["EPSG:9794", "EPSG:32620", "EPSG:", "http://www.opengis.net/def/crs/EPSG/0/x", "lambert"]
        {
            assert!(OgcCrs::parse(bad).is_err(), "{bad}");
        }
        let c = Coord { x: 3.3, y: 49.4 };
        assert_eq!(OgcCrs::parse("EPSG:4326").map(|o| o.order(c)), Ok(Coord { x: 49.4, y: 3.3 }));
    }

    #[test]
    fn a_reprojected_box_holds_its_curved_edges() {
        // A Lambert-93 square north of Paris: its north edge is wider in degrees than its corners say
        // only if the edges are sampled; the envelope must hold every edge point.
        let r = Reprojection::new(Crs::Lambert93, Crs::Wgs84).expect("proj");
        let square =
            geo::Rect::new(Coord { x: 600_000.0, y: 6_900_000.0 }, Coord { x: 800_000.0, y: 7_100_000.0 });
        let env = r.rect(square).expect("rect");
        for i in 0..=100 {
            let x = 600_000.0 + 2_000.0 * f64::from(i);
            let (lon, lat) = r.point(x, 7_100_000.0).expect("point");
            assert!(env.min().x <= lon && lon <= env.max().x && lat <= env.max().y + 1e-9, "{lon} {lat}");
        }
    }

    #[test]
    fn lambert93_notre_dame_to_wgs84_and_back() {
        let to = Crs::Lambert93.to_wgs84().expect("proj");
        // Notre-Dame de Paris; reference values from PROJ 9 (pyproj, EPSG:2154 → EPSG:4326).
        let (lon, lat) = to.point(652_297.0, 6_861_636.4).expect("transform");
        assert!((lon - 2.3499).abs() < 1e-4 && (lat - 48.8530).abs() < 1e-4, "{lon} {lat}");
        let (lon, lat) = to.point(652_469.0, 6_861_674.0).expect("transform");
        assert!((lon - 2.352_240).abs() < 1e-6 && (lat - 48.853_351).abs() < 1e-6, "{lon} {lat}");
        let back = Reprojection::new(Crs::Wgs84, Crs::Lambert93).expect("proj");
        let (x, y) = back.point(lon, lat).expect("transform");
        assert!((x - 652_469.0).abs() < 0.01 && (y - 6_861_674.0).abs() < 0.01, "{x} {y}");
    }

    #[test]
    fn every_crs_round_trips() {
        // A point inside each CRS's area of use.
        let places = [
            (Crs::Wgs84, 2.35, 48.85),
            (Crs::Lambert93, 2.35, 48.85),
            (Crs::WebMercator, 2.35, 48.85),
            (Crs::Rgaf09Utm20n, -61.55, 16.25),
            (Crs::Rgfg95Utm22n, -52.33, 4.94),
            (Crs::Rgr92Utm40s, 55.45, -20.88),
            (Crs::Rgm04Utm38s, 45.23, -12.78),
        ];
        for (crs, lon, lat) in places {
            let fwd = Reprojection::new(Crs::Wgs84, crs).expect("proj");
            let (x, y) = fwd.point(lon, lat).expect("forward");
            let (lon2, lat2) = crs.to_wgs84().expect("proj").point(x, y).expect("inverse");
            assert!((lon - lon2).abs() < 1e-7 && (lat - lat2).abs() < 1e-7, "{crs}: {lon2} {lat2}");
        }
        // Reference projected coordinates from PROJ 9 (pyproj) with the EPSG definitions; the French
        // datums are taken as WGS84 here, which PROJ also does to within a few metres.
        let references = [
            (Crs::Lambert93, 2.3499, 48.8530, 652_296.97, 6_861_636.36),
            (Crs::WebMercator, 2.35, 48.85, 261_600.80, 6_249_447.75),
            (Crs::Rgaf09Utm20n, -61.55, 16.25, 654_957.45, 1_797_138.07),
            (Crs::Rgfg95Utm22n, -52.33, 4.94, 352_537.25, 546_179.40),
            (Crs::Rgr92Utm40s, 55.45, -20.88, 338_767.17, 7_690_355.57),
            (Crs::Rgm04Utm38s, 45.23, -12.78, 524_963.36, 8_587_181.96),
        ];
        for (crs, lon, lat, x_ref, y_ref) in references {
            let (x, y) = Reprojection::new(Crs::Wgs84, crs).expect("proj").point(lon, lat).expect("fwd");
            assert!((x - x_ref).abs() < 5.0 && (y - y_ref).abs() < 5.0, "{crs}: {x} {y}");
        }
    }
}
