// The one module through which pages talk to the server: requests, the sign-in token,
// and errors. Every failure reaches a page as an ApiError, so a page has one thing to handle,
// except two that no page handles itself: a token the server no longer accepts (401: signed
// out elsewhere, password changed) goes back to sign-in with a notice, and a member who
// signed in with a temporary password goes to 修改密码 (password.html).
//
// Kept to syntax that old Android WebViews and WeChat's browser parse (no `?.`, no `??`):
// a module that fails to parse leaves the page blank with no message at all.

const TOKEN_KEY = "gridpoints.token";
const EXPIRES_KEY = "gridpoints.tokenExpiresAt";
// Who signed in (the login answer's member id), so a page can ask for "mine" at once.
const MEMBER_KEY = "gridpoints.memberId";
// Sign in again a minute early rather than have a form fail halfway through.
const EXPIRY_MARGIN_MS = 60 * 1000;
// Weak mobile networks can leave a request hanging for minutes with no feedback.
const TIMEOUT_MS = 20 * 1000;
// A one-time word for the next page ("expired", "signed-out-everywhere", ...), which that
// page says in its own dictionary. Kept for this tab only, and read once.
const NOTICE_KEY = "gridpoints.notice";
const SIGN_IN_PAGE = "index.html";
const PASSWORD_PAGE = "password.html";
const DEFAULT_PAGE = "me.html";

// ---- Saying why, in the member's words ----

// What the member reads when the server refused something: the problem's own sentence, or
// its fields' reasons without the field names ("token: 签到码已过期" says "签到码已过期"); a
// text with no Chinese in it (a framework's English) gives way to a plain sentence by status.
const FIELD_PREFIX = /^\s*[A-Za-z_$][\w$.\[\]]*\s*[:：]\s*/;
const HAS_CHINESE = /[\u3400-\u9fff]/;
const BY_STATUS = {
  400: "提交的内容有误，请重新扫码或稍后再试。",
  401: "登录已失效，请重新登录。",
  403: "您没有权限进行此操作。",
  404: "找不到要办理的内容，可能已被删除。",
  409: "与当前状态冲突，请刷新页面后再看。",
  413: "上传的内容太大了。",
  429: "操作太频繁，请稍等一会儿再试。",
};
const SERVER_TROUBLE = "服务器暂时出了问题，请稍后再试。";

function plainSentences(text) {
  const parts = String(text || "").split(/[；;]\s*/);
  const said = [];
  for (const part of parts) {
    const plain = part.replace(FIELD_PREFIX, "").trim();
    if (plain && HAS_CHINESE.test(plain) && said.indexOf(plain) === -1) said.push(plain);
  }
  return said.join("；");
}

// `problem`: a problem+json body (or one batch item's problem): {detail, errors, ...}.
export function plainDetail(problem, status) {
  const body = problem || {};
  const code = status || body.status || 0;
  const errors = Array.isArray(body.errors) ? body.errors : [];
  const detail = String(body.detail || "");
  // The server's own sentence, unless it is only a list of "field: reason".
  if (detail && !FIELD_PREFIX.test(detail) && HAS_CHINESE.test(detail)) return detail;
  const reasons = plainSentences(errors.map((e) => (e && e.detail) || "").join("；"));
  if (reasons) return reasons;
  const fromDetail = plainSentences(detail);
  if (fromDetail) return fromDetail;
  if (code >= 500) return SERVER_TROUBLE;
  return BY_STATUS[code] || (code ? "操作未成功，请稍后再试。" : "");
}

export class ApiError extends Error {
  // status 0 means the server was never reached (offline, timeout).
  constructor(status, problem, retryAfter) {
    const body = problem || {};
    const detail = status === 0 ? "" : plainDetail(body, status);
    super(detail || "HTTP " + status);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code || (status === 0 ? "network" : "");
    // Said to the member as it is: plain Chinese, never a field name or English.
    this.detail = detail;
    this.errors = Array.isArray(body.errors) ? body.errors : [];
    this.retryAfter = retryAfter;
  }
}

// ---- Token ----

export function getToken() {
  const token = localStorage.getItem(TOKEN_KEY);
  const expiresAt = Number(localStorage.getItem(EXPIRES_KEY));
  if (!token || !(expiresAt > Date.now() + EXPIRY_MARGIN_MS)) {
    return null;
  }
  return token;
}

function saveToken(token, expiresInSeconds) {
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(EXPIRES_KEY, String(Date.now() + expiresInSeconds * 1000));
}

export function clearToken() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(EXPIRES_KEY);
  localStorage.removeItem(MEMBER_KEY);
}

// The signed-in member's id, or null when not known here (signed in before it was kept, or a
// partner contact): the page asks /api/v1/me instead.
export function signedInMemberId() {
  const id = Number(localStorage.getItem(MEMBER_KEY));
  return getToken() && id > 0 ? id : null;
}

// ---- Notices from one page to the next ----

export function passNotice(code) {
  try {
    sessionStorage.setItem(NOTICE_KEY, code);
  } catch (_) {
    // Private mode on old browsers: the notice is a courtesy, the navigation still happens.
  }
}

