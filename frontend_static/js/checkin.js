// Check-in page, opened from the QR code at an activity: sign in if needed (the code is kept),
// read the position, check in. With no signal the check-in waits on the phone and is sent
// as soon as the connection returns; the member is told so plainly.
import { getToken, request } from "./api.js";
import { enqueue, flush, newClientId, queued } from "./queue.js";

const TEXT = {
  zh: {
    title: "活动签到 - 网格积分",
    heading: "活动签到",
    locating: "正在获取位置…",
    sending: "正在签到…",
    success: "签到成功",
    flagged: "已签到，待网格长核实：",
    savedOffline: "网络不通，签到已保存在手机上",
    savedOfflineDetail: "恢复网络后会自动发送，请不要清除浏览器数据。",
    refused: "签到未成功",
    badLink: "签到链接不完整，请重新扫描现场二维码。",
    noLocation: "未能获取位置，将不带位置签到（需网格长核实）。",
    checkedInAt: "签到时间",
    checkedOutAt: "签退时间",
    checkOut: "签退",
    checkingOut: "正在签退…",
    checkedOut: "已签退，感谢您的服务！",
    retry: "重新发送",
    toMe: "返回我的",
    offlineCheckout: "网络不通，请恢复网络后再签退。",
  },
};
const t = TEXT.zh;
const RETRY_EVERY_MS = 15 * 1000;
const LOCATE_TIMEOUT_MS = 10 * 1000;

const $ = (id) => document.getElementById(id);
document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

const params = new URLSearchParams(location.search);
const activityId = Number(params.get("a"));
const token = params.get("t");
let current = null;

function say(status, detail) {
  $("status").textContent = status;
  $("status-detail").textContent = detail || "";
}

function time(iso) {
  const d = new Date(iso);
  const pad = (n) => (n < 10 ? "0" : "") + n;
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
    pad(d.getHours()) + ":" + pad(d.getMinutes());
}

function showCheckin(checkin) {
  current = checkin;
  $("retry").hidden = true;
  if (checkin.flag_labels.length) {
    say(t.flagged);
    const list = $("flags");
    list.textContent = "";
    for (const text of checkin.flag_labels) {
      const li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    }
    list.hidden = false;
  } else {
    say(t.success);
  }
  $("activity-title").textContent = checkin.activity_title;
  $("checked-in-at").textContent = time(checkin.checked_in_at);
  const out = Boolean(checkin.checked_out_at);
  $("checked-out-label").hidden = !out;
  $("checked-out-at").hidden = !out;
  if (out) {
    $("checked-out-at").textContent = time(checkin.checked_out_at);
    say(t.checkedOut);
  }
  $("check-out").hidden = out;
  $("done").hidden = false;
}

function locate() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: LOCATE_TIMEOUT_MS, maximumAge: 60 * 1000 },
    );
  });
}

// Send the queue; show what became of this page's own check-in.
async function send(clientId) {
  let results;
  try {
    results = await flush();
  } catch (error) {
    if (error && error.status === 0) {
      say(t.savedOffline, t.savedOfflineDetail);
      $("retry").hidden = false;
      return;
    }
    say(t.refused, (error && error.detail) || "");
    $("retry").hidden = false;
    return;
  }
  for (const result of results) {
    if (result.client_id !== clientId) continue;
    if (result.checkin) showCheckin(result.checkin);
    else say(t.refused, (result.problem && result.problem.detail) || "");
  }
}

async function start() {
  if (!activityId || !token) return say(t.refused, t.badLink);
  if (!getToken()) {
    location.replace("index.html?next=" + encodeURIComponent("checkin.html" + location.search));
    return;
  }
  // A reload must not check in twice: the code of this page keeps its client_id.
  const key = "gridpoints.checkin." + activityId + "." + token;
  let clientId = sessionStorage.getItem(key);
  if (!clientId) {
    say(t.locating);
    const fix = await locate();
    if (!fix) say(t.locating, t.noLocation);
    clientId = newClientId();
    const item = { client_id: clientId, activity_id: activityId, token: token, at: new Date().toISOString() };
    if (fix) {
      item.lat = fix.lat;
      item.lng = fix.lng;
      item.accuracy_m = fix.accuracy_m;
    }
    enqueue(item);
    sessionStorage.setItem(key, clientId);
  }
  say(t.sending);
  await send(clientId);
  const retry = () => {
    if (queued().some((i) => i.client_id === clientId)) send(clientId);
  };
  window.addEventListener("online", retry);
  setInterval(retry, RETRY_EVERY_MS);
  $("retry").addEventListener("click", retry);
}

$("check-out").addEventListener("click", async () => {
  if (!current) return;
  $("check-out").disabled = true;
  say(t.checkingOut);
  try {
    showCheckin(await request("POST", "/api/v1/checkins/" + current.id + "/checkout", {}));
  } catch (error) {
    say(error && error.status === 0 ? t.offlineCheckout : t.refused, error && error.status ? error.detail : "");
  } finally {
    $("check-out").disabled = false;
  }
});

start();
