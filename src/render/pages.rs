//! HTML pages for people, one per territory, EPCI/EPT and commune, in French or English: what the
//! Atlas knows about it, with its outline drawn as inline SVG. Server-rendered and script-free, so a
//! pasted link, a search engine or a printer gets the whole page. Every text from the data is escaped
//! here ([`escape`]); nothing here knows HTTP.

use std::fmt::Write as _;

use geo::{MapCoords, MultiPolygon, Simplify};

use crate::atlas::Atlas;
use crate::atlas::queries::{EditionOverlap, Membership, TerritoryDetail, UnitDetail};
use crate::model::{EditionMeta, UnitKind};

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// French, at `/territoires/...`, `/intercommunalites/...`, `/communes/...`.
    Fr,
    /// English, at `/en/territories/...`, `/en/intercommunalities/...`, `/en/communes/...`.
    En,
}

impl Lang {
    /// The `lang` attribute: `fr` or `en`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The other language.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Fr => Self::En,
            Self::En => Self::Fr,
        }
    }

    fn tr(self, fr: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::Fr => fr,
            Self::En => en,
        }
    }

    /// The page of a territory: `/territoires/2023/ti-3214` or `/en/territories/2023/ti-3214`.
    #[must_use]
    pub fn territory_path(self, edition: &str, id: &str) -> String {
        let base = self.tr("/territoires", "/en/territories");
        format!("{base}/{}/{}", segment(edition), segment(id))
    }

    /// The members of a territory as a file: `.../membres.csv` or `.../members.xlsx`.
    #[must_use]
    pub fn members_path(self, edition: &str, id: &str, extension: &str) -> String {
        format!("{}/{}.{extension}", self.territory_path(edition, id), self.tr("membres", "members"))
    }

    /// The page of a unit: `/intercommunalites/{siren}` for an EPCI or EPT, `/communes/{insee}`.
    #[must_use]
    pub fn unit_path(self, kind: UnitKind, code: &str) -> String {
        let base = match kind {
            UnitKind::Commune => self.tr("/communes", "/en/communes"),
            UnitKind::Epci | UnitKind::Ept => self.tr("/intercommunalites", "/en/intercommunalities"),
        };
        format!("{base}/{}", segment(code))
    }

    /// The map, opened on what a query names (`edition=2023&territory=ti-3214`), in this language.
    fn map_link(self, query: &str) -> String {
        match self {
            Self::Fr => format!("/?{query}"),
            Self::En => format!("/?{query}&lang=en"),
        }
    }

    /// An integer with its thousands grouped: `107 206` (narrow no-break space) or `107,206`.
    #[must_use]
    pub fn int(self, n: u64) -> String {
        let digits = n.to_string();
        let sep = self.tr("\u{202f}", ",");
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    /// A number with one decimal: `1 234,5` or `1,234.5`.
    #[must_use]
    pub fn decimal(self, x: f64) -> String {
        let tenths = (x * 10.0).round().max(0.0) as u64;
        format!("{}{}{}", self.int(tenths / 10), self.tr(",", "."), tenths % 10)
    }
}

/// A kind of unit as the pages name it (the same in both languages).
fn kind_label(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Epci => "EPCI",
        UnitKind::Ept => "EPT",
        UnitKind::Commune => "Commune",
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A query value with everything but unreserved characters percent-encoded (`:` and `,` kept).
fn query_value(s: &str) -> String {
    segment(s).replace("%3A", ":").replace("%2C", ",")
}

/// Text made safe for HTML content and attribute values (`& < > " '`).
///
/// ```
/// use territoires::render::pages::escape;
/// assert_eq!(escape("<b>Val d'Oise & \"co\"</b>"), "&lt;b&gt;Val d&#39;Oise &amp; &quot;co&quot;&lt;/b&gt;");
/// ```
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An edition's label in a language, falling back to its id.
fn edition_label(meta: &EditionMeta, lang: Lang) -> String {
    let label = match lang {
        Lang::Fr => &meta.label.fr,
        Lang::En => &meta.label.en,
    };
    if label.is_empty() {
        format!("{} {}", lang.tr("Édition", "Edition"), meta.edition)
    } else {
        label.clone()
    }
}

/// What every page has around its content.
struct Frame<'a> {
    lang: Lang,
    title: &'a str,
    description: &'a str,
    /// This page in the other language.
    alternate: &'a str,
    /// Attribution lines for the footer (already plain text; escaped here).
    credits: Vec<String>,
}

