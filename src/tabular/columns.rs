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
    /// The role's short name in requests and on the command line (`?lon=Longitude`, `--column lon=Longitude`).
    pub key: &'static str,
    /// Accepted names, lower case, by priority (headers are compared trimmed and case-insensitively).
    pub names: &'static [&'static str],
    /// One line for people.
    pub description: &'static str,
}

/// Every batch column role and its accepted names.
pub const COLUMNS: &[ColumnNames] = &[
    ColumnNames {
        role: ColumnRole::Longitude,
        key: "lon",
        names: &["lon", "longitude", "lng", "long", "x_longitude"],
        description: "WGS84 longitude in degrees",
    },
    ColumnNames {
        role: ColumnRole::Latitude,
        key: "lat",
        names: &["lat", "latitude", "y_latitude"],
        description: "WGS84 latitude in degrees",
    },
    ColumnNames {
        role: ColumnRole::X,
        key: "x",
        names: &["x", "x_lambert", "coord_x"],
        description: "easting in the row's CRS (epsg column, or the crs option); degrees when there is none",
    },
    ColumnNames {
        role: ColumnRole::Y,
        key: "y",
        names: &["y", "y_lambert", "coord_y"],
        description: "northing in the row's CRS (epsg column, or the crs option); degrees when there is none",
    },
    ColumnNames {
        role: ColumnRole::Epsg,
        key: "epsg",
        names: &["epsg"],
        description: "EPSG code of the row's x/y",
    },
    ColumnNames {
        role: ColumnRole::CommuneCode,
        key: "commune_code",
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
        key: "siren",
        names: &["siren_epci", "siren"],
        description: "SIREN of an EPCI or EPT",
    },
    ColumnNames {
        role: ColumnRole::PostalCode,
        key: "postal_code",
        names: &["code_postal", "cp", "codepostal", "code_postal_etablissement"],
        description: "postal code",
    },
    ColumnNames {
        role: ColumnRole::PositionQuality,
        key: "qualite_xy",
        names: &["qualite_xy"],
        description: "SIRENE geolocation quality (33: commune centre, answered by commune)",
    },
];

impl ColumnRole {
    /// The role's short name ([`ColumnNames::key`]): `lon`, `lat`, `x`, `y`, `epsg`, `commune_code`,
    /// `siren`, `postal_code`, `qualite_xy`.
    #[must_use]
    pub fn key(self) -> &'static str {
        COLUMNS.iter().find(|c| c.role == self).map_or("", |c| c.key)
    }

    /// The role of a short name.
    ///
    /// ```
    /// use territoires::tabular::columns::ColumnRole;
    /// assert_eq!(ColumnRole::from_key("lon"), Some(ColumnRole::Longitude));
    /// assert_eq!(ColumnRole::from_key("nope"), None);
    /// ```
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        COLUMNS.iter().find(|c| c.key == key).map(|c| c.role)
    }
}

/// The roles' short names, comma-separated (for messages).
#[must_use]
pub fn keys() -> String {
    COLUMNS.iter().map(|c| c.key).collect::<Vec<_>>().join(", ")
}

/// Columns a person named for some roles, over the names [`find_column`] recognises: `lon=Longitude GPS`
/// reads longitudes from that column, `siren=` (no column) leaves the role unused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnChoice {
    chosen: Vec<(ColumnRole, Option<String>)>,
}

/// A column choice that cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ColumnChoiceError {
    /// `ROLE=COLUMN` with a role that does not exist.
    #[error("unknown column role {0:?}; roles: {roles}", roles = keys())]
    UnknownRole(String),
    /// Not `ROLE=COLUMN`.
    #[error("{0:?}: expected ROLE=COLUMN, e.g. lon=Longitude")]
    Malformed(String),
    /// A named column the header does not have.
    #[error("{key}={column:?}: no such column; the header has: {header}")]
    NoSuchColumn {
        /// The role's key.
        key: &'static str,
        /// The column asked for.
        column: String,
        /// The header, comma-separated.
        header: String,
    },
}

impl ColumnChoice {
    /// Whether nothing was chosen.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// Reads `column` for `role` (`None`: leave the role unused); the last choice for a role wins.
    pub fn choose(&mut self, role: ColumnRole, column: Option<String>) {
        self.chosen.retain(|(r, _)| *r != role);
        self.chosen.push((role, column.filter(|c| !c.trim().is_empty())));
    }

