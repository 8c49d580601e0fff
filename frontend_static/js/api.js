// The one module through which pages talk to the server: requests, the sign-in token,
// and errors. Every failure reaches a page as an ApiError, so a page has one thing to handle.
//
// Kept to syntax that old Android WebViews and WeChat's browser parse (no `?.`, no `??`):
// a module that fails to parse leaves the page blank with no message at all.

const TOKEN_KEY = "gridpoints.token";
const EXPIRES_KEY = "gridpoints.tokenExpiresAt";
// Sign in again a minute early rather than have a form fail halfway through.
const EXPIRY_MARGIN_MS = 60 * 1000;
// Weak mobile networks can leave a request hanging for minutes with no feedback.
const TIMEOUT_MS = 20 * 1000;

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

export async function request(method, path, body) {
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
  if (response.status === 401 && token) clearToken();
  throw new ApiError(response.status, data, parseRetryAfter(response.headers.get("Retry-After")));
}

// ---- Offline queue ----
// Field work (check-ins, service records) is often done where the signal drops. Writes made
// while offline will be kept here, in order, and sent by request() when the connection
// returns; sign-in and reads never wait in it. Nothing is queued yet: every request is live.

// ---- Calls the pages make ----

export async function signIn(phone, password) {
  const result = await request("POST", "/api/v1/auth/login", { phone: phone, password: password });
  saveToken(result.access_token, result.expires_in);
  return result.member;
}

export function getMe() {
  return request("GET", "/api/v1/me");
}
