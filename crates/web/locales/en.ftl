# The pages' words in English. Each message is named once and used by id from the templates;
# a French file beside this one adds the language without touching them.

site-name = Fathom
skip-to-content = Skip to the content
nav-search = Search
nav-api = API
nav-sign-in = Sign in
nav-signed-in-as = Signed in as { $name }
marking-label = Marking of this page

home-title = Find marine and maritime research data
home-lead = Search datasets by words, place, time, platform or instrument.
search-label = Search the catalogue
search-placeholder = e.g. CTD Ligurian Sea 2021
search-button = Search
home-by-domain = By data domain
home-by-organisation = By organisation
home-by-classification = By classification
home-recent = Recently published
home-none = Nothing has been published that you may see.
home-all-datasets = All { $count } datasets you may see

search-title = Search
search-title-for = “{ $text }” – Search
results-heading = Results
total-exact = { $count ->
    [0] No datasets match
    [one] One dataset matches
   *[other] { $shown } datasets match
}
total-approximate = About { $shown } datasets match
no-results-hint = Try fewer words, other spellings, or remove a filter.
facets-heading = Refine
facets-apply = Apply filters
facet-keyword = Keyword
facet-organisation = Organisation
facet-format = Format
facet-licence = Licence
facet-theme = Theme
facet-domain = Data domain
facet-project = Project
facet-campaign = Campaign
facet-platform = Platform
facet-instrument = Instrument
facet-observed_property = Observed property
facet-classification = Classification
sort-label = Sort by
sort-relevance = Relevance
sort-modified = Recently changed
sort-title = Title
sort-apply = Sort
page-previous = Previous page
page-next = Next page
page-position = Results { $first } to { $last }
clear-filters = Clear all filters
search-as-json = This search in the API (JSON)
published-by = Published by { $organisation }

dataset-description = Description
dataset-no-description = No description given.
dataset-keywords = Keywords
dataset-themes = Themes
dataset-extent = Where and when
dataset-period = Period
dataset-period-value = { $start } to { $end }
dataset-open = open
dataset-bbox = Bounding box
dataset-bbox-value = west { $west }°, south { $south }°, east { $east }°, north { $north }°
dataset-distributions = Distributions
dataset-no-distributions = No distribution is listed.
distribution-format = Format
distribution-size = Size
distribution-access = Access
distribution-download = Download
distribution-checksum = Checksum
distribution-untitled = Distribution
dataset-about = About this dataset
dataset-organisation = Organisation
dataset-state = State
dataset-licence = Licence
dataset-version = Version
dataset-issued = Issued
dataset-modified = Modified
dataset-identifiers = Identifiers
dataset-landing-page = Landing page
dataset-contacts = Contacts
dataset-creators = Creators
dataset-context = Context
dataset-domain = Data domain
dataset-project = Project
dataset-campaign = Campaign
dataset-platforms = Platforms
dataset-instruments = Instruments
dataset-observed-properties = Observed properties
dataset-cite = Cite this dataset
dataset-cite-bibtex = BibTeX
dataset-cite-ris = RIS (EndNote, Zotero, Mendeley)
dataset-export = Export the metadata
dataset-revision = Revision { $revision }, changed { $at }

sign-in-title = Sign in
sign-in-name = User name
sign-in-password = Password
sign-in-button = Sign in
sign-in-problem = There is a problem
sign-in-failed = The user name or the password is not right.
sign-in-expired = This form has expired or was not sent from this site. Please try again.
sign-in-hint = Passwords are set by an administrator, with the command “{ $command }”.
sign-out = Sign out

account-title = Your account
account-name = User name
account-role = Role
account-clearance = Clearance
account-nationality = Nationality
account-communities = Communities
account-memberships = Organisations
account-none = None
account-tokens = API tokens
account-no-tokens = You have no API tokens.
token-description = Description
token-created = Created
token-expires = Expires
token-last-used = Last used
token-state = State
token-never = Never
token-active = Active
token-revoked = Revoked

error-not-found-title = Page not found
error-not-found-text = There is nothing at this address, or nothing you may see. Check the address, or search the catalogue.
error-unauthenticated-title = Sign in to see this page
error-unauthenticated-text = This page is for signed-in users.
error-forbidden-title = Not allowed
error-forbidden-text = You may not do this.
error-bad-request-title = This request cannot be read
error-internal-title = Something went wrong
error-internal-text = The error has been logged. Please try again later; if it persists, tell the people who run this catalogue and give them this reference: { $reference }.
error-back-home = Back to the home page

footer-text = Fathom, an open-source catalogue of marine and maritime research data.
footer-api-docs = API documentation
