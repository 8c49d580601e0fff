// Check-in page (loaded by checkin.js once the member is signed in): read the position, check
// in, and from then on show the member's state for this activity, with 签退 while checked in,
// however the page is reached again (reload, Back, a second scan). With no signal the check-in
// waits on the phone and is sent as soon as the connection returns (api.js), from any page.
import {
  dismissRefused,
  enqueue,
  getToken,
  newClientId,
  onQueueChange,
  outcomeOf,
  phoneNow,
  plainDetail,
  queued,
  refused,
  request,
  sendQueue,
  takePendingScan,
} from "./api.js";

const TEXT = {
  zh: {
    title: "活动签到 - 网格积分",
    heading: "活动签到",
    locating: "正在获取位置…",
    sending: "正在签到…",
    lookingUp: "正在查询签到状态…",
    success: "签到成功",
    flagged: "已签到，待网格长核实：",
    checkedInAlready: "您已签到，活动进行中",
    checkedInAlreadyDetail: "离开活动现场时，请点下面的“签退”。",
    savedOffline: "网络不通，签到已保存在手机上",
    savedOfflineDetail: "恢复网络后会自动发送，请不要清除浏览器数据。",
    serverBusy: "服务器暂时忙，签到已保存在手机上",
    serverBusyDetail: "稍后会自动再发送，也可以点“重新发送”。",
    refused: "签到未成功",
    badLink: "签到链接不完整，请重新扫描现场二维码。",
    noLocation: "未能获取位置，将不带位置签到（需网格长核实）。",
    unknown: "没有查到这次签到，请重新扫描现场二维码。",
    checkedInAt: "签到时间",
    checkedOutAt: "签退时间",
    checkOut: "签退",
    checkingOut: "正在签退…",
    checkedOut: "已签退，感谢您的服务！",
    earlyOut: (end) => "活动要到 " + end + " 才结束。现在签退，之后的时间不再计入。确定现在签退吗？",
    earlyOutYes: "确定签退",
    cancel: "取消",
    retry: "重新发送",
    toMe: "返回我的",
    offlineCheckout: "网络不通，请恢复网络后再签退。",
    checkoutRefused: "签退未成功",
  },
};
const t = TEXT.zh;
// A fix this good is taken at once; otherwise the best within the window, then a coarse one.
const GOOD_ENOUGH_M = 50;
const PRECISE_WINDOW_MS = 4 * 1000;
const COARSE_TIMEOUT_MS = 5 * 1000;
const COARSE_MAX_AGE_MS = 2 * 60 * 1000;
// How long the state lookup may hold a fresh check-in back.
const LOOKUP_WAIT_MS = 8 * 1000;

const $ = (id) => document.getElementById(id);
document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}

const params = new URLSearchParams(location.search);
const activityId = Number(params.get("a"));
const token = params.get("t");
// This code's check-in in this tab: its client_id, then the stored record's id. A reload or
// Back finds them and shows the state instead of checking in again.
const LINK_KEY = "gridpoints.checkin." + activityId + "." + token;
const ID_KEY = LINK_KEY + ".id";
let current = null;
let waitingFor = null;

function say(status, detail) {
  $("status").textContent = status;
  $("status-detail").textContent = detail || "";
}

function remember(key, value) {
  try {
    sessionStorage.setItem(key, value);
  } catch (_) {
    // Private mode on old browsers: the state is looked up on the server instead.
  }
}

function recall(key) {
  try {
    return sessionStorage.getItem(key);
  } catch (_) {
    return null;
  }
}

function pad(n) {
  return (n < 10 ? "0" : "") + n;
}

