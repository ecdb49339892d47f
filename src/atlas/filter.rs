//! Filtering a collection's features with CQL2 (OGC API – Features Part 3): the queryables of each
//! collection, and a CQL2 expression (text or JSON, parsed by the `cql2` crate) compiled against them into
//! a tree that is evaluated on the Atlas's own features. Compiling checks every property name, operator and
//! literal type first, so a filter that cannot mean anything is refused, never answered with nothing.

use std::cmp::Ordering;

use geo::{BoundingRect, Intersects, MapCoordsInPlace, MultiPolygon, Rect, Relate};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use super::Atlas;
use super::features::Source;
use crate::source::crs::{Crs, OgcCrs, Reprojection};

/// The JSON type of a queryable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// The feature's (multi)polygon.
    Geometry,
}

/// A property one may filter and sort on.
#[derive(Debug, Clone, Copy)]
pub struct Queryable {
    /// Its name, as in the features' properties (`geometry` for the geometry).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// What it holds.
    pub description: &'static str,
    /// Whether it may be null.
    pub nullable: bool,
}

const fn q(name: &'static str, kind: Kind, description: &'static str) -> Queryable {
    Queryable { name, kind, description, nullable: false }
}

const TERRITORY_QUERYABLES: [Queryable; 10] = [
    q("geometry", Kind::Geometry, "The territory's outline (MultiPolygon, CRS84)"),
    q("edition", Kind::String, "Edition of the territory list (2023: phase II, 2019: phase I)"),
    q("id", Kind::String, "Territory code, ti-RRNN (not stable from one edition to the next)"),
    q("name", Kind::String, "Territory name, as ANCT publishes it"),
    Queryable {
        name: "region",
        kind: Kind::String,
        description: "INSEE code of the territory's region (COG 2024), e.g. '32'",
        nullable: true,
    },
    q("members", Kind::Integer, "Number of members (EPCI, EPT or communes)"),
    q("member_codes", Kind::String, "SIRENs or INSEE codes of the members, ';'-separated"),
    q("area_km2", Kind::Number, "Area in km², geodesic"),
    q("communes", Kind::Integer, "Number of communes"),
    q("population", Kind::Integer, "Municipal population of its communes"),
];

const UNIT_QUERYABLES: [Queryable; 10] = [
    q("geometry", Kind::Geometry, "The unit's outline (MultiPolygon, CRS84)"),
    q("kind", Kind::String, "EPCI, EPT or COM"),
    q("code", Kind::String, "SIREN (EPCI, EPT) or INSEE code (commune)"),
    Queryable { name: "siren", kind: Kind::String, description: "SIREN, when it has one", nullable: true },
    q("name", Kind::String, "Name"),
    q("type", Kind::String, "Legal form (CA, CC, CU, METRO, MET69, EPT, COM)"),
    q("communes", Kind::Integer, "Number of communes"),
    q("population", Kind::Integer, "Municipal population"),
    q("parents", Kind::String, "SIRENs of the EPCI and EPT it belongs to, ';'-separated"),
    q("area_km2", Kind::Number, "Area in km², geodesic"),
];

/// The queryables of a collection, geometry first.
#[must_use]
pub fn queryables(source: Source) -> &'static [Queryable] {
    match source {
        Source::Territories(_) => &TERRITORY_QUERYABLES,
        Source::Units(_) => &UNIT_QUERYABLES,
    }
}

/// Why a filter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Not CQL2 text or JSON.
    #[error("not a CQL2 {lang} expression: {message}")]
    Syntax {
        /// `cql2-text` or `cql2-json`.
        lang: &'static str,
        /// What the parser said.
        message: String,
    },
    /// A property that is not a queryable of the collection.
    #[error("unknown property {name:?}; the queryables are {known}")]
    UnknownProperty {
        /// The name used.
        name: String,
        /// The queryables, comma-separated.
        known: String,
    },
    /// An operator or function this server does not evaluate.
    #[error(
        "{0} is not supported (supported: AND, OR, NOT, =, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL, CASEI, ACCENTI, S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS, S_TOUCHES, S_OVERLAPS, S_CROSSES, S_EQUALS)"
    )]
    Unsupported(String),
    /// Operands that cannot be compared (a number with text, a geometry with a number...).
    #[error("{0}")]
    Type(String),
}

