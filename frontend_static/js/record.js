// "我的记录": the activities the member is still checked in at (with 签退), this quarter's
// check-ins, hours and services, and the wishes the member may claim or has claimed. Figures
// come from the server; the page only adds them up to show. Every list is asked for at once,
// and only the member's own (member_id, claimed_by), not everything a leader may see.
import { getMe, getToken, phoneNow, request, signedInMemberId } from "./api.js";

const TEXT = {
  zh: {
    title: "我的记录 - 网格积分",
    heading: "我的记录",
    quarter: (y, q) => y + " 年第 " + q + " 季度",
    checkinsLabel: "参加活动",
    hoursLabel: "服务时长（小时）",
    servicesLabel: "服务记录",
    submitService: "登记一次服务",
    openHeading: "正在参加的活动（未签退）",
    checkedInAt: (when) => "签到时间：" + when,
    checkOut: "签退",
    checkingOut: "正在签退…",
    checkedOut: "已签退，感谢您的服务！",
    earlyOut: (end) => "活动要到 " + end + " 才结束。现在签退，之后的时间不再计入。确定现在签退吗？",
    earlyOutYes: "确定签退",
    cancel: "取消",
    offlineCheckout: "网络不通，请恢复网络后再签退。",
    wishesHeading: "微心愿",
    noWishes: "暂时没有可认领的心愿。",
    claim: "认领",
    claimed: "已认领，请尽快落实",
    toMe: "返回我的",
    loading: "正在加载…",
    failed: "加载失败：",
    offline: "网络不通，请恢复网络后再打开本页。",
    states: { submitted: "待审核", approved: "已通过", rejected: "已驳回" },
  },
};
const t = TEXT.zh;
const $ = (id) => document.getElementById(id);
document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function pad(n) {
  return (n < 10 ? "0" : "") + n;
}

function time(iso) {
  const d = new Date(iso);
  return d.getMonth() + 1 + " 月 " + d.getDate() + " 日 " + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

const now = new Date();
const quarter = Math.floor(now.getMonth() / 3);
const quarterStart = new Date(now.getFullYear(), quarter * 3, 1);
const inQuarter = (iso) => new Date(iso) >= quarterStart;

function wishCard(wish, memberId) {
  const box = element("div", "review-item");
  box.setAttribute("data-wish", String(wish.id));
  box.appendChild(element("p", "profile-name", wish.title));
  if (wish.description) box.appendChild(element("p", "muted", wish.description));
  const state = element("p", "tag", wish.state_label);
  box.appendChild(state);
  if (wish.state === "open") {
    const button = element("button", "button button-primary", t.claim);
    button.type = "button";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const claimed = await request("POST", "/api/v1/wishes/" + wish.id + "/claim");
        state.textContent = claimed.state_label;
        button.replaceWith(element("p", "status", t.claimed));
      } catch (error) {
        button.disabled = false;
        box.appendChild(element("p", "error", (error && error.detail) || t.offline));
      }
    });
    box.appendChild(button);
  } else if (wish.claimed_by === memberId) {
    box.appendChild(element("p", "muted", t.claimed));
  }
  return box;
}

