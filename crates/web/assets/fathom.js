// Fathom's pages work without this script; it only enhances them.
"use strict";

// Search: a changed facet or sort order updates the results without reloading the page, and the
// address follows, so that the state can still be shared.
document.addEventListener("change", (event) => {
  const form = event.target.closest("form.search");
  if (!form || !(event.target.matches(".facet input") || event.target.id === "sort")) {
    return;
  }
  const address = "/search?" + new URLSearchParams(new FormData(form)).toString();
  fetch(address, { headers: { Accept: "text/html" } })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((html) => {
      const next = new DOMParser().parseFromString(html, "text/html");
      for (const selector of [".search-layout", ".banner"]) {
        const fresh = next.querySelectorAll(selector);
        document.querySelectorAll(selector).forEach((old, n) => fresh[n] && old.replaceWith(fresh[n]));
      }
      document.title = next.title;
      history.pushState(null, "", address);
    })
    .catch(() => form.submit());
});

window.addEventListener("popstate", () => location.reload());