/// A compiled filter, ready to evaluate on features of one collection.
#[derive(Debug)]
pub struct Filter {
    root: Node,
}

#[derive(Debug)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Compare(Ordering, bool, Box<Node>, Box<Node>),
    Like(Box<Node>, Vec<char>),
    Between(Box<Node>, Box<Node>, Box<Node>),
    In(Box<Node>, Vec<Node>),
    IsNull(Box<Node>),
    Spatial(Spatial, Box<Node>, Box<Node>),
    CaseI(Box<Node>),
    AccentI(Box<Node>),
    Property(&'static Queryable),
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    Shape(geo::Geometry<f64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spatial {
    Intersects,
    Disjoint,
    Within,
    Contains,
    Touches,
    Overlaps,
    Crosses,
    Equals,
}

/// A value during evaluation.
#[derive(Debug, Clone)]
enum Val<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(std::borrow::Cow<'a, str>),
    Shape(ShapeRef<'a>),
}

#[derive(Debug, Clone)]
enum ShapeRef<'a> {
    Feature(&'a MultiPolygon<f64>),
    Literal(&'a geo::Geometry<f64>),
}

/// The static type of a node, for checking operands before any feature is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Text,
    Number,
    Bool,
    Geometry,
    /// `NULL`: compares with anything (and is never equal).
    Null,
}

impl Filter {
    /// Parses CQL2 text (`lang` `cql2-text`) or JSON (`cql2-json`) and compiles it for a collection; the
    /// geometry literals are in `crs` (`filter-crs`) and are brought to CRS84.
    ///
    /// # Errors
    /// A [`FilterError`] saying what is wrong: syntax, an unknown property, an unsupported operator, or
    /// operands of the wrong type.
    pub fn parse(text: &str, lang: &str, source: Source, crs: OgcCrs) -> Result<Self, FilterError> {
        let expr = match lang {
            "cql2-text" => cql2::parse_text(text)
                .map_err(|e| FilterError::Syntax { lang: "cql2-text", message: e.to_string() })?,
            "cql2-json" => cql2::parse_json(text)
                .map_err(|e| FilterError::Syntax { lang: "cql2-json", message: e.to_string() })?,
            other => {
                return Err(FilterError::Unsupported(format!(
                    "filter-lang={other:?} (use cql2-text or cql2-json)"
                )));
            }
        };
        let reprojection = if crs.crs == Crs::Wgs84 {
            None
        } else {
            Some(Reprojection::new(crs.crs, Crs::Wgs84).map_err(|e| FilterError::Type(e.to_string()))?)
        };
        let compiler = Compiler { queryables: queryables(source), crs, reprojection };
        let root = compiler.node(&expr)?;
        if Compiler::type_of(&root) != Type::Bool {
            return Err(FilterError::Type(
                "a filter must be a condition (true or false for each feature)".into(),
            ));
        }
        Ok(Self { root })
    }

    /// Whether the filter reads this property.
    #[must_use]
    pub fn reads(&self, name: &str) -> bool {
        reads(&self.root, name)
    }

    /// Both this filter and `other`.
    #[must_use]
    pub fn and(self, other: Self) -> Self {
        Self { root: Node::And(vec![self.root, other.root]) }
    }

    /// A box every matching feature's box meets, when the filter says so (a top-level `S_INTERSECTS`,
    /// `S_WITHIN`, `S_EQUALS`, `S_OVERLAPS`, `S_CROSSES` or `S_TOUCHES` with a literal, alone or in an AND):
    /// the features outside it need not be read.
    #[must_use]
    pub fn bbox_hint(&self) -> Option<Rect<f64>> {
        hint(&self.root)
    }

    /// Whether a feature with these properties and geometry passes (SQL's three values: an unknown
    /// comparison, with a NULL, does not pass).
    #[must_use]
    pub fn matches(&self, properties: &Map<String, Value>, geometry: &MultiPolygon<f64>) -> bool {
        let feature = Feature { properties, geometry };
        truth(&self.root, &feature) == Some(true)
    }
}

fn reads(node: &Node, name: &str) -> bool {
    match node {
        Node::Property(q) => q.name == name,
        Node::And(c) | Node::Or(c) => c.iter().any(|n| reads(n, name)),
        Node::In(a, list) => reads(a, name) || list.iter().any(|n| reads(n, name)),
        Node::Not(a) | Node::IsNull(a) | Node::CaseI(a) | Node::AccentI(a) | Node::Like(a, _) => {
            reads(a, name)
        }
        Node::Compare(_, _, a, b) | Node::Spatial(_, a, b) => reads(a, name) || reads(b, name),
        Node::Between(a, b, c) => reads(a, name) || reads(b, name) || reads(c, name),
        Node::Text(_) | Node::Number(_) | Node::Bool(_) | Node::Null | Node::Shape(_) => false,
    }
}

/// The one property measured on request (see [`Atlas::feature_measured`]).
const AREA: &str = "area_km2";

fn hint(node: &Node) -> Option<Rect<f64>> {
    match node {
        Node::Spatial(op, a, b) if *op != Spatial::Disjoint && *op != Spatial::Contains => {
            match (a.as_ref(), b.as_ref()) {
                (Node::Property(_), Node::Shape(g)) | (Node::Shape(g), Node::Property(_)) => {
                    g.bounding_rect()
                }
                _ => None,
            }
        }
        Node::And(children) => children.iter().find_map(hint),
        _ => None,
    }
}

struct Feature<'a> {
    properties: &'a Map<String, Value>,
    geometry: &'a MultiPolygon<f64>,
}

struct Compiler {
    queryables: &'static [Queryable],
    crs: OgcCrs,
    reprojection: Option<Reprojection>,
}

fn op_name(op: &str) -> String {
    op.to_ascii_uppercase()
}

impl Compiler {
    fn property(&self, name: &str) -> Result<&'static Queryable, FilterError> {
        self.queryables.iter().find(|q| q.name == name).ok_or_else(|| FilterError::UnknownProperty {
            name: name.to_owned(),
            known: self.queryables.iter().map(|q| q.name).collect::<Vec<_>>().join(", "),
        })
    }

    fn shape(&self, g: &cql2::Geometry) -> Result<geo::Geometry<f64>, FilterError> {
        let bad =
            |e: &dyn std::fmt::Display| FilterError::Type(format!("a geometry literal cannot be read: {e}"));
        let json = serde_json::to_value(g).map_err(|e| bad(&e))?;
        let gj: geojson::Geometry = serde_json::from_value(json).map_err(|e| bad(&e))?;
        let mut shape = geo::Geometry::<f64>::try_from(gj).map_err(|e| bad(&e))?;
        self.to_crs84(&mut shape)?;
        Ok(shape)
    }

    fn to_crs84(&self, shape: &mut geo::Geometry<f64>) -> Result<(), FilterError> {
        if self.crs.lat_first {
            shape.map_coords_in_place(|c| geo::Coord { x: c.y, y: c.x });
        }
        if let Some(r) = &self.reprojection {
            // A shared cell, so the closure stays `Copy` as map_coords wants.
            let failed = std::cell::RefCell::new(None);
            let failed_ref = &failed;
            shape.map_coords_in_place(|c| match r.point(c.x, c.y) {
                Ok((x, y)) => geo::Coord { x, y },
                Err(e) => {
                    failed_ref.borrow_mut().get_or_insert(e);
                    c
                }
            });
            if let Some(e) = failed.into_inner() {
                return Err(FilterError::Type(format!("a geometry literal cannot be brought to CRS84: {e}")));
            }
        }
        Ok(())
    }

    fn args(&self, op: &str, args: &[Box<cql2::Expr>], n: usize) -> Result<Vec<Node>, FilterError> {
        if args.len() != n {
            return Err(FilterError::Type(format!(
                "{} takes {n} arguments, not {}",
                op_name(op),
                args.len()
            )));
        }
        args.iter().map(|a| self.node(a)).collect()
    }

    #[allow(clippy::too_many_lines)]
    fn node(&self, expr: &cql2::Expr) -> Result<Node, FilterError> {
        use cql2::Expr as E;
        Ok(match expr {
            E::Property { property } => Node::Property(self.property(property)?),
            E::Float(v) => Node::Number(*v),
            E::Literal(s) => Node::Text(s.clone()),
            E::Bool(b) => Node::Bool(*b),
            E::Null => Node::Null,
            E::Geometry(g) => Node::Shape(self.shape(g)?),
            E::BBox { bbox } => {
                let v: Vec<f64> = bbox
                    .iter()
                    .map(|e| match e.as_ref() {
                        E::Float(v) => Ok(*v),
                        _ => Err(FilterError::Type("BBOX takes numbers".into())),
                    })
                    .collect::<Result<_, _>>()?;
                let (a, b) = match v[..] {
                    [w, s, e, n] | [w, s, _, e, n, _] => {
                        (geo::Coord { x: w, y: s }, geo::Coord { x: e, y: n })
                    }
                    _ => return Err(FilterError::Type("BBOX takes 4 or 6 numbers".into())),
                };
                let mut shape = geo::Geometry::Polygon(Rect::new(a, b).to_polygon());
                self.to_crs84(&mut shape)?;
                Node::Shape(shape)
            }
            E::Array(_) => return Err(FilterError::Unsupported("an array outside IN".into())),
            E::Timestamp { .. } | E::Date { .. } | E::Interval { .. } => {
                return Err(FilterError::Unsupported("a temporal value (the features have no time)".into()));
            }
            E::Operation { op, args } => {
                let lower = op.to_ascii_lowercase();
                match lower.as_str() {
                    "and" | "or" => {
                        let children = args.iter().map(|a| self.node(a)).collect::<Result<Vec<_>, _>>()?;
                        for c in &children {
                            Self::expect_bool(c, &lower)?;
                        }
                        if lower == "and" { Node::And(children) } else { Node::Or(children) }
                    }
                    "not" => {
                        let [a] = <[Node; 1]>::try_from(self.args(op, args, 1)?)
                            .map_err(|_| unreachable_arity())?;
                        Self::expect_bool(&a, "not")?;
                        Node::Not(Box::new(a))
                    }
                    "=" | "<>" | "<" | "<=" | ">" | ">=" => {
                        let [a, b] = <[Node; 2]>::try_from(self.args(op, args, 2)?)
                            .map_err(|_| unreachable_arity())?;
                        Self::comparable(&a, &b, op)?;
                        let (ord, negate) = match lower.as_str() {
                            "=" => (Ordering::Equal, false),
                            "<>" => (Ordering::Equal, true),
                            "<" => (Ordering::Less, false),
                            ">=" => (Ordering::Less, true),
                            ">" => (Ordering::Greater, false),
                            _ => (Ordering::Greater, true),
                        };
                        Node::Compare(ord, negate, Box::new(a), Box::new(b))
                    }
                    "like" => {
                        let [a, b] = <[Node; 2]>::try_from(self.args(op, args, 2)?)
                            .map_err(|_| unreachable_arity())?;
                        let Some(pattern) = pattern_text(&b) else {
                            return Err(FilterError::Type("LIKE takes a text pattern".into()));
                        };
                        if Self::type_of(&a) != Type::Text {
                            return Err(FilterError::Type("LIKE applies to text".into()));
                        }
                        Node::Like(Box::new(a), pattern)
                    }
                    "between" => {
                        let [a, lo, hi] = <[Node; 3]>::try_from(self.args(op, args, 3)?)
                            .map_err(|_| unreachable_arity())?;
                        Self::comparable(&a, &lo, op)?;
                        Self::comparable(&a, &hi, op)?;
                        Node::Between(Box::new(a), Box::new(lo), Box::new(hi))
                    }
                    "in" => {
                        if args.len() != 2 {
                            return Err(FilterError::Type("IN takes a value and a list".into()));
                        }
                        let a = self.node(&args[0])?;
                        let E::Array(items) = args[1].as_ref() else {
                            return Err(FilterError::Type("IN takes a list in parentheses".into()));
                        };
                        let list = items.iter().map(|i| self.node(i)).collect::<Result<Vec<_>, _>>()?;
                        for item in &list {
                            Self::comparable(&a, item, op)?;
                        }
                        Node::In(Box::new(a), list)
                    }
                    "isnull" => {
                        let [a] = <[Node; 1]>::try_from(self.args(op, args, 1)?)
                            .map_err(|_| unreachable_arity())?;
                        Node::IsNull(Box::new(a))
                    }
                    "casei" | "accenti" => {
                        let [a] = <[Node; 1]>::try_from(self.args(op, args, 1)?)
                            .map_err(|_| unreachable_arity())?;
                        if !matches!(Self::type_of(&a), Type::Text | Type::Null) {
                            return Err(FilterError::Type(format!("{} applies to text", op_name(op))));
                        }
                        if lower == "casei" { Node::CaseI(Box::new(a)) } else { Node::AccentI(Box::new(a)) }
                    }
                    spatial if spatial.starts_with("s_") => {
                        let which = match spatial {
                            "s_intersects" => Spatial::Intersects,
                            "s_disjoint" => Spatial::Disjoint,
                            "s_within" => Spatial::Within,
                            "s_contains" => Spatial::Contains,
                            "s_touches" => Spatial::Touches,
                            "s_overlaps" => Spatial::Overlaps,
                            "s_crosses" => Spatial::Crosses,
                            "s_equals" => Spatial::Equals,
                            _ => return Err(FilterError::Unsupported(op_name(op))),
                        };
                        let [a, b] = <[Node; 2]>::try_from(self.args(op, args, 2)?)
                            .map_err(|_| unreachable_arity())?;
                        for n in [&a, &b] {
                            if Self::type_of(n) != Type::Geometry {
                                return Err(FilterError::Type(format!(
                                    "{} compares geometries (the property `geometry`, POINT(...), POLYGON(...), BBOX(...))",
                                    op_name(op)
                                )));
                            }
                        }
                        Node::Spatial(which, Box::new(a), Box::new(b))
                    }
                    _ => return Err(FilterError::Unsupported(op_name(op))),
                }
            }
        })
    }

    fn expect_bool(node: &Node, op: &str) -> Result<(), FilterError> {
        if Self::type_of(node) == Type::Bool {
            Ok(())
        } else {
            Err(FilterError::Type(format!("{} combines conditions, not values", op_name(op))))
        }
    }

    fn comparable(a: &Node, b: &Node, op: &str) -> Result<(), FilterError> {
        let (ta, tb) = (Self::type_of(a), Self::type_of(b));
        if ta == Type::Geometry || tb == Type::Geometry {
            return Err(FilterError::Type(format!(
                "{} does not compare geometries; use S_INTERSECTS, S_WITHIN...",
                op_name(op)
            )));
        }
        if ta == tb || ta == Type::Null || tb == Type::Null {
            return Ok(());
        }
        let name = |n: &Node| match n {
            Node::Property(q) => format!("property {}", q.name),
            _ => "a value".to_owned(),
        };
        let word = |t: Type| match t {
            Type::Text => "text (quote it: '32')",
            Type::Number => "a number",
            Type::Bool => "true or false",
            Type::Geometry => "a geometry",
            Type::Null => "null",
        };
        Err(FilterError::Type(format!(
            "{}: {} is {} but {} is {}",
            op_name(op),
            name(a),
            word(ta),
            name(b),
            word(tb)
        )))
    }

    fn type_of(node: &Node) -> Type {
        match node {
            Node::And(_)
            | Node::Or(_)
            | Node::Not(_)
            | Node::Compare(..)
            | Node::Like(..)
            | Node::Between(..)
            | Node::In(..)
            | Node::IsNull(_)
            | Node::Spatial(..)
            | Node::Bool(_) => Type::Bool,
            Node::CaseI(_) | Node::AccentI(_) | Node::Text(_) => Type::Text,
            Node::Number(_) => Type::Number,
            Node::Null => Type::Null,
            Node::Shape(_) => Type::Geometry,
            Node::Property(q) => match q.kind {
                Kind::String => Type::Text,
                Kind::Integer | Kind::Number => Type::Number,
                Kind::Geometry => Type::Geometry,
            },
        }
    }
}

fn unreachable_arity() -> FilterError {
    FilterError::Type("wrong number of arguments".into())
}

/// The pattern of LIKE (`%` any run, `_` one character, `\` escapes), possibly under CASEI/ACCENTI.
fn pattern_text(node: &Node) -> Option<Vec<char>> {
    match node {
        Node::Text(s) => Some(s.chars().collect()),
        Node::CaseI(inner) => {
            pattern_text(inner).map(|p| p.into_iter().flat_map(char::to_lowercase).collect())
        }
        Node::AccentI(inner) => {
            pattern_text(inner).map(|p| strip_accents(&p.into_iter().collect::<String>()).chars().collect())
        }
        _ => None,
    }
}

fn strip_accents(s: &str) -> String {
    s.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect()
}

/// SQL LIKE on characters, iteratively with backtracking to the last `%`.
fn like(text: &[char], pattern: &[char]) -> bool {
    // Tokens: Some(c) a literal (escaped or not), None for `_`; `%` as a separate marker.
    #[derive(Clone, Copy, PartialEq)]
    enum T {
        Lit(char),
        One,
        Any,
    }
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' if i + 1 < pattern.len() => {
                tokens.push(T::Lit(pattern[i + 1]));
                i += 1;
            }
            '%' => tokens.push(T::Any),
            '_' => tokens.push(T::One),
            c => tokens.push(T::Lit(c)),
        }
        i += 1;
    }
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(T::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(T::One) => {
                t += 1;
                p += 1;
            }
            Some(T::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|x| *x == T::Any)
}

