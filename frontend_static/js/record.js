// "我的记录": this quarter's check-ins, hours and services, and the wishes the member may
// claim or has claimed. Figures come from the server; the page only adds them up to show.
import { getMe, getToken, request } from "./api.js";

const TEXT = {
  zh: {
    title: "我的记录 - 网格积分",
    heading: "我的记录",
    quarter: (y, q) => y + " 年第 " + q + " 季度",
    checkinsLabel: "参加活动",
    hoursLabel: "服务时长（小时）",
    servicesLabel: "服务记录",
    submitService: "登记一次服务",
    wishesHeading: "微心愿",
    noWishes: "暂时没有可认领的心愿。",
    claim: "认领",
    claimed: "已认领，请尽快落实",
    toMe: "返回我的",
    loading: "正在加载…",
    failed: "加载失败：",
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

const now = new Date();
const quarter = Math.floor(now.getMonth() / 3);
const quarterStart = new Date(now.getFullYear(), quarter * 3, 1);
const inQuarter = (iso) => new Date(iso) >= quarterStart;

function wishCard(wish, me) {
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
        box.appendChild(element("p", "error", (error && error.detail) || ""));
      }
    });
    box.appendChild(button);
  } else if (wish.claimed_by === me.id) {
    box.appendChild(element("p", "muted", t.claimed));
  }
  return box;
}

async function start() {
  if (!getToken()) {
    location.replace("index.html?next=record.html");
    return;
  }
  $("quarter").textContent = t.quarter(now.getFullYear(), quarter + 1);
  $("status").textContent = t.loading;
  try {
    const me = await getMe();
    const checkins = (await request("GET", "/api/v1/checkins?limit=200")).items.filter(
      (c) => c.member_id === me.id && inQuarter(c.checked_in_at),
    );
    const services = (await request("GET", "/api/v1/service-records?limit=200")).items.filter(
      (s) => s.member_id === me.id && inQuarter(s.served_on),
    );
    const wishes = (await request("GET", "/api/v1/wishes?limit=100")).items.filter(
      (w) => w.state === "open" || w.claimed_by === me.id,
    );
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
    for (const wish of wishes) $("wishes").appendChild(wishCard(wish, me));
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = t.failed + ((error && error.detail) || "");
  }
}

start();