// One open check-in with its 签退; before the activity's end the member is asked first.
function openCard(checkin) {
  const box = element("div", "review-item");
  box.setAttribute("data-open-checkin", String(checkin.id));
  box.appendChild(element("p", "profile-name", checkin.activity_title));
  box.appendChild(element("p", "muted", t.checkedInAt(time(checkin.checked_in_at))));
  const said = element("p", "status");
  const button = element("button", "button button-primary", t.checkOut);
  button.type = "button";
  const confirm = element("div", "");
  confirm.hidden = true;
  const question = element("p", "notice confirm-text");
  const pair = element("div", "button-pair");
  const yes = element("button", "button button-primary", t.earlyOutYes);
  yes.type = "button";
  const no = element("button", "button button-secondary", t.cancel);
  no.type = "button";
  pair.appendChild(yes);
  pair.appendChild(no);
  confirm.appendChild(question);
  confirm.appendChild(pair);

  const ask = (asking) => {
    confirm.hidden = !asking;
    button.hidden = asking;
    (asking ? no : button).focus();
  };
  const checkOut = async () => {
    ask(false);
    button.disabled = true;
    said.textContent = t.checkingOut;
    try {
      await request("POST", "/api/v1/checkins/" + checkin.id + "/checkout", { sent_at: phoneNow() });
      said.textContent = t.checkedOut;
      button.hidden = true;
    } catch (error) {
      button.disabled = false;
      said.textContent = !error || error.status === 0 ? t.offlineCheckout : error.detail;
    }
  };
  button.addEventListener("click", () => {
    const ends = checkin.activity_ends_at ? Date.parse(checkin.activity_ends_at) : NaN;
    if (ends > Date.now()) {
      question.textContent = t.earlyOut(time(checkin.activity_ends_at));
      return ask(true);
    }
    checkOut();
  });
  yes.addEventListener("click", checkOut);
  no.addEventListener("click", () => ask(false));
  box.appendChild(button);
  box.appendChild(confirm);
  box.appendChild(said);
  return box;
}

// The member's open check-ins (GET /api/v1/checkins/open); a server without that list: the
// open ones among the member's own check-ins.
async function openCheckins(fetchingOwn) {
  try {
    const answer = await request("GET", "/api/v1/checkins/open");
    return Array.isArray(answer) ? answer : (answer && answer.items) || [];
  } catch (error) {
    if (error && error.status !== 404 && error.status !== 405) throw error;
    return (await fetchingOwn).filter((c) => !c.checked_out_at);
  }
}

async function load(memberId) {
  const mine = "member_id=" + memberId;
  const fetchingCheckins = request("GET", "/api/v1/checkins?limit=200&" + mine).then((page) => page.items);
  const answers = await Promise.all([
    fetchingCheckins,
    request("GET", "/api/v1/service-records?limit=200&" + mine),
    request("GET", "/api/v1/wishes?status=open&limit=50"),
    request("GET", "/api/v1/wishes?limit=50&claimed_by=" + memberId),
    openCheckins(fetchingCheckins),
  ]);
  // A server that ignores the narrowing still answers; keep only the member's own.
  const checkins = answers[0].filter((c) => c.member_id === memberId && inQuarter(c.checked_in_at));
  const services = answers[1].items.filter((s) => s.member_id === memberId && inQuarter(s.served_on));
  const seen = {};
  const wishes = answers[2].items.concat(answers[3].items).filter((w) => {
    const mineOrOpen = w.state === "open" || w.claimed_by === memberId;
    const first = !seen[w.id];
    seen[w.id] = true;
    return mineOrOpen && first;
  });
  const open = answers[4];

  $("open-card").hidden = open.length === 0;
  for (const checkin of open) $("open-checkins").appendChild(openCard(checkin));
  let minutes = 0;
  for (const c of checkins) {
    if (c.review === "accepted" && c.minutes) minutes += c.minutes;
    $("checkins").appendChild(element("li", "", c.activity_title));
  }
  for (const s of services) {
    if (s.state === "approved") minutes += Math.round(s.hours * 60);
    $("services").appendChild(element("li", "", s.description + "（" + t.states[s.state] + "）"));
  }
  $("checkin-count").textContent = String(checkins.length);
  $("service-count").textContent = String(services.length);
  $("hours").textContent = (minutes / 60).toFixed(1);
  $("no-wishes").hidden = wishes.length > 0;
  for (const wish of wishes) $("wishes").appendChild(wishCard(wish, memberId));
}

async function start() {
  if (!getToken()) {
    location.replace("index.html?next=record.html");
    return;
  }
  $("quarter").textContent = t.quarter(now.getFullYear(), quarter + 1);
  $("status").textContent = t.loading;
  try {
    const memberId = signedInMemberId() || (await getMe()).id;
    await load(memberId);
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = !error || error.status === 0 ? t.offline : t.failed + error.detail;
  }
}

start();
