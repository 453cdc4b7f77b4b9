// Opens `vigil report`'s page for the national sample findings in headless Chromium and checks
// it: no console error, page error or network request; the totals shown equal the totals this
// script computes itself from the findings and claims files (exact, in fen as BigInt); the
// search box filters the table; a finding's text is shown as text, never run as markup.
//
//   VIGIL_BIN=target/debug/vigil node tests/report/report_test.mjs   (tests/report/run.sh does this)
//
// SCREENSHOT=/tmp/report.png also saves a full-page screenshot to look at (not committed).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const repo = resolve(import.meta.dirname, "..", "..");
const bin = resolve(process.env.VIGIL_BIN ?? join(repo, "target/debug/vigil"));
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const samples = join(repo, "rulebooks/cn-national/samples");
const findingsFile = join(samples, "expected_findings.jsonl");
const claimsFile = join(samples, "claims.jsonl");

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
}
function same(name, got, want) {
  check(name, String(got) === String(want), `page shows ${got}, expected ${want}`);
}

// A decimal string ("12.30", "-4.5", "7") as a BigInt of fen, exactly.
function fen(text) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) throw new Error(`not a 2-place amount: ${text}`);
  const v = BigInt(m[2]) * 100n + BigInt((m[3] ?? "").padEnd(2, "0") || "0");
  return m[1] ? -v : v;
}
function fenText(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? "-" : ""}${a / 100n}.${String(a % 100n).padStart(2, "0")}`;
}
function jsonLines(file) {
  return readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

// The totals, computed here from the files, independently of the Rust code.
const findings = jsonLines(findingsFile);
const claims = jsonLines(claimsFile);
const want = {
  findings: findings.length,
  amount: findings.reduce((s, f) => s + fen(f.vola_amt), 0n),
  claims: new Set(claims.map((c) => c.setl_id)).size,
  lines: claims.reduce((n, c) => n + (c.fee_list ?? []).length, 0),
  flaggedClaims: new Set(findings.filter((f) => f.setl_id !== undefined).map((f) => f.setl_id)).size,
  byRule: new Map(),
};
for (const f of findings) {
  want.byRule.set(f.rule_id, (want.byRule.get(f.rule_id) ?? 0n) + fen(f.vola_amt));
}
// Money counted twice: on each line (or claim) two or more rules flag, the amounts beyond the
// largest (one finding per rule and amount).
const places = new Map();
for (const f of findings) {
  if (f.scope === "provider") continue;
  const key = `${f.setl_id}\u0000${f.feedetl_sn ?? ""}`;
  const hits = places.get(key) ?? new Map();
  hits.set(`${f.rule_id}\u0000${f.vola_amt}`, { rule: f.rule_id, amt: fen(f.vola_amt) });
  places.set(key, hits);
}
want.doubleCounted = 0n;
for (const hits of places.values()) {
  const list = [...hits.values()];
  if (new Set(list.map((h) => h.rule)).size < 2) continue;
  const sum = list.reduce((s, h) => s + h.amt, 0n);
  const max = list.reduce((m, h) => (h.amt > m ? h.amt : m), list[0].amt);
  want.doubleCounted += sum - max;
}

const tmp = mkdtempSync(join(tmpdir(), "vigil-report-"));
const problems = [];
let context;
try {
  const out = join(tmp, "report.html");
  const run = spawnSync(bin, ["report", findingsFile, "--claims", claimsFile, "--out", out], { encoding: "utf8" });
  check("vigil report exits 0", run.status === 0, `status ${run.status}: ${run.stderr}`);

  // A findings file whose text is markup: it must show as text and never run.
  const hostile = JSON.stringify({
    rule_id: "R-<b>X</b>", rule_name: "<img src=x onerror=\"window.__pwned=1\">", scope: "claim",
    setl_id: "S<script>window.__pwned=2</script>", psn_no: "P1", fixmedins_code: "H'\"&1",
    vola_amt: "1.00", sev_deg: "warn", vola_cont: "<script>window.__pwned=3</script>",
    vola_evid: "</td></tr></table><iframe src=\"https://example.com\"></iframe>", rulebook: "b@x",
  });
  const hostileFile = join(tmp, "hostile.jsonl");
  writeFileSync(hostileFile, `${hostile}\n`);
  const hostileOut = join(tmp, "hostile.html");
  const run2 = spawnSync(bin, ["report", hostileFile, "--out", hostileOut], { encoding: "utf8" });
  check("vigil report of markup-laden findings exits 0", run2.status === 0, run2.stderr);

  // A fresh profile per run; no sandbox (CI runs as root in a container), no GPU, and none of
  // Chromium's own background traffic, so that every request seen is the page's.
  const profile = join(tmp, "profile");
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1400, height: 900 },
  });
  context.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith("file:") && !url.startsWith("data:")) problems.push(`request ${url}`);
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));

  await page.goto(pathToFileURL(out).href, { waitUntil: "load" });
  const total = (key) => page.getAttribute(`[data-total="${key}"]`, "data-value");
  same("findings total", await total("findings"), want.findings);
  same("amount total (fen, exact)", await total("amount"), fenText(want.amount));
  same("claims", await total("claims"), want.claims);
  same("fee lines", await total("lines"), want.lines);
  same("flagged claims", await total("flagged-claims"), want.flaggedClaims);
  same("money counted twice", await total("double-counted"), fenText(want.doubleCounted));
  same("amount, each yuan once", await total("amount-net"), fenText(want.amount - want.doubleCounted));
  const ruleRows = await page.$$eval("#rules tbody tr", (rows) =>
    rows.map((r) => [r.getAttribute("data-rule"), r.querySelector("[data-amount]").getAttribute("data-amount")]));
  same("rules in the by-rule table", ruleRows.length, want.byRule.size);
  const wrong = ruleRows.filter(([id, amt]) => want.byRule.get(id) === undefined || fenText(want.byRule.get(id)) !== amt);
  check("each rule's amount", wrong.length === 0, JSON.stringify(wrong));
  const monthSum = await page.$$eval("#months tbody tr [data-amount]", (cells) =>
    cells.map((c) => c.getAttribute("data-amount")));
  same("the months add up to the total", fenText(monthSum.reduce((s, a) => s + fen(a), 0n)), fenText(want.amount));
  same("charts drawn", await page.locator("svg.chart").count(), 4);

  // The search box: every finding with a field containing the words, case-insensitively.
  const visible = () => page.locator("#findings-table tbody tr:not([hidden])").count();
  same("table rows before searching", await visible(), want.findings);
  const matching = (q) => findings.filter((f) => Object.values(f).some((v) => String(v).toLowerCase().includes(q.toLowerCase()))).length;
  for (const q of ["CN-PRICE-001", findings[0].setl_id.toLowerCase(), findings[findings.length - 1].fixmedins_code]) {
    await page.fill("#search", q);
    same(`search ${q}: rows shown`, await visible(), matching(q));
    same(`search ${q}: count shown`, await page.getAttribute("#shown", "data-value"), matching(q));
  }
  await page.fill("#search", "no finding has this text");
  same("search with no match", await visible(), 0);
  await page.fill("#search", "");
  same("cleared search shows all", await visible(), want.findings);

  // Sorting by amount, largest first (second click).
  const amountHead = page.locator("#findings-table thead th", { hasText: "Amount" });
  await amountHead.click();
  await amountHead.click();
  const first = await page.locator("#findings-table tbody tr").first().locator("td.num").nth(1).textContent();
  const max = findings.reduce((m, f) => (fen(f.vola_amt) > m ? fen(f.vola_amt) : m), fen(findings[0].vola_amt));
  same("sorted by amount, largest first", first, fenText(max));

  if (process.env.SCREENSHOT) {
    await page.fill("#search", "");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
    await page.evaluate(() => document.getElementById("providers").scrollIntoView());
    await page.screenshot({ path: process.env.SCREENSHOT.replace(/\.png$/, "-2.png") });
    console.log(`screenshots: ${process.env.SCREENSHOT}`);
  }

  const page2 = await context.newPage();
  page2.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error (markup page): ${msg.text()}`);
  });
  page2.on("pageerror", (err) => problems.push(`page error (markup page): ${err.message}`));
  await page2.goto(pathToFileURL(hostileOut).href, { waitUntil: "load" });
  same("markup in the data does not run", await page2.evaluate(() => String(window.__pwned)), "undefined");
  same("markup in the data adds no element", await page2.locator("#findings img, #findings iframe, #findings b, body > script").count(), 1);
  const cells = await page2.locator("#findings-table tbody tr").first().locator("td").allTextContents();
  check("markup in the data shows as text", cells.includes("<script>window.__pwned=3</script>") && cells.includes("S<script>window.__pwned=2</script>"), JSON.stringify(cells));
} catch (e) {
  failed += 1;
  console.log(`FAIL ${e.stack ?? e}`);
} finally {
  if (context) await context.close();
  rmSync(tmp, { recursive: true, force: true });
}
check("no console error, page error or network request", problems.length === 0, problems.join("; "));
console.log(`report test: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