impl Frame<'_> {
    fn wrap(&self, main: &str) -> String {
        let lang = self.lang;
        let (title, description) = (escape(self.title), escape(self.description));
        let mut credits = String::new();
        for c in &self.credits {
            let _ = write!(credits, "<p>{}</p>", escape(c));
        }
        format!(
            "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<meta name=\"description\" content=\"{description}\">\n\
             <meta property=\"og:type\" content=\"website\">\n<meta property=\"og:title\" content=\"{title}\">\n\
             <meta property=\"og:description\" content=\"{description}\">\n\
             <meta property=\"og:locale\" content=\"{locale}\">\n\
             <link rel=\"alternate\" hreflang=\"{other}\" href=\"{alternate}\">\n\
             <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n\
             <link rel=\"stylesheet\" href=\"/tokens.css\">\n<link rel=\"stylesheet\" href=\"/pages.css\">\n</head>\n<body>\n\
             <header class=\"site\"><a class=\"home\" href=\"{home}\">{site}</a>\
             <a class=\"lang\" href=\"{alternate}\" hreflang=\"{other}\" lang=\"{other}\">{other_name}</a></header>\n\
             <main>\n{main}</main>\n<footer>{credits}</footer>\n</body>\n</html>\n",
            code = lang.code(),
            locale = lang.tr("fr_FR", "en_GB"),
            other = lang.other().code(),
            alternate = escape(self.alternate),
            home = lang.tr("/", "/?lang=en"),
            site = lang.tr("Territoires d&#39;industrie — la carte", "Territoires d&#39;industrie — the map"),
            other_name = lang.tr("English", "Français"),
        )
    }
}

/// The footer lines of an edition: attribution, licence, population source.
fn edition_credits(meta: &EditionMeta, lang: Lang) -> Vec<String> {
    attribution_line(meta, lang).into_iter().chain(population_line(meta, lang)).collect()
}

/// "Phase II (2023-2027): ANCT — … (Licence Ouverte …)", when the edition names its attribution.
fn attribution_line(meta: &EditionMeta, lang: Lang) -> Option<String> {
    let a = meta.attribution.as_ref()?;
    let licence = meta.licence.as_ref().map_or(String::new(), |l| format!(" ({})", l.name));
    Some(format!("{}: {a}{licence}", edition_label(meta, lang)))
}

/// "Population 2022: INSEE, …", when the edition names its population source.
fn population_line(meta: &EditionMeta, lang: Lang) -> Option<String> {
    let p = meta.population.as_ref()?;
    Some(format!("{} {}: {}", lang.tr("Population", "Population"), p.year, p.source))
}

/// The answer to "not found", in the page's language: a page that says what was looked for.
#[must_use]
pub fn not_found_page(lang: Lang, what: &str) -> String {
    let title = lang.tr("Page introuvable", "Page not found");
    let main = format!(
        "<h1>{title}</h1>\n<p data-testid=\"not-found\">{}</p>\n<p><a href=\"{}\">{}</a></p>\n",
        escape(what),
        lang.tr("/", "/?lang=en"),
        lang.tr("Retour à la carte", "Back to the map"),
    );
    let alternate = match lang {
        Lang::Fr => "/?lang=en",
        Lang::En => "/",
    };
    Frame { lang, title, description: what, alternate, credits: Vec::new() }.wrap(&main)
}

/// What "not found" says for a territory.
#[must_use]
pub fn territory_not_found(lang: Lang, edition: &str, id: &str) -> String {
    match lang {
        Lang::Fr => format!("Aucun territoire « {id} » dans l'édition « {edition} »."),
        Lang::En => format!("No territory \u{201c}{id}\u{201d} in edition \u{201c}{edition}\u{201d}."),
    }
}

/// What "not found" says for a unit.
#[must_use]
pub fn unit_not_found(lang: Lang, kind: Option<UnitKind>, code: &str) -> String {
    match (lang, kind) {
        (Lang::Fr, Some(UnitKind::Commune)) => format!("Aucune commune de code INSEE « {code} »."),
        (Lang::Fr, _) => format!("Aucune intercommunalité (EPCI ou EPT) de SIREN « {code} »."),
        (Lang::En, Some(UnitKind::Commune)) => format!("No commune with INSEE code \u{201c}{code}\u{201d}."),
        (Lang::En, _) => format!("No intercommunality (EPCI or EPT) with SIREN \u{201c}{code}\u{201d}."),
    }
}

/// One shape of a map: its SVG class, a tooltip, and its outline.
pub(crate) struct Shape<'a> {
    pub(crate) class: String,
    pub(crate) title: Option<String>,
    pub(crate) geometry: &'a MultiPolygon<f64>,
}

