// The page's end-to-end walk in real headless Chromium, driven by
// playwright-core. The Go test services/kalla/web_test.go starts the real
// services, runs this script and checks what it prints (one JSON object on
// stdout) against the API and the evidence.
//
// Environment:
//   KALLA_URL          the planner serving the page and the API
//   KALLA_TOKEN        the API's bearer token
//   RECIPE_FILE        a recipe to upload; it completes
//   NEAR_MISS_KEY      a left key of that recipe that does not match
//   LONG_RECIPE_FILE   a recipe long enough to cancel; it is pasted
//   CHROMIUM           the browser (default /usr/bin/chromium)
//   ARTIFACTS_DIR      where the run page's screenshot goes
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const url = env("KALLA_URL");
const timeout = 120_000;
const out = {};
const step = (name) => process.stderr.write(`e2e: ${name}\n`);

const browser = await chromium.launch({
  executablePath: env("CHROMIUM", "/usr/bin/chromium"),
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(timeout);
  page.on("console", (m) => m.type() === "error" && process.stderr.write(`browser console: ${m.text()}\n`));

  step("the page loads without a token; the API asks for one");
  await page.goto(url);
  out.unauthenticated = await page.locator("main [role=alert]").innerText();
  await page.fill("#api-token", env("KALLA_TOKEN"));
  await page.press("#api-token", "Enter");

  step("new run from an uploaded recipe: validate, explain, start");
  await page.click("a[href='#/new']");
  await page.setInputFiles("#recipe-file", env("RECIPE_FILE"));
  await page.waitForFunction(() => document.querySelector("#recipe").value.length > 0);
  const recipeText = await page.inputValue("#recipe");
  await page.fill("#recipe", recipeText.replace('"reference_number"', '"payment_ref"'));
  await page.click("#validate");
  await page.locator("#recipe-errors li").first().waitFor();
  out.invalid = await page.locator("#recipe-errors li").allInnerTexts();
  await page.fill("#recipe", recipeText);
  await page.click("#validate");
  out.valid = await page.locator("#recipe-valid").innerText();
  await page.click("#explain");
  await page.locator("#recipe-output h3").first().waitFor();
  out.explainedRules = await page.locator("#recipe-output h3").allInnerTexts();
  await page.click("#start");
  await page.waitForURL(/#\/run\//);
  out.runId = decodeURIComponent(new URL(page.url()).hash.replace("#/run/", ""));

  step(`run ${out.runId}: wait for its summary`);
  await page.locator("#summary").waitFor();
  out.status = await page.locator("#run-status").innerText();
  out.fields = {};
  for (const cell of await page.locator("#summary [data-field]").all()) {
    // A rule's or a total's row names its cells.
    const rule = await cell.evaluate((el) => {
      const row = el.closest("tr[data-rule], tr[data-total]");
      return row?.dataset.rule ?? row?.dataset.total ?? "";
    });
    const field = await cell.getAttribute("data-field");
    out.fields[rule ? `${rule}.${field}` : field] = await cell.innerText();
  }
  await page.locator("#downloads a").first().waitFor();
  await page.screenshot({ path: join(env("ARTIFACTS_DIR"), "run-page.png"), fullPage: true });

  step("download links");
  out.downloads = await page.locator("#downloads a").allInnerTexts();
  const summaryLink = await page.locator("#downloads a", { hasText: "summary.json" }).getAttribute("href");
  const res = await page.request.get(summaryLink); // no token: the link's signature is the authorization
  out.summaryDownload = { status: res.status(), json: res.ok() ? await res.json() : await res.text() };

  step("an unmatched record and its near miss");
  const key = env("NEAR_MISS_KEY");
  await page.fill("#unmatched-left-key", key);
  await page.press("#unmatched-left-key", "Enter");
  // The search replaces the list; aria-busy says when its answer is in.
  await page.locator("#unmatched-left .paged[aria-busy='false']").waitFor();
  const row = page.locator(`#unmatched-left tr[data-key='${key}']`);
  await row.waitFor();
  out.unmatchedLeftRows = await page.locator("#unmatched-left tr[data-key]").count();
  await row.getByRole("button", { name: "Why not matched?" }).click();
  out.nearMiss = await page.locator("#unmatched-left tr.details:not([hidden]) .near-miss").innerText();

  step("the runs list shows it");
  await page.click("a[href='#/']");
  await page.selectOption("#status-filter", "completed");
  await page.waitForURL(/status=completed/);
  const listed = page.locator(`tr[data-run='${out.runId}'] td`);
  await listed.first().waitFor();
  out.listed = await listed.allInnerTexts();

  step("cancel a long run from its page");
  await page.click("a[href='#/new']");
  await page.fill("#recipe", readFileSync(env("LONG_RECIPE_FILE"), "utf8"));
  await page.click("#start");
  await page.waitForURL(/#\/run\//);
  out.cancelledRunId = decodeURIComponent(new URL(page.url()).hash.replace("#/run/", ""));
  out.livePhase = await page.locator("#run-phase").innerText();
  await page.click("#cancel-run");
  out.cancelled = await page.locator("#run-error h2").innerText();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
