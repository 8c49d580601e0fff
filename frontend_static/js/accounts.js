// 账号管理: those who manage members find one in their grids and give them a temporary password
// (the member must change it at their next sign-in, password.html); committee staff open,
// disable and enable the accounts of partner units' contacts. Phone first, a wide table on a
// PC. The server decides every request (it refuses a member the caller's authority does not
// cover, in its own words, which the page shows); the page only hides what the caller's roles
// cannot do at all (js/roles.js).
//
// A password made here is shown once, after the server took it, and kept nowhere: closing the
// box, opening another, or leaving the page forgets it.
import { getMe, getToken, request } from "./api.js";
import { MANAGE_MEMBERS, MANAGE_PARTNERS, rolesWith } from "./roles.js";
import { element } from "./ui.js";

const TEXT = {
  zh: {
    title: "账号管理 - 网格积分",
    heading: "账号管理",
    loading: "正在加载…",
    retry: "重新加载",
    offline: "无法连接服务器，请检查网络后重试。",
    failed: "操作失败，请稍后再试。",
    tooMany: (seconds) => "操作过于频繁，请等待 " + seconds + " 秒后再试。",
    noAuthority: "您的职务没有管理账号的权限。如需为成员重置密码，请联系所在网格的负责人。",
    back: "返回“我的”",
    // Members
    membersHeading: "成员密码",
    membersHint: "成员忘记密码时，可为其设置临时密码；对方用临时密码登录后须先修改密码。",
    scopeLabel: "范围",
    scopeAll: "我管理的全部网格",
    searchLabel: "姓名或手机号",
    searchHint: "可输入姓名中的几个字；不填则列出范围内的成员。",
    search: "查找",
    searching: "正在查找…",
    found: (shown, total) => "共 " + total + " 人" + (shown < total ? "，已显示 " + shown + " 人" : ""),
    noneFound: "没有找到符合条件的成员。",
    more: "显示更多",
    membersCaption: "查找到的成员",
    colName: "姓名",
    colUnit: "所在单位",
    colPhone: "手机号",
    colStatus: "状态",
    colAction: "操作",
    resetPassword: "重置密码",
    statuses: { active: "在册", inactive: "停用", moved_out: "已迁出" },
    // The temporary password
    resetTitle: (name) => "为 " + name + " 设置临时密码",
    resetWhat:
      "将为该成员生成一个临时密码。设置后，对方在所有设备上的登录都会退出，" +
      "用临时密码登录后须先修改密码。",
    typeOwnTemporary: "自己输入临时密码（不用自动生成的）",
    temporaryLabel: "临时密码",
    passwordHint: "至少 8 个字符；不能是对方的手机号，不要用常见或容易猜到的密码。",
    needPassword: "请输入临时密码",
    resetConfirm: "确定设置临时密码",
    resetting: "正在设置…",
    cancel: "取消",
    resetDone: "临时密码已设置，请记下：",
    tellMember: "请当面告知该成员，首次登录后须修改",
    shownOnce: "此密码只显示这一次，关闭后无法再查看。",
    told: "我已记下，关闭",
    // Partner units' contacts
    partnersHeading: "共建单位联系人",
    partnersHint:
      "共建单位的联系人用这里开设的账号在“报到单位”页面（partner.html）登录，" +
      "只能查看和下载本单位在职党员的社区记录。联系人离职或手机丢失时请停用其账号。",
    partnerLabel: "共建单位",
    noPartners: "您管理的范围内还没有共建单位。",
    loadingAccounts: "正在加载联系人账号…",
    accountsCaption: "该单位的联系人账号",
    colAccountStatus: "账号状态",
    accountStatuses: { active: "正常", disabled: "已停用" },
    noAccounts: "该单位还没有联系人账号。",
    disable: "停用",
    enable: "启用",
    disabled: (name) => "已停用 " + name + " 的账号：其登录已全部退出，不能再登录。",
    enabled: (name) => "已启用 " + name + " 的账号：可以重新登录。",
    newAccountHeading: "新增联系人账号",
    contactNameLabel: "联系人姓名",
    contactPhoneLabel: "联系人手机号（登录用）",
    typeOwnPassword: "自己输入初始密码（不用自动生成的）",
    contactPasswordLabel: "初始密码",
    needName: "请输入联系人姓名",
    needPhone: "请输入联系人手机号",
    needContactPassword: "请输入初始密码",
    createAccount: "开设账号",
    creating: "正在开设…",
    accountDone: (name, unit) => "已为 " + unit + " 的 " + name + " 开设账号，初始密码：",
    tellContact: "请当面告知该联系人，在“报到单位”页面用手机号和此密码登录",
  },
};
const t = TEXT.zh;