export function takeNotice() {
  try {
    const code = sessionStorage.getItem(NOTICE_KEY);
    sessionStorage.removeItem(NOTICE_KEY);
    return code || "";
  } catch (_) {
    return "";
  }
}

// ---- Where a page goes when the session says so ----

function currentPage() {
  return location.pathname.split("/").pop() || SIGN_IN_PAGE;
}

// The page is being replaced: the caller's await never settles, so no page paints an error,
// or starts a navigation of its own, over the one under way.
function leave(url) {
  location.replace(url);
  return new Promise(() => {});
}

// Back to sign-in, then to this page again (a check-in link keeps its code).
function signInAgain() {
  passNotice("expired");
  const here = currentPage() + location.search;
  const back = /^[a-z][a-z0-9_-]*\.html(\?[^#]*)?$/i.test(here) && currentPage() !== DEFAULT_PAGE;
  return leave(SIGN_IN_PAGE + (back ? "?next=" + encodeURIComponent(here) : ""));
}

function toPasswordPage() {
  return currentPage() === PASSWORD_PAGE ? null : leave(PASSWORD_PAGE);
}

// ---- Requests ----

// Seconds, from either form RFC 9110 allows: a number or an HTTP date.
function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (!isNaN(seconds)) return Math.max(0, Math.ceil(seconds));
  const when = Date.parse(value);
  return isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (response.status === 204 || type.indexOf("json") === -1) return null;
  try {
    return await response.json();
  } catch (_) {
    return null;
  }
}

async function send(method, path, body) {
  const headers = { Accept: "application/json, application/problem+json" };
  const token = getToken();
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";

  const controller = typeof AbortController === "function" ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), TIMEOUT_MS) : null;
  let response;
  try {
    response = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller ? controller.signal : undefined,
      credentials: "same-origin",
    });
  } catch (_) {
    throw new ApiError(0, null, null);
  } finally {
    if (timer) clearTimeout(timer);
  }

  const data = await readBody(response);
  if (response.ok) return data;
  // The server no longer accepts this token; keeping it would loop the pages.
  const ended = response.status === 401 && Boolean(token);
  if (ended) clearToken();
  const error = new ApiError(response.status, data, parseRetryAfter(response.headers.get("Retry-After")));
  error.tokenEnded = ended;
  throw error;
}

export async function request(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (error.tokenEnded) return signInAgain();
    if (error.status === 403 && error.code === "password_change_required") {
      const away = toPasswordPage();
      if (away) return away;
    }
    throw error;
  }
}

// ---- Offline queue ----
// Check-ins made where the signal drops wait on the phone (localStorage, so a closed page
// keeps them) and are sent from whichever page of the site is open next: when it loads, when
// the signal returns, and every little while as long as some wait. Each item carries its
// client_id, so sending one twice never makes two records. What the server refused leaves
// the queue for a list the member reads on 我的 and dismisses; nothing is dropped unseen.
// An item the server could not take just now (5xx) or never heard (no signal) stays queued.

const QUEUE_KEY = "gridpoints.checkinQueue";
const REFUSED_KEY = "gridpoints.checkinRefused";
const QUEUE_EVENT = "gridpoints:queue";
const RESEND_EVERY_MS = 20 * 1000;

function readList(key) {
  try {
    const items = JSON.parse(localStorage.getItem(key) || "[]");
    return Array.isArray(items) ? items : [];
  } catch (_) {
    return [];
  }
}

function writeList(key, items) {
  localStorage.setItem(key, JSON.stringify(items));
  try {
    window.dispatchEvent(new CustomEvent(QUEUE_EVENT));
  } catch (_) {
    // A browser without CustomEvent: pages read the lists again on their own next look.
  }
}

// Pages that show the queue redraw on this event (it fires on every change).
export function onQueueChange(listener) {
  window.addEventListener(QUEUE_EVENT, listener);
}

// The check-ins waiting to be sent, oldest first: the bodies as they will be sent.
export function queued() {
  return readList(QUEUE_KEY);
}

// Each item remembers who scanned (`_member`, kept on the phone, never sent): on a phone
// shared in a family, one member's check-in is never sent under another's sign-in.
export function enqueue(item) {
  const items = queued().filter((i) => i.client_id !== item.client_id);
  const owned = {};
  for (const key in item) owned[key] = item[key];
  owned._member = signedInMemberId();
  items.push(owned);
  writeList(QUEUE_KEY, items);
}

function isOwnedBy(item, memberId) {
  return !item._member || !memberId || item._member === memberId;
}

// The body as the server takes it: without the phone's own notes (keys starting with "_").
function asSent(item) {
  const body = {};
  for (const key in item) if (key.charAt(0) !== "_") body[key] = item[key];
  return body;
}

// Check-ins the server refused: {client_id, activity_id, at, reason, refused_at}, kept until
// the member has read them.
export function refused() {
  return readList(REFUSED_KEY);
}

export function dismissRefused(clientId) {
  writeList(REFUSED_KEY, refused().filter((i) => i.client_id !== clientId));
}

