/* The assessment pages: print the sheet, confirm before locking a year (no inline handlers
 * under the page's CSP). */
(function () {
  "use strict";
  var print = document.getElementById("print-sheet");
  if (print) {
    print.addEventListener("click", function () {
      window.print();
    });
  }
  document.querySelectorAll("form.js-confirm").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
