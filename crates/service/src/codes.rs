//! Every kind of failure a client can meet, each with its stable code (the problem document's
//! `type` is `urn:fathom:problem:<code>`), its HTTP status, its title and when it happens: the one
//! table that the API's answers, `docs/api.md` and the OpenAPI document are made from. Clients
//! branch on the code; the detail says the rest in words.

/// Declares [`Code`] and its table from one line per code.
macro_rules! codes {
    ($($variant:ident = $code:literal, $status:literal, $title:literal, $when:literal;)*) => {
        /// A kind of failure (see the module's documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The stable code, as in `urn:fathom:problem:<code>`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The HTTP status the API answers with.
            pub fn status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)*
                }
            }

            /// The same for every problem of this code (RFC 9457's `title`).
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$variant => $title,)*
                }
            }

            /// When it happens.
            pub fn when(self) -> &'static str {
                match self {
                    $(Code::$variant => $when,)*
                }
            }
        }
    };
}

codes! {
    // --- the request itself ---
    BadRequest = "bad-request", 400, "Bad request",
        "the request cannot be read (a bad path segment, header or body of another kind)";
    MalformedJson = "malformed-json", 400, "Malformed JSON",
        "the body is not JSON, or not of the expected shape";
    InvalidParameter = "invalid-parameter", 400, "Invalid query parameter",
        "a query parameter cannot be used; `errors[].parameter` names it";
    Unauthenticated = "unauthenticated", 401, "Authentication required",
        "no bearer token, or one that is unknown, expired or revoked (with `WWW-Authenticate`)";
    NotFound = "not-found", 404, "Not found",
        "nothing at this address, or nothing the caller may see there";
    MethodNotAllowed = "method-not-allowed", 405, "Method not allowed",
        "the resource does not take this method (`Allow` lists those it takes)";
    NotAcceptable = "not-acceptable", 406, "Not acceptable",
        "`Accept` names no representation offered here";
    Timeout = "timeout", 408, "Request timeout",
        "the request took longer than the server allows";
    StaleRevision = "stale-revision", 412, "Stale revision",
        "`If-Match` names a revision that is no longer the current one: read it again";
    BodyTooLarge = "body-too-large", 413, "Body too large",
        "the body is larger than `body_limit`";
    UnsupportedMediaType = "unsupported-media-type", 415, "Unsupported media type",
        "the body's `Content-Type` is not one this operation reads";
    ValidationFailed = "validation-failed", 422, "Invalid fields",
        "fields of the body are invalid; `errors[]` names each, with a JSON pointer";
    ReferenceNotFound = "reference-not-found", 422, "Reference not found",
        "every invalid field refers to something that does not exist or that the caller may not see: an organisation, an entity of the domain model, a concept of a bound vocabulary (a bad link or a profile violation makes it `validation-failed`)";
    IdempotencyKeyReused = "idempotency-key-reused", 422, "Idempotency key reused",
        "an `Idempotency-Key` already used for a different request";
    PreconditionRequired = "precondition-required", 428, "Precondition required",
        "a change without `If-Match`";
    RateLimited = "rate-limited", 429, "Too many requests",
        "over a rate limit (`Retry-After` says when to try again)";
    Internal = "internal", 500, "Internal error",
        "a fault of the server; it is logged, and the answer says nothing more";
    Unavailable = "unavailable", 503, "Unavailable",
        "the server cannot answer now (starting, or a dependency such as the database is down); `Retry-After` says when to try again";

    // --- permission (403) ---
    Forbidden = "forbidden", 403, "Forbidden",
        "the caller may not do this, for a reason no other code names";
    ReadOnlyToken = "read-only-token", 403, "Read-only token",
        "a write with a token whose scopes only read";
    AdminRequired = "admin-required", 403, "Admin required",
        "an operation for admins only (users, tokens, organisations, harvest sources, webhooks, the domain model's vocabularies)";
    EditorRequired = "editor-required", 403, "Editor required",
        "a change of what only an editor of its organisation (or an admin) may change";
    ReviewerRequired = "reviewer-required", 403, "Reviewer required",
        "a decision that only a reviewer or approver of this step may take";
    ClearanceRequired = "clearance-required", 403, "Clearance required",
        "the caller is not cleared for a label the operation involves (labelling beyond what they read, a release, an approval)";
    SeparationOfDuties = "separation-of-duties", 403, "Separation of duties",
        "the caller would decide on their own request, submission or signature, or approve a second step of one approval chain";
    PartyRequired = "party-required", 403, "Party required",
        "an action for the requester, or for a party or signatory of the agreement";
    OversightRequired = "oversight-required", 403, "Oversight required",
        "a view or an act for auditors, officers or stewards (the audit log, others' grants, revoking a grant)";

    // --- the state of the catalogue (409) ---
    Conflict = "conflict", 409, "Conflict",
        "the request conflicts with the current state in a way no other code names";
    SlugTaken = "slug-taken", 409, "Slug taken",
        "another record already has this slug";
    Duplicate = "duplicate", 409, "Duplicate",
        "another record already has this unique value (a name); `errors[]` points at the field";
    StillReferenced = "still-referenced", 409, "Still referenced",
        "a deletion of what other records still refer to";
    ReleaseRequired = "release-required", 409, "Release required",
        "a label change that lets more people read the dataset: ask for a release instead";
    ReleaseNotNeeded = "release-not-needed", 409, "Release not needed",
        "a release asked for a label that lets no more people read the dataset: change it directly";
    WorkingCopyRequired = "working-copy-required", 409, "Working copy required",
        "a direct change of a published dataset whose domain reviews publication: edit its working copy";
    ReviewNotEnabled = "review-not-enabled", 409, "Review not enabled",
        "a submission for review where the dataset's domain does not review publication";
    WrongState = "wrong-state", 409, "Wrong state",
        "an action the record's current state does not allow (already decided, revoked, retired, in review, …)";
    DeadlinePassed = "deadline-passed", 409, "Deadline passed",
        "an action after the deadline or end it had to come before";
    BasisChanged = "basis-changed", 409, "Basis changed",
        "what the action was based on changed since (the dataset under a working copy, a label, a deleted dataset)";
    ConcurrentChange = "concurrent-change", 409, "Concurrent change",
        "another action or edit came first: read the record again and decide anew";
    AlreadyReadable = "already-readable", 409, "Already readable",
        "an access request for a dataset the requester may already read";
    NoApprover = "no-approver", 409, "No approver",
        "a step of the approval chain has nobody other than the requester to decide it";
    VersionNotNewer = "version-not-newer", 409, "Version not newer",
        "a profile version that does not come after the latest one";
    HarvestRunning = "harvest-running", 409, "Harvest running",
        "a harvest of a source that another job is harvesting now";
    IdempotencyInProgress = "idempotency-in-progress", 409, "Request in progress",
        "another request with this `Idempotency-Key` has not finished yet";
    EventNotVisible = "event-not-visible", 409, "Event not visible",
        "a redelivery of an event the subscription's owner may no longer see";
    UserRoleMismatch = "user-role-mismatch", 409, "User role mismatch",
        "a token for an existing user asked with another role than theirs";

    // --- elsewhere ---
    EventPruned = "event-pruned", 410, "Event pruned",
        "a redelivery of an event that is no longer kept";
    ReceiverFailed = "receiver-failed", 502, "Receiver failed",
        "the webhook receiver did not accept the redelivered event";

    // --- SPARQL ---
    SparqlOff = "sparql-off", 404, "SPARQL off",
        "SPARQL is not served here (`sparql = true` turns it on)";
    SparqlSyntax = "sparql-syntax", 400, "SPARQL syntax",
        "the query is not SPARQL 1.1";
    SparqlEvaluation = "sparql-evaluation", 400, "SPARQL evaluation",
        "the query cannot be evaluated";
    QueryTimeout = "query-timeout", 422, "Query timeout",
        "the query ran longer than the server allows";
    QueryTooLarge = "query-too-large", 422, "Query too large",
        "the query's results are larger than the server returns";
    SparqlLoading = "sparql-loading", 503, "SPARQL loading",
        "the graph is still loading (`Retry-After`)";
}

