//! The pages for people (territory, EPCI, commune; French and English) and the members' downloads,
//! through the real router on the committed data. Expected figures come from the issue (ti-3214: 164
//! communes, 107,206 inhabitants), the committed lists read here with `csv`, and known-sites.csv; the
//! XLSX is read back with calamine.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use calamine::{Data, DataType, Reader, Xlsx};
use http_body_util::BodyExt;
use tower::ServiceExt;

use territoires::http::{AppState, build_app};

use crate::support::{known_sites, phase1, phase2};

fn app() -> axum::Router {
    build_app(AppState::from_loaded(crate::support::shared_loaded().clone()))
}

async fn get(uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let response = app().oneshot(request).await.expect("answer");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    (status, headers, body)
}

async fn page(uri: &str) -> (StatusCode, String) {
    let (status, headers, body) = get(uri).await;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(content_type, "text/html; charset=utf-8", "{uri}");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY), "{uri}: the map's CSP");
    (status, String::from_utf8(body).expect("UTF-8"))
}

/// The text of the element carrying `data-testid="ID"` (first one).
fn testid<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("data-testid=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {id} in the page")) + marker.len();
    &html[start..start + html[start..].find('<').expect("closing tag")]
}

/// The committed list's members of a territory: (SIREN, name).
fn listed_members(list: &std::path::Path, id: &str) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(list).expect("list");
    reader
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[0] == id)
        .map(|r| (r[3].to_owned(), r[4].to_owned()))
        .collect()
}

