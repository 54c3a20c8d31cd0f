// tlslab viewer: select an arrow (click, Enter, or the arrow keys / j k)
// to show its frame's annotated bytes in the panel. No external resource.
(function () {
  "use strict";
  function arrows(svg) { return Array.prototype.slice.call(svg.querySelectorAll(".arrow")); }
  function show(a) {
    var svg = a.ownerSVGElement;
    arrows(svg).forEach(function (x) { x.classList.remove("selected"); x.setAttribute("aria-current", "false"); });
    a.classList.add("selected");
    a.setAttribute("aria-current", "true");
    var panel = document.getElementById(svg.getAttribute("data-panel"));
    if (!panel) return;
    panel.querySelectorAll(".detail.shown").forEach(function (d) { d.classList.remove("shown"); });
    var d = document.getElementById(svg.getAttribute("data-prefix") + "d-" + a.getAttribute("data-id"));
    if (d) { d.classList.add("shown"); panel.scrollTop = 0; }
  }
  document.querySelectorAll("svg.ladder").forEach(function (svg) {
    arrows(svg).forEach(function (a) {
      a.addEventListener("click", function (ev) { ev.preventDefault(); show(a); a.focus(); });
      a.addEventListener("keydown", function (ev) {
        var list = arrows(svg), i = list.indexOf(a), next = null;
        if (ev.key === "ArrowDown" || ev.key === "j") next = list[i + 1];
        if (ev.key === "ArrowUp" || ev.key === "k") next = list[i - 1];
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); show(a); return; }
        if (next) { ev.preventDefault(); next.focus(); show(next); next.scrollIntoView({block: "nearest"}); }
      });
    });
  });
  // A link to an arrow (#e12 from the evidence list) selects it and
  // scrolls the ladder, not the whole page, to it.
  function reveal(el) {
    var wrap = el.closest(".ladder-wrap"), line = el.querySelector("line, circle");
    if (!wrap) return;
    var box = el.querySelector(".hit").getBBox(), mark = (line || el).getBBox();
    wrap.scrollTop = Math.max(0, box.y - wrap.clientHeight / 2);
    if (mark.x < wrap.scrollLeft || mark.x + mark.width > wrap.scrollLeft + wrap.clientWidth) {
      wrap.scrollLeft = Math.max(0, mark.x - 200);
    }
    window.scrollTo(0, wrap.getBoundingClientRect().top + window.scrollY - 8);
  }
  function fromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.classList && el.classList.contains("arrow")) { show(el); el.focus({preventScroll: true}); reveal(el); }
  }
  window.addEventListener("hashchange", fromHash);
  // After the load, when the browser has made its own jump to the
  // fragment, which would leave the ladder's top out of view.
  window.addEventListener("load", function () { requestAnimationFrame(fromHash); });
})();
