//! Geometry truth beyond point lookups (issue "Geometry truth"): areas that do not depend on ring
//! orientation or holes, outlines with no sliver hole, `territories_intersecting` for sites of either
//! winding. The independent GEOS/PROJ checks of the same are in `tests/reference/test_areas.py`; these
//! compare with `geo`'s own geodesic area of the communes, a different code path from ours.

use geo::orient::{Direction, Orient};
use geo::{GeodesicArea, MultiPolygon, Polygon, Validation, polygon};
use territoires::atlas::Atlas;
use territoires::atlas::SiteError;
use territoires::model::{UnitIx, UnitKind};

use crate::support::atlas_2023;

/// Territories whose `area_km2` was about −510 million km² per sliver hole (the holes' winding read
/// as the rest of the Earth).
const ONCE_NEGATIVE: [(&str, &str); 15] = [
    ("2023", "ti-2701"),
    ("2023", "ti-3207"),
    ("2023", "ti-3213"),
    ("2023", "ti-4404"),
    ("2023", "ti-4417"),
    ("2023", "ti-4419"),
    ("2023", "ti-5203"),
    ("2023", "ti-5205"),
    ("2023", "ti-5210"),
    ("2023", "ti-7505"),
    ("2019", "ti-2704"),
    ("2019", "ti-4414"),
    ("2019", "ti-7502"),
    ("2019", "ti-7503"),
    ("2019", "ti-7604"),
];

/// The communes (unit positions) a territory covers: its commune members and the communes of its
/// EPCI and EPT members.
fn communes_of(atlas: &Atlas, edition: &str, id: &str) -> Vec<UnitIx> {
    let entry = atlas.edition(edition).unwrap_or_else(|| panic!("edition {edition} loaded"));
    let territory = entry.edition.territories.iter().find(|t| t.id.as_str() == id).expect("territory");
    let members: Vec<UnitIx> = territory.members.iter().map(|m| m.unit).collect();
    atlas
        .units_of_kind(UnitKind::Commune)
        .iter()
        .copied()
        .filter(|&c| members.contains(&c) || atlas.parents_of(c).iter().any(|p| members.contains(p)))
        .collect()
}

/// `geo`'s geodesic area, rings oriented its way first.
fn geo_area_m2(mp: &MultiPolygon<f64>) -> f64 {
    mp.clone().orient(Direction::Default).geodesic_area_unsigned()
}

#[test]
fn the_territories_once_negative_have_the_area_of_their_communes() {
    let atlas = atlas_2023();
    for (edition, id) in ONCE_NEGATIVE {
        let entry = atlas.edition(edition).expect("edition");
        let t = entry.edition.territories.iter().position(|t| t.id.as_str() == id).expect("territory");
        let communes_km2: f64 = communes_of(atlas, edition, id)
            .iter()
            .map(|&c| geo_area_m2(&atlas.unit(c).geometry))
            .sum::<f64>()
            / 1e6;
        let served = entry.areas_km2[t];
        assert!(
            (served - communes_km2).abs() <= 0.005 * communes_km2,
            "{edition} {id}: area_km2 {served}, its communes {communes_km2:.2}"
        );
    }
}

#[test]
fn every_outline_is_valid_with_no_sliver_hole() {
    let atlas = atlas_2023();
    let mut slivers = Vec::new();
    for entry in atlas.editions() {
        for (territory, outline) in entry.edition.territories.iter().zip(&entry.outlines) {
            assert!(
                outline.is_valid(),
                "{} {}: {:?}",
                entry.edition.id,
                territory.id,
                outline.validation_errors()
            );
            for hole in outline.0.iter().flat_map(Polygon::interiors) {
                let area = geo_area_m2(&MultiPolygon(vec![Polygon::new(hole.clone(), vec![])]));
                if area < 1_000.0 {
                    slivers.push(format!(
                        "{} {}: {area:.3} m² at {:?}",
                        entry.edition.id, territory.id, hole.0[0]
                    ));
                }
            }
        }
    }
    for &u in atlas.units_of_kind(UnitKind::Epci).iter().chain(atlas.units_of_kind(UnitKind::Ept)) {
        let unit = atlas.unit(u);
        for hole in unit.geometry.0.iter().flat_map(Polygon::interiors) {
            let area = geo_area_m2(&MultiPolygon(vec![Polygon::new(hole.clone(), vec![])]));
            if area < 1_000.0 {
                slivers.push(format!("{} {}: {area:.3} m² at {:?}", unit.kind, unit.code(), hole.0[0]));
            }
        }
    }
    assert!(slivers.is_empty(), "{} sliver holes:\n{}", slivers.len(), slivers.join("\n"));
}

/// About 10 km × 11 km around Lille, wholly in the Métropole européenne de Lille (ti-3213), which once
/// answered no territory: the site covered one of its sliver holes.
fn lille_box() -> Polygon<f64> {
    polygon![(x: 2.98, y: 50.58), (x: 3.12, y: 50.58), (x: 3.12, y: 50.68), (x: 2.98, y: 50.68)]
}

#[test]
fn a_site_is_measured_the_same_whichever_way_its_rings_turn() {
    let atlas = atlas_2023();
    let ccw = MultiPolygon(vec![lille_box()]);
    let mut ring = lille_box().into_inner().0;
    ring.0.reverse();
    let cw = MultiPolygon(vec![Polygon::new(ring, vec![])]);
    let reference = geo_area_m2(&ccw);
    for site in [&ccw, &cw] {
        let answer = atlas.territories_intersecting(site).expect("valid site");
        assert!((answer.site_area_m2 - reference).abs() < 1e-3 * reference, "{}", answer.site_area_m2);
        let hits: Vec<_> = answer.territories.iter().filter(|t| t.edition == "2023").collect();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].id, "ti-3213");
        assert!(hits[0].share > 0.999, "{}", hits[0].share);
    }
}

#[test]
fn a_self_intersecting_site_is_refused_naming_the_problem() {
    let atlas = atlas_2023();
    let bowtie = MultiPolygon(vec![
        polygon![(x: 3.0, y: 49.0), (x: 3.1, y: 49.1), (x: 3.1, y: 49.0), (x: 3.0, y: 49.1)],
    ]);
    match atlas.territories_intersecting(&bowtie) {
        Err(SiteError::Invalid(reason)) => assert!(reason.contains("intersect"), "{reason}"),
        other => panic!("expected an invalid site, got {other:?}"),
    }
}
