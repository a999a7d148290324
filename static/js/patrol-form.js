/* The patrol form on a phone: takes the GPS fix into the hidden lat/lng inputs (with a retry),
 * previews the photos, and shows the deadline, case number and second officer only when the
 * chosen outcome or kind needs them. Without this script every field is shown and the server
 * refuses an on-site patrol without a position, with a clear message. */
(function () {
  "use strict";

  var form = document.getElementById("patrol-form");
  if (!form) return;
  var labelsNode = document.getElementById("patrol-form-labels");
  var labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  var lat = form.querySelector("input[name=lat]");
  var lng = form.querySelector("input[name=lng]");
  var status = document.getElementById("gps-status");
  var retry = document.getElementById("gps-retry");
  var gpsBox = document.getElementById("gps");
  // Worse than this and the fix is shown as coarse (still usable: the server checks the city).
  var COARSE_METRES = 200;

  function say(text, state) {
    if (status) status.textContent = text;
    if (gpsBox) {
      gpsBox.classList.remove("gps--ok", "gps--error", "gps--busy", "gps--coarse");
      if (state) gpsBox.classList.add("gps--" + state);
    }
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : match;
    });
  }

  function locate() {
    if (!("geolocation" in navigator)) {
      say(labels.unsupported, "error");
      return;
    }
    say(labels.locating, "busy");
    if (retry) retry.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var c = position.coords;
        lat.value = c.latitude.toFixed(6);
        lng.value = c.longitude.toFixed(6);
        var acc = Math.round(c.accuracy);
        // A new fix answers the server's complaint about the old one.
        if (gpsBox) {
          gpsBox.querySelectorAll(".field__error").forEach(function (node) {
            node.remove();
          });
        }
        var text = fill(labels.found, { lat: lat.value, lng: lng.value, acc: acc });
        if (acc > COARSE_METRES) {
          say(text + " " + fill(labels.coarse, { acc: acc }), "coarse");
        } else {
          say(text, "ok");
        }
        if (retry) retry.disabled = false;
      },
      function (error) {
        var key = { 1: "denied", 2: "unavailable", 3: "timeout" }[error.code] || "unavailable";
        say(labels[key], "error");
        if (retry) retry.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 }
    );
  }

  if (retry) retry.addEventListener("click", locate);
  // A form shown again after an error keeps the position it was sent with, unless the
  // server refused that position: then a new fix is taken.
  var refused = gpsBox && gpsBox.classList.contains("gps--error");
  if (lat && lng && lat.value && lng.value && !refused) {
    say(fill(labels.kept, { lat: lat.value, lng: lng.value }), "ok");
  } else if (lat && lng) {
    if (refused) {
      lat.value = "";
      lng.value = "";
    }
    locate();
  }

  // --- fields that depend on the kind and the outcome ------------------------------------
  function checked(name) {
    var input = form.querySelector("input[name=" + name + "]:checked");
    if (input) return input.value;
    var hidden = form.querySelector("input[type=hidden][name=" + name + "]");
    return hidden ? hidden.value : "";
  }

  function show(id, visible) {
    var node = document.getElementById(id);
    if (!node) return;
    // A field with an error stays visible so that the message is seen.
    node.hidden = !visible && !node.classList.contains("field--error");
  }

  function refresh() {
    var kind = checked("kind");
    var outcome = checked("outcome");
    show("field-deadline", outcome === "notice_issued");
    show("field-case", outcome === "case_opened");
    show("field-second-officer", kind === "inspection");
  }

  form.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (name === "kind" || name === "outcome") refresh();
  });
  refresh();

  // --- photo previews (blob: URLs, allowed by the page's CSP) -----------------------------
  var photos = form.querySelector("input[type=file][name=photos]");
  var previews = document.getElementById("photo-previews");
  var urls = [];
  if (photos && previews) {
    photos.addEventListener("change", function () {
      urls.forEach(function (url) {
        URL.revokeObjectURL(url);
      });
      urls = [];
      previews.textContent = "";
      Array.prototype.forEach.call(photos.files || [], function (file) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        var url = URL.createObjectURL(file);
        urls.push(url);
        img.src = url;
        img.alt = file.name;
        img.width = 96;
        img.height = 96;
        item.appendChild(img);
        previews.appendChild(item);
      });
      var count = document.createElement("li");
      count.className = "thumbs__count";
      count.textContent = fill(labels.photos, { n: (photos.files || []).length });
      if ((photos.files || []).length) previews.appendChild(count);
    });
  }

  // --- do not send an on-site patrol without a position -----------------------------------
  form.addEventListener("submit", function (event) {
    var kind = checked("kind");
    if (kind !== "online_check" && lat && !lat.value && "geolocation" in navigator) {
      event.preventDefault();
      say(labels.needed, "error");
      if (gpsBox && gpsBox.scrollIntoView) gpsBox.scrollIntoView({ block: "center" });
      locate();
    }
  });
})();
