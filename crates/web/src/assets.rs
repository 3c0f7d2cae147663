//! The stylesheet, scripts and images, embedded in the binary and served under names that carry a
//! hash of their content: a browser keeps each for a year (`immutable`), and a new build's assets
//! have new names. Each is gzipped once, at first use.

use std::io::Write;
use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Where assets are served.
pub const PREFIX: &str = "/assets/";

/// The embedded files: a name, its media type, its bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "fathom.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/fathom.css"),
    ),
    (
        "fathom.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/fathom.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/favicon.svg"),
    ),
    // The map (`vendor/README.md` says where each comes from, and its licence).
    (
        "leaflet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/leaflet.js"),
    ),
    (
        "leaflet.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/vendor/leaflet.css"),
    ),
    (
        "topojson-client.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/topojson-client.min.js"),
    ),
    (
        "land.json",
        "application/json",
        include_bytes!("../assets/vendor/land-50m.json"),
    ),
];

/// One asset as served.
struct Served {
    /// `fathom.css`: how pages name it.
    name: &'static str,
    /// `fathom.1a2b3c4d5e6f7a8b.css`: the name it is served under.
    hashed: String,
    content_type: &'static str,
    plain: Bytes,
    gzipped: Bytes,
}

static SERVED: LazyLock<Vec<Served>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, content_type, bytes)| {
            let digest = hex::encode(&Sha256::digest(bytes)[..8]);
            let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
            Served {
                name,
                hashed: format!("{stem}.{digest}.{extension}"),
                content_type,
                plain: Bytes::from_static(bytes),
                gzipped: gzip(bytes),
            }
        })
        .collect()
});

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to memory cannot fail.
    let _ = encoder.write_all(bytes);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// The address of the asset `name` (`fathom.css`), with its hash.
pub fn url(name: &str) -> String {
    let hashed = SERVED
        .iter()
        .find(|asset| asset.name == name)
        .map_or(name, |asset| asset.hashed.as_str());
    format!("{PREFIX}{hashed}")
}

/// `GET /assets/{file}`: an asset by its hashed name, gzipped when the browser accepts it.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = SERVED.iter().find(|asset| asset.hashed == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "gzip"))
        });
    let body = if accepts_gzip {
        asset.gzipped.clone()
    } else {
        asset.plain.clone()
    };
    let mut response = immutable(body, asset.content_type);
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if accepts_gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// A file served under a name that changes with its content: any cache may keep it for a year.
pub fn immutable(body: Bytes, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
