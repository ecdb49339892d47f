//! Batches keyed by code (issue 14 §3): every former, délégué, associé and arrondissement code of
//! `geodata/commune_codes.csv` lands on the territories of its current commune, found independently by
//! a point inside that commune's polygon; codes as spreadsheets damage them; SIRENs; postal codes; and
//! rows with both a point and a code say whether they agree.

use geo::InteriorPoint;
use territoires::atlas::{Atlas, PlacedBy};
use territoires::batch::{BatchOptions, annotate_csv};
use territoires::codes::CodeKind;

use crate::support::{atlas_2023, known_sites};

/// `(edition id, territory id)` pairs, sorted.
fn ids(atlas: &Atlas, hits: &territoires::atlas::TerritoryHits) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            let e = atlas.edition_at(h.edition);
            (e.edition.id.to_string(), e.territory(h.territory).id.to_string())
        })
        .collect();
    ids.sort();
    ids
}

/// The territories of a commune by a point inside its polygon (the geometric path).
fn by_interior_point(atlas: &Atlas, insee: &str) -> Vec<(String, String)> {
    let unit = atlas.unit_by_code(insee).unwrap_or_else(|| panic!("{insee} loaded"));
    let point = unit.geometry.interior_point().expect("a commune has an interior point");
    ids(atlas, &atlas.territories_containing(point))
}

#[test]
fn every_alias_code_lands_on_its_current_communes_territories() {
    let atlas = atlas_2023();
    let table = std::fs::read_to_string(crate::support::geodata().join("commune_codes.csv")).expect("table");
    let mut checked = std::collections::BTreeMap::<&str, usize>::new();
    for line in table.lines().skip(1) {
        let [code, kind, commune] = line.split(',').collect::<Vec<_>>()[..] else { panic!("{line}") };
        if kind == "postal" {
            continue;
        }
        let place = atlas.place_commune_code(code).unwrap_or_else(|| panic!("{line} placed"));
        let landed: Vec<&str> = place.units.iter().map(|&u| atlas.unit(u).code()).collect();
        // A code listed twice (former code of one commune, délégué of another) keeps the relation
        // that says where it is today; that commune is one of its rows.
        assert!(table.contains(&format!("{code},{}", kind_name(place.by))), "{line}: {:?}", place.by);
        if kind_name(place.by) == kind {
            assert_eq!(landed, [commune], "{line}");
        }
        assert_eq!(ids(atlas, &place.territories), by_interior_point(atlas, landed[0]), "{line}");
        *checked.entry(kind).or_default() += 1;
    }
    assert_eq!(
        checked.into_iter().collect::<Vec<_>>(),
        [("arrondissement", 45), ("associee", 483), ("deleguee", 1508), ("former", 4180)]
    );
}

fn kind_name(by: PlacedBy) -> &'static str {
    match by {
        PlacedBy::Commune(kind) => kind.as_str(),
        PlacedBy::Siren => "siren",
        _ => "postal",
    }
}

#[test]
fn codes_damaged_by_spreadsheets_and_sirens_answer_like_the_known_sites() {
    let atlas = atlas_2023();
    let list = std::fs::read_to_string(crate::support::phase2()).expect("2023 list");
    for site in known_sites().iter().filter(|s| !s.insee_com.is_empty()) {
        let expected = site.territory_2023.clone();
        let of_2023 = |hits: &territoires::atlas::TerritoryHits| -> String {
            ids(atlas, hits)
                .into_iter()
                .filter(|(e, _)| e == "2023")
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
                .join(";")
        };
        let stripped = site.insee_com.trim_start_matches('0');
        for code in [
            site.insee_com.clone(),
            stripped.to_owned(),
            format!("{stripped}.0"),
            format!(" {} ", site.insee_com),
        ] {
            let place = atlas.place_commune_code(&code).unwrap_or_else(|| panic!("{}: {code:?}", site.name));
            assert_eq!(of_2023(&place.territories), expected, "{}: {code:?}", site.name);
            assert_eq!(
                place.zero_restored,
                stripped.len() == 4 && code.trim().trim_end_matches(".0").len() == 4
            );
            assert_eq!(place.by, PlacedBy::Commune(CodeKind::Current));
        }
        let epci = atlas.place_siren(&site.epci_siren).expect("EPCI SIREN placed");
        assert_eq!(epci.by, PlacedBy::Siren);
        // A SIREN answers the territories that list that unit as a member (not those of its communes
        // listed one by one, as Cercy-la-Tour is, nor those of the Métropole du Grand Paris' EPTs).
        let listed: Vec<String> = list
            .lines()
            .filter(|l| l.split(',').nth(3) == Some(site.epci_siren.as_str()))
            .map(|l| l.split(',').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(of_2023(&epci.territories), listed.join(";"), "{}: SIREN {}", site.name, site.epci_siren);
    }
    assert!(atlas.place_commune_code("99999").is_none() && atlas.place_siren("123").is_none());
}

#[test]
fn a_csv_of_codes_answers_every_row_and_says_how() {
    let atlas = atlas_2023();
    let input = "id;codgeo;siren;code_postal;lon;lat\n\
                 1;2722;;;;\n\
                 2;;240200477;;;\n\
                 3;;;02200;;\n\
                 4;02722;;;3.328181;49.383574\n\
                 5;02408;;;3.328181;49.383574\n\
                 6;75101;;;;\n\
                 7;;;;;\n";
    let mut out = Vec::new();
    let stats =
        annotate_csv(atlas, input.as_bytes(), &mut out, "codes", &BatchOptions::default().with_bom(false))
            .expect("answered");
    assert_eq!((stats.rows, stats.errors), (7, 1));
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(&out[..]);
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let get = |i: usize, name: &str| rows[i][col(name)].to_owned();
    assert_eq!(rows.len(), 7);
    for (i, by) in [
        "commune_code",
        "siren",
        "postal_code",
        "point+code_agrees",
        "point+code_disagrees",
        "commune_code",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(get(i, "located_by"), by, "row {}", i + 1);
    }
    for i in 0..5 {
        assert_eq!(get(i, "territory_2023"), "ti-3214", "row {}", i + 1);
    }
    assert_eq!(get(0, "commune"), "02722");
    assert!(get(2, "check").starts_with("ambiguous: postal code 02200 serves"), "{}", get(2, "check"));
    assert!(get(2, "commune").split(';').count() > 1 && get(2, "commune").contains("02722"));
    assert!(get(4, "check").contains("02722 Soissons"), "{}", get(4, "check"));
    assert!(
        get(3, "border_m_2023").parse::<f64>().is_ok_and(|d| d > 100.0),
        "Soissons town hall is not on a border"
    );
    assert_eq!(get(0, "border_m_2023"), "", "no border distance without a point");
    assert_eq!(get(5, "commune"), "75056", "Paris 1er arrondissement is Paris");
    assert!(get(6, "error").contains("no coordinates and no code"), "{}", get(6, "error"));
}
