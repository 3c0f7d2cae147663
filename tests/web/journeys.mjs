// Fathom's pages in a real browser: Debian's chromium driven by playwright-core. Starts the demo
// catalogue from the binary given, with people signing in at a real OpenID Connect provider
// (tests/oidc, oidc-provider) beside local accounts, walks the journeys of its readers with JavaScript on and off,
// checks every page type with axe-core (WCAG 2.1 AA rules), and saves a screenshot of each page type
// in target/ui-screenshots/.
//
//   node tests/web/journeys.mjs target/debug/fathom
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const binary = process.argv[2] ?? "target/debug/fathom";
const screenshots = "target/ui-screenshots";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
// The NATO SECRET demo dataset (REL TO NATO): the analyst reads it, an anonymous reader never sees it.
const SECRET = "passive-acoustic-signatures-north-atlantic-2024";
const SECRET_TITLE = "Passive acoustic signatures, North Atlantic 2024";

/** A port free now. */
function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a process and resolves with the first match of `pattern` in what it prints. */
function started(child, pattern, what) {
  let log = "";
  return new Promise((resolve, reject) => {
    const read = (chunk) => {
      log += chunk;
      const found = log.match(pattern);
      if (found) resolve(found);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => reject(new Error(`${what} exited (${code}):\n${log}`)));
  });
}

/** Starts the OpenID Connect provider, which sends people back to `redirect`; resolves with its issuer. */
async function startProvider(dir, redirect) {
  const provider = spawn(
    "node",
    [fileURLToPath(new URL("../oidc/provider.mjs", import.meta.url)), "serve", join(dir, "oidc-keys.json"), "0", redirect],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const [, issuer] = await started(provider, /issuer (http:\/\/\S+)/, "the OIDC provider");
  return { provider, issuer };
}

/** Starts `fathom serve --demo` on a free port, people signing in at the provider too; resolves
 * with its address and the analyst's password. */
async function startDemo() {
  const dir = mkdtempSync(join(tmpdir(), "fathom-web-"));
  const port = await freePort();
  const { provider, issuer } = await startProvider(dir, `http://127.0.0.1:${port}/sign-in/oidc/callback`);
  const server = spawn(
    binary,
    ["--data-dir", dir, "--config", join(dir, "none.toml"), "serve", "--demo", "--listen", `127.0.0.1:${port}`],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        FATHOM_OIDC_ISSUER: issuer,
        FATHOM_OIDC_CLIENT_ID: "fathom-web",
        FATHOM_OIDC_CLIENT_SECRET: "fathom-web-secret",
        FATHOM_OIDC_SCOPES: "[fathom]",
      },
    },
  );
  let log = "";
  server.stdout.on("data", (chunk) => (log += chunk));
  server.stderr.on("data", (chunk) => (log += chunk));
  const [, address] = await started(server, /listening on (http:\/\/[^ ]+)/, "fathom");
  const password = (who) => log.match(new RegExp(`Demo ${who} password[^:]*: ([A-Za-z0-9_-]+)`))?.[1];
  return { server, provider, address, analystPassword: password("demo-analyst") };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const demo = await startDemo();
mkdirSync(screenshots, { recursive: true });
const failures = [];

/** A browser context of its own (its own cookies), with JavaScript on or off. */
async function reader({ javaScript = true, bypassCSP = false } = {}) {
  return browser.newContext({
    baseURL: demo.address,
    javaScriptEnabled: javaScript,
    bypassCSP,
    viewport: { width: 1280, height: 900 },
  });
}

