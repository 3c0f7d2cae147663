// Fathom's pages work without this script; it only enhances them.
"use strict";

// What only the script makes possible is said only with it (`.scripted` in the stylesheet).
document.documentElement.classList.add("scripted");

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
      drawMaps();
    })
    .catch(() => form.submit());
});

window.addEventListener("popstate", () => location.reload());

// Maps: each `.map` carries its extents (`data-extents`) and the address of the embedded land
// (`data-land`) or of a tile service (`data-tiles`). Leaflet draws them; a map that may select an
// area (`data-select`) gets a button to draw a box, which fills the search form's `bbox` field.
function drawMaps() {
  if (!window.L) {
    return;
  }
  for (const element of document.querySelectorAll(".map[data-extents]")) {
    if (element.dataset.drawn) {
      continue;
    }
    element.dataset.drawn = "yes";
    const map = L.map(element, { worldCopyJump: true, zoomSnap: 0.5, attributionControl: false });
    basemap(map, element);
    const rectangles = JSON.parse(element.dataset.extents).map((extent) => {
      const [west, south, east, north] = extent.bbox;
      // A box across the antimeridian (west > east) is drawn eastwards past 180°.
      const rectangle = L.rectangle([[south, west], [north, east < west ? east + 360 : east]], {
        color: "#0b4f75",
        weight: 1.5,
        fillOpacity: 0.1,
      });
      if (extent.title) {
        rectangle.bindTooltip(extent.title);
      }
      if (extent.href) {
        rectangle.on("click", () => (location.href = extent.href));
      }
      return rectangle.addTo(map);
    });
    if (rectangles.length) {
      map.fitBounds(L.featureGroup(rectangles).getBounds(), { padding: [16, 16], maxZoom: 7 });
    } else {
      map.setView([50, 0], 2);
    }
    if (element.dataset.select) {
      boxDrawing(map, element);
    }
  }
}

function basemap(map, element) {
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 12 }).addTo(map);
    return;
  }
  fetch(element.dataset.land)
    .then((response) => response.json())
    .then((topology) => {
      const land = topojson.feature(topology, topology.objects.land);
      for (const feature of land.features ?? [land]) {
        const geometry = feature.geometry;
        const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
        polygons.forEach((rings) => rings.forEach(unwrap));
      }
      L.geoJSON(land, {
        interactive: false,
        style: { color: "#8a9aa6", weight: 0.6, fillColor: "#ece8dc", fillOpacity: 1 },
      }).addTo(map).bringToBack();
    });
}

// A ring that crosses the antimeridian goes on past 180° instead of back across the world, and
// stops where Web Mercator does, so that no land is drawn as a band around the globe.
function unwrap(ring) {
  for (let n = 0; n < ring.length; n++) {
    const point = ring[n];
    if (n > 0) {
      const previous = ring[n - 1][0];
      while (point[0] - previous > 180) point[0] -= 360;
      while (point[0] - previous < -180) point[0] += 360;
    }
    point[1] = Math.max(-85, Math.min(85, point[1]));
  }
  // Then back to the world's middle copy as a whole, wherever the ring started.
  const longitudes = ring.map((point) => point[0]);
  const middle = (Math.min(...longitudes) + Math.max(...longitudes)) / 2;
  const shift = -360 * Math.round(middle / 360);
  ring.forEach((point) => (point[0] += shift));
}

function boxDrawing(map, element) {
  const form = element.closest("form");
  const field = form && form.querySelector("input[name=bbox]");
  if (!field) {
    return;
  }
  const Draw = L.Control.extend({
    onAdd() {
      const button = L.DomUtil.create("button", "map-draw");
      button.type = "button";
      button.textContent = element.dataset.drawLabel;
      L.DomEvent.disableClickPropagation(button);
      button.addEventListener("click", () => {
        button.textContent = element.dataset.drawingLabel;
        map.dragging.disable();
        let start = null;
        let box = null;
        map.once("mousedown", (event) => {
          start = event.latlng;
          box = L.rectangle([start, start], { color: "#b10e1e", weight: 2 }).addTo(map);
          map.on("mousemove", (moved) => box.setBounds([start, moved.latlng]));
          map.once("mouseup", (ended) => {
            map.off("mousemove");
            map.dragging.enable();
            const bounds = L.latLngBounds(start, ended.latlng);
            const wrap = (longitude) => ((((longitude + 180) % 360) + 360) % 360) - 180;
            const round = (value) => Math.round(value * 100) / 100;
            field.value = [
              round(wrap(bounds.getWest())),
              round(Math.max(-90, bounds.getSouth())),
              round(wrap(bounds.getEast())),
              round(Math.min(90, bounds.getNorth())),
            ].join(",");
            form.submit();
          });
        });
      });
      return button;
    },
  });
  new Draw({ position: "topright" }).addTo(map);
}

