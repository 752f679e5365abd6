import { expect, test } from "@playwright/test";
import { DEMO_EMAIL, SignInPage, waitForHydration } from "./fixtures/session";

// Runs after backups.spec.ts and restore.spec.ts (files run in name order, one worker), so the log
// holds their policies, backups and restores.
test("an admin reads and filters the audit log", async ({ page }, testInfo) => {
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
  const log = page.getByRole("table", { name: "Audit log" });
  await expect(log.getByRole("row").filter({ hasText: "policy.create" }).first()).toBeVisible();
  await expect(log.getByRole("row").filter({ hasText: "restore.create" }).first()).toBeVisible();
  await expect(log.getByRole("row").filter({ hasText: DEMO_EMAIL }).first()).toBeVisible();

  if (testInfo.project.name === "hydrated") await waitForHydration(page);
  const filters = page.getByRole("form", { name: "Filter the audit log" });
  await filters.getByLabel("Action").fill("policy.");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=policy\./);
  const rows = log.getByRole("row");
  await expect(rows.filter({ hasText: "policy.create" }).first()).toBeVisible();
  await expect(rows.filter({ hasText: "backup.create" })).toHaveCount(0);
  await expect(rows.filter({ hasText: "restore.create" })).toHaveCount(0);
});

test("dashboard pages send a nonce-based Content-Security-Policy that hydration satisfies", async ({ page }, testInfo) => {
  const violations: string[] = [];
  page.on("console", (m) => m.type() === "error" && /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
  const response = await page.goto("/login");
  const csp = response!.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  if (testInfo.project.name === "hydrated") {
    await waitForHydration(page);
    await new SignInPage(page).signIn();
    await expect(page.getByRole("heading", { name: "Backup and restore", level: 1 })).toBeVisible();
    await waitForHydration(page);
  }
  expect(violations).toEqual([]);
});
