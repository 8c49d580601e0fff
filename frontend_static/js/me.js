// "我的" page: who the signed-in member is, where in the grid, and which roles they hold;
// their account: changing the password, signing out here or on every device.
import {
  dismissRefused,
  getMe,
  getToken,
  onQueueChange,
  passNotice,
  queued,
  refused,
  sendQueue,
  signOut,
  takeNotice,
} from "./api.js";
import { MANAGE_MEMBERS, MANAGE_PARTNERS, holdsAny } from "./roles.js";
import { failureDetail } from "./ui.js";

const TEXT = {
  zh: {
    title: "我的 - 网格积分",
    heading: "我的",
    loading: "正在加载…",
    retry: "重新加载",
    offline: "无法连接服务器，请检查网络后点“重新加载”。",
    failed: "加载失败，请稍后再试。",
    gridLabel: "所在网格",
    phoneLabel: "手机号",
    employerLabel: "工作单位",
    rolesHeading: "我的职务",
    noRoles: "暂无职务",
    registrationHeading: "双报到",
    partnerLabel: "报到单位",
    communityLabel: "报到社区",
    reportedLabel: "报到日期",
    stateLabel: "状态",
    endedOn: (date) => "（" + date + " 结束）",
    accountHeading: "账号与安全",
    changePassword: "修改密码",
    signOut: "退出登录",
    signOutAll: "退出所有设备",
    confirmAll: "将退出您在所有手机和电脑上的登录（包括本机），之后需要重新登录。确定吗？",
    confirmAllYes: "确定退出所有设备",
    cancel: "取消",
    signingOut: "正在退出…",
    signOutAllFailed: (why) => "未能退出所有设备：" + why,
    // Said once, on arrival from another page (api.js passNotice).
    notices: {
      "password-changed": "密码已修改。其他设备上的登录已退出，本机仍保持登录。",
    },
    categories: {
      resident: "居民党员",
      in_service: "在职党员",
      retired: "离退休党员",
      unemployed: "无职党员",
      migrant: "流动党员",
      volunteer: "志愿者",
    },
    roles: {
      admin: "管理员",
      committee_member: "评审委员",
      branch_secretary: "支部书记",
      grid_leader: "网格长",
      building_head: "楼栋长",
      unit_head: "单元长",
      building_steward: "楼道管家",
      volunteer: "志愿者",
    },
    statuses: { active: "在册", inactive: "停用", moved_out: "已迁出" },
    registrationStates: { active: "生效", ended: "已结束" },
    // The check-ins waiting on this phone, and those the server did not take.
    waiting: (n) => n + " 条签到等待发送",
    waitingItem: (when) => when + " 扫码签到",
    waitingHint: "有网络时会自动发送，请不要清除浏览器数据。",
    sendNow: "现在发送",
    sending: "正在发送…",
    sendOffline: "网络不通，恢复网络后会自动发送。",
    sendFailed: (why) => "暂时没有发送成功：" + why,
    refusedHeading: "没有签到成功的记录",
    refusedItem: (when) => when + " 扫码的签到没有成功：",
    refusedOk: "知道了",
    unknownTime: "某时",
  },
};
const t = TEXT.zh;

const SIGN_IN_PAGE = "index.html";
const PATH_SEPARATOR = " / ";

const $ = (id) => document.getElementById(id);

// A code the page has no word for yet still shows, rather than an empty space.
const label = (words, code) => words[code] || code;

document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

function toSignIn() {
  location.replace(SIGN_IN_PAGE);
}

const notice = t.notices[takeNotice()];
if (notice) {
  $("flash").textContent = notice;
  $("flash").hidden = false;
}

// 13800000004 -> 138 0000 0004: easier to read aloud and check.
function formatPhone(phone) {
  return /^\d{11}$/.test(phone) ? phone.replace(/^(\d{3})(\d{4})(\d{4})$/, "$1 $2 $3") : phone;
}

function setText(id, text) {
  $(id).textContent = text;
}

function renderRoles(roles) {
  const list = $("roles");
  list.textContent = "";
  for (const role of roles) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = label(t.roles, role.role);
    const where = document.createElement("span");
    where.className = "muted";
    where.textContent = role.org_unit_name;
    item.appendChild(name);
    item.appendChild(where);
    list.appendChild(item);
  }
  $("no-roles").hidden = roles.length > 0;
  // Leaders rule on flagged check-ins and services; the link is for them.
  const leads = ["admin", "committee_member", "branch_secretary", "grid_leader", "building_head", "unit_head"];
  $("to-review").hidden = !roles.some((r) => leads.indexOf(r.role) !== -1);
  $("to-leaderboard").hidden = $("to-review").hidden;
  // 账号管理: temporary passwords for members, partner contacts' accounts.
  $("to-accounts").hidden = !holdsAny(roles, MANAGE_MEMBERS) && !holdsAny(roles, MANAGE_PARTNERS);
}

