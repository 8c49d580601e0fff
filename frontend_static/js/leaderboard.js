// The PC leaderboard of a grid the leader holds a role on: members by points for a quarter,
// and the year's points by month and by service category as bar charts.
import { getMe, getToken, request } from "./api.js";
import { addQuarterOptions, element, failureDetail } from "./ui.js";

const $ = (id) => document.getElementById(id);
const QUARTERS_SHOWN = 4;

function bars(list, buckets) {
  list.innerHTML = "";
  const most = Math.max(1, ...buckets.map((b) => Math.abs(b.points)));
  for (const bucket of buckets) {
    const row = element("li");
    row.setAttribute("data-bucket", bucket.key);
    row.appendChild(element("span", "", bucket.label));
    const bar = element("span", "bar");
    bar.style.width = Math.round((Math.abs(bucket.points) / most) * 100) + "%";
    row.appendChild(element("span")).appendChild(bar);
    row.appendChild(element("span", "", String(bucket.points)));
    list.appendChild(row);
  }
}

async function show() {
  const unit = $("unit").value;
  const period = $("period").value;
  if (!unit) return;
  $("status").textContent = "正在加载…";
  try {
    const board = await request(
      "GET",
      "/api/v1/org-units/" + unit + "/leaderboard?period=" + encodeURIComponent(period),
    );
    $("board-title").textContent = board.org_unit_name + " · 共 " + board.members + " 人";
    const body = $("board").querySelector("tbody");
    body.innerHTML = "";
    for (const leader of board.leaders) {
      const row = element("tr");
      row.setAttribute("data-member", String(leader.member_id));
      row.appendChild(element("td", "", String(leader.rank)));
      row.appendChild(element("td", "", leader.name));
      row.appendChild(element("td", "", String(leader.total)));
      body.appendChild(row);
    }
    $("months-title").textContent = period.slice(0, 4) + " 年各月积分";
    bars($("months"), board.by_month);
    bars($("categories"), board.by_category);
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = "加载失败：" + failureDetail(error);
  }
}

async function start() {
  if (!getToken()) {
    location.replace("index.html?next=leaderboard.html");
    return;
  }
  document.title = "网格积分排行 - 网格积分";
  let me;
  try {
    me = await getMe();
  } catch (error) {
    $("status").textContent = "加载失败：" + failureDetail(error);
    return;
  }
  const units = $("unit");
  const seen = {};
  for (const role of me.roles) {
    if (seen[role.org_unit_id]) continue;
    seen[role.org_unit_id] = true;
    const option = element("option", "", role.org_unit_name || String(role.org_unit_id));
    option.value = String(role.org_unit_id);
    units.appendChild(option);
  }
  if (!units.options.length) {
    $("status").textContent = "您没有担任网格职务，看不到排行。";
    return;
  }
  addQuarterOptions($("period"), me.recent_quarters, QUARTERS_SHOWN);
  units.addEventListener("change", show);
  $("period").addEventListener("change", show);
  await show();
}

start();
