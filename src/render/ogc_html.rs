//! HTML for people of the OGC API (`text/html` or `?f=html`), as pygeoapi and ldproxy give it: the landing
//! page, the collections, one collection, a page of items and one feature, each readable in a browser with
//! its links, its properties in a table and, for features, a small map drawn on the server (SVG, no
//! script, nothing fetched elsewhere). The JSON documents stay the source: these pages are built from them.

use std::fmt::Write as _;

use geo::MultiPolygon;
use serde_json::{Map, Value};

use super::pages::{Shape, bbox_of, escape, svg_map};

/// A link of a JSON document, drawn as `<a>` (its title, else its relation).
fn link_list(links: &[Value], skip_self: bool) -> String {
    let mut out = String::from("<ul class=\"links\">\n");
    for l in links {
        let rel = l["rel"].as_str().unwrap_or("");
        if skip_self && rel == "self" {
            continue;
        }
        let href = l["href"].as_str().unwrap_or("");
        let title = l["title"].as_str().unwrap_or(rel);
        let kind = l["type"].as_str().unwrap_or("");
        let _ = writeln!(
            out,
            "<li><a href=\"{}\">{}</a> <small>{} {}</small></li>",
            escape(href),
            escape(title),
            escape(rel.rsplit('/').next().unwrap_or(rel)),
            escape(kind)
        );
    }
    out.push_str("</ul>\n");
    out
}

fn page(title: &str, description: &str, breadcrumbs: &[(&str, String)], main: &str) -> String {
    let mut crumbs = String::from("<nav aria-label=\"Breadcrumb\"><ol class=\"crumbs\">");
    for (name, href) in breadcrumbs {
        let _ = write!(crumbs, "<li><a href=\"{}\">{}</a></li>", escape(href), escape(name));
    }
    crumbs.push_str("</ol></nav>\n");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<meta name=\"description\" content=\"{description}\">\n\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"/tokens.css\">\n<link rel=\"stylesheet\" href=\"/pages.css\">\n</head>\n<body>\n\
         <header class=\"site\"><a class=\"home\" href=\"/\">Territoires d&#39;industrie — the map</a>\
         <a class=\"lang\" href=\"/ogc\">OGC API</a></header>\n<main>\n{crumbs}{main}</main>\n</body>\n</html>\n",
        title = escape(title),
        description = escape(description),
    )
}

/// A JSON value as table text.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