    /// Adds a `ROLE=COLUMN` choice (command line `--column`).
    ///
    /// # Errors
    /// An unknown role or a missing `=`.
    ///
    /// ```
    /// use territoires::tabular::columns::{ColumnChoice, ColumnRole};
    /// let mut choice = ColumnChoice::default();
    /// choice.parse_assignment("lon=Longitude GPS").unwrap();
    /// assert_eq!(choice.chosen(ColumnRole::Longitude), Some(Some("Longitude GPS")));
    /// assert!(choice.parse_assignment("longitude").is_err());
    /// ```
    pub fn parse_assignment(&mut self, assignment: &str) -> Result<(), ColumnChoiceError> {
        let (key, column) =
            assignment.split_once('=').ok_or_else(|| ColumnChoiceError::Malformed(assignment.to_owned()))?;
        let role = ColumnRole::from_key(key.trim())
            .ok_or_else(|| ColumnChoiceError::UnknownRole(key.trim().to_owned()))?;
        self.choose(role, Some(column.to_owned()));
        Ok(())
    }

    /// What was chosen for `role`: `None` when nothing, `Some(None)` when the role is to stay unused.
    #[must_use]
    pub fn chosen(&self, role: ColumnRole) -> Option<Option<&str>> {
        self.chosen.iter().find(|(r, _)| *r == role).map(|(_, c)| c.as_deref())
    }

    /// The column `role` is read from in `header`: the chosen one (matched exactly, else trimmed and
    /// case-insensitively), else the one [`find_column`] recognises.
    ///
    /// # Errors
    /// [`ColumnChoiceError::NoSuchColumn`] when a chosen column is not in the header.
    pub fn column<'a>(
        &self,
        header: impl IntoIterator<Item = &'a str> + Clone,
        role: ColumnRole,
    ) -> Result<Option<usize>, ColumnChoiceError> {
        match self.chosen(role) {
            None => Ok(find_column(header, role)),
            Some(None) => Ok(None),
            Some(Some(name)) => {
                let exact = header.clone().into_iter().position(|h| h == name);
                let wanted = normalise_header(name);
                exact
                    .or_else(|| header.clone().into_iter().position(|h| normalise_header(h) == wanted))
                    .map(Some)
                    .ok_or_else(|| ColumnChoiceError::NoSuchColumn {
                        key: role.key(),
                        column: name.to_owned(),
                        header: header.into_iter().collect::<Vec<_>>().join(", "),
                    })
            }
        }
    }
}

/// Every header column whose name is accepted for `role` (several mean the reader had to pick one).
///
/// ```
/// use territoires::tabular::columns::{ColumnRole, candidates};
/// assert_eq!(candidates(["lon", "Longitude", "lat"], ColumnRole::Longitude), vec![0, 1]);
/// ```
pub fn candidates<'a>(header: impl IntoIterator<Item = &'a str>, role: ColumnRole) -> Vec<usize> {
    let names = names_of(role);
    header
        .into_iter()
        .enumerate()
        .filter(|(_, h)| names.contains(&normalise_header(h).as_str()))
        .map(|(i, _)| i)
        .collect()
}

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
            assert_eq!(ColumnRole::from_key(c.key), Some(c.role), "{} is a key once", c.key);
        }
    }

    #[test]
    fn chosen_columns_win_and_unknown_ones_name_the_header() {
        let header = ["Nom", "Longitude GPS", "lat", "lon"];
        let mut choice = ColumnChoice::default();
        assert_eq!(choice.column(header, ColumnRole::Longitude), Ok(Some(3)));
        choice.parse_assignment("lon= longitude gps").expect("valid");
        assert_eq!(choice.column(header, ColumnRole::Longitude), Ok(Some(1)));
        choice.choose(ColumnRole::Latitude, None);
        assert_eq!(choice.column(header, ColumnRole::Latitude), Ok(None));
        choice.parse_assignment("siren=Siren EPCI").expect("valid");
        let error = choice.column(header, ColumnRole::Siren).expect_err("refused").to_string();
        assert!(
            error.contains("siren=\"Siren EPCI\"") && error.contains("Nom, Longitude GPS, lat, lon"),
            "{error}"
        );
        assert!(matches!(choice.parse_assignment("where=x"), Err(ColumnChoiceError::UnknownRole(_))));
    }
}
