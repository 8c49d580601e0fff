// Log a service done outside an activity; the member's grid leader verifies it.
//
// A form may be sent more than once (a lost answer on a weak signal, a second tap): it goes
// with a client_id made once for what the form says and kept, with the very body first sent,
// across retries (also a reload of the page), so the server stores it once. A photo is shrunk
// on the phone before upload (longest side 1600 px, JPEG), so an ordinary 5–8 MB phone photo
// goes through a weak signal and under the server's limit; a photo that still fails is said
// so, with a way to send it again, and the record is never reported as sent with a photo.
import { getToken, newClientId, request } from "./api.js";

const TEXT = {
  zh: {
    title: "登记服务 - 网格积分",
    heading: "登记服务",
    categoryLabel: "服务类别",
    hoursLabel: "服务时长（小时）",
    dateLabel: "服务日期",
    descriptionLabel: "做了什么",
    photoLabel: "照片（可不填）",
    submit: "提交",
    submitting: "正在提交…",
    preparingPhoto: "正在处理照片…",
    uploadingPhoto: "服务记录已提交，正在上传照片…",
    done: "已提交，等待网格长审核。",
    doneWithPhoto: "已提交（含照片），等待网格长审核。",
    photoFailed: "服务记录已提交，但照片没有传上去",
    photoOffline: "网络不通，请有信号时再试。",
    retryPhoto: "重新上传照片",
    toRecord: "查看我的记录",
    needDescription: "请写明做了什么。",
    failed: "提交失败：",
    offline: "网络不通，请检查网络后再点提交（不会重复登记）。",
    categories: {
      corridor_facilities: "楼道设施",
      emergency_response: "应急处突",
      policy_publicity: "政策宣传",
      resident_service: "居民服务",
      dispute_mediation: "矛盾调解",
      volunteer_liaison: "志愿联络",
      hygiene_epidemic: "卫生防疫",
      civility_campaign: "文明创建",
    },
  },
};
const t = TEXT.zh;
const $ = (id) => document.getElementById(id);
document.title = t.title;
for (const el of document.querySelectorAll("[data-text]")) {
  el.textContent = t[el.getAttribute("data-text")];
}
if (!getToken()) location.replace("index.html?next=service.html");

// The form being sent: what it says, its client_id and the body first sent under it.
const PENDING_KEY = "gridpoints.serviceForm";
// A photo is drawn again at most this many pixels on its longest side, as a JPEG.
const PHOTO_MAX_SIDE = 1600;
const PHOTO_QUALITY = 0.85;
// A photo smaller than this that needs no shrinking goes as it is.
const PHOTO_SMALL_BYTES = 1024 * 1024;
// An upload on a weak signal takes a while; beyond this it is said to have failed.
const UPLOAD_TIMEOUT_MS = 90 * 1000;

for (const code of Object.keys(t.categories)) {
  const option = document.createElement("option");
  option.value = code;
  option.textContent = t.categories[code];
  $("category").appendChild(option);
}
const today = new Date();
const pad = (n) => (n < 10 ? "0" : "") + n;
$("served-on").value = today.getFullYear() + "-" + pad(today.getMonth() + 1) + "-" + pad(today.getDate());

// The chosen day on the phone's clock: today means now, an earlier day means its noon.
function servedOn(day) {
  const noon = new Date(day + "T12:00:00");
  return (noon > new Date() ? new Date() : noon).toISOString();
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

function readPending() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  } catch (_) {
    return null;
  }
}

function writePending(pending) {
  try {
    if (pending) sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    else sessionStorage.removeItem(PENDING_KEY);
  } catch (_) {
    // Private mode on old browsers: retries within this page still share the id.
  }
}

let pendingHere = null;

// The body to send: the one sent before when the form still says the same (so a retry is
// the same request under the same client_id), else a new one under a new id.
function bodyFor(fields) {
  const says = JSON.stringify(fields);
  const pending = pendingHere || readPending();
  if (pending && pending.says === says) return pending.body;
  const body = {
    client_id: newClientId(),
    category: fields.category,
    hours: fields.hours,
    description: fields.description,
    served_on: servedOn(fields.day),
  };
  pendingHere = { says: says, body: body };
  writePending(pendingHere);
  return body;
}

// ---- The photo, shrunk on the phone ----

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => resolve({ picture: img, width: img.naturalWidth, height: img.naturalHeight, done: () => URL.revokeObjectURL(url) });
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("undecodable"));
    };
    img.src = url;
  });
}

