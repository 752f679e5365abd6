import { expect, test } from "@playwright/test";
import { eventually, openTab, SignInPage, waitForHydration } from "./fixtures/session";

// Each project restores its own app of the seeded "Demo Site" into a new site of its own.
const productOf = (project: string) => (project === "hydrated" ? "Jira" : "Confluence");

test("the restore wizard goes through consent to Complete, shows the report, and access is reviewed", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const project = testInfo.project.name;
  const js = project === "hydrated";
  const product = productOf(project);
  const app = `Demo Site · ${product}`;
  const dest = `Restore Dest ${project}`;
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();

  // A destination: a new, empty site.
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Sites" }).click();
  await page.getByText("Create site", { exact: true }).click();
  const siteForm = page.getByRole("form", { name: "Create site" });
  await siteForm.getByLabel("Site name").fill(dest);
  await siteForm.getByLabel("Plan").selectOption("ENTERPRISE");
  await siteForm.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("table", { name: "Sites and apps" }).getByRole("row").filter({ hasText: dest }).first()).toBeVisible();

  // A complete backup of the source app (the policy may exist from the backups spec).
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Backup and restore" }).click();
  if (js) await waitForHydration(page);
  const run = page.getByRole("button", { name: `Run backup of ${app} to Managed storage` });
  // The policies list (or its empty state) first: checking for the button before it renders would
  // send a duplicate policy (POLICY_EXISTS).
  await expect(page.getByRole("table", { name: "Backup policies" }).or(page.getByText("No backup policies yet"))).toBeVisible();
  if (!(await run.isVisible())) {
    const form = page.getByRole("form", { name: "Create policy" });
    if (!(await form.isVisible())) await page.getByText("Create policy", { exact: true }).click();
    await form.getByLabel("App").selectOption({ label: app });
    await form.getByLabel("Storage").selectOption({ label: "Managed storage" });
    await form.getByRole("button", { name: "Create" }).click();
  }
  await run.click();
  const row = page.getByRole("table", { name: "Backups" }).getByRole("row").filter({ hasText: app }).first();
  await eventually(page, js, async () => {
    await expect(row.getByText("Complete", { exact: true })).toBeVisible({ timeout: 1_000 });
  });

  // The wizard.
  await openTab(page, "Restore", js);
  const steps = page.getByRole("list", { name: "Restore steps" });
  await expect(steps.getByText("Select app")).toHaveAttribute("aria-current", "step");
  await page.getByRole("form", { name: "Select app" }).getByLabel(product).check();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(steps.getByText("Select backup")).toHaveAttribute("aria-current", "step");
  await page.getByRole("form", { name: "Select backup" }).getByRole("radio").first().check();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(steps.getByText("Review backup")).toHaveAttribute("aria-current", "step");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(steps.getByText("Select destination")).toHaveAttribute("aria-current", "step");
  await page.getByLabel("Contain data: No").check();
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByLabel("Contain data: No")).toBeChecked();
  await page.getByRole("radio", { name: `Restore into ${dest}` }).check();
  await page.getByRole("button", { name: "Validate" }).click();

  await expect(steps.getByText("Validate")).toHaveAttribute("aria-current", "step");
  await expect(page.getByRole("table", { name: "Validation checks" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Restore plan" })).toBeVisible();
  const consents = page.getByRole("form", { name: "Consents" });
  for (const box of await consents.getByRole("checkbox").all()) await box.check();
  const accept = consents.getByLabel("Restore the custom groups");
  if (await accept.count()) await accept.check();
  await consents.getByRole("button", { name: "Next" }).click();
  await expect(steps.getByText("Review", { exact: true })).toHaveAttribute("aria-current", "step");
  await page.getByRole("button", { name: "Restore", exact: true }).click();

  // The Restores tab: the restore runs to Complete, then its report.
  await expect(page.getByRole("table", { name: "Restores" })).toBeVisible();
  const restoreRow = page.getByRole("table", { name: "Restores" }).getByRole("row").filter({ hasText: dest }).first();
  await eventually(page, js, async () => {
    await expect(restoreRow.getByText("Complete", { exact: true })).toBeVisible({ timeout: 1_000 });
  });
  // The wizard lands on `?restore=<id>`, which opens the report once the restore ends.
  const report = page.getByRole("complementary", { name: "Post-operation report" });
  if (!(await report.isVisible())) await restoreRow.getByRole("link", { name: /^Report/ }).click();
  await expect(report).toBeVisible();
  await expect(report.getByRole("table", { name: "Restored entities" })).toBeVisible();
  await report.getByRole("link", { name: "Close report" }).click();
  await expect(report).toBeHidden();

  // Restored groups' access waits for review: approve one group, deny another. The notification
  // is part of the page as the server renders it.
  await page.reload();
  await page.getByRole("link", { name: "Review app access for restored groups" }).click();
  await expect(page.getByRole("heading", { name: "Review app access for restored groups" })).toBeVisible();
  if (js) await waitForHydration(page);
  const reviews = page.getByRole("table", { name: "Access reviews" });
  const rows = reviews.getByRole("row").filter({ has: page.getByRole("button") });
  const before = await rows.count();
  expect(before).toBeGreaterThanOrEqual(2);
  const first = (await rows.first().getByRole("cell").first().textContent())!.trim();
  await rows.first().getByRole("button", { name: `Approve ${first}` }).click();
  await expect(rows).toHaveCount(before - 1);
  const second = (await rows.first().getByRole("cell").first().textContent())!.trim();
  await rows.first().getByRole("button", { name: `Deny ${second}` }).click();
  await expect(rows).toHaveCount(before - 2);
});
