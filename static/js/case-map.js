/* The case page's map: the grid's outline and the reported point (and the arrival, when
 * recorded), drawn with Leaflet on a plain background (no tiles on an intranet). */
(function () {
  "use strict";

  var container = document.getElementById("case-map");
  var source = document.getElementById("case-map-data");
  if (!container || !source || !window.L) return;
  var data = JSON.parse(source.textContent);
  var L = window.L;

  var map = L.map(container, {
    attributionControl: false,
    scrollWheelZoom: false,
    zoomSnap: 0.25,
    minZoom: 4,
    maxZoom: 18,
  });
  // The view is set before any layer is added: Leaflet draws paths against the map's view.
  var layers = [];
  var bounds = L.latLngBounds([]);
  if (data.boundary) {
    var outline = L.geoJSON(data.boundary, {
      interactive: false,
      style: function () {
        return { className: "map-outline map-outline--filled" };
      },
    });
    layers.push(outline);
    bounds.extend(outline.getBounds());
  }
  var point = L.circleMarker([data.lat, data.lng], { radius: 8, className: "case-map__point" });
  point.bindTooltip(data.labels.report);
  layers.push(point);
  bounds.extend(point.getLatLng());
  if (data.arrived) {
    var arrived = L.circleMarker(data.arrived, { radius: 6, className: "case-map__arrived" });
    arrived.bindTooltip(data.labels.arrived);
    layers.push(arrived);
    bounds.extend(arrived.getLatLng());
  }
  if (data.boundary) {
    map.fitBounds(bounds, { padding: [16, 16] });
  } else {
    map.setView([data.lat, data.lng], 15);
  }
  layers.forEach(function (layer) {
    layer.addTo(map);
  });
})();
