//! How to cite a dataset: a line in the DataCite style for people, and BibTeX and RIS records for
//! reference managers.

use fathom_model::Dataset;

/// The parts of a citation, read once from a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The creators, or the publisher when none is named.
    pub authors: Vec<String>,
    pub year: String,
    pub title: String,
    pub version: Option<String>,
    pub publisher: String,
    /// The DOI, bare (`10.…`), when the dataset has one.
    pub doi: Option<String>,
    /// Where the dataset is found: its DOI's address, its landing page, or its page here.
    pub url: String,
}

impl Citation {
    /// The citation of `dataset`, published by `publisher`, whose page here is `page`.
    pub fn of(dataset: &Dataset, publisher: &str, page: &str) -> Self {
        let metadata = &dataset.metadata;
        let mut authors: Vec<String> = metadata.creators.iter().map(|c| c.name.clone()).collect();
        if authors.is_empty() {
            authors.push(publisher.to_owned());
        }
        let year = metadata
            .issued
            .as_deref()
            .and_then(|issued| issued.get(..4))
            .map_or_else(|| dataset.created_at.year().to_string(), str::to_owned);
        let doi = metadata.identifiers.iter().find_map(|id| bare_doi(id));
        let url = doi
            .as_ref()
            .map(|doi| format!("https://doi.org/{doi}"))
            .or_else(|| {
                metadata
                    .landing_page
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
            })
            .unwrap_or_else(|| page.to_owned());
        Self {
            authors,
            year,
            title: metadata.title.clone(),
            version: metadata.version.clone(),
            publisher: publisher.to_owned(),
            doi,
            url,
        }
    }

    /// Creators (Year). Title. Version. Publisher. Address.
    pub fn line(&self) -> String {
        let mut parts = vec![format!(
            "{} ({}). {}.",
            self.authors.join("; "),
            self.year,
            self.title
        )];
        if let Some(version) = &self.version {
            parts.push(format!("Version {version}."));
        }
        parts.push(format!("{}.", self.publisher));
        parts.push(self.url.clone());
        parts.join(" ")
    }

    /// A BibTeX `@misc` entry keyed by `key`.
    pub fn bibtex(&self, key: &str) -> String {
        let mut fields = vec![
            ("author", self.authors.join(" and ")),
            ("title", self.title.clone()),
            ("year", self.year.clone()),
            ("publisher", self.publisher.clone()),
            ("howpublished", "Dataset".to_owned()),
            ("url", self.url.clone()),
        ];
        if let Some(version) = &self.version {
            fields.push(("version", version.clone()));
        }
        if let Some(doi) = &self.doi {
            fields.push(("doi", doi.clone()));
        }
        let body: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("  {name} = {{{}}}", bibtex_escape(value)))
            .collect();
        format!("@misc{{{key},\n{}\n}}\n", body.join(",\n"))
    }

    /// An RIS record of type `DATA`.
    pub fn ris(&self) -> String {
        let mut lines = vec!["TY  - DATA".to_owned()];
        lines.extend(self.authors.iter().map(|author| format!("AU  - {author}")));
        lines.push(format!("TI  - {}", self.title));
        lines.push(format!("PY  - {}", self.year));
        lines.push(format!("PB  - {}", self.publisher));
        if let Some(version) = &self.version {
            lines.push(format!("ET  - {version}"));
        }
        if let Some(doi) = &self.doi {
            lines.push(format!("DO  - {doi}"));
        }
        lines.push(format!("UR  - {}", self.url));
        lines.push("ER  - ".to_owned());
        // RIS lines end with CR LF.
        lines.join("\r\n") + "\r\n"
    }
}

/// A DOI without its resolver or scheme, when `identifier` is one.
pub fn bare_doi(identifier: &str) -> Option<String> {
    let bare = identifier
        .strip_prefix("https://doi.org/")
        .or_else(|| identifier.strip_prefix("doi:"))
        .unwrap_or(identifier);
    bare.starts_with("10.").then(|| bare.to_owned())
}

/// BibTeX's special characters escaped, so a title cannot close its field.
fn bibtex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '{' | '}' | '\\' | '%' | '&' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citation() -> Citation {
        Citation {
            authors: vec!["K. Haugen".into(), "M. Rossi".into()],
            year: "2025".into(),
            title: "Sea ice {edge} & 100% salinity".into(),
            version: Some("1.0".into()),
            publisher: "FFI".into(),
            doi: Some("10.5281/zenodo.1".into()),
            url: "https://doi.org/10.5281/zenodo.1".into(),
        }
    }

    #[test]
    fn citations_read_in_each_style() {
        let citation = citation();
        assert_eq!(
            citation.line(),
            "K. Haugen; M. Rossi (2025). Sea ice {edge} & 100% salinity. Version 1.0. FFI. https://doi.org/10.5281/zenodo.1"
        );
        let bibtex = citation.bibtex("sea-ice");
        assert!(
            bibtex.starts_with("@misc{sea-ice,\n  author = {K. Haugen and M. Rossi},"),
            "{bibtex}"
        );
        assert!(
            bibtex.contains(r"title = {Sea ice \{edge\} \& 100\% salinity}"),
            "{bibtex}"
        );
        assert!(bibtex.contains("doi = {10.5281/zenodo.1}"), "{bibtex}");
        let ris = citation.ris();
        assert!(
            ris.starts_with("TY  - DATA\r\nAU  - K. Haugen\r\nAU  - M. Rossi\r\n"),
            "{ris}"
        );
        assert!(ris.ends_with("ER  - \r\n"), "{ris}");
        assert_eq!(bare_doi("doi:10.1/x").as_deref(), Some("10.1/x"));
        assert_eq!(bare_doi("hdl:1/2"), None);
    }
}