function renderRegistration(registration) {
  $("registration").hidden = !registration;
  if (!registration) return;
  setText("reg-partner", registration.partner_unit_name);
  setText("reg-community", registration.community_name);
  setText("reg-reported", registration.reported_on);
  setText(
    "reg-state",
    label(t.registrationStates, registration.state) +
      (registration.ended_on ? t.endedOn(registration.ended_on) : ""),
  );
}

function render(me) {
  setText("name", me.name);
  setText("category", label(t.categories, me.category));
  $("status").hidden = me.status === "active";
  setText("status", label(t.statuses, me.status));
  setText("grid", me.org_unit_path.join(PATH_SEPARATOR));
  setText("phone", formatPhone(me.phone));
  $("employer-label").hidden = $("employer").hidden = !me.employer;
  setText("employer", me.employer || "");
  renderRoles(me.roles);
  renderRegistration(me.registration);
  $("profile").hidden = false;
}

async function load() {
  $("failure").hidden = true;
  $("loading").hidden = false;
  try {
    render(await getMe());
  } catch (error) {
    const status = error ? error.status : undefined;
    if (status === 401) return toSignIn();
    setText("failure-text", status === 0 ? t.offline : (error && error.detail) || t.failed);
    $("failure").hidden = false;
  } finally {
    $("loading").hidden = true;
  }
}

// "1 月 5 日 14:05", on the phone's clock (as the member saw it when scanning).
function when(iso) {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return t.unknownTime;
  const pad = (n) => (n < 10 ? "0" : "") + n;
  return d.getMonth() + 1 + " 月 " + d.getDate() + " 日 " + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

function renderQueue() {
  const waiting = queued();
  $("outbox").hidden = waiting.length === 0;
  setText("outbox-title", t.waiting(waiting.length));
  const list = $("outbox-items");
  list.textContent = "";
  for (const item of waiting) {
    const li = document.createElement("li");
    li.textContent = t.waitingItem(when(item.at));
    list.appendChild(li);
  }

  const refusals = refused();
  $("refused").hidden = refusals.length === 0;
  const box = $("refused-items");
  box.textContent = "";
  for (const item of refusals) {
    const li = document.createElement("li");
    li.setAttribute("data-refused", item.client_id);
    const text = document.createElement("p");
    text.textContent = t.refusedItem(when(item.at)) + item.reason;
    const ok = document.createElement("button");
    ok.className = "button button-secondary button-small";
    ok.type = "button";
    ok.textContent = t.refusedOk;
    ok.addEventListener("click", () => dismissRefused(item.client_id));
    li.appendChild(text);
    li.appendChild(ok);
    box.appendChild(li);
  }
}

$("outbox-send").addEventListener("click", async () => {
  const button = $("outbox-send");
  button.disabled = true;
  setText("outbox-status", t.sending);
  try {
    await sendQueue();
    setText("outbox-status", "");
  } catch (error) {
    setText("outbox-status", !error || error.status === 0 ? t.sendOffline : t.sendFailed(failureDetail(error)));
  } finally {
    button.disabled = false;
  }
});
onQueueChange(renderQueue);
window.addEventListener("storage", renderQueue);
renderQueue();

$("retry").addEventListener("click", load);
$("sign-out").addEventListener("click", async () => {
  $("sign-out").disabled = true;
  $("sign-out").textContent = t.signingOut;
  await signOut(false);
  toSignIn();
});

// "退出所有设备" asks first, with a pair of buttons in the page (in the page's words and type
// size, not the browser's own confirm box).
function askSignOutAll(asking) {
  $("confirm-all").hidden = !asking;
  $("sign-out-all").hidden = asking;
  $("account-error").hidden = true;
  (asking ? $("confirm-all-no") : $("sign-out-all")).focus();
}

$("sign-out-all").addEventListener("click", () => askSignOutAll(true));
$("confirm-all-no").addEventListener("click", () => askSignOutAll(false));
$("confirm-all-yes").addEventListener("click", async () => {
  const yes = $("confirm-all-yes");
  yes.disabled = $("confirm-all-no").disabled = true;
  yes.textContent = t.signingOut;
  try {
    await signOut(true);
  } catch (error) {
    yes.disabled = $("confirm-all-no").disabled = false;
    yes.textContent = t.confirmAllYes;
    setText("account-error", t.signOutAllFailed(failureDetail(error)));
    $("account-error").hidden = false;
    return;
  }
  passNotice("signed-out-everywhere");
  toSignIn();
});

if (getToken()) {
  load();
} else {
  toSignIn();
}
