// Sign-in page: phone and password in, token stored, on to the "我的" page, or back to the
// page that sent the member here (`?next=checkin.html?...`, keeping a scanned check-in code).
// A member whose password a manager reset (a temporary one) goes to 修改密码 first.
import { getToken, signIn, takeNotice } from "./api.js";

const TEXT = {
  zh: {
    title: "登录 - 网格积分",
    appName: "网格积分",
    tagline: "社区党建网格 · 志愿服务积分",
    heading: "登录",
    phoneLabel: "手机号",
    phonePlaceholder: "请输入手机号",
    passwordLabel: "密码",
    passwordPlaceholder: "请输入密码",
    showPassword: "显示密码",
    submit: "登录",
    submitting: "正在登录…",
    help: "忘记密码或无法登录，请联系所在社区的网格长或管理员。",
    needPhone: "请输入手机号。",
    needPassword: "请输入密码。",
    badPhone: "手机号格式不正确，请检查后重试。",
    badInput: "填写的内容有误，请检查后重试。",
    offline: "无法连接服务器，请检查网络后重试。",
    tooMany: (seconds) => "尝试次数过多，请等待 " + seconds + " 秒后再试。",
    waiting: (seconds) => "请等待 " + seconds + " 秒",
    failed: "登录失败，请稍后再试。",
    // Said once, on arrival from another page (api.js passNotice).
    notices: {
      expired: "登录已失效，请重新登录",
      "signed-out-everywhere": "已在所有设备上退出登录",
    },
  },
};
const t = TEXT.zh;

const DEFAULT_NEXT_PAGE = "me.html";
const PASSWORD_PAGE = "password.html";

// Only a page of this site: a bare file name with its query, never another origin.
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^[a-z][a-z0-9_-]*\.html(\?[^#]*)?$/i.test(next) ? next : DEFAULT_NEXT_PAGE;
}
const NEXT_PAGE = nextPage();

if (getToken()) {
  // replace(): the back button should not return to a sign-in form the user no longer needs.
  location.replace(NEXT_PAGE);
}

// Signed out after a scan: fetch the check-in page's scripts while the member types, so the
// check-in starts as soon as the sign-in is done (prefetch: kept for the next page).
const CHECKIN_SCRIPTS = ["js/checkin-page.js"];
if (/^checkin\.html/.test(NEXT_PAGE)) {
  for (const href of CHECKIN_SCRIPTS) {
    const link = document.createElement("link");
    link.rel = "prefetch";
    link.href = href;
    document.head.appendChild(link);
  }
}

document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

const form = document.getElementById("sign-in");
const phone = document.getElementById("phone");
const password = document.getElementById("password");
const showPassword = document.getElementById("show-password");
const errorBox = document.getElementById("error");
const submit = document.getElementById("submit");
const noticeBox = document.getElementById("notice");
phone.placeholder = t.phonePlaceholder;
password.placeholder = t.passwordPlaceholder;

let waitUntil = 0;

const notice = t.notices[takeNotice()];
if (notice) {
  noticeBox.textContent = notice;
  noticeBox.hidden = false;
}

function showError(message, field) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  if (field) field.focus();
}

function setBusy(busy) {
  submit.disabled = busy;
  submit.textContent = busy ? t.submitting : t.submit;
}

// After a 429 the button counts down, so nobody keeps pressing it and extends the lock.
function holdButton(seconds) {
  waitUntil = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((waitUntil - Date.now()) / 1000);
    if (left <= 0) {
      setBusy(false);
      return;
    }
    submit.disabled = true;
    submit.textContent = t.waiting(left);
    setTimeout(tick, 1000);
  };
  tick();
}

function explain(error) {
  if (error.status === 0) return t.offline;
  if (error.status === 429) {
    return error.detail || t.tooMany(error.retryAfter || 60);
  }
  // The server's 400 texts name schema fields in English; say it in the page's words.
  if (error.status === 400) {
    const onPhone = error.errors.some((e) => e.field === "phone");
    return onPhone ? t.badPhone : t.badInput;
  }
  return error.detail || t.failed;
}

showPassword.addEventListener("change", () => {
  password.type = showPassword.checked ? "text" : "password";
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (Date.now() < waitUntil) return;
  errorBox.hidden = true;
  noticeBox.hidden = true;
  const phoneValue = phone.value.trim();
  if (!phoneValue) return showError(t.needPhone, phone);
  if (!password.value) return showError(t.needPassword, password);

  setBusy(true);
  try {
    const result = await signIn(phoneValue, password.value);
    location.replace(result.password_change_required ? PASSWORD_PAGE : NEXT_PAGE);
  } catch (error) {
    setBusy(false);
    if (!error || error.name !== "ApiError") {
      showError(t.failed);
      return;
    }
    // No focus here: on a phone the keyboard would pop up and cover the message.
    showError(explain(error));
    if (error.status === 429) holdButton(error.retryAfter || 60);
  }
});