/// Width of the drawing in SVG units (the page scales it).
const MAP_SIZE: f64 = 640.0;

/// Shapes drawn to fit `bbox`, in an equirectangular projection at the box's middle latitude (true
/// shapes at these scales), simplified to a third of a unit, coordinates to a tenth.
pub(crate) fn svg_map(label: &str, bbox: [f64; 4], shapes: &[Shape<'_>]) -> String {
    let [w, s, e, n] = bbox;
    let kx = f64::midpoint(s, n).to_radians().cos();
    let span = ((e - w) * kx).max(n - s).max(1e-9);
    let scale = MAP_SIZE / span;
    let pad = 6.0;
    let (width, height) = ((e - w) * kx * scale + 2.0 * pad, (n - s) * scale + 2.0 * pad);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.1} {height:.1}\" role=\"img\" \
         aria-label=\"{}\" data-testid=\"map\">",
        escape(label)
    );
    for shape in shapes {
        let projected = shape
            .geometry
            .map_coords(|c| geo::coord! { x: (c.x - w) * kx * scale + pad, y: (n - c.y) * scale + pad });
        let simplified = projected.simplify(0.3);
        let mut d = String::new();
        for polygon in &simplified {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let _ = write!(d, "{}{:.1} {:.1}", if i == 0 { "M" } else { "L" }, c.x, c.y);
                }
                d.push('Z');
            }
        }
        if d.is_empty() {
            continue;
        }
        let _ = write!(out, "<path class=\"{}\" d=\"{d}\">", escape(&shape.class));
        if let Some(t) = &shape.title {
            let _ = write!(out, "<title>{}</title>", escape(t));
        }
        out.push_str("</path>");
    }
    out.push_str("</svg>");
    out
}

/// `[west, south, east, north]` of shapes, if any has a point.
pub(crate) fn bbox_of<'a>(shapes: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> Option<[f64; 4]> {
    let mut out: Option<[f64; 4]> = None;
    for g in shapes {
        if let Some(r) = geo::BoundingRect::bounding_rect(g) {
            let b = out.get_or_insert([r.min().x, r.min().y, r.max().x, r.max().y]);
            *b = [b[0].min(r.min().x), b[1].min(r.min().y), b[2].max(r.max().x), b[3].max(r.max().y)];
        }
    }
    out
}

/// Number of member colours in `pages.css` (`.m0` to `.m7`).
const PALETTE: usize = 8;

/// The page of territory `id` of `edition`, or `None` when either is unknown.
#[must_use]
pub fn territory_page(atlas: &Atlas, edition: &str, id: &str, lang: Lang) -> Option<String> {
    let detail = atlas.territory_detail(edition, id)?;
    let overlaps = atlas.territory_overlaps(edition, id)?;
    let entry = atlas.edition(edition)?;
    let t = entry.edition.territories.iter().position(|t| t.id.as_str() == id)?;
    let outline = &entry.outlines[t];
    let members: Vec<&crate::model::Unit> =
        entry.edition.territories[t].members.iter().map(|m| atlas.unit(m.unit)).collect();
    let mut shapes: Vec<Shape<'_>> = members
        .iter()
        .enumerate()
        .map(|(i, u)| Shape {
            class: format!("member m{}", i % PALETTE),
            title: Some(u.name.clone()),
            geometry: &u.geometry,
        })
        .collect();
    shapes.push(Shape { class: "outline".into(), title: None, geometry: outline });
    let map = svg_map(
        &format!("{} {}", lang.tr("Carte du territoire", "Map of the territory"), detail.summary.name),
        detail.summary.bbox,
        &shapes,
    );
    let labels: Vec<(String, String)> = atlas
        .editions()
        .iter()
        .map(|e| (e.edition.id.to_string(), edition_label(&e.edition.meta, lang)))
        .collect();
    Some(territory_html(&detail, &entry.edition.meta, &overlaps, &labels, &map, lang))
}

/// The label of edition `id` among `labels`, else the id.
fn label_of<'a>(labels: &'a [(String, String)], id: &'a str) -> &'a str {
    labels.iter().find(|(e, _)| e == id).map_or(id, |(_, l)| l.as_str())
}