const SIGN_IN_PAGE = "index.html?next=accounts.html";
const PAGE_SIZE = 20;
// Partner units of one community are a handful; the API's largest page holds them all.
const PARTNER_PAGE = 500;

// Words for generated passwords: short, common English words, none of them pinyin, read out
// and typed easily. Three different words and four digits: 64·63·62·10⁴ ≈ 2.5·10⁹ passwords,
// all kept by the server's policy; sign-in limits stop online guessing long before.
const WORDS = [
  "apple", "bamboo", "bridge", "candle", "cloud", "coral", "desert", "eagle",
  "ember", "forest", "garden", "glacier", "harbor", "island", "jasmine", "kettle",
  "lantern", "lemon", "maple", "meadow", "mirror", "orchid", "panda", "pepper",
  "planet", "pocket", "rabbit", "ribbon", "river", "rocket", "saddle", "salmon",
  "shadow", "silver", "spring", "stone", "summer", "thunder", "tiger", "tomato",
  "tulip", "valley", "velvet", "walnut", "window", "winter", "yellow", "zebra",
  "anchor", "button", "camel", "dragon", "falcon", "ginger", "hammer", "jungle",
  "ladder", "magnet", "needle", "olive", "parrot", "pillow", "puzzle", "violet",
];
const WORDS_PER_PASSWORD = 3;
const DIGITS_PER_PASSWORD = 4;

const $ = (id) => document.getElementById(id);
const label = (words, code) => words[code] || code;
const CHINESE = /[\u4e00-\u9fff]/;

document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

// ---- Generated passwords ----

// A uniform integer in [0, n), from the browser's cryptographic generator (no modulo bias).
function randomBelow(n) {
  const limit = Math.floor(0x100000000 / n) * n;
  const box = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(box);
    if (box[0] < limit) return box[0] % n;
  }
}

function generatedPassword() {
  const words = [];
  while (words.length < WORDS_PER_PASSWORD) {
    const word = WORDS[randomBelow(WORDS.length)];
    if (words.indexOf(word) === -1) words.push(word);
  }
  let digits = "";
  for (let i = 0; i < DIGITS_PER_PASSWORD; i += 1) digits += String(randomBelow(10));
  return words.join("-") + "-" + digits;
}

// ---- Shared bits of the forms ----

// 13800000004 -> 138 0000 0004: easier to read aloud and check.
function formatPhone(phone) {
  return /^\d{11}$/.test(phone) ? phone.replace(/^(\d{3})(\d{4})(\d{4})$/, "$1 $2 $3") : phone;
}

function say(box, message) {
  box.textContent = message || "";
  box.hidden = !message;
}

function fieldError(input, message) {
  input.setAttribute("aria-invalid", "true");
  say($(input.id + "-error"), message);
}

function clearField(input) {
  input.removeAttribute("aria-invalid");
  say($(input.id + "-error"), "");
}

// Why a request failed, in the server's words when it gave them (a refusal names the reason).
function reason(error) {
  if (!error || error.name !== "ApiError") return t.failed;
  if (error.status === 0) return t.offline;
  if (error.status === 429) return error.detail || t.tooMany(error.retryAfter || 60);
  return error.detail || t.failed;
}