function time(iso) {
  const d = new Date(iso);
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

function delay(ms, value) {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

// `status`: what to say above the record (the record's flags, or checked out, win).
function showCheckin(checkin, status, detail) {
  current = checkin;
  waitingFor = null;
  remember(ID_KEY, String(checkin.id));
  $("retry").hidden = true;
  const list = $("flags");
  list.textContent = "";
  list.hidden = !checkin.flag_labels.length;
  for (const text of checkin.flag_labels) {
    const li = document.createElement("li");
    li.textContent = text;
    list.appendChild(li);
  }
  const out = Boolean(checkin.checked_out_at);
  if (out) say(t.checkedOut);
  else if (checkin.flag_labels.length) say(t.flagged);
  else say(status || t.success, detail);
  $("activity-title").textContent = checkin.activity_title;
  $("checked-in-at").textContent = time(checkin.checked_in_at);
  $("checked-out-label").hidden = !out;
  $("checked-out-at").hidden = !out;
  if (out) $("checked-out-at").textContent = time(checkin.checked_out_at);
  $("check-out").hidden = out;
  $("confirm-out").hidden = true;
  $("done").hidden = false;
}

// The member's open check-in at this activity, or null (none, or the server cannot say).
async function openCheckin() {
  try {
    const items = await request("GET", "/api/v1/checkins/open?activity_id=" + activityId);
    const list = Array.isArray(items) ? items : (items && items.items) || [];
    return list.filter((c) => c.activity_id === activityId && !c.checked_out_at)[0] || null;
  } catch (_) {
    return null;
  }
}

// The best position within a few seconds: a precise (GPS) fix if one comes, else the
// network's coarse one; null only when the phone gives none at all. Browser positions are
// WGS-84.
function locate() {
  return new Promise((resolve) => {
    const geo = navigator.geolocation;
    if (!geo) return resolve(null);
    let best = null;
    let finished = false;
    let coarseAsked = false;
    let watchId = null;
    let timer = null;
    const finish = (fix) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      if (watchId !== null) geo.clearWatch(watchId);
      resolve(fix);
    };
    const keep = (p) => {
      const c = p.coords;
      if (!best || c.accuracy < best.accuracy_m) {
        best = { lat: c.latitude, lng: c.longitude, accuracy_m: c.accuracy, datum: "wgs84" };
      }
      if (best.accuracy_m <= GOOD_ENOUGH_M) finish(best);
    };
    const coarse = () => {
      if (finished || coarseAsked) return;
      coarseAsked = true;
      if (best) return finish(best);
      geo.getCurrentPosition(
        (p) => {
          keep(p);
          finish(best);
        },
        () => finish(best),
        { enableHighAccuracy: false, timeout: COARSE_TIMEOUT_MS, maximumAge: COARSE_MAX_AGE_MS },
      );
    };
    timer = setTimeout(coarse, PRECISE_WINDOW_MS);
    try {
      watchId = geo.watchPosition(
        keep,
        (error) => (error && error.code === 1 ? finish(null) : coarse()),
        { enableHighAccuracy: true, timeout: PRECISE_WINDOW_MS, maximumAge: 30 * 1000 },
      );
    } catch (_) {
      coarse();
    }
  });
}

// What became of this page's check-in, once the queue was sent (by this page or another).
async function settle(clientId) {
  const result = outcomeOf(clientId);
  const stillQueued = queued().some((i) => i.client_id === clientId);
  if (!result && stillQueued) return;
  if (!result) return lookUp(clientId);
  if (result.checkin) return showCheckin(result.checkin);
  if (result.status >= 500) {
    say(t.serverBusy, t.serverBusyDetail);
    $("retry").hidden = false;
    return;
  }
  const problem = result.problem || {};
  if (problem.code === "already_checked_in") {
    const open = await openCheckin();
    if (open) {
      dismissRefused(clientId);
      return showCheckin(open, t.checkedInAlready, t.checkedInAlreadyDetail);
    }
  }
  waitingFor = null;
  say(t.refused, plainDetail(problem, result.status));
}

// The sign-in ran out: sign in again and come back here; the check-in waits in the queue.
function signInAgain() {
  location.replace("index.html?next=" + encodeURIComponent("checkin.html" + location.search));
}

async function sendAndShow(clientId) {
  waitingFor = clientId;
  say(t.sending);
  $("retry").hidden = true;
  if (!getToken()) return signInAgain();
  try {
    await sendQueue();
  } catch (error) {
    if (error && error.status === 401) return signInAgain();
    if (!error || error.status === 0 || error.status >= 500) {
      say(error && error.status ? t.serverBusy : t.savedOffline, error && error.status ? t.serverBusyDetail : t.savedOfflineDetail);
    } else {
      say(t.refused, error.detail);
    }
    $("retry").hidden = false;
    return;
  }
  await settle(clientId);
}

// Reached again (reload, Back): the state of the check-in this code made, from the phone's
// queue or the server; never "正在签到…" for ever.
async function lookUp(clientId) {
  if (queued().some((i) => i.client_id === clientId)) return sendAndShow(clientId);
  say(t.lookingUp);
  const id = recall(ID_KEY);
  if (id) {
    try {
      return showCheckin(await request("GET", "/api/v1/checkins/" + Number(id)), t.checkedInAlready, t.checkedInAlreadyDetail);
    } catch (_) {
      // Gone or unreachable: ask for the open one instead.
    }
  }
  const open = await openCheckin();
  if (open) return showCheckin(open, t.checkedInAlready, t.checkedInAlreadyDetail);
  const refusal = refused().filter((r) => r.client_id === clientId)[0];
  if (refusal) return say(t.refused, refusal.reason);
  say(t.refused, t.unknown);
}

async function checkIn() {
  say(t.locating);
  const pending = takePendingScan(activityId, token);
  const lookup = openCheckin();
  const fixing = locate();
  // Scanned again while checked in: offer 签退, do not check in twice.
  const open = await Promise.race([lookup, delay(LOOKUP_WAIT_MS, null)]);
  if (open) return showCheckin(open, t.checkedInAlready, t.checkedInAlreadyDetail);
  const fix = await fixing;
  if (!fix) say(t.locating, t.noLocation);
  const clientId = newClientId();
  const item = {
    client_id: clientId,
    activity_id: activityId,
    token: token,
    // The moment of the scan on the phone's clock (the server corrects it by sent_at).
    at: pending ? pending.opened_at : phoneNow(),
  };
  if (pending && pending.receipt) item.receipt = pending.receipt;
  if (fix) {
    item.lat = fix.lat;
    item.lng = fix.lng;
    item.accuracy_m = fix.accuracy_m;
    item.datum = fix.datum;
  }
  enqueue(item);
  remember(LINK_KEY, clientId);
  await sendAndShow(clientId);
}

function askEarlyCheckout(asking) {
  $("confirm-out").hidden = !asking;
  $("check-out").hidden = asking;
  (asking ? $("confirm-out-no") : $("check-out")).focus();
}

async function checkOut() {
  if (!current) return;
  $("confirm-out").hidden = true;
  $("check-out").hidden = false;
  $("check-out").disabled = true;
  say(t.checkingOut);
  try {
    showCheckin(await request("POST", "/api/v1/checkins/" + current.id + "/checkout", { sent_at: phoneNow() }));
  } catch (error) {
    const offline = !error || error.status === 0;
    say(offline ? t.offlineCheckout : t.checkoutRefused, offline ? "" : error.detail);
  } finally {
    $("check-out").disabled = false;
  }
}

$("check-out").addEventListener("click", () => {
  if (!current) return;
  const ends = current.activity_ends_at ? Date.parse(current.activity_ends_at) : NaN;
  if (ends > Date.now()) {
    $("confirm-out-text").textContent = t.earlyOut(time(current.activity_ends_at));
    return askEarlyCheckout(true);
  }
  checkOut();
});
$("confirm-out-yes").addEventListener("click", checkOut);
$("confirm-out-no").addEventListener("click", () => askEarlyCheckout(false));
$("retry").addEventListener("click", () => {
  if (waitingFor) sendAndShow(waitingFor);
});
// Sent by another send (the signal came back, a timer): show the outcome as it arrives.
onQueueChange(() => {
  if (waitingFor && !queued().some((i) => i.client_id === waitingFor)) settle(waitingFor);
});

function start() {
  if (!activityId || !token) return say(t.refused, t.badLink);
  const known = recall(LINK_KEY);
  if (known) return lookUp(known);
  return checkIn();
}

start();