fn value<'a>(node: &'a Node, f: &Feature<'a>) -> Val<'a> {
    match node {
        Node::Property(q) if q.kind == Kind::Geometry => Val::Shape(ShapeRef::Feature(f.geometry)),
        Node::Property(q) => match f.properties.get(q.name) {
            Some(Value::String(s)) => Val::Text(s.as_str().into()),
            Some(Value::Number(n)) => n.as_f64().map_or(Val::Null, Val::Number),
            Some(Value::Bool(b)) => Val::Bool(*b),
            _ => Val::Null,
        },
        Node::Text(s) => Val::Text(s.as_str().into()),
        Node::Number(v) => Val::Number(*v),
        Node::Bool(b) => Val::Bool(*b),
        Node::Null => Val::Null,
        Node::Shape(g) => Val::Shape(ShapeRef::Literal(g)),
        Node::CaseI(inner) => match value(inner, f) {
            Val::Text(s) => Val::Text(s.to_lowercase().into()),
            other => other,
        },
        Node::AccentI(inner) => match value(inner, f) {
            Val::Text(s) => Val::Text(strip_accents(&s).into()),
            other => other,
        },
        condition => truth(condition, f).map_or(Val::Null, Val::Bool),
    }
}

fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Number(x), Val::Number(y)) => x.partial_cmp(y),
        (Val::Text(x), Val::Text(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn spatial(op: Spatial, a: &ShapeRef<'_>, b: &ShapeRef<'_>) -> bool {
    let owned = |s: &ShapeRef<'_>| match s {
        ShapeRef::Feature(mp) => geo::Geometry::MultiPolygon((*mp).clone()),
        ShapeRef::Literal(g) => (*g).clone(),
    };
    if op == Spatial::Intersects || op == Spatial::Disjoint {
        let meets = match (a, b) {
            (ShapeRef::Feature(mp), ShapeRef::Literal(g)) | (ShapeRef::Literal(g), ShapeRef::Feature(mp)) => {
                mp.intersects(*g)
            }
            _ => owned(a).intersects(&owned(b)),
        };
        return meets == (op == Spatial::Intersects);
    }
    let (ga, gb) = (owned(a), owned(b));
    let m = ga.relate(&gb);
    match op {
        Spatial::Within => m.is_within(),
        Spatial::Contains => m.is_contains(),
        Spatial::Touches => m.is_touches(),
        Spatial::Overlaps => m.is_overlaps(),
        Spatial::Crosses => m.is_crosses(),
        Spatial::Equals => m.is_equal_topo(),
        Spatial::Intersects | Spatial::Disjoint => unreachable!("answered above"),
    }
}

/// AND (`decisive` false) or OR (`decisive` true) of conditions: the decisive value as soon as one has it,
/// else unknown if one is unknown, else the other value.
fn decided_by(children: &[Node], f: &Feature<'_>, decisive: bool) -> Option<bool> {
    let mut unknown = false;
    for c in children {
        match truth(c, f) {
            Some(v) if v == decisive => return Some(decisive),
            None => unknown = true,
            Some(_) => {}
        }
    }
    if unknown { None } else { Some(!decisive) }
}

/// SQL's three-valued logic: `None` is unknown.
fn truth(node: &Node, f: &Feature<'_>) -> Option<bool> {
    match node {
        Node::And(children) => decided_by(children, f, false),
        Node::Or(children) => decided_by(children, f, true),
        Node::Not(a) => truth(a, f).map(|b| !b),
        Node::Compare(ord, negate, a, b) => {
            compare(&value(a, f), &value(b, f)).map(|o| (o == *ord) != *negate)
        }
        Node::Like(a, pattern) => match value(a, f) {
            Val::Text(s) => Some(like(&s.chars().collect::<Vec<_>>(), pattern)),
            _ => None,
        },
        Node::Between(a, lo, hi) => {
            let v = value(a, f);
            let above = compare(&v, &value(lo, f))?;
            let below = compare(&v, &value(hi, f))?;
            Some(above != Ordering::Less && below != Ordering::Greater)
        }
        Node::In(a, list) => {
            let v = value(a, f);
            let mut unknown = false;
            for item in list {
                match compare(&v, &value(item, f)) {
                    Some(Ordering::Equal) => return Some(true),
                    None => unknown = true,
                    Some(_) => {}
                }
            }
            if unknown { None } else { Some(false) }
        }
        Node::IsNull(a) => Some(matches!(value(a, f), Val::Null)),
        Node::Spatial(op, a, b) => match (value(a, f), value(b, f)) {
            (Val::Shape(x), Val::Shape(y)) => Some(spatial(*op, &x, &y)),
            _ => None,
        },
        Node::Bool(b) => Some(*b),
        Node::Property(_)
        | Node::Text(_)
        | Node::Number(_)
        | Node::Null
        | Node::Shape(_)
        | Node::CaseI(_)
        | Node::AccentI(_) => match value(node, f) {
            Val::Bool(b) => Some(b),
            _ => None,
        },
    }
}

/// How to order features: `sortby=name,-population` (a `-` for descending, `+` or nothing for ascending).
#[derive(Debug, Clone)]
pub struct SortBy(Vec<(&'static str, bool)>);

impl SortBy {
    /// Reads `sortby` for a collection.
    ///
    /// # Errors
    /// An unknown or geometry property.
    pub fn parse(text: &str, source: Source) -> Result<Self, FilterError> {
        let known = queryables(source);
        let keys =
            text.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| {
                    let (name, descending) = match k.as_bytes()[0] {
                        b'-' => (&k[1..], true),
                        b'+' => (&k[1..], false),
                        _ => (k, false),
                    };
                    let q = known.iter().find(|q| q.name == name && q.kind != Kind::Geometry).ok_or_else(
                        || FilterError::UnknownProperty {
                            name: name.to_owned(),
                            known: known
                                .iter()
                                .filter(|q| q.kind != Kind::Geometry)
                                .map(|q| q.name)
                                .collect::<Vec<_>>()
                                .join(", "),
                        },
                    )?;
                    Ok((q.name, descending))
                })
                .collect::<Result<Vec<_>, FilterError>>()?;
        Ok(Self(keys))
    }

    /// Whether the order reads this property.
    #[must_use]
    pub fn reads(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| *k == name)
    }

    /// Orders two features' properties (nulls last; ties keep the collection's order).
    #[must_use]
    pub fn cmp(&self, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
        for &(name, descending) in &self.0 {
            let (x, y) = (a.get(name).unwrap_or(&Value::Null), b.get(name).unwrap_or(&Value::Null));
            let o = match (x, y) {
                (Value::Null, Value::Null) => Ordering::Equal,
                (Value::Null, _) => return Ordering::Greater,
                (_, Value::Null) => return Ordering::Less,
                (Value::Number(m), Value::Number(n)) => {
                    m.as_f64().partial_cmp(&n.as_f64()).unwrap_or(Ordering::Equal)
                }
                (Value::String(m), Value::String(n)) => m.cmp(n),
                _ => Ordering::Equal,
            };
            let o = if descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl Atlas {
    /// Positions of a collection's features within `bbox` that pass `filter`, ordered by `sort` when
    /// given (else in collection order).
    #[must_use]
    pub fn features_filtered(
        &self,
        source: Source,
        bbox: Option<Rect<f64>>,
        filter: Option<&Filter>,
        sort: Option<&SortBy>,
    ) -> Vec<usize> {
        let hint = filter.and_then(Filter::bbox_hint);
        let window = match (bbox, hint) {
            (Some(a), Some(b)) => match intersection(a, b) {
                Some(r) => Some(r),
                None => return Vec::new(),
            },
            (a, b) => a.or(b),
        };
        let candidates = self.features_matching(source, window);
        if filter.is_none() && sort.is_none() {
            return candidates;
        }
        let measure = filter.is_some_and(|f| f.reads(AREA)) || sort.is_some_and(|s| s.reads(AREA));
        let mut kept: Vec<(usize, Map<String, Value>)> = candidates
            .into_iter()
            .filter_map(|i| {
                let f = self.feature_measured(source, i, measure)?;
                filter.is_none_or(|flt| flt.matches(&f.properties, f.geometry)).then_some((i, f.properties))
            })
            .collect();
        if let Some(s) = sort {
            kept.sort_by(|(_, a), (_, b)| s.cmp(a, b));
        }
        kept.into_iter().map(|(i, _)| i).collect()
    }
}

fn intersection(a: Rect<f64>, b: Rect<f64>) -> Option<Rect<f64>> {
    let (lo, hi) = (
        geo::Coord { x: a.min().x.max(b.min().x), y: a.min().y.max(b.min().y) },
        geo::Coord { x: a.max().x.min(b.max().x), y: a.max().y.min(b.max().y) },
    );
    (lo.x <= hi.x && lo.y <= hi.y).then(|| Rect::new(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn like_follows_sql() {
        for (text, pattern, expected) in [
            ("Soissons", "Sois%", true),
            ("Soissons", "%sons", true),
            ("Soissons", "S_issons", true),
            ("Soissons", "s%", false),
            ("Soissons", "%i%o%", true),
            ("Soissons", "Soissons_", false),
            ("100%", "100\\%", true),
            ("1000", "100\\%", false),
            ("", "%", true),
            ("", "_", false),
        ] {
            assert_eq!(like(&chars(text), &chars(pattern)), expected, "{text} LIKE {pattern}");
        }
    }

    #[test]
    fn accents_and_case_fold() {
        assert_eq!(strip_accents("Château-Thierry Étampes"), "Chateau-Thierry Etampes");
    }
}