// Put each field problem of a 400 by its input; the others, and any other failure, in `box`.
function explain(error, inputs, box) {
  const problems = error && error.status === 400 ? error.errors : [];
  if (!problems.length) return say(box, reason(error));
  const left = [];
  for (const problem of problems) {
    const said = CHINESE.test(problem.detail || "") ? problem.detail : t.failed;
    const input = inputs[problem.field];
    if (input) fieldError(input, said);
    else if (left.indexOf(said) === -1) left.push(said);
  }
  say(box, left.join("\n"));
}

function busy(button, on, words) {
  button.disabled = on;
  button.textContent = words;
}

// A cell that says what its column is, for the stacked rows of a phone (css: .table-stack).
function cell(row, column, text) {
  const td = row.appendChild(element("td", "", text));
  td.setAttribute("data-label", t[column]);
  return td;
}

function actionButton(text) {
  return element("button", "button button-secondary button-small", text);
}

// Opting to type a password oneself shows the field; otherwise one is generated.
function ownPasswordToggle(checkbox, box, input) {
  checkbox.addEventListener("change", () => {
    box.hidden = !checkbox.checked;
    clearField(input);
    if (checkbox.checked) input.focus();
    else input.value = "";
  });
}

// ---- Members: search ----

// The search on show; "显示更多" goes on with it, whatever has been typed since.
const search = { q: "", scope: "", offset: 0, shown: 0 };

function memberRow(member) {
  const row = element("tr");
  const name = cell(row, "colName", member.name);
  name.id = "member-" + member.id + "-name";
  name.className = "cell-name";
  cell(row, "colUnit", member.org_unit_name);
  cell(row, "colPhone", formatPhone(member.phone));
  cell(row, "colStatus", label(t.statuses, member.status));
  const button = actionButton(t.resetPassword);
  button.type = "button";
  button.setAttribute("aria-describedby", name.id);
  button.addEventListener("click", () => openReset(member, button));
  cell(row, "colAction").appendChild(button);
  return row;
}

async function runSearch(more) {
  const body = $("member-table").querySelector("tbody");
  if (!more) {
    search.q = $("q").value.trim();
    search.scope = $("scope").value;
    search.offset = 0;
    search.shown = 0;
  }
  const params = new URLSearchParams();
  params.set("limit", String(PAGE_SIZE));
  params.set("offset", String(search.offset));
  if (search.q) params.set("q", search.q);
  if (search.scope) params.set("org_unit_id", search.scope);
  busy($("search-button"), true, t.searching);
  $("more").disabled = true;
  try {
    const page = await request("GET", "/api/v1/members?" + params.toString());
    if (!more) body.textContent = "";
    for (const member of page.items) body.appendChild(memberRow(member));
    search.shown += page.items.length;
    search.offset += page.items.length;
    $("member-table").hidden = search.shown === 0;
    $("search-status").textContent = search.shown ? t.found(search.shown, page.total) : t.noneFound;
    $("more").hidden = search.shown >= page.total || page.items.length === 0;
  } catch (error) {
    $("search-status").textContent = reason(error);
  } finally {
    busy($("search-button"), false, t.search);
    $("more").disabled = false;
  }
}

function fillScopes(roles) {
  const select = $("scope");
  select.textContent = "";
  const seen = {};
  const units = [];
  for (const role of roles) {
    if (seen[role.org_unit_id]) continue;
    seen[role.org_unit_id] = true;
    units.push(role);
  }
  if (units.length > 1) select.appendChild(element("option", "", t.scopeAll)).value = "";
  for (const role of units) {
    select.appendChild(element("option", "", role.org_unit_name)).value = String(role.org_unit_id);
  }
}

// ---- Members: the temporary password ----

const reset = { member: null, opener: null };

function forgetSecret(id) {
  $(id).textContent = "";
}

function openReset(member, opener) {
  forgetSecret("reset-secret");
  reset.member = member;
  reset.opener = opener;
  $("reset-title").textContent = t.resetTitle(member.name);
  $("reset-ask").hidden = false;
  $("reset-done").hidden = true;
  $("reset-own").checked = false;
  $("reset-own-box").hidden = true;
  $("reset-password").value = "";
  clearField($("reset-password"));
  say($("reset-error"), "");
  busy($("reset-confirm"), false, t.resetConfirm);
  $("reset").hidden = false;
  $("reset").scrollIntoView({ block: "start" });
  $("reset").focus();
}

