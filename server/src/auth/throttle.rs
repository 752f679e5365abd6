use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lifeboat_domain::rules::rate_limit::SlidingWindow;

use crate::config::LoginLimitConfig;

/// Failed sign-ins per account and per client address (in memory, per server instance).
pub struct LoginThrottle {
    accounts: Mutex<SlidingWindow>,
    addresses: Mutex<SlidingWindow>,
}

impl LoginThrottle {
    pub fn new(config: &LoginLimitConfig) -> Self {
        LoginThrottle {
            accounts: Mutex::new(SlidingWindow::new(config.per_account, config.window)),
            addresses: Mutex::new(SlidingWindow::new(config.per_address, config.window)),
        }
    }

    /// How long to wait when either the account or the address has used its allowance.
    pub fn blocked(&self, email: &str, addr: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let account = lock(&self.accounts).blocked(&account_key(email), now);
        let address = lock(&self.addresses).blocked(&addr.to_string(), now);
        account.into_iter().chain(address).max()
    }

    pub fn record_failure(&self, email: &str, addr: IpAddr) {
        let now = Instant::now();
        lock(&self.accounts).record(&account_key(email), now);
        lock(&self.addresses).record(&addr.to_string(), now);
    }

    pub fn record_success(&self, email: &str) {
        lock(&self.accounts).clear(&account_key(email));
    }
}

fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn lock(m: &Mutex<SlidingWindow>) -> std::sync::MutexGuard<'_, SlidingWindow> {
    // A panic while holding the lock cannot leave the window inconsistent; keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
