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

test("the API reference lists every operation of the OpenAPI document", async ({ page, request }) => {
  await new SignInPage(page).open();
  await new SignInPage(page).signIn();
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "API reference" }).click();
  await expect(page.getByRole("heading", { name: "API reference", level: 1 })).toBeVisible();
  const restores = page.getByRole("table", { name: "Restores" });
  await expect(restores.getByRole("row").filter({ hasText: "/orgs/{org_id}/cloud/{cloud_id}/restores/revalidate" })).toContainText("Revalidate");
  // As many rows as the document has operations.
  const doc = await (await request.get("/api/v1/openapi.json")).json();
  const operations = Object.values(doc.paths).reduce((n: number, item) => n + Object.keys(item as object).length, 0);
  await expect(page.locator("table[aria-label] tbody tr")).toHaveCount(operations);
  await expect(page.getByRole("link", { name: "openapi.json" })).toHaveAttribute("href", "/api/v1/openapi.json");
});
