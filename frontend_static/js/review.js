// Leader page: flagged check-ins of the leader's activities, each accepted or rejected with
// a reason. Nothing is decided here; the server keeps the record and the audit trail.
import { getMe, getToken, request } from "./api.js";

const TEXT = {
  zh: {
    title: "待核实的签到 - 网格积分",
    heading: "待核实的签到",
    loading: "正在加载…",
    empty: "没有待核实的签到或服务记录。",
    accept: "通过",
    reject: "驳回",
    reasonLabel: "驳回理由",
    reasonNeeded: "驳回时请填写理由。",
    accepted: "已通过",
    rejected: "已驳回",
    proxy: "代签",
    toMe: "返回我的",
    failed: "操作失败：",
    servicesHeading: "待审核的服务记录",
    hours: (h) => h + " 小时",
    photo: "服务照片（点按放大）",
    photoLarge: "服务照片",
    photoMissing: "照片未能加载",
    close: "关闭",
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

function checkinCard(checkin) {
  const flags = element("ul", "list");
  for (const text of checkin.flag_labels) flags.appendChild(element("li", "", text));
  return card({
    attribute: "data-checkin",
    id: checkin.id,
    who: checkin.member_name,
    what: checkin.activity_title + " · " + localTime(checkin.checked_in_at),
    details: flags,
    decide: (decision, reason) =>
      request("POST", "/api/v1/checkins/" + checkin.id + "/review", { decision: decision, reason: reason }),
  });
}

// The evidence photo is served only with the leader's token, so it is fetched, not linked.
async function photoUrl(recordId) {
  const response = await fetch("/api/v1/service-records/" + recordId + "/photo", {
    headers: { Authorization: "Bearer " + getToken() },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error("HTTP " + response.status);
  return URL.createObjectURL(await response.blob());
}

// The photo full screen; a tap anywhere (or 关闭) closes it.
function enlarge(url) {
  const overlay = element("div", "photo-overlay");
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-label", t.photoLarge);
  const img = element("img", "photo-large");
  img.src = url;
  img.alt = t.photoLarge;
  const close = element("button", "button button-secondary photo-close", t.close);
  close.type = "button";
  overlay.appendChild(img);
  overlay.appendChild(close);
  overlay.addEventListener("click", () => overlay.remove());
  document.body.appendChild(overlay);
  close.focus();
}

// A thumbnail of the fixed size the card keeps for it (no shift when it arrives).
function photoThumb(record) {
  const button = element("button", "photo-thumb");
  button.type = "button";
  button.setAttribute("aria-label", t.photo);
  button.disabled = true;
  photoUrl(record.id).then(
    (url) => {
      const img = element("img");
      img.src = url;
      img.alt = t.photo;
      button.appendChild(img);
      button.disabled = false;
      button.addEventListener("click", () => enlarge(url));
    },
    () => {
      button.textContent = t.photoMissing;
    },
  );
  return button;
}

function serviceDetails(record) {
  const details = element("div", "review-details");
  details.appendChild(element("p", "", record.description));
  if (record.flag_labels && record.flag_labels.length) {
    const flags = element("ul", "list");
    for (const text of record.flag_labels) flags.appendChild(element("li", "", text));
    details.appendChild(flags);
  }
  if (record.has_photo) details.appendChild(photoThumb(record));
  return details;
}

function serviceCard(record) {
  return card({
    attribute: "data-service",
    id: record.id,
    who: record.member_name,
    what: record.category_label + " · " + t.hours(record.hours) + " · " + localTime(record.served_on),
    details: serviceDetails(record),
    decide: (decision, reason) =>
      decision === "accepted"
        ? request("POST", "/api/v1/service-records/" + record.id + "/approve")
        : request("POST", "/api/v1/service-records/" + record.id + "/reject", { reason: reason }),
  });
}

function card(item) {
  const box = element("section", "card review-item");
  box.setAttribute(item.attribute, String(item.id));
  box.appendChild(element("h2", "card-title", item.who));
  box.appendChild(element("p", "muted", item.what));
  box.appendChild(item.details);
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
      await item.decide(decision, reason.value.trim());
      box.textContent = "";
      box.appendChild(element("p", "status", item.who + "：" + (decision === "accepted" ? t.accepted : t.rejected)));
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
    const me = await getMe();
    // One's own records are decided by someone else: they are not offered here.
    const checkins = (await request("GET", "/api/v1/checkins?review=pending&limit=100")).items
      .filter((c) => c.member_id !== me.id);
    const services = (await request("GET", "/api/v1/service-records?status=submitted&limit=100")).items
      .filter((r) => r.member_id !== me.id);
    $("status").textContent = checkins.length + services.length ? "" : t.empty;
    for (const checkin of checkins) $("items").appendChild(checkinCard(checkin));
    if (services.length) $("items").appendChild(element("h2", "card-title", t.servicesHeading));
    for (const record of services) $("items").appendChild(serviceCard(record));
  } catch (error) {
    $("status").textContent = t.failed + ((error && error.detail) || "");
  }
}

start();
