//! Harvest sources (other catalogues Fathom reads, on demand or on a schedule) and the jobs that read
//! them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::validation::ValidationErrors;
use crate::values::{Iri, Slug};

/// The protocols a source is read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An OAI-PMH repository, read by `ListRecords` (incrementally, from the last success).
    OaiPmh,
    /// A DCAT catalogue: one RDF document, or pages linked by `hydra:next`.
    Dcat,
    /// A CKAN portal, read by its action API's `package_search` (incrementally, by modification).
    Ckan,
    /// An OGC CSW 2.0.2 catalogue, read by `GetRecords` pages (ISO 19139 or Dublin Core).
    Csw,
}

/// A catalogue to harvest, valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HarvestSource {
    pub id: Uuid,
    pub name: String,
    pub kind: SourceKind,
    /// The OAI-PMH base URL, the DCAT document's (first page's) address, the CKAN portal's address
    /// (its API is below it, `/api/3/action/…`), or the CSW endpoint.
    #[schema(value_type = String)]
    pub url: Iri,
    /// Where the harvested datasets go.
    #[schema(value_type = String)]
    pub organisation: Slug,
    /// OAI-PMH and CSW: `iso19139` (the default) or `oai_dc` (Dublin Core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_prefix: Option<String>,
    /// OAI-PMH: the set to harvest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Harvest every so many minutes; only on demand when neither this nor `schedule` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_minutes: Option<u32>,
    /// Harvest on a cron schedule (five fields, UTC), e.g. `0 2 * * *` for 02:00 every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Politeness: at most this many requests per second to the source.
    pub requests_per_second: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A source as a client sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HarvestSourceInput {
    #[schema(value_type = String, required = true, min_length = 1)]
    pub name: Option<String>,
    /// `oai_pmh`, `dcat`, `ckan` or `csw`.
    #[schema(value_type = String, required = true, pattern = "^(oai_pmh|dcat|ckan|csw)$")]
    pub kind: Option<String>,
    #[schema(value_type = String, required = true, pattern = "^[\\u0000-\\u0020]*[Hh][Tt][Tt][Pp][Ss]?://[\\s\\S]+$")]
    pub url: Option<String>,
    #[schema(value_type = String, required = true, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub organisation: Option<String>,
    pub metadata_prefix: Option<String>,
    pub set: Option<String>,
    #[schema(minimum = 5, maximum = 525600)]
    pub every_minutes: Option<u32>,
    /// A cron schedule (five fields, UTC), instead of `every_minutes`.
    pub schedule: Option<String>,
    /// Default 5.
    #[schema(minimum = 0.01, maximum = 100)]
    pub requests_per_second: Option<f64>,
}

/// The metadata formats an OAI-PMH source can be read in.
pub const HARVEST_PREFIXES: [&str; 2] = ["iso19139", "oai_dc"];

