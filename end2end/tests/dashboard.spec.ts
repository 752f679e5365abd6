import { expect, test } from "@playwright/test";
import { SignInPage } from "./fixtures/session";

test.beforeEach(async ({ page }) => {
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();
  await expect(page.getByRole("heading", { name: "Backup and restore", level: 1 })).toBeVisible();
});

test("the four tabs of Backup and restore each show their content", async ({ page }) => {
  const tabs = page.getByRole("navigation", { name: "Backup and restore" });
  // What each tab shows whatever other specs created before.
  const content = {
    Restore: page.getByRole("list", { name: "Restore steps" }),
    Restores: page.getByRole("table", { name: "Restores" }).or(page.getByRole("heading", { name: "No restores yet" })),
    Storage: page.getByRole("heading", { name: "External storages", exact: true }),
    Backups: page.getByRole("heading", { name: "Policies", exact: true }),
  };
  for (const [tab, locator] of Object.entries(content)) {
    await tabs.getByRole("link", { name: tab, exact: true }).click();
    await expect(locator).toBeVisible();
    await expect(tabs.getByRole("link", { name: tab, exact: true })).toHaveAttribute("aria-current", "page");
  }
});

test("the organization switcher moves between the admin's organizations", async ({ page }) => {
  const switcher = page.getByLabel("Switch organization");
  await expect(switcher).toHaveText("Demo Organization");
  await switcher.click();
  await page.getByRole("link", { name: "Demo Sandbox" }).click();
  await expect(page.getByLabel("Switch organization")).toHaveText("Demo Sandbox");
  await expect(page.getByRole("heading", { name: "Backup and restore", level: 1 })).toBeVisible();
});


test("an unknown page shows a readable 404", async ({ page }) => {
  const response = await page.goto("/orgs/nowhere/not-a-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