#[tokio::test]
async fn the_territory_page_of_ti_3214_gives_its_true_figures_in_both_languages() {
    let (status, fr) = page("/territoires/2023/ti-3214").await;
    assert_eq!(status, StatusCode::OK);
    assert!(fr.contains("<html lang=\"fr\">"));
    assert!(
        fr.contains(
            "<title>Soissonnais – Valois — Territoire d&#39;industrie · Phase II (2023-2027)</title>"
        )
    );
    assert!(fr.contains("<meta name=\"description\" content=\"Soissonnais – Valois (Hauts-de-France)"));
    assert_eq!(testid(&fr, "communes"), "164");
    assert_eq!(testid(&fr, "population"), "107\u{202f}206");
    assert_eq!(testid(&fr, "region"), "Hauts-de-France");
    assert!(testid(&fr, "edition").contains("2024-07-04"));
    let (status, en) = page("/en/territories/2023/ti-3214").await;
    assert_eq!(status, StatusCode::OK);
    assert!(en.contains("<html lang=\"en\">"));
    assert_eq!(testid(&en, "communes"), "164");
    assert_eq!(testid(&en, "population"), "107,206");
    // Each page links to the other language, the members' files and the map.
    assert!(fr.contains("hreflang=\"en\" href=\"/en/territories/2023/ti-3214\""));
    assert!(en.contains("hreflang=\"fr\" href=\"/territoires/2023/ti-3214\""));
    assert!(fr.contains("href=\"/territoires/2023/ti-3214/membres.csv\""));
    assert!(en.contains("href=\"/en/territories/2023/ti-3214/members.xlsx\""));
    assert!(fr.contains("href=\"/?edition=2023&amp;territory=ti-3214\""));
    assert!(en.contains("href=\"/?edition=2023&amp;territory=ti-3214&amp;lang=en\""));
    // Every member of the committed list, with its SIREN and a link to its page; names escaped.
    let members = listed_members(&phase2(), "ti-3214");
    assert_eq!(members.len(), 4);
    for (siren, _) in &members {
        assert!(fr.contains(&format!("<tr data-code=\"{siren}\">")), "{siren} listed");
        assert!(fr.contains(&format!("href=\"/intercommunalites/{siren}\"")), "{siren} linked");
    }
    assert!(fr.contains("CC du Val de l&#39;Aisne") && !fr.contains("Val de l'Aisne"), "apostrophes escaped");
    // The map: one path per member and the outline.
    assert_eq!(fr.matches("<path class=\"member m").count(), 4);
    assert_eq!(fr.matches("<path class=\"outline\"").count(), 1);
    // Phase I had the same four EPCI as ti-3214: all 164 communes are there.
    let expected_2019 = listed_members(&phase1(), "ti-3214");
    assert_eq!(
        expected_2019.iter().map(|m| &m.0).collect::<Vec<_>>(),
        members.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    assert!(fr.contains(
        "<a href=\"/territoires/2019/ti-3214\">Soissonnais-Valois</a> (ti-3214)\u{a0}: 164 des 164 communes"
    ));
    assert!(en.contains(
        "<a href=\"/en/territories/2019/ti-3214\">Soissonnais-Valois</a> (ti-3214): 164 of the 164 communes"
    ));
}

#[tokio::test]
async fn the_members_download_as_csv_and_xlsx_adds_up_to_the_territory() {
    let (status, headers, csv) = get("/territoires/2023/ti-3214/membres.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(headers[header::CONTENT_DISPOSITION], "attachment; filename=\"2023-ti-3214-membres.csv\"");
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let listed = listed_members(&phase2(), "ti-3214");
    assert_eq!(rows.len(), listed.len());
    let sirens: Vec<&str> = rows.iter().map(|r| &r[5]).collect();
    for (siren, _) in &listed {
        assert!(sirens.contains(&siren.as_str()), "{siren} in the CSV");
    }
    let communes: u64 = rows.iter().map(|r| r[7].parse::<u64>().expect("communes")).sum();
    let population: u64 = rows.iter().map(|r| r[8].parse::<u64>().expect("population")).sum();
    assert_eq!((communes, population), (164, 107_206), "members add up to the territory");

    let (status, headers, xlsx) = get("/en/territories/2023/ti-3214/members.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(xlsx)).expect("an XLSX calamine reads");
    let sheet = workbook.worksheet_range("ti-3214").expect("sheet named after the territory");
    let table: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(table[0][5], Data::String("member_siren".into()));
    assert_eq!(table.len(), listed.len() + 1);
    let sum = |c: usize| -> f64 { table[1..].iter().map(|r| r[c].get_float().expect("a number")).sum() };
    assert_eq!((sum(7), sum(8)), (164.0, 107_206.0));
    for (row, csv_row) in table[1..].iter().zip(&rows) {
        assert_eq!(row[5], Data::String(csv_row[5].to_owned()), "same rows, same order");
    }
    let (status, _, _) = get("/territoires/2023/ti-3214/membres.pdf").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get("/territoires/2023/ti-3214/members.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "English file name under the French path");
}

#[tokio::test]
async fn the_commune_page_of_soissons_names_its_territory_and_member_in_each_edition() {
    let site = known_sites().into_iter().find(|s| s.insee_com == "02722").expect("Soissons is a known site");
    let member_2019: Vec<String> = {
        let mut reader = csv::Reader::from_path(phase1()).expect("2019 list");
        reader
            .records()
            .map(|r| r.expect("row"))
            .filter(|r| r[3] == *site.epci_siren)
            .map(|r| r[0].to_owned())
            .collect()
    };
    assert_eq!(member_2019.len(), 1, "Soissons's EPCI is in one phase I territory");
    let (status, fr) = page("/communes/02722").await;
    assert_eq!(status, StatusCode::OK);
    assert!(fr.contains("<html lang=\"fr\">"));
    assert!(fr.contains("<title>Soissons (02722) — Territoires d&#39;industrie</title>"));
    assert_eq!(testid(&fr, "name"), "Soissons");
    for (edition, territory) in [("2023", &site.territory_2023), ("2019", &member_2019[0])] {
        let marker = format!("<li data-edition=\"{edition}\">");
        let line = &fr[fr.find(&marker).unwrap_or_else(|| panic!("{edition} answered"))..];
        let line = &line[..line.find("</li>").expect("end")];
        assert!(line.contains("<strong>oui</strong>"), "{line}");
        assert!(line.contains(&format!("href=\"/territoires/{edition}/{territory}\"")), "{line}");
        assert!(
            line.contains(&format!("par son membre <a href=\"/intercommunalites/{}\"", site.epci_siren)),
            "{line}"
        );
        assert!(line.contains("GrandSoissons Agglomération"), "{line}");
    }
    let (status, en) = page("/en/communes/02722").await;
    assert_eq!(status, StatusCode::OK);
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("<strong>yes</strong>"));
    assert!(en.contains("through its member <a href=\"/en/intercommunalities/240200477\""));
    assert!(en.contains("href=\"/?unit=02722&amp;lang=en\""));
}

#[tokio::test]
async fn the_epci_page_lists_its_communes_and_a_commune_out_of_every_territory_says_so() {
    let (status, html) = page("/intercommunalites/240200477").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<li data-edition=\"2023\">"));
    assert!(html.contains("dont elle est elle-même membre"), "the EPCI is a member itself");
    assert!(html.contains("href=\"/communes/02722\">Soissons</a>"), "its communes link to their pages");
    // Paris (INSEE 75056, SIREN 217500016) is in no EPT, and neither it nor its EPCI, the Métropole du
    // Grand Paris (200054781), is in any loaded list.
    for list in [phase2(), phase1(), crate::support::sample()] {
        let text = std::fs::read_to_string(&list).expect("list");
        assert!(!["75056", "217500016", "200054781"].iter().any(|c| text.contains(c)), "{}", list.display());
    }
    let (status, paris) = page("/communes/75056").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        paris.matches("<strong>non</strong>").count(),
        3,
        "no, in each loaded edition (sample, 2023, 2019)"
    );
    assert!(!paris.contains("<strong>oui</strong>"));
    assert!(paris.contains("la commune n&#39;est dans aucun territoire d&#39;industrie de cette édition"));
}

