// Organiser page: the activity's rotating QR code full-screen on the leader's phone, redrawn
// before each code expires, with a live count of check-ins.
import { getToken, request } from "./api.js";

const TEXT = {
  zh: {
    title: "签到二维码 - 网格积分",
    hint: "请参加者用手机扫码签到，二维码会自动更新。",
    countLabel: "已签到",
    toReview: "待核实的签到",
    offline: "网络不通，二维码暂停更新，恢复网络后自动继续。",
    badLink: "缺少活动编号。",
  },
};
const t = TEXT.zh;
const COUNT_EVERY_MS = 5 * 1000;

const $ = (id) => document.getElementById(id);
document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

const activityId = Number(new URLSearchParams(location.search).get("id"));

function showError(error) {
  $("error").textContent = error && error.status === 0 ? t.offline : (error && error.detail) || t.offline;
  $("error").hidden = false;
}

// The SVG needs the sign-in token, which an <img> cannot send: fetch it and draw it inline.
async function drawCode() {
  const code = await request("GET", "/api/v1/activities/" + activityId + "/code");
  const response = await fetch("/api/v1/activities/" + activityId + "/qr.svg", {
    headers: { Authorization: "Bearer " + getToken() },
    cache: "no-store",
  });
  if (!response.ok) throw { status: response.status, detail: "" };
  $("qr").innerHTML = await response.text();
  $("qr").setAttribute("data-token", code.token);
  $("error").hidden = true;
  // Redraw half-way through the code's life, so a scan never meets an expired code.
  const left = Date.parse(code.expires_at) - Date.now();
  return Math.max(2000, Math.min(left, (code.slot_seconds * 1000) / 2));
}

async function refreshCode() {
  let wait = 5000;
  try {
    wait = await drawCode();
  } catch (error) {
    showError(error);
  }
  setTimeout(refreshCode, wait);
}

async function refreshCount() {
  try {
    const page = await request("GET", "/api/v1/checkins?limit=1&activity_id=" + activityId);
    $("count").textContent = String(page.total);
  } catch (_) {
    // The code matters more; the count catches up on the next round.
  }
}

async function start() {
  if (!getToken()) {
    location.replace("index.html?next=" + encodeURIComponent("organise.html" + location.search));
    return;
  }
  if (!activityId) return showError({ status: 400, detail: t.badLink });
  try {
    const activity = await request("GET", "/api/v1/activities/" + activityId);
    $("title").textContent = activity.title;
  } catch (error) {
    return showError(error);
  }
  refreshCode();
  refreshCount();
  setInterval(refreshCount, COUNT_EVERY_MS);
}

start();
