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
        let address = lock(&self.addresses).blocked(&address_key(addr), now);
        account.into_iter().chain(address).max()
    }

    /// Counts an attempt against both limits (before its outcome is known).
    pub fn record_attempt(&self, email: &str, addr: IpAddr) {
        let now = Instant::now();
        lock(&self.accounts).record(&account_key(email), now);
        lock(&self.addresses).record(&address_key(addr), now);
    }

    /// A successful sign-in clears the account's failures and takes its own attempt back from the
    /// address (an office behind one address is not locked out by its own successful sign-ins).
    pub fn record_success(&self, email: &str, addr: IpAddr) {
        lock(&self.accounts).clear(&account_key(email));
        lock(&self.addresses).forget_latest(&address_key(addr));
    }
}

/// Bounded keys: an attacker cannot make one entry megabytes long.
fn account_key(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

/// IPv6 clients are limited per /64, the block one subscriber usually holds, so rotating addresses
/// inside it gains nothing.
fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn lock(m: &Mutex<SlidingWindow>) -> std::sync::MutexGuard<'_, SlidingWindow> {
    // A panic while holding the lock cannot leave the window inconsistent; keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