#[tokio::test]
async fn unknown_ids_answer_a_404_page_in_the_right_language() {
    for (uri, lang, says) in [
        ("/territoires/2023/ti-9999", "fr", "Aucun territoire « ti-9999 » dans l&#39;édition « 2023 »."),
        (
            "/en/territories/2023/ti-9999",
            "en",
            "No territory \u{201c}ti-9999\u{201d} in edition \u{201c}2023\u{201d}.",
        ),
        ("/territoires/1999/ti-3214", "fr", "Aucun territoire « ti-3214 » dans l&#39;édition « 1999 »."),
        ("/communes/99999", "fr", "Aucune commune de code INSEE « 99999 »."),
        ("/en/communes/99999", "en", "No commune with INSEE code \u{201c}99999\u{201d}."),
        (
            "/intercommunalites/123456789",
            "fr",
            "Aucune intercommunalité (EPCI ou EPT) de SIREN « 123456789 ».",
        ),
        (
            "/en/territories/2023/ti-9999/members.csv",
            "en",
            "No territory \u{201c}ti-9999\u{201d} in edition \u{201c}2023\u{201d}.",
        ),
    ] {
        let (status, html) = page(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{uri}");
        assert_eq!(testid(&html, "not-found"), says, "{uri}");
    }
    // What the visitor typed comes back escaped.
    let (status, html) = page("/territoires/2023/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn a_unit_asked_at_another_address_is_sent_to_its_own_page() {
    for (uri, to) in [
        ("/intercommunalites/02722", "/communes/02722"),
        ("/communes/240200477", "/intercommunalites/240200477"),
        ("/en/intercommunalities/02722", "/en/communes/02722"),
    ] {
        let (status, headers, _) = get(uri).await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT, "{uri}");
        assert_eq!(headers[header::LOCATION], to, "{uri}");
    }
}