impl Code {
    /// The code of a failure known only by its status (a rejection of the framework).
    pub fn for_status(status: u16) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|code| code.status() == status)
            .unwrap_or(if status >= 500 {
                Self::Internal
            } else {
                Self::BadRequest
            })
    }

    /// The code's problem `type`.
    pub fn uri(self) -> String {
        format!("urn:fathom:problem:{}", self.as_str())
    }

    /// The table as Markdown, for `docs/api.md` (whose copy a test compares with this).
    pub fn markdown_table() -> String {
        let mut table = String::from(
            "| `type` (after `urn:fathom:problem:`) | status | title | when |\n| --- | --- | --- | --- |\n",
        );
        for code in Self::ALL {
            table.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                code.as_str(),
                code.status(),
                code.title(),
                code.when()
            ));
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/api.md` carries the table between its `codes` markers; `FATHOM_UPDATE_DOCS=1` writes it.
    #[test]
    fn the_api_docs_carry_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
        let docs = std::fs::read_to_string(path).unwrap();
        let (start, end) = ("<!-- codes:start -->\n", "<!-- codes:end -->");
        let from = docs.find(start).unwrap() + start.len();
        let to = docs.find(end).unwrap();
        let table = Code::markdown_table();
        if std::env::var_os("FATHOM_UPDATE_DOCS").is_some() {
            std::fs::write(path, format!("{}{table}{}", &docs[..from], &docs[to..])).unwrap();
            return;
        }
        assert_eq!(
            &docs[from..to],
            table,
            "docs/api.md's table of codes differs from the code's: run this test with FATHOM_UPDATE_DOCS=1"
        );
    }

    #[test]
    fn each_code_is_named_once_and_found_by_its_status() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a code is named twice");
        // The first code of each status is its fallback: the general one.
        assert_eq!(Code::for_status(409), Code::Conflict);
        assert_eq!(Code::for_status(403), Code::Forbidden);
        assert_eq!(Code::for_status(404), Code::NotFound);
        assert_eq!(Code::for_status(422), Code::ValidationFailed);
        assert_eq!(Code::for_status(418), Code::BadRequest);
        assert_eq!(Code::for_status(504), Code::Internal);
    }
}