function closeReset() {
  forgetSecret("reset-secret");
  $("reset").hidden = true;
  const opener = reset.opener;
  reset.member = reset.opener = null;
  if (opener && document.body.contains(opener)) opener.focus();
}

async function confirmReset() {
  const member = reset.member;
  if (!member) return;
  const input = $("reset-password");
  const own = $("reset-own").checked;
  clearField(input);
  say($("reset-error"), "");
  const password = own ? input.value : generatedPassword();
  if (!password) return fieldError(input, t.needPassword);
  busy($("reset-confirm"), true, t.resetting);
  $("reset-cancel").disabled = true;
  try {
    await request("POST", "/api/v1/members/" + member.id + "/password", { password: password });
  } catch (error) {
    explain(error, own ? { password: input } : {}, $("reset-error"));
    return;
  } finally {
    busy($("reset-confirm"), false, t.resetConfirm);
    $("reset-cancel").disabled = false;
  }
  input.value = "";
  $("reset-done-text").textContent = t.resetDone;
  $("reset-secret").textContent = password;
  $("reset-ask").hidden = true;
  $("reset-done").hidden = false;
  $("reset").focus();
}

// ---- Partner units' contacts ----

const partners = { byId: {} };

function partnerName() {
  const unit = partners.byId[$("partner").value];
  return unit ? unit.name : "";
}

function accountRow(account) {
  const row = element("tr");
  row.setAttribute("data-account", String(account.id));
  const name = cell(row, "colName", account.name);
  name.id = "account-" + account.id + "-name";
  name.className = "cell-name";
  cell(row, "colPhone", account.phone);
  const status = cell(row, "colAccountStatus");
  const active = account.status === "active";
  const tag = element("span", active ? "tag tag-ok" : "tag tag-warn");
  tag.textContent = label(t.accountStatuses, account.status);
  status.appendChild(tag);
  const button = actionButton(active ? t.disable : t.enable);
  button.type = "button";
  button.setAttribute("aria-describedby", name.id);
  button.addEventListener("click", () => setAccountStatus(account, !active, row));
  cell(row, "colAction").appendChild(button);
  return row;
}

function showAccounts(accounts) {
  const body = $("account-table").querySelector("tbody");
  body.textContent = "";
  for (const account of accounts) body.appendChild(accountRow(account));
  $("account-table").hidden = accounts.length === 0;
  $("no-accounts").hidden = accounts.length > 0;
}

async function loadAccounts() {
  say($("accounts-error"), "");
  $("accounts-status").textContent = t.loadingAccounts;
  $("account-table").hidden = $("no-accounts").hidden = true;
  try {
    showAccounts(await request("GET", "/api/v1/partner-units/" + $("partner").value + "/accounts"));
    $("accounts-status").textContent = "";
  } catch (error) {
    $("accounts-status").textContent = "";
    say($("accounts-error"), reason(error));
  }
}

async function setAccountStatus(account, enable, row) {
  const button = row.querySelector("button");
  button.disabled = true;
  say($("accounts-error"), "");
  try {
    const changed = await request(
      "POST",
      "/api/v1/partner-accounts/" + account.id + (enable ? "/enable" : "/disable"),
    );
    const fresh = accountRow(changed);
    row.parentNode.replaceChild(fresh, row);
    fresh.querySelector("button").focus();
    $("accounts-status").textContent = enable ? t.enabled(changed.name) : t.disabled(changed.name);
  } catch (error) {
    button.disabled = false;
    say($("accounts-error"), reason(error));
  }
}

async function loadPartners() {
  const page = await request("GET", "/api/v1/partner-units?limit=" + PARTNER_PAGE);
  const select = $("partner");
  select.textContent = "";
  partners.byId = {};
  for (const unit of page.items) {
    partners.byId[unit.id] = unit;
    select.appendChild(element("option", "", unit.name)).value = String(unit.id);
  }
  $("partners").hidden = false;
  const none = page.items.length === 0;
  select.hidden = $("partner-label").hidden = $("new-account").hidden = none;
  if (none) {
    $("accounts-status").textContent = t.noPartners;
    return;
  }
  await loadAccounts();
}

