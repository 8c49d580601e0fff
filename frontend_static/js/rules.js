// The rules page (PC): the rule sets in force, and for committee staff a dry-run of a changed
// rule file over a quarter (progress, totals per rule, largest changes, the workbook) and the
// rescoring of an open quarter by the rules now in force.
import { getMe, getToken, request } from "./api.js";
import { addQuarterOptions, element, failureDetail } from "./ui.js";

const $ = (id) => document.getElementById(id);
const QUARTERS_SHOWN = 4;
const POLL_MS = 1000;
const STAFF = ["admin", "committee_member"];

function points(rule) {
  const parts = [];
  if (rule.fixed) parts.push((rule.fixed > 0 ? "+" : "") + rule.fixed + " 分");
  if (rule.per_hour) parts.push("每小时 " + rule.per_hour + " 分");
  if (rule.multiplier !== 1) parts.push("× " + rule.multiplier);
  const caps = [];
  if (rule.cap_per_event !== null) caps.push("每次至多 " + rule.cap_per_event);
  if (rule.cap_per_quarter !== null) caps.push("每季度至多 " + rule.cap_per_quarter);
  if (rule.cap_per_year !== null) caps.push("每年至多 " + rule.cap_per_year);
  return parts.join("，") + (caps.length ? "（" + caps.join("，") + "）" : "");
}

function showRulesets(sets) {
  const box = $("rulesets");
  box.innerHTML = "";
  for (const set of sets) {
    const title = set.label + " · 版本 " + set.version + (set.in_force ? " · 生效中" : "");
    box.appendChild(element("h3", "", title));
    const table = element("table", "table");
    table.setAttribute("data-ruleset", set.id);
    const head = table.appendChild(element("thead")).appendChild(element("tr"));
    for (const name of ["规则", "计分事件", "分值"]) head.appendChild(element("th", "", name));
    const body = table.appendChild(element("tbody"));
    for (const rule of set.rules) {
      const row = body.appendChild(element("tr"));
      row.appendChild(element("td", "", rule.label));
      row.appendChild(element("td", "", rule.event_label));
      row.appendChild(element("td", "", points(rule)));
    }
    box.appendChild(table);
  }
}

function fillRows(table, rows) {
  const body = table.querySelector("tbody");
  body.innerHTML = "";
  for (const cells of rows) {
    const row = body.appendChild(element("tr"));
    for (const cell of cells) row.appendChild(element("td", "", String(cell)));
  }
}

let download = null;

function showResult(job) {
  const r = job.result;
  $("result").hidden = false;
  if (job.kind === "points.rescore") {
    $("summary").textContent =
      r.period + " 已按现行规则重算：撤销 " + r.reversed_entries + " 条，新记 " +
      (r.new_entries + r.period_end_entries) + " 条，积分共变化 " + r.net_change + " 分。";
    $("by-rule").hidden = $("largest").hidden = $("download").hidden = true;
    return;
  }
  $("summary").textContent =
    r.period + " 试算：" + r.members + " 人，其中 " + r.members_changed + " 人积分有变化；总分 " +
    r.before_total + " → " + r.after_total + "。";
  $("by-rule").hidden = $("largest").hidden = $("download").hidden = false;
  fillRows($("by-rule"), r.by_rule.map((x) => [x.label, x.before, x.after, x.after - x.before]));
  fillRows($("largest"), r.largest_changes.map((x) => [x.name, x.unit, x.before, x.after]));
  download = { path: r.download, name: "积分规则试算-" + r.period + ".xlsx" };
}

async function follow(jobId) {
  $("job").hidden = false;
  $("result").hidden = true;
  for (;;) {
    const job = await request("GET", "/api/v1/jobs/" + jobId);
    $("progress").value = job.progress;
    $("progress-note").textContent = job.status === "queued" ? "排队中…" : job.progress + "%";
    if (job.status === "succeeded") {
      $("job").hidden = true;
      return showResult(job);
    }
    if (job.status === "failed") {
      $("job").hidden = true;
      $("error").textContent = job.error || "任务失败";
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function start(path, body) {
  $("error").textContent = "";
  $("dry-run").disabled = $("rescore").disabled = true;
  try {
    const started = await request("POST", path, body);
    await follow(started.job_id);
  } catch (error) {
    const problems = (error && error.errors) || [];
    $("error").textContent = problems.length
      ? problems.map((p) => p.detail).join("\n")
      : "未能完成：" + failureDetail(error);
  } finally {
    $("dry-run").disabled = $("rescore").disabled = false;
  }
}

async function dryRun() {
  const file = $("file").files[0];
  if (!file) {
    $("error").textContent = "请先选择修改后的规则文件（.toml）";
    return;
  }
  await start("/api/v1/rulesets/dry-run", {
    period: $("period").value,
    org_unit_id: Number($("unit").value),
    filename: file.name,
    content: await file.text(),
  });
}

async function rescore() {
  const period = $("period").value;
  if (!confirm("按现行规则重算 " + period + " 的积分？旧记录会被撤销并重新计分。")) return;
  await start("/api/v1/rulesets/rescore", { period: period, org_unit_id: Number($("unit").value) });
}

async function saveWorkbook() {
  if (!download) return;
  const response = await fetch(download.path, {
    headers: { Authorization: "Bearer " + getToken() },
  });
  if (!response.ok) {
    $("error").textContent = "下载失败，请重试";
    return;
  }
  const link = element("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = download.name;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

async function main() {
  if (!getToken()) {
    location.replace("index.html?next=rules.html");
    return;
  }
  document.title = "积分规则 - 网格积分";
  let me;
  try {
    me = await getMe();
    showRulesets(await request("GET", "/api/v1/rulesets"));
  } catch (error) {
    $("status").textContent = "加载失败：" + failureDetail(error);
    return;
  }
  const staff = me.roles.filter((r) => STAFF.indexOf(r.role) !== -1);
  if (!staff.length) return;
  $("changes").hidden = false;
  for (const role of staff) {
    const option = element("option", "", role.org_unit_name || String(role.org_unit_id));
    option.value = String(role.org_unit_id);
    $("unit").appendChild(option);
  }
  addQuarterOptions($("period"), me.recent_quarters, QUARTERS_SHOWN);
  $("dry-run").addEventListener("click", dryRun);
  $("rescore").addEventListener("click", rescore);
  $("download").addEventListener("click", saveWorkbook);
}

main();
