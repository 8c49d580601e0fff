// Log a service done outside an activity; the member's grid leader verifies it.
import { getToken, request } from "./api.js";

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
    done: "已提交，等待网格长审核。",
    toRecord: "查看我的记录",
    needDescription: "请写明做了什么。",
    failed: "提交失败：",
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

$("service-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("error").hidden = true;
  const description = $("description").value.trim();
  if (description.length < 2) return showError(t.needDescription);
  $("submit").disabled = true;
  $("submit").textContent = t.submitting;
  try {
    const record = await request("POST", "/api/v1/service-records", {
      category: $("category").value,
      hours: Number($("hours").value),
      description: description,
      served_on: servedOn($("served-on").value),
    });
    const photo = $("photo").files && $("photo").files[0];
    if (photo) {
      const form = new FormData();
      form.append("file", photo);
      await fetch("/api/v1/service-records/" + record.id + "/photo", {
        method: "POST",
        headers: { Authorization: "Bearer " + getToken() },
        body: form,
      });
    }
    $("service-form").hidden = true;
    $("done").textContent = t.done;
    $("done").hidden = false;
  } catch (error) {
    const fields = error && error.errors ? error.errors.map((e) => e.detail).join("；") : "";
    showError(t.failed + (fields || (error && error.detail) || ""));
    $("submit").disabled = false;
    $("submit").textContent = t.submit;
  }
});
