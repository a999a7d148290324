/* GridSup: small progressive enhancements for every page. Everything works without it. */
(function () {
  "use strict";

  // Close the user menu (a <details>) on Escape or on a click outside it.
  var menus = document.querySelectorAll("details.user-menu");
  function closeAll(except) {
    menus.forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    var inside = event.target.closest ? event.target.closest("details.user-menu") : null;
    closeAll(inside);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeAll(null);
  });
})();