export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // Old WebViews: a version-4 UUID from getRandomValues.
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.prototype.map.call(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

// The phone's clock as it sends: the server measures the phone's offset from it (sent_at).
export function phoneNow() {
  return new Date().toISOString();
}

// What became of each item this page sent (client_id -> the batch's answer for it), so a page
// learns the fate of its own check-in even when another send took it.
const outcomes = {};

export function outcomeOf(clientId) {
  return outcomes[clientId] || null;
}

async function sendOnce() {
  const memberId = signedInMemberId();
  const items = queued().filter((i) => isOwnedBy(i, memberId));
  if (!items.length || !getToken()) return [];
  const answer = await send("POST", "/api/v1/checkins/batch", { sent_at: phoneNow(), items: items.map(asSent) });
  const results = (answer && answer.items) || [];
  const done = {};
  const refusedNow = [];
  for (const result of results) {
    outcomes[result.client_id] = result;
    if (result.status >= 500) continue;
    done[result.client_id] = true;
    if (!result.checkin) {
      const item = items.filter((i) => i.client_id === result.client_id)[0] || {};
      refusedNow.push({
        client_id: result.client_id,
        activity_id: item.activity_id,
        at: item.at,
        code: (result.problem && result.problem.code) || "",
        reason: plainDetail(result.problem, result.status),
        refused_at: new Date().toISOString(),
      });
    }
  }
  writeList(QUEUE_KEY, queued().filter((i) => !done[i.client_id]));
  if (refusedNow.length) {
    const kept = refused().filter((r) => !done[r.client_id]);
    writeList(REFUSED_KEY, kept.concat(refusedNow));
  }
  return results;
}

// Send everything queued, in one batch; sends never overlap (a second call waits for the
// first, then sends what is still queued). Resolves with the batch's answers; a failure of
// the whole batch (no signal, server down, signed out) rejects and leaves the queue as it was.
let sending = Promise.resolve();

export function sendQueue() {
  const run = sending.then(sendOnce, sendOnce);
  sending = run.catch(() => []);
  return run;
}

// Every page: send at load, when the signal returns, and now and then while items wait.
function sendQuietly() {
  const memberId = signedInMemberId();
  if (!queued().some((i) => isOwnedBy(i, memberId)) || !getToken()) return;
  if (navigator.onLine === false) return;
  sendQueue().catch(() => {});
}

if (typeof window !== "undefined" && window.addEventListener) {
  window.addEventListener("online", sendQuietly);
  setTimeout(sendQuietly, 0);
  setInterval(sendQuietly, RESEND_EVERY_MS);
}

// ---- A scan made before sign-in ----
// The check-in link opened signed out keeps its scan (and the server's receipt for it) here;
// the check-in page takes it after sign-in. Older than a receipt lives, it is of no use.

const PENDING_SCAN_KEY = "gridpoints.pendingScan";
const PENDING_SCAN_MAX_MS = 30 * 60 * 1000;

export function keepPendingScan(scan) {
  try {
    localStorage.setItem(PENDING_SCAN_KEY, JSON.stringify(scan));
  } catch (_) {
    // Storage full or forbidden: the check-in after sign-in goes without the receipt.
  }
}

// The kept scan of this code, read once; null when there is none (or it is stale).
export function takePendingScan(activityId, token) {
  let scan = null;
  try {
    scan = JSON.parse(localStorage.getItem(PENDING_SCAN_KEY) || "null");
    localStorage.removeItem(PENDING_SCAN_KEY);
  } catch (_) {
    return null;
  }
  if (!scan || scan.activity_id !== activityId || scan.token !== token) return null;
  if (!(Date.now() - Date.parse(scan.opened_at) < PENDING_SCAN_MAX_MS)) return null;
  return scan;
}

// ---- Calls the pages make ----

// The login answer: {access_token, expires_in, member, password_change_required}.
export async function signIn(phone, password) {
  const result = await request("POST", "/api/v1/auth/login", { phone: phone, password: password });
  saveToken(result.access_token, result.expires_in);
  if (result.member && result.member.id) localStorage.setItem(MEMBER_KEY, String(result.member.id));
  return result;
}

// A member with a temporary password reads themselves (allowed) and is sent on to change it.
export async function getMe() {
  const me = await request("GET", "/api/v1/me");
  if (me && me.password_change_required) {
    const away = toPasswordPage();
    if (away) return away;
  }
  return me;
}

// Ends the sign-in on the server, then forgets the token here. `everywhere` ends every
// sign-in of the member, on every device. A token the server had already ended counts as
// signed out; any other failure is thrown and, for `everywhere`, keeps the token (the other
// devices are still signed in, so the member should know and try again).
export async function signOut(everywhere) {
  const path = everywhere ? "/api/v1/auth/logout-all" : "/api/v1/auth/logout";
  if (!getToken()) return clearToken();
  try {
    await send("POST", path);
  } catch (error) {
    if (!error.tokenEnded && everywhere) throw error;
  }
  clearToken();
}
