import { expect, test } from "@playwright/test";
import { eventually, openTab, SignInPage, waitForHydration } from "./fixtures/session";

// Each project (hydrated, no-js) works on its own app of the seeded "Demo Site" and its own storage,
// since both run against the same server.
const appOf = (project: string) => (project === "hydrated" ? "Demo Site · Jira" : "Demo Site · Confluence");

test("an admin creates a policy, runs a backup to Complete, opens its details and exports it", async ({ page }, testInfo) => {
  const project = testInfo.project.name;
  const js = project === "hydrated";
  const app = appOf(project);
  const storageName = `e2e-${project}`;
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();
  await expect(page.getByRole("heading", { name: "Backup and restore", level: 1 })).toBeVisible();

  // An external storage: a directory under the server's allowed root.
  await openTab(page, "Storage", js);
  await page.getByText("Create storage", { exact: true }).click();
  const storageForm = page.getByRole("form", { name: "Create storage" });
  await storageForm.getByLabel("Type").selectOption("filesystem");
  await storageForm.getByLabel("Name (the bucket, for S3)").fill(storageName);
  await storageForm.getByLabel("Directory (for a directory storage)").fill(`${process.env.E2E_DATA_DIR}/external-storage/${project}`);
  await storageForm.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("table", { name: "Storages" }).getByRole("row").filter({ hasText: storageName })).toBeVisible();

  // Two policies for the app: managed storage (backups), external storage (exports go there).
  await openTab(page, "Backups", js);
  for (const storage of ["Managed storage", storageName]) {
    const form = page.getByRole("form", { name: "Create policy" });
    // The panel may still be open from the previous policy (hydrated pages keep it).
    if (!(await form.isVisible())) await page.getByText("Create policy", { exact: true }).click();
    await form.getByLabel("App").selectOption({ label: app });
    await form.getByLabel("Storage").selectOption({ label: storage });
    await form.getByRole("button", { name: "Create" }).click();
    await expect(page.getByRole("button", { name: `Run backup of ${app} to ${storage}` })).toBeVisible();
  }

  await page.getByRole("button", { name: `Run backup of ${app} to Managed storage` }).click();
  const backups = page.getByRole("table", { name: "Backups" });
  const row = backups.getByRole("row").filter({ hasText: app }).first();
  await eventually(page, js, async () => {
    await expect(row.getByText("Complete", { exact: true })).toBeVisible({ timeout: 1_000 });
  });

  // The details side panel: logical vs stored size, counts, expiry.
  await row.getByRole("link", { name: /^Details of the backup/ }).click();
  const panel = page.getByRole("complementary", { name: "Backup details" });
  await expect(panel).toBeVisible();
  await expect(panel).toContainText("Logical size");
  await expect(panel).toContainText("Stored size");
  await expect(panel).toContainText("Managed storage");
  await panel.getByRole("link", { name: "Close details" }).click();
  await expect(panel).toBeHidden();
  if (js) await waitForHydration(page);

  // Export it to the policy's external storage; the Storage tab shows the export Complete.
  await backups.getByRole("row").filter({ hasText: app }).first().getByRole("button", { name: "Export" }).click();
  if (js) await expect(page.getByRole("status").filter({ hasText: "Export started" })).toBeVisible();
  await openTab(page, "Storage", js);
  const exports = page.getByRole("table", { name: "Exports" });
  await eventually(page, js, async () => {
    await expect(exports.getByRole("row").filter({ hasText: app }).getByText("Complete", { exact: true })).toBeVisible({ timeout: 1_000 });
  });
});
