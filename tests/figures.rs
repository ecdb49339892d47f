//! Communes and population of every territory of both shipped editions, and of every EPCI and EPT,
//! checked against a count made here straight from `geodata/communes.dbf` (dBase reader of the
//! `shapefile` crate) and the committed lists (csv crate), without the Atlas's own tables.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{atlas_2023, geodata};

/// Every commune as (INSEE, SIREN, EPCI SIREN, EPT SIREN, population), read from the `.dbf` alone.
fn communes() -> Vec<(String, String, String, String, u64)> {
    let mut reader =
        shapefile::dbase::Reader::from_path(geodata().join("communes.dbf")).expect("communes.dbf");
    let text = |r: &shapefile::dbase::Record, f: &str| match r.get(f) {
        Some(shapefile::dbase::FieldValue::Character(Some(s))) => s.trim().to_owned(),
        _ => String::new(),
    };
    reader
        .iter_records()
        .map(|r| {
            let r = r.expect("record");
            let pop = match r.get("POP") {
                Some(shapefile::dbase::FieldValue::Numeric(Some(n))) => *n as u64,
                // A few communes have no population in the source: they add nothing.
                Some(shapefile::dbase::FieldValue::Numeric(None)) => 0,
                other => panic!("POP {other:?}"),
            };
            (text(&r, "INSEE"), text(&r, "SIREN"), text(&r, "EPCI"), text(&r, "EPT"), pop)
        })
        .collect()
}

/// Territory id → (communes, population), from a committed list and the `.dbf`.
fn expected(list: &str) -> BTreeMap<String, (usize, u64)> {
    let communes = communes();
    let mut reader = csv::Reader::from_path(geodata().join("territories").join(list)).expect("list");
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        members.entry(row[0].to_owned()).or_default().insert(row[3].to_owned());
    }
    members
        .into_iter()
        .map(|(id, sirens)| {
            let covered: Vec<_> = communes
                .iter()
                .filter(|(_, siren, epci, ept, _)| {
                    sirens.contains(siren) || sirens.contains(epci) || sirens.contains(ept)
                })
                .collect();
            (id, (covered.len(), covered.iter().map(|c| c.4).sum()))
        })
        .collect()
}

#[test]
fn every_territory_has_the_independently_counted_communes_and_population() {
    let atlas = atlas_2023();
    for (edition, list, count) in [("2023", "2023.csv", 183), ("2019", "2019.csv", 149)] {
        let expected = expected(list);
        assert_eq!(expected.len(), count);
        let answered = atlas.find_territories(Some(edition), None);
        assert_eq!(answered.len(), count);
        for t in answered {
            let (communes, population) = expected[&t.id];
            assert_eq!((t.communes as usize, t.population), (communes, population), "{edition} {}", t.id);
        }
    }
    let soissons = atlas.territory_detail("2023", "ti-3214").expect("ti-3214");
    // 164 communes and 107,206 inhabitants (INSEE's populations légales 2022 of its communes).
    assert_eq!((soissons.summary.communes, soissons.summary.population), (164, 107_206));
}

#[test]
fn every_epci_and_ept_has_its_communes_and_population() {
    let atlas = atlas_2023();
    let communes = communes();
    let mut by_parent: BTreeMap<&str, (u32, u64)> = BTreeMap::new();
    for (_, _, epci, ept, pop) in &communes {
        for p in [epci, ept].into_iter().filter(|p| !p.is_empty()) {
            let e = by_parent.entry(p.as_str()).or_default();
            e.0 += 1;
            e.1 += pop;
        }
    }
    assert_eq!(by_parent.len(), 1255 + 11);
    for (code, (n, pop)) in by_parent {
        let unit = atlas.unit_detail(code).expect("unit");
        assert_eq!((unit.communes, unit.population), (Some(n), Some(pop)), "{code}");
    }
}
