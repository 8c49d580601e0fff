// 修改密码: the signed-in member sets a new password, giving the current one. A member who
// signed in with a temporary password (a manager reset it) is sent here by api.js and may do
// nothing else until this is done. The server's policy messages show by their fields; the
// server keeps this sign-in and ends the member's others.
import { getMe, getToken, passNotice, request, signOut } from "./api.js";

const TEXT = {
  zh: {
    title: "修改密码 - 网格积分",
    heading: "修改密码",
    formHeading: "设置新密码",
    temporary: "您正在使用管理员设置的临时密码，请先设置新密码",
    currentLabel: "当前密码",
    newLabel: "新密码",
    newHint: "至少 8 个字符；不能是手机号，不要用常见或容易猜到的密码。",
    repeatLabel: "再次输入新密码",
    showPassword: "显示密码",
    submit: "确认修改",
    submitting: "正在保存…",
    back: "返回“我的”",
    signOut: "退出登录",
    needCurrent: "请输入当前密码",
    needNew: "请输入新密码",
    needRepeat: "请再次输入新密码",
    mismatch: "两次输入的新密码不一致",
    offline: "无法连接服务器，请检查网络后重试。",
    failed: "修改失败，请稍后再试。",
    tooMany: (seconds) => "尝试次数过多，请等待 " + seconds + " 秒后再试。",
    // When the server's words for a field are not Chinese (a bare length check), these stand in.
    fieldFallback: {
      current_password: "当前密码不正确",
      new_password: "新密码至少需要 8 个字符，且不能是手机号或常见密码",
    },
  },
};
const t = TEXT.zh;

const SIGN_IN_PAGE = "index.html";
const DONE_PAGE = "me.html";

const $ = (id) => document.getElementById(id);

document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

// API field name -> the input it belongs to.
const FIELDS = {
  current_password: $("current-password"),
  new_password: $("new-password"),
  repeat_password: $("repeat-password"),
};
const errorBox = $("error");
const submit = $("submit");

function errorOf(input) {
  return $(input.id + "-error");
}

function clearErrors() {
  errorBox.hidden = true;
  for (const name of Object.keys(FIELDS)) {
    const input = FIELDS[name];
    input.removeAttribute("aria-invalid");
    errorOf(input).hidden = true;
  }
}

function fieldError(input, message) {
  input.setAttribute("aria-invalid", "true");
  const box = errorOf(input);
  box.textContent = message;
  box.hidden = false;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function setBusy(busy) {
  submit.disabled = busy;
  submit.textContent = busy ? t.submitting : t.submit;
}

const CHINESE = /[\u4e00-\u9fff]/;

// The server names each bad field (400 problem `errors`); anything else goes in the box below.
function explain(error) {
  if (!error || error.name !== "ApiError") return showError(t.failed);
  if (error.status === 0) return showError(t.offline);
  if (error.status === 429) return showError(error.detail || t.tooMany(error.retryAfter || 60));
  let shown = 0;
  for (const problem of error.errors) {
    const input = FIELDS[problem.field];
    if (!input) continue;
    const said = problem.detail || "";
    fieldError(input, CHINESE.test(said) ? said : t.fieldFallback[problem.field] || t.failed);
    shown += 1;
  }
  if (!shown) showError(error.detail || t.failed);
}

function checkFilledIn() {
  const current = FIELDS.current_password.value;
  const fresh = FIELDS.new_password.value;
  const repeat = FIELDS.repeat_password.value;
  if (!current) fieldError(FIELDS.current_password, t.needCurrent);
  if (!fresh) fieldError(FIELDS.new_password, t.needNew);
  if (!repeat) fieldError(FIELDS.repeat_password, t.needRepeat);
  else if (fresh && repeat !== fresh) fieldError(FIELDS.repeat_password, t.mismatch);
  return current && fresh && repeat === fresh;
}

$("show-password").addEventListener("change", () => {
  const type = $("show-password").checked ? "text" : "password";
  for (const name of Object.keys(FIELDS)) FIELDS[name].type = type;
});

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  // The length and the rest of the policy are the server's to say, in one place.
  if (!checkFilledIn()) return;
  setBusy(true);
  try {
    await request("POST", "/api/v1/me/password", {
      current_password: FIELDS.current_password.value,
      new_password: FIELDS.new_password.value,
    });
  } catch (error) {
    setBusy(false);
    explain(error);
    return;
  }
  passNotice("password-changed");
  location.replace(DONE_PAGE);
});

$("sign-out").addEventListener("click", async () => {
  $("sign-out").disabled = true;
  await signOut(false);
  location.replace(SIGN_IN_PAGE);
});

// Whether the password is a temporary one decides the notice and the way out: back to "我的",
// or (when nothing else is open to the member yet) signing out.
async function start() {
  if (!getToken()) {
    location.replace(SIGN_IN_PAGE + "?next=password.html");
    return;
  }
  let me;
  try {
    me = await getMe();
  } catch (_) {
    // The form still works; the notice waits for the next load.
    return;
  }
  const temporary = Boolean(me.password_change_required);
  $("temporary").hidden = !temporary;
  $("back").hidden = temporary;
  $("sign-out").hidden = !temporary;
}

start();
