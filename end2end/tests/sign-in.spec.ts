import { expect, test } from "@playwright/test";
import { DEMO_EMAIL, SignInPage } from "./fixtures/session";

// Runs in both projects: hydrated, and with JavaScript disabled.
test("an admin signs in, sees the dashboard, and signs out", async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.signIn();

  await expect(page).toHaveURL(/\/orgs\/[^/]+\/backup-and-restore$/);
  await expect(page.getByRole("heading", { name: "Backup and restore", level: 1 })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText(DEMO_EMAIL);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByText("You have signed out.")).toBeVisible();

  // The session is gone: the dashboard sends us back to sign in.
  await page.goBack();
  await page.reload();
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a wrong password is refused with a readable message", async ({ page }) => {
  const signIn = new SignInPage(page);
  await signIn.open();
  await signIn.signIn(DEMO_EMAIL, "not the password at all");
  await expect(page).toHaveURL(/\/login\?error=invalid/);
  await expect(page.getByRole("alert")).toHaveText("The email address or password is incorrect.");
});

test("a signed-out visit lands on sign-in and returns to the page after", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$|\/login\?next=\/$/);
  await new SignInPage(page).signIn();
  await expect(page.getByRole("heading", { name: "Backup and restore" })).toBeVisible();
});