// The photo decoded and turned upright by its EXIF orientation: createImageBitmap where it
// takes the option, else an <img> (browsers draw those upright themselves).
async function decode(file) {
  if (typeof createImageBitmap === "function") {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      return { picture: bitmap, width: bitmap.width, height: bitmap.height, done: () => bitmap.close() };
    } catch (_) {
      // An old engine refuses the option (or the file): try the <img> way.
    }
  }
  return loadImage(file);
}

function canvasBlob(canvas) {
  return new Promise((resolve) => {
    if (canvas.toBlob) canvas.toBlob(resolve, "image/jpeg", PHOTO_QUALITY);
    else resolve(null);
  });
}

// A JPEG at most PHOTO_MAX_SIDE on its longest side; the file itself when the phone cannot
// draw it (the server then checks it as it came).
async function shrink(file) {
  let decoded;
  try {
    decoded = await decode(file);
  } catch (_) {
    return file;
  }
  try {
    const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(decoded.width, decoded.height));
    if (scale === 1 && file.size <= PHOTO_SMALL_BYTES) return file;
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(decoded.width * scale));
    canvas.height = Math.max(1, Math.round(decoded.height * scale));
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // a transparent PNG turns white, not black, as a JPEG
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(decoded.picture, 0, 0, canvas.width, canvas.height);
    const blob = await canvasBlob(canvas);
    canvas.width = canvas.height = 0; // let go of the pixels at once on small phones
    return blob || file;
  } finally {
    decoded.done();
  }
}

let shrunk = null; // {file, blob}: the chosen photo as it will be sent

async function photoToSend() {
  const file = $("photo").files && $("photo").files[0];
  if (!file) return null;
  if (!shrunk || shrunk.file !== file) shrunk = { file: file, blob: await shrink(file) };
  return shrunk.blob;
}

// The server's reason in its own words (never a field name), or that the network failed.
async function uploadProblem(response) {
  try {
    const problem = await response.json();
    const details = (problem.errors || []).map((e) => e.detail).filter(Boolean);
    return details.join("；") || problem.detail || "";
  } catch (_) {
    return "";
  }
}

// Resolves when the server kept the photo; rejects with what to tell the member otherwise.
async function upload(recordId, blob) {
  const form = new FormData();
  form.append("file", blob, blob.type === "image/jpeg" ? "photo.jpg" : (blob.name || "photo"));
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), UPLOAD_TIMEOUT_MS) : null;
  let response;
  try {
    response = await fetch("/api/v1/service-records/" + recordId + "/photo", {
      method: "POST",
      headers: { Authorization: "Bearer " + getToken() },
      body: form,
      signal: controller ? controller.signal : undefined,
      credentials: "same-origin",
    });
  } catch (_) {
    throw new Error(t.photoOffline);
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (!response.ok) throw new Error((await uploadProblem(response)) || t.photoOffline);
}

let stored = null; // {id, blob}: a record stored whose photo is still to go

async function sendPhoto() {
  $("photo-problem").hidden = true;
  $("done").textContent = t.uploadingPhoto;
  $("done").hidden = false;
  try {
    await upload(stored.id, stored.blob);
  } catch (error) {
    $("done").hidden = true;
    $("photo-error").textContent = t.photoFailed + "：" + error.message;
    $("photo-problem").hidden = false;
    $("retry-photo").disabled = false;
    return;
  }
  stored = null;
  $("done").textContent = t.doneWithPhoto;
}

$("retry-photo").addEventListener("click", () => {
  $("retry-photo").disabled = true;
  sendPhoto();
});

$("service-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("error").hidden = true;
  const description = $("description").value.trim();
  if (description.length < 2) return showError(t.needDescription);
  $("submit").disabled = true;
  try {
    $("submit").textContent = t.preparingPhoto;
    const blob = await photoToSend();
    $("submit").textContent = t.submitting;
    const body = bodyFor({
      category: $("category").value,
      hours: Number($("hours").value),
      description: description,
      day: $("served-on").value,
    });
    const record = await request("POST", "/api/v1/service-records", body);
    pendingHere = null;
    writePending(null);
    $("service-form").hidden = true;
    if (!blob) {
      $("done").textContent = t.done;
      $("done").hidden = false;
      return;
    }
    stored = { id: record.id, blob: blob };
    await sendPhoto();
  } catch (error) {
    if (error && error.status === 0) return failed(t.offline);
    if (error && error.code === "client_id_reused") {
      // Not this form's id after all (another account on this phone): the next try is new.
      pendingHere = null;
      writePending(null);
    }
    const fields = error && error.errors ? error.errors.map((e) => e.detail).join("；") : "";
    failed(t.failed + (fields || (error && error.detail) || ""));
  }
});

function failed(text) {
  showError(text);
  $("submit").disabled = false;
  $("submit").textContent = t.submit;
}
