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

export class ApiError extends Error {
  // status 0 means the server was never reached (offline, timeout).
  constructor(status, problem, retryAfter) {
    const body = problem || {};
    super(body.detail || body.title || "HTTP " + status);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code || (status === 0 ? "network" : "");
    this.detail = body.detail || "";
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
// Field work (check-ins, service records) is often done where the signal drops. Writes made
// while offline will be kept here, in order, and sent by request() when the connection
// returns; sign-in and reads never wait in it. Nothing is queued yet: every request is live.

// ---- Calls the pages make ----

// The login answer: {access_token, expires_in, member, password_change_required}.
export async function signIn(phone, password) {
  const result = await request("POST", "/api/v1/auth/login", { phone: phone, password: password });
  saveToken(result.access_token, result.expires_in);
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
