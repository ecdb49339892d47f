//! `site/`: the web map as static files. The page of `web/` (embedded in the binary) with its HTML marked
//! `data-source="static"`, so its modules read JSON files and `tiles.pmtiles` (MapLibre's `pmtiles://`
//! protocol) instead of the API:
//! - `data/editions.json`, `data/territories-E.json` (summaries) and `data/territories/E/ID.json` (details);
//! - `data/units/SIREN.json` (EPCI, EPT) and `data/communes/DEP.json` (communes by département, by code);
//! - `data/search.json`: every search entry with its folded text, searched in the browser.
//!
//! The archive itself is copied as `site/tiles.pmtiles` (hard-linked when the file system allows).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::ExportError;
use crate::atlas::Atlas;
use crate::model::UnitKind;
use crate::web_assets::Assets;

/// Marks the page for its static data source (`web/js/static-source.js`).
const STATIC_MARK: &str = "<html data-source=\"static\"";

/// Writes `site/` under `dir`, copying `archive` (the `tiles.pmtiles` just written) into it. Returns the
/// number of files written.
pub fn write(atlas: &Atlas, dir: &Path, archive: &Path) -> Result<usize, ExportError> {
    let site = dir.join("site");
    if site.exists() {
        std::fs::remove_dir_all(&site).map_err(ExportError::io(&site))?;
    }
    let mut files = 0;
    for path in Assets::iter() {
        let Some(file) = Assets::get(&path) else { continue };
        let mut data = file.data.into_owned();
        if path == "index.html" {
            let html = String::from_utf8_lossy(&data);
            let Some(marked) = mark_static(&html) else {
                return Err(ExportError::encode(&site.join("index.html"))(
                    &"web/index.html has no <html> tag",
                ));
            };
            data = marked.into_bytes();
        }
        put(&site.join(path.as_ref()), &data)?;
        files += 1;
    }
    let data = site.join("data");
    json(&data.join("editions.json"), &atlas.edition_infos())?;
    files += 1;
    for entry in atlas.editions() {
        let edition = entry.edition.id.as_str();
        json(
            &data.join(format!("territories-{edition}.json")),
            &atlas.find_territories(Some(edition), None),
        )?;
        files += 1;
        for territory in &entry.edition.territories {
            let id = territory.id.as_str();
            if let Some(detail) = atlas.territory_detail(edition, id) {
                json(&data.join("territories").join(edition).join(format!("{id}.json")), &detail)?;
                files += 1;
            }
        }
    }
    let mut communes: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    for unit in atlas.units() {
        let code = unit.code();
        let Some(detail) = atlas.unit_detail(code) else { continue };
        if unit.kind == UnitKind::Commune {
            let value = serde_json::to_value(&detail).map_err(|e| ExportError::encode(&data)(&e))?;
            communes.entry(department_of(code).to_owned()).or_default().insert(code.to_owned(), value);
        } else {
            json(&data.join("units").join(format!("{code}.json")), &detail)?;
            files += 1;
        }
    }
    for (department, units) in &communes {
        json(&data.join("communes").join(format!("{department}.json")), units)?;
        files += 1;
    }
    json(&data.join("search.json"), &atlas.search_entries())?;
    files += 1;
    let copy = site.join("tiles.pmtiles");
    if std::fs::hard_link(archive, &copy).is_err() {
        std::fs::copy(archive, &copy).map_err(ExportError::io(&copy))?;
    }
    Ok(files + 1)
}

/// The page with `data-source="static"` on its `<html>` element.
fn mark_static(html: &str) -> Option<String> {
    let at = html.find("<html")?;
    Some(format!("{}{STATIC_MARK}{}", &html[..at], &html[at + "<html".len()..]))
}

/// The département of a commune code, as the page's static source groups communes: three characters
/// overseas (`97411` → `974`), else two.
fn department_of(insee: &str) -> &str {
    let n = if insee.starts_with("97") { 3 } else { 2 };
    insee.get(..n).unwrap_or(insee)
}

fn json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), ExportError> {
    let bytes = serde_json::to_vec(value).map_err(|e| ExportError::encode(path)(&e))?;
    put(path, &bytes)
}

fn put(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(ExportError::io(parent))?;
    }
    std::fs::write(path, bytes).map_err(ExportError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_marked_static_and_communes_group_by_department() {
        assert_eq!(
            mark_static("<!doctype html>\n<html lang=\"fr\">").as_deref(),
            Some("<!doctype html>\n<html data-source=\"static\" lang=\"fr\">")
        );
        assert_eq!(mark_static("<p>"), None);
        assert_eq!(department_of("97411"), "974");
        assert_eq!(department_of("2B033"), "2B");
        assert_eq!(department_of("02722"), "02");
    }
}