/// The territory page from its parts (pure, so tests can feed it any text).
fn territory_html(
    d: &TerritoryDetail,
    meta: &EditionMeta,
    overlaps: &[EditionOverlap],
    labels: &[(String, String)],
    map: &str,
    lang: Lang,
) -> String {
    let s = &d.summary;
    let label = edition_label(meta, lang);
    let year = meta.population.as_ref().map_or(String::new(), |p| format!(" ({})", p.year));
    let region = s.region_name.map_or_else(|| s.region.clone().unwrap_or_default(), str::to_owned);
    let mut main = String::new();
    let _ = write!(
        main,
        "<p class=\"kicker\">{} · {}</p>\n<h1 data-testid=\"name\">{}</h1>\n<dl class=\"facts\">\n",
        lang.tr("Territoire d&#39;industrie", "Industrial territory"),
        escape(&label),
        escape(&s.name),
    );
    let mut fact = |term: &str, value: String, testid: &str| {
        let _ = writeln!(main, "<dt>{term}</dt><dd data-testid=\"{testid}\">{value}</dd>");
    };
    fact(lang.tr("Code", "Code"), escape(&s.id), "code");
    let mut edition_text = escape(&label);
    if let Some(p) = &meta.period
        && !label.contains(p.as_str())
    {
        let _ = write!(edition_text, ", {}", escape(p));
    }
    if let Some(date) = &meta.list_date {
        let _ = write!(edition_text, "{} {}", lang.tr(", liste du", ", list of"), escape(date));
    }
    fact(lang.tr("Édition", "Edition"), edition_text, "edition");
    fact(lang.tr("Région", "Region"), escape(&region), "region");
    fact(lang.tr("Superficie", "Area"), format!("{} km²", lang.decimal(s.area_km2)), "area");
    fact(lang.tr("Membres", "Members"), lang.int(s.members as u64), "members");
    fact(lang.tr("Communes", "Communes"), lang.int(u64::from(s.communes)), "communes");
    fact(&format!("{}{year}", lang.tr("Population", "Population")), lang.int(s.population), "population");
    main.push_str("</dl>\n");
    let _ = writeln!(
        main,
        "<figure class=\"map\">{map}<figcaption>{}</figcaption></figure>",
        lang.tr(
            "Le territoire (trait épais) et ses membres (couleurs du tableau).",
            "The territory (thick line) and its members (colours as in the table)."
        )
    );
    // Members.
    let _ = write!(
        main,
        "<section aria-labelledby=\"members-title\">\n<h2 id=\"members-title\">{}</h2>\n\
         <p class=\"downloads\">{} <a href=\"{}\" download data-testid=\"download-csv\">CSV</a> · \
         <a href=\"{}\" download data-testid=\"download-xlsx\">XLSX</a></p>\n\
         <div class=\"table-wrap\"><table class=\"members\" data-testid=\"members\">\n<thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">SIREN</th>\
         <th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        lang.tr("Membres", "Members"),
        lang.tr("Télécharger les membres :", "Download the members:"),
        escape(&lang.members_path(&s.edition, &s.id, "csv")),
        escape(&lang.members_path(&s.edition, &s.id, "xlsx")),
        lang.tr("Type", "Kind"),
        lang.tr("Nom", "Name"),
        lang.tr("Communes", "Communes"),
        lang.tr("Population", "Population"),
    );
    for (i, m) in d.member_list.iter().enumerate() {
        let _ = writeln!(
            main,
            "<tr data-code=\"{code}\"><td><span class=\"swatch m{c}\" aria-hidden=\"true\"></span>{kind}</td>\
             <td><a href=\"{href}\">{name}</a></td><td>{siren}</td><td class=\"num\">{communes}</td>\
             <td class=\"num\">{population}</td></tr>",
            code = escape(&m.code),
            c = i % PALETTE,
            kind = kind_label(m.kind),
            href = escape(&lang.unit_path(m.kind, &m.code)),
            name = escape(&m.name),
            siren = escape(m.siren.as_deref().unwrap_or("")),
            communes = lang.int(u64::from(m.figures.communes)),
            population = lang.int(m.figures.population),
        );
    }
    let _ = write!(
        main,
        "</tbody>\n<tfoot><tr><th scope=\"row\" colspan=\"3\">{}</th><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td></tr></tfoot>\n</table></div>\n</section>\n",
        lang.tr("Territoire", "Territory"),
        lang.int(u64::from(s.communes)),
        lang.int(s.population),
    );
    // The same place in the other editions.
    if !overlaps.is_empty() {
        let _ = write!(
            main,
            "<section aria-labelledby=\"other-title\" data-testid=\"other-editions\">\n<h2 id=\"other-title\">{}</h2>\n",
            lang.tr("Les mêmes communes dans les autres éditions", "The same communes in the other editions"),
        );
        for o in overlaps {
            let _ = write!(
                main,
                "<h3>{}</h3>\n<ul data-edition=\"{}\">\n",
                escape(label_of(labels, &o.edition)),
                escape(&o.edition)
            );
            for share in &o.territories {
                let _ = writeln!(
                    main,
                    "<li><a href=\"{}\">{}</a> ({}){} {}</li>",
                    escape(&lang.territory_path(&o.edition, &share.id)),
                    escape(&share.name),
                    escape(&share.id),
                    lang.tr("\u{a0}:", ":"),
                    of_communes(lang, share.communes, s.communes),
                );
            }
            if o.territories.is_empty() {
                let _ = writeln!(
                    main,
                    "<li>{}</li>",
                    lang.tr(
                        "Aucune de ces communes n&#39;était dans un territoire d&#39;industrie.",
                        "None of these communes was in an industrial territory."
                    )
                );
            } else if o.unlabelled_communes > 0 {
                let _ = writeln!(
                    main,
                    "<li>{} {}</li>",
                    of_communes(lang, o.unlabelled_communes, s.communes),
                    lang.tr("dans aucun territoire d&#39;industrie", "in no industrial territory"),
                );
            }
            main.push_str("</ul>\n");
        }
        main.push_str("</section>\n");
    }
    let map_query = format!("edition={}&territory={}", query_value(&s.edition), query_value(&s.id));
    let _ = writeln!(
        main,
        "<p class=\"back\"><a href=\"{}\" data-testid=\"map-link\">{}</a></p>",
        escape(&lang.map_link(&map_query)),
        lang.tr("Voir le territoire sur la carte", "See the territory on the map"),
    );
    let title =
        format!("{} — {} · {}", s.name, lang.tr("Territoire d'industrie", "Industrial territory"), label);
    let (name, members) = (&s.name, s.members);
    let (communes, population) = (lang.int(u64::from(s.communes)), lang.int(s.population));
    let description = match lang {
        Lang::Fr => format!(
            "{name} ({region}), territoire d'industrie de l'édition {label} : {members} membres, \
             {communes} communes, {population} habitants{year}."
        ),
        Lang::En => format!(
            "{name} ({region}), industrial territory of edition {label}: {members} members, \
             {communes} communes, population {population}{year}."
        ),
    };
    Frame {
        lang,
        title: &title,
        description: &description,
        alternate: &lang.other().territory_path(&s.edition, &s.id),
        credits: edition_credits(meta, lang),
    }
    .wrap(&main)
}

