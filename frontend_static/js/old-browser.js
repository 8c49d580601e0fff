// Run only by browsers too old for ES modules (loaded with `nomodule`), so that such a browser
// says why the page does nothing instead of staying blank. A file, not an inline script: the
// Content-Security-Policy runs no inline script. ES5 on purpose: it is all such a browser runs.
(function () {
  var notice = document.getElementById("old-browser");
  if (notice) {
    notice.hidden = false;
  } else {
    document.body.textContent = "您的浏览器版本过旧，请升级后再试。";
  }
})();
