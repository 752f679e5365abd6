import { expect, test } from "@playwright/test";
import { SignInPage, waitForHydration } from "./fixtures/session";

test("the show-password control works only once the page is hydrated", async ({ page }, testInfo) => {
  await new SignInPage(page).open();
  const password = page.getByLabel("Password", { exact: true });
  const toggle = page.getByRole("button", { name: "Show password" });
  await password.fill("secret value");
  await expect(password).toHaveAttribute("type", "password");

  if (testInfo.project.name === "no-js") {
    await toggle.click();
    await expect(password).toHaveAttribute("type", "password");
    await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
    return;
  }

  await waitForHydration(page);
  await toggle.click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByRole("button", { name: "Hide password" })).toHaveAttribute("aria-pressed", "true");
  await page.getByRole("button", { name: "Hide password" }).click();
  await expect(password).toHaveAttribute("type", "password");
});

test("the hydrated page has no console errors", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === "no-js", "needs JavaScript");
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await new SignInPage(page).open();
  await waitForHydration(page);
  await new SignInPage(page).signIn();
  await expect(page.getByRole("heading", { name: "Backup and restore" })).toBeVisible();
  await waitForHydration(page);
  expect(errors).toEqual([]);
});

test("a tab clicked while its page still hydrates opens as a plain page load, then tabs switch in place", async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === "no-js", "needs JavaScript");
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();
  await expect(page.getByRole("heading", { name: "Backup and restore", level: 1 })).toBeVisible();
  // The pages' code (lazy route chunks) arrives late, so the click below comes before hydration ends.
  await page.route(/\/pkg\/(chunk_|split_).*\.wasm$/, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.goto(page.url());
  await expect(page.locator("html")).not.toHaveAttribute("data-hydrated", "true");
  const tabs = page.getByRole("navigation", { name: "Backup and restore" });
  await tabs.getByRole("link", { name: "Restore", exact: true }).click();
  await expect(page.getByRole("list", { name: "Restore steps" })).toBeVisible();
  await expect(tabs.getByRole("link", { name: "Restore", exact: true })).toHaveAttribute("aria-current", "page");
  await waitForHydration(page);
  // Hydrated: the router switches tabs without a page load (the marker it set stays).
  await tabs.getByRole("link", { name: "Storage", exact: true }).click();
  await expect(page.getByRole("heading", { name: "External storages", exact: true })).toBeVisible();
  await expect(tabs.getByRole("link", { name: "Storage", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
});
