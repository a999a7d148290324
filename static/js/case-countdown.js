/* Case deadlines counting down: every element with data-countdown shows the time left to its
 * data-deadline, once a second, and turns yellow at data-warn-at (80 % of the time allowed)
 * and red past the deadline. The server's clock and the words come from #case-clock, so a
 * wrong clock on the device does not move the deadlines. */
(function () {
  "use strict";

  var source = document.getElementById("case-clock");
  var items = document.querySelectorAll("[data-countdown]");
  if (!source || !items.length) return;
  var clock = JSON.parse(source.textContent);
  var offset = Date.parse(clock.now) - Date.now();
  if (isNaN(offset)) offset = 0;
  var LIGHTS = ["green", "yellow", "red"];

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // As cases/templatetags/case_ui.py duration_text: "03:12:45", or "2d 03:12:45".
  function duration(seconds) {
    var s = Math.floor(Math.abs(seconds));
    var days = Math.floor(s / 86400);
    var clockText = two(Math.floor((s % 86400) / 3600)) + ":" + two(Math.floor((s % 3600) / 60)) + ":" + two(s % 60);
    return days ? days + clock.d + " " + clockText : clockText;
  }

  function tick() {
    var now = Date.now() + offset;
    items.forEach(function (item) {
      var due = Date.parse(item.dataset.deadline);
      if (isNaN(due)) return;
      var warn = item.dataset.warnAt ? Date.parse(item.dataset.warnAt) : NaN;
      var left = (due - now) / 1000;
      var light = left < 0 ? "red" : !isNaN(warn) && now >= warn ? "yellow" : "green";
      // A light never calms down between two ticks (the server may count working time).
      var shown = LIGHTS.filter(function (name) {
        return item.classList.contains("light--" + name);
      })[0];
      if (shown && LIGHTS.indexOf(shown) > LIGHTS.indexOf(light)) light = shown;
      LIGHTS.forEach(function (name) {
        item.classList.toggle("light--" + name, name === light);
      });
      var text = item.querySelector("[data-countdown-text]");
      if (text) text.textContent = (left >= 0 ? clock.left : clock.over).replace("%(t)s", duration(left));
      var label = item.querySelector("[data-light-label]");
      if (label && clock.lights && clock.lights[light]) label.textContent = clock.lights[light];
    });
  }

  tick();
  window.setInterval(tick, 1000);
})();