async function journey(name, steps) {
  const started = Date.now();
  try {
    await steps();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}\n${error.stack}`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** The page's marking banner, as the top one reads. */
async function banner(page) {
  return (await page.locator(".banner").first().textContent()).trim();
}

/** No script error and no CSP violation on the page. */
function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  return errors;
}

await journey("anonymous: search, facet, dataset, export (JavaScript on)", async () => {
  const context = await reader();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto("/");
  assert.equal(await banner(page), "PUBLIC");
  await shot(page, "home-anonymous");
  await page.fill("#q", "temperature");
  await page.press("#q", "Enter");
  await page.waitForURL(/\/search\?q=temperature/);
  const total = await page.locator(".total").textContent();
  assert.match(total, /\d+ datasets? match/);
  await shot(page, "search-anonymous");
  // The search box suggests datasets as one types; arrows and Enter open one.
  await page.fill("#q", "");
  await page.type("#q", "ambient nois", { delay: 20 });
  await page.locator("#q-suggestions li").first().waitFor();
  assert.equal(await page.getAttribute("#q", "aria-expanded"), "true");
  await shot(page, "search-suggestions");
  const suggested = (await page.locator("#q-suggestions li").first().textContent()).trim();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/datasets\//);
  assert.equal((await page.locator("h1").textContent()).trim(), suggested);
  // Dragging across the histogram's bars searches within those years.
  await page.goto("/search?q=temperature");
  const bars = page.locator(".histogram a[data-year]");
  const [from, to] = [bars.first(), bars.nth(3)];
  const years = [await from.getAttribute("data-year"), await to.getAttribute("data-year")];
  const [a, b] = [await from.boundingBox(), await to.boundingBox()];
  await page.mouse.move(a.x + a.width / 2, a.y + a.height - 1);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height - 1, { steps: 4 });
  await page.mouse.up();
  await page.waitForURL((url) => url.searchParams.get("datetime") === `${years[0]}-01-01/${years[1]}-12-31`);
  await page.goto("/search?q=temperature");
  // A facet updates the results in place (the address follows).
  const box = page.locator("fieldset.facet").first().locator("input[type=checkbox]").first();
  const value = await box.getAttribute("value");
  await box.check();
  await page.waitForURL((url) => url.searchParams.getAll("keyword").includes(value));
  await page.locator(".total").waitFor();
  assert.notEqual(await page.locator(".total").textContent(), total, "the facet narrowed the results");
  assert.ok(await page.locator(`fieldset.facet input[value="${value}"]`).isChecked());
  // A year of the histogram narrows the search to it.
  await page.locator(".histogram a").last().click();
  await page.waitForURL((url) => /^\d{4}-01-01\/\d{4}-12-31$/.test(url.searchParams.get("datetime") ?? ""));
  assert.match(await page.inputValue("#datetime"), /^\d{4}-01-01\/\d{4}-12-31$/);
  // Drawing a box on the map searches within it.
  await page.locator(".map path.leaflet-interactive").first().waitFor();
  await page.getByRole("button", { name: "Draw a box" }).click();
  const area = await page.locator(".results .map").boundingBox();
  await page.mouse.move(area.x + area.width * 0.3, area.y + area.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(area.x + area.width * 0.7, area.y + area.height * 0.7, { steps: 5 });
  await page.mouse.up();
  await page.waitForURL((url) => url.searchParams.get("bbox")?.split(",").length === 4);
  assert.match(await page.inputValue("#bbox"), /^-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$/);
  await page.locator(".map path.leaflet-interactive").first().waitFor();
  await shot(page, "search-box-drawn");
  await page.locator(".hit h3 a").first().click();
  await page.waitForURL(/\/datasets\//);
  assert.ok(await page.locator("h1").textContent());
  await page.locator(".map .leaflet-overlay-pane path").first().waitFor();
  await shot(page, "dataset-anonymous");
  const turtle = await page.locator("a", { hasText: "DCAT-AP (Turtle)" }).getAttribute("href");
  const exported = await page.request.get(turtle);
  assert.equal(exported.status(), 200);
  assert.match(exported.headers()["content-type"], /text\/turtle/);
  assert.deepEqual(errors, []);
  await context.close();
});

await journey("anonymous: the NATO SECRET dataset is nowhere", async () => {
  const context = await reader();
  const page = await context.newPage();
  const response = await page.goto(`/datasets/${SECRET}`);
  assert.equal(response.status(), 404);
  assert.equal(await page.locator("body").textContent().then((t) => t.includes(SECRET_TITLE)), false);
  await shot(page, "not-found");
  for (const path of [`/datasets/${SECRET}/export/ttl`, `/datasets/${SECRET}/citation.ris`]) {
    assert.equal((await page.request.get(path)).status(), 404, path);
  }
  await page.goto("/search?q=passive+acoustic+signatures");
  assert.equal(await page.getByText(SECRET_TITLE).count(), 0);
  await page.goto("/search?q=zzzzzzzz");
  assert.match(await page.locator(".total").textContent(), /No datasets match/);
  await shot(page, "search-empty");
  // Two letters wrong: nothing found, and another spelling offered, which finds what it says.
  await page.goto("/search?q=hydrofone+recordngs");
  assert.match(await page.locator(".total").textContent(), /No datasets match/);
  assert.equal((await page.locator(".respelling a").textContent()).trim(), "hydrophone recordings");
  await shot(page, "search-respelling");
  await page.locator(".respelling a").click();
  await page.waitForURL(/q=hydrophone\+recordings/);
  assert.match(await page.locator(".total").textContent(), /\d+ datasets? match/);
  // A misspelt word of the NATO SECRET dataset alone is offered no spelling of it.
  await page.goto("/search?q=sigantures");
  assert.match(await page.locator(".total").textContent(), /No datasets match/);
  assert.doesNotMatch(await page.content(), /signatures/i);
  assert.doesNotMatch(await banner(page), /SECRET/);
  await context.close();
});

/** Signs in on the page with the demo analyst's password; lands on `next`. */
async function signIn(page, next) {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await page.fill("#name", "demo-analyst");
  await page.fill("#password", demo.analystPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname + url.search === next);
}

await journey("sign-in: a wrong password is refused, the right one opens a session", async () => {
  const context = await reader();
  const page = await context.newPage();
  await page.goto("/sign-in");
  await shot(page, "sign-in");
  await page.fill("#name", "demo-analyst");
  await page.fill("#password", "not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".error-summary").waitFor();
  assert.equal(await page.inputValue("#name"), "demo-analyst", "what was typed is kept");
  await shot(page, "sign-in-failed");
  await signIn(page, "/account");
  assert.match(await page.locator("main").textContent(), /NATO SECRET/);
  await shot(page, "account");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  assert.ok(await page.getByRole("link", { name: "Sign in" }).isVisible());
  await context.close();
});

await journey("sign-in at the organisation's identity provider (OpenID Connect, code flow with PKCE)", async () => {
  const context = await reader();
  const page = await context.newPage();
  await page.goto("/sign-in?next=/account");
  await page.getByRole("link", { name: "Sign in with your organisation’s account" }).click();
  // The provider's own pages: any name signs in; `analyst` carries Fathom's claims.
  await page.waitForURL((url) => url.pathname.startsWith("/interaction/"));
  await shot(page, "sign-in-oidc-provider");
  await page.fill("input[name=login]", "analyst");
  await page.fill("input[name=password]", "any");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL((url) => url.pathname === "/account" && url.port === new URL(demo.address).port);
  const main = await page.locator("main").textContent();
  assert.match(main, /analyst/);
  assert.match(main, /your organisation’s identity provider/);
  assert.match(main, /NATO SECRET/);
  assert.match(main, /cmre \(steward\)/);
  await shot(page, "account-oidc");
  // The claims hold on every page: the NATO SECRET dataset is there, marked as such.
  await page.goto(`/datasets/${SECRET}`);
  assert.equal(await banner(page), "NATO SECRET // REL TO NATO");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  assert.equal((await page.goto(`/datasets/${SECRET}`)).status(), 404);
  await context.close();
});

await journey("analyst, signed in: the NATO SECRET dataset, marked as such", async () => {
  const context = await reader();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, "/search?q=passive+acoustic+signatures");
  await page.getByText(SECRET_TITLE).first().waitFor();
  assert.equal(await banner(page), await page.locator(".banner").last().textContent());
  assert.match(await banner(page), /^NATO SECRET/);
  await shot(page, "search-analyst");
  const response = await page.goto(`/datasets/${SECRET}`);
  assert.equal(response.status(), 200);
  assert.equal(await banner(page), "NATO SECRET // REL TO NATO");
  assert.equal((await page.locator(".dataset .portion").textContent()).trim(), "NATO SECRET // REL TO NATO");
  await shot(page, "dataset-analyst-secret");
  // schema.org JSON-LD in the head; the exports and the citation follow the session.
  const jsonLd = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
  assert.equal(jsonLd["@type"], "Dataset");
  assert.equal(jsonLd.name, SECRET_TITLE);
  const iso = await page.request.get(`/datasets/${SECRET}/export/iso19139`);
  assert.equal(iso.status(), 200);
  assert.match(await iso.text(), /gmd:MD_Metadata/);
  const bibtex = await page.request.get(`/datasets/${SECRET}/citation.bib`);
  assert.match(await bibtex.text(), /^@misc\{passive-acoustic-signatures-north-atlantic-2024,/);
  await page.goto("/");
  assert.match(await banner(page), /^NATO SECRET/);
  await shot(page, "home-analyst");
  assert.deepEqual(errors, []);
  await context.close();
});

await journey("anonymous: the domain model, from /browse to a platform and its datasets", async () => {
  const context = await reader();
  const page = await context.newPage();
  await page.goto("/browse");
  await shot(page, "browse");
  await page.locator("section", { hasText: "Platforms" }).locator("a").first().click();
  await page.waitForURL(/\/platforms\//);
  assert.equal(await page.locator(".entity .kind").textContent(), "Platform");
  await shot(page, "platform");
  await page.goto("/campaigns/logmec-2021");
  assert.match(await page.locator("h1").textContent(), /LOGMEC/i);
  await shot(page, "campaign");
  await page.goto("/browse");
  await page.locator("section", { hasText: "Vocabularies" }).locator("a").first().click();
  await page.waitForURL(/\/vocabularies\//);
  await page.locator(".concept-tree a").first().click();
  await page.waitForURL(/\/concept\?iri=/);
  assert.ok(await page.locator("h1").textContent());
  await shot(page, "concept");
  const feed = await page.request.get("/search.atom?q=glider");
  assert.equal(feed.status(), 200);
  assert.match(feed.headers()["content-type"], /application\/atom\+xml/);
  assert.match(await feed.text(), /<entry>[\s\S]*<title>\(PUBLIC\) /);
  await context.close();
});

await journey("lineage and history: a restricted source stays restricted; an older revision reads as it was", async () => {
  const product = "/datasets/shipping-noise-footprint-model-outputs-norwegian-coast";
  const restrictedSource = "Sonar performance trial, Norwegian Sea 2021";
  const anonymous = await reader();
  const page = await anonymous.newPage();
  await page.goto(product);
  assert.equal(await page.locator("svg.lineage .node.restricted").count(), 1);
  assert.equal((await page.content()).includes("sonar-performance-trial"), false);
  assert.equal(await page.getByText(restrictedSource).count(), 0);
  await page.locator("svg.lineage").scrollIntoViewIfNeeded();
  await shot(page, "dataset-lineage-anonymous");
  await page.getByRole("link", { name: "Read it as it was" }).first().click();
  await page.waitForURL(/revision=1/);
  assert.match(await page.locator(".notice").textContent(), /You are reading revision 1/);
  await anonymous.close();
  const analyst = await reader();
  const signedIn = await analyst.newPage();
  await signIn(signedIn, product);
  assert.equal(await signedIn.locator("svg.lineage .node.restricted").count(), 0);
  assert.equal(await signedIn.locator('svg.lineage a[href="/datasets/sonar-performance-trial-norwegian-sea-2021"]').count(), 1);
  assert.match(await banner(signedIn), /^NATO CONFIDENTIAL/);
  await shot(signedIn, "dataset-lineage-analyst");
  await analyst.close();
});

await journey("JavaScript off: search, filter and read a dataset", async () => {
  const context = await reader({ javaScript: false });
  const page = await context.newPage();
  await page.goto("/search?q=salinity");
  const box = page.locator("fieldset.facet").first().locator("input[type=checkbox]").first();
  const value = await box.getAttribute("value");
  await box.check();
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.waitForURL((url) => url.searchParams.getAll("keyword").includes(value));
  assert.ok(await page.locator(`fieldset.facet input[value="${value}"]`).isChecked());
  await shot(page, "search-no-javascript");
  await page.locator(".hit h3 a").first().click();
  await page.waitForURL(/\/datasets\//);
  assert.ok(await page.locator(".distributions").count());
  await shot(page, "dataset-no-javascript");
  // Every word must match; where none has them all, the last words are left out, and said.
  await page.goto("/search?q=glider+quokka");
  assert.match(await page.locator(".ignored").textContent(), /quokka/);
  assert.match(await page.locator(".total").textContent(), /\d+ datasets? match/);
  await context.close();
});

await journey("accessibility: axe-core finds no WCAG 2.1 AA violation on any page type", async () => {
  // axe is injected as a script, which the pages' CSP would refuse: this context alone bypasses it.
  const context = await reader({ bypassCSP: true });
  const page = await context.newPage();
  const check = async (path, before = async () => {}) => {
    await page.goto(path);
    await before();
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    const violations = result.violations.map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
    );
    assert.deepEqual(violations, [], `${path}`);
  };
  await check("/sign-in");
  await signIn(page, "/");
  for (const path of [
    "/",
    "/search?q=ctd",
    "/search?q=zzzzzzzz",
    `/datasets/${SECRET}`,
    "/datasets/no-such-dataset",
    "/account",
    "/browse",
    "/campaigns/logmec-2021",
    "/organisations/cmre",
    "/vocabularies/platform-types",
    "/datasets/shipping-noise-footprint-model-outputs-norwegian-coast",
    "/datasets/shipping-noise-footprint-model-outputs-norwegian-coast?revision=1",
  ]) {
    await check(path);
  }
  // The search box's list of suggestions, open, one of them chosen.
  await check("/search?q=ctd", async () => {
    await page.fill("#q", "");
    await page.type("#q", "ctd lig", { delay: 20 });
    await page.locator("#q-suggestions li").first().waitFor();
    await page.keyboard.press("ArrowDown");
  });
  await context.close();
});

await browser.close();
demo.server.kill();
demo.provider.kill();
if (failures.length) {
  console.log(`\n${failures.length} journey(s) failed: ${failures.join("; ")}`);
  process.exit(1);
}
console.log(`\nscreenshots in ${screenshots}/`);
