// Acervo: small conveniences on top of pages that work without JavaScript.
// n / p (or the arrow keys with Alt) move to the next / previous hit;
// the first highlighted word is scrolled into view.
(function () {
  'use strict';
  document.addEventListener('keydown', function (e) {
    if (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    var next = document.getElementById('next-hit');
    var prev = document.getElementById('prev-hit');
    if ((e.key === 'n' || (e.altKey && e.key === 'ArrowRight')) && next) { window.location = next.href; }
    if ((e.key === 'p' || (e.altKey && e.key === 'ArrowLeft')) && prev) { window.location = prev.href; }
  });
  window.addEventListener('load', function () {
    var first = document.querySelector('svg.hits rect');
    var img = document.getElementById('page-image');
    if (!first || !img) return;
    var svg = first.ownerSVGElement;
    var vb = svg.viewBox.baseVal;
    var y = Number(first.getAttribute('y')) / vb.height * img.getBoundingClientRect().height;
    var top = img.getBoundingClientRect().top + window.scrollY + y - window.innerHeight / 3;
    if (top > window.innerHeight / 2) window.scrollTo(0, top);
  });
})();
