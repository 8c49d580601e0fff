// Leader page: flagged check-ins of the leader's activities, each accepted or rejected with
// a reason. Nothing is decided here; the server keeps the record and the audit trail.
import { getToken, request } from "./api.js";

const TEXT = {
  zh: {
    title: "待核实的签到 - 网格积分",
    heading: "待核实的签到",
    loading: "正在加载…",
    empty: "没有待核实的签到。",
    accept: "通过",
    reject: "驳回",
    reasonLabel: "驳回理由",
    reasonNeeded: "驳回时请填写理由。",
    accepted: "已通过",
    rejected: "已驳回",
    proxy: "代签",
    toMe: "返回我的",
    failed: "操作失败：",
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

// The phone's own clock and zone: the server sends instants in UTC.
function localTime(iso) {
  const d = new Date(iso);
  const pad = (n) => (n < 10 ? "0" : "") + n;
  return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

function card(checkin) {
  const box = element("section", "card review-item");
  box.setAttribute("data-checkin", String(checkin.id));
  box.appendChild(element("h2", "card-title", checkin.member_name));
  box.appendChild(element("p", "muted", checkin.activity_title + " · " + localTime(checkin.checked_in_at)));
  const flags = element("ul", "list");
  for (const text of checkin.flag_labels) flags.appendChild(element("li", "", text));
  box.appendChild(flags);
  const label = element("label", "field-label", t.reasonLabel);
  const reason = element("input", "input");
  reason.maxLength = 500;
  label.appendChild(reason);
  box.appendChild(label);
  const error = element("p", "error");
  error.hidden = true;
  const actions = element("div", "review-actions");
  const accept = element("button", "button button-primary", t.accept);
  const reject = element("button", "button button-secondary", t.reject);
  actions.appendChild(accept);
  actions.appendChild(reject);
  box.appendChild(actions);
  box.appendChild(error);

  async function decide(decision) {
    if (decision === "rejected" && reason.value.trim().length < 2) {
      error.textContent = t.reasonNeeded;
      error.hidden = false;
      return;
    }
    accept.disabled = reject.disabled = true;
    try {
      await request("POST", "/api/v1/checkins/" + checkin.id + "/review", {
        decision: decision,
        reason: reason.value.trim(),
      });
      box.textContent = "";
      box.appendChild(element("p", "status", checkin.member_name + "：" + (decision === "accepted" ? t.accepted : t.rejected)));
    } catch (err) {
      error.textContent = t.failed + ((err && err.detail) || "");
      error.hidden = false;
      accept.disabled = reject.disabled = false;
    }
  }
  accept.type = reject.type = "button";
  accept.addEventListener("click", () => decide("accepted"));
  reject.addEventListener("click", () => decide("rejected"));
  return box;
}

async function start() {
  if (!getToken()) {
    location.replace("index.html?next=review.html");
    return;
  }
  $("status").textContent = t.loading;
  try {
    const page = await request("GET", "/api/v1/checkins?review=pending&limit=100");
    $("status").textContent = page.items.length ? "" : t.empty;
    for (const checkin of page.items) $("items").appendChild(card(checkin));
  } catch (error) {
    $("status").textContent = t.failed + ((error && error.detail) || "");
  }
}

start();
