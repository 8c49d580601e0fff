// Check-in link, opened from the QR code at an activity. This first, small module decides
// where the member goes: signed in, the check-in page itself (checkin-page.js) loads; signed
// out, the server is asked at once for a receipt of the scan (so a slow sign-in still counts
// from the moment of the scan), the scan is kept on the phone, and the member goes to sign-in
// without waiting for the check-in scripts (the sign-in page fetches them while they type).
// No static import: api.js and, for a phone that holds a sign-in, checkin-page.js are fetched
// side by side, so the check-in costs no more round trips than one module would.

const TEXT = {
  zh: {
    toSignIn: "请先登录，登录后将自动签到…",
  },
};
const t = TEXT.zh;

const PAGE_MODULE = "js/checkin-page.js";
// A receipt that takes longer than this is not worth holding the member at a blank page.
const RECEIPT_WAIT_MS = 5 * 1000;

const params = new URLSearchParams(location.search);
const activityId = Number(params.get("a"));
const token = params.get("t");
// The moment the link opened, on the phone's clock.
const openedAt = new Date().toISOString();

// Only a hint (api.js decides whether the sign-in still holds): start fetching the page's
// module now rather than after api.js has arrived.
function preloadPage() {
  let signedInBefore = false;
  try {
    signedInBefore = Boolean(localStorage.getItem("gridpoints.token"));
  } catch (_) {
    signedInBefore = false;
  }
  if (!signedInBefore) return;
  const link = document.createElement("link");
  link.rel = "modulepreload";
  link.href = PAGE_MODULE;
  document.head.appendChild(link);
}

// The server's witness of the scan (POST /api/v1/checkins/receipts). A server without
// receipts (404/405), a refused code or no signal: the scan is kept without one.
function askReceipt(api) {
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), RECEIPT_WAIT_MS));
  const body = { activity_id: activityId, token: token };
  const asked = api.request("POST", "/api/v1/checkins/receipts", body).catch(() => null);
  return Promise.race([asked, timeout]);
}

async function toSignIn(api) {
  const status = document.getElementById("status");
  if (status) status.textContent = t.toSignIn;
  const answer = await askReceipt(api);
  api.keepPendingScan({
    activity_id: activityId,
    token: token,
    opened_at: openedAt,
    receipt: answer && answer.receipt ? answer.receipt : null,
    scanned_at: answer && answer.scanned_at ? answer.scanned_at : null,
  });
  location.replace("index.html?next=" + encodeURIComponent("checkin.html" + location.search));
}

preloadPage();
import("./api.js").then((api) => {
  if (api.getToken() || !activityId || !token) return import("./checkin-page.js");
  return toSignIn(api);
});
