// The partner unit's page (PC): its contact signs in with the account the community made for
// the unit and downloads the unit's in-service members' community record for a quarter.
// The partner token is kept apart from a member's, in this tab's session only; signing out
// ends it on the server (POST /api/v1/auth/logout).

import { addQuarterOptions } from "./ui.js";

const SESSION_KEY = "gridpoints.partnerSession";
const TIMEOUT_MS = 30 * 1000;
const QUARTERS_SHOWN = 6;

const TEXT = {
  needBoth: "请输入手机号和密码。",
  badCredentials: "手机号或密码不正确。",
  tooMany: (s) => "尝试次数过多，请等待 " + s + " 秒后再试。",
  offline: "无法连接服务器，请检查网络后重试。",
  failed: "操作失败，请稍后再试。",
  downloading: "正在生成…",
  download: "下载本季度记录（Excel）",
  expired: "登录已过期，请重新登录。",
  account: (name) => "当前账号：" + name,
};

const signInForm = document.getElementById("sign-in");
const recordCard = document.getElementById("record");
const signInError = document.getElementById("sign-in-error");
const recordError = document.getElementById("record-error");
const downloadButton = document.getElementById("download");
const periodSelect = document.getElementById("period");

function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    // A session saved before the server gave the quarters is signed in again.
    return session && session.expiresAt > Date.now() && session.quarters ? session : null;
  } catch (_) {
    return null;
  }
}

function show(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

async function call(path, options) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    return await fetch(path, Object.assign({ signal: controller.signal }, options));
  } catch (_) {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

function showRecord(session) {
  signInForm.hidden = true;
  recordCard.hidden = false;
  document.getElementById("unit-name").textContent = session.unitName;
  document.getElementById("account-name").textContent = TEXT.account(session.name);
  periodSelect.innerHTML = "";
  addQuarterOptions(periodSelect, session.quarters, QUARTERS_SHOWN);
}

function showSignIn(message) {
  sessionStorage.removeItem(SESSION_KEY);
  recordCard.hidden = true;
  signInForm.hidden = false;
  show(signInError, message || "");
}

signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const phone = document.getElementById("phone").value.trim();
  const password = document.getElementById("password").value;
  if (!phone || !password) return show(signInError, TEXT.needBoth);
  const response = await call("/api/v1/auth/partner-login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phone: phone, password: password }),
  });
  if (!response) return show(signInError, TEXT.offline);
  if (response.status === 401) return show(signInError, TEXT.badCredentials);
  if (response.status === 429) {
    return show(signInError, TEXT.tooMany(response.headers.get("Retry-After") || 60));
  }
  if (!response.ok) return show(signInError, TEXT.failed);
  const body = await response.json();
  const session = {
    token: body.access_token,
    expiresAt: Date.now() + body.expires_in * 1000,
    unitId: body.account.partner_unit_id,
    unitName: body.account.partner_unit_name,
    name: body.account.name,
    quarters: body.recent_quarters,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  show(signInError, "");
  showRecord(session);
});

downloadButton.addEventListener("click", async () => {
  const session = loadSession();
  if (!session) return showSignIn(TEXT.expired);
  show(recordError, "");
  downloadButton.disabled = true;
  downloadButton.textContent = TEXT.downloading;
  const period = periodSelect.value;
  const response = await call(
    "/api/v1/partner-units/" + session.unitId + "/record.xlsx?period=" + period,
    { headers: { Authorization: "Bearer " + session.token } },
  );
  downloadButton.disabled = false;
  downloadButton.textContent = TEXT.download;
  if (!response) return show(recordError, TEXT.offline);
  if (response.status === 401) return showSignIn(TEXT.expired);
  if (!response.ok) {
    let detail = "";
    try {
      detail = (await response.json()).detail || "";
    } catch (_) {
      detail = "";
    }
    return show(recordError, detail || TEXT.failed);
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = session.unitName + "-" + period + "-社区表现记录.xlsx";
  document.body.appendChild(link);
  link.click();
  link.remove();
});

// Signing out ends the token on the server too, not only in this tab; an unreachable server
// still leaves the tab signed out (the token is forgotten here).
document.getElementById("sign-out").addEventListener("click", async () => {
  const session = loadSession();
  const button = document.getElementById("sign-out");
  button.disabled = true;
  if (session) {
    await call("/api/v1/auth/logout", {
      method: "POST",
      headers: { Authorization: "Bearer " + session.token },
    });
  }
  button.disabled = false;
  showSignIn("");
});

const existing = loadSession();
if (existing) showRecord(existing);
else showSignIn("");
