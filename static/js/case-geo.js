/* Location for case forms. A form (or block) with data-geo holds inputs marked data-geo-lat,
 * data-geo-lng and optionally data-geo-accuracy; a data-geo-fix button takes the device's
 * position, data-geo-status says how it went (with the accuracy), and with data-geo-locate
 * the grid holding the point is looked up (GET …/grids/locate/?lat=&lng=, with the session)
 * and named in data-geo-grid. data-geo-auto asks at once; one request serves every such form
 * on the page. The server locates the grid again when the form is sent. */
(function () {
  "use strict";

  var source = document.getElementById("case-geo-labels");
  var roots = Array.prototype.slice.call(document.querySelectorAll("[data-geo]"));
  if (!source || !roots.length) return;
  var words = JSON.parse(source.textContent);

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function setStatus(root, text, state) {
    var status = root.querySelector("[data-geo-status]");
    if (!status) return;
    status.textContent = text;
    status.dataset.state = state;
  }

  function setValue(root, selector, value) {
    var input = root.querySelector(selector);
    if (input) input.value = value;
  }

  function locateGrid(root, lat, lng) {
    var url = root.dataset.geoLocate;
    var target = root.querySelector("[data-geo-grid]");
    if (!url || !target) return;
    var query = "?lat=" + encodeURIComponent(lat) + "&lng=" + encodeURIComponent(lng);
    window
      .fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) return null;
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (grid) {
        target.textContent = grid ? fill(words.grid, { name: grid.name }) : words.outside;
        target.dataset.state = grid ? "ok" : "outside";
        if (grid) target.dataset.code = grid.code;
      })
      .catch(function () {
        target.textContent = "";
      });
  }

  function apply(root, position) {
    var c = position.coords;
    setValue(root, "[data-geo-lat]", c.latitude.toFixed(6));
    setValue(root, "[data-geo-lng]", c.longitude.toFixed(6));
    setValue(root, "[data-geo-accuracy]", Math.round(c.accuracy));
    setStatus(root, fill(words.fixed, { m: Math.round(c.accuracy) }), "ok");
    locateGrid(root, c.latitude.toFixed(6), c.longitude.toFixed(6));
  }

  function fail(root, error) {
    var reason = words.unsupported;
    if (error) {
      reason = { 1: words.denied, 2: words.unavailable, 3: words.timeout }[error.code] || words.unavailable;
    }
    var template = root.dataset.geoLocate ? words.failed : words.failed_short;
    setStatus(root, fill(template, { reason: reason }), "error");
  }

  function fix(targets) {
    if (!navigator.geolocation) {
      targets.forEach(function (root) {
        fail(root, null);
      });
      return;
    }
    targets.forEach(function (root) {
      setStatus(root, words.locating, "busy");
    });
    navigator.geolocation.getCurrentPosition(
      function (position) {
        targets.forEach(function (root) {
          apply(root, position);
        });
      },
      function (error) {
        targets.forEach(function (root) {
          fail(root, error);
        });
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 }
    );
  }

  roots.forEach(function (root) {
    var button = root.querySelector("[data-geo-fix]");
    if (button) {
      button.addEventListener("click", function () {
        fix([root]);
      });
    }
  });
  var auto = roots.filter(function (root) {
    return root.hasAttribute("data-geo-auto");
  });
  if (auto.length) fix(auto);
})();
