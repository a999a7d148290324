/* Photo inputs dressed as camera buttons (label.camera holding an input[type=file]): once a
 * photo is taken or chosen, show it below the button with its name, so the person sees what
 * will be sent. */
(function () {
  "use strict";

  document.querySelectorAll("label.camera input[type=file]").forEach(function (input) {
    var field = input.closest(".field");
    if (!field) return;
    var preview = field.querySelector("[data-photo-preview]");
    var name = field.querySelector("[data-photo-name]");
    var url = null;

    input.addEventListener("change", function () {
      var files = input.files || [];
      if (url) window.URL.revokeObjectURL(url);
      url = null;
      if (!files.length) {
        if (preview) preview.hidden = true;
        return;
      }
      if (name) {
        name.textContent = files.length > 1 ? files[0].name + " +" + (files.length - 1) : files[0].name;
      }
      if (preview) {
        url = window.URL.createObjectURL(files[0]);
        preview.src = url;
        preview.hidden = false;
      }
    });
  });
})();
