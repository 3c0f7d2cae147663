//! Maps of extents: a `div` that carries its extents as data, drawn by `assets/fathom.js` with
//! Leaflet over the embedded Natural Earth land (or the configured tiles). Without JavaScript the
//! page says the same in words (the bounding boxes are listed where they belong).

use fathom_model::BoundingBox;
use maud::{Markup, html};
use serde_json::json;

use crate::assets;
use crate::i18n::messages;

/// One extent on a map: its box, what to call it, and where it leads.
#[derive(Debug, Clone)]
pub struct Extent {
    pub bbox: BoundingBox,
    pub title: String,
    pub href: Option<String>,
}

/// A map of `extents`, described for screen readers by `label`. With `select`, drawing a box on
/// it fills the search form's `bbox` field and searches.
pub fn map(label: &str, extents: &[Extent], select: bool, tiles: Option<&str>) -> Markup {
    let data: Vec<_> = extents
        .iter()
        .map(|extent| {
            let bbox = &extent.bbox;
            json!({
                "bbox": [bbox.west(), bbox.south(), bbox.east(), bbox.north()],
                "title": extent.title,
                "href": extent.href,
            })
        })
        .collect();
    html! {
        div class="map" role="region" aria-label=(label)
            data-extents=(serde_json::Value::Array(data).to_string())
            data-land=(assets::url("land.json"))
            data-tiles=[tiles]
            data-select=[select.then_some("bbox")]
            data-draw-label=[select.then(|| messages().text("map-draw"))]
            data-drawing-label=[select.then(|| messages().text("map-drawing"))] {}
    }
}
