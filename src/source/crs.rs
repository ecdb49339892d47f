//! Coordinate reference systems of unit files (`.prj` WKT, GeoJSON `crs` names, EPSG codes) and their
//! reprojection to WGS84 lon/lat with `proj4rs`.

use geo::{MapCoordsInPlace, MultiPolygon};
use proj4rs::Proj;

/// A CRS unit files come in. Everything is converted to WGS84 lon/lat once, at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS84 or RGF93 geographic lon/lat in degrees (EPSG:4326, CRS84, EPSG:4171); the two datums
    /// differ by less than a metre.
    Wgs84,
    /// RGF93 / Lambert-93 (EPSG:2154), the CRS of IGN's metropolitan ADMIN EXPRESS.
    Lambert93,
    /// Web Mercator (EPSG:3857).
    WebMercator,
    /// RGAF09 / UTM 20N (EPSG:5490), Guadeloupe and Martinique.
    Utm20N,
    /// RGFG95 / UTM 22N (EPSG:2972), Guyane.
    Utm22N,
    /// RGR92 / UTM 40S (EPSG:2975), La Réunion.
    Utm40S,
    /// RGM04 / UTM 38S (EPSG:4471), Mayotte.
    Utm38S,
}

impl Crs {
    /// The CRS with this EPSG code, if supported.
    ///
    /// ```
    /// use territoires::source::crs::Crs;
    /// assert_eq!(Crs::from_epsg(2154), Some(Crs::Lambert93));
    /// assert_eq!(Crs::from_epsg(27572), None);
    /// ```
    #[must_use]
    pub fn from_epsg(code: u32) -> Option<Self> {
        Some(match code {
            4326 | 4171 | 4258 => Self::Wgs84,
            2154 => Self::Lambert93,
            3857 | 900_913 => Self::WebMercator,
            5490 | 4559 | 32620 => Self::Utm20N,
            2972 | 32622 => Self::Utm22N,
            2975 | 32740 => Self::Utm40S,
            4471 | 32738 => Self::Utm38S,
            _ => return None,
        })
    }

    /// The CRS a GeoJSON `crs.properties.name` gives (`urn:ogc:def:crs:EPSG::2154`, `EPSG:4326`, CRS84).
    ///
    /// ```
    /// use territoires::source::crs::Crs;
    /// assert_eq!(Crs::from_name("urn:ogc:def:crs:EPSG::2154"), Some(Crs::Lambert93));
    /// assert_eq!(Crs::from_name("urn:ogc:def:crs:OGC:1.3:CRS84"), Some(Crs::Wgs84));
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let upper = name.trim().to_ascii_uppercase();
        if upper.ends_with("CRS84") {
            return Some(Self::Wgs84);
        }
        let digits: String = upper.chars().rev().take_while(char::is_ascii_digit).collect();
        let code: String = digits.chars().rev().collect();
        (upper.contains("EPSG") && !code.is_empty()).then(|| code.parse().ok().and_then(Self::from_epsg))?
    }

    /// The CRS a `.prj` (ESRI or OGC WKT) describes.
    ///
    /// # Errors
    /// The start of the WKT when it is not a supported CRS.
    pub fn from_prj(wkt: &str) -> Result<Self, String> {
        let unknown = || wkt.trim().chars().take(120).collect::<String>();
        let flat: String = wkt
            .to_ascii_uppercase()
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '"' | '\n' | '\r' | '\t'))
            .collect();
        // The outermost AUTHORITY is the last one in the text.
        if let Some(code) = flat.rsplit("AUTHORITY[EPSG,").next().filter(|_| flat.contains("AUTHORITY[EPSG,"))
        {
            let code: String = code.chars().take_while(char::is_ascii_digit).collect();
            if let Some(crs) = code.parse().ok().and_then(Self::from_epsg) {
                return Ok(crs);
            }
        }
        if !flat.starts_with("PROJCS[") && !flat.starts_with("PROJCRS[") {
            let geographic = flat.starts_with("GEOGCS[") || flat.starts_with("GEOGCRS[");
            let datum_ok = ["WGS1984", "WGS84", "RGF93", "RGF1993", "ETRS89", "ETRS1989"]
                .iter()
                .any(|d| flat.contains(d));
            return if geographic && datum_ok { Ok(Self::Wgs84) } else { Err(unknown()) };
        }
        let name = flat.split(',').next().unwrap_or_default();
        if name.contains("LAMBERT93")
            || (flat.contains("LAMBERTCONFORMALCONIC")
                && flat.contains("700000")
                && flat.contains("6600000")
                && flat.contains("46.5"))
        {
            return Ok(Self::Lambert93);
        }
        if name.contains("PSEUDOMERCATOR") || name.contains("WEBMERCATOR") || name.contains("AUXILIARYSPHERE")
        {
            return Ok(Self::WebMercator);
        }
        for (zone, crs) in [
            ("ZONE20N", Self::Utm20N),
            ("ZONE22N", Self::Utm22N),
            ("ZONE40S", Self::Utm40S),
            ("ZONE38S", Self::Utm38S),
        ] {
            if name.contains(zone) {
                return Ok(crs);
            }
        }
        Err(unknown())
    }

    fn proj_string(self) -> &'static str {
        match self {
            Self::Wgs84 => "+proj=longlat +ellps=WGS84 +datum=WGS84 +no_defs",
            Self::Lambert93 => {
                "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
            }
            Self::WebMercator => {
                "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +no_defs"
            }
            Self::Utm20N => "+proj=utm +zone=20 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
            Self::Utm22N => "+proj=utm +zone=22 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
            Self::Utm40S => "+proj=utm +zone=40 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
            Self::Utm38S => "+proj=utm +zone=38 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
        }
    }

    /// A transform from this CRS to WGS84 lon/lat degrees.
    ///
    /// # Errors
    /// When `proj4rs` refuses the definition (it should not for the CRSs above).
    pub fn to_wgs84(self) -> Result<ToWgs84, String> {
        if self == Self::Wgs84 {
            return Ok(ToWgs84(None));
        }
        let src = Proj::from_proj_string(self.proj_string()).map_err(|e| e.to_string())?;
        let dst = Proj::from_proj_string(Self::Wgs84.proj_string()).map_err(|e| e.to_string())?;
        Ok(ToWgs84(Some((src, dst))))
    }
}

