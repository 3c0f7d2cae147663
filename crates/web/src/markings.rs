//! The colours of the markings, from the policy: a stylesheet of one class per classification
//! (`marking-0` for the lowest), made once, since the Content-Security-Policy forbids inline styles.

use axum::body::Bytes;
use axum::response::Response;
use fathom_model::{Marking, Policy};
use sha2::{Digest, Sha256};

/// Grey, for a classification the policy gives no colour.
const NO_COLOUR: &str = "#5a5a5a";

#[derive(Debug)]
pub struct Stylesheet {
    file_name: String,
    css: Bytes,
}

impl Stylesheet {
    pub fn of(policy: &Policy) -> Self {
        let mut css = String::new();
        for (rank, classification) in policy.document().classifications.iter().enumerate() {
            let background = policy.colour(classification).unwrap_or(NO_COLOUR);
            let text = text_colour(background);
            css.push_str(&format!(
                ".marking-{rank}{{background:{background};color:{text};border-color:{background}}}\n\
                 svg .marking-{rank}{{fill:{background}}}\n"
            ));
        }
        let digest = hex::encode(&Sha256::digest(css.as_bytes())[..8]);
        Self {
            file_name: format!("markings.{digest}.css"),
            css: Bytes::from(css),
        }
    }

    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    pub fn serve(&self) -> Response {
        crate::assets::immutable(self.css.clone(), "text/css; charset=utf-8")
    }
}

/// The class of a marking's colour.
pub fn class(policy: &Policy, marking: &Marking) -> String {
    format!(
        "marking-{}",
        policy.rank(&marking.classification).unwrap_or_default()
    )
}

/// Black or white, whichever reads better on `background` (`#rrggbb`), by WCAG 2.1's contrast.
fn text_colour(background: &str) -> &'static str {
    let channel = |at: usize| {
        let value = background
            .get(at..at + 2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0);
        if value <= 0.04045 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    let against_white = 1.05 / (luminance + 0.05);
    let against_black = (luminance + 0.05) / 0.05;
    if against_white >= against_black {
        "#ffffff"
    } else {
        "#000000"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_on_every_shipped_colour() {
        assert_eq!(text_colour("#c8102e"), "#ffffff");
        assert_eq!(text_colour("#ffd700"), "#000000");
        let sheet = Stylesheet::of(&Policy::default_policy());
        let css = std::str::from_utf8(&sheet.css).unwrap();
        assert!(
            css.contains(".marking-4{background:#c8102e;color:#ffffff"),
            "{css}"
        );
    }
}
