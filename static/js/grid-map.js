/* The grid page's map: the grid's outline and its sub-grids, drawn with Leaflet on a plain
 * background (no tile layer: government intranets have no internet). The data comes from a
 * json_script element; a click on a sub-grid opens its page. */
(function () {
  "use strict";

  var container = document.getElementById("grid-map");
  var source = document.getElementById("grid-map-data");
  if (!container || !source || !window.L) return;
  var data = JSON.parse(source.textContent);
  var labels = data.labels || {};

  var map = window.L.map(container, {
    zoomControl: false,
    attributionControl: false,
    scrollWheelZoom: false,
    zoomSnap: 0.25,
    minZoom: 4,
    maxZoom: 16,
  });
  window.L.control
    .zoom({ zoomInTitle: labels.zoomIn || "+", zoomOutTitle: labels.zoomOut || "-" })
    .addTo(map);

  var bounds = window.L.latLngBounds([]);

  function tooltip(child) {
    // Built as DOM nodes, never as HTML text: grid names are data.
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = child.name;
    box.appendChild(name);
    var detail = document.createElement("span");
    detail.className = "map-tooltip__detail";
    detail.textContent = child.problems + " / " + child.grids + " " + (labels.problems || "");
    box.appendChild(detail);
    return box;
  }

  data.children.forEach(function (child) {
    var layer = window.L.geoJSON(child.boundary, {
      style: function () {
        return { className: "map-child map-child--" + child.state };
      },
    });
    layer.bindTooltip(tooltip(child), { sticky: true, className: "map-tooltip" });
    layer.on("click", function () {
      window.location.assign(child.url);
    });
    layer.addTo(map);
    bounds.extend(layer.getBounds());
  });

  if (data.grid.boundary) {
    var outline = window.L.geoJSON(data.grid.boundary, {
      interactive: false,
      style: function () {
        // Without sub-grids the grid itself is the area shown: fill it lightly.
        var filled = data.children.length === 0;
        return { className: filled ? "map-outline map-outline--filled" : "map-outline", fill: filled };
      },
    }).addTo(map);
    bounds.extend(outline.getBounds());
  }

  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16] });
  } else {
    map.setView([35, 118], 6);
  }
})();
