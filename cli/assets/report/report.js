// The findings table: filter as you type (every word must appear in the row), sort by a click
// on a heading. Reads only the page; fetches nothing.
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var input = document.getElementById("search");
  var shown = document.getElementById("shown");
  if (!table || !input || !shown) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });

  function filter() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (r, i) {
      var hit = words.every(function (w) { return texts[i].indexOf(w) >= 0; });
      r.hidden = !hit;
      if (hit) { n += 1; }
    });
    shown.textContent = String(n);
    shown.setAttribute("data-value", String(n));
  }
  input.addEventListener("input", filter);

  function key(row, col, numeric) {
    var cell = row.cells[col];
    var v = cell.getAttribute("data-sort");
    if (numeric) {
      // Amounts are sorted by their whole number of fen, exact at any size.
      try { return BigInt(v === null ? cell.textContent : v); } catch (e) { return BigInt(0); }
    }
    return cell.textContent;
  }

  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "num";
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var order = rows.map(function (r, i) { return { r: r, i: i, k: key(r, col, numeric) }; });
      order.sort(function (a, b) {
        var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
        if (!up) { c = -c; }
        return c || a.i - b.i;
      });
      var frag = document.createDocumentFragment();
      order.forEach(function (o) { frag.appendChild(o.r); });
      body.appendChild(frag);
    });
  });
})();
