// Small helpers the pages share: building elements, offering the recent quarters, and saying
// why a request failed.
// Kept to syntax that old Android WebViews parse (see api.js).
import { plainDetail } from "./api.js";

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// Fill a <select> with the first `count` of `quarters`, the recent quarters the server gives
// (newest first, on the community's clock, not the phone's): "2026Q4" shows as "2026 年第 4 季度".
export function addQuarterOptions(select, quarters, count) {
  for (const value of quarters.slice(0, count)) {
    const parts = value.split("Q");
    const option = element("option", "", parts[0] + " 年第 " + parts[1] + " 季度");
    option.value = value;
    select.appendChild(option);
  }
}

// What to tell the user when a request failed: the server's reason in plain Chinese (never a
// field name), or to check the network.
export function failureDetail(error) {
  if (!error || error.status === 0) return "请检查网络后重试";
  return error.detail || plainDetail(error, error.status) || "请检查网络后重试";
}
