/* The print button of a printable page (no inline handlers under the page's CSP). */
(function () {
  "use strict";
  var button = document.getElementById("print-record");
  if (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  }
})();
