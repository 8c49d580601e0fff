// Small helpers the pages share: building elements, offering the recent quarters, and saying
// why a request failed.
// Kept to syntax that old Android WebViews parse (see api.js).

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

// The current quarter and the ones before it, newest first: {value: "2026Q4", label: "2026 年第 4 季度"}.
export function recentQuarters(now, count) {
  let year = now.getFullYear();
  let quarter = Math.floor(now.getMonth() / 3) + 1;
  const out = [];
  for (let i = 0; i < count; i += 1) {
    out.push({ value: year + "Q" + quarter, label: year + " 年第 " + quarter + " 季度" });
    quarter -= 1;
    if (quarter === 0) {
      quarter = 4;
      year -= 1;
    }
  }
  return out;
}

// Fill a <select> with the current quarter and the `count - 1` before it, newest first.
export function addQuarterOptions(select, count) {
  for (const q of recentQuarters(new Date(), count)) {
    const option = element("option", "", q.label);
    option.value = q.value;
    select.appendChild(option);
  }
}

// What to tell the user when a request failed: the server's reason, or to check the network.
export function failureDetail(error) {
  return (error && error.detail) || "请检查网络后重试";
}