document.addEventListener("DOMContentLoaded", drawMaps);

// Search box: the datasets the words typed so far find best (`/search/suggest`, as the reader may
// see them), listed under the box as the options of a combobox. Arrows move among them, Enter opens
// the one chosen, Escape closes the list; Enter with none chosen searches as before.
function suggestions(input) {
  const list = document.createElement("ul");
  list.id = `${input.id}-suggestions`;
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.dataset.suggestionsLabel);
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  let active = -1;
  let timer = null;
  let asked = 0;
  const options = () => [...list.children];
  const choose = (n) => {
    options().forEach((option, i) => option.setAttribute("aria-selected", String(i === n)));
    active = n;
    if (n >= 0) {
      input.setAttribute("aria-activedescendant", options()[n].id);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const show = (found) => {
    list.replaceChildren(
      ...found.map((item, n) => {
        const option = document.createElement("li");
        option.id = `${list.id}-${n}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = item.title;
        option.dataset.href = item.href;
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          location.assign(item.href);
        });
        return option;
      }),
    );
    choose(-1);
    list.hidden = found.length === 0;
    input.setAttribute("aria-expanded", String(found.length > 0));
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const asking = ++asked;
      if (input.value.trim().length < 2) {
        show([]);
        return;
      }
      fetch("/search/suggest?" + new URLSearchParams({ q: input.value }), {
        headers: { Accept: "application/json" },
      })
        .then((response) => (response.ok ? response.json() : []))
        .then((found) => asking === asked && show(found))
        .catch(() => show([]));
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    const count = options().length;
    if (list.hidden || count === 0) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      choose((active + (event.key === "ArrowDown" ? 1 : count - 1)) % count);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      location.assign(options()[active].dataset.href);
    } else if (event.key === "Escape") {
      show([]);
    }
  });
  input.addEventListener("blur", () => setTimeout(() => show([]), 150));
}

document.addEventListener("DOMContentLoaded", () =>
  document.querySelectorAll("input[data-suggestions-label]").forEach(suggestions),
);

// Histogram: dragging across its bars picks those years as the search's period (a click on one bar
// still picks its year, as without the script).
document.addEventListener("pointerdown", (event) => {
  const start = event.target.closest && event.target.closest(".histogram a[data-year]");
  if (!start || event.button !== 0) {
    return;
  }
  const figure = start.closest(".histogram");
  const bars = [...figure.querySelectorAll("a[data-year]")];
  const from = Number(start.dataset.year);
  let to = from;
  const move = (moved) => {
    const under = document.elementFromPoint(moved.clientX, moved.clientY);
    const bar = under && under.closest("a[data-year]");
    if (bar && figure.contains(bar)) {
      to = Number(bar.dataset.year);
      for (const each of bars) {
        const year = Number(each.dataset.year);
        each.classList.toggle("picked", year >= Math.min(from, to) && year <= Math.max(from, to));
      }
    }
  };
  document.addEventListener("pointermove", move);
  document.addEventListener(
    "pointerup",
    () => {
      document.removeEventListener("pointermove", move);
      bars.forEach((bar) => bar.classList.remove("picked"));
      if (to !== from) {
        const address = new URL(figure.dataset.search, location.href);
        address.searchParams.set("datetime", `${Math.min(from, to)}-01-01/${Math.max(from, to)}-12-31`);
        location.assign(address);
      }
    },
    { once: true },
  );
});

// A bar is a link: dragging it would drag the link away instead of picking years.
document.addEventListener("dragstart", (event) => {
  if (event.target.closest && event.target.closest(".histogram")) {
    event.preventDefault();
  }
});