impl HarvestSourceInput {
    pub fn parse(self, id: Uuid, now: OffsetDateTime) -> Result<HarvestSource, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.require("/name", self.name).and_then(|name| {
            let name = name.trim().to_owned();
            let valid = !name.is_empty() && name.len() <= 200 && !name.contains(char::is_control);
            errors.check(
                "/name",
                if valid {
                    Ok(name)
                } else {
                    Err("must be 1 to 200 characters on one line".to_owned())
                },
            )
        });
        let kind = errors.require("/kind", self.kind).and_then(|kind| {
            errors.check(
                "/kind",
                match kind.as_str() {
                    "oai_pmh" => Ok(SourceKind::OaiPmh),
                    "dcat" => Ok(SourceKind::Dcat),
                    "ckan" => Ok(SourceKind::Ckan),
                    "csw" => Ok(SourceKind::Csw),
                    other => Err(format!("`{other}` is not one of oai_pmh, dcat, ckan, csw")),
                },
            )
        });
        let url = errors
            .require("/url", self.url)
            .and_then(|url| errors.check("/url", Iri::parse_web(&url)));
        let organisation = errors
            .require("/organisation", self.organisation)
            .and_then(|slug| errors.check("/organisation", Slug::parse(&slug)));
        // OAI-PMH and CSW are read in a metadata format: ISO 19139 unless Dublin Core is asked for.
        let takes_format = matches!(kind, Some(SourceKind::OaiPmh | SourceKind::Csw));
        let metadata_prefix = match self.metadata_prefix {
            Some(_) if !takes_format => {
                errors.push("/metadata_prefix", "is for OAI-PMH and CSW sources only");
                None
            }
            Some(prefix) if !HARVEST_PREFIXES.contains(&prefix.as_str()) => {
                errors.push(
                    "/metadata_prefix",
                    format!("`{prefix}` is not one of {}", HARVEST_PREFIXES.join(", ")),
                );
                None
            }
            Some(prefix) => Some(prefix),
            None => takes_format.then(|| HARVEST_PREFIXES[0].to_owned()),
        };
        if kind != Some(SourceKind::OaiPmh) && self.set.is_some() {
            errors.push("/set", "is for OAI-PMH sources only");
        }
        if let Some(minutes) = self.every_minutes
            && !(5..=525_600).contains(&minutes)
        {
            errors.push("/every_minutes", "must be 5 to 525600 (a year)");
        }
        if let Some(schedule) = &self.schedule {
            if self.every_minutes.is_some() {
                errors.push("/schedule", "give `every_minutes` or `schedule`, not both");
            }
            if let Err(message) = Cron::parse(schedule) {
                errors.push("/schedule", message);
            }
        }
        let requests_per_second = self.requests_per_second.unwrap_or(5.0);
        if !(0.01..=100.0).contains(&requests_per_second) {
            errors.push("/requests_per_second", "must be 0.01 to 100");
        }
        match (name, kind, url, organisation) {
            (Some(name), Some(kind), Some(url), Some(organisation)) if errors.is_empty() => {
                Ok(HarvestSource {
                    id,
                    name,
                    kind,
                    url,
                    organisation,
                    metadata_prefix,
                    set: self.set,
                    every_minutes: self.every_minutes,
                    schedule: self.schedule,
                    requests_per_second,
                    created_at: now,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// One run of a source: what it did, record by record where something went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HarvestJob {
    pub id: Uuid,
    pub source: Uuid,
    pub status: JobStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<OffsetDateTime>,
    /// An incremental run's start: changes since then were asked for.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub changed_since: Option<OffsetDateTime>,
    pub requests: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Datasets retired because the source deleted them or no longer lists them.
    pub retired: u64,
    pub failed: u64,
    /// The failed records (the first hundred).
    #[serde(default)]
    pub errors: Vec<JobError>,
    /// Why the job failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub reason: String,
}

impl HarvestSource {
    /// Whether the source is due at `now`, its last job having started at `last` (never: `None`).
    pub fn due(&self, last: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
        if let Some(every) = self.every_minutes {
            return last.is_none_or(|last| last + time::Duration::minutes(i64::from(every)) <= now);
        }
        let Some(cron) = self.schedule.as_deref().and_then(|s| Cron::parse(s).ok()) else {
            return false;
        };
        cron.next_after(last.unwrap_or(self.created_at))
            .is_some_and(|next| next <= now)
    }
}

impl HarvestJob {
    /// The most failed records a job keeps.
    pub const MAX_ERRORS: usize = 100;

    pub fn start(
        id: Uuid,
        source: Uuid,
        now: OffsetDateTime,
        changed_since: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            id,
            source,
            status: JobStatus::Running,
            started_at: now,
            finished_at: None,
            changed_since,
            requests: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            retired: 0,
            failed: 0,
            errors: Vec::new(),
            message: None,
        }
    }

    pub fn record_error(&mut self, identifier: Option<String>, reason: String) {
        self.failed += 1;
        if self.errors.len() < Self::MAX_ERRORS {
            self.errors.push(JobError { identifier, reason });
        }
    }
}

/// A cron schedule of five fields (minute, hour, day of month, month, day of week; UTC), each `*`, a
/// number, a range `a-b`, a step `*/n` or `a-b/n`, or a list of those. As in cron, when both the day
/// of month and the day of week are restricted, a day matching either is in the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    any_day: bool,
    any_weekday: bool,
}

impl Cron {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let fields: Vec<&str> = raw.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(format!(
                "`{raw}` is not five cron fields (minute hour day-of-month month day-of-week)"
            ));
        };
        let weekdays = field(weekday, 0, 7, "day of week")?;
        Ok(Self {
            minutes: field(minute, 0, 59, "minute")?,
            hours: field(hour, 0, 23, "hour")?,
            days: field(day, 1, 31, "day of month")?,
            months: field(month, 1, 12, "month")?,
            // 7 is Sunday too.
            weekdays: (weekdays | (weekdays >> 7)) & 0x7f,
            any_day: *day == "*",
            any_weekday: *weekday == "*",
        })
    }