/// "12 des 164 communes" / "12 of the 164 communes".
fn of_communes(lang: Lang, n: u32, total: u32) -> String {
    match lang {
        Lang::Fr => format!("{} des {} communes", lang.int(u64::from(n)), lang.int(u64::from(total))),
        Lang::En => format!("{} of the {} communes", lang.int(u64::from(n)), lang.int(u64::from(total))),
    }
}

/// The page of an EPCI, EPT or commune by SIREN or INSEE code, or `None` when no unit has that code.
#[must_use]
pub fn unit_page(atlas: &Atlas, code: &str, lang: Lang) -> Option<String> {
    let detail = atlas.unit_detail(code)?;
    let u = atlas.unit_index(code)?;
    let unit = atlas.unit(u);
    let editions: Vec<(String, String)> = atlas
        .editions()
        .iter()
        .map(|e| (e.edition.id.to_string(), edition_label(&e.edition.meta, lang)))
        .collect();
    let (map, extra) = if unit.kind == UnitKind::Commune {
        let parents: Vec<&crate::model::Unit> = atlas.parents_of(u).iter().map(|&p| atlas.unit(p)).collect();
        let mut shapes: Vec<Shape<'_>> = parents
            .iter()
            .map(|p| Shape { class: "context".into(), title: Some(p.name.clone()), geometry: &p.geometry })
            .collect();
        shapes.push(Shape {
            class: "focus".into(),
            title: Some(unit.name.clone()),
            geometry: &unit.geometry,
        });
        let bbox = bbox_of(shapes.iter().map(|s| s.geometry));
        (bbox.map(|b| svg_map(&map_label(lang, &unit.name), b, &shapes)), String::new())
    } else {
        let communes: Vec<&crate::model::Unit> =
            atlas.communes_of(u).iter().map(|&c| atlas.unit(c)).collect();
        let mut shapes: Vec<Shape<'_>> = communes
            .iter()
            .map(|c| Shape { class: "commune".into(), title: Some(c.name.clone()), geometry: &c.geometry })
            .collect();
        shapes.push(Shape { class: "outline".into(), title: None, geometry: &unit.geometry });
        let bbox = bbox_of(std::iter::once(&*unit.geometry));
        let map = bbox.map(|b| svg_map(&map_label(lang, &unit.name), b, &shapes));
        (map, commune_table(atlas, u, &editions, lang))
    };
    let credits: Vec<String> = atlas
        .editions()
        .iter()
        .filter_map(|e| attribution_line(&e.edition.meta, lang))
        .chain(atlas.editions().iter().find_map(|e| population_line(&e.edition.meta, lang)))
        .collect();
    Some(unit_html(&detail, &editions, map.as_deref(), &extra, credits, lang))
}

