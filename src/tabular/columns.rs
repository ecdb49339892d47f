//! The column names batch inputs are read by, in one table: the batch reader finds its columns with it,
//! and `GET /api/lookup/columns` serves it to the web page, so the two cannot drift.

use serde::Serialize;

use super::normalise_header;

/// What a batch column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ColumnRole {
    /// WGS84 longitude, degrees.
    Longitude,
    /// WGS84 latitude, degrees.
    Latitude,
    /// Easting in the CRS of the row (`epsg` column, `--crs`), or degrees when none is given.
    X,
    /// Northing, as [`ColumnRole::X`].
    Y,
    /// EPSG code of the row's x/y.
    Epsg,
    /// INSEE commune code.
    CommuneCode,
    /// SIREN of an EPCI or EPT.
    Siren,
    /// Postal code.
    PostalCode,
    /// SIRENE's geolocation quality (`33`: the point is the commune's centre).
    PositionQuality,
}

/// One role and the header names accepted for it, by priority.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ColumnNames {
    /// What the column holds.
    pub role: ColumnRole,
    /// Accepted names, lower case, by priority (headers are compared trimmed and case-insensitively).
    pub names: &'static [&'static str],
    /// One line for people.
    pub description: &'static str,
}

/// Every batch column role and its accepted names.
pub const COLUMNS: &[ColumnNames] = &[
    ColumnNames {
        role: ColumnRole::Longitude,
        names: &["lon", "longitude", "lng", "long", "x_longitude"],
        description: "WGS84 longitude in degrees",
    },
    ColumnNames {
        role: ColumnRole::Latitude,
        names: &["lat", "latitude", "y_latitude"],
        description: "WGS84 latitude in degrees",
    },
    ColumnNames {
        role: ColumnRole::X,
        names: &["x", "x_lambert", "coord_x"],
        description: "easting in the row's CRS (epsg column, or the crs option); degrees when there is none",
    },
    ColumnNames {
        role: ColumnRole::Y,
        names: &["y", "y_lambert", "coord_y"],
        description: "northing in the row's CRS (epsg column, or the crs option); degrees when there is none",
    },
    ColumnNames { role: ColumnRole::Epsg, names: &["epsg"], description: "EPSG code of the row's x/y" },
    ColumnNames {
        role: ColumnRole::CommuneCode,
        names: &[
            "code_insee",
            "insee",
            "codgeo",
            "depcom",
            "code_commune",
            "plg_code_commune",
            "codecommuneetablissement",
            "insee_com",
        ],
        description: "INSEE commune code (current, former, déléguée or associée, arrondissement)",
    },
    ColumnNames {
        role: ColumnRole::Siren,
        names: &["siren_epci", "siren"],
        description: "SIREN of an EPCI or EPT",
    },
    ColumnNames {
        role: ColumnRole::PostalCode,
        names: &["code_postal", "cp", "codepostal", "code_postal_etablissement"],
        description: "postal code",
    },
    ColumnNames {
        role: ColumnRole::PositionQuality,
        names: &["qualite_xy"],
        description: "SIRENE geolocation quality (33: commune centre, answered by commune)",
    },
];

/// The accepted names of a role.
#[must_use]
pub fn names_of(role: ColumnRole) -> &'static [&'static str] {
    COLUMNS.iter().find(|c| c.role == role).map_or(&[], |c| c.names)
}

/// The index of the header that best matches `role` (its first accepted name present), if any.
///
/// ```
/// use territoires::tabular::columns::{ColumnRole, find_column};
/// let header = ["\u{feff}Nom", " Longitude ", "LAT"];
/// assert_eq!(find_column(header, ColumnRole::Longitude), Some(1));
/// assert_eq!(find_column(header, ColumnRole::Latitude), Some(2));
/// assert_eq!(find_column(header, ColumnRole::Epsg), None);
/// ```
pub fn find_column<'a>(header: impl IntoIterator<Item = &'a str>, role: ColumnRole) -> Option<usize> {
    let normalised: Vec<String> = header.into_iter().map(normalise_header).collect();
    names_of(role).iter().find_map(|n| normalised.iter().position(|h| h == n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_name_serves_two_roles() {
        let mut seen = std::collections::HashSet::new();
        for c in COLUMNS {
            for n in c.names {
                assert!(seen.insert(*n), "{n} is listed twice");
                assert_eq!(*n, n.to_lowercase(), "names are compared in lower case");
            }
        }
    }
}
