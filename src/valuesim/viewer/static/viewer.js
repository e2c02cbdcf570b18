// valuesim view: the little the pages need from JavaScript (everything works without it, but
// the static copy's filters, which are links to pre-written pages, and sorting within its pages).
(function () {
  "use strict";
  var isStatic = document.body.getAttribute("data-static") === "1";
  var form = document.getElementById("filters");
  if (form) {
    form.querySelectorAll("select").forEach(function (sel) {
      sel.addEventListener("change", function () {
        if (isStatic) {
          var opt = sel.options[sel.selectedIndex];
          if (opt && opt.getAttribute("data-href")) { window.location.href = opt.getAttribute("data-href"); }
        } else {
          form.submit();
        }
      });
    });
  }
  if (!isStatic) { return; }
  // the static copy: a header click sorts the rows of the page shown
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.style.cursor = "pointer";
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var desc = th.getAttribute("data-desc") !== "1";
        th.setAttribute("data-desc", desc ? "1" : "0");
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent.trim(), y = b.cells[col].textContent.trim();
          var nx = parseFloat(x), ny = parseFloat(y);
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
