// "Go back" on keyturn's error pages without inline code (the pages' CSP forbids it): the
// link goes home by itself; with a history to return to, it goes back instead.
document.querySelectorAll("a[data-back]").forEach(function (a) {
  a.addEventListener("click", function (e) {
    if (window.history.length > 1) {
      e.preventDefault();
      window.history.back();
    }
  });
});