    /// The first minute of the schedule after `after` (within five years; `None` for a schedule
    /// that never comes, such as the 31st of February).
    pub fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        let start = after
            .to_offset(time::UtcOffset::UTC)
            .replace_second(0)
            .ok()?
            .replace_nanosecond(0)
            .ok()?
            + time::Duration::minutes(1);
        let mut day = start.date();
        for _ in 0..(5 * 366) {
            if self.day_matches(day) {
                for hour in 0..24_u8 {
                    if self.hours & (1 << hour) == 0 {
                        continue;
                    }
                    for minute in 0..60_u8 {
                        if self.minutes & (1 << minute) == 0 {
                            continue;
                        }
                        let at = day.with_hms(hour, minute, 0).ok()?.assume_utc();
                        if at >= start {
                            return Some(at);
                        }
                    }
                }
            }
            day = day.next_day()?;
        }
        None
    }

    fn day_matches(&self, day: time::Date) -> bool {
        if self.months & (1 << u8::from(day.month())) == 0 {
            return false;
        }
        let by_day = self.days & (1 << day.day()) != 0;
        let by_weekday = self.weekdays & (1 << day.weekday().number_days_from_sunday()) != 0;
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (false, true) => by_day,
            (true, false) => by_weekday,
            (false, false) => by_day || by_weekday,
        }
    }
}

/// One field as a bit set of its values.
fn field(raw: &str, low: u8, high: u8, name: &str) -> Result<u64, String> {
    let bad =
        || format!("`{raw}` is not a valid {name} ({low} to {high}, `*`, ranges, steps, lists)");
    let mut bits = 0_u64;
    for part in raw.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<u8>().ok().filter(|s| *s > 0).ok_or_else(bad)?,
            ),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (low, high),
            _ => match range.split_once('-') {
                Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
                None => {
                    let value = range.parse().map_err(|_| bad())?;
                    (value, if part.contains('/') { high } else { value })
                }
            },
        };
        if from < low || to > high || from > to {
            return Err(bad());
        }
        for value in (from..=to).step_by(usize::from(step)) {
            bits |= 1 << value;
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn cron_finds_the_next_minute_of_its_schedule() {
        let at = datetime!(2026-11-26 10:17:30 UTC);
        let next = |cron: &str| Cron::parse(cron).unwrap().next_after(at);
        assert_eq!(next("* * * * *"), Some(datetime!(2026-11-26 10:18 UTC)));
        assert_eq!(next("0 */6 * * *"), Some(datetime!(2026-11-26 12:00 UTC)));
        assert_eq!(next("30 2 * * *"), Some(datetime!(2026-11-27 02:30 UTC)));
        assert_eq!(
            next("15,45 9-17 * * 1-5"),
            Some(datetime!(2026-11-26 10:45 UTC))
        );
        // Sunday as 0 and as 7; 2026-11-29 is a Sunday.
        assert_eq!(next("0 0 * * 0"), Some(datetime!(2026-11-29 00:00 UTC)));
        assert_eq!(next("0 0 * * 7"), Some(datetime!(2026-11-29 00:00 UTC)));
        // Day of month or day of week, when both are given: the 1st, or a Monday (2026-11-30).
        assert_eq!(next("0 0 1 * 1"), Some(datetime!(2026-11-30 00:00 UTC)));
        assert_eq!(next("0 0 29 2 *"), Some(datetime!(2028-02-29 00:00 UTC)));
        assert_eq!(next("0 0 31 2 *"), None);
        let source = HarvestSourceInput {
            name: Some("s".into()),
            kind: Some("dcat".into()),
            url: Some("https://x.org/catalog".into()),
            organisation: Some("cmre".into()),
            schedule: Some("0 2 * * *".into()),
            ..Default::default()
        }
        .parse(uuid::Uuid::nil(), at)
        .unwrap();
        assert!(!source.due(None, datetime!(2026-11-27 01:59 UTC)));
        assert!(source.due(None, datetime!(2026-11-27 02:00 UTC)));
        assert!(!source.due(
            Some(datetime!(2026-11-27 02:00:03 UTC)),
            datetime!(2026-11-27 10:00 UTC)
        ));
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "*/0 * * * *",
            "5-1 * * * *",
            "x * * * *",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad}");
        }
    }
}
