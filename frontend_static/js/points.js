// "我的积分": the quarter's total, the rank in the member's grid, and every ledger entry with
// the rule that gave it, newest quarter first. All figures come from the server.
import { getMe, getToken, request } from "./api.js";
import { addQuarterOptions, element, failureDetail } from "./ui.js";

const $ = (id) => document.getElementById(id);
const QUARTERS_SHOWN = 4;
const KIND_LABELS = { reversal: "撤销", adjustment: "人工调整", period_end: "季度结算" };

function signed(points) {
  return (points > 0 ? "+" : "") + points;
}

function day(iso) {
  const d = new Date(iso);
  return d.getMonth() + 1 + "月" + d.getDate() + "日";
}

async function show(memberId, period) {
  $("status").textContent = "正在加载…";
  try {
    const points = await request(
      "GET",
      "/api/v1/members/" + memberId + "/points?period=" + encodeURIComponent(period),
    );
    $("total").textContent = String(points.total);
    $("rank").textContent = "第 " + points.rank + " 名（共 " + points.grid_members + " 人）";
    $("grid").textContent = "所在网格：" + points.grid_name;
    const list = $("entries");
    list.innerHTML = "";
    for (const entry of points.entries.slice().reverse()) {
      const item = element("li", "list-item");
      item.setAttribute("data-entry", String(entry.id));
      const amount = element("strong", entry.amount < 0 ? "points negative" : "points");
      amount.textContent = signed(entry.amount);
      item.appendChild(amount);
      const kind = KIND_LABELS[entry.kind] ? KIND_LABELS[entry.kind] + " · " : "";
      item.appendChild(element("span", "", " " + entry.label));
      item.appendChild(
        element("span", "muted", " " + kind + day(entry.occurred_at) +
          (entry.category_label ? " · " + entry.category_label : "")),
      );
      list.appendChild(item);
    }
    $("no-entries").hidden = points.entries.length > 0;
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = "加载失败：" + failureDetail(error);
  }
}

async function start() {
  if (!getToken()) {
    location.replace("index.html?next=points.html");
    return;
  }
  document.title = "我的积分 - 网格积分";
  let me;
  try {
    me = await getMe();
  } catch (error) {
    $("status").textContent = "加载失败：" + failureDetail(error);
    return;
  }
  const select = $("period");
  addQuarterOptions(select, me.recent_quarters, QUARTERS_SHOWN);
  select.addEventListener("change", () => show(me.id, select.value));
  await show(me.id, select.value);
}

start();