fn map_label(lang: Lang, name: &str) -> String {
    format!("{} {name}", lang.tr("Carte de", "Map of"))
}

/// The communes of an EPCI or EPT with, per edition, the territory each is in.
fn commune_table(
    atlas: &Atlas,
    u: crate::model::UnitIx,
    editions: &[(String, String)],
    lang: Lang,
) -> String {
    let mut out = format!(
        "<section aria-labelledby=\"communes-title\">\n<h2 id=\"communes-title\">{}</h2>\n\
         <div class=\"table-wrap\"><table class=\"communes\" data-testid=\"communes-table\">\n<thead><tr>\
         <th scope=\"col\">{}</th><th scope=\"col\">INSEE</th><th scope=\"col\" class=\"num\">{}</th>",
        lang.tr("Communes", "Communes"),
        lang.tr("Commune", "Commune"),
        lang.tr("Population", "Population"),
    );
    for (_, label) in editions {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(label));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let mut communes: Vec<crate::model::UnitIx> = atlas.communes_of(u).to_vec();
    communes.sort_by(|a, b| {
        crate::text::fold(&atlas.unit(*a).name).cmp(&crate::text::fold(&atlas.unit(*b).name))
    });
    for c in communes {
        let commune = atlas.unit(c);
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td>",
            escape(&lang.unit_path(UnitKind::Commune, commune.code())),
            escape(&commune.name),
            escape(commune.code()),
            lang.int(atlas.unit_figures(c).population),
        );
        for entry in atlas.editions() {
            let mut ids: Vec<&str> = std::iter::once(c)
                .chain(atlas.parents_of(c).iter().copied())
                .flat_map(|v| entry.territories_of_unit(v).iter().map(|&t| entry.territory(t).id.as_str()))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let cells: Vec<String> = ids
                .iter()
                .map(|id| {
                    format!(
                        "<a href=\"{}\">{}</a>",
                        escape(&lang.territory_path(entry.edition.id.as_str(), id)),
                        escape(id)
                    )
                })
                .collect();
            let _ =
                write!(out, "<td>{}</td>", if cells.is_empty() { "—".to_owned() } else { cells.join(", ") });
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
    out
}

/// The answer line of one edition: in which territory, through which member, or not labelled.
fn membership_line(lang: Lang, subject_is_commune: bool, own_code: &str, found: &[&Membership]) -> String {
    if found.is_empty() {
        return match (lang, subject_is_commune) {
            (Lang::Fr, true) => "<strong>non</strong> : la commune n&#39;est dans aucun territoire d&#39;industrie de cette édition.".into(),
            (Lang::Fr, false) => "<strong>non</strong> : elle n&#39;est membre d&#39;aucun territoire d&#39;industrie de cette édition.".into(),
            (Lang::En, true) => "<strong>no</strong>: the commune is in no industrial territory of this edition.".into(),
            (Lang::En, false) => "<strong>no</strong>: it is a member of no industrial territory of this edition.".into(),
        };
    }
    let mut out = format!("<strong>{}</strong>", lang.tr("oui", "yes"));
    for (i, m) in found.iter().enumerate() {
        out.push_str(if i == 0 { lang.tr("\u{a0}: ", ": ") } else { "; " });
        let _ = write!(
            out,
            "<a href=\"{}\" data-testid=\"territory-link\">{}</a> ({})",
            escape(&lang.territory_path(&m.edition, &m.id)),
            escape(&m.name),
            escape(&m.id)
        );
        if m.via.code == own_code {
            out.push_str(lang.tr(", dont elle est elle-même membre", ", of which it is itself a member"));
        } else {
            let _ = write!(
                out,
                "{} <a href=\"{}\" data-testid=\"via-link\">{}</a> ({} {})",
                lang.tr(", par son membre", ", through its member"),
                escape(&lang.unit_path(m.via.kind, &m.via.code)),
                escape(&m.via.name),
                kind_label(m.via.kind),
                escape(&m.via.code),
            );
        }
    }
    out.push('.');
    out
}

/// The unit page from its parts (pure).
fn unit_html(
    d: &UnitDetail,
    editions: &[(String, String)],
    map: Option<&str>,
    extra: &str,
    credits: Vec<String>,
    lang: Lang,
) -> String {
    let is_commune = d.unit.kind == UnitKind::Commune;
    let kicker = match d.unit.kind {
        UnitKind::Commune => lang.tr("Commune", "Commune").to_owned(),
        UnitKind::Epci => {
            format!("{} ({})", lang.tr("Intercommunalité", "Intercommunality"), escape(&d.legal_form))
        }
        UnitKind::Ept => {
            lang.tr("Établissement public territorial", "Public territorial establishment").to_owned()
        }
    };
    let mut main = format!(
        "<p class=\"kicker\">{kicker}</p>\n<h1 data-testid=\"name\">{}</h1>\n\
         <section class=\"answer\" aria-labelledby=\"answer-title\" data-testid=\"answer\">\n<h2 id=\"answer-title\">{}</h2>\n<ul>\n",
        escape(&d.unit.name),
        if is_commune {
            lang.tr("Dans un territoire d&#39;industrie ?", "In an industrial territory?")
        } else {
            lang.tr("Membre d&#39;un territoire d&#39;industrie ?", "A member of an industrial territory?")
        },
    );
    let mut yes = Vec::new();
    for (id, label) in editions {
        let found: Vec<&Membership> = d.territories.iter().filter(|m| &m.edition == id).collect();
        if !found.is_empty() {
            yes.push(label.clone());
        }
        let _ = writeln!(
            main,
            "<li data-edition=\"{}\">{}{} {}</li>",
            escape(id),
            escape(label),
            lang.tr("\u{a0}:", ":"),
            membership_line(lang, is_commune, &d.unit.code, &found),
        );
    }
    main.push_str("</ul>\n</section>\n<dl class=\"facts\">\n");
    let mut fact = |term: &str, value: String| {
        let _ = writeln!(main, "<dt>{term}</dt><dd>{value}</dd>");
    };
    if let Some(insee) = &d.insee {
        fact(lang.tr("Code INSEE", "INSEE code"), escape(insee));
    }
    if let Some(siren) = &d.siren {
        fact("SIREN", escape(siren));
    }
    if !is_commune {
        fact(lang.tr("Communes", "Communes"), lang.int(u64::from(d.communes.unwrap_or(0))));
    }
    if let Some(p) = d.population {
        fact(lang.tr("Population", "Population"), lang.int(p));
    }
    for p in &d.parents {
        fact(
            kind_label(p.kind),
            format!("<a href=\"{}\">{}</a>", escape(&lang.unit_path(p.kind, &p.code)), escape(&p.name)),
        );
    }
    main.push_str("</dl>\n");
    if let Some(map) = map {
        let caption = if is_commune {
            lang.tr(
                "La commune (en couleur) dans son intercommunalité.",
                "The commune (coloured) in its intercommunality.",
            )
        } else {
            lang.tr(
                "L&#39;intercommunalité (trait épais) et ses communes.",
                "The intercommunality (thick line) and its communes.",
            )
        };
        let _ = writeln!(main, "<figure class=\"map\">{map}<figcaption>{caption}</figcaption></figure>");
    }
    main.push_str(extra);
    let _ = writeln!(
        main,
        "<p class=\"back\"><a href=\"{}\" data-testid=\"map-link\">{}</a></p>",
        escape(&lang.map_link(&format!("unit={}", query_value(&d.unit.code)))),
        lang.tr("Voir sur la carte", "See it on the map"),
    );
    let title = match (lang, d.unit.kind) {
        (Lang::Fr, UnitKind::Commune) => {
            format!("{} ({}) — Territoires d'industrie", d.unit.name, d.unit.code)
        }
        (Lang::En, UnitKind::Commune) => {
            format!("{} ({}) — Industrial territories", d.unit.name, d.unit.code)
        }
        (Lang::Fr, _) => format!("{} — Territoires d'industrie", d.unit.name),
        (Lang::En, _) => format!("{} — Industrial territories", d.unit.name),
    };
    let description = match (lang, yes.is_empty()) {
        (Lang::Fr, true) => format!("{} n'est dans aucun territoire d'industrie.", d.unit.name),
        (Lang::Fr, false) => {
            format!("{} est dans un territoire d'industrie : {}.", d.unit.name, yes.join(", "))
        }
        (Lang::En, true) => format!("{} is in no industrial territory.", d.unit.name),
        (Lang::En, false) => format!("{} is in an industrial territory: {}.", d.unit.name, yes.join(", ")),
    };
    Frame {
        lang,
        title: &title,
        description: &description,
        alternate: &lang.other().unit_path(d.unit.kind, &d.unit.code),
        credits,
    }
    .wrap(&main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::UnitRef;
    use crate::atlas::queries::{MemberInfo, TerritorySummary};
    use crate::figures::Figures;

    #[test]
    fn numbers_are_grouped_per_language() {
        assert_eq!(Lang::Fr.int(107_206), "107\u{202f}206");
        assert_eq!(Lang::En.int(107_206), "107,206");
        assert_eq!(Lang::En.int(1_234_567), "1,234,567");
        assert_eq!(Lang::Fr.int(999), "999");
        assert_eq!(Lang::Fr.decimal(1234.56), "1\u{202f}234,6");
        assert_eq!(Lang::En.decimal(0.04), "0.0");
    }

    #[test]
    fn paths_encode_their_segments() {
        assert_eq!(Lang::Fr.territory_path("2023", "ti-3214"), "/territoires/2023/ti-3214");
        assert_eq!(Lang::En.territory_path("2023", "a b/c"), "/en/territories/2023/a%20b%2Fc");
        assert_eq!(
            Lang::En.members_path("2023", "ti-3214", "xlsx"),
            "/en/territories/2023/ti-3214/members.xlsx"
        );
        assert_eq!(Lang::Fr.unit_path(UnitKind::Epci, "240200477"), "/intercommunalites/240200477");
        assert_eq!(Lang::En.unit_path(UnitKind::Commune, "02722"), "/en/communes/02722");
    }

    fn hostile() -> TerritoryDetail {
        let evil = "<script>alert(\"x\")</script> & d'Oc".to_owned();
        TerritoryDetail {
            summary: TerritorySummary {
                edition: "2023".into(),
                id: "ti-<b>".into(),
                name: evil.clone(),
                region: Some("32".into()),
                region_name: Some("Hauts-de-France"),
                members: 1,
                area_km2: 12.34,
                communes: 2,
                population: 1234,
                bbox: [3.0, 49.0, 3.1, 49.1],
                matched_member: None,
            },
            member_list: vec![MemberInfo {
                kind: UnitKind::Epci,
                code: "200000000".into(),
                siren: Some("200000000".into()),
                name: evil.clone(),
                listed_name: evil,
                population: Some(1234),
                figures: Figures { communes: 2, population: 1234 },
            }],
        }
    }

    #[test]
    fn every_text_from_the_data_is_escaped() {
        let d = hostile();
        let mut meta = EditionMeta::fallback(&crate::model::EditionId::parse("2023").expect("id"));
        meta.label.fr = "<i>Phase</i>".into();
        let overlaps = vec![EditionOverlap {
            edition: "2019".into(),
            territories: vec![crate::atlas::queries::TerritoryShare {
                id: "x\"y".into(),
                name: "<img src=x onerror=alert(1)>".into(),
                communes: 1,
            }],
            unlabelled_communes: 1,
        }];
        let html = territory_html(&d, &meta, &overlaps, &[], "<svg></svg>", Lang::Fr);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<i>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; d&#39;Oc"));
        assert!(html.contains("/territoires/2019/x%22y"), "ids are percent-encoded in links");
        assert!(html.contains("<html lang=\"fr\">"));
        assert!(html.contains("1\u{202f}234"));
        let unit = UnitDetail {
            unit: UnitRef { kind: UnitKind::Commune, code: "02722".into(), name: "<u>Soissons</u>".into() },
            siren: None,
            insee: Some("02722".into()),
            legal_form: "COM".into(),
            population: Some(1),
            communes: Some(1),
            bbox: None,
            parents: vec![],
            territories: vec![],
        };
        let html =
            unit_html(&unit, &[("2023".into(), "<em>".into())], None, "", vec!["<s>".into()], Lang::En);
        assert!(!html.contains("<u>") && !html.contains("<em>") && !html.contains("<s>"), "{html}");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("<strong>no</strong>"));
        let missing = not_found_page(Lang::En, "<script>");
        assert!(!missing.contains("<script>") && missing.contains("&lt;script&gt;"));
    }
}
