import { expect, test } from "@playwright/test";
import { SignInPage } from "./fixtures/session";

// The demo organization has a seeded "Demo Site" and an "Empty Site" (see server/src/demo.rs).
test.beforeEach(async ({ page }) => {
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Sites" }).click();
  await expect(page.getByRole("heading", { name: "Sites", level: 1 })).toBeVisible();
});

test("the Sites page lists every app with its plan, shard and whether it contains data", async ({ page }) => {
  const table = page.getByRole("table", { name: "Sites and apps" });
  const demoRows = table.getByRole("row").filter({ hasText: "Demo Site" });
  const emptyRows = table.getByRole("row").filter({ hasText: "Empty Site" });
  await expect(demoRows).toHaveCount(2);
  await expect(emptyRows).toHaveCount(2);
  for (const row of await demoRows.all()) {
    await expect(row.getByRole("cell").nth(4)).toHaveText("Yes");
  }
  for (const row of await emptyRows.all()) {
    await expect(row.getByRole("cell").nth(4)).toHaveText("No");
  }
  await expect(demoRows.filter({ hasText: "Jira" })).toContainText("issues");
});

test("the Jira browser shows projects, then a project's issues with their comments", async ({ page }) => {
  const row = page.getByRole("row").filter({ hasText: "Demo Site" }).filter({ hasText: "Jira" });
  await row.getByRole("link", { name: "Browse Jira content" }).click();
  await expect(page.getByRole("heading", { name: "Jira · Demo Site" })).toBeVisible();
  const projects = page.getByRole("region", { name: "Projects" });
  const first = projects.getByRole("link").first();
  const key = (await first.locator("strong").textContent())!.trim();
  await first.click();
  await expect(page.getByRole("heading", { name: `Issues of ${key}` })).toBeVisible();
  await expect(page.getByRole("article", { name: `${key}-1`, exact: true })).toBeVisible();
  await expect(page.getByRole("region", { name: "Issues" }).getByRole("navigation", { name: "Pages" })).toContainText("of");
});

test("the Confluence browser shows spaces, then a space's page tree", async ({ page }) => {
  const row = page.getByRole("row").filter({ hasText: "Demo Site" }).filter({ hasText: "Confluence" });
  await row.getByRole("link", { name: "Browse Confluence content" }).click();
  await expect(page.getByRole("heading", { name: "Confluence · Demo Site" })).toBeVisible();
  const spaces = page.getByRole("region", { name: "Spaces" });
  await spaces.getByRole("link").filter({ hasText: "global" }).first().click();
  const tree = page.getByRole("tree");
  await expect(tree).toBeVisible();
  await expect(tree.getByRole("treeitem").first()).toBeVisible();
  // Page trees nest: some page has children.
  await expect(tree.locator("ul[role=group] > li").first()).toBeVisible();
});

test("an admin creates a site with its apps from the Sites page", async ({ page }, testInfo) => {
  const name = `Restore Target ${testInfo.project.name}`;
  await page.getByText("Create site", { exact: true }).click();
  const form = page.getByRole("form", { name: "Create site" });
  await form.getByLabel("Site name").fill(name);
  await form.getByLabel("Plan").selectOption("PREMIUM");
  await form.getByLabel("Shard").fill("eu-2");
  await form.getByRole("button", { name: "Create" }).click();

  const rows = page.getByRole("table", { name: "Sites and apps" }).getByRole("row").filter({ hasText: name });
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("PREMIUM");
  await expect(rows.first()).toContainText("eu-2");
  await expect(rows.first().getByRole("cell").nth(4)).toHaveText("No");
});
