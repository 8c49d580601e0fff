// Every page loads this: it installs the service worker (/sw.js), which keeps the sign-in,
// 我的, 签到 and 我的记录 pages on the phone so they open without signal. Installed once the
// page has loaded, so its downloads never compete with the page's own.
// Browsers without service workers (old WebViews) simply go on without.

function install() {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // No worker (private mode, a policy): the pages work online as before.
  });
}

if ("serviceWorker" in navigator) {
  if (document.readyState === "complete") install();
  else window.addEventListener("load", install);
}