/// Reprojects geometries to WGS84 lon/lat degrees (identity for WGS84 input).
#[derive(Debug)]
pub struct ToWgs84(Option<(Proj, Proj)>);

impl ToWgs84 {
    /// Reprojects `mp` in place.
    ///
    /// # Errors
    /// When a coordinate cannot be projected (outside the projection's domain).
    pub fn apply(&self, mp: &mut MultiPolygon<f64>) -> Result<(), String> {
        let Some((src, dst)) = &self.0 else { return Ok(()) };
        proj4rs::transform::transform(src, dst, mp).map_err(|e| e.to_string())?;
        // proj4rs gives geographic coordinates in radians.
        mp.map_coords_in_place(|c| geo::coord! { x: c.x.to_degrees(), y: c.y.to_degrees() });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// IGN's own `.prj` for ADMIN EXPRESS metropolitan layers.
    pub(crate) const LAMBERT93_PRJ: &str = r#"PROJCS["RGF93_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]"#;

    #[test]
    fn prj_texts_are_recognised() {
        assert_eq!(Crs::from_prj(LAMBERT93_PRJ), Ok(Crs::Lambert93));
        let wgs = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(Crs::from_prj(wgs), Ok(Crs::Wgs84));
        let ogc = r#"PROJCS["RGF93 v1 / Lambert-93",GEOGCS["RGF93 v1",DATUM["Reseau_Geodesique_Francais_1993_v1",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic_2SP"],UNIT["metre",1],AUTHORITY["EPSG","2154"]]"#;
        assert_eq!(Crs::from_prj(ogc), Ok(Crs::Lambert93));
        let lambert2 = r#"PROJCS["NTF_Paris_Lambert_II_etendu",GEOGCS["GCS_NTF_Paris",DATUM["D_NTF"]]]"#;
        assert!(Crs::from_prj(lambert2).is_err_and(|e| e.contains("Lambert_II")));
        assert!(Crs::from_prj("garbage").is_err());
    }

    #[test]
    fn lambert93_reprojects_to_the_right_place() {
        // Reference values from PROJ 9 (pyproj, EPSG:2154 → EPSG:4326).
        let mut mp = MultiPolygon(vec![
            polygon![(x: 652_469.0, y: 6_861_674.0), (x: 652_479.0, y: 6_861_674.0), (x: 652_469.0, y: 6_861_684.0)],
        ]);
        Crs::Lambert93.to_wgs84().expect("proj").apply(&mut mp).expect("reprojects");
        let c = mp.0[0].exterior().0[0];
        assert!((c.x - 2.352_240).abs() < 1e-6 && (c.y - 48.853_351).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn utm_reunion_reprojects_south_of_the_equator() {
        // Saint-Denis de La Réunion; reference from PROJ 9 (EPSG:2975 → EPSG:4326).
        let mut mp = MultiPolygon(vec![
            polygon![(x: 338_500.0, y: 7_691_000.0), (x: 338_600.0, y: 7_691_000.0), (x: 338_500.0, y: 7_691_100.0)],
        ]);
        Crs::Utm40S.to_wgs84().expect("proj").apply(&mut mp).expect("reprojects");
        let c = mp.0[0].exterior().0[0];
        assert!((c.x - 55.447_492).abs() < 1e-5 && (c.y + 20.874_156).abs() < 1e-5, "{c:?}");
    }
}
