//! The Atlas on real data: unit counts, ANCT editions, known sites, border rule, nearest territory,
//! outlines, and a property test that a point inside a member is inside its territory.

use geo::{Area, Contains, InteriorPoint, Point, Validation};
use proptest::prelude::*;
use territoires::atlas::{Atlas, AtlasSources};
use territoires::model::UnitKind;

use crate::support::{self, atlas_2023, edition, geodata, known_sites};

fn count(atlas: &Atlas, kind: UnitKind) -> usize {
    atlas.units().iter().filter(|u| u.kind == kind).count()
}

#[test]
fn geodata_has_every_epci_ept_and_commune() {
    let atlas = atlas_2023();
    assert_eq!(count(atlas, UnitKind::Epci), 1255);
    assert_eq!(count(atlas, UnitKind::Ept), 11);
    assert_eq!(count(atlas, UnitKind::Commune), 34_935);
}

/// Edition 2023 as committed and as the default load gives it: 183 territories, 641 members (626 EPCI,
/// 3 EPT, 12 COM), the same territories with the same members both ways.
#[test]
fn phase_two_loads_from_both_files_with_the_published_counts() {
    let csv = support::phase2();
    let sources = AtlasSources::from_geodata_dir(&geodata(), vec![edition("csv", &csv)]).expect("geodata");
    let default = AtlasSources::from_geodata_dir(&geodata(), Vec::new()).expect("geodata");
    assert_eq!(default.editions.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["2023", "2019"]);
    let sources =
        AtlasSources { editions: [sources.editions, default.editions[..1].to_vec()].concat(), ..sources };
    let atlas = Atlas::build(&sources).unwrap_or_else(|e| panic!("{e}"));
    let summary = atlas.summary();
    assert_eq!(summary.editions.len(), 2);
    for e in &summary.editions {
        assert_eq!(e.territories, 183, "{}", e.id);
        assert_eq!(e.members, 641, "{}", e.id);
        assert_eq!(e.members_by_kind.get(&UnitKind::Epci), Some(&626), "{}", e.id);
        assert_eq!(e.members_by_kind.get(&UnitKind::Ept), Some(&3), "{}", e.id);
        assert_eq!(e.members_by_kind.get(&UnitKind::Commune), Some(&12), "{}", e.id);
    }
    // Both shapes describe the same territories with the same members.
    let [a, b] = [&atlas.editions()[0].edition, &atlas.editions()[1].edition];
    for (ta, tb) in a.territories.iter().zip(&b.territories) {
        assert_eq!(ta.id, tb.id);
        let units = |t: &territoires::model::Territory| {
            let mut v: Vec<_> = t.members.iter().map(|m| m.unit).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(units(ta), units(tb), "{}", ta.id);
    }
}

#[test]
fn every_known_site_answers_as_listed() {
    let atlas = atlas_2023();
    let sites = known_sites();
    assert!(sites.len() >= 15);
    for site in sites {
        let answer = atlas.lookup(site.lon, site.lat).expect("valid point");
        let ids: Vec<&str> =
            answer.territories.iter().filter(|t| t.edition == "2023").map(|t| t.id.as_str()).collect();
        if site.territory_2023.is_empty() {
            assert!(ids.is_empty(), "{}: expected no territory, got {ids:?}", site.name);
            let nearest = answer.nearest.iter().find(|n| n.edition == "2023");
            let nearest = nearest.unwrap_or_else(|| panic!("{}: no nearest territory", site.name));
            assert!(nearest.distance_m > 0.0 && nearest.distance_m < 100_000.0, "{}: {nearest:?}", site.name);
        } else {
            assert_eq!(ids, vec![site.territory_2023.as_str()], "{}", site.name);
            assert!(answer.nearest.iter().all(|n| n.edition != "2023"), "{}", site.name);
        }
        let codes: Vec<&str> = answer.units.iter().map(|u| u.code.as_str()).collect();
        if !site.epci_siren.is_empty() {
            assert!(codes.contains(&site.epci_siren.as_str()), "{}: units {codes:?}", site.name);
        }
        if !site.insee_com.is_empty() {
            assert!(codes.contains(&site.insee_com.as_str()), "{}: units {codes:?}", site.name);
        }
    }
}

#[test]
fn a_site_in_a_commune_member_answers_through_that_commune() {
    let atlas = atlas_2023();
    // Cercy-la-Tour is in ti-2707 on its own while its EPCI is not.
    let answer = atlas.lookup(3.64494, 46.8694).expect("valid point");
    let hit = answer.territories.iter().find(|t| t.edition == "2023").expect("inside ti-2707");
    assert_eq!(hit.id, "ti-2707");
    assert_eq!((hit.via.kind, hit.via.code.as_str()), (UnitKind::Commune, "58046"));
    // Gennevilliers is inside through its EPT.
    let answer = atlas.lookup(2.294045, 48.925459).expect("valid point");
    let hit = answer.territories.iter().find(|t| t.edition == "2023").expect("inside ti-1101");
    assert_eq!(hit.via.kind, UnitKind::Ept);
}

#[test]
fn a_sea_point_gets_the_nearest_territory_of_every_edition() {
    let atlas = atlas_2023();
    let answer = atlas.lookup(1.3, 50.75).expect("valid point");
    assert!(answer.territories.is_empty());
    assert!(answer.units.is_empty());
    assert_eq!(answer.nearest.len(), atlas.editions().len());
    let n2023 = answer.nearest.iter().find(|n| n.edition == "2023").expect("2023");
    // The Boulonnais coast is ~20 km east of this point.
    assert!((5_000.0..60_000.0).contains(&n2023.distance_m), "{n2023:?}");
}

/// Border rule: a vertex shared by several communes belongs to the one with the smallest INSEE code.
#[test]
fn shared_border_points_get_the_smallest_code() {
    let atlas = atlas_2023();
    let soissons = atlas.unit_by_code("02722").expect("Soissons");
    let mut checked = 0;
    for vertex in soissons.geometry.0[0].exterior().coords().step_by(7).take(10) {
        let point = Point::from(*vertex);
        let mut covering: Vec<&str> = atlas
            .units()
            .iter()
            .filter(|u| u.kind == UnitKind::Commune && geo::Intersects::intersects(&*u.geometry, &point))
            .map(territoires::model::Unit::code)
            .collect();
        covering.sort_unstable();
        let answer = atlas.lookup(point.x(), point.y()).expect("valid");
        let communes: Vec<&str> =
            answer.units.iter().filter(|u| u.kind == UnitKind::Commune).map(|u| u.code.as_str()).collect();
        assert_eq!(communes, vec![covering[0]], "vertex {vertex:?} covered by {covering:?}");
        checked += usize::from(covering.len() > 1);
    }
    assert!(checked > 0, "no shared vertex among those tried");
}

/// The cell grid (fast path) answers exactly as the R-tree with `geo`'s exact tests, inside, outside,
/// and on borders: random points over the metropole and the DROM, and every vertex of the communes of
/// three départements (vertices are on borders, where a wrong rule would show).
#[test]
fn the_cell_grid_answers_as_the_polygons_do() {
    let atlas = atlas_2023();
    let index = atlas.polygon_index();
    let (cells, mixed, edges) = index.grid_stats();
    assert!(cells > 500_000 && mixed > 100_000 && edges > 1_000_000, "{cells} {mixed} {edges}");
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let boxes = [
        [-5.2, 41.3, 9.6, 51.1],
        [-61.9, 15.8, -61.0, 16.6],
        [-61.3, 14.3, -60.8, 14.9],
        [-54.7, 2.1, -51.6, 5.8],
        [55.2, -21.4, 55.9, -20.8],
        [44.9, -13.1, 45.4, -12.6],
    ];
    let mut points: Vec<Point<f64>> = (0..200_000)
        .map(|i| {
            let b = boxes[if i % 4 == 0 { 1 + i % 5 } else { 0 }];
            Point::new(b[0] + (b[2] - b[0]) * next(), b[1] + (b[3] - b[1]) * next())
        })
        .collect();
    for u in atlas.units().iter().filter(|u| u.kind == UnitKind::Commune) {
        if ["02", "62", "974"].iter().any(|d| u.code().starts_with(d)) {
            points.extend(u.geometry.0.iter().flat_map(|p| p.exterior().coords().map(|c| Point::from(*c))));
        }
    }
    let mut on_borders = 0;
    for p in &points {
        let fast = index.covering(*p);
        assert_eq!(fast, index.covering_by_tree(*p), "at {p:?}");
        on_borders += usize::from(fast.len() > 1);
    }
    assert!(on_borders > 10_000, "{on_borders} points on shared borders among {}", points.len());
}

#[test]
fn territory_outlines_are_valid_and_cover_their_members() {
    let atlas = atlas_2023();
    let entry = atlas.edition("2023").expect("2023");
    let mut exact = 0;
    for (territory, outline) in entry.edition.territories.iter().zip(&entry.outlines) {
        assert!(outline.is_valid(), "{}: {:?}", territory.id, outline.validation_errors());
        let members: f64 =
            territory.members.iter().map(|m| atlas.unit(m.unit).geometry.unsigned_area()).sum();
        let area = outline.unsigned_area();
        // Members whose borders match vertex for vertex dissolve exactly; the few that do not (a gap or
        // overlap left by the simplified boundaries) go through the boolean union, which moves
        // vertices by a few nanodegrees: 1e-5 of the area is far below one commune.
        assert!(
            (area - members).abs() <= members * 1e-5,
            "{}: outline {area} vs members {members}",
            territory.id
        );
        exact += usize::from((area - members).abs() <= members * 1e-12);
    }
    assert!(exact >= 150, "only {exact} of 183 outlines dissolved exactly");
}

#[test]
fn out_of_range_points_are_refused() {
    let atlas = atlas_2023();
    assert!(atlas.lookup(f64::NAN, 45.0).is_err());
    assert!(atlas.lookup(181.0, 45.0).is_err());
    assert!(atlas.lookup(2.0, -90.5).is_err());
    assert!(atlas.lookup(2.0, f64::INFINITY).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A point inside any commune of any member is inside that member's territory, through that member.
    #[test]
    fn a_point_inside_a_member_is_inside_its_territory(t in any::<prop::sample::Index>(), m in any::<prop::sample::Index>(), c in any::<prop::sample::Index>()) {
        let atlas = atlas_2023();
        let entry = atlas.edition("2023").expect("2023");
        let territory = t.get(&entry.edition.territories);
        let member = atlas.unit(m.get(&territory.members).unit);
        // Pick one of the member's communes (or the member itself) and a point strictly inside it.
        let communes: Vec<_> = atlas.units().iter()
            .filter(|u| u.kind == UnitKind::Commune && (u.parents.iter().any(|p| Some(p) == member.siren.as_ref()) || std::ptr::eq(*u, member)))
            .collect();
        prop_assume!(!communes.is_empty());
        let commune = c.get(&communes);
        let polygon = commune.geometry.0.iter().max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area())).expect("polygon");
        let point = polygon.interior_point().expect("interior point");
        prop_assume!(polygon.contains(&point));
        let answer = atlas.lookup(point.x(), point.y()).expect("valid");
        let hit = answer.territories.iter().find(|h| h.edition == "2023" && h.id == territory.id.as_str());
        prop_assert!(hit.is_some(), "{} at {:?} not in {}: {:?}", commune.name, point, territory.id, answer.territories);
        prop_assert_eq!(&hit.expect("hit").via.code, &member.code().to_owned());
    }
}

#[test]
fn a_broken_list_fails_with_every_error_located() {
    let (_dir, broken) = support::temp_file(
        "broken.csv",
        "id_ti,lib_ti,insee_reg,member_siren,member_name,member_kind,member_insee_com\n\
         ti-9901,Test A,99,240200477,CA GrandSoissons,EPCI,\n\
         ti-9901,Test A,99,999999999,Nobody,EPCI,\n\
         ti-9902,Test B,99,24020047X,Bad code,EPCI,\n\
         ti-9902,Test B,99,240200477,CA GrandSoissons again,EPCI,\n",
    );
    let sources =
        AtlasSources::from_geodata_dir(&geodata(), vec![edition("broken", &broken)]).expect("geodata");
    let errors = Atlas::build(&sources).expect_err("broken list must fail").to_string();
    let name = broken.display().to_string();
    for line in [3, 4, 5] {
        assert!(errors.contains(&format!("{name}:{line}")), "line {line} not reported in:\n{errors}");
    }
    assert!(errors.contains("999999999") && errors.contains("24020047X"), "{errors}");
    let _ = support::root();
}
