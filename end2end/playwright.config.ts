import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";

// The server under test: the release binary built by `cargo leptos build --release --split`, on its own
// port and a fresh data directory, with a demo admin whose password the specs know.
const port = Number(process.env.E2E_PORT ?? 3917);
const baseURL = `http://127.0.0.1:${port}`;
const bin = process.env.E2E_LIFEBOAT_BIN ?? path.resolve(__dirname, "../target/release/lifeboat");
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? path.resolve(__dirname, "../target/site");
// Shared with the workers through the environment (specs put filesystem storages under it).
process.env.E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-e2e-"));
const dataDir = process.env.E2E_DATA_DIR;
export const demoPassword = "e2e-demo-password-123";

const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    headless: true,
    launchOptions: chromium,
    trace: "retain-on-failure",
  },
  // Every spec runs hydrated and again with JavaScript disabled: the SSR pages must work on their own.
  projects: [
    { name: "hydrated", use: { javaScriptEnabled: true } },
    { name: "no-js", use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: `"${bin}" serve --demo --listen 127.0.0.1:${port} --data-dir "${dataDir}"`,
    url: `${baseURL}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LEPTOS_SITE_ROOT: siteRoot,
      LIFEBOAT_DEMO_PASSWORD: demoPassword,
      // Specs sign in many times; the limit itself is covered by the integration tests.
      LIFEBOAT_LOGIN_LIMIT__PER_ADDRESS: "1000",
      // E2E_RUST_LOG=warn,tower_http=debug logs every request (which one answered 500, say).
      RUST_LOG: process.env.E2E_RUST_LOG ?? "warn",
    },
  },
});
