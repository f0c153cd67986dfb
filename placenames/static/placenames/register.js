/* The printed place-name list: the Print button (no inline handler under the Content-Security-Policy). */
(function () {
  "use strict";
  var button = document.getElementById("print-register");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
