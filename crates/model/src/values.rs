//! Value types that can only be built by parsing, so a value of one of these types is valid by
//! construction ("parse, don't validate"). Each `parse` returns a message meant for people.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A URL-safe, human-readable identifier: lowercase ASCII letters and digits in hyphen-separated words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 100;

    /// Its JSON Schema, as [`Slug::parse`] reads it (but for the UUID form, which no pattern says).
    /// The inputs' field attributes spell the same pattern, as `utoipa` takes only a literal there
    /// and `schema_with` would drop their descriptions.
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Self::PATTERN))
            .max_length(Some(Self::MAX_LEN))
            .build()
    }

    /// The pattern of a slug, as JSON Schema writes it.
    pub const PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid_words = raw.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !valid_words {
            return Err(format!(
                "must be 1 to {} lowercase letters or digits in words separated by single hyphens",
                Self::MAX_LEN
            ));
        }
        // A slug that parses as a UUID would be ambiguous in paths that accept an id or a slug.
        if uuid::Uuid::try_parse(raw).is_ok() {
            return Err("must not have the form of a UUID".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// Derives a slug from a title: ASCII-folds common Latin letters, lowercases, and joins words with
    /// hyphens. Falls back to `dataset` when nothing usable remains.
    pub fn from_title(title: &str) -> Self {
        let mut slug = String::with_capacity(title.len());
        for ch in title.chars().flat_map(fold_to_ascii) {
            if ch.is_ascii_alphanumeric() {
                slug.push(ch.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= Self::MAX_LEN - 9 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() || uuid::Uuid::try_parse(slug).is_ok() {
            return Self("dataset".to_owned());
        }
        Self(slug.to_owned())
    }

    /// The same slug with a numeric suffix, used to make a derived slug unique.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_to_ascii(ch: char) -> impl Iterator<Item = char> {
    let folded: &str = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        _ => "",
    };
    let keep = folded.is_empty().then_some(ch);
    folded.chars().chain(keep)
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> String {
        slug.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A nation as an ISO 3166-1 alpha-3 code, e.g. `NOR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nation(String);

impl Nation {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if ISO_3166_ALPHA3.binary_search(&raw).is_ok() {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "`{raw}` is not an ISO 3166-1 alpha-3 country code (e.g. `NOR`, `ITA`)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its JSON Schema: one of the codes.
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .enum_values(Some(ISO_3166_ALPHA3.iter().copied()))
            .build()
    }
}

impl TryFrom<String> for Nation {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Nation> for String {
    fn from(nation: Nation) -> String {
        nation.0
    }
}

/// The officially assigned ISO 3166-1 alpha-3 codes, sorted for binary search.
const ISO_3166_ALPHA3: &[&str] = &[
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
];

/// An absolute IRI such as `https://example.org/x` or `urn:x:y`: a scheme, a colon, and no whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iri(String);

impl Iri {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let scheme = raw
            .split_once(':')
            .map(|(scheme, _)| scheme)
            .unwrap_or_default();
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        let rest_ok = raw.len() > scheme.len() + 1
            && raw.len() <= 2048
            && !raw
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'));
        if scheme_ok && rest_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "`{}` is not an absolute IRI (e.g. `https://example.org/x`)",
                truncate(raw)
            ))
        }
    }

    /// An IRI whose scheme is http or https, for links people follow.
    pub fn parse_web(raw: &str) -> Result<Self, String> {
        let iri = Self::parse(raw)?;
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Ok(iri)
        } else {
            Err(format!("`{}` is not an http or https URL", truncate(raw)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Iri {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Iri> for String {
    fn from(iri: Iri) -> String {
        iri.0
    }
}

/// A BCP 47 language tag such as `en`, `fr`, `en-GB`, `nb-NO`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "`{}` is not a BCP 47 language tag (e.g. `en`, `fr`, `nb-NO`)",
                truncate(raw)
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LanguageTag {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<LanguageTag> for String {
    fn from(tag: LanguageTag) -> String {
        tag.0
    }
}

/// A WGS 84 bounding box `[west, south, east, north]` in degrees. `west > east` is valid: the box
/// crosses the antimeridian (e.g. `[170, -20, -170, 10]` spans 20° of the Pacific).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "[f64; 4]")]
pub struct BoundingBox {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
}

impl BoundingBox {
    pub fn parse(coordinates: &[f64]) -> Result<Self, String> {
        let &[west, south, east, north] = coordinates else {
            return Err(format!(
                "must have 4 numbers [west, south, east, north], not {}",
                coordinates.len()
            ));
        };
        let longitude = -180.0..=180.0;
        let latitude = -90.0..=90.0;
        if !longitude.contains(&west) || !longitude.contains(&east) {
            return Err("longitudes (west, east) must be between -180 and 180".to_owned());
        }
        if !latitude.contains(&south) || !latitude.contains(&north) {
            return Err("latitudes (south, north) must be between -90 and 90".to_owned());
        }
        if south > north {
            return Err("south must not be greater than north".to_owned());
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    pub fn west(&self) -> f64 {
        self.west
    }
    pub fn south(&self) -> f64 {
        self.south
    }
    pub fn east(&self) -> f64 {
        self.east
    }
    pub fn north(&self) -> f64 {
        self.north
    }

    /// Whether the box crosses the antimeridian (180°).
    pub fn crosses_antimeridian(&self) -> bool {
        self.west > self.east
    }
}

impl TryFrom<Vec<f64>> for BoundingBox {
    type Error = String;
    fn try_from(coordinates: Vec<f64>) -> Result<Self, String> {
        Self::parse(&coordinates)
    }
}

impl From<BoundingBox> for [f64; 4] {
    fn from(b: BoundingBox) -> [f64; 4] {
        [b.west, b.south, b.east, b.north]
    }
}

/// Where a dataset's data lies: a bounding box and, optionally, a more precise GeoJSON geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Spatial {
    /// `[west, south, east, north]`, WGS 84 degrees; west > east crosses the antimeridian.
    #[schema(value_type = Option<Vec<f64>>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BoundingBox>,
    /// A GeoJSON geometry object (RFC 7946).
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

const GEOJSON_GEOMETRY_TYPES: &[&str] = &[
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
];

/// Checks the shape of a GeoJSON geometry object: a known `type` and `coordinates` (or `geometries`).
pub fn parse_geometry(value: &serde_json::Value) -> Result<serde_json::Value, String> {
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    if !GEOJSON_GEOMETRY_TYPES.contains(&kind) {
        return Err(format!(
            "must be a GeoJSON geometry with `type` one of {}",
            GEOJSON_GEOMETRY_TYPES.join(", ")
        ));
    }
    let member = if kind == "GeometryCollection" {
        "geometries"
    } else {
        "coordinates"
    };
    if !value.get(member).is_some_and(|m| m.is_array()) {
        return Err(format!("a GeoJSON {kind} needs an array `{member}`"));
    }
    Ok(value.clone())
}

/// A period of time, open at either end. The end is never before the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemporalExtent {
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub start: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub end: Option<OffsetDateTime>,
}

impl TemporalExtent {
    pub fn new(start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) -> Result<Self, String> {
        match (start, end) {
            (Some(start), Some(end)) if end < start => {
                Err("end must not be before start".to_owned())
            }
            _ => Ok(Self { start, end }),
        }
    }
}

/// Parses an RFC 3339 date-time (`2024-09-01T06:00:00Z`) or a date (`2024-09-01`, read as midnight
/// UTC), and normalises it to UTC.
pub fn parse_instant(raw: &str) -> Result<OffsetDateTime, String> {
    if let Ok(instant) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(instant.to_offset(time::UtcOffset::UTC));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &date_format)
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| {
            format!(
                "`{}` is not an RFC 3339 date-time or a YYYY-MM-DD date",
                truncate(raw)
            )
        })
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<time::Date, String> {
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &date_format)
        .map_err(|_| format!("`{}` is not a YYYY-MM-DD date", truncate(raw)))
}

/// Shortens user input quoted in an error message.
fn truncate(raw: &str) -> String {
    const MAX: usize = 80;
    match raw.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &raw[..at]),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_accept_hyphenated_lowercase_words_only() {
        assert!(Slug::parse("ctd-casts-2024").is_ok());
        for bad in ["", "CTD", "a--b", "-a", "a-", "a b", "é", &"a".repeat(101)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Slug::parse("01890a5d-ac96-774b-bcce-b302099a8057").is_err());
    }

    #[test]
    fn slugs_derive_from_titles() {
        assert_eq!(
            Slug::from_title("CTD casts, Ligurian Sea — 2024!").as_str(),
            "ctd-casts-ligurian-sea-2024"
        );
        assert_eq!(
            Slug::from_title("Tromsø fjord ADCP").as_str(),
            "tromso-fjord-adcp"
        );
        assert_eq!(Slug::from_title("   ").as_str(), "dataset");
    }

    proptest! {
        #[test]
        fn derived_slugs_always_parse(title in "\\PC{0,200}") {
            let slug = Slug::from_title(&title);
            prop_assert!(Slug::parse(slug.as_str()).is_ok(), "{:?} from {:?}", slug, title);
            prop_assert!(Slug::parse(slug.with_suffix(12).as_str()).is_ok());
        }

        #[test]
        fn bounding_boxes_keep_their_coordinates(w in -180.0..=180.0f64, s in -90.0..=90.0f64, e in -180.0..=180.0f64, n in -90.0..=90.0f64) {
            let parsed = BoundingBox::parse(&[w, s, e, n]);
            prop_assert_eq!(parsed.is_ok(), s <= n);
            if let Ok(bbox) = parsed {
                prop_assert_eq!(<[f64; 4]>::from(bbox), [w, s, e, n]);
                prop_assert_eq!(bbox.crosses_antimeridian(), w > e);
            }
        }
    }

    #[test]
    fn bounding_boxes_reject_out_of_range_and_wrong_arity() {
        assert!(BoundingBox::parse(&[170.0, -20.0, -170.0, 10.0]).is_ok());
        assert!(BoundingBox::parse(&[0.0, -91.0, 1.0, 10.0]).is_err());
        assert!(BoundingBox::parse(&[0.0, 0.0, 181.0, 10.0]).is_err());
        assert!(BoundingBox::parse(&[0.0, 10.0, 1.0, 0.0]).is_err());
        assert!(BoundingBox::parse(&[0.0, 1.0, 2.0]).is_err());
        assert!(BoundingBox::parse(&[f64::NAN, 0.0, 1.0, 1.0]).is_err());
    }

    #[test]
    fn temporal_extents_refuse_an_end_before_the_start() {
        let start = parse_instant("2024-09-02").ok();
        let end = parse_instant("2024-09-01T23:59:59Z").ok();
        assert!(TemporalExtent::new(start, end).is_err());
        assert!(TemporalExtent::new(end, start).is_ok());
        assert!(TemporalExtent::new(start, None).is_ok());
    }

    #[test]
    fn instants_are_normalised_to_utc() {
        let instant = parse_instant("2024-09-01T08:00:00+02:00").unwrap();
        assert_eq!(instant, parse_instant("2024-09-01T06:00:00Z").unwrap());
        assert!(instant.offset().is_utc());
        assert!(parse_instant("2024-13-01").is_err());
        assert!(parse_instant("yesterday").is_err());
    }

    #[test]
    fn nations_are_iso_alpha3() {
        assert!(
            ISO_3166_ALPHA3.windows(2).all(|w| w[0] < w[1]),
            "the table must stay sorted"
        );
        assert!(Nation::parse("NOR").is_ok());
        assert!(Nation::parse("nor").is_err());
        assert!(Nation::parse("XXX").is_err());
    }

    #[test]
    fn iris_and_language_tags() {
        assert!(
            Iri::parse("http://publications.europa.eu/resource/authority/data-theme/ENVI").is_ok()
        );
        assert!(Iri::parse("urn:uuid:1234").is_ok());
        assert!(Iri::parse("not an iri").is_err());
        assert!(Iri::parse_web("ftp://x.org/a").is_err());
        assert!(LanguageTag::parse("nb-NO").is_ok());
        assert!(LanguageTag::parse("English").is_err());
    }
}