fn properties_table(properties: &Map<String, Value>) -> String {
    let mut out = String::from("<table class=\"properties\">\n<tbody>\n");
    for (k, v) in properties {
        let _ = writeln!(out, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>", escape(k), cell(v));
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The landing page.
#[must_use]
pub fn landing(doc: &Value) -> String {
    let title = doc["title"].as_str().unwrap_or("OGC API");
    let description = doc["description"].as_str().unwrap_or("");
    let links = doc["links"].as_array().map_or(&[][..], Vec::as_slice);
    let main = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<h2>Links</h2>\n{}",
        escape(title),
        escape(description),
        link_list(links, true)
    );
    page(title, description, &[("OGC API", "/ogc".into())], &main)
}

/// The conformance classes.
#[must_use]
pub fn conformance(classes: &[&str]) -> String {
    let mut main = String::from("<h1>Conformance classes</h1>\n<ul class=\"links\">\n");
    for c in classes {
        let _ = writeln!(main, "<li><code>{}</code></li>", escape(c));
    }
    main.push_str("</ul>\n");
    page(
        "Conformance classes",
        "The OGC requirement classes this API implements",
        &[("OGC API", "/ogc".into())],
        &main,
    )
}

/// The list of collections.
#[must_use]
pub fn collections(doc: &Value) -> String {
    let mut main = String::from(
        "<h1>Collections</h1>\n<table class=\"collections\">\n<thead><tr><th scope=\"col\">Collection</th>\
         <th scope=\"col\">Description</th><th scope=\"col\">Data</th></tr></thead>\n<tbody>\n",
    );
    for c in doc["collections"].as_array().map_or(&[][..], Vec::as_slice) {
        let id = c["id"].as_str().unwrap_or("");
        let _ = writeln!(
            main,
            "<tr><td><a href=\"/ogc/collections/{id}?f=html\">{}</a></td><td>{}</td>\
             <td><a href=\"/ogc/collections/{id}/items?f=html\">items</a> · \
             <a href=\"/ogc/collections/{id}/items\">GeoJSON</a></td></tr>",
            cell(&c["title"]),
            cell(&c["description"]),
            id = escape(id),
        );
    }
    main.push_str("</tbody>\n</table>\n");
    page("Collections", "Every collection of the API", &[("OGC API", "/ogc".into())], &main)
}

/// One collection.
#[must_use]
pub fn collection(doc: &Value) -> String {
    let id = doc["id"].as_str().unwrap_or("");
    let title = doc["title"].as_str().unwrap_or(id);
    let description = doc["description"].as_str().unwrap_or("");
    let bbox = &doc["extent"]["spatial"]["bbox"][0];
    let crs: Vec<String> = doc["crs"].as_array().map_or_else(Vec::new, |a| {
        a.iter().filter_map(Value::as_str).map(|s| format!("<code>{}</code>", escape(s))).collect()
    });
    let mut main = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<dl class=\"facts\">\n<dt>Id</dt><dd><code>{}</code></dd>\n\
         <dt>Extent (CRS84)</dt><dd>{}</dd>\n<dt>Coordinate systems</dt><dd>{}</dd>\n",
        escape(title),
        escape(description),
        escape(id),
        cell(bbox),
        crs.join(", ")
    );
    if let Some(a) = doc["attribution"].as_str() {
        let _ = writeln!(main, "<dt>Attribution</dt><dd>{}</dd>", escape(a));
    }
    main.push_str("</dl>\n");
    let _ = writeln!(
        main,
        "<p><a href=\"/ogc/collections/{0}/items?f=html\">Browse the items</a></p>",
        escape(id)
    );
    main.push_str("<h2>Links</h2>\n");
    main.push_str(&link_list(doc["links"].as_array().map_or(&[][..], Vec::as_slice), true));
    let crumbs = [("OGC API", "/ogc".to_owned()), ("Collections", "/ogc/collections?f=html".to_owned())];
    page(title, description, &crumbs, &main)
}

/// The name a feature is shown by: its `name` property, else its id.
fn feature_name(f: &Value) -> String {
    f["properties"]["name"].as_str().or_else(|| f["id"].as_str()).unwrap_or("").to_owned()
}

/// A page of items: the features' names and main properties in a table, on a map, with the paging links.
/// `geometries` are the page's features in CRS84 (the JSON may be in another `crs`).
#[must_use]
pub fn items(
    collection_id: &str,
    collection_title: &str,
    doc: &Value,
    geometries: &[&MultiPolygon<f64>],
) -> String {
    let features = doc["features"].as_array().map_or(&[][..], Vec::as_slice);
    let keys: Vec<String> = features
        .first()
        .and_then(|f| f["properties"].as_object())
        // The short properties: lists of codes belong on the feature's own page.
        .map(|p| {
            p.keys()
                .filter(|k| !matches!(k.as_str(), "name" | "member_codes" | "parents"))
                .take(6)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let shapes: Vec<Shape<'_>> = geometries
        .iter()
        .zip(features)
        .enumerate()
        .map(|(i, (g, f))| Shape { class: format!("m{}", i % 8), title: Some(feature_name(f)), geometry: g })
        .collect();
    let map = bbox_of(geometries.iter().copied()).map_or_else(String::new, |b| {
        format!(
            "<figure class=\"map\">{}</figure>\n",
            svg_map(&format!("Map of {collection_title}"), b, &shapes)
        )
    });
    let mut main = format!(
        "<h1>{}</h1>\n<p>{} of {} features.</p>\n{map}<table class=\"items\">\n<thead><tr><th scope=\"col\">Feature</th>",
        escape(collection_title),
        doc["numberReturned"],
        doc["numberMatched"],
    );
    for k in &keys {
        let _ = write!(main, "<th scope=\"col\">{}</th>", escape(k));
    }
    main.push_str("</tr></thead>\n<tbody>\n");
    for f in features {
        let id = f["id"].as_str().unwrap_or("");
        let _ = write!(
            main,
            "<tr><td><a href=\"/ogc/collections/{}/items/{}?f=html\">{}</a></td>",
            escape(collection_id),
            escape(id),
            escape(&feature_name(f))
        );
        for k in &keys {
            let _ = write!(main, "<td>{}</td>", cell(&f["properties"][k]));
        }
        main.push_str("</tr>\n");
    }
    main.push_str("</tbody>\n</table>\n<nav aria-label=\"Pages\"><ul class=\"links\">\n");
    for l in doc["links"].as_array().map_or(&[][..], Vec::as_slice) {
        let rel = l["rel"].as_str().unwrap_or("");
        if rel == "next" || rel == "prev" {
            let href = l["href"].as_str().unwrap_or("");
            let sep = if href.contains('?') { '&' } else { '?' };
            let _ = writeln!(
                main,
                "<li><a rel=\"{rel}\" href=\"{}{sep}f=html\">{}</a></li>",
                escape(href),
                if rel == "next" { "Next page" } else { "Previous page" }
            );
        }
    }
    main.push_str("</ul></nav>\n");
    let crumbs = [
        ("OGC API", "/ogc".to_owned()),
        ("Collections", "/ogc/collections?f=html".to_owned()),
        (collection_title, format!("/ogc/collections/{collection_id}?f=html")),
    ];
    page(&format!("{collection_title}: items"), &format!("Features of {collection_title}"), &crumbs, &main)
}

/// One feature: its properties and its outline on a map.
#[must_use]
pub fn feature(
    collection_id: &str,
    collection_title: &str,
    doc: &Value,
    geometry: &MultiPolygon<f64>,
) -> String {
    let name = feature_name(doc);
    let shapes = [Shape { class: "m0".into(), title: Some(name.clone()), geometry }];
    let map = bbox_of([geometry]).map_or_else(String::new, |b| {
        format!("<figure class=\"map\">{}</figure>\n", svg_map(&format!("Map of {name}"), b, &shapes))
    });
    let properties = doc["properties"].as_object().cloned().unwrap_or_default();
    let main = format!(
        "<h1>{}</h1>\n<p><code>{}</code> in {}</p>\n{map}{}<p><a href=\"/ogc/collections/{}/items/{}\">GeoJSON</a></p>\n",
        escape(&name),
        cell(&doc["id"]),
        escape(collection_title),
        properties_table(&properties),
        escape(collection_id),
        cell(&doc["id"]),
    );
    let crumbs = [
        ("OGC API", "/ogc".to_owned()),
        ("Collections", "/ogc/collections?f=html".to_owned()),
        (collection_title, format!("/ogc/collections/{collection_id}?f=html")),
        ("Items", format!("/ogc/collections/{collection_id}/items?f=html")),
    ];
    page(
        &format!("{name} — {collection_title}"),
        &format!("{name}, a feature of {collection_title}"),
        &crumbs,
        &main,
    )
}