const CONTACT_FIELDS = {
  name: $("contact-name"),
  phone: $("contact-phone"),
  password: $("contact-password"),
};

async function createAccount(event) {
  event.preventDefault();
  const own = $("contact-own").checked;
  for (const field of Object.keys(CONTACT_FIELDS)) clearField(CONTACT_FIELDS[field]);
  say($("new-account-error"), "");
  forgetSecret("account-secret");
  $("account-done").hidden = true;
  const name = CONTACT_FIELDS.name.value.trim();
  const phone = CONTACT_FIELDS.phone.value.trim();
  const password = own ? CONTACT_FIELDS.password.value : generatedPassword();
  if (!name) fieldError(CONTACT_FIELDS.name, t.needName);
  if (!phone) fieldError(CONTACT_FIELDS.phone, t.needPhone);
  if (!password) fieldError(CONTACT_FIELDS.password, t.needContactPassword);
  if (!name || !phone || !password) return;
  const unitName = partnerName();
  busy($("create-account"), true, t.creating);
  let made;
  try {
    made = await request("POST", "/api/v1/partner-units/" + $("partner").value + "/accounts", {
      name: name,
      phone: phone,
      password: password,
    });
  } catch (error) {
    // A generated password the server refused is no field of the caller's.
    const fields = own
      ? CONTACT_FIELDS
      : { name: CONTACT_FIELDS.name, phone: CONTACT_FIELDS.phone };
    if (error && error.code === "phone_taken") fieldError(CONTACT_FIELDS.phone, error.detail);
    else explain(error, fields, $("new-account-error"));
    return;
  } finally {
    busy($("create-account"), false, t.createAccount);
  }
  $("new-account").reset();
  $("contact-own-box").hidden = true;
  $("account-done-text").textContent = t.accountDone(made.name, unitName);
  $("account-secret").textContent = password;
  $("new-account").hidden = true;
  $("account-done").hidden = false;
  $("account-done").focus();
  await loadAccounts();
}

function hideAccountDone() {
  forgetSecret("account-secret");
  $("account-done").hidden = true;
  $("new-account").hidden = false;
}

function closeAccountDone() {
  hideAccountDone();
  CONTACT_FIELDS.name.focus();
}

// ---- The page ----

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  runSearch(false);
});
$("more").addEventListener("click", () => runSearch(true));
ownPasswordToggle($("reset-own"), $("reset-own-box"), $("reset-password"));
$("reset-confirm").addEventListener("click", confirmReset);
$("reset-cancel").addEventListener("click", closeReset);
$("reset-close").addEventListener("click", closeReset);
$("partner").addEventListener("change", () => {
  hideAccountDone();
  loadAccounts();
});
ownPasswordToggle($("contact-own"), $("contact-own-box"), CONTACT_FIELDS.password);
$("new-account").addEventListener("submit", createAccount);
$("account-close").addEventListener("click", closeAccountDone);
// Leaving the page (or putting it in the back-forward cache) forgets a password on show.
window.addEventListener("pagehide", () => {
  forgetSecret("reset-secret");
  forgetSecret("account-secret");
});

async function load() {
  $("failure").hidden = true;
  $("loading").hidden = false;
  try {
    const me = await getMe();
    const managed = rolesWith(me.roles, MANAGE_MEMBERS);
    const staff = rolesWith(me.roles, MANAGE_PARTNERS);
    $("no-authority").hidden = managed.length > 0 || staff.length > 0;
    if (managed.length) {
      fillScopes(managed);
      $("members").hidden = false;
      await runSearch(false);
    }
    if (staff.length) await loadPartners();
  } catch (error) {
    $("failure-text").textContent = reason(error);
    $("failure").hidden = false;
  } finally {
    $("loading").hidden = true;
  }
}

$("retry").addEventListener("click", load);

if (getToken()) {
  load();
} else {
  location.replace(SIGN_IN_PAGE);
}
